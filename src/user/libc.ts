// The user-space side of the syscalls workloads make (glibc's wrappers): enter the kernel, run
// the syscall, return to user mode.

import { syscall_enter_from_user_mode as enter, syscall_exit_to_user_mode as exit } from '../kernel/entry/common.ts';
import { sys_getpid, sys_getppid } from '../kernel/kernel/sys.ts';
import { do_sched_yield } from '../kernel/kernel/sched/core.ts';
import { current_mm, sys_brk, sys_mmap, sys_munmap } from '../kernel/mm/mmap.ts';
import { handle_mm_fault } from '../kernel/mm/memory.ts';
import { sys_mprotect } from '../kernel/mm/mprotect.ts';

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

/** mmap(2): the mapping's address, or MAP_FAILED (-1). `file` is a file id, 0 for anonymous memory. */
export function mmap(addr: number, len: number, prot: number, flags: number, file: number, pgoff: number): number {
  enter();
  const r = sys_mmap(addr, len, prot, flags, file, pgoff);
  exit();
  return r < 0 ? -1 : r;
}

export function munmap(addr: number, len: number): number {
  enter();
  const r = sys_munmap(addr, len);
  exit();
  return r < 0 ? -1 : 0;
}

export function mprotect(addr: number, len: number, prot: number): number {
  enter();
  const r = sys_mprotect(addr, len, prot);
  exit();
  return r < 0 ? -1 : 0;
}

/** glibc brk(2): 0 when the break moved to addr, -1 otherwise. */
export function brk(addr: number): number {
  enter();
  const r = sys_brk(addr);
  exit();
  return r < addr ? -1 : 0;
}

/** glibc sbrk(3): move the break by `increment`; the old break, or -1. */
export function sbrk(increment: number): number {
  enter();
  const cur = sys_brk(0);
  exit();
  if (increment === 0) return cur;
  return brk(cur + increment) === 0 ? cur : -1;
}

/** A user-mode write to addr: the page fault the first write takes (0, or -1 for SIGSEGV). */
export function write_fault(addr: number): number {
  return handle_mm_fault(current_mm(), addr, true) < 0 ? -1 : 0;
}
