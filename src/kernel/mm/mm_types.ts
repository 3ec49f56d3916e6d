// struct mm_struct (include/linux/mm_types.h): the address space shared by a process's threads.

import { mem32 } from '../../machine/memory.ts';
import { RWSEM_SIZE, init_rwsem } from '../locking/rwsem.ts';

export const MM_USERS = 0; // threads using it
export const MM_COUNT = 1; // references to the struct
export const MM_MMAP_LOCK = 2; // rw_semaphore, 2 words
export const MM_STRUCT_WORDS = MM_MMAP_LOCK + RWSEM_SIZE / 4;
export const MM_STRUCT_SIZE = MM_STRUCT_WORDS * 4;

export function mm_users(mm: number): number {
  return Atomics.load(mem32, (mm >> 2) + MM_USERS);
}

export function mmap_lock_addr(mm: number): number {
  return mm + MM_MMAP_LOCK * 4;
}

// kernel/fork.c mm_init: a fresh, empty address space with one user
export function mm_init(mm: number): void {
  mem32[(mm >> 2) + MM_USERS] = 1;
  mem32[(mm >> 2) + MM_COUNT] = 1;
  init_rwsem(mmap_lock_addr(mm), 'mmap_lock');
}
