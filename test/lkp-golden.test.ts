// Golden vectors from lkp-tests itself: each case under test/fixtures/lkp-golden/ holds lkp result
// groups (`result/...`), the order they were given to lkp (`groups`, base first) and what the real
// `lkp ncompare [-a]` printed for them (`expected.all`, `expected.default`; lkp-tests bbbc29c495d9,
// Ruby 3.1). `--format lkp` must print the same bytes. The `check` script beside them does the
// same through `npm run compare`.

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compare } from '../src/compare/main.ts';
import { parse_compare_args } from '../src/compare/options.ts';

const GOLDEN = join(import.meta.dirname, 'fixtures', 'lkp-golden');
const cases = readdirSync(GOLDEN, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(GOLDEN, e.name, 'groups')))
  .map((e) => e.name)
  .sort();

function scalelab_lkp(case_dir: string, all: boolean): string {
  const groups = readFileSync(join(case_dir, 'groups'), 'utf8').split('\n').filter(Boolean).map((g) => join(case_dir, g));
  const cmd = parse_compare_args([...groups, '--format', 'lkp', ...(all ? ['--all'] : [])], {});
  if (cmd.kind !== 'compare') throw new Error('not a comparison');
  let out = '';
  compare(cmd.options, { out: (s) => (out += s), err: () => {} });
  return out;
}

describe('--format lkp against the real lkp ncompare', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThanOrEqual(6));
  for (const c of cases) {
    for (const sel of ['all', 'default'] as const) {
      it(`${c} ${sel}`, () => {
        const dir = join(GOLDEN, c);
        expect(scalelab_lkp(dir, sel === 'all')).toBe(readFileSync(join(dir, `expected.${sel}`), 'utf8'));
      });
    }
  }
});
