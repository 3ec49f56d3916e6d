// The mm layer on one CPU: mappings, the heap, fork, exec, and the brk2 difference between
// dup_mmap strategies, with exact counts.

import { describe, expect, it } from 'vitest';
import { start_kernel } from '../src/kernel/init/main.ts';
import { DEFAULT_PRESET, resolve_config } from '../src/kernel/config.ts';
import { do_safe_point, set_current } from '../src/machine/cpu.ts';
import { read_counter_by_name } from '../src/machine/counters.ts';
import { synchronize_rcu } from '../src/kernel/kernel/rcu.ts';
import { kernel_clone, mmput, task_mm } from '../src/kernel/kernel/fork.ts';
import { mt_entries, mt_validate } from '../src/kernel/lib/maple_tree.ts';
import { MM_BRK, MM_START_BRK, PAGE_SIZE, mm_get, mm_map_count, mm_mt, vm_end, vm_start } from '../src/kernel/mm/mm_types.ts';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../src/kernel/mm/mmap.ts';
import { find_vma } from '../src/kernel/mm/vma.ts';
import { anon_vma_chain_length } from '../src/kernel/mm/rmap.ts';
import { brk, mmap, munmap, sbrk } from '../src/user/libc.ts';
import { build_parent_image, default_recipe } from '../src/user/exec_image.ts';
import { probe_workload } from '../src/runner/probe.ts';
import { recipe_of } from '../src/runner/point.ts';
import brk2 from '../workloads/brk2.ts';
import type { ThroughputWorkload } from '../src/runner/workload.ts';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/** Boot and become a process built from the default recipe. */
function boot_process(sets: string[] = []) {
  const config = resolve_config(DEFAULT_PRESET, sets);
  const k = start_kernel({ nr_cpus: 1, mem_mb: 128, config, clock: 'manual' });
  const task = kernel_clone(0);
  set_current(task);
  const image = build_parent_image(recipe_of(config, 1));
  return { k, task, mm: task_mm(task), image };
}

function ranges(mm: number): Array<[number, number]> {
  return mt_entries(mm_mt(mm)).map(([, , vma]) => [vm_start(vma), vm_end(vma)]);
}

describe('mmap and munmap', () => {
  it('places mappings top-down, splits on partial unmap, replaces with MAP_FIXED', () => {
    const { mm } = boot_process();
    const count = mm_map_count(mm);
    const a = mmap(0, 16 * PAGE_SIZE, RW, ANON, 0, 0);
    const b = mmap(0, 4 * PAGE_SIZE, PROT_READ, ANON, 0, 0); // other protections: not merged with a
    expect(b).toBe(a - 4 * PAGE_SIZE); // top-down, right below
    expect(munmap(a + 4 * PAGE_SIZE, 4 * PAGE_SIZE)).toBe(0); // a hole in the middle of a
    const left = find_vma(mm, a);
    expect([vm_start(left), vm_end(left)]).toEqual([a, a + 4 * PAGE_SIZE]);
    const right = find_vma(mm, a + 4 * PAGE_SIZE);
    expect(vm_start(right)).toBe(a + 8 * PAGE_SIZE);
    expect(mmap(a + 6 * PAGE_SIZE, 4 * PAGE_SIZE, PROT_READ, ANON | MAP_FIXED, 0, 0)).toBe(a + 6 * PAGE_SIZE);
    expect(vm_start(find_vma(mm, a + 6 * PAGE_SIZE))).toBe(a + 6 * PAGE_SIZE);
    mt_validate(mm_mt(mm));
    // Unmapping across several VMAs detaches them all (the side tree needs a node for two or more).
    expect(munmap(a, 16 * PAGE_SIZE)).toBe(0);
    expect(find_vma(mm, a)).not.toBe(0);
    expect(vm_start(find_vma(mm, a))).toBeGreaterThanOrEqual(a + 16 * PAGE_SIZE);
    expect(mm_map_count(mm)).toBe(count + 1);
    mt_validate(mm_mt(mm));
  });

  it('merges a new anonymous mapping into a compatible neighbour', () => {
    const { mm } = boot_process();
    const a = mmap(0, 8 * PAGE_SIZE, RW, ANON, 0, 0);
    const merges = read_counter_by_name('sim.mm.vma_expand');
    const count = mm_map_count(mm);
    const b = mmap(0, 8 * PAGE_SIZE, RW, ANON, 0, 0);
    expect(b).toBe(a - 8 * PAGE_SIZE);
    expect(mm_map_count(mm)).toBe(count);
    expect(read_counter_by_name('sim.mm.vma_expand')).toBe(merges + 1);
    const vma = find_vma(mm, b);
    expect(vm_start(vma)).toBe(b);
    expect(vm_end(vma)).toBeGreaterThanOrEqual(a + 8 * PAGE_SIZE);
  });
});

describe('brk', () => {
  it('grows in place, shrinks by splitting, refuses to go below the start of the heap', () => {
    const { mm } = boot_process();
    const start = mm_get(mm, MM_START_BRK);
    const top = sbrk(0);
    expect(top).toBeGreaterThan(start);
    const vma = find_vma(mm, top - 1);
    expect(vm_end(vma)).toBe(top);
    expect(brk(top + 2 * PAGE_SIZE)).toBe(0); // the parent's own heap: expanded in place
    expect(vm_end(find_vma(mm, top - 1))).toBe(top + 2 * PAGE_SIZE);
    expect(brk(top + PAGE_SIZE)).toBe(0);
    expect(vm_end(find_vma(mm, top - 1))).toBe(top + PAGE_SIZE);
    // Below the start of the heap the kernel keeps the old break (glibc's brk() cannot tell).
    expect(brk(start - PAGE_SIZE)).toBe(0);
    expect(mm_get(mm, MM_BRK)).toBe(top + PAGE_SIZE);
    expect(sbrk(0)).toBe(top + PAGE_SIZE);
    mt_validate(mm_mt(mm));
  });
});

describe('fork', () => {
  for (const preset of ['v6.7', 'v6.8']) {
    it(`copies every VMA (${preset}), and the child's inherited heap is not merged with`, () => {
      const config = resolve_config(preset);
      start_kernel({ nr_cpus: 1, mem_mb: 128, config, clock: 'manual' });
      const parent = kernel_clone(0);
      set_current(parent);
      build_parent_image(recipe_of(config, 1));
      const child = kernel_clone(0);
      const pmm = task_mm(parent);
      const cmm = task_mm(child);
      expect(ranges(cmm)).toEqual(ranges(pmm));
      expect(mm_map_count(cmm)).toBe(mm_map_count(pmm));
      mt_validate(mm_mt(cmm));
      set_current(child);
      const heap = find_vma(cmm, sbrk(0) - 1);
      expect(anon_vma_chain_length(heap)).toBe(2);
      const created = read_counter_by_name('sim.mm.vma_new');
      const old = sbrk(PAGE_SIZE);
      expect(read_counter_by_name('sim.mm.vma_new')).toBe(created + 1); // brk2's "unshared" VMA
      expect(vm_start(find_vma(cmm, old))).toBe(old);
      // The parent's heap was not touched by the child.
      expect(ranges(pmm)).not.toEqual(ranges(cmm));
    });
  }

  it("frees everything when the last user drops an mm", () => {
    const { task, mm } = boot_process();
    const child = kernel_clone(0);
    mmput(task_mm(child));
    mmput(mm);
    void task;
    synchronize_rcu();
    do_safe_point();
    expect(read_counter_by_name('sim.slab.vm_area_struct.alloc')).toBe(read_counter_by_name('sim.slab.vm_area_struct.free'));
    expect(read_counter_by_name('sim.slab.anon_vma_chain.alloc')).toBe(read_counter_by_name('sim.slab.anon_vma_chain.free'));
    expect(read_counter_by_name('sim.slab.anon_vma.alloc')).toBe(read_counter_by_name('sim.slab.anon_vma.free'));
  });
});

describe('exec image', () => {
  it('lays out stack, program, heap, ld.so, libraries and mappings as the recipe says', () => {
    const { mm, image } = boot_process();
    const recipe = default_recipe({ libs: 4, anon_maps: 3, heap_grows: 3, brk_gap_pages: 7 }, 1);
    // stack + 4 program segments + ld.so 5 + vvar + vdso + 4 x (5 segments, PROT_NONE hole, bss) + heap
    // + shared area, and the anonymous mappings (adjacent ones merge)
    const fixed = 1 + 4 + 5 + 2 + 4 * 7 + 1 + 1;
    expect(mm_map_count(mm)).toBeGreaterThan(fixed);
    expect(mm_map_count(mm)).toBeLessThanOrEqual(fixed + recipe.anon_maps.length);
    expect(mt_entries(mm_mt(mm)).length).toBe(mm_map_count(mm));
    const stack = find_vma(mm, 0x7ffffffff000 - PAGE_SIZE);
    expect(vm_end(stack) - vm_start(stack)).toBe(recipe.stack_pages * PAGE_SIZE);
    const heap = find_vma(mm, image.start_brk);
    expect([vm_start(heap), vm_end(heap)]).toEqual([image.start_brk, image.brk]);
    expect(image.brk - image.start_brk).toBe((recipe.heap_pages + recipe.heap_grows.reduce((a, b) => a + b, 0)) * PAGE_SIZE);
    expect(mt_validate(mm_mt(mm)).leaves.reduce((a, b) => a + b, 0)).toBeGreaterThan(mm_map_count(mm));
  });
});

describe('brk2 after fork: bulk_store (v6.7) against __mt_dup (v6.8)', () => {
  const per_loop = (preset: string) => {
    const config = resolve_config(preset);
    const r = probe_workload(config, recipe_of(config, 1), brk2 as ThroughputWorkload, 10, 2000);
    return (key: string) => (r.per_op.get(`sim.${key}`) ?? 0) * 2; // a loop is 2 brk calls
  };

  it('with the default parent, the bulk-built child takes a spanning store every loop and 3x the nodes', () => {
    const bulk = per_loop('v6.7');
    const dup = per_loop('v6.8');
    expect(bulk('maple.store_spanning')).toBeGreaterThanOrEqual(1);
    expect(dup('maple.store_spanning')).toBe(0);
    expect(bulk('maple.nodes_allocated')).toBeGreaterThanOrEqual(3 * dup('maple.nodes_allocated'));
    // The grow step is a slot store under both.
    expect(bulk('maple.store_slot')).toBe(1);
    expect(dup('maple.store_slot')).toBe(1);
    expect(bulk('mm.vma_expand')).toBe(1);
    expect(dup('mm.vma_expand')).toBe(1);
    expect(bulk('mm.brk')).toBe(2);
  });
});
