// The buddy page allocator over the arena's page frames (mm/page_alloc.c), with exact accounting
// of pages in use and their peak. One zone, one lock.

import { H, PAGE_SHIFT, mem32 } from '../../machine/memory.ts';
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
