// The bare loop for `npm run bench:harness`: a workload's testcase run on one thread, with no
// pool, barrier or sampler — only a helper thread that reads the counter at the same instants the
// harness would and then raises the stop flag. Built into the worker bundle so both sides run
// identical code.

import { Worker } from 'node:worker_threads';
import { resolve_config } from '../kernel/config.ts';
import { start_kernel } from '../kernel/init/main.ts';
import { kernel_clone } from '../kernel/kernel/fork.ts';
import { cpu_exit, set_current } from '../machine/cpu.ts';
import { load_workload } from './registry.ts';
import { measured_average, type Sample } from './sampler.ts';
import { Task } from './workload.ts';

export interface BareOptions {
  workload_file: string;
  warmup: number;
  samples: number;
  interval_s: number;
}

// Runs on its own thread: sample slot 0 every interval, then stop the loop.
const SAMPLER = `
const { workerData } = require('node:worker_threads');
const stop = new Int32Array(workerData.stop);
const slots = new Float64Array(workerData.slots);
const out = new Float64Array(workerData.out);
const go = new Int32Array(workerData.go);
Atomics.wait(go, 0, 0);
const t0 = performance.now();
for (let k = 0; k < workerData.n; k++) {
  const wait = t0 + (k + 1) * workerData.interval_ms - performance.now();
  if (wait > 0) Atomics.wait(go, 1, 0, wait);
  out[k] = slots[0];
}
stop[0] = 1;
`;

/** Operations per second of one task's loop, measured like a harness point with one task. */
export async function run_bare(opts: BareOptions): Promise<number> {
  const w = await load_workload(opts.workload_file);
  if (w.kind !== 'throughput') throw new Error('run_bare: only throughput workloads have a loop');
  start_kernel({ nr_cpus: 1, mem_mb: 256, config: resolve_config() });
  set_current(kernel_clone(0));
  const n = opts.warmup + opts.samples;
  const sab = (bytes: number) => new SharedArrayBuffer(bytes);
  const stop = new Int32Array(sab(64));
  const slots = new Float64Array(sab(256));
  const out = new Float64Array(sab(8 * n));
  const go = new Int32Array(sab(8));
  const helper = new Worker(SAMPLER, {
    eval: true,
    workerData: { stop: stop.buffer, slots: slots.buffer, out: out.buffer, go: go.buffer, n, interval_ms: opts.interval_s * 1000 },
  });
  await new Promise((r) => helper.once('online', r));
  set_current(kernel_clone(0));
  const task = new Task(0, 1, 'process', {}, slots, stop, 0);
  Atomics.store(go, 0, 1);
  Atomics.notify(go, 0);
  w.testcase(task);
  cpu_exit();
  await helper.terminate();
  const samples: Sample[] = [];
  for (let k = 0, prev = 0; k < n; k++) {
    samples.push({ min: out[k] - prev, max: out[k] - prev, total: out[k] - prev });
    prev = out[k];
  }
  return measured_average(samples, opts.warmup, opts.interval_s);
}
