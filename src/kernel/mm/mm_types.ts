// struct mm_struct and struct vm_area_struct (include/linux/mm_types.h), as arena records.

import { mem32, memf64 } from '../../machine/memory.ts';
import { RWSEM_SIZE, init_rwsem } from '../locking/rwsem.ts';
import { spin_lock_init } from '../locking/spinlock.ts';
import { MAPLE_TREE_SIZE, MM_MT_FLAGS, mt_init_flags } from '../lib/maple_tree.ts';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const TASK_SIZE = 0x7ffffffff000; // x86-64, 4-level page tables
export const STACK_TOP = TASK_SIZE;
export const ELF_ET_DYN_BASE = 0x555555554000; // where a PIE lands without ASLR (2/3 of TASK_SIZE)
export const STACK_GUARD_GAP = 256 * PAGE_SIZE; // mm/mmap.c stack_guard_gap
export const MMAP_MIN_ADDR = 0x10000;

export function PAGE_ALIGN(addr: number): number {
  return Math.ceil(addr / PAGE_SIZE) * PAGE_SIZE;
}

export function offset_in_page(addr: number): number {
  return addr % PAGE_SIZE;
}

// vm_flags (include/linux/mm.h), the ones the simulation uses
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100;
export const VM_PFNMAP = 0x400;
export const VM_LOCKED = 0x2000;
export const VM_IO = 0x4000;
export const VM_DONTCOPY = 0x20000;
export const VM_DONTEXPAND = 0x40000;
export const VM_ACCOUNT = 0x100000;
export const VM_NORESERVE = 0x200000;
export const VM_MIXEDMAP = 0x10000000;
export const VM_DONTDUMP = 0x4000000;
export const VM_SOFTDIRTY = 0x8000000;
export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;
export const VM_STACK = VM_GROWSDOWN;
export const VM_STACK_FLAGS = VM_STACK | VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT;
export const VM_DATA_DEFAULT_FLAGS = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

// struct mm_struct: words
export const MM_USERS = 0; // threads using it
export const MM_COUNT = 1; // references to the struct
export const MM_MMAP_LOCK = 2; // rw_semaphore, 2 words
export const MM_MT = MM_MMAP_LOCK + RWSEM_SIZE / 4; // struct maple_tree mm_mt, 2 words
export const MM_MAP_COUNT = MM_MT + MAPLE_TREE_SIZE / 4;
export const MM_DEF_FLAGS = MM_MAP_COUNT + 1;
export const MM_PAGE_TABLE_LOCK = MM_DEF_FLAGS + 1; // spinlock, 2 words
export const MM_PGD = MM_PAGE_TABLE_LOCK + 2; // the root page table (an arena page)
export const MM_RSS_STAT = MM_PGD + 1; // rss_stat[NR_MM_COUNTERS]
export const MM_HIWATER_RSS = MM_RSS_STAT + 4; // the peak of get_mm_rss, updated before RSS drops
export const MM_NOTIFIER = MM_HIWATER_RSS + 1; // the mmu notifier subscribed (a KVM VM), 0 for none
// struct mm_struct: float64 fields (index from the record's address >> 3), after the words
const MM_F64 = Math.ceil((MM_NOTIFIER + 1) / 2);
export const MM_TASK_SIZE = MM_F64 + 0;
export const MM_MMAP_BASE = MM_F64 + 1;
export const MM_START_CODE = MM_F64 + 2;
export const MM_END_CODE = MM_F64 + 3;
export const MM_START_DATA = MM_F64 + 4;
export const MM_END_DATA = MM_F64 + 5;
export const MM_START_BRK = MM_F64 + 6;
export const MM_BRK = MM_F64 + 7;
export const MM_START_STACK = MM_F64 + 8;
export const MM_TOTAL_VM = MM_F64 + 9;
export const MM_DATA_VM = MM_F64 + 10;
export const MM_EXEC_VM = MM_F64 + 11;
export const MM_STACK_VM = MM_F64 + 12;
export const MM_LOCKED_VM = MM_F64 + 13;
export const MM_STRUCT_SIZE = (MM_LOCKED_VM + 1) * 8;

// struct vm_area_struct: float64 fields
export const VMA_START = 0;
export const VMA_END = 1;
export const VMA_PGOFF = 2;
// struct vm_area_struct: words
export const VMA_FLAGS = 6;
export const VMA_MM = 7;
export const VMA_ANON_VMA = 8;
export const VMA_FILE = 9; // an opaque file id; 0 for anonymous memory
export const VMA_AVC_HEAD = 10; // this VMA's anon_vma_chain list (struct anon_vma_chain *)
export const VMA_RCU = 12; // rcu_head, 3 words (VMAs are freed after a grace period since 6.4)
/** Linux's vm_area_struct is 176 bytes on x86-64 (6.7); the slab sizes follow it. */
export const VM_AREA_STRUCT_SIZE = 176;

// include/linux/mm_types_task.h: the RSS counters
export const MM_FILEPAGES = 0;
export const MM_ANONPAGES = 1;
export const MM_SWAPENTS = 2;
export const MM_SHMEMPAGES = 3;

export function mm_mt(mm: number): number {
  return mm + MM_MT * 4;
}

export function mmap_lock_addr(mm: number): number {
  return mm + MM_MMAP_LOCK * 4;
}

export function mm_get(mm: number, field: number): number {
  return memf64[(mm >> 3) + field];
}

export function mm_set(mm: number, field: number, v: number): void {
  memf64[(mm >> 3) + field] = v;
}

export function mm_map_count(mm: number): number {
  return mem32[(mm >> 2) + MM_MAP_COUNT];
}

export function mm_add_map_count(mm: number, n: number): void {
  mem32[(mm >> 2) + MM_MAP_COUNT] += n;
}

export function vm_start(vma: number): number {
  return memf64[(vma >> 3) + VMA_START];
}

export function vm_end(vma: number): number {
  return memf64[(vma >> 3) + VMA_END];
}

export function vm_pgoff(vma: number): number {
  return memf64[(vma >> 3) + VMA_PGOFF];
}

export function set_vm_start(vma: number, v: number): void {
  memf64[(vma >> 3) + VMA_START] = v;
}

export function set_vm_end(vma: number, v: number): void {
  memf64[(vma >> 3) + VMA_END] = v;
}

export function set_vm_pgoff(vma: number, v: number): void {
  memf64[(vma >> 3) + VMA_PGOFF] = v;
}

export function vm_flags(vma: number): number {
  return mem32[(vma >> 2) + VMA_FLAGS];
}

export function set_vm_flags(vma: number, flags: number): void {
  mem32[(vma >> 2) + VMA_FLAGS] = flags;
}

export function vma_anon_vma(vma: number): number {
  return mem32[(vma >> 2) + VMA_ANON_VMA];
}

export function vma_file(vma: number): number {
  return mem32[(vma >> 2) + VMA_FILE];
}

export function vma_mm(vma: number): number {
  return mem32[(vma >> 2) + VMA_MM];
}

export function vma_pages(vma: number): number {
  return (vm_end(vma) - vm_start(vma)) / PAGE_SIZE;
}

// kernel/fork.c mm_init: a fresh, empty address space with one user
export function mm_init(mm: number): void {
  mem32[(mm >> 2) + MM_USERS] = 1;
  mem32[(mm >> 2) + MM_COUNT] = 1;
  init_rwsem(mmap_lock_addr(mm), 'mmap_lock');
  spin_lock_init(mm + MM_PAGE_TABLE_LOCK * 4, 'page_table_lock');
  mt_init_flags(mm_mt(mm), MM_MT_FLAGS);
  mem32[(mm >> 2) + MM_MAP_COUNT] = 0;
  for (let i = 0; i < 4; i++) mem32[(mm >> 2) + MM_RSS_STAT + i] = 0;
  mem32[(mm >> 2) + MM_HIWATER_RSS] = 0;
  mem32[(mm >> 2) + MM_NOTIFIER] = 0;
  mem32[(mm >> 2) + MM_PGD] = 0;
  mm_set(mm, MM_TASK_SIZE, TASK_SIZE);
  mm_set(mm, MM_LOCKED_VM, 0);
}
