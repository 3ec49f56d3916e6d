// Sleeping for a time (kernel/time/hrtimer.c hrtimer_nanosleep → do_nanosleep): the task leaves
// its CPU idle until the machine clock reaches the deadline. Signals are not modeled: a caller that
// must notice one sleeps in slices and looks between them.

import { ktime_get_ns } from '../../../machine/clock.ts';
import { define_global } from '../../../machine/symbols.ts';
import { schedule_wait } from '../sched/wait.ts';

// A word nothing writes: the sleeper's wait only ends at its timeout, as an hrtimer wakes it.
const hrtimer_sleeper = define_global('hrtimer_sleeper', 8);

// kernel/time/hrtimer.c do_nanosleep
export function do_nanosleep(ns: number): void {
  const deadline = ktime_get_ns() + ns;
  for (let first = true; ; first = false) {
    const left = deadline - ktime_get_ns();
    if (left <= 0) return;
    schedule_wait(hrtimer_sleeper.addr >> 2, 0, Math.max(1, Math.ceil(left / 1e6)), first);
  }
}
