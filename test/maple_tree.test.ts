// The maple tree against a reference interval map, with every invariant checked after every
// operation, and its node accounting against the slab's.

import { describe, expect, it } from 'vitest';
import { start_kernel } from '../src/kernel/init/main.ts';
import { resolve_config } from '../src/kernel/config.ts';
import { define_global } from '../src/machine/symbols.ts';
import { do_safe_point } from '../src/machine/cpu.ts';
import { read_counter_by_name } from '../src/machine/counters.ts';
import { synchronize_rcu } from '../src/kernel/kernel/rcu.ts';
import { slab_stats } from '../src/kernel/mm/slab.ts';
import {
  MaState, MM_MT_FLAGS, MT_FLAGS_ALLOC_RANGE, MT_FLAGS_USE_RCU, ULONG_MAX, __mt_dup, maple_node_cache, mas_destroy,
  mas_expected_entries, mas_store, mas_store_gfp, mt_dump, mt_entries, mt_init_flags, mt_root_node, mt_validate, mtree_load,
} from '../src/kernel/lib/maple_tree.ts';
import { mem32, memf64 } from '../src/machine/memory.ts';
import { Prng } from '../src/lib/prng.ts';

const trees = define_global('test:maple_trees', 8 * 8);

function boot() {
  start_kernel({ nr_cpus: 1, mem_mb: 512, config: resolve_config(), clock: 'manual' });
}

type Range = [number, number, number];

/** The reference: disjoint [first, last, entry] ranges, NULL left out, as a store leaves them. */
function ref_store(ref: Range[], a: number, b: number, v: number): Range[] {
  const out: Range[] = [];
  for (const r of ref) {
    const [s, e, x] = r;
    if (e < a || s > b) out.push(r);
    else {
      if (s < a) out.push([s, a - 1, x]);
      if (e > b) out.push([b + 1, e, x]);
    }
  }
  if (v) out.push([a, b, v]);
  return out.sort((p, q) => p[0] - q[0]);
}

/** A random store: small ranges, ranges at existing edges, big spans, to ULONG_MAX, the whole range. */
function random_store(rng: Prng, ref: Range[], space: number, p_null: number): [number, number, number] {
  let a: number;
  let b: number;
  const r = rng.float();
  if (r < 0.002) {
    a = 0;
    b = ULONG_MAX;
  } else if (r < 0.01) {
    a = rng.int(0, space);
    b = ULONG_MAX;
  } else if (r < 0.35 && ref.length) {
    const [s0, e0] = rng.pick(ref);
    const k = rng.int(0, 5);
    a = k === 1 ? Math.max(0, s0 - 1) : k === 2 ? Math.min(ULONG_MAX, s0 + 1) : s0;
    b = k === 3 ? e0 + 1 : k === 4 ? Math.max(a, e0 - 1) : k === 5 ? e0 + rng.int(1, 500) : e0;
  } else {
    a = rng.int(0, space);
    b = a + (rng.chance(0.8) ? rng.int(0, 10) : rng.int(0, Math.floor(space / 20)));
  }
  b = Math.min(Math.max(a, b), ULONG_MAX);
  return [a, b, rng.chance(p_null) ? 0 : 8 * rng.int(1, 4000)];
}

describe('maple tree', () => {
  it('matches a reference interval map over 100,000 random stores and erases, valid after each', () => {
    boot();
    const seed = 20261122;
    const rng = new Prng(seed);
    const flag_sets = [MM_MT_FLAGS, MT_FLAGS_ALLOC_RANGE, MT_FLAGS_USE_RCU, 0];
    const OPS = 25_000; // per tree
    let max_height = 0;
    let reachable = 0;
    for (const [t, flags] of flag_sets.entries()) {
      const tree = trees.addr + t * 8;
      mt_init_flags(tree, flags);
      let ref: Range[] = [];
      const space = [2000, 100_000, 1_000_000, 50_000][t];
      for (let i = 0; i < OPS; i++) {
        // Grow, then mix, then mostly erase: trees get tall and come back down.
        const p_null = i < OPS * 0.4 ? 0.1 : i < OPS * 0.7 ? 0.35 : 0.8;
        const [a, b, v] = random_store(rng, ref, space, p_null);
        const where = `seed ${seed}, tree flags ${flags}, op ${i}: store [${a}, ${b}] = ${v}`;
        try {
          expect(mas_store_gfp(new MaState(tree, a, b), v)).toBe(0);
          ref = ref_store(ref, a, b, v);
          const shape = mt_validate(tree);
          max_height = Math.max(max_height, shape.height);
          if (i % 97 === 0 || i === OPS - 1) expect(mt_entries(tree)).toEqual(ref);
        } catch (e) {
          throw new Error(`${where}: ${(e as Error).message}\n${mt_dump(tree)}`);
        }
      }
      expect(mt_entries(tree)).toEqual(ref);
      for (const [s, e, x] of ref.slice(0, 50)) expect([mtree_load(tree, s), mtree_load(tree, e)]).toEqual([x, x]);
      reachable += mt_validate(tree).nodes;
    }
    expect(max_height).toBeGreaterThanOrEqual(3);
    // Every maple node the slab handed out is in a tree or waiting for a grace period.
    const awaiting = read_counter_by_name('sim.maple.nodes_rcu_freed') - read_counter_by_name('sim.maple.nodes_rcu_released');
    expect(awaiting).toBeGreaterThan(0);
    expect(slab_stats(maple_node_cache).active_objects).toBe(reachable + awaiting);
    synchronize_rcu();
    do_safe_point();
    expect(read_counter_by_name('sim.maple.nodes_rcu_freed')).toBe(read_counter_by_name('sim.maple.nodes_rcu_released'));
    expect(slab_stats(maple_node_cache).active_objects).toBe(reachable);
  });

  // A bulk load as 6.7's dup_mmap makes one: mas_expected_entries, then ascending stores without
  // RCU, then mas_destroy. Shapes worked out by hand from lib/maple_tree.c (6.7):
  // appends fill a leaf to 16 entries; the next split is, in bulk mode, at b_end - 6 (one less
  // when that slot is NULL); later, a full right leaf first pushes into its left sibling when the
  // two fit in 2*16 - 2 - 1 (leaf) - 1 (max is ULONG_MAX) = 28 slots, splitting at 14 (one more
  // when slot 14 is NULL and the right keeps more than 6).
  function bulk_load(entries: Array<[number, number]>): MaState {
    const tree = trees.addr;
    mt_init_flags(tree, MT_FLAGS_ALLOC_RANGE);
    const mas = new MaState(tree, 0, 0);
    expect(mas_expected_entries(mas, entries.length)).toBe(0);
    for (const [i, [first, last]] of entries.entries()) {
      mas.index = first;
      mas.last = last;
      mas_store(mas, 8 * (i + 1));
    }
    return mas;
  }

  it('bulk-loads adjacent ranges into leaves of 15, 11 and 6', () => {
    boot();
    const before = (k: string) => read_counter_by_name(`sim.maple.${k}`);
    const c0 = ['store_root', 'store_append', 'store_split', 'push_left'].map(before);
    // e_k = [10k, 10k+9], k = 1..30: NULL, e1..e30, NULL (32 entries). e15 splits the root
    // leaf at 10: [N, e1..e10] [e11..e15, N]; e26 pushes left at 14: [N, e1..e14] [e15..e26, N];
    // e30 cannot push (15 + 16 > 28) and splits at 10: [e15..e25] [e26..e30, N].
    const mas = bulk_load(Array.from({ length: 30 }, (_, i) => [10 * (i + 1), 10 * (i + 1) + 9]));
    mas_destroy(mas);
    expect(mt_validate(trees.addr).leaves).toEqual([15, 11, 6]);
    const c1 = ['store_root', 'store_append', 'store_split', 'push_left'].map(before);
    expect(c1.map((v, i) => v - c0[i])).toEqual([1, 26, 3, 1]);
    expect(mt_entries(trees.addr).map(([a, b]) => [a, b])).toEqual(Array.from({ length: 30 }, (_, i) => [10 * (i + 1), 10 * (i + 1) + 9]));
  });

  it('bulk-loads ranges with holes, as dup_mmap stores VMAs, into leaves of 16, 16, 16, 16, 10 and 7', () => {
    boot();
    // v_i = [0x10000 i, 0x10000 i + 0x7fff], i = 1..40, a NULL between each: every store adds
    // two entries. v8 splits [N..v8, N] (17) at 10, a NULL, so at 9: [10] [7]; v13 pushes left,
    // split 14 is a NULL, so 15: [16] [11]; v16 splits at 9 again: [16] [10] [7]; and so on.
    const mas = bulk_load(Array.from({ length: 40 }, (_, i) => [0x10000 * (i + 1), 0x10000 * (i + 1) + 0x7fff]));
    mas_destroy(mas);
    expect(mt_validate(trees.addr).leaves).toEqual([16, 16, 16, 16, 10, 7]);
    expect(mt_entries(trees.addr).length).toBe(40);
  });

  it('mas_destroy refills a short last leaf from its left sibling (mas_destroy_rebalance)', () => {
    boot();
    // 15 adjacent ranges: [N, e1..e10] [e11..e15, N]. Erasing e15 and e14 in bulk mode (node
    // stores allowed below the minimum) leaves [e11, e12, e13, N]: 4 entries, below 6 - 1.
    // mas_destroy_rebalance: split = 16 / 2 = 8 (slot 8 holds e8), so e9 and e10 move right:
    // [N, e1..e8] (max 89) and [e9..e13, N].
    const mas = bulk_load(Array.from({ length: 15 }, (_, i) => [10 * (i + 1), 10 * (i + 1) + 9]));
    for (const k of [15, 14]) {
      mas.index = 10 * k;
      mas.last = 10 * k + 9;
      mas_store(mas, 0);
    }
    expect(mt_validate(trees.addr).leaves).toEqual([11, 4]);
    const rebalances = read_counter_by_name('sim.maple.destroy_rebalance');
    mas_destroy(mas);
    expect(read_counter_by_name('sim.maple.destroy_rebalance') - rebalances).toBe(1);
    expect(mt_validate(trees.addr).leaves).toEqual([9, 6]);
    expect(mt_dump(trees.addr).split('\n')[1]).toMatch(/^  arange_64 \d+ \[0, 1fffffffffffff\] 0-59:\d+ 5a-1fffffffffffff:\d+$/);
    expect(mt_entries(trees.addr).map(([a, b, e]) => [a, b, e])).toEqual(Array.from({ length: 13 }, (_, i) => [10 * (i + 1), 10 * (i + 1) + 9, 8 * (i + 1)]));
  });

  it('mt_validate rejects a corrupted tree, naming what is wrong', () => {
    boot();
    const leaf_pivot = (leaf: number, i: number) => (leaf >> 3) + 3 + i; // pivots from byte 24
    const slot = (node: number, i: number, internal_alloc: boolean) => (node >> 2) + (internal_alloc ? 44 : 36) + i;
    const build = () => {
      mas_destroy(bulk_load(Array.from({ length: 30 }, (_, i) => [10 * (i + 1), 10 * (i + 1) + 9])));
      const root = mt_root_node(trees.addr);
      return { root, leaf0: mem32[slot(root, 0, true)], leaf1: mem32[slot(root, 1, true)] };
    };
    let t = build();
    memf64[leaf_pivot(t.leaf0, 3)] = memf64[leaf_pivot(t.leaf0, 5)];
    expect(() => mt_validate(trees.addr)).toThrow(/^mt_validate: node \d+: pivot 4 = 49 outside \[60, 149\]$/);
    t = build();
    mem32[slot(t.leaf0, 3, false)] = 0;
    mem32[slot(t.leaf0, 4, false)] = 0;
    expect(() => mt_validate(trees.addr)).toThrow(/^mt_validate: two NULL ranges side by side ending at 49/);
    t = build();
    mem32[slot(t.root, 1, true)] = t.leaf0;
    expect(() => mt_validate(trees.addr)).toThrow(/^mt_validate: child \d+ of \d+\[1\] points at \d+\[0\]$/);
    build();
    expect(mt_validate(trees.addr).leaves).toEqual([15, 11, 6]);
  });

  it('__mt_dup copies a tree node for node: the same entries in the same leaves', () => {
    boot();
    const src = trees.addr;
    const dst = trees.addr + 8;
    mt_init_flags(src, MM_MT_FLAGS);
    const rng = new Prng(7);
    let ref: Range[] = [];
    for (let i = 0; i < 3000; i++) {
      const [a, b, v] = random_store(rng, ref, 200_000, 0.2);
      mas_store_gfp(new MaState(src, a, b), v);
      ref = ref_store(ref, a, b, v);
    }
    mt_init_flags(dst, MM_MT_FLAGS);
    const allocated = read_counter_by_name('sim.maple.nodes_allocated');
    expect(__mt_dup(src, dst)).toBe(0);
    const a = mt_validate(src);
    const b = mt_validate(dst);
    expect(b.leaves).toEqual(a.leaves);
    expect(b.height).toBe(a.height);
    expect(read_counter_by_name('sim.maple.nodes_allocated') - allocated).toBe(a.nodes);
    expect(mt_entries(dst)).toEqual(mt_entries(src));
    // The copy is independent of the source.
    mas_store_gfp(new MaState(dst, 0, ULONG_MAX), 0);
    expect(mt_entries(dst)).toEqual([]);
    expect(mt_entries(src)).toEqual(ref);
  });
});
