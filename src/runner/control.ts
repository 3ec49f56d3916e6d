// The harness's shared control block: will-it-scale's start pipe and result area, as words in a
// SharedArrayBuffer that the main thread and every task worker map. Each word sits on its own
// cache line so that tasks polling STOP never share a line with words others write.

import type { MachineDescriptor } from '../machine/machine.ts';
import type { Mode, Params } from './workload.ts';
import { SLOT_BYTES } from './workload.ts';
import type { FoldedStacks } from '../monitors/perf_profile.ts';
import type { StdioLine } from '../user/stdio.ts';

const LINE = 16; // int32 words per 64-byte line
export const CTL_READY = 0 * LINE; // tasks that are set up and waiting at the start barrier
export const CTL_GO = 1 * LINE; // the start barrier: 1 releases every task
export const CTL_STOP = 2 * LINE; // 1 ends the testcase loops
export const CTL_STOPPED = 3 * LINE; // tasks that have left their loop and their CPU
export const CTL_ABORT = 4 * LINE; // 1: give up before starting (another task failed to set up)
const CTL_WORDS = 5 * LINE;

export function new_control(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
}

export function new_slots(nr_tasks: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(nr_tasks * SLOT_BYTES));
}

/** What the main thread sends a worker to run one task of a point. */
export interface TaskMessage {
  machine: MachineDescriptor;
  control: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  workload_file: string;
  params: Params;
  mode: Mode;
  nr: number;
  nr_tasks: number;
  cpu: number;
  /** The task_struct this worker runs as. */
  task: number;
  /** The scenario's shared area. */
  shared?: SharedArrayBuffer;
  /** A background task: runs the workload's background loop. */
  background?: boolean;
  /** Sample the task's call stacks every this many µs (the perf-profile monitor). */
  profile_interval_us?: number;
}

export interface TaskResult {
  ok: boolean;
  error?: string;
  /** A scenario's metrics. */
  metrics?: Record<string, number>;
  /** The task's sampled call stacks, when it was profiled. */
  profile?: FoldedStacks;
  /** What the task wrote to its standard output and error. */
  output?: StdioLine[];
}
