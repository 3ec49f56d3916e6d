// The user-space side of the syscalls workloads make (glibc's wrappers): enter the kernel, run
// the syscall, return to user mode.

import { syscall_enter_from_user_mode as enter, syscall_exit_to_user_mode as exit } from '../kernel/entry/common.ts';
import { sys_getpid, sys_getppid } from '../kernel/kernel/sys.ts';
import { do_sched_yield } from '../kernel/kernel/sched/core.ts';
import { current_mm, sys_brk, sys_mmap, sys_munmap } from '../kernel/mm/mmap.ts';
import { exc_page_fault } from '../kernel/arch/x86/mm/fault.ts';
import { sys_mprotect } from '../kernel/mm/mprotect.ts';
import { sys_fork } from '../kernel/kernel/fork.ts';
import { do_exit, sys_wait4 } from '../kernel/kernel/exit.ts';
import { exec_elf, type ElfImage, type ExecLayout } from '../kernel/fs/exec.ts';
import { perf_event_get, perf_event_read_value, sys_perf_event_open, type PerfEventAttr, type PerfReadValue } from '../kernel/kernel/events/core.ts';
import { close_fd } from '../kernel/fs/file.ts';
import { do_nanosleep } from '../kernel/kernel/time/hrtimer.ts';
import { sys_madvise } from '../kernel/mm/madvise.ts';
import { sys_mincore_page } from '../kernel/mm/mincore.ts';
import { sys_fallocate, sys_ftruncate, sys_memfd_create, sys_mmap_fd } from '../kernel/mm/shmem.ts';

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
  return exc_page_fault(current_mm(), addr, true) < 0 ? -1 : 0;
}

/** fork(2): the child (its task, standing in for its pid), which runs `child` once it is scheduled. */
export function fork(child: () => void): number {
  enter();
  const r = sys_fork(child);
  exit();
  return r;
}

/** wait4(2) for one child: its status as waitpid reports it, or -ECHILD. */
export function wait4(child: number): number {
  enter();
  const r = sys_wait4(child);
  exit();
  return r;
}

/** execve(2) of an ELF program with its interpreter (the kernel's part of it). */
export function execve(program: ElfImage, interp: ElfImage | null, layout: ExecLayout): void {
  enter();
  exec_elf(program, interp, layout);
  exit();
}

/** _exit(2): the calling process ends; its code must not go on after this. */
export function _exit(code: number): void {
  enter();
  do_exit(code);
}

/** perf_event_open(2): the counter's fd, or -errno. `task` stands in for the pid (0 for -1: a CPU counter). */
export function perf_event_open(attr: PerfEventAttr, task: number, cpu: number, group_fd: number, flags: number): number {
  enter();
  const r = sys_perf_event_open(attr, task, cpu, group_fd, flags);
  exit();
  return r;
}

/** read(2) of a counter's fd (a bad fd reads as nothing counted, where read(2) would fail with EBADF). */
export function read_counter(fd: number): PerfReadValue {
  enter();
  const ev = perf_event_get(fd);
  const r = ev === 0 ? { count: 0, time_enabled: 0, time_running: 0 } : perf_event_read_value(ev);
  exit();
  return r;
}

/** close(2): 0, or -1 for a bad fd. */
export function close(fd: number): number {
  enter();
  const r = close_fd(fd);
  exit();
  return r < 0 ? -1 : 0;
}

/** nanosleep(2): sleep `ns` of machine time, off the CPU. */
export function nanosleep(ns: number): void {
  enter();
  do_nanosleep(ns);
  exit();
}

export function madvise(addr: number, len: number, advice: number): number {
  enter();
  const r = sys_madvise(addr, len, advice);
  exit();
  return r < 0 ? -1 : 0;
}

/** memfd_create(2): an fd, or -1. */
export function memfd_create(): number {
  enter();
  const r = sys_memfd_create();
  exit();
  return r < 0 ? -1 : r;
}

export function ftruncate(fd: number, length: number): number {
  enter();
  const r = sys_ftruncate(fd, length);
  exit();
  return r < 0 ? -1 : 0;
}

export function fallocate(fd: number, mode: number, offset: number, len: number): number {
  enter();
  const r = sys_fallocate(fd, mode, offset, len);
  exit();
  return r < 0 ? -1 : 0;
}

/** mmap(2) of a file descriptor (a memfd): the mapping's address, or MAP_FAILED (-1). */
export function mmap_fd(addr: number, len: number, prot: number, flags: number, fd: number, offset: number): number {
  enter();
  const r = sys_mmap_fd(addr, len, prot, flags, fd, offset / 4096);
  exit();
  return r < 0 ? -1 : r;
}

/** mincore(2) of one page: 1 when it is resident, 0 when not, -1 on error. */
export function mincore_page(addr: number): number {
  enter();
  const r = sys_mincore_page(addr);
  exit();
  return r < 0 ? -1 : r;
}
