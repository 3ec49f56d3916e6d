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
  mas_store_prealloc, mtree_load,
} from '../lib/maple_tree.ts';
import {
  PAGE_SIZE, VMA_ANON_VMA, VMA_AVC_HEAD, VMA_MM, VMA_RCU, VM_AREA_STRUCT_SIZE, VM_SOFTDIRTY, VM_SPECIAL, mm_add_map_count, mm_mt, set_vm_end,
  set_vm_pgoff, set_vm_start, vm_end, vm_flags, vm_pgoff, vm_start, vma_anon_vma, vma_file, vma_mm, vma_pages,
} from './mm_types.ts';
import { anon_vma_chain_singular, anon_vma_clone, unlink_anon_vmas } from './rmap.ts';
import { unlink_file_vma, vma_link_file } from './filemap.ts';

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
  if (!vma_link_file(vma_file(vma), vma)) {
    kmem_cache_free(vm_area_cachep, vma);
    throw new VmaNoMem('i_mmap');
  }
  return vma;
}

// kernel/fork.c vm_area_free_rcu_cb
const vm_area_free_rcu_cb = define_function('vm_area_free_rcu_cb', (head: number) => {
  kmem_cache_free(vm_area_cachep, head - VMA_RCU * 4);
});

// kernel/fork.c vm_area_free: after a grace period (CONFIG_PER_VMA_LOCK, 6.4+)
export function vm_area_free(vma: number): void {
  unlink_file_vma(vma_file(vma), vma);
  call_rcu(vma + VMA_RCU * 4, vm_area_free_rcu_cb);
}

// kernel/fork.c __vm_area_free: at once, when no reader can reach the VMA (exit_mmap)
export function vm_area_free_now(vma: number): void {
  unlink_file_vma(vma_file(vma), vma);
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

// include/linux/mm.h vma_lookup: the VMA containing addr
export function vma_lookup(mm: number, addr: number): number {
  return mtree_load(mm_mt(mm), addr);
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

// mm/mmap.c vma_complete: store an inserted VMA, free the removed ones (struct vma_prepare's
// insert, remove and remove2, passed as they are)
export function vma_complete(insert: number, remove: number, remove2: number, vmi: VmaIterator, mm: number): void {
  if (insert) {
    vma_iter_store(vmi, insert);
    mm_add_map_count(mm, 1);
  }
  for (const gone of [remove, remove2]) {
    if (!gone) continue;
    mm_add_map_count(mm, -1);
    remove_vma(gone);
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
  vma_complete(nw, 0, 0, vmi, vma_mm(vma));
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
    dup_anon_vma(vma, next);
  }
  vma_iter_config(vmi, start, end);
  if (vma_iter_prealloc(vmi, vma)) return -12;
  set_vm_start(vma, start);
  set_vm_end(vma, end);
  set_vm_pgoff(vma, pgoff);
  vma_iter_store(vmi, vma);
  vma_complete(0, remove, 0, vmi, vma_mm(vma));
  this_cpu_inc(c_vma_expand);
  return 0;
}

/** do_brk_flags grew its VMA in place, merging the new range into it (without vma_expand). */
export function count_brk_merge(): void {
  this_cpu_inc(c_vma_expand);
  this_cpu_inc(c_vma_merge);
}

// mm/mmap.c dup_anon_vma: a VMA taking over src's range takes its anon_vma if it has none
function dup_anon_vma(dst: number, src: number): void {
  if (!vma_anon_vma(src) || vma_anon_vma(dst)) return;
  mem32[(dst >> 2) + VMA_ANON_VMA] = vma_anon_vma(src);
  anon_vma_clone(dst, src);
}

// mm/mmap.c split_vma (the map_count limit is not modeled)
export function split_vma(vmi: VmaIterator, vma: number, addr: number, new_below: boolean): number {
  return __split_vma(vmi, vma, addr, new_below);
}

// mm/mmap.c vma_merge (6.7): give [addr, end) with vm_flags to prev and/or next instead of a
// VMA of its own. curr is the VMA [addr, end) lies in (mprotect, madvise...), or none (a new
// range). Cases as in Linux's comment: 1-4 without curr, 5-8 with it. Returns the VMA that now
// covers [addr, end), or 0 when nothing could merge.
export function vma_merge(vmi: VmaIterator, mm: number, prev: number, addr: number, end: number, flags: number, anon_vma: number, file: number, pgoff: number): number {
  if (flags & VM_SPECIAL) return 0;
  const pglen = (end - addr) / PAGE_SIZE;
  // Does the input range span an existing VMA? (cases 5 - 8)
  const curr = find_vma_intersection(mm, prev ? vm_end(prev) : 0, end);
  const next = !curr || end === vm_end(curr) ? vma_lookup(mm, end) : 0;
  let vma_start = addr;
  let vma_end = end;
  let vma_pgoff = 0;
  let merge_prev = false;
  if (prev) {
    vma_start = vm_start(prev);
    vma_pgoff = vm_pgoff(prev);
    if (addr === vm_end(prev) && can_vma_merge_after(prev, flags, anon_vma, file, pgoff)) {
      merge_prev = true;
      vma_prev(vmi);
    }
  }
  const merge_next = next !== 0 && can_vma_merge_before(next, flags, anon_vma, file, pgoff + pglen);
  if (!merge_prev && !merge_next) return 0;
  let res = prev;
  let vma = prev;
  let remove = 0;
  let remove2 = 0;
  let adjust = 0;
  let adj_start = 0;
  if (merge_prev && merge_next && is_mergeable_anon_vma(vma_anon_vma(prev), vma_anon_vma(next), 0)) {
    remove = next; // case 1
    vma_end = vm_end(next);
    dup_anon_vma(prev, next);
    if (curr) {
      remove = curr; // case 6
      remove2 = next;
      if (!vma_anon_vma(next)) dup_anon_vma(prev, curr);
    }
  } else if (merge_prev) {
    if (curr) {
      if (end === vm_end(curr)) remove = curr; // case 7
      else {
        adjust = curr; // case 5
        adj_start = end - vm_start(curr);
      }
      dup_anon_vma(prev, curr);
    }
  } else {
    res = next;
    if (prev && addr < vm_end(prev)) {
      vma_end = addr; // case 4
      adjust = next;
      adj_start = -(vm_end(prev) - addr);
      dup_anon_vma(next, prev);
    } else {
      vma = next; // case 3
      vma_start = addr;
      vma_end = vm_end(next);
      vma_pgoff = vm_pgoff(next) - pglen;
      if (curr) {
        vma_pgoff = vm_pgoff(curr); // case 8
        remove = curr;
        dup_anon_vma(next, curr);
      }
    }
  }
  const vma_expanded = vma_start < vm_start(vma) || vma_end > vm_end(vma);
  if (vma_expanded) vma_iter_config(vmi, vma_start, vma_end);
  else vma_iter_config(vmi, vm_start(adjust) + adj_start, vm_end(adjust));
  if (vma_iter_prealloc(vmi, vma)) return 0;
  set_vm_start(vma, vma_start);
  set_vm_end(vma, vma_end);
  set_vm_pgoff(vma, vma_pgoff);
  if (vma_expanded) vma_iter_store(vmi, vma);
  if (adj_start) {
    set_vm_start(adjust, vm_start(adjust) + adj_start);
    set_vm_pgoff(adjust, vm_pgoff(adjust) + adj_start / PAGE_SIZE);
    if (adj_start < 0) vma_iter_store(vmi, next);
  }
  vma_complete(0, remove, remove2, vmi, mm);
  this_cpu_inc(c_vma_merge);
  return res;
}
