// Blocking until a word changes (kernel/sched/wait.c wait_event, over schedule()): the task leaves
// its CPU idle while it sleeps, so machine-wide operations (stop_machine, IPIs, RCU) do not wait
// for it.

import { mem32 } from '../../../machine/memory.ts';
import { CTX_SYSTEM, cpu_enter, cpu_exit, get_current, set_cpu_context, smp_processor_id } from '../../../machine/cpu.ts';
import { define_counter, this_cpu_inc } from '../../../machine/counters.ts';
import { sched_count_switch } from './stats.ts';

const nr_sleeps = define_counter('sim.sched.sleeps');

// kernel/sched/wait.c wait_event_timeout: block until the word at `idx` is no longer `expected`
export function schedule_wait(idx: number, expected: number, timeout_ms: number): void {
  const cpu = smp_processor_id();
  if (cpu >= 0) {
    this_cpu_inc(nr_sleeps);
    sched_count_switch(get_current(), true); // to the idle task
    cpu_exit();
  }
  Atomics.wait(mem32, idx, expected, timeout_ms);
  if (cpu >= 0) {
    cpu_enter(cpu);
    sched_count_switch(0, false); // the idle task gives the CPU back
    set_cpu_context(CTX_SYSTEM); // the task wakes inside the kernel
  }
}
