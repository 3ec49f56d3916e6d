// The user-space side of the syscalls workloads make (glibc's wrappers): enter the kernel, run
// the syscall, return to user mode.

import { syscall_enter_from_user_mode as enter, syscall_exit_to_user_mode as exit } from '../kernel/entry/common.ts';
import { sys_getpid, sys_getppid } from '../kernel/kernel/sys.ts';
import { do_sched_yield } from '../kernel/kernel/sched.ts';

export function getppid(): number {
  enter();
  const r = sys_getppid();
  exit();
  return r;
}

export function getpid(): number {
  enter();
  const r = sys_getpid();
  exit();
  return r;
}

export function sched_yield(): number {
  enter();
  do_sched_yield();
  exit();
  return 0;
}
