// npm run bench:compare — how long compare takes on a large comparison: two groups of 10 runs
// with 10,000 metrics each (seeded values, a tenth of them shifted), in lkp's plain layout.
// Times the whole command (a fresh process, as a user runs it) against the start-up of the same
// process doing nothing, and the comparison in-process. Last line: `beyond start-up <ms> ms`.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Prng } from '../src/lib/prng.ts';
import { compare } from '../src/compare/main.ts';
import { parse_compare_args } from '../src/compare/options.ts';
import { median } from '../src/stats/describe.ts';

const { values } = parseArgs({ options: { metrics: { type: 'string', default: '10000' }, runs: { type: 'string', default: '10' }, rounds: { type: 'string', default: '5' } } });
const METRICS = Number(values.metrics);
const RUNS = Number(values.runs);
const ROUNDS = Number(values.rounds);

const root = mkdtempSync(join(tmpdir(), 'scalelab-bench-compare-'));
const rng = new Prng(1);
const families = ['will-it-scale', 'sim.maple', 'sim.slab', 'proc-vmstat', 'perf-stat.ps', 'mpstat.cpu', 'perf-profile.self'];
const names = Array.from({ length: METRICS }, (_, i) => `${families[i % families.length]}.metric_${i}${i % 50 === 0 ? '%' : ''}`);
const level = names.map(() => 10 ** rng.int(0, 9));
for (const [g, shift] of [['base', 0], ['head', 1]] as const) {
  for (let r = 0; r < RUNS; r++) {
    const dir = join(root, 'will-it-scale', 'process-100%', 'bench-box', 'debian', 'x86_64-rhel', 'gcc-12', g, String(r));
    mkdirSync(dir, { recursive: true });
    const stats: Record<string, number> = {};
    names.forEach((k, i) => {
      const moved = shift && i % 10 === 0 ? 1.2 : 1;
      stats[k] = level[i] * moved * (1 + 0.03 * (rng.float() - 0.5));
    });
    writeFileSync(join(dir, 'stats.json'), JSON.stringify(stats));
  }
}
const groups = ['base', 'head'].map((g) => join(root, 'will-it-scale', 'process-100%', 'bench-box', 'debian', 'x86_64-rhel', 'gcc-12', g));
console.log(`${METRICS} metrics x 2 groups x ${RUNS} runs in ${root}`);

function wall(args: string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return performance.now() - t;
}

const idle = join(root, 'idle.ts');
writeFileSync(idle, '');
const tsx = ['--import', 'tsx'];
const cases: [string, string[]][] = [
  ['default (text)', []],
  ['--all --format json', ['--all', '--format', 'json']],
  ['--all --format lkp', ['--all', '--format', 'lkp']],
];
const beyond: number[] = [];
for (const [name, flags] of cases) {
  const start: number[] = [];
  const whole: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    start.push(wall([...tsx, idle]));
    whole.push(wall([...tsx, 'compare.ts', ...groups, ...flags]));
  }
  beyond.push(median(whole) - median(start));
  console.log(`${name}: whole command ${median(whole).toFixed(0)} ms, start-up alone ${median(start).toFixed(0)} ms, beyond start-up ${(median(whole) - median(start)).toFixed(0)} ms`);
}
const inproc: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const cmd = parse_compare_args([...groups, '--all', '--format', 'json']);
  if (cmd.kind !== 'compare') throw new Error('unreachable');
  const t = performance.now();
  compare(cmd.options, { out: () => {}, err: () => {} });
  inproc.push(performance.now() - t);
}
console.log(`in-process, --all --format json: median ${median(inproc).toFixed(0)} ms`);
if (!process.env.KEEP) rmSync(root, { recursive: true, force: true });
console.log(`beyond start-up ${Math.max(...beyond).toFixed(0)} ms`);
