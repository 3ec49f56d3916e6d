// One point of a sweep (a mode and a task count): boot a machine, build the parent process,
// create the tasks, release them together, sample their counters, stop them, and collect what
// the machine counted. will-it-scale main.c, with the machine in between.

import { start_kernel } from '../kernel/init/main.ts';
import { build_parent, type ParentLayout } from './layout.ts';
import { cpu_enter, cpu_exit, set_current } from '../machine/cpu.ts';
import { snapshot_counters } from '../machine/counters.ts';
import { CLONE_THREAD, CLONE_VM, kernel_clone, task_mm } from '../kernel/kernel/fork.ts';
import { mt_validate, type MapleTreeShape } from '../kernel/lib/maple_tree.ts';
import { mm_map_count, mm_mt } from '../kernel/mm/mm_types.ts';
import { read_kernel_log } from '../kernel/kernel/printk/printk.ts';
import type { ResolvedConfig } from '../kernel/config.ts';
import { CTL_ABORT, CTL_GO, CTL_READY, CTL_STOP, CTL_STOPPED, new_control, new_slots, type TaskMessage, type TaskResult } from './control.ts';
import type { TaskPool } from './pool.ts';
import { format_sample, measured_average, take_sample, type Sample } from './sampler.ts';
import { idle_percent, linux_stat } from './procstat.ts';
import { parse_proc_stat } from '../monitors/proc_stat.ts';
import { account_ticks, task_cputime } from '../kernel/kernel/sched/cputime.ts';
import { HZ } from '../kernel/kernel/time/timer.ts';
import { show_stat } from '../kernel/fs/proc/stat.ts';
import { show_vmstat } from '../kernel/mm/vmstat.ts';
import { ktime_get_ns } from '../machine/clock.ts';
import type { FoldedStacks } from '../monitors/perf_profile.ts';
import type { StdioLine } from '../user/stdio.ts';
import { SLOT_STRIDE, type Mode, type ParentContext, type Params, type Workload } from './workload.ts';

export interface PointSpec {
  workload: Workload;
  /** The workload's module as the workers load it (build.ts). */
  workload_built: string;
  params: Params;
  mode: Mode;
  nr_tasks: number;
  nr_cpus: number;
  mem_mb: number;
  config: ResolvedConfig;
  /** Samples printed but not counted. */
  warmup: number;
  /** Samples counted. */
  samples: number;
  interval_s: number;
  /** The parent process's address space. */
  layout: ParentLayout;
  seed: number;
  /** Sample every task's call stacks every this many µs (perf-profile); null: no profiling. */
  profile_interval_us: number | null;
}

/** The parent process the tasks came from: its VMAs and the shape of its maple tree. */
export interface ParentShape {
  vmas: number;
  tree: MapleTreeShape;
}

export interface PointResult {
  mode: Mode;
  nr_tasks: number;
  parent: ParentShape;
  samples: Sample[];
  /** Operations per second over the measured samples (will-it-scale's `average:`). */
  average: number;
  /** The simulated machine's idle% while the tasks ran (runtest.py's, from its /proc/stat). */
  idle: number;
  /** The simulated /proc/stat at the start and after each sample, with the machine clock. */
  proc_stat: Array<{ ns: number; text: string }>;
  /** The simulated /proc/stat once the tasks stopped (null when they never started). */
  proc_stat_end: { ns: number; text: string } | null;
  /** The simulated /proc/vmstat at the start and at the end. */
  proc_vmstat: string[];
  /** Each profiled task's sampled call stacks (perf-profile). */
  profiles: FoldedStacks[];
  /** What the simulated user tasks were charged over the point, in ns (their rusage). */
  cputime: { utime: number; stime: number };
  /** Operations counted from the start barrier until every task stopped. */
  ops: number;
  /** Machine counters over the same span. */
  counters: Map<string, number>;
  /** Passes of the background tasks' loops over the same span (0 without background tasks). */
  background_counts: number;
  /** A scenario's metrics, averaged over its tasks; or the background tasks' metrics. */
  metrics: Record<string, number>;
  /** What the tasks wrote to their standard output and error (the background tasks' first, each task's in order). */
  output: StdioLine[];
  /** Stats made from the background tasks' output by its tool's parser (perf-stat.*), under their own names. */
  tool_stats: Record<string, number>;
  errors: string[];
  kernel_log: string[];
  setup_ms: number;
  teardown_ms: number;
  interrupted: boolean;
}

export interface PointHooks {
  /** A line of will-it-scale output. */
  log(line: string): void;
  /** Called after each sample with how many have been taken. */
  progress?(taken: number): void;
}

/** Set by the CLI's SIGINT handler: stop the running point and keep what it measured. */
export interface StopSignal {
  stopped: boolean;
  /** The exit code the stop asks for: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM). */
  exit_code?: number;
}

const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 10_000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

/** Wait until `ok()` holds, re-checking when the word changes; false on timeout or `give_up()`. */
async function wait_until(ctl: Int32Array, word: number, ok: () => boolean, give_up: () => boolean, timeout_ms: number): Promise<boolean> {
  const deadline = performance.now() + timeout_ms;
  while (!ok()) {
    if (give_up()) return false;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    const slice = Math.min(left, 20);
    const r = Atomics.waitAsync(ctl, word, Atomics.load(ctl, word), slice);
    // A pending waitAsync does not keep Node's event loop alive; the timer does.
    const keepalive = setTimeout(() => {}, slice + 1);
    if (r.async) await r.value;
    else await sleep(0);
    clearTimeout(keepalive);
  }
  return true;
}

function diff_counters(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) out.set(k, v - (before.get(k) ?? 0));
  return out;
}

function with_timeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout;
  return Promise.race([p.finally(() => clearTimeout(timer)), new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), ms); })]);
}

function failed_point(spec: PointSpec, parent: ParentShape, error: string, setup_ms: number, signal: StopSignal): PointResult {
  return { mode: spec.mode, nr_tasks: spec.nr_tasks, parent, samples: [], average: 0, idle: 100, proc_stat: [], proc_stat_end: null, proc_vmstat: [], profiles: [], cputime: { utime: 0, stime: 0 }, ops: 0, counters: new Map(), background_counts: 0, metrics: {}, output: [], tool_stats: {}, errors: [error], kernel_log: read_kernel_log().messages, setup_ms, teardown_ms: 0, interrupted: signal.stopped };
}

/** A scenario's tasks: the first of each process forked from the parent, the rest its threads. */
function clone_processes(parent: number, groups: readonly number[]): number[] {
  const leaders = new Map<number, number>();
  const tasks = groups.map((g) => {
    const leader = leaders.get(g);
    if (leader === undefined) {
      const t = kernel_clone(0);
      leaders.set(g, t);
      return t;
    }
    set_current(leader);
    const t = kernel_clone(CLONE_VM | CLONE_THREAD);
    set_current(parent);
    return t;
  });
  return tasks;
}

export async function run_point(spec: PointSpec, pool: TaskPool, hooks: PointHooks, signal: StopSignal): Promise<PointResult> {
  const t_start = performance.now();
  const { nr_tasks, mode } = spec;
  const errors: string[] = [];
  const parent_ctx: ParentContext = { nr_tasks, mode, params: spec.params };

  // Boot, then act as will-it-scale's parent on CPU 0: exec, prepare, fork or clone the tasks.
  const kernel = start_kernel({ nr_cpus: spec.nr_cpus, mem_mb: spec.mem_mb, config: spec.config });
  const parent = kernel_clone(0);
  set_current(parent);
  build_parent(spec.layout);
  let prepare_error: string | null = null;
  try {
    spec.workload.prepare?.(parent_ctx);
  } catch (e) {
    prepare_error = `prepare: ${e instanceof Error ? e.message : String(e)}`;
  }
  const parent_mm = task_mm(parent);
  const parent_shape: ParentShape = { vmas: mm_map_count(parent_mm), tree: mt_validate(mm_mt(parent_mm)) };
  if (prepare_error !== null) {
    // will-it-scale's testcase_prepare failing ends the test before any task exists.
    cpu_exit();
    return failed_point(spec, parent_shape, prepare_error, performance.now() - t_start, signal);
  }
  const flags = mode === 'thread' ? CLONE_VM | CLONE_THREAD : 0;
  const groups = spec.workload.kind === 'scenario' ? spec.workload.processes?.(spec.params) : undefined;
  if (groups && groups.length !== nr_tasks) {
    cpu_exit();
    return failed_point(spec, parent_shape, `this scenario runs ${groups.length} tasks (--tasks ${groups.length})`, performance.now() - t_start, signal);
  }
  const tasks = groups ? clone_processes(parent, groups) : Array.from({ length: nr_tasks }, () => kernel_clone(flags));
  const shared = new SharedArrayBuffer(spec.workload.kind === 'scenario' ? spec.workload.shared_bytes?.(spec.params) ?? 0 : 0);
  const background = spec.workload.kind === 'throughput' ? spec.workload.background : undefined;
  const nr_background = background?.tasks(spec.params) ?? 0;
  // Background tasks are processes of their own (perf is not a thread of the benchmark).
  const bg_tasks = Array.from({ length: nr_background }, () => kernel_clone(0));
  cpu_exit();

  const ctl = new_control();
  const slots = new_slots(nr_tasks);
  const bg_ctl = new_control();
  const bg_slots = new_slots(Math.max(1, nr_background));
  pool.ensure(nr_tasks + nr_background);
  let settled = 0;
  // One task of the point on the pool; a failed one is recorded and ends the point.
  const start = (msg: Omit<TaskMessage, 'machine' | 'workload_file' | 'params'>, name: string): Promise<TaskResult> =>
    pool
      .run({ machine: kernel.machine, workload_file: spec.workload_built, params: spec.params, ...(spec.profile_interval_us !== null && { profile_interval_us: spec.profile_interval_us }), ...msg })
      .catch((e: unknown): TaskResult => ({ ok: false, error: `worker died: ${e instanceof Error ? e.message : String(e)}` }))
      .then((r) => {
        settled++;
        if (!r.ok) {
          errors.push(`${name}: ${r.error}`);
          Atomics.store(ctl, CTL_STOP, 1);
        }
        return r;
      });
  const bg_results = bg_tasks.map((task, nr) =>
    start({ control: bg_ctl.buffer as SharedArrayBuffer, slots: bg_slots.buffer as SharedArrayBuffer, mode: 'process', nr, nr_tasks: nr_background, cpu: spec.nr_cpus - 1 - nr, task, background: true }, `background task ${nr}`),
  );
  const results = tasks.map((task, nr) =>
    start({ control: ctl.buffer as SharedArrayBuffer, slots: slots.buffer as SharedArrayBuffer, mode, nr, nr_tasks, cpu: nr % spec.nr_cpus, task, shared }, `task ${nr}`),
  );

  // The background tasks start first and run while the measured ones get ready.
  let ready = await wait_until(bg_ctl, CTL_READY, () => Atomics.load(bg_ctl, CTL_READY) === nr_background, () => settled > 0 || signal.stopped, READY_TIMEOUT_MS);
  if (ready) {
    Atomics.store(bg_ctl, CTL_GO, 1);
    Atomics.notify(bg_ctl, CTL_GO);
    ready = await wait_until(ctl, CTL_READY, () => Atomics.load(ctl, CTL_READY) === nr_tasks, () => settled > 0 || signal.stopped, READY_TIMEOUT_MS);
  }
  const background_passes = () => {
    let n = 0;
    for (let i = 0; i < nr_background; i++) n += bg_slots[i * SLOT_STRIDE];
    return n;
  };
  let background_counts = 0;
  let background_rate = 0;
  const samples: Sample[] = [];
  let before = new Map<string, number>();
  let after = new Map<string, number>();
  let ops = 0;
  let idle = 100;
  const proc_stat: Array<{ ns: number; text: string }> = [];
  const proc_vmstat: string[] = [];
  let cputime = { utime: 0, stime: 0 };
  // /proc/stat after accounting the ticks that fell due (kernel/sched/cputime.ts).
  const read_proc_stat = () => {
    account_ticks();
    return { ns: ktime_get_ns(), text: show_stat() };
  };
  let proc_stat_end: PointResult['proc_stat_end'] = null;
  const setup_ms = performance.now() - t_start;
  let t_stop = performance.now();

  if (!ready) {
    if (!signal.stopped && settled === 0) errors.push(`tasks not ready after ${READY_TIMEOUT_MS / 1000} s`);
    Atomics.store(ctl, CTL_ABORT, 1);
    Atomics.store(bg_ctl, CTL_ABORT, 1);
    Atomics.store(bg_ctl, CTL_STOP, 1);
  } else {
    before = snapshot_counters();
    const bg_before = background_passes();
    const t_go = performance.now();
    proc_stat.push(read_proc_stat());
    proc_vmstat.push(show_vmstat());
    const cputime_before = task_cputime();
    // The machine's timer interrupt runs until the tasks stop, whatever happens meanwhile.
    const timer = setInterval(account_ticks, 1000 / HZ());
    let stopped = false;
    try {
      Atomics.store(ctl, CTL_GO, 1);
      Atomics.notify(ctl, CTL_GO);
      if (spec.workload.kind === 'throughput') {
        hooks.log('warmup');
        if (spec.warmup === 0) hooks.log('measurement');
        const prev = new Float64Array(nr_tasks);
        const t0 = performance.now();
        const total = spec.warmup + spec.samples;
        for (let k = 0; k < total && Atomics.load(ctl, CTL_STOP) === 0 && !signal.stopped; k++) {
          await sleep(t0 + (k + 1) * spec.interval_s * 1000 - performance.now());
          if (signal.stopped) break;
          const s = take_sample(slots, prev, nr_tasks);
          samples.push(s);
          proc_stat.push(read_proc_stat());
          hooks.log(format_sample(s));
          if (k + 1 === spec.warmup) hooks.log('measurement');
          hooks.progress?.(k + 1);
        }
      } else {
        await wait_until(ctl, CTL_STOPPED, () => Atomics.load(ctl, CTL_STOPPED) === nr_tasks, () => signal.stopped, Number.POSITIVE_INFINITY);
      }
      t_stop = performance.now();
      Atomics.store(ctl, CTL_STOP, 1);
      stopped = await wait_until(ctl, CTL_STOPPED, () => Atomics.load(ctl, CTL_STOPPED) === nr_tasks, () => false, STOP_TIMEOUT_MS);
    } finally {
      clearInterval(timer);
    }
    proc_stat_end = read_proc_stat();
    proc_vmstat.push(show_vmstat());
    const cputime_after = task_cputime();
    cputime = { utime: cputime_after.utime - cputime_before.utime, stime: cputime_after.stime - cputime_before.stime };
    const cpu_times = (text: string) => linux_stat(parse_proc_stat(text).all);
    idle = idle_percent(cpu_times(proc_stat[0].text), cpu_times(proc_stat_end.text));
    if (!stopped) errors.push(`tasks did not stop within ${STOP_TIMEOUT_MS / 1000} s`);
    after = snapshot_counters();
    background_counts = background_passes() - bg_before;
    if (background) background_rate = background_counts / ((performance.now() - t_go) / 1000);
    for (let i = 0; i < nr_tasks; i++) ops += slots[i * SLOT_STRIDE];
    Atomics.store(bg_ctl, CTL_STOP, 1);
    if (!(await wait_until(bg_ctl, CTL_STOPPED, () => Atomics.load(bg_ctl, CTL_STOPPED) === nr_background, () => false, STOP_TIMEOUT_MS))) {
      errors.push(`background tasks did not stop within ${STOP_TIMEOUT_MS / 1000} s`);
    }
  }

  const outcome = await with_timeout(Promise.all([...results, ...bg_results]), STOP_TIMEOUT_MS);
  if (outcome === 'timeout') {
    if (errors.length === 0) errors.push(`tasks did not finish within ${STOP_TIMEOUT_MS / 1000} s`);
    await pool.destroy();
  }
  const finished = outcome === 'timeout' ? [] : outcome.slice(0, nr_tasks);
  const bg_finished = outcome === 'timeout' ? [] : outcome.slice(nr_tasks);
  const output = [...bg_finished, ...finished].flatMap((r) => r.output ?? []);
  const profiles = outcome === 'timeout' ? [] : outcome.flatMap((r) => (r.profile ? [r.profile] : []));

  // The tasks are gone: the parent cleans up on CPU 0 (will-it-scale's testcase_cleanup).
  if (errors.length === 0 && spec.workload.cleanup) {
    cpu_enter(0);
    set_current(parent);
    try {
      spec.workload.cleanup(parent_ctx);
    } finally {
      cpu_exit();
    }
  }

  const metrics: Record<string, number> = {};
  const with_metrics = finished.filter((r) => r.metrics);
  for (const r of with_metrics) {
    for (const [k, v] of Object.entries(r.metrics!)) metrics[k] = (metrics[k] ?? 0) + v / with_metrics.length;
  }
  const counters = diff_counters(after, before);
  if (background) {
    for (const r of bg_finished) Object.assign(metrics, r.metrics ?? {});
    metrics[`${background.counts}_per_s`] = background_rate;
    if (ready) Object.assign(metrics, background.metrics?.(counters) ?? {});
  }
  const tool_stats = background?.output_stats?.(output.filter((l) => l.stream === 'stdout').map((l) => l.line)) ?? {};
  const failed = errors.length > 0;
  return {
    mode,
    nr_tasks,
    parent: parent_shape,
    samples,
    average: failed ? 0 : measured_average(samples, spec.warmup, spec.interval_s),
    idle,
    proc_stat,
    proc_stat_end,
    proc_vmstat,
    profiles,
    cputime,
    ops: spec.workload.kind === 'scenario' ? with_metrics.length : ops,
    counters,
    background_counts,
    metrics,
    output,
    tool_stats,
    errors,
    kernel_log: read_kernel_log().messages,
    setup_ms,
    teardown_ms: performance.now() - t_stop,
    interrupted: signal.stopped,
  };
}
