// Context-switch counts (kernel/sched/core.c __schedule): rq->nr_switches for /proc/stat's ctxt,
// and the switched-out task's nvcsw (it blocked) or nivcsw (it was preempted), which getrusage
// reports. Only user tasks' nvcsw/nivcsw are counted: kernel threads are no process's rusage.

import { mem32 } from '../../../machine/memory.ts';
import { define_counter, this_cpu_inc } from '../../../machine/counters.ts';
import { T_MM } from '../../include/linux/sched.ts';

const nr_switches = define_counter('sim.sched.context_switches');
const nr_voluntary = define_counter('sim.sched.nvcsw');
const nr_involuntary = define_counter('sim.sched.nivcsw');

/** One switch away from `prev` (a task_struct, 0 for the idle task): voluntary when it blocked. */
export function sched_count_switch(prev: number, voluntary: boolean): void {
  this_cpu_inc(nr_switches);
  if (prev === 0 || mem32[(prev >> 2) + T_MM] === 0) return;
  this_cpu_inc(voluntary ? nr_voluntary : nr_involuntary);
}
