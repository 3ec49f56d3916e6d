// Mapping and unmapping (mm/mmap.c, Linux 6.7): mmap, munmap, brk, and tearing an mm down.

import { mem32 } from '../../machine/memory.ts';
import { get_current, this_cpu_base } from '../../machine/cpu.ts';
import { define_counter, define_per_cpu } from '../../machine/symbols.ts';
import { this_cpu_inc } from '../../machine/counters.ts';
import { down_read, down_write, up_write, up_read, downgrade_write } from '../locking/rwsem.ts';
import { MAPLE_TREE_SIZE, MaState, ULONG_MAX, __mt_destroy, mas_find, mas_set, mas_store_gfp, mt_init_flags } from '../lib/maple_tree.ts';
import {
  MM_BRK, MM_DATA_VM, MM_DEF_FLAGS, MM_EXEC_VM, MM_LOCKED_VM, MM_MMAP_BASE, MM_START_BRK, MM_STACK_VM, MM_TOTAL_VM,
  MMAP_MIN_ADDR, PAGE_ALIGN, PAGE_SIZE, STACK_GUARD_GAP, TASK_SIZE, VMA_FILE, VM_ACCOUNT, VM_DATA_DEFAULT_FLAGS, VM_EXEC,
  VM_GROWSDOWN, VM_LOCKED, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_NORESERVE, VM_READ, VM_SHARED,
  VM_SOFTDIRTY, VM_SPECIAL, VM_STACK, VM_WRITE, mm_add_map_count, mm_get, mm_mt, mm_set, mmap_lock_addr, offset_in_page,
  set_vm_end, set_vm_flags, set_vm_pgoff, set_vm_start, vm_end, vm_flags, vm_pgoff, vm_start, vma_anon_vma, vma_pages,
} from './mm_types.ts';
import { T_MM } from '../kernel/fork.ts';
import {
  VmaIterator, __split_vma, c_vma_merge, c_vma_new, can_vma_merge_after, can_vma_merge_before, count_brk_merge, find_vma,
  find_vma_intersection, remove_vma, vm_area_alloc, vm_area_free_now, vma_expand, vma_find, vma_iter_addr,
  vma_iter_area_highest, vma_iter_clear_gfp, vma_iter_config, vma_iter_end, vma_iter_next_range, vma_iter_prealloc,
  vma_iter_prev_range, vma_iter_reset, vma_iter_set, vma_iter_store, vma_iter_store_gfp, vma_next, vma_prev,
  vma_prev_limit,
} from './vma.ts';
import { unlink_anon_vmas } from './rmap.ts';
import { ENOMEM, EEXIST, EINVAL } from '../include/uapi/asm-generic/errno-base.ts';
import { handle_mm_fault, zap_page_range } from './memory.ts';
import { free_all_pgtables } from '../arch/x86/mm/pgtable.ts';
import { shmem_new_ino, vma_link_file } from './filemap.ts';


// include/uapi/asm-generic/mman-common.h
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const MAP_FAILED = -1;

const c_brk = define_counter('sim.mm.brk');
const c_mmap = define_counter('sim.mm.mmap');
const c_munmap = define_counter('sim.mm.munmap');

/** The mm of the task on this CPU (current->mm). */
export function current_mm(): number {
  return mem32[(get_current() >> 2) + T_MM];
}

export function mmap_write_lock(mm: number): void {
  down_write(mmap_lock_addr(mm));
}

export function mmap_write_unlock(mm: number): void {
  up_write(mmap_lock_addr(mm));
}

export function mmap_read_lock(mm: number): void {
  down_read(mmap_lock_addr(mm));
}

export function mmap_read_unlock(mm: number): void {
  up_read(mmap_lock_addr(mm));
}

export function mmap_write_downgrade(mm: number): void {
  downgrade_write(mmap_lock_addr(mm));
}

// mm/mmap.c vm_stat_account
export function vm_stat_account(mm: number, flags: number, npages: number): void {
  mm_set(mm, MM_TOTAL_VM, mm_get(mm, MM_TOTAL_VM) + npages);
  if ((flags & (VM_EXEC | VM_WRITE | VM_SHARED)) === VM_EXEC) mm_set(mm, MM_EXEC_VM, mm_get(mm, MM_EXEC_VM) + npages);
  else if (flags & VM_STACK) mm_set(mm, MM_STACK_VM, mm_get(mm, MM_STACK_VM) + npages);
  else if ((flags & (VM_WRITE | VM_SHARED | VM_STACK)) === VM_WRITE) mm_set(mm, MM_DATA_VM, mm_get(mm, MM_DATA_VM) + npages);
}

// include/linux/mm.h vm_start_gap: a stack keeps a guard gap below it
function vm_start_gap(vma: number): number {
  const start = vm_start(vma);
  if (vm_flags(vma) & VM_GROWSDOWN) return start > STACK_GUARD_GAP ? start - STACK_GUARD_GAP : 0;
  return start;
}

/* ---------------------------------------------------------------- unmapping */

// do_vmi_align_munmap keeps the detached VMAs in a tree on its stack; here, a per-CPU one.
const mt_detach_area = define_per_cpu('mt_detach', MAPLE_TREE_SIZE);
const detach_mas = new MaState();

// mm/mmap.c do_vmi_align_munmap (6.7): split the edge VMAs, detach the range, clear it from the
// tree, free the detached VMAs. With `unlock`, returns with mmap_lock released.
function do_vmi_align_munmap(vmi: VmaIterator, vma: number, mm: number, start: number, end: number, unlock: boolean): number {
  const mt_detach = this_cpu_base + mt_detach_area.off;
  mt_init_flags(mt_detach, 0);
  const mas_detach = detach_mas;
  mas_detach.tree = mt_detach;
  let count = 0;
  let locked_vm = 0;
  if (start > vm_start(vma)) {
    const err = __split_vma(vmi, vma, start, true);
    if (err) return err;
  }
  // Detach the VMAs of the range into mt_detach, indexed by count (6.6+: the first one needs no node).
  let next = vma;
  do {
    if (vm_end(next) > end) {
      const err = __split_vma(vmi, next, end, false);
      if (err) return err;
    }
    mas_set(mas_detach, count);
    const err = mas_store_gfp(mas_detach, next);
    if (err) return err;
    if (vm_flags(next) & VM_LOCKED) locked_vm += vma_pages(next);
    count++;
    next = vma_find(vmi, end);
  } while (next);
  vma_next(vmi);
  while (vma_iter_addr(vmi) > start) vma_iter_prev_range(vmi);
  const err = vma_iter_clear_gfp(vmi, start, end);
  if (err) return err;
  // Point of no return
  mm_set(mm, MM_LOCKED_VM, mm_get(mm, MM_LOCKED_VM) - locked_vm);
  mm_add_map_count(mm, -count);
  // 6.5+ (e4bd84c069f2) always downgrades when asked; before, not next to a stack.
  if (unlock) mmap_write_downgrade(mm);
  // unmap_region's prev and next: leave the iterator where Linux leaves it
  vma_iter_prev_range(vmi);
  if (vma_next(vmi)) vma_iter_prev_range(vmi);
  // mm/mmap.c unmap_region + remove_mt: zap the pages, account and free the VMAs
  mas_set(mas_detach, 0);
  for (let v = mas_find(mas_detach, ULONG_MAX); v; v = mas_find(mas_detach, ULONG_MAX)) {
    zap_page_range(mm, vm_start(v), vm_end(v));
    vm_stat_account(mm, vm_flags(v), -vma_pages(v));
    remove_vma(v);
  }
  if (unlock) mmap_read_unlock(mm);
  __mt_destroy(mt_detach);
  return 0;
}

// mm/mmap.c do_vmi_munmap: unmap [start, start + len)
function do_vmi_munmap(vmi: VmaIterator, mm: number, start: number, len: number, unlock: boolean): number {
  if (offset_in_page(start) || start > TASK_SIZE || len > TASK_SIZE - start) return -EINVAL;
  const end = start + PAGE_ALIGN(len);
  if (end === start) return -EINVAL;
  const vma = vma_find(vmi, end);
  if (!vma) {
    if (unlock) mmap_write_unlock(mm);
    return 0;
  }
  return do_vmi_align_munmap(vmi, vma, mm, start, end, unlock);
}

const munmap_vmi = new VmaIterator();

// mm/mmap.c do_munmap: unmap [start, start + len) with mmap_lock held
export function do_munmap(mm: number, start: number, len: number): number {
  return do_vmi_munmap(munmap_vmi.init(mm, start), mm, start, len, false);
}

// mm/mmap.c __vm_munmap / SYSCALL_DEFINE2(munmap)
export function sys_munmap(addr: number, len: number): number {
  this_cpu_inc(c_munmap);
  const mm = current_mm();
  mmap_write_lock(mm);
  const vmi = munmap_vmi.init(mm, addr);
  const ret = do_vmi_munmap(vmi, mm, addr, len, true);
  if (ret) mmap_write_unlock(mm);
  return ret;
}

/* ---------------------------------------------------------------- mapping */

const area_vmi = new VmaIterator();

// mm/mmap.c unmapped_area_topdown: the highest free range of `length` below high_limit
function unmapped_area_topdown(mm: number, length: number, low_limit: number, high_limit: number): number {
  const vmi = area_vmi.init(mm, 0);
  if (low_limit < MMAP_MIN_ADDR) low_limit = MMAP_MIN_ADDR;
  for (;;) {
    if (vma_iter_area_highest(vmi, low_limit, high_limit, length)) return -ENOMEM;
    const gap = vma_iter_end(vmi) - length;
    const gap_end = vma_iter_end(vmi);
    let tmp = vma_next(vmi);
    if (tmp && vm_flags(tmp) & VM_GROWSDOWN) {
      if (vm_start_gap(tmp) < gap_end) {
        high_limit = vm_start_gap(tmp);
        vma_iter_reset(vmi);
        continue;
      }
    } else {
      tmp = vma_prev(vmi);
      if (tmp && vm_end(tmp) > gap) {
        high_limit = vm_start(tmp);
        vma_iter_reset(vmi);
        continue;
      }
    }
    return gap;
  }
}

// mm/mmap.c get_unmapped_area (arch_get_unmapped_area_topdown): where a mapping of len goes
export function get_unmapped_area(mm: number, addr: number, len: number, flags: number): number {
  if (len > TASK_SIZE) return -ENOMEM;
  if (flags & MAP_FIXED) {
    if (addr > TASK_SIZE - len || offset_in_page(addr)) return -EINVAL;
    return addr;
  }
  if (addr) {
    // A hint is taken when the range is free.
    addr = PAGE_ALIGN(addr);
    const vma = find_vma(mm, addr);
    if (TASK_SIZE - len >= addr && addr >= MMAP_MIN_ADDR && (!vma || addr + len <= vm_start_gap(vma))) return addr;
  }
  return unmapped_area_topdown(mm, len, PAGE_SIZE, mm_get(mm, MM_MMAP_BASE));
}

const region_vmi = new VmaIterator();

// mm/mmap.c mmap_region (6.7): replace whatever is at [addr, addr + len) with one mapping,
// merging with a compatible neighbour when it can
function mmap_region(mm: number, file: number, addr: number, len: number, flags: number, pgoff: number): number {
  const pglen = len / PAGE_SIZE;
  const end = addr + len;
  let merge_start = addr;
  let merge_end = end;
  let vm_pgoff_new = 0;
  const vmi = region_vmi.init(mm, addr);
  if (do_vmi_munmap(vmi, mm, addr, len, false)) return -ENOMEM;
  // mm/mmap.c accountable_mapping: private writable memory is charged
  if (!file || !(flags & VM_SHARED)) {
    if ((flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) === VM_WRITE) flags |= VM_ACCOUNT;
  }
  const next = vma_next(vmi);
  const prev = vma_prev(vmi);
  let vma = 0;
  let expanded = false;
  if (flags & VM_SPECIAL) {
    if (prev) vma_iter_next_range(vmi);
  } else {
    if (next && vm_start(next) === end && can_vma_merge_before(next, flags, 0, file, pgoff + pglen)) {
      merge_end = vm_end(next);
      vma = next;
      vm_pgoff_new = vm_pgoff(next) - pglen;
    }
    if (prev && vm_end(prev) === addr && can_vma_merge_after(prev, flags, vma ? vma_anon_vma(vma) : 0, file, pgoff)) {
      merge_start = vm_start(prev);
      vma = prev;
      vm_pgoff_new = vm_pgoff(prev);
    } else if (prev) {
      vma_iter_next_range(vmi);
    }
    if (vma && !vma_expand(vmi, vma, merge_start, merge_end, vm_pgoff_new, next)) {
      expanded = true;
      this_cpu_inc(c_vma_merge);
    }
    else if (vma === prev) vma_iter_set(vmi, addr);
  }
  if (!expanded) {
    vma = vm_area_alloc(mm);
    vma_iter_config(vmi, addr, end);
    set_vm_start(vma, addr);
    set_vm_end(vma, end);
    set_vm_flags(vma, flags);
    set_vm_pgoff(vma, pgoff);
    mem32[(vma >> 2) + VMA_FILE] = file;
    if (!vma_link_file(file, vma) || vma_iter_prealloc(vmi, vma)) {
      remove_vma(vma);
      return -ENOMEM;
    }
    vma_iter_store(vmi, vma);
    mm_add_map_count(mm, 1);
    this_cpu_inc(c_vma_new);
  }
  vm_stat_account(mm, flags, pglen);
  set_vm_flags(vma, vm_flags(vma) | VM_SOFTDIRTY);
  return addr;
}

// mm/mmap.c do_mmap: map len bytes of file (0: anonymous memory) with prot and flags
export function do_mmap(mm: number, file: number, addr: number, len: number, prot: number, flags: number, pgoff: number): number {
  if (!len) return -EINVAL;
  len = PAGE_ALIGN(len);
  if (!len) return -ENOMEM;
  addr = get_unmapped_area(mm, addr, len, flags);
  if (addr < 0) return addr;
  if (flags & MAP_FIXED_NOREPLACE) {
    if (find_vma_intersection(mm, addr, addr + len)) return -EEXIST;
  }
  let vm_flags_new = (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0);
  vm_flags_new |= mem32[(mm >> 2) + MM_DEF_FLAGS] | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (file) {
    if ((flags & 0x0f) === MAP_SHARED) vm_flags_new |= VM_SHARED | VM_MAYSHARE;
  } else if ((flags & 0x0f) === MAP_SHARED) {
    vm_flags_new |= VM_SHARED | VM_MAYSHARE;
    pgoff = 0;
    file = shmem_new_ino(); // mm/shmem.c shmem_zero_setup: shared anonymous memory is a tmpfs file
    if (file < 0) return -ENOMEM;
  } else {
    pgoff = addr / PAGE_SIZE;
  }
  if (flags & MAP_NORESERVE) vm_flags_new |= VM_NORESERVE;
  if (flags & MAP_LOCKED) vm_flags_new |= VM_LOCKED;
  const ret = mmap_region(mm, file, addr, len, vm_flags_new, pgoff);
  if (ret >= 0 && flags & MAP_LOCKED) mm_set(mm, MM_LOCKED_VM, mm_get(mm, MM_LOCKED_VM) + len / PAGE_SIZE);
  return ret;
}

// mm/mmap.c ksys_mmap_pgoff / vm_mmap_pgoff: the mmap syscall
export function sys_mmap(addr: number, len: number, prot: number, flags: number, file: number, pgoff: number): number {
  this_cpu_inc(c_mmap);
  const mm = current_mm();
  mmap_write_lock(mm);
  const ret = do_mmap(mm, file, addr, len, prot, flags, pgoff);
  mmap_write_unlock(mm);
  // mm/gup.c __mm_populate: MAP_LOCKED faults the whole range in, writing where private and writable
  if (ret >= 0 && flags & MAP_LOCKED) {
    const write = (prot & PROT_WRITE) !== 0 && (flags & 0x0f) !== MAP_SHARED;
    for (let a = ret; a < ret + PAGE_ALIGN(len); a += PAGE_SIZE) handle_mm_fault(mm, a, write);
  }
  return ret;
}

/* ---------------------------------------------------------------- brk */

// mm/mmap.c check_brk_limits: the new area must fit and not be fixed over something else
function check_brk_limits(mm: number, addr: number, len: number): number {
  const mapped_addr = get_unmapped_area(mm, addr, len, MAP_FIXED);
  if (mapped_addr < 0) return mapped_addr;
  return 0;
}

// mm/mmap.c do_brk_flags: grow the heap by len at addr: expand the brk VMA in place when it may
// merge (not after a fork: its anon_vma_chain is not singular), else make a new VMA
function do_brk_flags(vmi: VmaIterator, vma: number, addr: number, len: number, flags: number): number {
  const mm = current_mm();
  flags |= VM_DATA_DEFAULT_FLAGS | VM_ACCOUNT | mem32[(mm >> 2) + MM_DEF_FLAGS];
  if (vma && vm_end(vma) === addr && can_vma_merge_after(vma, flags, 0, 0, addr / PAGE_SIZE)) {
    vma_iter_config(vmi, vm_start(vma), addr + len);
    if (vma_iter_prealloc(vmi, vma)) return -ENOMEM;
    set_vm_end(vma, addr + len);
    set_vm_flags(vma, vm_flags(vma) | VM_SOFTDIRTY);
    vma_iter_store(vmi, vma);
    count_brk_merge();
  } else {
    if (vma) vma_iter_next_range(vmi);
    vma = vm_area_alloc(mm);
    set_vm_start(vma, addr);
    set_vm_end(vma, addr + len);
    set_vm_pgoff(vma, addr / PAGE_SIZE);
    set_vm_flags(vma, flags);
    if (vma_iter_store_gfp(vmi, vma)) {
      remove_vma(vma);
      return -ENOMEM;
    }
    mm_add_map_count(mm, 1);
    this_cpu_inc(c_vma_new);
  }
  mm_set(mm, MM_TOTAL_VM, mm_get(mm, MM_TOTAL_VM) + len / PAGE_SIZE);
  mm_set(mm, MM_DATA_VM, mm_get(mm, MM_DATA_VM) + len / PAGE_SIZE);
  set_vm_flags(vma, vm_flags(vma) | VM_SOFTDIRTY);
  return 0;
}

const brk_vmi = new VmaIterator();

// mm/mmap.c SYSCALL_DEFINE1(brk) (6.7): move the program break; returns the new break, or the
// old one when the move is refused
export function sys_brk(brk: number): number {
  this_cpu_inc(c_brk);
  const mm = current_mm();
  mmap_write_lock(mm);
  const origbrk = mm_get(mm, MM_BRK);
  // (mm/internal.h check_data_rlimit: RLIMIT_DATA is unlimited here.)
  if (brk < mm_get(mm, MM_START_BRK)) return brk_out(mm, origbrk);
  const newbrk = PAGE_ALIGN(brk);
  const oldbrk = PAGE_ALIGN(origbrk);
  if (oldbrk === newbrk) {
    mm_set(mm, MM_BRK, brk);
    mmap_write_unlock(mm);
    return brk;
  }
  const vmi = brk_vmi;
  if (brk <= origbrk) {
    // Always allow shrinking brk: unmap [newbrk, oldbrk).
    vmi.init(mm, newbrk);
    const brkvma = vma_find(vmi, oldbrk);
    if (!brkvma || vm_start(brkvma) >= oldbrk) return brk_out(mm, origbrk);
    mm_set(mm, MM_BRK, brk);
    if (do_vmi_align_munmap(vmi, brkvma, mm, newbrk, oldbrk, true)) return brk_out(mm, origbrk);
    return brk;
  }
  if (check_brk_limits(mm, oldbrk, newbrk - oldbrk)) return brk_out(mm, origbrk);
  // Only check if the next VMA is within the stack guard gap of the expansion area.
  vmi.init(mm, oldbrk);
  const next = vma_find(vmi, newbrk + PAGE_SIZE + STACK_GUARD_GAP);
  if (next && newbrk + PAGE_SIZE > vm_start_gap(next)) return brk_out(mm, origbrk);
  const brkvma = vma_prev_limit(vmi, mm_get(mm, MM_START_BRK));
  if (do_brk_flags(vmi, brkvma, oldbrk, newbrk - oldbrk, 0) < 0) return brk_out(mm, origbrk);
  mm_set(mm, MM_BRK, brk);
  mmap_write_unlock(mm);
  return brk;
}

// mm/mmap.c SYSCALL_DEFINE1(brk) `out:` label: keep the old break
function brk_out(mm: number, origbrk: number): number {
  mm_set(mm, MM_BRK, origbrk);
  mmap_write_unlock(mm);
  return origbrk;
}

// mm/mmap.c vm_brk_flags (mmap_lock held by the caller): anonymous memory made the way brk
// makes it; the ELF loader maps a program's bss with it
export function do_brk_segment(mm: number, addr: number, len: number, exec: number): number {
  len = PAGE_ALIGN(len);
  if (!len) return 0;
  const err = check_brk_limits(mm, addr, len) || do_vmi_munmap(brk_vmi.init(mm, addr), mm, addr, len, false);
  if (err) return err;
  const vmi = brk_vmi.init(mm, addr);
  return do_brk_flags(vmi, vma_prev(vmi), addr, len, exec ? VM_EXEC : 0);
}

const insert_vmi = new VmaIterator();

// mm/mmap.c insert_vm_struct: add a VMA built by the caller (the stack, special mappings)
export function insert_vm_struct(mm: number, vma: number): number {
  if (find_vma_intersection(mm, vm_start(vma), vm_end(vma))) return -ENOMEM;
  const vmi = insert_vmi.init(mm, vm_start(vma));
  vma_iter_config(vmi, vm_start(vma), vm_end(vma));
  if (vma_iter_prealloc(vmi, vma)) return -ENOMEM;
  vma_iter_store(vmi, vma);
  mm_add_map_count(mm, 1);
  vm_stat_account(mm, vm_flags(vma), vma_pages(vma));
  this_cpu_inc(c_vma_new);
  return 0;
}

/* ---------------------------------------------------------------- teardown */

// mm/mmap.c exit_mmap: free every VMA and the tree (the last user of the mm is gone)
export function exit_mmap(mm: number): void {
  mmap_write_lock(mm);
  const mas = new MaState(mm_mt(mm), 0, 0);
  let count = 0;
  for (let vma = mas_find(mas, ULONG_MAX); vma; vma = mas_find(mas, ULONG_MAX)) {
    zap_page_range(mm, vm_start(vma), vm_end(vma));
    unlink_anon_vmas(vma);
    vm_area_free_now(vma);
    count++;
  }
  __mt_destroy(mm_mt(mm));
  free_all_pgtables(mm);
  mm_add_map_count(mm, -count);
  mmap_write_unlock(mm);
}
