// The workload contract, like will-it-scale's tests/<name>.c: a description, a kind, typed
// parameters with defaults, optional prepare/cleanup (run in the parent process, before the
// tasks are created and after they are gone), and either a testcase loop or a scenario.

import { safe_point } from '../machine/cpu.ts';
import type { Stdio, StdioLine } from '../user/stdio.ts';
import { BOOL_WORDS, parse_bool } from '../lib/bool.ts';

export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

export interface ParamSpec {
  type: 'int' | 'string' | 'bool';
  default: ParamValue;
  description: string;
  min?: number;
  max?: number;
  /** For a string: the only values allowed. */
  choices?: readonly string[];
}

export type Mode = 'process' | 'thread';

/** What a task sees: will-it-scale's `testcase(iterations, nr)` arguments, plus the stop flag. */
export interface TaskContext {
  /** Task index, 0..nr_tasks-1 (will-it-scale's `nr`). */
  readonly nr: number;
  readonly nr_tasks: number;
  readonly mode: Mode;
  readonly params: Params;
  /** Shared counter area; this task increments only `iterations[slot]`. */
  readonly iterations: Float64Array;
  readonly slot: number;
  /** False once the harness stops the point; every K calls it is also a user-mode safe point. */
  running(): boolean;
  /** The task's standard output and error: kept in the run's output (stderr lines also become stats). */
  readonly io: Stdio;
  /**
   * Memory every task of the point shares (will-it-scale's MAP_SHARED results area, made before
   * the fork): what a scenario's processes exchange. Empty unless the workload asks for it.
   */
  readonly shared: SharedArrayBuffer;
}

/** Where prepare and cleanup run: the parent process, on CPU 0, before or after the tasks. */
export interface ParentContext {
  readonly nr_tasks: number;
  readonly mode: Mode;
  readonly params: Params;
}

interface WorkloadBase {
  description: string;
  params?: Record<string, ParamSpec>;
  /**
   * Metrics (`*` matches any run of characters) that come out the same every run for a given
   * seed: compare treats a difference in them as a change without a statistical test.
   */
  exact?: readonly string[];
  /** Parameters that are each valid but not together: the reason, or null. */
  check_params?(params: Params): string | null;
  prepare?(ctx: ParentContext): void;
  cleanup?(ctx: ParentContext): void;
}

/**
 * Tasks beside the measured ones, not counted in the samples (the `perf stat` loop that disturbs
 * them): always processes, one per CPU from the last CPU down, started before the start barrier
 * and stopped after the point. What they count is stored as `<workload>.<counts>_per_s`, and the
 * machine's counters also per pass as `sim.*_per_<pass>`.
 */
export interface BackgroundTasks {
  /** How many, for these parameters (0: none, the undisturbed baseline). */
  tasks(params: Params): number;
  /** What passes of the loop are called, e.g. 'invocations', and one of them, 'invocation'. */
  counts: string;
  pass: string;
  /** Loop until `t.running()` is false, adding each pass to `t.iterations[t.slot]`; it may return metrics of its own. */
  loop(t: TaskContext): void | Record<string, number>;
  /** Metrics of the point from the machine's counters over the measured window (stored as `<workload>.<name>`). */
  metrics?(counters: ReadonlyMap<string, number>): Record<string, number>;
  /** Stats a tool's output makes (what lkp's parser of that tool would), stored under their own names. */
  output_stats?(stdout: readonly string[]): Record<string, number>;
}

export interface ThroughputWorkload extends WorkloadBase {
  kind: 'throughput';
  background?: BackgroundTasks;
  /** Loop until `t.running()` is false, adding each operation to `t.iterations[t.slot]`. */
  testcase(t: TaskContext): void;
}

export interface ScenarioWorkload extends WorkloadBase {
  kind: 'scenario';
  /**
   * The process each task belongs to (tasks of one process are its threads, sharing its mm); the
   * point must have this many tasks. Without it, --mode decides as for a throughput workload.
   */
  processes?(params: Params): readonly number[];
  /** Bytes of the shared area (TaskContext.shared). */
  shared_bytes?(params: Params): number;
  /** Run the scenario once in this task and return its metrics (or nothing: a helper task). */
  scenario(t: TaskContext): Record<string, number> | void;
}

export type Workload = ThroughputWorkload | ScenarioWorkload;

/**
 * The exact metrics of a loop of mm syscalls (brk1, brk2, mmap1): what the loop's own stores
 * decide, the same for every run of a seed, layout and configuration. The store classes and node
 * counts follow from the tree's shape; the syscalls, VMA operations, slab allocations and
 * call_rcu()s are made by the loop itself. Not exact: when RCU callbacks run and slab pages fill
 * or empty (sim.slab.*.free, new_slab, flush, nodes_rcu_released, rcu.callbacks), which moves
 * with the history before the counted window.
 */
export const MM_LOOP_EXACT: readonly string[] = [
  'sim.maple.store_*_per_op', 'sim.maple.push_*_per_op', 'sim.maple.destroy_rebalance_per_op', 'sim.maple.prealloc_requested_per_op',
  'sim.maple.nodes_allocated_per_op', 'sim.maple.nodes_freed_unused_per_op', 'sim.maple.nodes_rcu_freed_per_op', 'sim.mm.*_per_op',
  'sim.slab.maple_node.alloc_per_op', 'sim.slab.maple_node.alloc_bulk_calls_per_op', 'sim.slab.vm_area_struct.alloc_per_op',
  'sim.rcu.callbacks_queued_per_op', 'sim.syscalls_per_op',
];

export function define_workload<W extends Workload>(w: W): W {
  return w;
}

/** User-loop iterations between two safe points. */
export const USER_SAFE_POINT_INTERVAL = 1024;

/** Shared-counter layout: one 256-byte slot per task (will-it-scale's MAX_CACHELINE_SIZE). */
export const SLOT_BYTES = 256;
export const SLOT_STRIDE = SLOT_BYTES / 8;

export class Task implements TaskContext {
  private countdown = USER_SAFE_POINT_INTERVAL;
  readonly slot: number;
  readonly output: StdioLine[] = [];
  readonly io: Stdio = {
    out: (line) => { this.output.push({ stream: 'stdout', line }); },
    err: (line) => { this.output.push({ stream: 'stderr', line }); },
  };

  constructor(
    readonly nr: number,
    readonly nr_tasks: number,
    readonly mode: Mode,
    readonly params: Params,
    readonly iterations: Float64Array,
    private readonly stop: Int32Array,
    private readonly stop_index: number,
    readonly shared: SharedArrayBuffer = new SharedArrayBuffer(0),
  ) {
    this.slot = nr * SLOT_STRIDE;
  }

  running(): boolean {
    if (--this.countdown === 0) {
      this.countdown = USER_SAFE_POINT_INTERVAL;
      safe_point();
    }
    // A plain load, as in safe_point(): Atomics.load is not inlined by V8 and would dominate a
    // null-syscall loop.
    return this.stop[this.stop_index] === 0;
  }
}

export function resolve_params(w: Workload, given: Record<string, string>): Params {
  const specs = w.params ?? {};
  const out: Params = {};
  for (const key of Object.keys(given)) {
    if (!(key in specs)) {
      const known = Object.keys(specs);
      throw new RangeError(`unknown parameter '${key}'${known.length ? ` (parameters: ${known.join(', ')})` : ' (this workload has none)'}`);
    }
  }
  for (const [key, spec] of Object.entries(specs)) {
    const text = given[key];
    if (text === undefined) {
      out[key] = spec.default;
      continue;
    }
    if (spec.type === 'string') {
      if (spec.choices && !spec.choices.includes(text)) throw new RangeError(`parameter ${key}: '${text}' is not one of ${spec.choices.join(', ')}`);
      out[key] = text;
    }
    else if (spec.type === 'bool') {
      const v = parse_bool(text);
      if (v === null) throw new RangeError(`parameter ${key}: '${text}' is not a boolean (${BOOL_WORDS})`);
      out[key] = v;
    } else {
      const v = Number(text);
      if (text.trim() === '' || !Number.isInteger(v)) throw new RangeError(`parameter ${key}: '${text}' is not an integer`);
      if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
        throw new RangeError(`parameter ${key}: ${v} is out of range ${spec.min ?? '-inf'}..${spec.max ?? 'inf'}`);
      }
      out[key] = v;
    }
  }
  const bad = w.check_params?.(out) ?? null;
  if (bad !== null) throw new RangeError(bad);
  return out;
}

/** The names among `metrics` that a workload declares exact. */
export function exact_metrics(w: Workload, metrics: readonly string[]): string[] {
  const patterns = (w.exact ?? []).map((p) => new RegExp(`^${p.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));
  return metrics.filter((m) => patterns.some((re) => re.test(m)));
}
