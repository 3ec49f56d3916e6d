// Syscall entry and exit (kernel/entry/common.c): each is a safe point, where the CPU answers
// pending IPIs, stop requests and RCU, and notices the tick.

import { CTX_SYSTEM, CTX_USER, safe_point, set_cpu_context } from '../../machine/cpu.ts';
import { define_counter, this_cpu_inc } from '../../machine/counters.ts';

const nr_syscalls = define_counter('sim.syscalls');

// kernel/entry/common.c syscall_enter_from_user_mode
export function syscall_enter_from_user_mode(): void {
  set_cpu_context(CTX_SYSTEM);
  safe_point();
  this_cpu_inc(nr_syscalls);
}

// kernel/entry/common.c syscall_exit_to_user_mode
export function syscall_exit_to_user_mode(): void {
  safe_point();
  set_cpu_context(CTX_USER);
}
