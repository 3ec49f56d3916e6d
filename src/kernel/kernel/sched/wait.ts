// Blocking until a word changes (kernel/sched/wait.c wait_event, over schedule()): the task leaves
// its CPU idle while it sleeps, so machine-wide operations (stop_machine, IPIs, RCU) do not wait
// for it.

import { mem32 } from '../../../machine/memory.ts';
import { CTX_USER, cpu_context, cpu_enter, cpu_exit, get_current, set_cpu_context, smp_processor_id } from '../../../machine/cpu.ts';
import { define_counter, this_cpu_inc } from '../../../machine/counters.ts';
import { sched_count_switch } from './stats.ts';

const nr_sleeps = define_counter('sim.sched.sleeps');

// kernel/sched/wait.c wait_event_timeout: block until the word at `idx` is no longer `expected`.
// Callers re-check their condition after each timeout and wait again; on Linux the task sleeps
// once until woken, so only the first wait of such a loop (`first`) counts as a sleep and as its
// two context switches (to the idle task and back).
export function schedule_wait(idx: number, expected: number, timeout_ms: number, first: boolean): void {
  const cpu = smp_processor_id();
  const context = cpu >= 0 ? cpu_context(cpu) : CTX_USER;
  if (cpu >= 0) {
    if (first) {
      this_cpu_inc(nr_sleeps);
      sched_count_switch(get_current(), true); // to the idle task
      sched_count_switch(0, false); // the idle task gives the CPU back when the task wakes
    }
    cpu_exit();
  }
  Atomics.wait(mem32, idx, expected, timeout_ms);
  if (cpu >= 0) {
    cpu_enter(cpu);
    set_cpu_context(context); // the task wakes where it slept
  }
}
