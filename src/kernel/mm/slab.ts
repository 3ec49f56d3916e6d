// Object caches over the page allocator (mm/slab.c's per-CPU array_cache; 6.18's SLUB sheaves
// work the same way).
//
// Each CPU keeps an array of free objects: alloc pops, free pushes, no lock and no shared cache
// line. An empty array is refilled with a batch from the slabs on the cache's partial list, under
// the cache's spinlock; a full one flushes a batch back. The array's size follows SLAB's
// enable_cpucache (120 objects up to 256 bytes, 54 up to 1 KiB, 24 above), the batch is half of
// it. Free objects inside a slab are linked through their first word.

import { mem32, memset0, PAGE_SIZE } from '../../machine/memory.ts';
import { this_cpu_base } from '../../machine/cpu.ts';
import { define_counter, define_global, define_per_cpu, type Counter, type Global, type PerCpu } from '../../machine/symbols.ts';
import { read_counter, this_cpu_inc, this_cpu_add } from '../../machine/counters.ts';
import { spin_lock, spin_lock_init, spin_unlock } from '../locking/spinlock.ts';
import { PG_FLAGS, PG_FREELIST, PG_HEAD, PG_INUSE, PG_NEXT, PG_PREV, PG_SLAB_CACHE, PG_slab, addr_to_pfn, alloc_pages, free_pages, page_desc, pfn_to_addr } from './page_alloc.ts';

// struct kmem_cache (words)
const KC_LOCK = 0; // spinlock, 2 words
const KC_OBJ_SIZE = 2;
const KC_SIZE = 3; // object stride
const KC_PER_SLAB = 4;
const KC_ORDER = 5;
const KC_PARTIAL = 6; // head of the partial list (page frame number, -1 = empty)
const KC_NR_PARTIAL = 7;
const KC_NR_SLABS = 8;
const KC_CPU_OFF = 9; // per-CPU array offset
const KC_LIMIT = 10; // per-CPU array capacity
const KC_BATCH = 11; // objects moved per refill or flush
const KC_RECORD_BYTES = 64;

// per-CPU object array: count, pad, objects
const PC_COUNT = 0;
const PC_OBJS = 2;

/** Per-CPU array size for objects of `size` bytes (mm/slab.c enable_cpucache). */
export function cpu_cache_limit(size: number): number {
  return size > 1024 ? 24 : size > 256 ? 54 : 120;
}
/** Empty slabs kept on the partial list before further empty ones go back to the page allocator. */
const MIN_PARTIAL = 4;
const MIN_OBJECTS_PER_SLAB = 8;
const MAX_SLAB_ORDER = 3;

export class KmemCache {
  readonly rec: Global;
  readonly cpu: PerCpu;
  readonly c_alloc: Counter;
  readonly c_free: Counter;
  readonly c_alloc_bulk: Counter;
  readonly c_free_bulk: Counter;
  readonly c_refill: Counter;
  readonly c_flush: Counter;
  readonly c_new_slab: Counter;
  readonly c_discard_slab: Counter;

  constructor(readonly name: string, readonly object_size: number) {
    this.rec = define_global(`kmem_cache:${name}`, KC_RECORD_BYTES);
    this.cpu = define_per_cpu(`kmem_cache_cpu:${name}`, (PC_OBJS + cpu_cache_limit(object_size)) * 4);
    const c = (event: string) => define_counter(`sim.slab.${name}.${event}`);
    this.c_alloc = c('alloc');
    this.c_free = c('free');
    this.c_alloc_bulk = c('alloc_bulk_calls');
    this.c_free_bulk = c('free_bulk_calls');
    this.c_refill = c('refill');
    this.c_flush = c('flush');
    this.c_new_slab = c('new_slab');
    this.c_discard_slab = c('discard_slab');
  }
}

const caches: KmemCache[] = [];

/** A cache of fixed-size objects; created by kmem_cache_init at boot (mm/slab_common.c kmem_cache_create). */
export function define_kmem_cache(name: string, object_size: number): KmemCache {
  const s = new KmemCache(name, object_size);
  caches.push(s);
  return s;
}

// mm/slab_common.c kmem_cache_create, for every cache this kernel defines
export function kmem_cache_init(): void {
  for (const s of caches) {
    const k = s.rec.addr >> 2;
    const size = Math.ceil(s.object_size / 8) * 8;
    let order = 0;
    while (order < MAX_SLAB_ORDER && (PAGE_SIZE << order) / size < MIN_OBJECTS_PER_SLAB) order++;
    spin_lock_init(s.rec.addr + KC_LOCK * 4, 'kmem_cache_node');
    mem32[k + KC_OBJ_SIZE] = s.object_size;
    mem32[k + KC_SIZE] = size;
    mem32[k + KC_PER_SLAB] = Math.floor((PAGE_SIZE << order) / size);
    mem32[k + KC_ORDER] = order;
    mem32[k + KC_PARTIAL] = -1;
    mem32[k + KC_CPU_OFF] = s.cpu.off;
    mem32[k + KC_LIMIT] = cpu_cache_limit(s.object_size);
    mem32[k + KC_BATCH] = (cpu_cache_limit(s.object_size) + 1) >> 1;
  }
}

function partial_add(k: number, pfn: number): void {
  const d = page_desc(pfn);
  const head = mem32[k + KC_PARTIAL];
  mem32[d + PG_PREV] = -1;
  mem32[d + PG_NEXT] = head;
  if (head >= 0) mem32[page_desc(head) + PG_PREV] = pfn;
  mem32[k + KC_PARTIAL] = pfn;
  mem32[k + KC_NR_PARTIAL]++;
}

function partial_del(k: number, pfn: number): void {
  const d = page_desc(pfn);
  const next = mem32[d + PG_NEXT];
  const prev = mem32[d + PG_PREV];
  if (prev >= 0) mem32[page_desc(prev) + PG_NEXT] = next;
  else mem32[k + KC_PARTIAL] = next;
  if (next >= 0) mem32[page_desc(next) + PG_PREV] = prev;
  mem32[k + KC_NR_PARTIAL]--;
}

// mm/slub.c allocate_slab: a new slab with every object on its freelist, put on the partial list
function new_slab(s: KmemCache, k: number): boolean {
  const order = mem32[k + KC_ORDER];
  const addr = alloc_pages(order);
  if (addr === 0) return false;
  const head = addr_to_pfn(addr);
  for (let i = 0; i < 1 << order; i++) mem32[page_desc(head + i) + PG_HEAD] = head;
  const d = page_desc(head);
  mem32[d + PG_FLAGS] = PG_slab;
  mem32[d + PG_SLAB_CACHE] = s.rec.addr;
  mem32[d + PG_INUSE] = 0;
  const size = mem32[k + KC_SIZE];
  const n = mem32[k + KC_PER_SLAB];
  for (let i = 0; i < n; i++) mem32[(addr + i * size) >> 2] = i + 1 < n ? addr + (i + 1) * size : 0;
  mem32[d + PG_FREELIST] = addr;
  partial_add(k, head);
  mem32[k + KC_NR_SLABS]++;
  this_cpu_inc(s.c_new_slab);
  return true;
}

// mm/slub.c: move up to `want` objects from the partial slabs into the CPU array
function cache_refill(s: KmemCache, k: number, pc: number, want: number): void {
  this_cpu_inc(s.c_refill);
  spin_lock(s.rec.addr);
  let n = mem32[pc + PC_COUNT];
  while (want > 0) {
    let pfn = mem32[k + KC_PARTIAL];
    if (pfn < 0) {
      if (!new_slab(s, k)) break;
      pfn = mem32[k + KC_PARTIAL];
    }
    const d = page_desc(pfn);
    let obj = mem32[d + PG_FREELIST];
    while (obj !== 0 && want > 0) {
      mem32[pc + PC_OBJS + n++] = obj;
      obj = mem32[obj >> 2];
      mem32[d + PG_INUSE]++;
      want--;
    }
    mem32[d + PG_FREELIST] = obj;
    if (obj === 0) partial_del(k, pfn);
  }
  mem32[pc + PC_COUNT] = n;
  spin_unlock(s.rec.addr);
}

// mm/slub.c free_to_partial_list: one object back into its slab (cache lock held)
function free_to_slab(s: KmemCache, k: number, obj: number): void {
  const head = mem32[page_desc(addr_to_pfn(obj)) + PG_HEAD];
  const d = page_desc(head);
  const was_full = mem32[d + PG_FREELIST] === 0;
  mem32[obj >> 2] = mem32[d + PG_FREELIST];
  mem32[d + PG_FREELIST] = obj;
  const inuse = --mem32[d + PG_INUSE];
  if (was_full) partial_add(k, head);
  if (inuse === 0 && mem32[k + KC_NR_PARTIAL] > MIN_PARTIAL) {
    partial_del(k, head);
    mem32[d + PG_FLAGS] = 0;
    mem32[k + KC_NR_SLABS]--;
    free_pages(pfn_to_addr(head), mem32[k + KC_ORDER]);
    this_cpu_inc(s.c_discard_slab);
  }
}

// mm/slub.c: flush the oldest `count` objects of a full CPU array back to their slabs
function cache_flush(s: KmemCache, k: number, pc: number, count: number): void {
  this_cpu_inc(s.c_flush);
  spin_lock(s.rec.addr);
  for (let i = 0; i < count; i++) free_to_slab(s, k, mem32[pc + PC_OBJS + i]);
  spin_unlock(s.rec.addr);
  const n = mem32[pc + PC_COUNT];
  mem32.copyWithin(pc + PC_OBJS, pc + PC_OBJS + count, pc + PC_OBJS + n);
  mem32[pc + PC_COUNT] = n - count;
}

// mm/slub.c kmem_cache_alloc: an object, or 0 when memory is exhausted
export function kmem_cache_alloc(s: KmemCache): number {
  const k = s.rec.addr >> 2;
  const pc = (this_cpu_base >> 2) + (mem32[k + KC_CPU_OFF] >> 2);
  let n = mem32[pc + PC_COUNT];
  if (n === 0) {
    cache_refill(s, k, pc, mem32[k + KC_BATCH]);
    n = mem32[pc + PC_COUNT];
    if (n === 0) return 0;
  }
  mem32[pc + PC_COUNT] = --n;
  this_cpu_inc(s.c_alloc);
  return mem32[pc + PC_OBJS + n];
}

export function kmem_cache_zalloc(s: KmemCache): number {
  const obj = kmem_cache_alloc(s);
  if (obj !== 0) memset0(obj, s.object_size);
  return obj;
}

// mm/slub.c kmem_cache_free
export function kmem_cache_free(s: KmemCache, obj: number): void {
  const k = s.rec.addr >> 2;
  const pc = (this_cpu_base >> 2) + (mem32[k + KC_CPU_OFF] >> 2);
  let n = mem32[pc + PC_COUNT];
  if (n === mem32[k + KC_LIMIT]) {
    const batch = mem32[k + KC_BATCH];
    cache_flush(s, k, pc, batch);
    n -= batch;
  }
  mem32[pc + PC_OBJS + n] = obj;
  mem32[pc + PC_COUNT] = n + 1;
  this_cpu_inc(s.c_free);
}

// mm/slub.c kmem_cache_alloc_bulk: `count` objects into out[at..]; returns count, or 0 (and
// nothing allocated) when memory ran out
export function kmem_cache_alloc_bulk(s: KmemCache, count: number, out: Int32Array, at: number): number {
  this_cpu_inc(s.c_alloc_bulk);
  const k = s.rec.addr >> 2;
  const pc = (this_cpu_base >> 2) + (mem32[k + KC_CPU_OFF] >> 2);
  for (let i = 0; i < count; ) {
    let n = mem32[pc + PC_COUNT];
    if (n === 0) {
      cache_refill(s, k, pc, Math.min(mem32[k + KC_LIMIT], count - i));
      n = mem32[pc + PC_COUNT];
      if (n === 0) {
        this_cpu_add(s.c_alloc, i);
        kmem_cache_free_bulk(s, i, out, at);
        return 0;
      }
    }
    while (n > 0 && i < count) out[at + i++] = mem32[pc + PC_OBJS + --n];
    mem32[pc + PC_COUNT] = n;
  }
  this_cpu_add(s.c_alloc, count);
  return count;
}

// mm/slub.c kmem_cache_free_bulk
export function kmem_cache_free_bulk(s: KmemCache, count: number, objs: Int32Array, at: number): void {
  this_cpu_inc(s.c_free_bulk);
  for (let i = 0; i < count; i++) kmem_cache_free(s, objs[at + i]);
}

export interface SlabStats {
  /** Objects handed out and not yet freed, machine-wide. */
  active_objects: number;
  slabs: number;
  partial_slabs: number;
}

export function slab_stats(s: KmemCache): SlabStats {
  const k = s.rec.addr >> 2;
  return {
    active_objects: read_counter(s.c_alloc) - read_counter(s.c_free),
    slabs: mem32[k + KC_NR_SLABS],
    partial_slabs: mem32[k + KC_NR_PARTIAL],
  };
}
