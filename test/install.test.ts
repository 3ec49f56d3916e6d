// `npm ci` installs without warnings (issue 9, item 5): npm 11 warns about every dependency whose
// install script the project has not approved in package.json's allowScripts.

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const read = (f: string) => JSON.parse(readFileSync(join(ROOT, f), 'utf8'));

describe('npm ci', () => {
  it('every dependency with an install script is approved (or denied) in allowScripts', () => {
    const lock = read('package-lock.json') as { packages: Record<string, { hasInstallScript?: boolean }> };
    const with_scripts = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.hasInstallScript)
      .map(([path]) => path.replace(/^.*node_modules\//, ''));
    expect(with_scripts).toContain('esbuild');
    const allowed = read('package.json').allowScripts ?? {};
    expect(with_scripts.filter((name) => typeof allowed[name] !== 'boolean')).toEqual([]);
  });
});
