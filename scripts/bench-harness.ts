// npm run bench:harness — what the harness costs. getppid1 (one task) through the full harness
// against the same loop run bare on the main thread, alternating rounds, medians compared; then
// the 2-task/1-task scaling in process mode and the set-up and tear-down time of a point.
// Last line: `ratio <harness/bare>`.

import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { resolve_config } from '../src/kernel/config.ts';
import { worker_build } from '../src/runner/build.ts';
import { TaskPool } from '../src/runner/pool.ts';
import { find_workload, load_workload } from '../src/runner/registry.ts';
import { run_point, type PointSpec } from '../src/runner/point.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
  },
});
const rounds = Number(values.rounds);
const samples = Number(values.duration);
const warmup = Number(values.warmup);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const entry = find_workload('getppid1');
const workload = await load_workload(entry.file);
const build = await worker_build([entry.file]);
const bare_mod = (await import(build.bare)) as typeof import('../src/runner/bare.ts');
const pool = new TaskPool(build.worker);
const spec = (nr_tasks: number): PointSpec => ({
  workload,
  workload_built: build.built(entry.file),
  params: {},
  mode: 'process',
  nr_tasks,
  nr_cpus: Math.max(2, availableParallelism()),
  mem_mb: 256,
  config: resolve_config(),
  warmup,
  samples,
  interval_s: 1,
});
const quiet = { log: () => {} };
const signal = { stopped: false };

const harness: number[] = [];
const bare: number[] = [];
const one: number[] = [];
const two: number[] = [];
const setup: number[] = [];
const teardown: number[] = [];
for (let r = 0; r < rounds; r++) {
  const h = await run_point(spec(1), pool, quiet, signal);
  const b = await bare_mod.run_bare({ workload_file: build.built(entry.file), warmup, samples, interval_s: 1 });
  const p2 = await run_point(spec(2), pool, quiet, signal);
  harness.push(h.average);
  bare.push(b);
  one.push(h.average);
  two.push(p2.average);
  setup.push(h.setup_ms, p2.setup_ms);
  teardown.push(h.teardown_ms, p2.teardown_ms);
  console.log(`round ${r + 1}: harness ${h.average} ops/s, bare ${b} ops/s, 2 tasks ${p2.average} ops/s`);
}
await pool.destroy();
console.log(`harness median ${median(harness)} ops/s, bare median ${median(bare)} ops/s`);
console.log(`process mode 2 tasks / 1 task: ${(median(two) / median(one)).toFixed(3)}x`);
console.log(`point set-up: median ${median(setup).toFixed(0)} ms, max ${Math.max(...setup).toFixed(0)} ms (the first includes starting the pool)`);
console.log(`point tear-down: median ${median(teardown).toFixed(0)} ms, max ${Math.max(...teardown).toFixed(0)} ms`);
console.log(`ratio ${(median(harness) / median(bare)).toFixed(3)}`);
