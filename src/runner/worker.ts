// A task worker: one piscina thread is one task on one simulated CPU for the length of a point.
// Workers run the esbuild bundle of build.ts, so `workload_file` names a built module.
// It maps the point's machine, waits at the start barrier, runs the workload on its CPU, and
// leaves the CPU when told to stop. Errors come back as a result, never as a crash of the pool.

import { attach_kernel } from '../kernel/init/main.ts';
import { cpu_enter, cpu_exit, set_current, smp_processor_id } from '../machine/cpu.ts';
import { load_workload } from './registry.ts';
import { CTL_ABORT, CTL_GO, CTL_READY, CTL_STOP, CTL_STOPPED, type TaskMessage, type TaskResult } from './control.ts';
import { Task, type Workload } from './workload.ts';
import { start_profiler, stop_profiler } from '../monitors/profiler.ts';

let attached: SharedArrayBuffer | null = null;
const workloads = new Map<string, Workload>();

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

async function workload(file: string): Promise<Workload> {
  let w = workloads.get(file);
  if (!w) {
    w = await load_workload(file);
    workloads.set(file, w);
  }
  return w;
}

export default async function run_task(msg: TaskMessage): Promise<TaskResult> {
  const ctl = new Int32Array(msg.control);
  let w: Workload;
  try {
    if (attached !== msg.machine.arena) {
      attach_kernel(msg.machine);
      attached = msg.machine.arena;
    }
    w = await workload(msg.workload_file);
  } catch (e) {
    Atomics.store(ctl, CTL_ABORT, 1);
    Atomics.notify(ctl, CTL_READY);
    return { ok: false, error: describe(e) };
  }
  const task = new Task(msg.nr, msg.nr_tasks, msg.mode, msg.params, new Float64Array(msg.slots), ctl, CTL_STOP, msg.shared);
  // The profiler starts before the barrier, so that the tasks still start together.
  const profiling = msg.profile_interval_us !== undefined;
  if (profiling) {
    try {
      await start_profiler(msg.profile_interval_us!);
    } catch (e) {
      Atomics.store(ctl, CTL_ABORT, 1);
      Atomics.notify(ctl, CTL_READY);
      return { ok: false, error: `perf-profile: ${describe(e)}` };
    }
  }

  Atomics.add(ctl, CTL_READY, 1);
  Atomics.notify(ctl, CTL_READY);
  while (Atomics.load(ctl, CTL_GO) === 0) {
    if (Atomics.load(ctl, CTL_ABORT) !== 0) {
      if (profiling) await stop_profiler().catch(() => ({}));
      return { ok: false, error: 'aborted before the start' };
    }
    Atomics.wait(ctl, CTL_GO, 0, 50);
  }

  let result: TaskResult = { ok: true };
  try {
    cpu_enter(msg.cpu);
    set_current(msg.task);
    if (msg.background) {
      if (w.kind !== 'throughput' || !w.background) throw new Error('background task of a workload without one');
      const metrics = w.background.loop(task);
      if (metrics) result = { ok: true, metrics };
    } else if (w.kind === 'throughput') w.testcase(task);
    else {
      const metrics = w.scenario(task);
      result = metrics ? { ok: true, metrics } : { ok: true };
    }
  } catch (e) {
    result = { ok: false, error: describe(e) };
  }
  try {
    if (smp_processor_id() >= 0) cpu_exit();
  } catch (e) {
    result = { ok: false, error: `${result.error ? `${result.error}; ` : ''}leaving CPU ${msg.cpu}: ${describe(e)}` };
  }
  if (task.output.length > 0) result.output = task.output;
  Atomics.add(ctl, CTL_STOPPED, 1);
  Atomics.notify(ctl, CTL_STOPPED);
  if (profiling) {
    try {
      result.profile = await stop_profiler();
    } catch (e) {
      result = { ok: false, error: `${result.error ? `${result.error}; ` : ''}perf-profile: ${describe(e)}` };
    }
  }
  return result;
}
