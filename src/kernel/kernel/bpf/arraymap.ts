// Array maps (kernel/bpf/arraymap.c, 5.11): ARRAY and PERCPU_ARRAY hold max_entries values of
// value_size bytes (8-byte aligned elements; a per-CPU array has a copy per possible CPU), and
// PERF_EVENT_ARRAY holds perf events by index (a slot per CPU, as perf stat -b fills it). A map is
// a record in the arena with its values in pages of its own.

import { mem32 } from '../../../machine/memory.ts';
import { smp_processor_id } from '../../../machine/cpu.ts';
import { nr_cpu_ids } from '../../../machine/percpu.ts';
import { memset0 } from '../../../machine/memory.ts';
import { define_global } from '../../../machine/symbols.ts';
import { define_kmem_cache, kmem_cache_free, kmem_cache_zalloc } from '../../mm/slab.ts';
import { alloc_pages, free_pages } from '../../mm/page_alloc.ts';
import { PAGE_SIZE } from '../../../machine/memory.ts';
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_OBJ_NAME_LEN } from '../../include/uapi/linux/bpf.ts';
import { put_string } from '../../../machine/memory.ts';
import { perf_event_map_put } from '../events/core.ts';
import { idr_alloc, idr_remove } from '../../lib/idr.ts';
import { E2BIG, EINVAL, ENOMEM } from '../../include/uapi/asm-generic/errno-base.ts';


// struct bpf_array: words
export const M_TYPE = 0;
export const M_KEY_SIZE = 1;
export const M_VALUE_SIZE = 2;
export const M_MAX_ENTRIES = 3;
export const M_ID = 4;
const M_DATA = 5;
const M_DATA_ORDER = 6;
const M_REFCNT = 7;
const M_ELEM_SIZE = 8;
const M_NAME = 48; // bytes
const BPF_MAP_SIZE = 64;
const map_cachep = define_kmem_cache('bpf_map', BPF_MAP_SIZE);

const MAP_IDR_MAX = 1024;
const map_idr = define_global('map_idr', (MAP_IDR_MAX + 1) * 4);

export function map_word(map: number, field: number): number {
  return mem32[(map >> 2) + field];
}

function order_for(bytes: number): number {
  let order = 0;
  while (PAGE_SIZE << order < bytes) order++;
  return order;
}

export interface MapAttr {
  map_type: number;
  key_size: number;
  value_size: number;
  max_entries: number;
  name?: string;
}

// kernel/bpf/arraymap.c array_map_alloc_check + array_map_alloc, kernel/bpf/syscall.c map_create:
// the map, or -errno
export function array_map_alloc(attr: MapAttr): number {
  const { map_type, key_size, value_size, max_entries } = attr;
  if (![BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERF_EVENT_ARRAY].includes(map_type)) return -EINVAL;
  if (max_entries === 0 || key_size !== 4 || value_size === 0) return -EINVAL;
  if (map_type === BPF_MAP_TYPE_PERF_EVENT_ARRAY && value_size !== 4) return -EINVAL;
  const elem = map_type === BPF_MAP_TYPE_PERF_EVENT_ARRAY ? 4 : (value_size + 7) & ~7;
  const copies = map_type === BPF_MAP_TYPE_PERCPU_ARRAY ? nr_cpu_ids() : 1;
  const bytes = elem * max_entries * copies;
  if (bytes > PAGE_SIZE << 10) return -E2BIG;
  const map = kmem_cache_zalloc(map_cachep);
  if (map === 0) return -ENOMEM;
  const order = order_for(bytes);
  const data = alloc_pages(order);
  if (data === 0) {
    kmem_cache_free(map_cachep, map);
    return -ENOMEM;
  }
  memset0(data, PAGE_SIZE << order);
  const m = map >> 2;
  mem32[m + M_TYPE] = map_type;
  mem32[m + M_KEY_SIZE] = key_size;
  mem32[m + M_VALUE_SIZE] = value_size;
  mem32[m + M_MAX_ENTRIES] = max_entries;
  mem32[m + M_DATA] = data;
  mem32[m + M_DATA_ORDER] = order;
  mem32[m + M_ELEM_SIZE] = elem;
  mem32[m + M_REFCNT] = 1;
  put_string(map + M_NAME, attr.name ?? '', BPF_OBJ_NAME_LEN - 1);
  const id = idr_alloc(map_idr.addr, MAP_IDR_MAX, map);
  if (id < 0) {
    bpf_map_put(map);
    return id;
  }
  mem32[m + M_ID] = id;
  return map;
}

export function bpf_map_inc(map: number): void {
  Atomics.add(mem32, (map >> 2) + M_REFCNT, 1);
}

// kernel/bpf/syscall.c bpf_map_put: the last reference frees the map and its id
export function bpf_map_put(map: number): void {
  if (Atomics.sub(mem32, (map >> 2) + M_REFCNT, 1) !== 1) return;
  const id = map_word(map, M_ID);
  if (id !== 0) idr_remove(map_idr.addr, id);
  if (map_word(map, M_TYPE) === BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
    // perf_event_fd_array_release: each held event is let go
    for (let i = 0; i < map_word(map, M_MAX_ENTRIES); i++) {
      const ev = mem32[perf_event_array_slot(map, i) >> 2];
      if (ev !== 0) perf_event_map_put(ev);
    }
  }
  free_pages(map_word(map, M_DATA), map_word(map, M_DATA_ORDER));
  kmem_cache_free(map_cachep, map);
}

// kernel/bpf/arraymap.c array_map_lookup_elem / percpu_array_map_lookup_elem (this CPU's copy):
// the value's address, or 0
export function array_map_lookup_elem(map: number, index: number): number {
  const m = map >> 2;
  if (index >>> 0 >= mem32[m + M_MAX_ENTRIES] >>> 0) return 0;
  const elem = mem32[m + M_ELEM_SIZE];
  if (mem32[m + M_TYPE] === BPF_MAP_TYPE_PERCPU_ARRAY) return mem32[m + M_DATA] + (smp_processor_id() * mem32[m + M_MAX_ENTRIES] + index) * elem;
  return mem32[m + M_DATA] + index * elem;
}

/** The address of CPU `cpu`'s copy of element `index` of a per-CPU array (what a syscall lookup copies out). */
export function percpu_array_elem(map: number, cpu: number, index: number): number {
  const m = map >> 2;
  return mem32[m + M_DATA] + (cpu * mem32[m + M_MAX_ENTRIES] + index) * mem32[m + M_ELEM_SIZE];
}

/** The element size of an array map (value_size rounded up to 8). */
export function array_elem_size(map: number): number {
  return map_word(map, M_ELEM_SIZE);
}

/** The address of slot `index` of a PERF_EVENT_ARRAY (it holds the event, or 0). */
export function perf_event_array_slot(map: number, index: number): number {
  return mem32[(map >> 2) + M_DATA] + index * 4;
}
