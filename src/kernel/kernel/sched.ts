// Sleeping and yielding (kernel/sched/core.c). A task that blocks leaves its CPU idle while it
// sleeps, so machine-wide operations (stop_machine, IPIs, RCU) do not wait for it.

import { mem32 } from '../../machine/memory.ts';
import { cpu_enter, cpu_exit, do_safe_point, smp_processor_id } from '../../machine/cpu.ts';
import { define_counter, this_cpu_inc } from '../../machine/counters.ts';

const nr_sleeps = define_counter('sim.sched.sleeps');
const nr_yields = define_counter('sim.sched.yields');

// kernel/sched/core.c schedule(): block until the word at `idx` is no longer `expected`
export function schedule_wait(idx: number, expected: number, timeout_ms: number): void {
  const cpu = smp_processor_id();
  if (cpu >= 0) {
    this_cpu_inc(nr_sleeps);
    cpu_exit();
  }
  Atomics.wait(mem32, idx, expected, timeout_ms);
  if (cpu >= 0) cpu_enter(cpu);
}

// kernel/sched/core.c do_sched_yield: nothing else runs on a pinned CPU, so yielding is a pass
// through the scheduler: a quiescent state and a look at pending work.
export function do_sched_yield(): void {
  this_cpu_inc(nr_yields);
  do_safe_point();
}
