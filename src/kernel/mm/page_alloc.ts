// The buddy page allocator over the arena's page frames (mm/page_alloc.c), with exact accounting
// of pages in use and their peak; and ZONE_MOVABLE, the user frames, order 0 only (no THP).

import { FRAME_WORDS, H, PAGE_SHIFT, frames, mem32 } from '../../machine/memory.ts';
import { define_counter, define_global } from '../../machine/symbols.ts';
import { this_cpu_add, this_cpu_inc } from '../../machine/counters.ts';
import { spin_lock, spin_lock_init, spin_unlock } from '../locking/spinlock.ts';

export const MAX_ORDER = 10;

// struct page: 8 words per page frame in mem_map
export const PG_FLAGS = 0;
export const PG_ORDER = 1;
export const PG_NEXT = 2; // free list / slab list links (page frame numbers, -1 = none)
export const PG_PREV = 3;
export const PG_SLAB_CACHE = 4;
export const PG_FREELIST = 5;
export const PG_INUSE = 6;
export const PG_HEAD = 7; // page frame number of the compound head
export const PAGE_DESC_WORDS = 8;

export const PG_reserved = 1 << 0;
export const PG_buddy = 1 << 1;
export const PG_slab = 1 << 2;

// struct zone
const Z_LOCK = 0; // spinlock, 2 words
const Z_NR_FREE = 2;
const Z_IN_USE = 3;
const Z_PEAK = 4;
const Z_MANAGED = 5;
const Z_FREE_AREA = 8; // MAX_ORDER + 1 list heads
const zone = define_global('zone', (Z_FREE_AREA + MAX_ORDER + 1) * 4);

const nr_alloc = define_counter('sim.page_alloc.alloc');
const nr_free = define_counter('sim.page_alloc.free');
// include/linux/vm_event_item.h PGALLOC_NORMAL and PGFREE: pages, 2^order per call (one zone)
const pgalloc_normal = define_counter('sim.vmstat.pgalloc_normal');
const pgfree = define_counter('sim.vmstat.pgfree');

/** Word index of page frame `pfn`'s descriptor. */
export function page_desc(pfn: number): number {
  return (mem32[H.MEM_MAP >> 2] >> 2) + pfn * PAGE_DESC_WORDS;
}

export function pfn_to_addr(pfn: number): number {
  return pfn << PAGE_SHIFT;
}

export function addr_to_pfn(addr: number): number {
  return addr >>> PAGE_SHIFT;
}

function zone_lock(): number {
  return zone.addr + Z_LOCK * 4;
}

function z(field: number): number {
  return (zone.addr >> 2) + field;
}

function list_del(pfn: number, order: number): void {
  const d = page_desc(pfn);
  const next = mem32[d + PG_NEXT];
  const prev = mem32[d + PG_PREV];
  if (prev >= 0) mem32[page_desc(prev) + PG_NEXT] = next;
  else mem32[z(Z_FREE_AREA + order)] = next;
  if (next >= 0) mem32[page_desc(next) + PG_PREV] = prev;
}

function list_add(pfn: number, order: number): void {
  const d = page_desc(pfn);
  const head = mem32[z(Z_FREE_AREA + order)];
  mem32[d + PG_FLAGS] = PG_buddy;
  mem32[d + PG_ORDER] = order;
  mem32[d + PG_PREV] = -1;
  mem32[d + PG_NEXT] = head;
  if (head >= 0) mem32[page_desc(head) + PG_PREV] = pfn;
  mem32[z(Z_FREE_AREA + order)] = pfn;
}

// mm/mm_init.c memblock_free_all: give every unreserved page frame to the buddy allocator
export function page_alloc_init(): void {
  spin_lock_init(zone_lock(), 'zone');
  for (let o = 0; o <= MAX_ORDER; o++) mem32[z(Z_FREE_AREA + o)] = -1;
  const first = mem32[H.FIRST_FREE_PFN >> 2];
  const nr_pages = mem32[H.NR_PAGES >> 2];
  for (let pfn = 0; pfn < first; pfn++) mem32[page_desc(pfn) + PG_FLAGS] = PG_reserved;
  let pfn = first;
  while (pfn < nr_pages) {
    let order = MAX_ORDER;
    while (order > 0 && ((pfn & ((1 << order) - 1)) !== 0 || pfn + (1 << order) > nr_pages)) order--;
    list_add(pfn, order);
    pfn += 1 << order;
  }
  mem32[z(Z_NR_FREE)] = nr_pages - first;
  mem32[z(Z_MANAGED)] = nr_pages - first;
}

// mm/page_alloc.c __alloc_pages: the address of 2^order contiguous pages (not zeroed), or 0
export function alloc_pages(order: number): number {
  spin_lock(zone_lock());
  let o = order;
  while (o <= MAX_ORDER && mem32[z(Z_FREE_AREA + o)] < 0) o++;
  if (o > MAX_ORDER) {
    spin_unlock(zone_lock());
    return 0;
  }
  const pfn = mem32[z(Z_FREE_AREA + o)];
  list_del(pfn, o);
  // mm/page_alloc.c expand: hand the upper halves back
  while (o > order) {
    o--;
    list_add(pfn + (1 << o), o);
  }
  const d = page_desc(pfn);
  mem32[d + PG_FLAGS] = 0;
  mem32[d + PG_ORDER] = order;
  mem32[z(Z_NR_FREE)] -= 1 << order;
  const in_use = (mem32[z(Z_IN_USE)] += 1 << order);
  if (in_use > mem32[z(Z_PEAK)]) mem32[z(Z_PEAK)] = in_use;
  spin_unlock(zone_lock());
  this_cpu_inc(nr_alloc);
  this_cpu_add(pgalloc_normal, 1 << order);
  return pfn_to_addr(pfn);
}

// mm/page_alloc.c __free_pages: merge with free buddies as far as they go
export function free_pages(addr: number, order: number): void {
  this_cpu_add(pgfree, 1 << order);
  let pfn = addr_to_pfn(addr);
  spin_lock(zone_lock());
  mem32[z(Z_NR_FREE)] += 1 << order;
  mem32[z(Z_IN_USE)] -= 1 << order;
  const nr_pages = mem32[H.NR_PAGES >> 2];
  while (order < MAX_ORDER) {
    const buddy = pfn ^ (1 << order);
    if (buddy >= nr_pages) break;
    const bd = page_desc(buddy);
    if (mem32[bd + PG_FLAGS] !== PG_buddy || mem32[bd + PG_ORDER] !== order) break;
    list_del(buddy, order);
    mem32[bd + PG_FLAGS] = 0;
    pfn = Math.min(pfn, buddy);
    order++;
  }
  list_add(pfn, order);
  spin_unlock(zone_lock());
  this_cpu_inc(nr_free);
}

export interface PageStats {
  managed: number;
  free: number;
  in_use: number;
  peak: number;
}

export function page_stats(): PageStats {
  return {
    managed: mem32[z(Z_MANAGED)],
    free: mem32[z(Z_NR_FREE)],
    in_use: mem32[z(Z_IN_USE)],
    peak: mem32[z(Z_PEAK)],
  };
}

/* ------------------------------------------------------- ZONE_MOVABLE: user page frames */

// struct page of a user frame (descriptors in `frames`, FRAME_WORDS each)
export const F_FLAGS = 0;
export const F_REFCOUNT = 1; // page->_refcount
export const F_MAPCOUNT = 2; // page->_mapcount + 1: the PTEs that map it
export const F_MAPPING = 3; // page->mapping: the address_space of a page-cache page, 0 for anonymous
export const F_INDEX = 4; // page->index: the offset in pages within the file
const F_NEXT = 5; // free list link

export const PG_anon = 1 << 3;
export const PG_swapbacked = 1 << 4; // shmem

/** The shared zero page (mm/memory.c ZERO_PAGE(0), empty_zero_page): frame 0, reserved at boot. */
export const ZERO_PFN = 0;

// struct zone of ZONE_MOVABLE; frames above `next_unused` have never been handed out (like
// DEFERRED_STRUCT_PAGE_INIT, their descriptors are initialised on first use)
const MZ_LOCK = 0;
const MZ_FREE_HEAD = 2;
const MZ_NR_FREE = 3;
const MZ_NEXT_UNUSED = 4;
const MZ_IN_USE = 5;
const MZ_PEAK = 6;
const MZ_MANAGED = 7;
const movable_zone = define_global('zone_movable', 8 * 4);
const pgalloc_movable = define_counter('sim.vmstat.pgalloc_movable');

const mz = (field: number) => (movable_zone.addr >> 2) + field;

export function frame_desc(pfn: number): number {
  return pfn * FRAME_WORDS;
}

// mm/mm_init.c: ZONE_MOVABLE's frames to the allocator, the zero page kept out
export function movable_zone_init(): void {
  spin_lock_init(movable_zone.addr + MZ_LOCK * 4, 'zone_movable');
  const nr = mem32[H.NR_FRAMES >> 2];
  frames[frame_desc(ZERO_PFN) + F_FLAGS] = PG_reserved;
  frames[frame_desc(ZERO_PFN) + F_REFCOUNT] = 1;
  mem32[mz(MZ_FREE_HEAD)] = -1;
  mem32[mz(MZ_NEXT_UNUSED)] = ZERO_PFN + 1;
  mem32[mz(MZ_NR_FREE)] = nr - 1;
  mem32[mz(MZ_MANAGED)] = nr - 1;
}

// mm/page_alloc.c __alloc_pages(GFP_HIGHUSER_MOVABLE, 0): a frame with one reference, its old
// content still there (the caller zeroes or copies it), or -1 when the zone is exhausted
export function alloc_movable_page(): number {
  const lock = movable_zone.addr + MZ_LOCK * 4;
  spin_lock(lock);
  let pfn = mem32[mz(MZ_FREE_HEAD)];
  if (pfn >= 0) mem32[mz(MZ_FREE_HEAD)] = frames[frame_desc(pfn) + F_NEXT];
  else if (mem32[mz(MZ_NEXT_UNUSED)] < mem32[H.NR_FRAMES >> 2]) pfn = mem32[mz(MZ_NEXT_UNUSED)]++;
  else {
    spin_unlock(lock);
    return -1;
  }
  mem32[mz(MZ_NR_FREE)]--;
  const in_use = ++mem32[mz(MZ_IN_USE)];
  if (in_use > mem32[mz(MZ_PEAK)]) mem32[mz(MZ_PEAK)] = in_use;
  spin_unlock(lock);
  const d = frame_desc(pfn);
  frames[d + F_FLAGS] = 0;
  frames[d + F_REFCOUNT] = 1;
  frames[d + F_MAPCOUNT] = 0;
  frames[d + F_MAPPING] = 0;
  frames[d + F_INDEX] = 0;
  this_cpu_inc(pgalloc_movable);
  return pfn;
}

// mm/page_alloc.c free_unref_page: back on the free list
function free_movable_page(pfn: number): void {
  const lock = movable_zone.addr + MZ_LOCK * 4;
  spin_lock(lock);
  frames[frame_desc(pfn) + F_NEXT] = mem32[mz(MZ_FREE_HEAD)];
  mem32[mz(MZ_FREE_HEAD)] = pfn;
  mem32[mz(MZ_NR_FREE)]++;
  mem32[mz(MZ_IN_USE)]--;
  spin_unlock(lock);
  this_cpu_inc(pgfree);
}

// include/linux/mm.h get_page
export function get_page(pfn: number): void {
  Atomics.add(frames, frame_desc(pfn) + F_REFCOUNT, 1);
}

// include/linux/mm.h put_page: the last reference frees the frame (the zero page is never freed)
export function put_page(pfn: number): void {
  if (pfn === ZERO_PFN) return;
  if (Atomics.sub(frames, frame_desc(pfn) + F_REFCOUNT, 1) === 1) free_movable_page(pfn);
}

export function movable_stats(): PageStats {
  return { managed: mem32[mz(MZ_MANAGED)], free: mem32[mz(MZ_NR_FREE)], in_use: mem32[mz(MZ_IN_USE)], peak: mem32[mz(MZ_PEAK)] };
}
