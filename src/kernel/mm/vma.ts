// VMA allocation (kernel/fork.c), the VMA iterator (mm/internal.h) and the VMA operations that
// change the tree: split, expand, merge checks, prepare/complete (mm/mmap.c in 6.7; mm/vma.c
// since 6.10).

import { mem32, memcpy, memset0 } from '../../machine/memory.ts';
import { define_counter, define_function } from '../../machine/symbols.ts';
import { this_cpu_inc } from '../../machine/counters.ts';
import { define_kmem_cache, kmem_cache_alloc, kmem_cache_free } from './slab.ts';
import { call_rcu } from '../kernel/rcu.ts';
import {
  MaState, ULONG_MAX, __mas_set_range, mas_destroy, mas_empty_area_rev, mas_error, mas_expected_entries, mas_find,
  mas_is_err, mas_next_range, mas_preallocate, mas_prev, mas_prev_range, mas_reset, mas_set, mas_store, mas_store_gfp,
  mas_store_prealloc,
} from '../lib/maple_tree.ts';
import {
  PAGE_SIZE, VMA_AVC_HEAD, VMA_MM, VMA_RCU, VM_AREA_STRUCT_SIZE, VM_SOFTDIRTY, mm_add_map_count, mm_mt, set_vm_end,
  set_vm_pgoff, set_vm_start, vm_end, vm_flags, vm_pgoff, vm_start, vma_anon_vma, vma_file, vma_mm, vma_pages,
} from './mm_types.ts';
import { anon_vma_chain_singular, anon_vma_clone, unlink_anon_vmas } from './rmap.ts';

const vm_area_cachep = define_kmem_cache('vm_area_struct', VM_AREA_STRUCT_SIZE);

export const c_vma_new = define_counter('sim.mm.vma_new');
const c_vma_split = define_counter('sim.mm.vma_split');
const c_vma_expand = define_counter('sim.mm.vma_expand');
export const c_vma_merge = define_counter('sim.mm.vma_merge');

export class VmaNoMem extends Error {}

// kernel/fork.c vm_area_alloc
export function vm_area_alloc(mm: number): number {
  const vma = kmem_cache_alloc(vm_area_cachep);
  if (!vma) throw new VmaNoMem('vm_area_struct');
  memset0(vma, VM_AREA_STRUCT_SIZE);
  mem32[(vma >> 2) + VMA_MM] = mm;
  return vma;
}

// kernel/fork.c vm_area_dup: a copy with an empty anon_vma_chain
export function vm_area_dup(orig: number): number {
  const vma = kmem_cache_alloc(vm_area_cachep);
  if (!vma) throw new VmaNoMem('vm_area_struct');
  memcpy(vma, orig, VM_AREA_STRUCT_SIZE);
  mem32[(vma >> 2) + VMA_AVC_HEAD] = 0;
  return vma;
}

// kernel/fork.c vm_area_free_rcu_cb
const vm_area_free_rcu_cb = define_function('vm_area_free_rcu_cb', (head: number) => {
  kmem_cache_free(vm_area_cachep, head - VMA_RCU * 4);
});

// kernel/fork.c vm_area_free: after a grace period (CONFIG_PER_VMA_LOCK, 6.4+)
export function vm_area_free(vma: number): void {
  call_rcu(vma + VMA_RCU * 4, vm_area_free_rcu_cb);
}

// kernel/fork.c __vm_area_free: at once, when no reader can reach the VMA (exit_mmap)
export function vm_area_free_now(vma: number): void {
  kmem_cache_free(vm_area_cachep, vma);
}

/* ---------------------------------------------------------------- the VMA iterator */

/** struct vma_iterator: a maple state over the mm's tree. */
export class VmaIterator {
  readonly mas = new MaState();

  init(mm: number, addr: number): this {
    this.mas.tree = mm_mt(mm);
    this.mas.mas_flags = 0;
    mas_set(this.mas, addr);
    return this;
  }
}

// include/linux/mm.h vma_find: the next VMA below max
export function vma_find(vmi: VmaIterator, max: number): number {
  return mas_find(vmi.mas, max - 1);
}

// include/linux/mm.h vma_next
export function vma_next(vmi: VmaIterator): number {
  return mas_find(vmi.mas, ULONG_MAX);
}

// include/linux/mm.h vma_prev
export function vma_prev(vmi: VmaIterator): number {
  return mas_prev(vmi.mas, 0);
}

// include/linux/mm.h vma_iter_next_range / vma_iter_prev_range
export function vma_iter_next_range(vmi: VmaIterator): number {
  return mas_next_range(vmi.mas, ULONG_MAX);
}

export function vma_iter_prev_range(vmi: VmaIterator): number {
  return mas_prev_range(vmi.mas, 0);
}

// mm/internal.h vma_prev_limit
export function vma_prev_limit(vmi: VmaIterator, min: number): number {
  return mas_prev(vmi.mas, min);
}

// mm/internal.h vma_iter_config: the range [index, last) the next store covers
export function vma_iter_config(vmi: VmaIterator, index: number, last: number): void {
  __mas_set_range(vmi.mas, index, last - 1);
}

export function vma_iter_set(vmi: VmaIterator, addr: number): void {
  mas_set(vmi.mas, addr);
}

export function vma_iter_reset(vmi: VmaIterator): void {
  mas_reset(vmi.mas);
}

export function vma_iter_addr(vmi: VmaIterator): number {
  return vmi.mas.index;
}

export function vma_iter_end(vmi: VmaIterator): number {
  return vmi.mas.last + 1;
}

// mm/internal.h vma_iter_prealloc: 0 or -ENOMEM
export function vma_iter_prealloc(vmi: VmaIterator, vma: number): number {
  return mas_preallocate(vmi.mas, vma);
}

// mm/internal.h vma_iter_store: store the VMA over its range with the preallocated nodes
export function vma_iter_store(vmi: VmaIterator, vma: number): void {
  __mas_set_range(vmi.mas, vm_start(vma), vm_end(vma) - 1);
  mas_store_prealloc(vmi.mas, vma);
}

// mm/internal.h vma_iter_store_gfp
export function vma_iter_store_gfp(vmi: VmaIterator, vma: number): number {
  __mas_set_range(vmi.mas, vm_start(vma), vm_end(vma) - 1);
  return mas_store_gfp(vmi.mas, vma);
}

// mm/internal.h vma_iter_clear_gfp: remove [start, end) from the tree
export function vma_iter_clear_gfp(vmi: VmaIterator, start: number, end: number): number {
  __mas_set_range(vmi.mas, start, end - 1);
  return mas_store_gfp(vmi.mas, 0);
}

// mm/internal.h vma_iter_bulk_alloc (6.1-6.7)
export function vma_iter_bulk_alloc(vmi: VmaIterator, count: number): number {
  return mas_expected_entries(vmi.mas, count);
}

// mm/internal.h vma_iter_bulk_store (6.1-6.7): append in ascending order
export function vma_iter_bulk_store(vmi: VmaIterator, vma: number): number {
  vmi.mas.index = vm_start(vma);
  vmi.mas.last = vm_end(vma) - 1;
  mas_store(vmi.mas, vma);
  return mas_is_err(vmi.mas) ? -mas_error(vmi.mas) : 0;
}

// mm/internal.h vma_iter_free
export function vma_iter_free(vmi: VmaIterator): void {
  mas_destroy(vmi.mas);
}

// mm/internal.h vma_iter_area_highest: the highest gap of `size` in [min, max)
export function vma_iter_area_highest(vmi: VmaIterator, min: number, max: number, size: number): number {
  return mas_empty_area_rev(vmi.mas, min, max - 1, size);
}

const lookup_vmi = new VmaIterator();

// mm/mmap.c find_vma: the first VMA ending above addr
export function find_vma(mm: number, addr: number): number {
  return mas_find(lookup_vmi.init(mm, addr).mas, ULONG_MAX);
}

// mm/mmap.c find_vma_intersection: the first VMA intersecting [start, end)
export function find_vma_intersection(mm: number, start: number, end: number): number {
  return mas_find(lookup_vmi.init(mm, start).mas, end - 1);
}

// mm/mmap.c find_vma_prev: the VMA containing or after addr, and the one before it
export function find_vma_prev(mm: number, addr: number): { vma: number; prev: number } {
  const vmi = lookup_vmi.init(mm, addr);
  const vma = mas_find(vmi.mas, ULONG_MAX);
  const prev = mas_prev(vmi.mas, 0);
  if (!vma) vma_next(vmi);
  return { vma, prev };
}

/* ---------------------------------------------------------------- merge checks */

// mm/mmap.c is_mergeable_vma: same flags (but soft-dirty), same file
function is_mergeable_vma(vma: number, file: number, flags: number): boolean {
  if (((vm_flags(vma) ^ flags) & ~VM_SOFTDIRTY) !== 0) return false;
  return vma_file(vma) === file;
}

// mm/mmap.c is_mergeable_anon_vma: an anon_vma inherited through fork is not merged with
export function is_mergeable_anon_vma(anon_vma1: number, anon_vma2: number, vma: number): boolean {
  if ((!anon_vma1 || !anon_vma2) && (!vma || anon_vma_chain_singular(vma))) return true;
  return anon_vma1 === anon_vma2;
}

// mm/mmap.c can_vma_merge_after: can a range at pgoff be appended to vma?
export function can_vma_merge_after(vma: number, flags: number, anon_vma: number, file: number, pgoff: number): boolean {
  if (is_mergeable_vma(vma, file, flags) && is_mergeable_anon_vma(anon_vma, vma_anon_vma(vma), vma)) {
    if (vm_pgoff(vma) + vma_pages(vma) === pgoff) return true;
  }
  return false;
}

// mm/mmap.c can_vma_merge_before: can a range ending at pgoff be prepended to vma?
export function can_vma_merge_before(vma: number, flags: number, anon_vma: number, file: number, pgoff: number): boolean {
  if (is_mergeable_vma(vma, file, flags) && is_mergeable_anon_vma(anon_vma, vma_anon_vma(vma), vma)) {
    if (vm_pgoff(vma) === pgoff) return true;
  }
  return false;
}

/* ---------------------------------------------------------------- prepare, complete */

// mm/mmap.c remove_vma: free a VMA that is out of the tree
export function remove_vma(vma: number): void {
  unlink_anon_vmas(vma);
  vm_area_free(vma);
}

// mm/mmap.c vma_complete: store an inserted VMA, free a removed one (struct vma_prepare's
// insert and remove, passed as they are)
export function vma_complete(insert: number, remove: number, vmi: VmaIterator, mm: number): void {
  if (insert) {
    vma_iter_store(vmi, insert);
    mm_add_map_count(mm, 1);
  }
  if (remove) {
    mm_add_map_count(mm, -1);
    remove_vma(remove);
  }
}

// mm/mmap.c __split_vma: split vma at addr; the new VMA is the part below (new_below) or above.
// Returns 0 or -ENOMEM.
export function __split_vma(vmi: VmaIterator, vma: number, addr: number, new_below: boolean): number {
  if (vm_start(vma) >= addr || vm_end(vma) <= addr) throw new Error(`__split_vma: ${addr} not inside the VMA`);
  const nw = vm_area_dup(vma);
  if (new_below) set_vm_end(nw, addr);
  else {
    set_vm_start(nw, addr);
    set_vm_pgoff(nw, vm_pgoff(nw) + (addr - vm_start(vma)) / PAGE_SIZE);
  }
  vma_iter_config(vmi, vm_start(nw), vm_end(nw));
  if (vma_iter_prealloc(vmi, nw)) {
    kmem_cache_free(vm_area_cachep, nw);
    return -12;
  }
  anon_vma_clone(nw, vma);
  if (new_below) {
    set_vm_start(vma, addr);
    set_vm_pgoff(vma, vm_pgoff(vma) + (addr - vm_start(nw)) / PAGE_SIZE);
  } else {
    set_vm_end(vma, addr);
  }
  // vma_complete stores the new VMA
  vma_complete(nw, 0, vmi, vma_mm(vma));
  this_cpu_inc(c_vma_split);
  if (new_below) vma_next(vmi);
  return 0;
}

// mm/mmap.c vma_expand: grow vma to [start, end), swallowing `next` when it ends at end.
// Returns 0 or -ENOMEM.
export function vma_expand(vmi: VmaIterator, vma: number, start: number, end: number, pgoff: number, next: number): number {
  let remove = 0;
  if (next && next !== vma && end === vm_end(next)) {
    remove = next;
    // mm/mmap.c dup_anon_vma: the expanded VMA takes next's anon_vma if it has none
    if (vma_anon_vma(next) && !vma_anon_vma(vma)) anon_vma_clone(vma, next);
  }
  vma_iter_config(vmi, start, end);
  if (vma_iter_prealloc(vmi, vma)) return -12;
  set_vm_start(vma, start);
  set_vm_end(vma, end);
  set_vm_pgoff(vma, pgoff);
  vma_iter_store(vmi, vma);
  vma_complete(0, remove, vmi, vma_mm(vma));
  this_cpu_inc(c_vma_expand);
  return 0;
}

/** Count an expansion that happened in place (do_brk_flags grows its VMA without vma_expand). */
export function count_vma_expand(): void {
  this_cpu_inc(c_vma_expand);
}
