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
  mas_expected_entries, mas_store, mas_store_gfp, mt_dump, mt_entries, mt_init_flags, mt_validate, mtree_load,
} from '../src/kernel/lib/maple_tree.ts';
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

  it('builds a bulk tree packed to the left, then leaves the last leaf above the minimum', () => {
    boot();
    for (const n of [40, 200, 1000]) {
      const tree = trees.addr;
      mt_init_flags(tree, MT_FLAGS_ALLOC_RANGE);
      const mas = new MaState(tree, 0, 0);
      expect(mas_expected_entries(mas, n)).toBe(0);
      // Ascending ranges with a hole between each, as dup_mmap stores VMAs.
      for (let i = 0; i < n; i++) {
        mas.index = 0x10000 * (i + 1);
        mas.last = mas.index + 0x8000 - 1;
        mas_store(mas, 8 * (i + 1));
      }
      mas_destroy(mas);
      const { leaves } = mt_validate(tree);
      expect(leaves.reduce((x, y) => x + y, 0)).toBe(2 * n + 1);
      // Every leaf but the last two is packed: full, or one short where a split avoids ending on NULL.
      for (const l of leaves.slice(0, -2)) expect(l).toBeGreaterThanOrEqual(15);
      expect(leaves.at(-1)).toBeGreaterThanOrEqual(5);
      expect(mt_entries(tree).length).toBe(n);
    }
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
