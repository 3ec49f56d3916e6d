// npm run bench:harness — what the harness costs.
//
// getppid1 with one task through the full harness (pool, barrier, sampler, worker) against the
// same loop run bare on the main thread of the same process (no pool, no barrier, no sampler).
// The host's speed drifts by tens of percent over seconds, so the measurement is many short
// rounds, each comparing neighbours in time; the median ratio is printed last as
// `ratio <harness/bare>`. Then the process-mode scaling from 1 to 2 tasks (alternating), and a
// point's set-up and tear-down time.

import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { DEFAULT_MAPS, maps_layout } from '../src/runner/layout.ts';
import { resolve_config } from '../src/kernel/config.ts';
import { worker_build } from '../src/runner/build.ts';
import { TaskPool } from '../src/runner/pool.ts';
import { find_workload, load_workload } from '../src/runner/registry.ts';
import { run_point, type PointSpec } from '../src/runner/point.ts';
import { median } from '../src/stats/describe.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    duration: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '1' },
  },
});
const rounds = Number(values.rounds);
const samples = Number(values.duration);
const warmup = Number(values.warmup);

const entry = find_workload('getppid1');
const workload = await load_workload(entry.file);
const build = await worker_build([entry.file]);
const pool = new TaskPool(build.worker);
const layout = maps_layout(DEFAULT_MAPS);
const spec = (nr_tasks: number): PointSpec => ({
  workload,
  workload_built: build.built(entry.file),
  params: {},
  mode: 'process',
  nr_tasks,
  nr_cpus: Math.max(2, availableParallelism()),
  mem_mb: 256,
  config: resolve_config(),
  layout,
  warmup,
  samples,
  interval_s: 1,
  seed: 1,
  profile_interval_us: null,
});
const quiet = { log: () => {} };
const signal = { stopped: false };

const bare_mod = (await import(build.bare)) as typeof import('../src/runner/bare.ts');
/** The bare loop on this (the main) thread, which keeps its JIT state from round to round as the pool's worker does. */
function bare(): Promise<number> {
  return bare_mod.run_bare({ workload_file: build.built(entry.file), warmup, samples, interval_s: 1 });
}

// ABBA order (harness, bare, bare, harness, …) so that a drift of the host's speed within a
// round weighs on both sides alike; each round's ratio compares neighbours in time.
const ratios: number[] = [];
const setup: number[] = [];
const teardown: number[] = [];
for (let r = 0; r < rounds; r++) {
  const h: number[] = [];
  const b: number[] = [];
  for (const side of r % 2 === 0 ? ['h', 'b', 'b', 'h'] : ['b', 'h', 'h', 'b']) {
    if (side === 'b') b.push(await bare());
    else {
      const p = await run_point(spec(1), pool, quiet, signal);
      h.push(p.average);
      setup.push(p.setup_ms);
      teardown.push(p.teardown_ms);
    }
  }
  const ratio = (h[0] + h[1]) / (b[0] + b[1]);
  ratios.push(ratio);
  console.log(`round ${r + 1}: harness ${h.join(', ')} ops/s, bare ${b.join(', ')} ops/s, ratio ${ratio.toFixed(3)}`);
}

const scaling: number[] = [];
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? [1, 2] : [2, 1];
  const avg: Record<number, number> = {};
  for (const n of order) {
    const p = await run_point(spec(n), pool, quiet, signal);
    avg[n] = p.average;
    setup.push(p.setup_ms);
    teardown.push(p.teardown_ms);
  }
  scaling.push(avg[2] / avg[1]);
  console.log(`scaling round ${r + 1}: 1 task ${avg[1]} ops/s, 2 tasks ${avg[2]} ops/s, ${(avg[2] / avg[1]).toFixed(3)}x`);
}
await pool.destroy();

console.log(`process mode 2 tasks / 1 task: median ${median(scaling).toFixed(3)}x (min ${Math.min(...scaling).toFixed(3)}, max ${Math.max(...scaling).toFixed(3)})`);
console.log(`point set-up: median ${median(setup).toFixed(0)} ms, max ${Math.max(...setup).toFixed(0)} ms (the first includes starting the pool)`);
console.log(`point tear-down: median ${median(teardown).toFixed(0)} ms, max ${Math.max(...teardown).toFixed(0)} ms`);
console.log(`harness/bare per round: min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)}`);
console.log(`ratio ${median(ratios).toFixed(3)}`);
