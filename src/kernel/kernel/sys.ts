// Process-identity syscalls (kernel/sys.c).

import { mem32 } from '../../machine/memory.ts';
import { get_current } from '../../machine/cpu.ts';
import { T_REAL_PARENT, T_TGID } from './fork.ts';

// kernel/sys.c getppid: task_tgid_vnr(rcu_dereference(current->real_parent))
export function sys_getppid(): number {
  const parent = mem32[(get_current() >> 2) + T_REAL_PARENT];
  return mem32[(parent >> 2) + T_TGID];
}

// kernel/sys.c getpid: the thread group id
export function sys_getpid(): number {
  return mem32[(get_current() >> 2) + T_TGID];
}
