// Page faults, zapping and fork's copy of the page tables (mm/memory.c), with RSS as Linux
// accounts it. User pages are ZONE_MOVABLE frames; the tables are arena pages (pgtable.ts).
//
// Anonymous read faults map the shared zero page when mm.zero_page is on (Linux <= 2.6.23 and
// 2.6.32+, "mm: reinstate ZERO_PAGE") and allocate a zeroed page when it is off (2.6.24-2.6.31,
// 557ed1fa "remove ZERO_PAGE"). Shared file and shmem pages come from the page cache.

import { define_counter } from '../../machine/symbols.ts';
import { this_cpu_inc } from '../../machine/counters.ts';
import { frames, mem32 } from '../../machine/memory.ts';
import {
  PTRS_PER_TABLE, _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PRESENT, _PAGE_RW, _PAGE_SPECIAL, _PAGE_USER,
  entry_word, frame_tag_hi, frame_tag_lo, index_pgd, index_pmd, index_pte, index_pud, set_frame_tag, split_address,
} from '../../machine/mmu.ts';
import { down_read, up_read } from '../locking/rwsem.ts';
import { spin_lock, spin_unlock } from '../locking/spinlock.ts';
import {
  MM_ANONPAGES, MM_FILEPAGES, MM_HIWATER_RSS, MM_NOTIFIER, MM_PAGE_TABLE_LOCK, MM_PGD, MM_RSS_STAT, MM_SHMEMPAGES,
  PAGE_SIZE, VM_EXEC, VM_READ, VM_SHARED, VM_WRITE, mmap_lock_addr, vm_end, vm_flags, vm_pgoff, vm_start, vma_file,
} from './mm_types.ts';
import { anon_vma_prepare } from './rmap.ts';
import { find_vma, find_vma_prev } from './vma.ts';
import { table_alloc_below, table_below } from '../arch/x86/mm/pgtable.ts';
import { F_MAPCOUNT, F_MAPPING, F_FLAGS, PG_anon, PG_swapbacked, ZERO_PFN, alloc_movable_page, frame_desc, get_page, put_page } from './page_alloc.ts';
import { file_mapping, filemap_get_page, mapping_is_shmem } from './filemap.ts';
import { kconfig, knob_index } from '../config.ts';
import { EFAULT } from '../include/uapi/asm-generic/errno-base.ts';

const c_faults = define_counter('sim.mm.faults');
const c_faults_read = define_counter('sim.mm.faults_read');
const c_faults_write = define_counter('sim.mm.faults_write');
const c_zero_page_maps = define_counter('sim.mm.zero_page_maps');
const c_cow_faults = define_counter('sim.mm.cow_faults');
const c_zap_pages = define_counter('sim.mm.zap_pages');
const K_ZERO_PAGE = knob_index('mm.zero_page');

// include/linux/mm_types.h vm_fault_t
export const VM_FAULT_OOM = 0x1;

/* ---------------------------------------------------------------- RSS */

// include/linux/mm.h add_mm_counter (atomic: threads on other CPUs fault the same mm)
function add_mm_counter(mm: number, member: number, n: number): void {
  Atomics.add(mem32, (mm >> 2) + MM_RSS_STAT + member, n);
}

export function get_mm_counter(mm: number, member: number): number {
  return Atomics.load(mem32, (mm >> 2) + MM_RSS_STAT + member);
}

// include/linux/mm.h get_mm_rss
export function get_mm_rss(mm: number): number {
  return get_mm_counter(mm, MM_FILEPAGES) + get_mm_counter(mm, MM_ANONPAGES) + get_mm_counter(mm, MM_SHMEMPAGES);
}

// include/linux/mm.h update_hiwater_rss: called before RSS can drop, so the peak is exact
export function update_hiwater_rss(mm: number): void {
  const rss = get_mm_rss(mm);
  if (mem32[(mm >> 2) + MM_HIWATER_RSS] < rss) mem32[(mm >> 2) + MM_HIWATER_RSS] = rss;
}

// include/linux/mm.h get_mm_hiwater_rss (VmHWM)
export function get_mm_hiwater_rss(mm: number): number {
  return Math.max(mem32[(mm >> 2) + MM_HIWATER_RSS], get_mm_rss(mm));
}

// include/linux/mm.h reset_mm_hiwater_rss (clear_refs 5, 4.0+)
export function reset_mm_hiwater_rss(mm: number): void {
  mem32[(mm >> 2) + MM_HIWATER_RSS] = get_mm_rss(mm);
}

// mm/memory.c mm_counter_file / mm_counter: which counter a page is accounted in
function mm_counter(pfn: number): number {
  const flags = frames[frame_desc(pfn) + F_FLAGS];
  if (flags & PG_anon) return MM_ANONPAGES;
  return flags & PG_swapbacked ? MM_SHMEMPAGES : MM_FILEPAGES;
}

/* ---------------------------------------------------------------- mmu notifiers */

/** include/linux/mmu_notifier.h: what a subscriber (KVM) does when host PTEs in [start, end) go or change. */
export type InvalidateRange = (subscription: number, start: number, end: number) => void;
let invalidate_range: InvalidateRange | null = null;

export function mmu_notifier_register_ops(fn: InvalidateRange): void {
  invalidate_range = fn;
}

// mm/mmu_notifier.c __mmu_notifier_invalidate_range_start
function mmu_notifier_invalidate_range(mm: number, start: number, end: number): void {
  const sub = mem32[(mm >> 2) + MM_NOTIFIER];
  if (sub !== 0 && invalidate_range) invalidate_range(sub, start, end);
}

/* ---------------------------------------------------------------- walking */

/** Word index of the PTE for addr, the tables above made when `alloc`; -1 when missing (or out of memory). */
export function pte_offset(mm: number, addr: number, alloc: boolean): number {
  return walk_to_pte(mem32[(mm >> 2) + MM_PGD], mm + MM_PAGE_TABLE_LOCK * 4, addr, alloc);
}

/** The same walk from any root (KVM's EPT): `lock` guards populating a level. */
export function walk_to_pte(root: number, lock: number, addr: number, alloc: boolean): number {
  let table = root;
  split_address(addr);
  const pud_i = index_pud(), pmd_i = index_pmd(), pte_i = index_pte();
  table = alloc ? table_alloc_below(lock, table, index_pgd()) : table_below(table, index_pgd());
  if (table === 0) return -1;
  table = alloc ? table_alloc_below(lock, table, pud_i) : table_below(table, pud_i);
  if (table === 0) return -1;
  table = alloc ? table_alloc_below(lock, table, pmd_i) : table_below(table, pmd_i);
  if (table === 0) return -1;
  return entry_word(table, pte_i);
}

function set_pte(w: number, pfn: number, flags: number): void {
  mem32[w + 1] = pfn;
  mem32[w] = flags;
}

function pte_flags_for(vma: number, write: boolean): number {
  let flags = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
  if (write) flags |= _PAGE_DIRTY;
  if (vm_flags(vma) & VM_WRITE && (write || vm_flags(vma) & VM_SHARED)) flags |= _PAGE_RW;
  return flags;
}

/* ---------------------------------------------------------------- faults */

// mm/memory.c do_anonymous_page
function do_anonymous_page(mm: number, vma: number, w: number, write: boolean): number {
  if (!write && kconfig(K_ZERO_PAGE)) {
    this_cpu_inc(c_zero_page_maps);
    set_pte(w, ZERO_PFN, _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_SPECIAL);
    return 0;
  }
  // (2.6.24-2.6.31 went here for reads too: a zeroed page, writable when the VMA is.)
  const pfn = alloc_movable_page();
  if (pfn < 0) return VM_FAULT_OOM;
  set_frame_tag(pfn, 0, 0); // alloc_zeroed_user_highpage_movable
  frames[frame_desc(pfn) + F_FLAGS] |= PG_anon;
  frames[frame_desc(pfn) + F_MAPCOUNT] = 1;
  add_mm_counter(mm, MM_ANONPAGES, 1);
  set_pte(w, pfn, pte_flags_for(vma, true));
  return 0;
}

function linear_page_index(vma: number, addr: number): number {
  return vm_pgoff(vma) + (addr - vm_start(vma)) / PAGE_SIZE;
}

// mm/memory.c do_read_fault / do_shared_fault: map the page-cache page
function do_file_fault(mm: number, vma: number, addr: number, w: number, write: boolean): number {
  const mapping = file_mapping(vma_file(vma));
  if (mapping === 0) return VM_FAULT_OOM;
  const pfn = filemap_get_page(mapping, linear_page_index(vma, addr));
  if (pfn < 0) return VM_FAULT_OOM;
  Atomics.add(frames, frame_desc(pfn) + F_MAPCOUNT, 1);
  add_mm_counter(mm, mapping_is_shmem(mapping) ? MM_SHMEMPAGES : MM_FILEPAGES, 1);
  set_pte(w, pfn, pte_flags_for(vma, write));
  return 0;
}

// mm/memory.c do_cow_fault: a private write to a file page copies it into an anonymous page
function do_cow_fault(mm: number, vma: number, addr: number, w: number): number {
  const mapping = file_mapping(vma_file(vma));
  if (mapping === 0) return VM_FAULT_OOM;
  const src = filemap_get_page(mapping, linear_page_index(vma, addr));
  if (src < 0) return VM_FAULT_OOM;
  const ret = cow_into_new_page(mm, vma, w, src);
  put_page(src);
  return ret;
}

function cow_into_new_page(mm: number, vma: number, w: number, src: number): number {
  const pfn = alloc_movable_page();
  if (pfn < 0) return VM_FAULT_OOM;
  set_frame_tag(pfn, frame_tag_lo(src), frame_tag_hi(src)); // copy_user_highpage (zero page: zero)
  frames[frame_desc(pfn) + F_FLAGS] |= PG_anon;
  frames[frame_desc(pfn) + F_MAPCOUNT] = 1;
  add_mm_counter(mm, MM_ANONPAGES, 1);
  set_pte(w, pfn, pte_flags_for(vma, true));
  return 0;
}

// mm/memory.c do_wp_page: a write through a read-only PTE of a writable VMA. An anonymous page
// only this PTE maps is reused (wp_page_reuse); otherwise the page is copied (wp_page_copy), the
// zero page into a zeroed one.
function do_wp_page(mm: number, vma: number, addr: number, w: number): number {
  const old = mem32[w + 1];
  const old_flags = mem32[w];
  if (old_flags & _PAGE_SPECIAL || !(frames[frame_desc(old) + F_FLAGS] & PG_anon) || vm_flags(vma) & VM_SHARED
    || Atomics.load(frames, frame_desc(old) + F_MAPCOUNT) !== 1) {
    if (vm_flags(vma) & VM_SHARED) {
      // A shared mapping's page is written in place (no write-notify for shmem).
      mem32[w] = old_flags | _PAGE_RW | _PAGE_DIRTY;
      return 0;
    }
    this_cpu_inc(c_cow_faults);
    mmu_notifier_invalidate_range(mm, addr, addr + PAGE_SIZE);
    const ret = cow_into_new_page(mm, vma, w, old);
    if (ret) return ret;
    if (!(old_flags & _PAGE_SPECIAL)) {
      // The copy replaces the old page in RSS (wp_page_copy: no update_hiwater_rss, no transient peak).
      add_mm_counter(mm, mm_counter(old), -1);
      Atomics.sub(frames, frame_desc(old) + F_MAPCOUNT, 1);
      put_page(old);
    }
    return 0;
  }
  mem32[w] = old_flags | _PAGE_RW | _PAGE_DIRTY;
  return 0;
}

// mm/memory.c handle_mm_fault (→ __handle_mm_fault → handle_pte_fault): 0, a VM_FAULT_* code, or
// -EFAULT outside any VMA or against its protection (the task would get SIGSEGV)
export function handle_mm_fault(mm: number, addr: number, write: boolean): number {
  this_cpu_inc(c_faults);
  this_cpu_inc(write ? c_faults_write : c_faults_read);
  down_read(mmap_lock_addr(mm));
  try {
    const { vma, prev } = find_vma_prev(mm, addr);
    if (!vma || vm_start(vma) > addr) return -EFAULT;
    // arch/x86/mm/fault.c access_error
    if (write ? !(vm_flags(vma) & VM_WRITE) : !(vm_flags(vma) & (VM_READ | VM_EXEC | VM_WRITE))) return -EFAULT;
    // A private page about to be made (anonymous, a copy of a file page) belongs to the anon_vma
    // (vmf_anon_prepare); concurrent first faults on one VMA race to install it, page_table_lock decides.
    const lock = mm + MM_PAGE_TABLE_LOCK * 4;
    if (write ? !(vm_flags(vma) & VM_SHARED) : !vma_file(vma) && !kconfig(K_ZERO_PAGE)) {
      spin_lock(lock);
      anon_vma_prepare(vma, prev, find_vma(mm, vm_end(vma)));
      spin_unlock(lock);
    }
    const w = pte_offset(mm, addr, true);
    if (w < 0) return VM_FAULT_OOM;
    spin_lock(lock);
    try {
      const flags = mem32[w];
      if (!(flags & _PAGE_PRESENT)) {
        if (!vma_file(vma)) return do_anonymous_page(mm, vma, w, write);
        if (write && !(vm_flags(vma) & VM_SHARED)) return do_cow_fault(mm, vma, addr, w);
        return do_file_fault(mm, vma, addr, w, write);
      }
      if (write && !(flags & _PAGE_RW)) return do_wp_page(mm, vma, addr, w);
      mem32[w] = flags | _PAGE_ACCESSED | (write ? _PAGE_DIRTY : 0); // a spurious fault
      return 0;
    } finally {
      spin_unlock(lock);
    }
  } finally {
    up_read(mmap_lock_addr(mm));
  }
}

/* ---------------------------------------------------------------- zapping */

/** Only zap the PTEs that map this address_space's pages (unmap_mapping_range's zap_details), or 0: all. */
let zap_mapping = 0;

// mm/memory.c zap_pte_range over one PTE table: [from, to) are PTE indexes
function zap_pte_table(mm: number, table: number, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const w = entry_word(table, i);
    const flags = mem32[w];
    if (!(flags & _PAGE_PRESENT)) continue;
    const pfn = mem32[w + 1];
    if (zap_mapping !== 0 && (flags & _PAGE_SPECIAL || frames[frame_desc(pfn) + F_MAPPING] !== zap_mapping)) continue;
    mem32[w] = 0;
    mem32[w + 1] = 0;
    if (flags & _PAGE_SPECIAL) continue; // the zero page: not counted, not referenced
    add_mm_counter(mm, mm_counter(pfn), -1);
    Atomics.sub(frames, frame_desc(pfn) + F_MAPCOUNT, 1);
    put_page(pfn);
    this_cpu_inc(c_zap_pages);
  }
}

const SPAN = [1 << 12, 2 ** 21, 2 ** 30, 2 ** 39]; // bytes one entry of each level covers (pte, pmd, pud, pgd)

// unmap_page_range's walk (zap_p4d_range … zap_pte_range): every level, skipping what is empty
function zap_level(mm: number, table: number, level: number, base: number, start: number, end: number): void {
  const span = SPAN[level];
  const first = Math.max(0, Math.floor((start - base) / span));
  const last = Math.min(PTRS_PER_TABLE, Math.ceil((end - base) / span));
  if (level === 0) {
    zap_pte_table(mm, table, first, last);
    return;
  }
  for (let i = first; i < last; i++) {
    const below = table_below(table, i);
    if (below) zap_level(mm, below, level - 1, base + i * span, start, end);
  }
}

// mm/memory.c zap_page_range_single / unmap_vmas: drop the PTEs of [start, end) in mm, freeing the
// pages no one else maps; RSS drops, so its peak is recorded first
export function zap_page_range(mm: number, start: number, end: number): void {
  const pgd = mem32[(mm >> 2) + MM_PGD];
  if (pgd === 0 || end <= start) return;
  update_hiwater_rss(mm);
  mmu_notifier_invalidate_range(mm, start, end);
  spin_lock(mm + MM_PAGE_TABLE_LOCK * 4);
  zap_level(mm, pgd, 3, 0, start, end);
  spin_unlock(mm + MM_PAGE_TABLE_LOCK * 4);
}

// mm/memory.c unmap_mapping_range (punch hole): zap the pages of `mapping` in [start, end) of a VMA
export function zap_mapping_range(mm: number, mapping: number, start: number, end: number): void {
  zap_mapping = mapping;
  try {
    zap_page_range(mm, start, end);
  } finally {
    zap_mapping = 0;
  }
}

/* ---------------------------------------------------------------- fork */

// mm/memory.c copy_page_range (→ copy_pte_range, copy_present_pte): the child gets the parent's
// PTEs of a VMA; private writable pages become copy-on-write in both. Only VMAs with an anon_vma
// are copied (vma_needs_copy): the child faults the rest in from the page cache.
export function copy_page_range(dst_mm: number, src_mm: number, vma: number): number {
  const cow = (vm_flags(vma) & (VM_SHARED | VM_WRITE)) === VM_WRITE;
  let write_protected = false;
  for (let addr = vm_start(vma); addr < vm_end(vma);) {
    const src = pte_offset(src_mm, addr, false);
    if (src < 0) {
      // Skip the rest of the missing PTE table.
      addr = (Math.floor(addr / SPAN[1]) + 1) * SPAN[1];
      continue;
    }
    let flags = mem32[src];
    if (flags & _PAGE_PRESENT) {
      const dst = pte_offset(dst_mm, addr, true);
      if (dst < 0) return -1;
      const pfn = mem32[src + 1];
      if (cow && flags & _PAGE_RW) {
        flags &= ~_PAGE_RW;
        mem32[src] = flags;
        write_protected = true;
      }
      if (!(flags & _PAGE_SPECIAL)) {
        get_page(pfn);
        Atomics.add(frames, frame_desc(pfn) + F_MAPCOUNT, 1);
        add_mm_counter(dst_mm, mm_counter(pfn), 1);
      }
      set_pte(dst, pfn, flags);
    }
    addr += PAGE_SIZE;
  }
  if (write_protected) mmu_notifier_invalidate_range(src_mm, vm_start(vma), vm_end(vma));
  return 0;
}

/* ---------------------------------------------------------------- mprotect */

// mm/mprotect.c change_protection: a VMA that loses VM_WRITE loses _PAGE_RW in its PTEs
export function change_protection(mm: number, start: number, end: number, newflags: number): void {
  if (newflags & VM_WRITE) return; // gaining write: the next write fault sets it (no pte_mkwrite)
  for (let addr = start; addr < end;) {
    const w = pte_offset(mm, addr, false);
    if (w < 0) {
      addr = (Math.floor(addr / SPAN[1]) + 1) * SPAN[1];
      continue;
    }
    if (mem32[w] & _PAGE_RW) mem32[w] &= ~_PAGE_RW;
    addr += PAGE_SIZE;
  }
  mmu_notifier_invalidate_range(mm, start, end);
}

/* ---------------------------------------------------------------- lookup without faulting */

// mm/gup.c follow_page_pte (no FOLL_GET): the frame mapped at addr, or -1 when none is
export function follow_page(mm: number, addr: number): number {
  if (mem32[(mm >> 2) + MM_PGD] === 0) return -1;
  const w = pte_offset(mm, addr, false);
  return w >= 0 && mem32[w] & _PAGE_PRESENT ? mem32[w + 1] : -1;
}
