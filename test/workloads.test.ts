// Each workload's loop, counted per operation by the deterministic probe (one forked task, a
// manual clock), against what Linux's rules give when worked by hand: on the tiny layout
// (test/helpers/boot.ts), whose tree is small enough to follow store by store, and for brk2 on
// the shipped capture of will-it-scale's own parent.

import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { resolve_config } from '../src/kernel/config.ts';
import { probe_workload } from '../src/runner/probe.ts';
import { DEFAULT_MAPS, maps_layout } from '../src/runner/layout.ts';
import { exact_metrics, resolve_params, type ThroughputWorkload } from '../src/runner/workload.ts';
import { TINY_MAPS } from './helpers/boot.ts';
import brk1 from '../workloads/brk1.ts';
import brk2 from '../workloads/brk2.ts';
import getppid1 from '../workloads/getppid1.ts';
import mmap1 from '../workloads/mmap1.ts';
import sched_yield from '../workloads/sched_yield.ts';

/** Per-op counters of a probe, `sim.` left off; only the ones given are compared. */
function per_op(preset: string, layout: string, w: ThroughputWorkload): (keys: string[]) => Record<string, number> {
  const r = probe_workload(resolve_config(preset), maps_layout(layout), w, 100, 1000, 'process', resolve_params(w, {}));
  return (keys) => Object.fromEntries(keys.map((k) => [k, r.per_op.get(`sim.${k}`) ?? 0]));
}

const MAPLE = ['maple.store_slot', 'maple.store_node', 'maple.store_bnode', 'maple.store_split', 'maple.store_spanning', 'maple.store_root', 'maple.nodes_allocated', 'maple.prealloc_requested', 'maple.nodes_rcu_freed'];

describe('the loops, per operation, on the tiny layout', () => {
  it('getppid1 and sched_yield: one syscall, one yield', () => {
    expect(per_op('v6.8', TINY_MAPS, getppid1)(['syscalls', 'sched.yields'])).toEqual({ syscalls: 1, 'sched.yields': 0 });
    expect(per_op('v6.8', TINY_MAPS, sched_yield)(['syscalls', 'sched.yields'])).toEqual({ syscalls: 1, 'sched.yields': 1 });
  });

  for (const preset of ['v6.7', 'v6.8']) {
    it(`brk1 (${preset}): a new VMA after the inherited heap and its removal, one node store each`, () => {
      // grow: vma_iter_store_gfp of [brk, brk+P) into the NULL after the heap (r_min == index:
      // new_end = end + 1, a node store in RCU mode, one node); shrink: the side tree's root
      // store, then the cleared range merges with the NULL after it: a node store, one node.
      expect(per_op(preset, TINY_MAPS, brk1)([...MAPLE, 'mm.vma_new', 'mm.brk', 'syscalls'])).toEqual({
        'maple.store_slot': 0, 'maple.store_node': 1, 'maple.store_bnode': 0, 'maple.store_split': 0, 'maple.store_spanning': 0, 'maple.store_root': 0.5,
        'maple.nodes_allocated': 1, 'maple.prealloc_requested': 0, 'maple.nodes_rcu_freed': 1, 'mm.vma_new': 0.5, 'mm.brk': 1, syscalls: 1,
      });
    });

    it(`brk2 (${preset}): grow is a slot store, shrink two node stores, 2 nodes a loop`, () => {
      // The bulk child's first leaf is [N, 5 program VMAs, bss, heap, N, vvar, vdso] (11), the
      // __mt_dup child's the parent's [N, ..., heap, N, vvar] (10); sbrk's VMA makes it 12 or
      // 11. grow: [B, B+2P) over B and the NULL after it: new_end = end, offset_end - offset =
      // 1: a slot store, nothing to preallocate. shrink: __split_vma stores [B, B+P) (new_end =
      // end + 1: a node store, mas_preallocate asks for 1), the side tree's root store, and the
      // NULL over [B+P, B+2P) merges with the NULL after it (a node store, one node).
      expect(per_op(preset, TINY_MAPS, brk2)([...MAPLE, 'mm.vma_split', 'mm.vma_expand', 'mm.vma_merge', 'slab.vm_area_struct.alloc'])).toEqual({
        'maple.store_slot': 0.5, 'maple.store_node': 1, 'maple.store_bnode': 0, 'maple.store_split': 0, 'maple.store_spanning': 0, 'maple.store_root': 0.5,
        'maple.nodes_allocated': 1, 'maple.prealloc_requested': 0.5, 'maple.nodes_rcu_freed': 1,
        'mm.vma_split': 0.5, 'mm.vma_expand': 0.5, 'mm.vma_merge': 0.5, 'slab.vm_area_struct.alloc': 0.5,
      });
    });

    it(`mmap1 (${preset}): 128 MiB below [vvar] and back, a node store each way`, () => {
      // mmap: the top of the NULL below [vvar] (end_piv == last: new_end = end + 1), preallocated
      // (1 node); munmap: the side tree's root store, then the NULL merges with the one below.
      expect(per_op(preset, TINY_MAPS, mmap1)([...MAPLE, 'mm.vma_new', 'mm.mmap', 'mm.munmap', 'syscalls'])).toEqual({
        'maple.store_slot': 0, 'maple.store_node': 2, 'maple.store_bnode': 0, 'maple.store_split': 0, 'maple.store_spanning': 0, 'maple.store_root': 1,
        'maple.nodes_allocated': 2, 'maple.prealloc_requested': 1, 'maple.nodes_rcu_freed': 2, 'mm.vma_new': 1, 'mm.mmap': 1, 'mm.munmap': 1, syscalls: 2,
      });
    });
  }
});

describe('brk2 from will-it-scale\'s own parent (the shipped capture)', () => {
  it('6.7\'s bulk-built child: a split and a bnode store on shrink, a spanning store on grow, 18 nodes a loop', () => {
    // Worked by hand from the capture: its 148 VMAs and 12 NULL ranges are entries 0..159, the
    // NULLs at 0, 8, 13, 20, 26, 48, 69, 80, 113, 141, 157 and 159. The bulk build splits the
    // root leaf at 10, then alternately pushes left (at 14) and splits at b_end - 6: leaves of
    // 15 and 11 in turn; the root's 11th child splits it at 10 - 4 = 6, and the first leaf under
    // the new right node cannot push left: [15 x 9, 11, 14]. The first leaf is [N, program x 5,
    // bss, heap, N, libXdmcp x 4, N, libstdc++]; sbrk fills it to 16. shrink: __split_vma's
    // store makes 17: no sibling to push into (16 + 14 >= 29 on the right), split at 16/2 = 8,
    // [..heap, B] [B+P.., N, ...]: 7 preallocated (1 + 2 x height 3), 3 used. The NULL over
    // [B+P, B+2P) merges the right leaf's first two slots: new_end 6 <= mt_min_slots refuses the
    // node store, the big node keeps 7 entries: one node (bnode). grow: [B, B+2P) runs past the
    // left leaf's end: a spanning store (10 preallocated), the two leaves merge back into 16,
    // with a new parent and root: 3 used.
    const r = per_op('v6.7', DEFAULT_MAPS, brk2)([...MAPLE, 'maple.nodes_freed_unused']);
    expect(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v * 2]))).toEqual({
      'maple.store_slot': 0, 'maple.store_node': 0, 'maple.store_bnode': 1, 'maple.store_split': 1, 'maple.store_spanning': 1, 'maple.store_root': 1,
      'maple.nodes_allocated': 18, 'maple.prealloc_requested': 17, 'maple.nodes_rcu_freed': 7, 'maple.nodes_freed_unused': 11,
    });
    const child = probe_workload(resolve_config('v6.7'), maps_layout(DEFAULT_MAPS), brk2 as ThroughputWorkload, 0, 0).child;
    expect(child.leaves).toEqual([15, 15, 15, 15, 15, 15, 15, 15, 15, 11, 14]);
  });

  it('6.8\'s __mt_dup child keeps the parent\'s leaves; after sbrk the heap\'s leaf has room: 2 nodes a loop', () => {
    const probe = probe_workload(resolve_config('v6.8'), maps_layout(DEFAULT_MAPS), brk2 as ThroughputWorkload, 100, 1000);
    expect(probe.child.leaves).toEqual(probe.parent.leaves);
    // The replayed parent's first leaf is full (16: the heap at slot 7, as in the bulk child, with
    // libXdmcp's four segments and libstdc++'s first two after it). sbrk's 17th entry pushes
    // right into the 9-entry second leaf (16 + 8 < 29), split at 24 - 14 = 10: 11 on the left.
    // Then the loop is the tiny layout's: slot, node, node.
    expect(probe.parent.leaves[0]).toBe(16);
    expect(Object.fromEntries(MAPLE.map((k) => [k, (probe.per_op.get(`sim.${k}`) ?? 0) * 2]))).toEqual({
      'maple.store_slot': 1, 'maple.store_node': 2, 'maple.store_bnode': 0, 'maple.store_split': 0, 'maple.store_spanning': 0, 'maple.store_root': 1,
      'maple.nodes_allocated': 2, 'maple.prealloc_requested': 1, 'maple.nodes_rcu_freed': 2,
    });
  });

  it('the exact metrics come out the same under different host load', async () => {
    const layout = maps_layout(DEFAULT_MAPS);
    const run = () => probe_workload(resolve_config('v6.7'), layout, brk2 as ThroughputWorkload, 1000, 10000).per_op;
    const quiet = run();
    // Load the host: a thread spinning on the other core while the probe runs again.
    const spinner = new Worker('const end = Date.now() + 60000; while (Date.now() < end) {}', { eval: true });
    const loaded = run();
    await spinner.terminate();
    const exact = exact_metrics(brk2, [...quiet.keys()].map((k) => `${k}_per_op`));
    expect(exact.length).toBeGreaterThan(20);
    for (const m of exact) expect(loaded.get(m.replace(/_per_op$/, '')), m).toBe(quiet.get(m.replace(/_per_op$/, '')));
  });
});
