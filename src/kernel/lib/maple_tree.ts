// The maple tree (lib/maple_tree.c, as of Linux 6.7), over the arena.
//
// Nodes are 256-byte records from the `maple_node` slab cache. A leaf (maple_leaf_64) or
// internal node of a plain range tree (maple_range_64) has 16 slots and 15 pivots; an internal
// node of an allocation tree (maple_arange_64, the mm tree's) has 10 slots, 9 pivots and 10 gaps.
// Slot i covers [pivot[i-1] + 1, pivot[i]]; the last slot's upper bound is the node's max, taken
// from its parent. Indices and pivots are float64, exact for every user address; ULONG_MAX is
// 2^53 - 1. Entries are arena addresses (never with the low bits 0b10, which mark a node at the
// root, as Linux's xa_is_node).
//
// The code follows Linux function by function: the store is classified the same way (exact fit,
// append, slot store, node store, split with push left/right, rebalance, spanning store, root
// store), and RCU mode copies nodes and frees the old ones with call_rcu. The differences are of
// representation: a node's type, parent slot and metadata are header words instead of pointer
// tag bits, and an ma_state's preallocated nodes are an array instead of maple_alloc nodes.

import { mem32, memf64, memcpy, memset0 } from '../../machine/memory.ts';
import { define_counter, define_function, define_per_cpu } from '../../machine/symbols.ts';
import { this_cpu_base } from '../../machine/cpu.ts';
import { this_cpu_add, this_cpu_inc } from '../../machine/counters.ts';
import { define_kmem_cache, kmem_cache_alloc, kmem_cache_alloc_bulk, kmem_cache_free, kmem_cache_free_bulk } from '../mm/slab.ts';
import { call_rcu } from '../kernel/rcu.ts';
import { kconfig, knob_index } from '../config.ts';
import { ENOMEM, EBUSY, EINVAL } from '../include/uapi/asm-generic/errno-base.ts';

export const ULONG_MAX = Number.MAX_SAFE_INTEGER;

// enum maple_type
export const maple_dense = 0;
export const maple_leaf_64 = 1;
export const maple_range_64 = 2;
export const maple_arange_64 = 3;

export const MAPLE_NODE_SIZE = 256;
export const MAPLE_RANGE64_SLOTS = 16;
export const MAPLE_ARANGE64_SLOTS = 10;
export const MAPLE_NODE_SLOTS = 31;
const MAPLE_BIG_NODE_SLOTS = MAPLE_RANGE64_SLOTS * 2 + 2;
const MAPLE_BIG_NODE_GAPS = MAPLE_ARANGE64_SLOTS * 2 + 1;
const MAPLE_ALLOC_SLOTS = MAPLE_NODE_SLOTS - 1;

const mt_slots = [MAPLE_NODE_SLOTS, MAPLE_RANGE64_SLOTS, MAPLE_RANGE64_SLOTS, MAPLE_ARANGE64_SLOTS];
const mt_pivots = [0, MAPLE_RANGE64_SLOTS - 1, MAPLE_RANGE64_SLOTS - 1, MAPLE_ARANGE64_SLOTS - 1];
export const mt_min_slots = [MAPLE_NODE_SLOTS / 2, MAPLE_RANGE64_SLOTS / 2 - 2, MAPLE_RANGE64_SLOTS / 2 - 2, MAPLE_ARANGE64_SLOTS / 2 - 1];

// struct maple_node, as words (int32) and float64 indices from the node's address
const N_PARENT = 0; // parent node, or the tree for the root
const N_PSLOT = 1; // slot in the parent
const N_TYPE = 2;
const N_ROOT = 3; // 1 when the parent is the tree
const N_META_END = 4;
const N_META_GAP = 5;
const N_PIVOTS_F64 = 3; // pivots from byte 24
const N_GAPS_F64 = 12; // arange64 gaps from byte 96
const N_SLOTS_W = [36, 36, 36, 44]; // slots from byte 144 (range64/leaf64) or 176 (arange64)
const N_RCU_HEAD = 232; // byte offset of the rcu_head while the node waits to be freed

// struct maple_tree
const MT_ROOT = 0;
const MT_FLAGS = 1;
export const MAPLE_TREE_SIZE = 8;
export const MT_FLAGS_ALLOC_RANGE = 0x01;
export const MT_FLAGS_USE_RCU = 0x02;
const MT_FLAGS_HEIGHT_OFFSET = 2;
const MT_FLAGS_HEIGHT_MASK = 0x7c;
export const MAPLE_HEIGHT_MAX = 31;
/** mm trees: allocation ranges, RCU mode (include/linux/mm_types.h MM_MT_FLAGS). */
export const MM_MT_FLAGS = MT_FLAGS_ALLOC_RANGE | MT_FLAGS_USE_RCU;

// ma_state.mas_flags
export const MA_STATE_BULK = 1;
export const MA_STATE_REBALANCE = 2;
export const MA_STATE_PREALLOC = 4;

// ma_state.node when it is not a node
export const MAS_START = -1;
export const MAS_ROOT = -2;
export const MAS_NONE = -3;
export const MAS_OVERFLOW = -5;
export const MAS_UNDERFLOW = -6;
const MA_ERROR_BASE = -1000;

export const maple_node_cache = define_kmem_cache('maple_node', MAPLE_NODE_SIZE);

const c_store_exact = define_counter('sim.maple.store_exact');
const c_store_append = define_counter('sim.maple.store_append');
const c_store_slot = define_counter('sim.maple.store_slot');
const c_store_node = define_counter('sim.maple.store_node');
const c_store_bnode = define_counter('sim.maple.store_bnode');
const c_store_split = define_counter('sim.maple.store_split');
const c_store_spanning = define_counter('sim.maple.store_spanning');
const c_store_rebalance = define_counter('sim.maple.store_rebalance');
const c_store_root = define_counter('sim.maple.store_root');
const c_push_left = define_counter('sim.maple.push_left');
const c_push_right = define_counter('sim.maple.push_right');
const c_destroy_rebalance = define_counter('sim.maple.destroy_rebalance');
const c_prealloc_requested = define_counter('sim.maple.prealloc_requested');
const c_nodes_allocated = define_counter('sim.maple.nodes_allocated');
const c_nodes_freed_unused = define_counter('sim.maple.nodes_freed_unused');
const c_nodes_rcu_freed = define_counter('sim.maple.nodes_rcu_freed');
const c_nodes_freed = define_counter('sim.maple.nodes_freed');
const c_nodes_rcu_released = define_counter('sim.maple.nodes_rcu_released');

export class MapleTreeError extends Error {}

/* ---------------------------------------------------------------- node accessors */

function mte_node_type(node: number): number {
  return mem32[(node >> 2) + N_TYPE];
}

function ma_is_leaf(type: number): boolean {
  return type < maple_range_64;
}

function mte_is_leaf(node: number): boolean {
  return mte_node_type(node) < maple_range_64;
}

function mte_is_root(node: number): boolean {
  return mem32[(node >> 2) + N_ROOT] !== 0;
}

function mte_parent(node: number): number {
  return mem32[(node >> 2) + N_PARENT];
}

function mte_parent_slot(node: number): number {
  return mte_is_root(node) ? 0 : mem32[(node >> 2) + N_PSLOT];
}

function mte_set_node_dead(node: number): void {
  mem32[(node >> 2) + N_PARENT] = node;
  mem32[(node >> 2) + N_ROOT] = 0;
}

function ma_dead_node(node: number): boolean {
  return mem32[(node >> 2) + N_PARENT] === node;
}

// Pivots are read and written in place, as memf64[(node >> 3) + N_PIVOTS_F64 + i]: an accessor
// function that V8 declines to inline would box every pivot it returns into a new HeapNumber.

function slot_idx(node: number, type: number): number {
  return (node >> 2) + N_SLOTS_W[type];
}

function set_slot(node: number, i: number, v: number): void {
  mem32[slot_idx(node, mte_node_type(node)) + i] = v;
}

function gap(node: number, i: number): number {
  return memf64[(node >> 3) + N_GAPS_F64 + i];
}

// lib/maple_tree.c mte_set_gap: only allocation-range nodes keep gaps
function set_gap(node: number, i: number, v: number): void {
  if (mte_node_type(node) === maple_arange_64) memf64[(node >> 3) + N_GAPS_F64 + i] = v;
}

function ma_meta_end(node: number): number {
  return mem32[(node >> 2) + N_META_END];
}

function ma_meta_gap(node: number): number {
  return mem32[(node >> 2) + N_META_GAP];
}

// lib/maple_tree.c ma_set_meta
function ma_set_meta(node: number, offset: number, end: number): void {
  mem32[(node >> 2) + N_META_GAP] = offset;
  mem32[(node >> 2) + N_META_END] = end;
}

function ma_set_meta_gap(node: number, offset: number): void {
  mem32[(node >> 2) + N_META_GAP] = offset;
}

// lib/maple_tree.c mt_mk_node: a fresh node of `type`
function mt_mk_node(node: number, type: number): number {
  mem32[(node >> 2) + N_TYPE] = type;
  return node;
}

function set_parent_raw(node: number, parent: number, pslot: number): void {
  mem32[(node >> 2) + N_PARENT] = parent;
  mem32[(node >> 2) + N_PSLOT] = pslot;
  mem32[(node >> 2) + N_ROOT] = 0;
}

/** A new node takes over another's place under its parent (`new->parent = old->parent`). */
function copy_parent(dst: number, src: number): void {
  mem32[(dst >> 2) + N_PARENT] = mem32[(src >> 2) + N_PARENT];
  mem32[(dst >> 2) + N_PSLOT] = mem32[(src >> 2) + N_PSLOT];
  mem32[(dst >> 2) + N_ROOT] = mem32[(src >> 2) + N_ROOT];
}

function set_parent_tree(node: number, tree: number): void {
  mem32[(node >> 2) + N_PARENT] = tree;
  mem32[(node >> 2) + N_PSLOT] = 0;
  mem32[(node >> 2) + N_ROOT] = 1;
}

/* ---------------------------------------------------------------- the tree */

function xa_is_node(entry: number): boolean {
  return (entry & 3) === 2;
}

function mte_mk_root(node: number): number {
  return node | 2;
}

function mte_safe_root(entry: number): number {
  return entry & ~3;
}

// include/linux/maple_tree.h mt_init_flags
export function mt_init_flags(tree: number, flags: number): void {
  mem32[(tree >> 2) + MT_ROOT] = 0;
  mem32[(tree >> 2) + MT_FLAGS] = flags;
}

export function mt_height(tree: number): number {
  return (mem32[(tree >> 2) + MT_FLAGS] & MT_FLAGS_HEIGHT_MASK) >> MT_FLAGS_HEIGHT_OFFSET;
}

export function mt_in_rcu(tree: number): boolean {
  return (mem32[(tree >> 2) + MT_FLAGS] & MT_FLAGS_USE_RCU) !== 0;
}

function mt_is_alloc(tree: number): boolean {
  return (mem32[(tree >> 2) + MT_FLAGS] & MT_FLAGS_ALLOC_RANGE) !== 0;
}

// include/linux/maple_tree.h mt_set_in_rcu / mt_clear_in_rcu
export function mt_set_in_rcu(tree: number): void {
  mem32[(tree >> 2) + MT_FLAGS] |= MT_FLAGS_USE_RCU;
}

export function mt_clear_in_rcu(tree: number): void {
  mem32[(tree >> 2) + MT_FLAGS] &= ~MT_FLAGS_USE_RCU;
}

function mt_root(tree: number): number {
  return mem32[(tree >> 2) + MT_ROOT];
}

function set_mt_root(tree: number, v: number): void {
  mem32[(tree >> 2) + MT_ROOT] = v;
}

export function mtree_empty(tree: number): boolean {
  return mt_root(tree) === 0;
}

/** The root node of the tree, or 0 when the tree is empty or holds a single root entry. */
export function mt_root_node(tree: number): number {
  const r = mt_root(tree);
  return xa_is_node(r) ? mte_safe_root(r) : 0;
}

/* ---------------------------------------------------------------- ma_state */

/** struct ma_state: where an operation is in the tree. Lives on one CPU, like Linux's stack copy. */
export class MaState {
  tree = 0;
  index = 0;
  last = 0;
  node = MAS_START;
  min = 0;
  max = ULONG_MAX;
  offset = 0;
  depth = 0;
  mas_flags = 0;
  /** Preallocated nodes (Linux keeps them in maple_alloc nodes); LIFO. */
  alloc: Int32Array = EMPTY_ALLOC;
  nr_alloc = 0;
  alloc_req = 0;

  constructor(tree = 0, index = 0, last = index) {
    this.tree = tree;
    this.index = index;
    this.last = last;
  }

  /** Struct assignment (`*a = *b`) of the walk state; preallocated nodes stay where they are. */
  copy(o: MaState): this {
    this.tree = o.tree;
    this.index = o.index;
    this.last = o.last;
    this.node = o.node;
    this.min = o.min;
    this.max = o.max;
    this.offset = o.offset;
    this.depth = o.depth;
    this.mas_flags = o.mas_flags;
    return this;
  }
}
const EMPTY_ALLOC = new Int32Array(0);

// include/linux/maple_tree.h MA_STATE: a fresh walk state (on a reused object)
function ma_state_init(st: MaState, tree: number, index: number, last: number): MaState {
  st.tree = tree;
  st.index = index;
  st.last = last;
  st.node = MAS_START;
  st.min = 0;
  st.max = ULONG_MAX;
  st.offset = 0;
  st.depth = 0;
  st.mas_flags = 0;
  return st;
}

// include/linux/maple_tree.h mas_reset / mas_set_range
export function mas_reset(mas: MaState): void {
  mas.node = MAS_START;
}

export function mas_set_range(mas: MaState, start: number, last: number): void {
  mas.index = start;
  mas.last = last;
  mas.node = MAS_START;
}

export function mas_set(mas: MaState, index: number): void {
  mas_set_range(mas, index, index);
}

/** include/linux/maple_tree.h __mas_set_range: set the range, keep the walk position */
export function __mas_set_range(mas: MaState, start: number, last: number): void {
  mas.index = start;
  mas.last = last;
}

function mas_is_start(mas: MaState): boolean {
  return mas.node === MAS_START;
}

export function mas_is_none(mas: MaState): boolean {
  return mas.node === MAS_NONE;
}

function mas_is_ptr(mas: MaState): boolean {
  return mas.node === MAS_ROOT;
}

function mas_is_overflow(mas: MaState): boolean {
  return mas.node === MAS_OVERFLOW;
}

function mas_is_underflow(mas: MaState): boolean {
  return mas.node === MAS_UNDERFLOW;
}

export function mas_is_err(mas: MaState): boolean {
  return mas.node <= MA_ERROR_BASE;
}

/** The negative errno of a failed operation, 0 otherwise. */
export function mas_error(mas: MaState): number {
  return mas_is_err(mas) ? MA_ERROR_BASE - mas.node : 0;
}

function mas_set_err(mas: MaState, err: number): void {
  mas.node = MA_ERROR_BASE - err;
}

function mas_is_active(mas: MaState): boolean {
  return mas.node >= 0;
}

function mas_searchable(mas: MaState): boolean {
  return !mas_is_none(mas) && !mas_is_ptr(mas);
}

function mas_is_root_limits(mas: MaState): boolean {
  return mas.min === 0 && mas.max === ULONG_MAX;
}

function mas_mt_height(mas: MaState): number {
  return mt_height(mas.tree);
}

// lib/maple_tree.c mas_set_height
function mas_set_height(mas: MaState): void {
  if (mas.depth > MAPLE_HEIGHT_MAX) throw new MapleTreeError('maple tree too high');
  const f = mem32[(mas.tree >> 2) + MT_FLAGS] & ~MT_FLAGS_HEIGHT_MASK;
  mem32[(mas.tree >> 2) + MT_FLAGS] = f | (mas.depth << MT_FLAGS_HEIGHT_OFFSET);
}

/* ---------------------------------------------------------------- node allocation */

function mas_allocated(mas: MaState): number {
  return mas.nr_alloc;
}

function alloc_room(mas: MaState, n: number): void {
  if (mas.alloc.length >= mas.nr_alloc + n) return;
  const a = new Int32Array(Math.max(32, (mas.nr_alloc + n) * 2));
  a.set(mas.alloc.subarray(0, mas.nr_alloc));
  mas.alloc = a;
}

// lib/maple_tree.c mas_alloc_nodes: one kmem_cache_alloc for the head, bulk for the rest
function mas_alloc_nodes(mas: MaState): void {
  let requested = mas.alloc_req;
  if (!requested) return;
  mas.alloc_req = 0;
  if (mas.mas_flags & MA_STATE_PREALLOC && mas_allocated(mas)) return;
  alloc_room(mas, requested);
  let in_head = mas.nr_alloc % (MAPLE_ALLOC_SLOTS + 1);
  while (requested) {
    if (in_head === 0) {
      const head = kmem_cache_alloc(maple_node_cache);
      if (!head) return nomem(mas, requested);
      mas.alloc[mas.nr_alloc++] = head;
      this_cpu_inc(c_nodes_allocated);
      requested--;
      in_head = 1;
      continue;
    }
    const want = Math.min(requested, MAPLE_ALLOC_SLOTS + 1 - in_head);
    if (!kmem_cache_alloc_bulk(maple_node_cache, want, mas.alloc, mas.nr_alloc)) return nomem(mas, requested);
    mas.nr_alloc += want;
    this_cpu_add(c_nodes_allocated, want);
    requested -= want;
    in_head = (in_head + want) % (MAPLE_ALLOC_SLOTS + 1);
  }
}

function nomem(mas: MaState, requested: number): void {
  mas.alloc_req = requested;
  mas_set_err(mas, ENOMEM);
}

// lib/maple_tree.c mas_node_count_gfp: make sure `count` nodes are allocated
function mas_node_count(mas: MaState, count: number): void {
  const allocated = mas_allocated(mas);
  if (allocated < count) {
    mas.alloc_req = count - allocated;
    mas_alloc_nodes(mas);
  }
}

// lib/maple_tree.c mas_pop_node: a zeroed node from the preallocation
function mas_pop_node(mas: MaState): number {
  if (mas.nr_alloc === 0) throw new MapleTreeError('mas_pop_node: no node preallocated');
  const node = mas.alloc[--mas.nr_alloc];
  if (mas.alloc_req) mas.alloc_req++;
  memset0(node, MAPLE_NODE_SIZE);
  return node;
}

// lib/maple_tree.c mas_push_node: a node given back for reuse (not in RCU mode)
function mas_push_node(mas: MaState, node: number): void {
  alloc_room(mas, 1);
  mas.alloc[mas.nr_alloc++] = node;
  if (mas.alloc_req > 1) mas.alloc_req--;
}

// lib/maple_tree.c mt_free_rcu
const mt_free_rcu = define_function('mt_free_rcu', (head: number) => {
  this_cpu_inc(c_nodes_rcu_released);
  kmem_cache_free(maple_node_cache, head - N_RCU_HEAD);
});

// lib/maple_tree.c ma_free_rcu: free a replaced node once readers are done with it
function ma_free_rcu(node: number): void {
  this_cpu_inc(c_nodes_rcu_freed);
  call_rcu(node + N_RCU_HEAD, mt_free_rcu);
}

// lib/maple_tree.c mas_free
function mas_free(mas: MaState, node: number): void {
  if (mt_in_rcu(mas.tree)) ma_free_rcu(node);
  else mas_push_node(mas, node);
}

// lib/maple_tree.c mas_destroy: finish a bulk store, free the nodes that were not used
export function mas_destroy(mas: MaState): void {
  if (mas.mas_flags & MA_STATE_REBALANCE) {
    mas.node = MAS_START;
    mas_start(mas);
    mtree_range_walk(mas);
    const end = mas_data_end(mas) + 1;
    if (end < mt_min_slots[mte_node_type(mas.node)] - 1) mas_destroy_rebalance(mas, end);
    mas.mas_flags &= ~MA_STATE_REBALANCE;
  }
  mas.mas_flags &= ~(MA_STATE_BULK | MA_STATE_PREALLOC);
  // Linux frees each maple_alloc node's children in bulk, then the maple_alloc node itself.
  while (mas.nr_alloc) {
    const chunk = ((mas.nr_alloc - 1) % (MAPLE_ALLOC_SLOTS + 1)) + 1;
    const head = mas.nr_alloc - chunk;
    if (chunk > 1) kmem_cache_free_bulk(maple_node_cache, chunk - 1, mas.alloc, head + 1);
    kmem_cache_free(maple_node_cache, mas.alloc[head]);
    this_cpu_add(c_nodes_freed_unused, chunk);
    mas.nr_alloc = head;
  }
  mas.alloc_req = 0;
}

/* ---------------------------------------------------------------- walking */

// lib/maple_tree.c mas_start: begin a walk at the root
function mas_start(mas: MaState): number {
  if (!mas_is_start(mas)) return 0;
  mas.min = 0;
  mas.max = ULONG_MAX;
  mas.depth = 0;
  const root = mt_root(mas.tree);
  if (xa_is_node(root)) {
    mas.depth = 1;
    mas.node = mte_safe_root(root);
    mas.offset = 0;
    return 0;
  }
  if (!root) {
    mas.node = MAS_NONE;
    mas.offset = MAPLE_NODE_SLOTS;
    return 0;
  }
  mas.node = MAS_ROOT;
  mas.offset = MAPLE_NODE_SLOTS;
  if (mas.index > 0) return 0;
  return root;
}

// lib/maple_tree.c ma_data_end: the offset of the last slot in use
function ma_data_end(node: number, type: number, max: number): number {
  if (type === maple_arange_64) return ma_meta_end(node);
  const offset = mt_pivots[type] - 1;
  const p = memf64[(node >> 3) + N_PIVOTS_F64 + offset];
  if (!p) return ma_meta_end(node);
  if (p === max) return offset;
  return mt_pivots[type];
}

function mas_data_end(mas: MaState): number {
  return ma_data_end(mas.node, mte_node_type(mas.node), mas.max);
}

// lib/maple_tree.c mas_safe_pivot: the pivot, or the node's max past the last one
function mas_safe_pivot(mas: MaState, node: number, i: number, type: number): number {
  if (i >= mt_pivots[type]) return mas.max;
  return memf64[(node >> 3) + N_PIVOTS_F64 + i];
}

// lib/maple_tree.c mas_safe_min
function mas_safe_min(mas: MaState, node: number, offset: number): number {
  if (offset) return memf64[(node >> 3) + N_PIVOTS_F64 + (offset - 1)] + 1;
  return mas.min;
}

// lib/maple_tree.c mas_descend: into the child at mas.offset
function mas_descend(mas: MaState): void {
  const node = mas.node;
  const type = mte_node_type(node);
  if (mas.offset) mas.min = memf64[(node >> 3) + N_PIVOTS_F64 + (mas.offset - 1)] + 1;
  mas.max = mas_safe_pivot(mas, node, mas.offset, type);
  mas.node = mem32[slot_idx(node, type) + mas.offset];
}

// lib/maple_tree.c mas_ascend: to the parent, recomputing its limits
function mas_ascend(mas: MaState): number {
  const a_node = mas.node;
  if (mte_is_root(a_node)) {
    mas.offset = 0;
    return 0;
  }
  const p_node = mte_parent(a_node);
  if (p_node === a_node) return 1;
  mas.offset = mte_parent_slot(a_node);
  mas.node = p_node;
  if (mte_is_root(p_node)) {
    mas.max = ULONG_MAX;
    mas.min = 0;
    return 0;
  }
  let set_min = mas.min === 0;
  let set_max = mas.max === ULONG_MAX;
  let min = 0;
  let max = ULONG_MAX;
  let p = p_node;
  do {
    const a = mte_parent(p);
    const a_slot = mte_parent_slot(p);
    const a_type = mte_node_type(a);
    if (ma_dead_node(a)) return 1;
    if (!set_min && a_slot) {
      set_min = true;
      min = memf64[(a >> 3) + N_PIVOTS_F64 + (a_slot - 1)] + 1;
    }
    if (!set_max && a_slot < mt_pivots[a_type]) {
      set_max = true;
      max = memf64[(a >> 3) + N_PIVOTS_F64 + a_slot];
    }
    if (mte_is_root(a)) break;
    p = a;
  } while (!set_min || !set_max);
  mas.max = max;
  mas.min = min;
  return 0;
}

// lib/maple_tree.c mtree_range_walk: walk to the leaf holding mas.index
function mtree_range_walk(mas: MaState): number {
  let next = mas.node;
  let min = mas.min;
  let max = mas.max;
  let prev_min = min;
  let prev_max = max;
  let last = next;
  let offset = 0;
  let type: number;
  do {
    offset = 0;
    last = next;
    const node = next;
    type = mte_node_type(node);
    const end = ma_data_end(node, type, max);
    if (memf64[(node >> 3) + N_PIVOTS_F64 + 0] >= mas.index) {
      prev_max = max;
      prev_min = min;
      max = memf64[(node >> 3) + N_PIVOTS_F64 + 0];
    } else {
      do {
        offset++;
      } while (offset < end && memf64[(node >> 3) + N_PIVOTS_F64 + offset] < mas.index);
      prev_min = min;
      min = memf64[(node >> 3) + N_PIVOTS_F64 + (offset - 1)] + 1;
      prev_max = max;
      if (offset < end && memf64[(node >> 3) + N_PIVOTS_F64 + offset]) max = memf64[(node >> 3) + N_PIVOTS_F64 + offset];
    }
    next = mem32[slot_idx(node, type) + offset];
  } while (!ma_is_leaf(type));
  mas.offset = offset;
  mas.index = min;
  mas.last = max;
  mas.min = prev_min;
  mas.max = prev_max;
  mas.node = last;
  return next;
}

// lib/maple_tree.c mas_state_walk
function mas_state_walk(mas: MaState): number {
  const entry = mas_start(mas);
  if (mas_is_none(mas)) return 0;
  if (mas_is_ptr(mas)) return entry;
  return mtree_range_walk(mas);
}

// lib/maple_tree.c mas_walk: the entry at mas.index; mas.index..mas.last become its range
export function mas_walk(mas: MaState): number {
  if (!mas_is_active(mas) || !mas_is_start(mas)) mas.node = MAS_START;
  const entry = mas_state_walk(mas);
  if (mas_is_none(mas)) {
    mas.index = 0;
    mas.last = ULONG_MAX;
  } else if (mas_is_ptr(mas)) {
    if (!mas.index) {
      mas.last = 0;
      return entry;
    }
    mas.index = 1;
    mas.last = ULONG_MAX;
    mas.node = MAS_NONE;
    return 0;
  }
  return entry;
}

// lib/maple_tree.c mtree_load
const load_mas = new MaState();

export function mtree_load(tree: number, index: number): number {
  const mas = ma_state_init(load_mas, tree, index, index);
  const entry = mas_start(mas);
  if (mas_is_none(mas)) return 0;
  if (mas_is_ptr(mas)) return index ? 0 : entry;
  return mtree_range_walk(mas);
}

/* ---------------------------------------------------------------- gaps */

// lib/maple_tree.c mas_leaf_max_gap: the largest run of NULL in a leaf
function mas_leaf_max_gap(mas: MaState): number {
  const mn = mas.node;
  const type = mte_node_type(mn);
  const s = slot_idx(mn, type);
  let max_gap = 0;
  let i: number;
  if (!mem32[s]) {
    max_gap = memf64[(mn >> 3) + N_PIVOTS_F64 + 0] - mas.min + 1;
    i = 2;
  } else {
    i = 1;
  }
  const max_piv = ma_data_end(mn, type, mas.max) - 1;
  if (mas.max === ULONG_MAX && !mem32[s + max_piv + 1]) {
    const g = ULONG_MAX - memf64[(mn >> 3) + N_PIVOTS_F64 + max_piv];
    if (g > max_gap) max_gap = g;
  }
  for (; i <= max_piv; i++) {
    if (mem32[s + i]) continue;
    const g = memf64[(mn >> 3) + N_PIVOTS_F64 + i] - memf64[(mn >> 3) + N_PIVOTS_F64 + (i - 1)];
    if (g > max_gap) max_gap = g;
    i++;
  }
  return max_gap;
}

/** The offset of the largest gap ma_max_gap found (Linux returns it through a pointer). */
let max_gap_offset = 0;

// lib/maple_tree.c ma_max_gap: the node's largest gap, its offset in max_gap_offset
function ma_max_gap(node: number): number {
  let i = ma_meta_end(node);
  let offset = i;
  let max_gap = 0;
  do {
    if (gap(node, i) > max_gap) {
      max_gap = gap(node, i);
      offset = i;
    }
  } while (i--);
  max_gap_offset = offset;
  return max_gap;
}

// lib/maple_tree.c mas_max_gap
function mas_max_gap(mas: MaState): number {
  if (mte_is_leaf(mas.node)) return mas_leaf_max_gap(mas);
  return gap(mas.node, ma_meta_gap(mas.node));
}

// lib/maple_tree.c mas_parent_gap: propagate a child's new max gap up the tree
function mas_parent_gap(mas: MaState, offset: number, newgap: number): void {
  let pnode = mte_parent(mas.node);
  for (;;) {
    const meta_offset = ma_meta_gap(pnode);
    const meta_gap = gap(pnode, meta_offset);
    set_gap(pnode, offset, newgap);
    if (meta_gap === newgap) return;
    if (offset !== meta_offset) {
      if (meta_gap > newgap) return;
      ma_set_meta_gap(pnode, offset);
    } else if (newgap < meta_gap) {
      newgap = ma_max_gap(pnode);
      ma_set_meta_gap(pnode, max_gap_offset);
    }
    if (mte_is_root(pnode)) return;
    offset = mte_parent_slot(pnode);
    pnode = mte_parent(pnode);
  }
}

// lib/maple_tree.c mas_update_gap
function mas_update_gap(mas: MaState): void {
  if (!mt_is_alloc(mas.tree)) return;
  if (mte_is_root(mas.node)) return;
  const max_gap = mas_max_gap(mas);
  const pslot = mte_parent_slot(mas.node);
  if (gap(mte_parent(mas.node), pslot) !== max_gap) mas_parent_gap(mas, pslot, max_gap);
}

/* ---------------------------------------------------------------- replacing nodes */

// lib/maple_tree.c mas_set_parent
function mas_set_parent(child: number, parent: number, slot_no: number): void {
  set_parent_raw(child, parent, slot_no);
}

// lib/maple_tree.c mas_adopt_children: point every child of `parent` back at it
function mas_adopt_children(mas: MaState, parent: number): void {
  const type = mte_node_type(parent);
  const s = slot_idx(parent, type);
  let offset = ma_data_end(parent, type, mas.max);
  do {
    set_parent_raw(mem32[s + offset], parent, offset);
  } while (offset--);
}

// lib/maple_tree.c mas_put_in_tree: publish mas.node where old_node was
function mas_put_in_tree(mas: MaState, old_node: number): void {
  if (mte_is_root(mas.node)) {
    set_parent_tree(mas.node, mas.tree);
    set_mt_root(mas.tree, mte_mk_root(mas.node));
    mas_set_height(mas);
  } else {
    const offset = mte_parent_slot(mas.node);
    set_slot(mte_parent(mas.node), offset, mas.node);
  }
  mte_set_node_dead(old_node);
}

// lib/maple_tree.c mas_replace_node
function mas_replace_node(mas: MaState, old_node: number): void {
  mas_put_in_tree(mas, old_node);
  mas_free(mas, old_node);
}

/* ---------------------------------------------------------------- the big node */

/** struct maple_big_node: up to two nodes' worth of data, for splits and rebalances. */
class BigNode {
  readonly pivot = new Float64Array(MAPLE_BIG_NODE_SLOTS);
  readonly slot = new Int32Array(MAPLE_BIG_NODE_SLOTS);
  readonly gap = new Float64Array(MAPLE_BIG_NODE_SLOTS);
  b_end = 0;
  type = 0;

  clear(): void {
    this.pivot.fill(0);
    this.slot.fill(0);
    this.gap.fill(0);
    this.b_end = 0;
    this.type = 0;
  }
}
const big_node = new BigNode();
void MAPLE_BIG_NODE_GAPS;

// lib/maple_tree.c mab_shift_right
function mab_shift_right(b: BigNode, shift: number): void {
  const n = b.b_end;
  b.pivot.copyWithin(shift, 0, n);
  b.slot.copyWithin(shift, 0, n);
  if (b.type === maple_arange_64) b.gap.copyWithin(shift, 0, n);
}

// lib/maple_tree.c mab_middle_node: will the data need three nodes?
function mab_middle_node(b: BigNode, split: number, slot_count: number): boolean {
  const size = b.b_end;
  if (size >= 2 * slot_count) return true;
  if (!b.slot[split] && size >= 2 * slot_count - 1) return true;
  return false;
}

// lib/maple_tree.c mab_no_null_split: never end a node on a NULL
function mab_no_null_split(b: BigNode, split: number, slot_count: number): number {
  if (!b.slot[split]) {
    if (split < slot_count - 1 && b.b_end - split > mt_min_slots[b.type]) split++;
    else split--;
  }
  return split;
}

let mid_split_out = 0;

// lib/maple_tree.c mab_calc_split: where to split the big node (middle split in mid_split_out)
function mab_calc_split(mas: MaState, bn: BigNode, min: number): number {
  const b_end = bn.b_end;
  let split = Math.floor(b_end / 2);
  const slot_count = mt_slots[bn.type];
  if (mas.mas_flags & MA_STATE_BULK) {
    // Bulk stores are in ascending order: pack the left node, leave the minimum on the right.
    mid_split_out = 0;
    split = b_end - mt_min_slots[bn.type];
    if (!ma_is_leaf(bn.type)) return split;
    mas.mas_flags |= MA_STATE_REBALANCE;
    if (!bn.slot[split]) split--;
    return split;
  }
  if (mab_middle_node(bn, split, slot_count)) {
    split = Math.floor(b_end / 3);
    mid_split_out = split * 2;
  } else {
    const slot_min = mt_min_slots[bn.type];
    mid_split_out = 0;
    // Dense ranges: avoid a node whose pivots span fewer indices than it has slots. (Unsigned
    // in C: a pivot below min wraps to a huge span.)
    while (split < slot_count - 1 && bn.pivot[split] >= min && bn.pivot[split] - min < slot_count - 1 && b_end - split > slot_min) split++;
  }
  split = mab_no_null_split(bn, split, slot_count);
  if (mid_split_out) mid_split_out = mab_no_null_split(bn, mid_split_out, slot_count);
  return split;
}

// lib/maple_tree.c mas_mab_cp: copy slots mas_start..mas_end of mas.node into the big node
function mas_mab_cp(mas: MaState, mas_start: number, mas_end: number, b: BigNode, mab_start: number): void {
  const node = mas.node;
  const mt = mte_node_type(node);
  let i = mas_start;
  let j = mab_start;
  let complete = false;
  if (!i) {
    b.pivot[j] = memf64[(node >> 3) + N_PIVOTS_F64 + (i++)];
    if (i > mas_end) complete = true;
    else j++;
  }
  if (!complete) {
    const piv_end = Math.min(mas_end, mt_pivots[mt]);
    for (; i < piv_end; i++, j++) {
      b.pivot[j] = memf64[(node >> 3) + N_PIVOTS_F64 + i];
      if (!b.pivot[j]) break;
      if (mas.max === b.pivot[j]) {
        complete = true;
        break;
      }
    }
    if (!complete && i <= mas_end) b.pivot[j] = mas_safe_pivot(mas, node, i, mt);
  }
  b.b_end = ++j;
  j -= mab_start;
  const s = slot_idx(node, mt);
  for (let k = 0; k < j; k++) b.slot[mab_start + k] = mem32[s + mas_start + k];
  if (!ma_is_leaf(mt) && mt_is_alloc(mas.tree)) {
    for (let k = 0; k < j; k++) b.gap[mab_start + k] = gap(node, mas_start + k);
  }
}

// lib/maple_tree.c mas_leaf_set_meta
function mas_leaf_set_meta(mas: MaState, node: number, mt: number, end: number): void {
  if (mt_pivots[mt] <= end) return;
  const p = memf64[(node >> 3) + N_PIVOTS_F64 + end];
  if (p && p < mas.max) end++;
  if (end < mt_slots[mt] - 1) ma_set_meta(node, 0, end);
}

// lib/maple_tree.c mab_mas_cp: write big node slots mab_start..mab_end into mas.node
function mab_mas_cp(b: BigNode, mab_start: number, mab_end: number, mas: MaState, new_max: boolean): void {
  const node = mas.node;
  const mt = mte_node_type(node);
  const s = slot_idx(node, mt);
  if (mab_end - mab_start > mt_pivots[mt]) mab_end--;
  if (!memf64[(node >> 3) + N_PIVOTS_F64 + (mt_pivots[mt] - 1)]) mem32[s + mt_pivots[mt]] = 0;
  let i = mab_start;
  let j = 0;
  do {
    (memf64[(node >> 3) + N_PIVOTS_F64 + (j++)] = b.pivot[i++]);
  } while (i <= mab_end && b.pivot[i]);
  for (let k = 0; k < i - mab_start; k++) mem32[s + k] = b.slot[mab_start + k];
  if (new_max) mas.max = b.pivot[i - 1];
  const end = j - 1;
  if (!ma_is_leaf(mt) && mt_is_alloc(mas.tree)) {
    let max_gap = 0;
    let offset = 0;
    do {
      const g = b.gap[--i];
      set_gap(node, --j, g);
      if (g > max_gap) {
        offset = j;
        max_gap = g;
      }
    } while (j);
    ma_set_meta(node, offset, end);
  } else {
    mas_leaf_set_meta(mas, node, mt, end);
  }
}

// lib/maple_tree.c mas_bulk_rebalance: a bulk store may leave the last leaf short
function mas_bulk_rebalance(mas: MaState, end: number, mt: number): void {
  if (!(mas.mas_flags & MA_STATE_BULK)) return;
  if (mte_is_root(mas.node)) return;
  if (end > mt_min_slots[mt]) mas.mas_flags &= ~MA_STATE_REBALANCE;
}

/** struct ma_wr_state: the write's view of the leaf (or the node where a spanning write stopped). */
class MaWrState {
  mas: MaState;
  node = 0;
  r_min = 0;
  r_max = 0;
  type = 0;
  offset_end = 0;
  node_end = 0;
  end_piv = 0;
  content = 0;
  entry = 0;

  constructor(mas: MaState, entry: number) {
    this.mas = mas;
    this.entry = entry;
  }

  reset(mas: MaState, entry: number): this {
    this.mas = mas;
    this.entry = entry;
    this.node = this.r_min = this.r_max = this.type = this.offset_end = this.node_end = this.end_piv = this.content = 0;
    return this;
  }
}

// lib/maple_tree.c mas_store_b_node: the node's data with the new entry written in, into a big node
function mas_store_b_node(wr: MaWrState, b: BigNode, offset_end: number): void {
  const mas = wr.mas;
  b.type = wr.type;
  let b_end = 0;
  let slot_no = mas.offset;
  let p: number;
  if (slot_no) {
    mas_mab_cp(mas, 0, slot_no - 1, b, 0);
    b_end = b.b_end;
    p = b.pivot[b_end - 1];
  } else {
    p = mas.min - 1;
  }
  if (p + 1 < mas.index) {
    // Keep what was before the new range.
    b.slot[b_end] = wr.content;
    if (!wr.content) b.gap[b_end] = mas.index - 1 - p;
    b.pivot[b_end++] = mas.index - 1;
  }
  mas.offset = b_end;
  b.slot[b_end] = wr.entry;
  b.pivot[b_end] = mas.last;
  if (mas.last >= mas.max) {
    b.b_end = b_end;
    return;
  }
  p = mas_safe_pivot(mas, wr.node, offset_end, wr.type);
  if (p > mas.last) {
    // Keep what was after the new range in the last slot it overwrote.
    if (p === ULONG_MAX) mas_bulk_rebalance(mas, b.b_end, wr.type);
    if (offset_end !== slot_no) wr.content = mem32[slot_idx(wr.node, wr.type) + offset_end];
    b.slot[++b_end] = wr.content;
    if (!wr.content) b.gap[b_end] = p - mas.last + 1;
    b.pivot[b_end] = p;
  }
  slot_no = offset_end + 1;
  if (slot_no > wr.node_end) {
    b.b_end = b_end;
    return;
  }
  mas_mab_cp(mas, slot_no, wr.node_end + 1, b, ++b_end);
  b.b_end--;
}

// lib/maple_tree.c mas_prev_sibling
function mas_prev_sibling(mas: MaState): boolean {
  const p_slot = mte_parent_slot(mas.node);
  if (mte_is_root(mas.node)) return false;
  if (!p_slot) return false;
  mas_ascend(mas);
  mas.offset = p_slot - 1;
  mas_descend(mas);
  return true;
}

const sibling_tmp = new MaState();

// lib/maple_tree.c mas_next_sibling
function mas_next_sibling(mas: MaState): boolean {
  if (mte_is_root(mas.node)) return false;
  const parent = sibling_tmp.copy(mas);
  mas_ascend(parent);
  parent.offset = mte_parent_slot(mas.node) + 1;
  if (parent.offset > mas_data_end(parent)) return false;
  mas.copy(parent);
  mas_descend(mas);
  return true;
}

// lib/maple_tree.c mas_wr_node_walk: find the slot of mas.index in this node
function mas_wr_node_walk(wr: MaWrState): void {
  const mas = wr.mas;
  wr.node = mas.node;
  const count = (wr.node_end = ma_data_end(wr.node, wr.type, mas.max));
  let offset = mas.offset;
  while (offset < count && mas.index > memf64[(wr.node >> 3) + N_PIVOTS_F64 + offset]) offset++;
  wr.r_max = offset < count ? memf64[(wr.node >> 3) + N_PIVOTS_F64 + offset] : mas.max;
  wr.r_min = mas_safe_min(mas, wr.node, offset);
  wr.offset_end = mas.offset = offset;
}

/* ---------------------------------------------------------------- subtree state, rebalancing */

/** struct maple_subtree_state */
class Mast {
  orig_l!: MaState;
  orig_r!: MaState;
  l!: MaState;
  m!: MaState;
  r!: MaState;
  bn!: BigNode;
}

function mt_slot_count(node: number): number {
  return mt_slots[mte_node_type(node)];
}

// lib/maple_tree.c mast_rebalance_next: append the right sibling's data
function mast_rebalance_next(mast: Mast): void {
  const b_end = mast.bn.b_end;
  mas_mab_cp(mast.orig_r, 0, mt_slot_count(mast.orig_r.node), mast.bn, b_end);
  mast.orig_r.last = mast.orig_r.max;
}

// lib/maple_tree.c mast_rebalance_prev: prepend the left sibling's data
function mast_rebalance_prev(mast: Mast): void {
  const end = mas_data_end(mast.orig_l) + 1;
  const b_end = mast.bn.b_end;
  mab_shift_right(mast.bn, end);
  mas_mab_cp(mast.orig_l, 0, end - 1, mast.bn, 0);
  mast.l.min = mast.orig_l.min;
  mast.orig_l.index = mast.orig_l.min;
  mast.bn.b_end = end + b_end;
  mast.l.offset += end;
}

const span_r_tmp = new MaState();
const span_l_tmp = new MaState();

// lib/maple_tree.c mast_spanning_rebalance: pull in the next (or else previous) node at this level
function mast_spanning_rebalance(mast: Mast): boolean {
  const r_tmp = span_r_tmp.copy(mast.orig_r);
  const l_tmp = span_l_tmp.copy(mast.orig_l);
  let depth = 0;
  do {
    mas_ascend(mast.orig_r);
    mas_ascend(mast.orig_l);
    depth++;
    if (mast.orig_r.offset < mas_data_end(mast.orig_r)) {
      mast.orig_r.offset++;
      do {
        mas_descend(mast.orig_r);
        mast.orig_r.offset = 0;
      } while (--depth);
      mast_rebalance_next(mast);
      mast.orig_l.copy(l_tmp);
      return true;
    } else if (mast.orig_l.offset !== 0) {
      mast.orig_l.offset--;
      do {
        mas_descend(mast.orig_l);
        mast.orig_l.offset = mas_data_end(mast.orig_l);
      } while (--depth);
      mast_rebalance_prev(mast);
      mast.orig_r.copy(r_tmp);
      return true;
    }
  } while (!mte_is_root(mast.orig_r.node));
  mast.orig_r.copy(r_tmp);
  mast.orig_l.copy(l_tmp);
  return false;
}

const ascend_wr = new MaWrState(new MaState(), 0);

// lib/maple_tree.c mast_ascend: move the original left and right states up a level
function mast_ascend(mast: Mast): void {
  mas_ascend(mast.orig_l);
  mas_ascend(mast.orig_r);
  mast.orig_r.offset = 0;
  mast.orig_r.index = mast.r.max;
  if (mast.orig_r.last < mast.orig_r.index) mast.orig_r.last = mast.orig_r.index;
  const wr = ascend_wr.reset(mast.orig_r, 0);
  wr.type = mte_node_type(mast.orig_r.node);
  mas_wr_node_walk(wr);
  mast.orig_l.offset = 0;
  mast.orig_l.index = mast.l.min;
  wr.mas = mast.orig_l;
  wr.type = mte_node_type(mast.orig_l.node);
  mas_wr_node_walk(wr);
  mast.bn.type = wr.type;
}

// lib/maple_tree.c mas_new_ma_node
function mas_new_ma_node(mas: MaState, b: BigNode): number {
  return mt_mk_node(mas_pop_node(mas), b.type);
}

/** Outputs of mas_mab_to_node. */
const split_nodes = { left: 0, right: 0, middle: 0, mid_split: 0 };

// lib/maple_tree.c mas_mab_to_node: new nodes for the big node's data, and where it splits
function mas_mab_to_node(mas: MaState, b: BigNode, min: number): number {
  let split = 0;
  const slot_count = mt_slots[b.type];
  split_nodes.left = mas_new_ma_node(mas, b);
  split_nodes.right = 0;
  split_nodes.middle = 0;
  split_nodes.mid_split = 0;
  mid_split_out = 0;
  if (b.b_end < slot_count) {
    split = b.b_end;
  } else {
    split = mab_calc_split(mas, b, min);
    split_nodes.mid_split = mid_split_out;
    split_nodes.right = mas_new_ma_node(mas, b);
  }
  if (split_nodes.mid_split) split_nodes.middle = mas_new_ma_node(mas, b);
  return split;
}

// lib/maple_tree.c mab_set_b_end: append a new child node to the big node
function mab_set_b_end(b: BigNode, mas: MaState, entry: number): void {
  if (!entry) return;
  b.slot[b.b_end] = entry;
  if (mt_is_alloc(mas.tree)) b.gap[b.b_end] = mas_max_gap(mas);
  b.pivot[b.b_end++] = mas.max;
}

/** The parent slot mas_set_split_parent hands out next (Linux passes it by pointer). */
let split_slot = 0;

// lib/maple_tree.c mas_set_split_parent
function mas_set_split_parent(mas: MaState, left: number, right: number, split: number): void {
  if (mas_is_none(mas)) return;
  if (split_slot <= split) mas_set_parent(mas.node, left, split_slot);
  else if (right) mas_set_parent(mas.node, right, split_slot - split - 1);
  split_slot++;
}

let msp_l = 0;
let msp_r = 0;
let msp_split = 0;

// lib/maple_tree.c mte_mid_split_check: past the middle split, the middle node is the left one
function mte_mid_split_check(right: number, mid_split: number): void {
  if (msp_r === right) return;
  if (split_slot < mid_split) return;
  msp_l = msp_r;
  msp_r = right;
  msp_split = mid_split;
}

// lib/maple_tree.c mast_set_split_parents: point the new children at their new parents
function mast_set_split_parents(mast: Mast, left: number, middle: number, right: number, split: number, mid_split: number): void {
  if (mas_is_none(mast.l)) return;
  msp_l = left;
  msp_r = middle ? middle : right;
  msp_split = split;
  split_slot = mast.l.offset;
  mte_mid_split_check(right, mid_split);
  mas_set_split_parent(mast.l, msp_l, msp_r, msp_split);
  mte_mid_split_check(right, mid_split);
  mas_set_split_parent(mast.m, msp_l, msp_r, msp_split);
  mte_mid_split_check(right, mid_split);
  mas_set_split_parent(mast.r, msp_l, msp_r, msp_split);
}

/** A node count for a dead subtree's walk (its max is no longer known). */
function dead_node_end(node: number, type: number): number {
  if (type === maple_arange_64 || !memf64[(node >> 3) + N_PIVOTS_F64 + (mt_pivots[type] - 1)]) return ma_meta_end(node);
  return mem32[slot_idx(node, type) + mt_pivots[type]] ? mt_pivots[type] : mt_pivots[type] - 1;
}

/** Every node of the subtree under `node`, parents before children. */
function subtree_nodes(node: number, out: number[]): void {
  out.push(node);
  const type = mte_node_type(node);
  if (ma_is_leaf(type)) return;
  const s = slot_idx(node, type);
  const end = dead_node_end(node, type);
  for (let i = 0; i <= end; i++) if (mem32[s + i]) subtree_nodes(mem32[s + i], out);
}

const free_walk_scratch: number[] = [];
const free_walk_array = new Int32Array(MAPLE_NODE_SLOTS);

// lib/maple_tree.c mt_free_walk: the RCU callback freeing a dead subtree
const mt_free_walk = define_function('mt_free_walk', (head: number) => {
  const nodes = free_walk_scratch;
  nodes.length = 0;
  subtree_nodes(head - N_RCU_HEAD, nodes);
  this_cpu_add(c_nodes_rcu_released, nodes.length);
  for (let i = 0; i < nodes.length; i += MAPLE_NODE_SLOTS) {
    const n = Math.min(MAPLE_NODE_SLOTS, nodes.length - i);
    for (let k = 0; k < n; k++) free_walk_array[k] = nodes[i + k];
    kmem_cache_free_bulk(maple_node_cache, n, free_walk_array, 0);
  }
});

const destroy_scratch: number[] = [];

// lib/maple_tree.c mte_destroy_walk: free a subtree, after a grace period in RCU mode
function mte_destroy_walk(node: number, tree: number): void {
  const nodes = destroy_scratch;
  nodes.length = 0;
  subtree_nodes(node, nodes);
  for (const n of nodes) mte_set_node_dead(n);
  if (mt_in_rcu(tree)) {
    this_cpu_add(c_nodes_rcu_freed, nodes.length);
    call_rcu(node + N_RCU_HEAD, mt_free_walk);
  } else {
    this_cpu_add(c_nodes_freed, nodes.length);
    for (const n of nodes) kmem_cache_free(maple_node_cache, n);
  }
}

// lib/maple_tree.c mas_topiary_node: free one replaced node
function mas_topiary_node(mas: MaState, node: number, in_rcu: boolean): void {
  if (node < 0) return;
  mte_set_node_dead(node);
  if (in_rcu) ma_free_rcu(node);
  else mas_push_node(mas, node);
}

const topi = [new MaState(), new MaState(), new MaState()];
const topi_next = [new MaState(), new MaState(), new MaState()];

// lib/maple_tree.c mas_find_child: the next child of mas.node that points back at it
function mas_find_child(mas: MaState, child: MaState): boolean {
  const node = mas.node;
  const mt = mte_node_type(node);
  const s = slot_idx(node, mt);
  const end = ma_data_end(node, mt, mas.max);
  for (let offset = mas.offset; offset <= end; offset++) {
    const entry = mem32[s + offset];
    if (mte_parent(entry) === node) {
      child.copy(mas);
      mas.offset = offset + 1;
      child.offset = offset;
      mas_descend(child);
      child.offset = 0;
      return true;
    }
  }
  return false;
}

const dead_scratch: number[] = [];

// lib/maple_tree.c mas_topiary_replace: put a new subtree in place of old_node, free what it replaced
function mas_topiary_replace(mas: MaState, old_node: number): void {
  mas_put_in_tree(mas, old_node);
  // Adopt the children of the new nodes, level by level.
  const tmp = topi;
  const next = topi_next;
  tmp[0].copy(mas);
  tmp[0].offset = 0;
  tmp[1].node = MAS_NONE;
  tmp[2].node = MAS_NONE;
  while (!mte_is_leaf(tmp[0].node)) {
    let n = 0;
    for (let i = 0; i < 3; i++) {
      if (mas_is_none(tmp[i])) continue;
      while (n < 3) {
        if (!mas_find_child(tmp[i], next[n])) break;
        n++;
      }
      mas_adopt_children(tmp[i], tmp[i].node);
    }
    if (n === 0) throw new MapleTreeError('mas_topiary_replace: new subtree without children');
    while (n < 3) next[n++].node = MAS_NONE;
    for (let i = 0; i < 3; i++) tmp[i].copy(next[i]);
  }
  if (mte_is_leaf(old_node)) {
    mas_free(mas, old_node);
    return;
  }
  // Free the old nodes the new subtree replaced; whole subtrees inside the range go at once.
  const in_rcu = mt_in_rcu(mas.tree);
  const dead_subtrees = dead_scratch;
  dead_subtrees.length = 0;
  tmp[0].copy(mas);
  tmp[0].offset = 0;
  tmp[0].node = old_node;
  tmp[1].node = MAS_NONE;
  tmp[2].node = MAS_NONE;
  do {
    let n = 0;
    for (let i = 0; i < 3; i++) {
      if (mas_is_none(tmp[i])) continue;
      while (n < 3) {
        if (!mas_find_child(tmp[i], next[n])) break;
        if (next[n].min >= next[0].index && next[n].max <= next[0].last) {
          dead_subtrees.push(next[n].node);
          next[n].node = MAS_NONE;
        } else {
          n++;
        }
      }
    }
    if (n === 0) break;
    while (n < 3) next[n++].node = MAS_NONE;
    for (let i = 0; i < 3; i++) {
      mas_topiary_node(mas, tmp[i].node, in_rcu);
      tmp[i].copy(next[i]);
    }
  } while (!mte_is_leaf(tmp[0].node));
  for (let i = 0; i < 3; i++) mas_topiary_node(mas, tmp[i].node, in_rcu);
  for (const d of dead_subtrees) mte_destroy_walk(d, mas.tree);
}

// lib/maple_tree.c mas_wmb_replace
function mas_wmb_replace(mas: MaState, old_node: number): void {
  mas_topiary_replace(mas, old_node);
  if (mte_is_leaf(mas.node)) return;
  mas_update_gap(mas);
}

// lib/maple_tree.c mast_cp_to_nodes: fill the new left/middle/right nodes from the big node
function mast_cp_to_nodes(mast: Mast, left: number, middle: number, right: number, split: number, mid_split: number): void {
  let new_lmax = true;
  mast.l.node = left || MAS_NONE;
  mast.m.node = middle || MAS_NONE;
  mast.r.node = right || MAS_NONE;
  mast.l.min = mast.orig_l.min;
  if (split === mast.bn.b_end) {
    mast.l.max = mast.orig_r.max;
    new_lmax = false;
  }
  mab_mas_cp(mast.bn, 0, split, mast.l, new_lmax);
  if (middle) {
    mab_mas_cp(mast.bn, 1 + split, mid_split, mast.m, true);
    mast.m.min = mast.bn.pivot[split] + 1;
    split = mid_split;
  }
  mast.r.max = mast.orig_r.max;
  if (right) {
    mab_mas_cp(mast.bn, 1 + split, mast.bn.b_end, mast.r, false);
    mast.r.min = mast.bn.pivot[split] + 1;
  }
}

// lib/maple_tree.c mast_combine_cp_left
function mast_combine_cp_left(mast: Mast): void {
  const l_slot = mast.orig_l.offset;
  if (!l_slot) return;
  mas_mab_cp(mast.orig_l, 0, l_slot - 1, mast.bn, 0);
}

// lib/maple_tree.c mast_combine_cp_right
function mast_combine_cp_right(mast: Mast): void {
  if (mast.bn.pivot[mast.bn.b_end - 1] >= mast.orig_r.max) return;
  mas_mab_cp(mast.orig_r, mast.orig_r.offset + 1, mt_slot_count(mast.orig_r.node), mast.bn, mast.bn.b_end);
  mast.orig_r.last = mast.orig_r.max;
}

function mast_sufficient(mast: Mast): boolean {
  return mast.bn.b_end > mt_min_slots[mte_node_type(mast.orig_l.node)];
}

function mast_overflow(mast: Mast): boolean {
  return mast.bn.b_end >= mt_slot_count(mast.orig_l.node);
}

const sr_l = new MaState();
const sr_m = new MaState();
const sr_r = new MaState();

// lib/maple_tree.c mas_spanning_rebalance: rebuild the tree from the big node upward
function mas_spanning_rebalance(mas: MaState, mast: Mast, count: number): number {
  let slot_no = 0;
  let left = 0;
  let middle = 0;
  let right = 0;
  const l_mas = ma_state_init(sr_l, mas.tree, mas.index, mas.index);
  const m_mas = ma_state_init(sr_m, mas.tree, mas.index, mas.index);
  const r_mas = ma_state_init(sr_r, mas.tree, mas.index, mas.last);
  mast.l = l_mas;
  mast.m = m_mas;
  mast.r = r_mas;
  l_mas.node = r_mas.node = m_mas.node = MAS_NONE;
  // Too little data for one node unless this is the whole tree: pull in a sibling.
  if ((mast.orig_l.min !== 0 || mast.orig_r.max !== ULONG_MAX) && mast.bn.b_end <= mt_min_slots[mast.bn.type]) {
    mast_spanning_rebalance(mast);
  }
  l_mas.depth = 0;
  let new_root = false;
  while (count--) {
    mast.bn.b_end--;
    mast.bn.type = mte_node_type(mast.orig_l.node);
    const split = mas_mab_to_node(mas, mast.bn, mast.orig_l.min);
    left = split_nodes.left;
    middle = split_nodes.middle;
    right = split_nodes.right;
    const mid_split = split_nodes.mid_split;
    mast_set_split_parents(mast, left, middle, right, split, mid_split);
    mast_cp_to_nodes(mast, left, middle, right, split, mid_split);
    mast.bn.clear();
    mast.bn.type = mte_node_type(left);
    l_mas.depth++;
    if (mas_is_root_limits(mast.l)) {
      new_root = true;
      break;
    }
    mast_ascend(mast);
    mast_combine_cp_left(mast);
    l_mas.offset = mast.bn.b_end;
    mab_set_b_end(mast.bn, l_mas, left);
    mab_set_b_end(mast.bn, m_mas, middle);
    mab_set_b_end(mast.bn, r_mas, right);
    mast_combine_cp_right(mast);
    mast.orig_l.last = mast.orig_l.max;
    if (mast_sufficient(mast)) continue;
    if (mast_overflow(mast)) continue;
    if (mas_is_root_limits(mast.orig_l)) break;
    mast_spanning_rebalance(mast);
    if (!count) count++;
  }
  if (!new_root) {
    l_mas.node = mt_mk_node(mas_pop_node(mas), mte_node_type(mast.orig_l.node));
    l_mas.depth++;
    mab_mas_cp(mast.bn, 0, mt_slots[mast.bn.type] - 1, l_mas, true);
    mas_set_parent(left, l_mas.node, slot_no);
    if (middle) mas_set_parent(middle, l_mas.node, ++slot_no);
    if (right) mas_set_parent(right, l_mas.node, ++slot_no);
  }
  if (new_root || mas_is_root_limits(mast.l)) {
    set_parent_tree(mast.l.node, mas.tree);
    while (!mte_is_root(mast.orig_l.node)) mast_ascend(mast);
  } else {
    copy_parent(l_mas.node, mast.orig_l.node);
  }
  const old = mast.orig_l.node;
  mas.depth = l_mas.depth;
  mas.node = l_mas.node;
  mas.min = l_mas.min;
  mas.max = l_mas.max;
  mas.offset = l_mas.offset;
  mas_wmb_replace(mas, old);
  mtree_range_walk(mas);
  return mast.bn.b_end;
}

const rb_l = new MaState();
const rb_r = new MaState();
const rb_mast = new Mast();

// lib/maple_tree.c mas_rebalance: a node fell below its minimum; combine it with a sibling
function mas_rebalance(mas: MaState, b: BigNode): number {
  const empty_count = mas_mt_height(mas);
  const b_end = ++b.b_end;
  mas_node_count(mas, empty_count * 2 - 1);
  if (mas_is_err(mas)) return 0;
  this_cpu_inc(c_store_rebalance);
  const mast = rb_mast;
  const l_mas = rb_l.copy(mas);
  const r_mas = rb_r.copy(mas);
  mast.orig_l = l_mas;
  mast.orig_r = r_mas;
  mast.bn = b;
  mast.bn.type = mte_node_type(mas.node);
  if (mas_next_sibling(r_mas)) {
    mas_mab_cp(r_mas, 0, mt_slot_count(r_mas.node), b, b_end);
    r_mas.last = r_mas.index = r_mas.max;
  } else {
    mas_prev_sibling(l_mas);
    const shift = mas_data_end(l_mas) + 1;
    mab_shift_right(b, shift);
    mas.offset += shift;
    mas_mab_cp(l_mas, 0, shift - 1, b, 0);
    b.b_end = shift + b_end;
    l_mas.index = l_mas.last = l_mas.min;
  }
  return mas_spanning_rebalance(mas, mast, empty_count);
}

const dr_l = new MaState();

// lib/maple_tree.c mas_destroy_rebalance: after a bulk store, refill a short last leaf from its
// left sibling. Bulk stores only happen with RCU mode off (dup_mmap clears it), which is the only
// case Linux 6.7 handles correctly; the RCU branch is refused here rather than copied.
function mas_destroy_rebalance(mas: MaState, end: number): void {
  if (mt_in_rcu(mas.tree)) throw new MapleTreeError('mas_destroy_rebalance: bulk store into an RCU tree');
  this_cpu_inc(c_destroy_rebalance);
  const mt = mte_node_type(mas.node);
  const max_p = mt_pivots[mt];
  const max_s = mt_slots[mt];
  let split = mt_slots[mt] / 2;
  const l_mas = dr_l.copy(mas);
  mas_prev_sibling(l_mas);
  const node = mas.node;
  const left = l_mas.node;
  const ls = slot_idx(left, mt);
  const ns = slot_idx(node, mt);
  if (!mem32[ls + split]) split++;
  const l_end = mas_data_end(l_mas);
  const moved = l_end - split;
  // Make room at the front of this node, then move the left sibling's upper part in.
  for (let i = end - 1; i >= 0; i--) {
    mem32[ns + moved + i] = mem32[ns + i];
    if (moved + i < max_p) (memf64[(node >> 3) + N_PIVOTS_F64 + (moved + i)] = i < max_p ? memf64[(node >> 3) + N_PIVOTS_F64 + i] : mas.max);
  }
  for (let i = 0; i < moved; i++) {
    const from = split + 1 + i;
    mem32[ns + i] = mem32[ls + from];
    (memf64[(node >> 3) + N_PIVOTS_F64 + i] = from < max_p ? memf64[(left >> 3) + N_PIVOTS_F64 + from] : l_mas.max);
  }
  const total = moved + end;
  for (let i = total; i < max_p; i++) (memf64[(node >> 3) + N_PIVOTS_F64 + i] = 0);
  for (let i = total; i < max_s; i++) mem32[ns + i] = 0;
  ma_set_meta(node, 0, total - 1);
  l_mas.max = memf64[(left >> 3) + N_PIVOTS_F64 + split];
  mas.min = l_mas.max + 1;
  const eparent = mte_parent(left);
  (memf64[(eparent >> 3) + N_PIVOTS_F64 + (mte_parent_slot(left))] = l_mas.max);
  for (let i = split + 1; i < max_p; i++) (memf64[(left >> 3) + N_PIVOTS_F64 + i] = 0);
  for (let i = split + 1; i < max_s; i++) mem32[ls + i] = 0;
  ma_set_meta(left, 0, split);
  set_gap(eparent, mte_parent_slot(node), mas_leaf_max_gap(mas));
  set_gap(eparent, mte_parent_slot(left), mas_leaf_max_gap(l_mas));
  mas_ascend(mas);
  mas_update_gap(mas);
}

/* ---------------------------------------------------------------- split */

// lib/maple_tree.c mas_split_final_node: the parent of the split pair
function mas_split_final_node(mast: Mast, mas: MaState, height: number): boolean {
  if (mte_is_root(mas.node)) {
    mast.bn.type = mt_is_alloc(mas.tree) ? maple_arange_64 : maple_range_64;
    mas.depth = height;
  }
  const ancestor = mas_new_ma_node(mas, mast.bn);
  mas_set_parent(mast.l.node, ancestor, mast.l.offset);
  mas_set_parent(mast.r.node, ancestor, mast.r.offset);
  copy_parent(ancestor, mas.node);
  mast.l.node = ancestor;
  mab_mas_cp(mast.bn, 0, mt_slots[mast.bn.type] - 1, mast.l, true);
  mas.offset = mast.bn.b_end - 1;
  return true;
}

// lib/maple_tree.c mast_fill_bnode: the parent's data with the two new children in it
function mast_fill_bnode(mast: Mast, mas: MaState, skip: number): void {
  let cp = true;
  mast.bn.clear();
  if (mte_is_root(mas.node)) {
    cp = false;
  } else {
    mas_ascend(mas);
    mas.offset = mte_parent_slot(mas.node);
  }
  if (cp && mast.l.offset) mas_mab_cp(mas, 0, mast.l.offset - 1, mast.bn, 0);
  const split = mast.bn.b_end;
  mab_set_b_end(mast.bn, mast.l, mast.l.node);
  mast.r.offset = mast.bn.b_end;
  mab_set_b_end(mast.bn, mast.r, mast.r.node);
  if (mast.bn.pivot[mast.bn.b_end - 1] === mas.max) cp = false;
  if (cp) mas_mab_cp(mas, split + skip, mt_slot_count(mas.node) - 1, mast.bn, mast.bn.b_end);
  mast.bn.b_end--;
  mast.bn.type = mte_node_type(mas.node);
}

// lib/maple_tree.c mast_split_data: write the big node into the left and right nodes
function mast_split_data(mast: Mast, mas: MaState, split: number): void {
  mab_mas_cp(mast.bn, 0, split, mast.l, true);
  (memf64[(mast.r.node >> 3) + N_PIVOTS_F64 + 0] = mast.r.max);
  mab_mas_cp(mast.bn, split + 1, mast.bn.b_end, mast.r, false);
  mast.l.offset = mte_parent_slot(mas.node);
  mast.l.max = mast.bn.pivot[split];
  mast.r.min = mast.l.max + 1;
  if (mte_is_leaf(mas.node)) return;
  split_slot = mast.orig_l.offset;
  mas_set_split_parent(mast.orig_l, mast.l.node, mast.r.node, split);
  mas_set_split_parent(mast.orig_r, mast.l.node, mast.r.node, split);
}

const push_tmp = new MaState();

// lib/maple_tree.c mas_push_data: split by moving data into a sibling with room instead
function mas_push_data(mas: MaState, height: number, mast: Mast, left: boolean): boolean {
  let slot_total = mast.bn.b_end;
  const tmp_mas = push_tmp.copy(mas);
  tmp_mas.depth = mast.l.depth;
  if (left && !mas_prev_sibling(tmp_mas)) return false;
  else if (!left && !mas_next_sibling(tmp_mas)) return false;
  const end = mas_data_end(tmp_mas);
  slot_total += end;
  let space = 2 * mt_slot_count(mas.node) - 2;
  if (ma_is_leaf(mast.bn.type)) space--; // -1 for the leaf's implied last pivot
  if (mas.max === ULONG_MAX) space--;
  if (slot_total >= space) return false;
  mast.bn.b_end++;
  if (left) {
    mab_shift_right(mast.bn, end + 1);
    mas_mab_cp(tmp_mas, 0, end, mast.bn, 0);
    mast.bn.b_end = slot_total + 1;
  } else {
    mas_mab_cp(tmp_mas, 0, end, mast.bn, mast.bn.b_end);
  }
  let split = mt_slots[mast.bn.type] - 2;
  if (left) {
    mas.copy(tmp_mas);
    tmp_mas.node = mast.l.node;
    mast.l.copy(tmp_mas);
  } else {
    tmp_mas.node = mast.r.node;
    mast.r.copy(tmp_mas);
    split = slot_total - split;
  }
  split = mab_no_null_split(mast.bn, split, mt_slots[mast.bn.type]);
  if (left) mast.orig_l.offset += end + 1;
  mast_split_data(mast, mas, split);
  mast_fill_bnode(mast, mas, 2);
  mas_split_final_node(mast, mas, height + 1);
  this_cpu_inc(left ? c_push_left : c_push_right);
  return true;
}

const sp_l = new MaState();
const sp_r = new MaState();
const sp_prev_l = new MaState();
const sp_prev_r = new MaState();
const sp_mast = new Mast();

// lib/maple_tree.c mas_split: split the node, and its ancestors as far as needed
function mas_split(mas: MaState, b: BigNode): number {
  let height = 0;
  mas.depth = mas_mt_height(mas);
  mas_node_count(mas, 1 + mas.depth * 2);
  if (mas_is_err(mas)) return 0;
  this_cpu_inc(c_store_split);
  const l_mas = ma_state_init(sp_l, mas.tree, mas.index, mas.last);
  const r_mas = ma_state_init(sp_r, mas.tree, mas.index, mas.last);
  const prev_l_mas = ma_state_init(sp_prev_l, mas.tree, mas.index, mas.last);
  const prev_r_mas = ma_state_init(sp_prev_r, mas.tree, mas.index, mas.last);
  const mast = sp_mast;
  mast.l = l_mas;
  mast.r = r_mas;
  mast.orig_l = prev_l_mas;
  mast.orig_r = prev_r_mas;
  mast.bn = b;
  while (height++ <= mas.depth) {
    if (mt_slots[b.type] > b.b_end) {
      mas_split_final_node(mast, mas, height);
      break;
    }
    l_mas.copy(mas);
    r_mas.copy(mas);
    l_mas.mas_flags = r_mas.mas_flags = 0;
    l_mas.node = mas_new_ma_node(mas, b);
    r_mas.node = mas_new_ma_node(mas, b);
    if (mas_push_data(mas, height, mast, true)) break;
    if (mas_push_data(mas, height, mast, false)) break;
    const split = mab_calc_split(mas, b, prev_l_mas.min);
    mast_split_data(mast, mas, split);
    mast.r.max = mas.max;
    mast_fill_bnode(mast, mas, 1);
    prev_l_mas.copy(mast.l);
    prev_r_mas.copy(mast.r);
  }
  const old = mas.node;
  mas.node = l_mas.node;
  mas_wmb_replace(mas, old);
  mtree_range_walk(mas);
  return 1;
}

// lib/maple_tree.c mas_reuse_node: outside RCU mode, rewrite the node in place
function mas_reuse_node(wr: MaWrState, bn: BigNode, end: number): boolean {
  if (mt_in_rcu(wr.mas.tree)) return false;
  const s = slot_idx(wr.node, wr.type);
  if (end > bn.b_end) {
    let clear = mt_slots[wr.type] - bn.b_end;
    for (let i = 0; i < clear; i++) mem32[s + bn.b_end + i] = 0;
    clear--;
    for (let i = 0; i < clear; i++) (memf64[(wr.node >> 3) + N_PIVOTS_F64 + (bn.b_end + i)] = 0);
  }
  mab_mas_cp(bn, 0, bn.b_end, wr.mas, false);
  return true;
}

// lib/maple_tree.c mas_commit_b_node: write the big node back: rebalance, split, or one node
// (the store class Linux 6.12 calls wr_bnode)
function mas_commit_b_node(wr: MaWrState, b: BigNode, end: number): number {
  const b_end = b.b_end;
  const b_type = b.type;
  const old = wr.mas.node;
  if (b_end < mt_min_slots[b_type] && !mte_is_root(old) && mas_mt_height(wr.mas) > 1) return mas_rebalance(wr.mas, b);
  if (b_end >= mt_slots[b_type]) return mas_split(wr.mas, b);
  if (!mas_reuse_node(wr, b, end)) {
    mas_node_count(wr.mas, 1);
    if (mas_is_err(wr.mas)) return 0;
    const node = mt_mk_node(mas_pop_node(wr.mas), b_type);
    copy_parent(node, old);
    wr.mas.node = node;
    mab_mas_cp(b, 0, b_end, wr.mas, false);
    mas_replace_node(wr.mas, old);
  }
  this_cpu_inc(c_store_bnode);
  mas_update_gap(wr.mas);
  return 1;
}

// lib/maple_tree.c mas_root_expand: the first node of a tree that was empty or a single pointer
function mas_root_expand(mas: MaState, entry: number): number {
  const contents = mt_root(mas.tree);
  const type = maple_leaf_64;
  mas_node_count(mas, 1);
  if (mas_is_err(mas)) return 0;
  const node = mt_mk_node(mas_pop_node(mas), type);
  const s = slot_idx(node, type);
  set_parent_tree(node, mas.tree);
  mas.node = node;
  let slot_no = 0;
  if (mas.index) {
    if (contents) {
      mem32[s + slot_no] = contents;
      if (mas.index > 1) slot_no++;
    }
    (memf64[(node >> 3) + N_PIVOTS_F64 + (slot_no++)] = mas.index - 1);
  }
  mem32[s + slot_no] = entry;
  mas.offset = slot_no;
  (memf64[(node >> 3) + N_PIVOTS_F64 + slot_no] = mas.last);
  if (mas.last !== ULONG_MAX) (memf64[(node >> 3) + N_PIVOTS_F64 + (++slot_no)] = ULONG_MAX);
  mas.depth = 1;
  mas_set_height(mas);
  ma_set_meta(node, 0, slot_no);
  set_mt_root(mas.tree, mte_mk_root(node));
  return slot_no;
}

// lib/maple_tree.c mas_store_root. Storing NULL follows 6.10+: clear the root pointer or do
// nothing; 6.7 would expand the root into a node of nothing but NULLs (the mm never does it).
function mas_store_root(mas: MaState, entry: number): void {
  if (!entry) {
    if (!mas.index) set_mt_root(mas.tree, 0);
  } else if (mas.last !== 0 || mas.index !== 0) mas_root_expand(mas, entry);
  else if ((entry & 3) === 2) mas_root_expand(mas, entry);
  else {
    set_mt_root(mas.tree, entry);
    mas.node = MAS_START;
  }
  if (!mas_is_err(mas)) this_cpu_inc(c_store_root); // a store retried after -ENOMEM counts once
}

// lib/maple_tree.c mas_is_span_wr: does the write go past this node?
function mas_is_span_wr(wr: MaWrState): boolean {
  let max = wr.r_max;
  const last = wr.mas.last;
  if (last < max) return false;
  if (ma_is_leaf(wr.type)) {
    max = wr.mas.max;
    if (last < max) return false;
  }
  if (last === max) {
    // Writing NULL up to the end of a leaf would leave it ending in NULL.
    if (wr.entry || last === ULONG_MAX) return false;
  }
  return true;
}

function mas_wr_walk_descend(wr: MaWrState): void {
  wr.type = mte_node_type(wr.mas.node);
  mas_wr_node_walk(wr);
}

function mas_wr_walk_traverse(wr: MaWrState): void {
  wr.mas.max = wr.r_max;
  wr.mas.min = wr.r_min;
  wr.mas.node = wr.content;
  wr.mas.offset = 0;
  wr.mas.depth++;
}

// lib/maple_tree.c mas_wr_walk: down to the leaf, or false where the write spans nodes
function mas_wr_walk(wr: MaWrState): boolean {
  const mas = wr.mas;
  for (;;) {
    mas_wr_walk_descend(wr);
    if (mas_is_span_wr(wr)) return false;
    wr.content = mem32[slot_idx(wr.node, wr.type) + mas.offset];
    if (ma_is_leaf(wr.type)) return true;
    mas_wr_walk_traverse(wr);
  }
}

// lib/maple_tree.c mas_wr_walk_index: down to the leaf holding mas.index
function mas_wr_walk_index(wr: MaWrState): boolean {
  const mas = wr.mas;
  for (;;) {
    mas_wr_walk_descend(wr);
    wr.content = mem32[slot_idx(wr.node, wr.type) + mas.offset];
    if (ma_is_leaf(wr.type)) return true;
    mas_wr_walk_traverse(wr);
  }
}

// lib/maple_tree.c mas_extend_spanning_null: a NULL store absorbs the NULLs on either side
function mas_extend_spanning_null(l_wr: MaWrState, r_wr: MaWrState): void {
  const r_mas = r_wr.mas;
  const l_mas = l_wr.mas;
  const l_slot = l_mas.offset;
  const ls = slot_idx(l_wr.node, l_wr.type);
  if (!l_wr.content) l_mas.index = l_wr.r_min;
  if (l_mas.index === l_wr.r_min && l_slot && !mem32[ls + l_slot - 1]) {
    if (l_slot > 1) l_mas.index = memf64[(l_wr.node >> 3) + N_PIVOTS_F64 + (l_slot - 2)] + 1;
    else l_mas.index = l_mas.min;
    l_mas.offset = l_slot - 1;
  }
  const rs = slot_idx(r_wr.node, r_wr.type);
  if (!r_wr.content) {
    if (r_mas.last < r_wr.r_max) r_mas.last = r_wr.r_max;
    r_mas.offset++;
  } else if (r_mas.last === r_wr.r_max && r_mas.last < r_mas.max && !mem32[rs + r_mas.offset + 1]) {
    r_mas.last = mas_safe_pivot(r_mas, r_wr.node, r_mas.offset + 1, r_wr.type);
    r_mas.offset++;
  }
}

// lib/maple_tree.c mas_new_root: the whole range gets one entry (a store class of its own only
// when the write was [0, ULONG_MAX] from the start; a spanning store may end here too)
function mas_new_root(mas: MaState, entry: number): number {
  const root = mt_root(mas.tree);
  const type = maple_leaf_64;
  if (!entry && !mas.index && mas.last === ULONG_MAX) {
    mas.depth = 0;
    mas_set_height(mas);
    set_mt_root(mas.tree, entry);
    mas.node = MAS_START;
  } else {
    mas_node_count(mas, 1);
    if (mas_is_err(mas)) return 0;
    const node = mt_mk_node(mas_pop_node(mas), type);
    set_parent_tree(node, mas.tree);
    mas.node = node;
    mem32[slot_idx(node, type)] = entry;
    (memf64[(node >> 3) + N_PIVOTS_F64 + 0] = mas.last);
    mas.depth = 1;
    mas_set_height(mas);
    set_mt_root(mas.tree, mte_mk_root(node));
  }
  if (xa_is_node(root)) mte_destroy_walk(mte_safe_root(root), mas.tree);
  return 1;
}

const sw_l = new MaState();
const sw_r = new MaState();
const sw_l_wr = new MaWrState(sw_l, 0);
const sw_r_wr = new MaWrState(sw_r, 0);
const sw_mast = new Mast();

// lib/maple_tree.c mas_wr_spanning_store: a write across node boundaries, rebuilt from a big node
function mas_wr_spanning_store(wr: MaWrState): number {
  const mas = wr.mas;
  if (!mas.index && mas.last === ULONG_MAX) {
    this_cpu_inc(c_store_spanning);
    return mas_new_root(mas, wr.entry);
  }
  const height = mas_mt_height(mas);
  mas_node_count(mas, 1 + height * 3);
  if (mas_is_err(mas)) return 0;
  this_cpu_inc(c_store_spanning);
  // The right side: the leaf holding mas.last + 1 (the range after the write).
  const r_mas = sw_r.copy(mas);
  r_mas.mas_flags = 0;
  const r_wr = sw_r_wr.reset(r_mas, wr.entry);
  if (r_mas.last !== ULONG_MAX) r_mas.last++;
  r_mas.index = r_mas.last;
  mas_wr_walk_index(r_wr);
  r_mas.last = r_mas.index = mas.last;
  // The left side: the leaf holding mas.index.
  const l_mas = sw_l.copy(mas);
  l_mas.mas_flags = 0;
  const l_wr = sw_l_wr.reset(l_mas, wr.entry);
  mas_wr_walk_index(l_wr);
  if (!wr.entry) {
    mas_extend_spanning_null(l_wr, r_wr);
    mas.offset = l_mas.offset;
    mas.index = l_mas.index;
    mas.last = l_mas.last = r_mas.last;
  }
  if (!l_mas.index && r_mas.last === ULONG_MAX) {
    mas_set_range(mas, 0, ULONG_MAX);
    return mas_new_root(mas, wr.entry);
  }
  // Nothing survives to the right of a write that ends at ULONG_MAX. Linux 6.7 walks the right
  // side to `last` itself in that case and copies the overwritten last slot back in after the
  // new entry (a duplicate ULONG_MAX pivot); the mm tree never writes that far, so skipping the
  // slot changes nothing the simulation measures and keeps other trees valid.
  if (mas.last === ULONG_MAX) r_mas.offset = r_wr.node_end + 1;
  const b = big_node;
  b.clear();
  // The left part, the new entry, then what is right of the write.
  mas_store_b_node(l_wr, b, l_wr.node_end);
  if (r_mas.offset <= r_wr.node_end) mas_mab_cp(r_mas, r_mas.offset, r_wr.node_end, b, b.b_end + 1);
  else b.b_end++;
  l_mas.index = l_mas.last = mas.index;
  const mast = sw_mast;
  mast.bn = b;
  mast.orig_l = l_mas;
  mast.orig_r = r_mas;
  return mas_spanning_rebalance(mas, mast, height + 1);
}

/* ---------------------------------------------------------------- writes within a node */

/** Linux builds a replacement node on the stack outside RCU mode; here each CPU has one scratch node. */
const node_scratch = define_per_cpu('maple_node_scratch', MAPLE_NODE_SIZE);

// lib/maple_tree.c mas_wr_node_store: rewrite the leaf with the new range in it
function mas_wr_node_store(wr: MaWrState, new_end: number): boolean {
  const mas = wr.mas;
  let offset_end = wr.offset_end;
  const type = wr.type;
  const node_pivots = mt_pivots[type];
  const in_rcu = mt_in_rcu(mas.tree);
  if (!mte_is_root(mas.node) && new_end <= mt_min_slots[type] && !(mas.mas_flags & MA_STATE_BULK)) return false;
  if (mas.last === wr.end_piv) offset_end++;
  else if (wr.r_max === ULONG_MAX) mas_bulk_rebalance(mas, wr.node_end, type);
  let newnode: number;
  if (in_rcu) {
    mas_node_count(mas, 1);
    if (mas_is_err(mas)) return false;
    newnode = mt_mk_node(mas_pop_node(mas), type);
  } else {
    newnode = this_cpu_base + node_scratch.off;
    memset0(newnode, MAPLE_NODE_SIZE);
    mt_mk_node(newnode, type);
  }
  copy_parent(newnode, mas.node);
  const src = wr.node;
  const ss = slot_idx(src, type);
  const ds = slot_idx(newnode, type);
  for (let i = 0; i < mas.offset; i++) {
    (memf64[(newnode >> 3) + N_PIVOTS_F64 + i] = memf64[(src >> 3) + N_PIVOTS_F64 + i]);
    mem32[ds + i] = mem32[ss + i];
  }
  if (wr.r_min < mas.index) {
    mem32[ds + mas.offset] = wr.content;
    (memf64[(newnode >> 3) + N_PIVOTS_F64 + (mas.offset++)] = mas.index - 1);
  }
  if (mas.offset < node_pivots) (memf64[(newnode >> 3) + N_PIVOTS_F64 + mas.offset] = mas.last);
  mem32[ds + mas.offset] = wr.entry;
  if (offset_end <= wr.node_end) {
    const dst_offset = mas.offset + 1;
    const copy_size = wr.node_end - offset_end + 1;
    for (let i = 0; i < copy_size; i++) mem32[ds + dst_offset + i] = mem32[ss + offset_end + i];
    for (let i = 0; i < copy_size - 1; i++) (memf64[(newnode >> 3) + N_PIVOTS_F64 + (dst_offset + i)] = memf64[(src >> 3) + N_PIVOTS_F64 + (offset_end + i)]);
    if (new_end < node_pivots) (memf64[(newnode >> 3) + N_PIVOTS_F64 + new_end] = mas.max);
  }
  mas_leaf_set_meta(mas, newnode, maple_leaf_64, new_end);
  if (in_rcu) {
    const old = mas.node;
    mas.node = newnode;
    mas_replace_node(mas, old);
  } else {
    memcpy(src, newnode, MAPLE_NODE_SIZE);
  }
  this_cpu_inc(c_store_node);
  mas_update_gap(mas);
  return true;
}

// lib/maple_tree.c mas_wr_slot_store: move one boundary, in place (safe under RCU)
function mas_wr_slot_store(wr: MaWrState): boolean {
  const mas = wr.mas;
  const offset = mas.offset;
  const s = slot_idx(wr.node, wr.type);
  let has_gap = !mem32[s + offset] || !mem32[s + offset + 1];
  if (wr.offset_end - offset === 1) {
    if (mas.index === wr.r_min) {
      // Overwriting the range and over a part of the next range.
      mem32[s + offset] = wr.entry;
      (memf64[(wr.node >> 3) + N_PIVOTS_F64 + offset] = mas.last);
    } else {
      // Overwriting a part of the range and over the next range.
      mem32[s + offset + 1] = wr.entry;
      (memf64[(wr.node >> 3) + N_PIVOTS_F64 + offset] = mas.index - 1);
      mas.offset++;
    }
  } else if (!mt_in_rcu(mas.tree)) {
    // Expanding a range into both neighbours.
    has_gap ||= !mem32[s + offset + 2];
    mem32[s + offset + 1] = wr.entry;
    (memf64[(wr.node >> 3) + N_PIVOTS_F64 + offset] = mas.index - 1);
    (memf64[(wr.node >> 3) + N_PIVOTS_F64 + (offset + 1)] = mas.last);
    mas.offset++;
  } else {
    return false;
  }
  this_cpu_inc(c_store_slot);
  if (!wr.entry || has_gap) mas_update_gap(mas);
  return true;
}

// lib/maple_tree.c mas_wr_extend_null: a NULL write takes in the NULL ranges beside it
function mas_wr_extend_null(wr: MaWrState): void {
  const mas = wr.mas;
  const s = slot_idx(wr.node, wr.type);
  if (!mem32[s + wr.offset_end]) {
    mas.last = wr.end_piv;
  } else if (mas.last === wr.end_piv && wr.node_end !== wr.offset_end && !mem32[s + wr.offset_end + 1]) {
    wr.offset_end++;
    if (wr.offset_end === wr.node_end) mas.last = mas.max;
    else mas.last = memf64[(wr.node >> 3) + N_PIVOTS_F64 + wr.offset_end];
    wr.end_piv = mas.last;
  }
  if (!wr.content) {
    mas.index = wr.r_min;
  } else if (mas.index === wr.r_min && mas.offset && !mem32[s + mas.offset - 1]) {
    mas.offset--;
    wr.r_min = mas.index = mas_safe_min(mas, wr.node, mas.offset);
    wr.r_max = memf64[(wr.node >> 3) + N_PIVOTS_F64 + mas.offset];
  }
}

// lib/maple_tree.c mas_wr_end_piv: the slot where the write ends
function mas_wr_end_piv(wr: MaWrState): void {
  while (wr.offset_end < wr.node_end && wr.mas.last > memf64[(wr.node >> 3) + N_PIVOTS_F64 + wr.offset_end]) wr.offset_end++;
  if (wr.offset_end < wr.node_end) wr.end_piv = memf64[(wr.node >> 3) + N_PIVOTS_F64 + wr.offset_end];
  else wr.end_piv = wr.mas.max;
  if (!wr.entry) mas_wr_extend_null(wr);
}

// lib/maple_tree.c mas_wr_new_end: the node's last slot after the write
function mas_wr_new_end(wr: MaWrState): number {
  const mas = wr.mas;
  let new_end = wr.node_end + 2;
  new_end -= wr.offset_end - mas.offset;
  if (wr.r_min === mas.index) new_end--;
  if (wr.end_piv === mas.last) new_end--;
  return new_end;
}

// lib/maple_tree.c mas_wr_append: write at the end of the node, in place (not in RCU mode)
function mas_wr_append(wr: MaWrState, new_end: number): boolean {
  const mas = wr.mas;
  if (mt_in_rcu(mas.tree)) return false;
  if (mas.offset !== wr.node_end) return false;
  const end = wr.node_end;
  const s = slot_idx(wr.node, wr.type);
  if (new_end < mt_pivots[wr.type]) {
    (memf64[(wr.node >> 3) + N_PIVOTS_F64 + new_end] = memf64[(wr.node >> 3) + N_PIVOTS_F64 + end]);
    ma_set_meta(wr.node, 0, new_end);
  }
  if (new_end === end + 1) {
    if (mas.last === wr.r_max) {
      // Append to the end of the last range.
      mem32[s + new_end] = wr.entry;
      (memf64[(wr.node >> 3) + N_PIVOTS_F64 + end] = mas.index - 1);
      mas.offset = new_end;
    } else {
      // Write over the start of the last range.
      mem32[s + new_end] = wr.content;
      (memf64[(wr.node >> 3) + N_PIVOTS_F64 + end] = mas.last);
      mem32[s + end] = wr.entry;
    }
  } else {
    // Write in the middle of the last range.
    mem32[s + new_end] = wr.content;
    (memf64[(wr.node >> 3) + N_PIVOTS_F64 + (end + 1)] = mas.last);
    mem32[s + end + 1] = wr.entry;
    (memf64[(wr.node >> 3) + N_PIVOTS_F64 + end] = mas.index - 1);
    mas.offset = end + 1;
  }
  this_cpu_inc(c_store_append);
  if (!wr.content || !wr.entry) mas_update_gap(mas);
  return true;
}

// lib/maple_tree.c mas_wr_bnode: the slow path, through a big node
function mas_wr_bnode(wr: MaWrState): void {
  const b = big_node;
  b.clear();
  mas_store_b_node(wr, b, wr.offset_end);
  mas_commit_b_node(wr, b, wr.node_end);
}

// lib/maple_tree.c mas_wr_modify: pick the cheapest way to write within the leaf
function mas_wr_modify(wr: MaWrState): void {
  const mas = wr.mas;
  if (wr.r_min === mas.index && wr.r_max === mas.last) {
    // Exact fit: replace the entry, nothing else moves.
    mem32[slot_idx(wr.node, wr.type) + mas.offset] = wr.entry;
    this_cpu_inc(c_store_exact);
    if (!!wr.entry !== !!wr.content) mas_update_gap(mas);
    return;
  }
  const new_end = mas_wr_new_end(wr);
  if (new_end < mt_slots[wr.type]) {
    if (mas_wr_append(wr, new_end)) return;
    if (new_end === wr.node_end && mas_wr_slot_store(wr)) return;
    if (mas_wr_node_store(wr, new_end)) return;
    if (mas_is_err(mas)) return;
  }
  mas_wr_bnode(wr);
}

// lib/maple_tree.c mas_wr_store_entry
function mas_wr_store_entry(wr: MaWrState): number {
  const mas = wr.mas;
  wr.content = mas_start(mas);
  if (mas_is_none(mas) || mas_is_ptr(mas)) {
    mas_store_root(mas, wr.entry);
    return wr.content;
  }
  if (!mas_wr_walk(wr)) {
    mas_wr_spanning_store(wr);
    return wr.content;
  }
  mas_wr_end_piv(wr);
  if (!mas.index && mas.last === ULONG_MAX) {
    mas_new_root(mas, wr.entry);
    if (!mas_is_err(mas)) this_cpu_inc(c_store_root);
    return wr.content;
  }
  mas_wr_modify(wr);
  return wr.content;
}

// lib/maple_tree.c mas_wr_store_setup: writes walk from the root. Linux may resume from the
// node an earlier walk left the state on; that reaches the same leaf, so it changes no outcome.
function mas_wr_store_setup(wr: MaWrState): void {
  if (!mas_is_start(wr.mas)) mas_reset(wr.mas);
}

const store_wr = new MaWrState(new MaState(), 0);

// lib/maple_tree.c mas_store: store without allocating (nodes must be preallocated)
export function mas_store(mas: MaState, entry: number): number {
  if (mas.index > mas.last) {
    mas_set_err(mas, EINVAL);
    return 0;
  }
  const wr = store_wr.reset(mas, entry);
  mas_wr_store_setup(wr);
  const content = mas_wr_store_entry(wr);
  validate_after_store(mas);
  return content;
}

// lib/maple_tree.c mas_nomem: after -ENOMEM, allocate what was asked and retry
function mas_nomem(mas: MaState): boolean {
  if (mas.node !== MA_ERROR_BASE - ENOMEM) {
    mas_destroy(mas);
    return false;
  }
  mas_alloc_nodes(mas);
  if (!mas_allocated(mas)) return false;
  mas.node = MAS_START;
  return true;
}

// lib/maple_tree.c mas_store_gfp: store, allocating nodes as the write needs them; 0 or -errno
export function mas_store_gfp(mas: MaState, entry: number): number {
  const wr = store_wr.reset(mas, entry);
  mas_wr_store_setup(wr);
  for (;;) {
    wr.reset(mas, entry);
    mas_wr_store_entry(wr);
    if (!mas_nomem(mas)) break;
  }
  if (mas_is_err(mas)) return -mas_error(mas);
  validate_after_store(mas);
  return 0;
}

// lib/maple_tree.c mas_store_prealloc: store with the nodes mas_preallocate got, then free the rest
export function mas_store_prealloc(mas: MaState, entry: number): void {
  const wr = store_wr.reset(mas, entry);
  mas_wr_store_setup(wr);
  mas_wr_store_entry(wr);
  if (mas_is_err(mas)) throw new MapleTreeError(`mas_store_prealloc: ${mas_error(mas)} (preallocation too small)`);
  mas_destroy(mas);
  validate_after_store(mas);
}

const prealloc_wr = new MaWrState(new MaState(), 0);

// lib/maple_tree.c mas_preallocate (6.7): allocate the nodes the store of `entry` will need
export function mas_preallocate(mas: MaState, entry: number): number {
  const wr = prealloc_wr.reset(mas, entry);
  let request = 1;
  ask: {
    if (!mas.index && mas.last === ULONG_MAX) break ask;
    mas_wr_store_setup(wr);
    wr.content = mas_start(mas);
    if (mas_is_none(mas) || mas_is_ptr(mas)) break ask;
    if (!mas_wr_walk(wr)) {
      request = 1 + mas_mt_height(mas) * 3; // spanning store
      break ask;
    }
    if (wr.r_min === mas.index && wr.r_max === mas.last) return 0; // exact fit
    mas_wr_end_piv(wr);
    const node_size = mas_wr_new_end(wr);
    if (node_size === wr.node_end) {
      // Slot store: in place, unless RCU needs a copy.
      if (!mt_in_rcu(mas.tree)) return 0;
      if (wr.offset_end - mas.offset === 1) return 0;
    }
    if (node_size >= mt_slots[wr.type]) {
      request = 1 + mas_mt_height(mas) * 2; // split
      break ask;
    }
    if (mte_is_root(mas.node)) break ask;
    if (node_size - 1 <= mt_min_slots[wr.type]) request = mas_mt_height(mas) * 2 - 1; // rebalance
  }
  this_cpu_add(c_prealloc_requested, request);
  mas_node_count(mas, request);
  mas.mas_flags |= MA_STATE_PREALLOC;
  if (!mas_is_err(mas)) return 0;
  const ret = mas_error(mas);
  mas.alloc_req = 0;
  mas_reset(mas);
  mas_destroy(mas);
  mas_reset(mas);
  return -ret;
}

// lib/maple_tree.c mas_expected_entries: bulk mode, with the nodes for nr_entries preallocated
export function mas_expected_entries(mas: MaState, nr_entries: number): number {
  const nonleaf_cap = mt_is_alloc(mas.tree) ? MAPLE_ARANGE64_SLOTS - 2 : MAPLE_RANGE64_SLOTS - 2;
  const node = mas.node;
  mas.mas_flags |= MA_STATE_BULK;
  let nr_nodes = Math.max(nr_entries, nr_entries * 2 + 1);
  nr_nodes = Math.ceil(nr_nodes / (MAPLE_RANGE64_SLOTS - 2));
  nr_nodes += Math.ceil(nr_nodes / nonleaf_cap);
  this_cpu_add(c_prealloc_requested, nr_nodes + 3);
  mas_node_count(mas, nr_nodes + 3);
  mas.mas_flags |= MA_STATE_PREALLOC;
  if (!mas_is_err(mas)) return 0;
  const ret = mas_error(mas);
  mas.node = node;
  mas_destroy(mas);
  return -ret;
}

// lib/maple_tree.c __mt_destroy: free every node of the tree
export function __mt_destroy(tree: number): void {
  const root = mt_root(tree);
  set_mt_root(tree, 0);
  if (xa_is_node(root)) mte_destroy_walk(mte_safe_root(root), tree);
  mem32[(tree >> 2) + MT_FLAGS] = 0;
}

/* ---------------------------------------------------------------- iteration */

// lib/maple_tree.c mas_prev_node: the previous node at the same level, or MAS_NONE
function mas_prev_node(mas: MaState, min: number): void {
  let node = mas.node;
  if (!mas.min) {
    mas.node = MAS_NONE;
    return;
  }
  const max = mas.min - 1;
  if (max < min) {
    mas.node = MAS_NONE;
    return;
  }
  let level = 0;
  let offset: number;
  do {
    if (mte_is_root(node)) {
      mas.node = MAS_NONE;
      return;
    }
    mas_ascend(mas);
    offset = mas.offset;
    level++;
    node = mas.node;
  } while (!offset);
  offset--;
  let mt = mte_node_type(node);
  while (level > 1) {
    level--;
    mas.node = mem32[slot_idx(node, mt) + offset];
    mt = mte_node_type(mas.node);
    node = mas.node;
    offset = ma_data_end(node, mt, max);
  }
  mas.node = mem32[slot_idx(node, mt) + offset];
  if (offset) mas.min = memf64[(node >> 3) + N_PIVOTS_F64 + (offset - 1)] + 1;
  mas.max = max;
  mas.offset = mas_data_end(mas);
}

// lib/maple_tree.c mas_prev_slot
function mas_prev_slot(mas: MaState, min: number, empty: boolean, set_underflow: boolean): number {
  let node = mas.node;
  if (mas.min <= min) {
    const pivot = mas_safe_min(mas, node, mas.offset);
    if (pivot <= min) {
      if (set_underflow) mas.node = MAS_UNDERFLOW;
      return 0;
    }
  }
  for (;;) {
    if (mas.offset) {
      mas.offset--;
      mas.last = mas.index - 1;
      mas.index = mas_safe_min(mas, node, mas.offset);
    } else {
      mas_prev_node(mas, min);
      if (mas_is_none(mas)) {
        if (set_underflow) mas.node = MAS_UNDERFLOW;
        return 0;
      }
      mas.last = mas.max;
      node = mas.node;
      mas.index = mas.offset ? memf64[(node >> 3) + N_PIVOTS_F64 + (mas.offset - 1)] + 1 : mas.min;
    }
    const entry = mem32[slot_idx(node, mte_node_type(node)) + mas.offset];
    if (entry) return entry;
    if (empty) return entry;
    if (mas.index <= min) {
      if (set_underflow) mas.node = MAS_UNDERFLOW;
      return 0;
    }
  }
}

// lib/maple_tree.c mas_next_node: the next node at the same level, or MAS_NONE
function mas_next_node(mas: MaState, max: number): void {
  let node = mas.node;
  if (mas.max >= max) {
    mas.node = MAS_NONE;
    return;
  }
  const min = mas.max + 1;
  let level = 0;
  let mt: number;
  let node_end: number;
  do {
    if (mte_is_root(node)) {
      mas.node = MAS_NONE;
      return;
    }
    mas_ascend(mas);
    level++;
    node = mas.node;
    mt = mte_node_type(node);
    node_end = ma_data_end(node, mt, mas.max);
  } while (mas.offset === node_end);
  mas.offset++;
  let enode = mem32[slot_idx(node, mt) + mas.offset];
  if (level > 1) mas.offset = 0;
  while (level > 1) {
    level--;
    mas.node = enode;
    node = enode;
    mt = mte_node_type(node);
    enode = mem32[slot_idx(node, mt)];
  }
  mas.max = mas_safe_pivot(mas, node, mas.offset, mt);
  mas.node = enode;
  mas.min = min;
}

// lib/maple_tree.c mas_next_slot
function mas_next_slot(mas: MaState, max: number, empty: boolean, set_overflow: boolean): number {
  let node = mas.node;
  let type = mte_node_type(node);
  let data_end = ma_data_end(node, type, mas.max);
  if (mas.max >= max) {
    if (mas.offset >= data_end || memf64[(node >> 3) + N_PIVOTS_F64 + mas.offset] >= max) {
      if (set_overflow) mas.node = MAS_OVERFLOW;
      return 0;
    }
  }
  let again = false;
  for (;;) {
    if (again || mas.offset < data_end) {
      if (!again) mas.index = memf64[(node >> 3) + N_PIVOTS_F64 + mas.offset] + 1;
      again = false;
      mas.offset++;
      mas.last = mas.offset < data_end ? memf64[(node >> 3) + N_PIVOTS_F64 + mas.offset] : mas.max;
    } else {
      mas_next_node(mas, max);
      if (mas_is_none(mas)) {
        mas.node = MAS_OVERFLOW;
        return 0;
      }
      mas.offset = 0;
      mas.index = mas.min;
      node = mas.node;
      type = mte_node_type(node);
      data_end = ma_data_end(node, type, mas.max);
      mas.last = memf64[(node >> 3) + N_PIVOTS_F64 + 0];
    }
    const entry = mem32[slot_idx(node, type) + mas.offset];
    if (entry) return entry;
    if (empty) return entry;
    if (mas.last >= max) {
      if (set_overflow) mas.node = MAS_OVERFLOW;
      return 0;
    }
    mas.index = mas.last + 1;
    again = mas.offset < data_end;
  }
}

/** The entry a *_setup function found (it returns whether the search is already over). */
let setup_entry = 0;

// lib/maple_tree.c mas_find_setup
function mas_find_setup(mas: MaState, max: number): boolean {
  setup_entry = 0;
  if (mas_is_active(mas)) return mas.last >= max;
  if (mas_is_none(mas)) {
    if (mas.last >= max) return true;
    mas.index = mas.last;
    mas.node = MAS_START;
  } else if (mas_is_overflow(mas) || mas_is_underflow(mas)) {
    if (mas.index > max) {
      mas.node = MAS_OVERFLOW;
      return true;
    }
    mas.node = MAS_START;
  }
  if (mas_is_start(mas)) {
    if (mas.index > max) return true;
    const entry = mas_walk(mas);
    if (entry) return ((setup_entry = entry), true);
  }
  if (!mas_searchable(mas)) {
    if (mas_is_ptr(mas)) {
      mas.node = MAS_NONE;
      mas.index = 1;
      mas.last = ULONG_MAX;
    }
    return true;
  }
  if (mas.index === max) return true;
  return false;
}

// lib/maple_tree.c mas_find: the first entry at or after mas.index, up to max
export function mas_find(mas: MaState, max: number): number {
  if (mas_find_setup(mas, max)) return setup_entry;
  return mas_next_slot(mas, max, false, false);
}

// lib/maple_tree.c mas_next_setup
function mas_next_setup(mas: MaState, max: number): boolean {
  setup_entry = 0;
  const was_none = mas_is_none(mas);
  if (mas.last >= max) {
    mas.node = MAS_OVERFLOW;
    return true;
  }
  if (mas_is_active(mas)) return false;
  let entry = 0;
  if (mas_is_none(mas) || mas_is_overflow(mas)) {
    mas.node = MAS_START;
  } else if (mas_is_underflow(mas)) {
    mas.node = MAS_START;
    entry = mas_walk(mas);
    if (entry) return ((setup_entry = entry), true);
  }
  if (mas_is_start(mas)) entry = mas_walk(mas);
  if (mas_is_ptr(mas)) {
    if (was_none && mas.index === 0) {
      mas.index = mas.last = 0;
      return true;
    }
    mas.index = 1;
    mas.last = ULONG_MAX;
    mas.node = MAS_NONE;
    return true;
  }
  if (mas_is_none(mas)) return true;
  return false;
}

// lib/maple_tree.c mas_next_range: the next range, empty or not
export function mas_next_range(mas: MaState, max: number): number {
  if (mas_next_setup(mas, max)) return setup_entry;
  return mas_next_slot(mas, max, true, true);
}

// lib/maple_tree.c mas_prev_setup
function mas_prev_setup(mas: MaState, min: number): boolean {
  setup_entry = 0;
  if (mas.index <= min) {
    mas.node = MAS_UNDERFLOW;
    return true;
  }
  if (mas_is_active(mas)) return false;
  if (mas_is_overflow(mas)) {
    mas.node = MAS_START;
    const entry = mas_walk(mas);
    if (entry) return ((setup_entry = entry), true);
  }
  if (mas_is_none(mas) || mas_is_underflow(mas)) mas.node = MAS_START;
  if (mas_is_start(mas)) mas_walk(mas);
  if (mas_is_ptr(mas)) {
    if (!mas.index) {
      mas.node = MAS_NONE;
      return true;
    }
    mas.index = mas.last = 0;
    return ((setup_entry = mt_root(mas.tree)), true);
  }
  if (mas_is_none(mas)) {
    if (mas.index) {
      mas.index = mas.last = 0;
      mas.node = MAS_ROOT;
      return ((setup_entry = mt_root(mas.tree)), true);
    }
    return true;
  }
  return false;
}

// lib/maple_tree.c mas_prev: the entry before the current one, down to min
export function mas_prev(mas: MaState, min: number): number {
  if (mas_prev_setup(mas, min)) return setup_entry;
  return mas_prev_slot(mas, min, false, true);
}

// lib/maple_tree.c mas_prev_range
export function mas_prev_range(mas: MaState, min: number): number {
  if (mas_prev_setup(mas, min)) return setup_entry;
  return mas_prev_slot(mas, min, true, true);
}

/* ---------------------------------------------------------------- gap search */

// lib/maple_tree.c mas_rewind_node
function mas_rewind_node(mas: MaState): boolean {
  let slot_no: number;
  do {
    if (mte_is_root(mas.node)) {
      slot_no = mas.offset;
      if (!slot_no) return false;
    } else {
      mas_ascend(mas);
      slot_no = mas.offset;
    }
  } while (!slot_no);
  mas.offset = --slot_no;
  return true;
}

const rev_gap = { min: 0, max: 0 };

// lib/maple_tree.c mas_rev_awalk: descend toward the highest gap of `size` below mas.last
function mas_rev_awalk(mas: MaState, size: number): boolean {
  const node = mas.node;
  const type = mte_node_type(node);
  if (mas_is_err(mas)) return true;
  const s = slot_idx(node, type);
  const has_gaps = type === maple_arange_64;
  let offset = mas.offset;
  let min = mas_safe_min(mas, node, offset);
  while (mas.last < min) min = mas_safe_min(mas, node, --offset);
  let max = mas_safe_pivot(mas, node, offset, type);
  let g = 0;
  let ascend = false;
  while (mas.index <= max) {
    g = 0;
    if (has_gaps) g = gap(node, offset);
    else if (!mem32[s + offset]) g = max - min + 1;
    if (g) {
      if (size <= g && size <= mas.last - min + 1) break;
      if (!has_gaps) {
        // Two NULLs never sit side by side: skip the entry before this gap.
        if (offset < 2) {
          ascend = true;
          break;
        }
        offset -= 2;
        max = memf64[(node >> 3) + N_PIVOTS_F64 + offset];
        min = mas_safe_min(mas, node, offset);
        continue;
      }
    }
    if (!offset) {
      ascend = true;
      break;
    }
    offset--;
    max = min - 1;
    min = mas_safe_min(mas, node, offset);
  }
  if (ascend) {
    if (!mte_is_root(mas.node)) return false;
    mas_set_err(mas, EBUSY);
    return false;
  }
  if (mas.index > max || size - 1 > max - mas.index) {
    mas_set_err(mas, EBUSY);
    return false;
  }
  if (ma_is_leaf(type)) {
    mas.offset = offset;
    rev_gap.min = min;
    rev_gap.max = min + g - 1;
    return true;
  }
  mas.node = mem32[s + offset];
  mas.min = min;
  mas.max = max;
  mas.offset = mas_data_end(mas);
  return false;
}

// lib/maple_tree.c mas_sparse_area: the gap search of a tree with at most one entry
function mas_sparse_area(mas: MaState, min: number, max: number, size: number, fwd: boolean): number {
  if (!mas_is_none(mas) && min === 0) {
    min++;
    if (min > max || max - min + 1 < size) return -EBUSY;
  }
  if (fwd) {
    mas.index = min;
    mas.last = min + size - 1;
  } else {
    mas.last = max;
    mas.index = max - size + 1;
  }
  return 0;
}

// lib/maple_tree.c mas_empty_area_rev: the highest empty range of `size` within [min, max];
// 0 with mas.index..mas.last set to it, or -errno
export function mas_empty_area_rev(mas: MaState, min: number, max: number, size: number): number {
  let last = mas.node;
  if (min > max) return -EINVAL;
  if (size === 0 || max - min < size - 1) return -EINVAL;
  if (mas_is_start(mas)) {
    mas_start(mas);
    if (mas_is_active(mas)) mas.offset = mas_data_end(mas);
  } else if (mas.offset >= 2) {
    mas.offset -= 2;
  } else if (!mas_rewind_node(mas)) {
    return -EBUSY;
  }
  if (mas_is_none(mas) || mas_is_ptr(mas)) return mas_sparse_area(mas, min, max, size, false);
  mas.index = min;
  mas.last = max;
  while (!mas_rev_awalk(mas, size)) {
    if (mas_is_err(mas)) return -mas_error(mas);
    if (last === mas.node) {
      if (!mas_rewind_node(mas)) return -EBUSY;
    } else {
      last = mas.node;
    }
  }
  if (mas.offset === MAPLE_NODE_SLOTS) return -EBUSY;
  if (rev_gap.max < mas.last) mas.last = rev_gap.max;
  mas.index = mas.last - size + 1;
  return 0;
}

/* ---------------------------------------------------------------- duplication */

// lib/maple_tree.c mas_dup_alloc (6.8): all children of a copied internal node in one bulk call
function mas_dup_alloc(src: number, dst: number, count: number): boolean {
  const type = mte_node_type(dst);
  const ds = slot_idx(dst, type);
  const tmp = dup_children;
  if (!kmem_cache_alloc_bulk(maple_node_cache, count, tmp, 0)) {
    for (let i = 0; i < count; i++) mem32[ds + i] = 0;
    return false;
  }
  this_cpu_add(c_nodes_allocated, count);
  for (let i = 0; i < count; i++) mem32[ds + i] = tmp[i];
  void src;
  return true;
}
const dup_children = new Int32Array(MAPLE_NODE_SLOTS);

// lib/maple_tree.c __mt_dup (6.8): copy a tree node for node, in DFS pre-order; the copy has the
// same shape (the same leaf boundaries) as the source. Returns 0 or -ENOMEM.
export function __mt_dup(tree: number, new_tree: number): number {
  if (!mtree_empty(new_tree)) return -EINVAL;
  const root = mt_root(tree);
  mem32[(new_tree >> 2) + MT_FLAGS] = mem32[(tree >> 2) + MT_FLAGS];
  if (!xa_is_node(root)) {
    set_mt_root(new_tree, root);
    return 0;
  }
  const new_root = kmem_cache_alloc(maple_node_cache);
  if (!new_root) return -ENOMEM;
  this_cpu_inc(c_nodes_allocated);
  // Walk both trees together: (source node, copy, limits), children visited left to right.
  const stack: number[] = [mte_safe_root(root), new_root];
  while (stack.length) {
    const dst = stack.pop()!;
    const src = stack.pop()!;
    const parent = mem32[(dst >> 2) + N_PARENT];
    const pslot = mem32[(dst >> 2) + N_PSLOT];
    memcpy(dst, src, MAPLE_NODE_SIZE);
    if (dst !== new_root) set_parent_raw(dst, parent, pslot);
    const type = mte_node_type(src);
    if (ma_is_leaf(type)) continue;
    const count = dead_node_end(src, type) + 1;
    if (!mas_dup_alloc(src, dst, count)) {
      mte_destroy_walk(new_root, new_tree);
      return -ENOMEM;
    }
    const ss = slot_idx(src, type);
    const ds = slot_idx(dst, type);
    for (let i = count - 1; i >= 0; i--) {
      mem32[(mem32[ds + i] >> 2) + N_PARENT] = dst;
      mem32[(mem32[ds + i] >> 2) + N_PSLOT] = i;
      stack.push(mem32[ss + i], mem32[ds + i]);
    }
  }
  set_parent_tree(new_root, new_tree);
  set_mt_root(new_tree, mte_mk_root(new_root));
  return 0;
}

/* ---------------------------------------------------------------- validation and inspection */

const K_MT_VALIDATE = knob_index('debug.mt_validate');

function validate_after_store(mas: MaState): void {
  if (kconfig(K_MT_VALIDATE)) mt_validate(mas.tree);
}

export interface MapleTreeShape {
  height: number;
  /** Every node, internal and leaf. */
  nodes: number;
  /** Entries (slots in use, NULL ranges included) of each leaf, left to right. */
  leaves: number[];
}

function fail(msg: string): never {
  throw new MapleTreeError(`mt_validate: ${msg}`);
}

// lib/maple_tree.c mt_validate: every invariant of the tree, or a MapleTreeError naming the first broken one
export function mt_validate(tree: number): MapleTreeShape {
  const root = mt_root(tree);
  const shape: MapleTreeShape = { height: mt_height(tree), nodes: 0, leaves: [] };
  if (!xa_is_node(root)) {
    if (shape.height !== 0) fail(`height ${shape.height} without a root node`);
    return shape;
  }
  const alloc = mt_is_alloc(tree);
  let prev_entry = 1; // not NULL: the tree may start with NULL
  let leaf_depth = -1;
  const walk = (node: number, min: number, max: number, depth: number, is_root: boolean): number => {
    shape.nodes++;
    if (ma_dead_node(node)) fail(`dead node ${node} in the tree`);
    const type = mte_node_type(node);
    if (type !== maple_leaf_64 && type !== maple_range_64 && type !== maple_arange_64) fail(`node ${node} has type ${type}`);
    if (is_root !== mte_is_root(node)) fail(`node ${node}: root flag ${mte_is_root(node)} at depth ${depth}`);
    const leaf = ma_is_leaf(type);
    if (!leaf && alloc && type !== maple_arange_64) fail(`internal node ${node} of an allocation tree is not arange_64`);
    const end = ma_data_end(node, type, max);
    if (end < mt_min_slots[type] && max !== ULONG_MAX) fail(`node ${node} [${min}, ${max}] has ${end + 1} slots, below the minimum ${mt_min_slots[type] + 1}`);
    const s = slot_idx(node, type);
    let lo = min;
    let max_gap = 0;
    for (let i = 0; i <= end; i++) {
      const hi = i < mt_pivots[type] ? memf64[(node >> 3) + N_PIVOTS_F64 + i] : max;
      if (i < end && hi === 0 && i !== 0) fail(`node ${node}: missing pivot ${i}`);
      if (hi < lo || hi > max) fail(`node ${node}: pivot ${i} = ${hi} outside [${lo}, ${max}]`);
      if (i === end && hi !== max) fail(`node ${node}: last pivot ${hi} is not the node max ${max}`);
      const entry = mem32[s + i];
      if (leaf) {
        if (!entry && !prev_entry) fail(`two NULL ranges side by side ending at ${hi} in node ${node}`);
        if (!entry && i === end && max !== ULONG_MAX) fail(`leaf ${node} [${min}, ${max}] ends in NULL but is not the right-most`);
        if (!entry) max_gap = Math.max(max_gap, hi - lo + 1);
        prev_entry = entry;
      } else {
        if (!entry) fail(`internal node ${node} lacks a child at ${i}`);
        if (mte_parent(entry) !== node || mte_parent_slot(entry) !== i) fail(`child ${entry} of ${node}[${i}] points at ${mte_parent(entry)}[${mte_parent_slot(entry)}]`);
        const child_gap = walk(entry, lo, hi, depth + 1, false);
        if (alloc) {
          if (gap(node, i) !== child_gap) fail(`gap ${node}[${i}] = ${gap(node, i)}, child's largest gap is ${child_gap}`);
          max_gap = Math.max(max_gap, child_gap);
        }
      }
      lo = hi + 1;
    }
    for (let i = end + 1; i < mt_slots[type]; i++) {
      if (i < mt_pivots[type] && memf64[(node >> 3) + N_PIVOTS_F64 + i] !== 0) fail(`node ${node}: pivot ${i} set beyond the end ${end}`);
      if (mem32[s + i] && i !== mt_slots[type] - 1) fail(`node ${node}: slot ${i} set beyond the end ${end}`);
    }
    if (alloc && type === maple_arange_64) {
      for (let i = end + 1; i < mt_slots[type]; i++) if (gap(node, i) !== 0) fail(`gap ${node}[${i}] beyond the end is not 0`);
      if (gap(node, ma_meta_gap(node)) !== max_gap) fail(`node ${node}: meta gap slot ${ma_meta_gap(node)} is not the largest gap ${max_gap}`);
    }
    if (leaf) {
      if (leaf_depth < 0) leaf_depth = depth;
      else if (leaf_depth !== depth) fail(`leaves at depths ${leaf_depth} and ${depth}`);
      shape.leaves.push(end + 1);
    }
    return max_gap;
  };
  walk(mte_safe_root(root), 0, ULONG_MAX, 1, true);
  if (leaf_depth !== shape.height) fail(`height flag ${shape.height}, leaves at depth ${leaf_depth}`);
  return shape;
}

/** The tree's nodes as text, one line each (lib/maple_tree.c mt_dump). */
export function mt_dump(tree: number): string {
  const root = mt_root(tree);
  if (!xa_is_node(root)) return `maple_tree ${tree}: root entry ${root}\n`;
  const lines = [`maple_tree ${tree}: height ${mt_height(tree)}`];
  const names = ['dense', 'leaf_64', 'range_64', 'arange_64'];
  const dump = (node: number, min: number, max: number, depth: number) => {
    const type = mte_node_type(node);
    const end = ma_data_end(node, type, max);
    const s = slot_idx(node, type);
    const parts: string[] = [];
    let lo = min;
    for (let i = 0; i <= end; i++) {
      const hi = i < mt_pivots[type] ? memf64[(node >> 3) + N_PIVOTS_F64 + i] : max;
      parts.push(`${lo.toString(16)}-${hi.toString(16)}:${mem32[s + i]}`);
      lo = hi + 1;
    }
    lines.push(`${'  '.repeat(depth)}${names[type]} ${node} [${min.toString(16)}, ${max.toString(16)}] ${parts.join(' ')}`);
    if (!ma_is_leaf(type)) {
      lo = min;
      for (let i = 0; i <= end; i++) {
        const hi = i < mt_pivots[type] ? memf64[(node >> 3) + N_PIVOTS_F64 + i] : max;
        dump(mem32[s + i], lo, hi, depth + 1);
        lo = hi + 1;
      }
    }
  };
  dump(mte_safe_root(root), 0, ULONG_MAX, 1);
  return lines.join('\n') + '\n';
}

/** Entries of the tree in order: [first, last, entry], NULL ranges left out. */
export function mt_entries(tree: number): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  const mas = new MaState(tree, 0, 0);
  for (let e = mas_find(mas, ULONG_MAX); e; e = mas_find(mas, ULONG_MAX)) out.push([mas.index, mas.last, e]);
  return out;
}
