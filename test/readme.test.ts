// The README's commands as a new user types them (issue 9, item 3): the quick start's benches,
// then every `npm run compare -- …` the README shows, each of which must exit 0; a code block
// that benches and compares by itself (a worked example) runs in a results root of its own. The benches
// get shorter measurements appended (the last flag wins), so that the suite stays quick; the
// groups they make have the same shape as the quick start's.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const SHORTER = '--runs 2 --duration 0.2 --interval 0.1 --warmup 0';

const BLOCK = /```[a-z]*\n([\s\S]*?)```/g;

/** Lines of a code block that start with `npm run <script> --`. */
function lines_of(block: string, script: string): string[] {
  return block.split('\n').filter((line) => line.startsWith(`npm run ${script} -- `)).map((line) => line.replace(/\s+#.*$/, ''));
}

/** Code blocks outside the quick start that bench and then compare: each is tried on its own. */
function worked_examples(): Array<{ benches: string[]; compares: string[] }> {
  return [...README.matchAll(BLOCK)]
    .map((m) => ({ benches: lines_of(m[1], 'bench'), compares: lines_of(m[1], 'compare') }))
    .filter((e) => e.benches.length && e.compares.length && !quick_start().includes(e.benches[0]));
}

/** Commands in the README's code blocks and inline code that start with `npm run <script> --`, worked examples left out. */
function commands(script: string): string[] {
  const found: string[] = [];
  const block = BLOCK;
  const own = new Set(worked_examples().flatMap((e) => e.compares));
  for (const m of README.matchAll(block)) for (const line of lines_of(m[1], script)) if (!own.has(line)) found.push(line);
  for (const m of README.replace(block, '').matchAll(/`(npm run [a-z]+ -- [^`]+)`/g)) if (m[1].startsWith(`npm run ${script} -- `)) found.push(m[1]);
  // A synopsis (`npm run compare -- <base> <head> …`) is not an example.
  return found.filter((c) => !c.includes('<'));
}

function quick_start(): string[] {
  const section = README.slice(README.indexOf('## Quick start'), README.indexOf('\n## ', README.indexOf('## Quick start') + 1));
  return /```\n([\s\S]*?)```/.exec(section)![1].split('\n').filter((l) => l.startsWith('npm run bench -- '));
}

function sh(command: string, results: string) {
  const r = spawnSync('bash', ['-c', command], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SCALELAB_RESULTS: results }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the README's commands", () => {
  const results = mkdtempSync(join(tmpdir(), 'scalelab-readme-'));
  const benches = quick_start();
  const compares = [...new Set(commands('compare'))];

  it('finds the quick start and the compare examples', () => {
    expect(benches.length).toBeGreaterThanOrEqual(2);
    expect(compares.length + worked_examples().flatMap((e) => e.compares).length).toBeGreaterThanOrEqual(4);
  });

  it('the quick start benches run', () => {
    for (const b of benches) {
      const r = sh(`${b.replace(/\s+#.*$/, '')} ${SHORTER} --quiet`, results);
      expect(r.code, `${b}\n${r.stderr}`).toBe(0);
    }
  }, 600_000);

  for (const [i, e] of worked_examples().entries()) {
    it(`a worked example runs as written: ${e.benches[0].slice(0, 70)}...`, () => {
      const own = mkdtempSync(join(tmpdir(), `scalelab-readme-${i}-`));
      for (const b of e.benches) {
        const r = sh(`${b} ${SHORTER} --quiet`, own);
        expect(r.code, `${b}\n${r.stderr}`).toBe(0);
      }
      // Two short runs a side may show no significant change: the example must run and report
      // (a throughput workload's headline row is always shown; a scenario has none).
      for (const c of e.compares) {
        const r = sh(c, own);
        expect(r.code, `${c}\n${r.stderr}`).toBe(0);
        expect(r.stdout).toMatch(/will-it-scale\.per_process_ops|Nothing changed significantly among \d+ metrics/);
      }
    }, 600_000);
  }

  for (const c of compares) {
    it(`runs as written: ${c.length > 90 ? `${c.slice(0, 87)}...` : c}`, () => {
      const r = sh(c, results);
      expect(r.code, `${c}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/%change/);
    }, 120_000);
  }
});
