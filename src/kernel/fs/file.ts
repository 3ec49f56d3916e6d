// The open file table (fs/file.c, include/linux/fdtable.h): a process's files_struct maps small
// integers to the kernel objects behind them. Only what is opened through a file descriptor here
// is here: perf events, BPF programs, maps, BTF and links. 0-2 are the standard streams, so the
// first object a process opens is fd 3, as on Linux.
//
// Threads share their group leader's table (CLONE_FILES); a process starts its own on the first
// open (dup_fd's copy at fork is not modeled: no workload passes an fd to a child).

import { mem32 } from '../../machine/memory.ts';
import { get_current } from '../../machine/cpu.ts';
import { define_kmem_cache, kmem_cache_free, kmem_cache_zalloc } from '../mm/slab.ts';
import { T_FILES, T_GROUP_LEADER } from '../include/linux/sched.ts';
import { EBADF, EMFILE } from '../include/uapi/asm-generic/errno-base.ts';

/** NR_OPEN_DEFAULT (BITS_PER_LONG): the fds of an unexpanded table; expanding it is not modeled. */
export const NR_OPEN_DEFAULT = 64;

// What an fd refers to (the simulation's file_operations, one per kind of file).
export const FILE_PERF_EVENT = 1;
export const FILE_BPF_PROG = 2;
export const FILE_BPF_MAP = 3;
export const FILE_BTF = 4;
export const FILE_BPF_LINK = 5;
export const FILE_SHMEM = 6;

// struct files_struct: the count of tasks using it, then [kind, object] per fd
const FILES_COUNT = 0;
const FILES_FD = 2;
const FILES_SIZE = (FILES_FD + 2 * NR_OPEN_DEFAULT) * 4;
const files_cachep = define_kmem_cache('files_cache', FILES_SIZE);

type Release = (obj: number) => void;
const release_ops: Array<Release | undefined> = [];

/** The release of one kind of file (its file_operations.release). */
export function register_file_release(kind: number, fn: Release): void {
  release_ops[kind] = fn;
}

function current_files(create: boolean): number {
  const leader = mem32[(get_current() >> 2) + T_GROUP_LEADER] || get_current();
  let files = mem32[(leader >> 2) + T_FILES];
  if (files === 0 && create) {
    files = kmem_cache_zalloc(files_cachep);
    if (files === 0) return 0;
    mem32[(files >> 2) + FILES_COUNT] = 1;
    mem32[(leader >> 2) + T_FILES] = files;
  }
  return files;
}

const slot = (files: number, fd: number) => (files >> 2) + FILES_FD + 2 * fd;

// fs/file.c alloc_fd + fd_install: the lowest free descriptor, now referring to `obj`; or -EMFILE
export function fd_install_new(kind: number, obj: number): number {
  const files = current_files(true);
  if (files === 0) return -EMFILE;
  for (let fd = 3; fd < NR_OPEN_DEFAULT; fd++) {
    if (mem32[slot(files, fd)] !== 0) continue;
    mem32[slot(files, fd)] = kind;
    mem32[slot(files, fd) + 1] = obj;
    return fd;
  }
  return -EMFILE;
}

// fs/file.c fget, for one kind of file: the object behind fd, or 0 (-EBADF to the caller)
export function fget(fd: number, kind: number): number {
  if (!Number.isInteger(fd) || fd < 0 || fd >= NR_OPEN_DEFAULT) return 0;
  const files = current_files(false);
  if (files === 0 || mem32[slot(files, fd)] !== kind) return 0;
  return mem32[slot(files, fd) + 1];
}

/** The kind of file behind fd (0 when it is not open). */
export function fd_kind(fd: number): number {
  const files = current_files(false);
  if (files === 0 || !Number.isInteger(fd) || fd < 0 || fd >= NR_OPEN_DEFAULT) return 0;
  return mem32[slot(files, fd)];
}

// fs/open.c close → filp_close → fput → the file's release: 0, or -EBADF
export function close_fd(fd: number): number {
  const kind = fd_kind(fd);
  if (kind === 0) return -EBADF;
  const files = current_files(false);
  const obj = mem32[slot(files, fd) + 1];
  mem32[slot(files, fd)] = 0;
  mem32[slot(files, fd) + 1] = 0;
  release_ops[kind]?.(obj);
  return 0;
}

// kernel/exit.c exit_files → put_files_struct: the last user of a table closes what it holds
export function exit_files(task: number): void {
  const files = mem32[(task >> 2) + T_FILES];
  if (files === 0) return;
  mem32[(task >> 2) + T_FILES] = 0;
  if (--mem32[(files >> 2) + FILES_COUNT] > 0) return;
  for (let fd = 0; fd < NR_OPEN_DEFAULT; fd++) {
    const kind = mem32[slot(files, fd)];
    if (kind !== 0) release_ops[kind]?.(mem32[slot(files, fd) + 1]);
  }
  kmem_cache_free(files_cachep, files);
}
