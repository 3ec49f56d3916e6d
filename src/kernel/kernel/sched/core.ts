// The scheduler (kernel/sched/core.c; kernel/sched.c in 3.2): context switches with the perf hooks
// Linux has there, a CPU that holds more than one task, and yielding.
//
// A CPU with tasks is one host thread; its tasks take turns on it. A parent that waits for a
// child (wait4) switches to that child, which runs on the same thread until it exits, then the
// scheduler switches back: enough for a parent that forks a child and waits for it. A child never
// waited for never runs (it stays queued until the thread's next machine).
// A task's user code is JavaScript, so a new task's entry point is kept by the thread that will
// run it; everything else about the task is in its task_struct in the arena.

import { CTX_USER, do_safe_point, get_current, set_cpu_context, set_current, smp_processor_id } from '../../../machine/cpu.ts';
import { define_counter, this_cpu_inc } from '../../../machine/counters.ts';
import { perf_event_task_sched_in, perf_event_task_sched_out } from '../events/core.ts';
import { sched_count_switch } from './stats.ts';

const nr_yields = define_counter('sim.sched.yields');

// kernel/sched/core.c prepare_task_switch
function prepare_task_switch(prev: number): void {
  perf_event_task_sched_out(prev);
}

// kernel/sched/core.c finish_task_switch
function finish_task_switch(): void {
  perf_event_task_sched_in(get_current());
}

// kernel/sched/core.c context_switch: `next` runs on this CPU from here on; `prev` blocked
// (voluntary) or was preempted
export function context_switch(prev: number, next: number, voluntary: boolean): void {
  prepare_task_switch(prev);
  sched_count_switch(prev, voluntary);
  set_current(next);
  finish_task_switch();
}

/** Runnable tasks of this thread's CPU that have not run yet, with their user code. */
const runqueue: Array<{ cpu: number; task: number; entry: () => void }> = [];

// kernel/sched/core.c sched_init: a machine booted or attached on this thread starts with none
export function sched_init(): void {
  runqueue.length = 0;
}

// kernel/sched/core.c wake_up_new_task: the child is runnable on the parent's CPU (no fork
// balancing: the simulation runs a CPU's tasks on that CPU's thread)
export function wake_up_new_task(task: number, entry: () => void): void {
  runqueue.push({ cpu: smp_processor_id(), task, entry });
}

/** Run `task`'s user code to its end, if it is runnable here and has not run (the rest of schedule()). */
export function run_until_exit(task: number, on_exit: (task: number) => void): boolean {
  const i = runqueue.findIndex((r) => r.task === task && r.cpu === smp_processor_id());
  if (i < 0) return false;
  const { entry } = runqueue.splice(i, 1)[0];
  const prev = get_current();
  context_switch(prev, task, true); // the parent blocks in wait4
  // The child returns from fork to user mode.
  const context = set_cpu_context(CTX_USER);
  try {
    entry();
  } finally {
    on_exit(task);
    set_cpu_context(context);
    context_switch(task, prev, true); // the child is dead
  }
  return true;
}

/** The per-CPU stopper thread takes the CPU (kernel/stop_machine.c cpu_stopper_thread, a task). */
const stopper_prev = { task: 0 };
export function stopper_sched_in(stopper: number): void {
  stopper_prev.task = get_current();
  context_switch(stopper_prev.task, stopper, false); // the stopper preempts whatever ran
}

export function stopper_sched_out(): void {
  context_switch(get_current(), stopper_prev.task, true); // the stopper sleeps
}

// kernel/sched/core.c do_sched_yield: nothing else runs on a pinned CPU, so yielding is a pass
// through the scheduler: a quiescent state and a look at pending work.
export function do_sched_yield(): void {
  this_cpu_inc(nr_yields);
  do_safe_point();
}
