// The mm layer on one CPU: mappings, protections, the heap, fork and exec, with every expected
// address and count worked out from Linux's rules on the tiny layout (test/helpers/boot.ts),
// and the parent replayed from the real capture compared with the capture itself.

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { do_safe_point, set_current } from '../src/machine/cpu.ts';
import { read_counter_by_name } from '../src/machine/counters.ts';
import { synchronize_rcu } from '../src/kernel/kernel/rcu.ts';
import { kernel_clone, mmput, task_mm } from '../src/kernel/kernel/fork.ts';
import { mt_entries, mt_validate } from '../src/kernel/lib/maple_tree.ts';
import { MM_BRK, PAGE_SIZE, VM_ACCOUNT, mm_get, mm_map_count, mm_mt, vm_end, vm_flags, vm_start, vma_anon_vma } from '../src/kernel/mm/mm_types.ts';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../src/kernel/mm/mmap.ts';
import { find_vma } from '../src/kernel/mm/vma.ts';
import { anon_vma_chain_length } from '../src/kernel/mm/rmap.ts';
import { brk, mmap, mprotect, munmap, sbrk, write_fault } from '../src/user/libc.ts';
import { MapsError, parse_maps, show_maps } from '../src/user/maps.ts';
import { plan_replay } from '../src/user/replay.ts';
import { DEFAULT_MAPS } from '../src/runner/layout.ts';
import { TINY, TINY_MAPS, boot_layout } from './helpers/boot.ts';

const P = PAGE_SIZE;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function ranges(mm: number): Array<[number, number]> {
  return mt_entries(mm_mt(mm)).map(([, , vma]) => [vm_start(vma), vm_end(vma)]);
}

function counter(name: string): number {
  return read_counter_by_name(name);
}

describe('mmap and munmap', () => {
  it('places mappings top-down, splits on a partial unmap, replaces with MAP_FIXED', () => {
    const { mm } = boot_layout(TINY_MAPS);
    // The highest gap below mmap_base (ld.so's end) that fits 16 pages ends at [vvar].
    const a = mmap(0, 16 * P, RW, ANON, 0, 0);
    expect(a).toBe(TINY.vvar - 16 * P);
    const b = mmap(0, 4 * P, PROT_READ, ANON, 0, 0); // other protections: not merged with a
    expect(b).toBe(a - 4 * P);
    expect(munmap(a + 4 * P, 4 * P)).toBe(0);
    expect(ranges(mm).filter(([s]) => s >= b && s < TINY.vvar)).toEqual([[b, a], [a, a + 4 * P], [a + 8 * P, a + 16 * P]]);
    // MAP_FIXED over the hole and the start of the right part: the right part is split at its end.
    expect(mmap(a + 6 * P, 4 * P, PROT_READ, ANON | MAP_FIXED, 0, 0)).toBe(a + 6 * P);
    expect(ranges(mm).filter(([s]) => s >= b && s < TINY.vvar)).toEqual([[b, a], [a, a + 4 * P], [a + 6 * P, a + 10 * P], [a + 10 * P, a + 16 * P]]);
    mt_validate(mm_mt(mm));
    // Unmapping across three VMAs detaches them all; what follows a is [vvar] again.
    expect(munmap(a, 16 * P)).toBe(0);
    expect(vm_start(find_vma(mm, a))).toBe(TINY.vvar);
    expect(mm_map_count(mm)).toBe(TINY.vmas + 1);
    mt_validate(mm_mt(mm));
  });

  it('merges a new anonymous mapping into the one above it (mmap_region expands next)', () => {
    const { mm } = boot_layout(TINY_MAPS);
    const a = mmap(0, 8 * P, RW, ANON, 0, 0);
    const merges = counter('sim.mm.vma_merge');
    const expands = counter('sim.mm.vma_expand');
    const b = mmap(0, 8 * P, RW, ANON, 0, 0);
    expect(b).toBe(a - 8 * P);
    // Anonymous pgoff is the address in pages, so b ends where a's pgoff starts: one VMA.
    expect(mm_map_count(mm)).toBe(TINY.vmas + 1);
    expect([vm_start(find_vma(mm, b)), vm_end(find_vma(mm, b))]).toEqual([b, a + 8 * P]);
    expect(counter('sim.mm.vma_merge') - merges).toBe(1);
    expect(counter('sim.mm.vma_expand') - expands).toBe(1);
  });
});

describe('mprotect', () => {
  it('splits a VMA around a changed range, and merges it back when the protection returns (vma_merge case 6)', () => {
    const { mm } = boot_layout(TINY_MAPS);
    const x = mmap(0, 4 * P, RW, ANON, 0, 0);
    expect(x).toBe(TINY.vvar - 4 * P);
    const splits = counter('sim.mm.vma_split');
    expect(mprotect(x + P, 2 * P, PROT_READ)).toBe(0);
    expect(ranges(mm).filter(([s]) => s >= x && s < TINY.vvar)).toEqual([[x, x + P], [x + P, x + 3 * P], [x + 3 * P, x + 4 * P]]);
    expect(counter('sim.mm.vma_split') - splits).toBe(2);
    // Never written, so no anon_vma: the read-only middle is no longer charged (6.6+).
    expect(vm_flags(find_vma(mm, x + P)) & VM_ACCOUNT).toBe(0);
    expect(vm_flags(find_vma(mm, x)) & VM_ACCOUNT).toBe(VM_ACCOUNT);
    const merges = counter('sim.mm.vma_merge');
    expect(mprotect(x + P, 2 * P, RW)).toBe(0);
    // Writable again and charged again: the flags equal both neighbours', prev takes all three.
    expect(ranges(mm).filter(([s]) => s >= x && s < TINY.vvar)).toEqual([[x, x + 4 * P]]);
    expect(counter('sim.mm.vma_merge') - merges).toBe(1);
    expect(mm_map_count(mm)).toBe(TINY.vmas + 1);
    mt_validate(mm_mt(mm));
  });

  it("a merge gives the VMA that takes over the neighbours the anon_vma it lacks (dup_anon_vma, case 6)", () => {
    const { mm } = boot_layout(TINY_MAPS);
    // Top-down, three one-page VMAs: r (written: it has an anon_vma), m read-only, l not yet written.
    const r = mmap(0, P, RW, ANON, 0, 0);
    expect(write_fault(r)).toBe(0);
    const m = mmap(0, P, PROT_READ, ANON, 0, 0);
    const l = mmap(0, P, RW, ANON, 0, 0);
    expect([m, l]).toEqual([r - P, r - 2 * P]);
    const anon_vma = vma_anon_vma(find_vma(mm, r));
    expect(anon_vma).not.toBe(0);
    const allocated = counter('sim.slab.anon_vma.alloc');
    // m writable again: l and r both merge with it (no anon_vma on l's side, r's chain singular),
    // l takes the range and r's anon_vma.
    expect(mprotect(m, P, RW)).toBe(0);
    expect(ranges(mm).filter(([s]) => s >= l && s < TINY.vvar)).toEqual([[l, r + P]]);
    expect(vma_anon_vma(find_vma(mm, l))).toBe(anon_vma);
    expect(anon_vma_chain_length(find_vma(mm, l))).toBe(1);
    // So the first write to l's old page finds an anon_vma and allocates none.
    expect(write_fault(l)).toBe(0);
    expect(counter('sim.slab.anon_vma.alloc')).toBe(allocated);
  });

  it('refuses access the mapping may not have, and a range with a hole', () => {
    boot_layout(TINY_MAPS);
    // [vvar] is not VM_MAYWRITE: it may never be made writable.
    expect(mprotect(TINY.vvar, P, RW)).toBe(-1);
    // The range starts in the unmapped gap below [vvar].
    expect(mprotect(TINY.vvar - P, 2 * P, PROT_READ)).toBe(-1);
  });
});

describe('brk', () => {
  it('grows the heap in place, shrinks it by splitting, and keeps the old break below the start', () => {
    const { mm } = boot_layout(TINY_MAPS);
    expect(sbrk(0)).toBe(TINY.brk);
    const merges = counter('sim.mm.vma_merge');
    expect(brk(TINY.brk + 2 * P)).toBe(0); // the parent's own heap: its chain is singular, it merges
    expect([vm_start(find_vma(mm, TINY.brk)), vm_end(find_vma(mm, TINY.brk))]).toEqual([TINY.start_brk, TINY.brk + 2 * P]);
    expect(counter('sim.mm.vma_merge') - merges).toBe(1);
    expect(brk(TINY.brk + P)).toBe(0);
    expect(vm_end(find_vma(mm, TINY.start_brk))).toBe(TINY.brk + P);
    expect(mm_map_count(mm)).toBe(TINY.vmas);
    // Below the start of the heap the kernel returns the old break, which glibc's brk() cannot tell from success.
    expect(brk(TINY.start_brk - P)).toBe(0);
    expect(mm_get(mm, MM_BRK)).toBe(TINY.brk + P);
    mt_validate(mm_mt(mm));
  });
});

describe('fork', () => {
  for (const preset of ['v6.7', 'v6.8']) {
    it(`copies every VMA (${preset}); the child's inherited heap is not merged with, so sbrk makes a VMA of its own`, () => {
      const { mm: pmm, task: parent } = boot_layout(TINY_MAPS, preset);
      const before = ranges(pmm);
      const child = kernel_clone(0);
      const cmm = task_mm(child);
      expect(ranges(cmm)).toEqual(before);
      expect(mm_map_count(cmm)).toBe(TINY.vmas);
      mt_validate(mm_mt(cmm));
      set_current(child);
      // The parent's anon_vma and the child's own: a chain of two (mm/rmap.c anon_vma_fork).
      expect(anon_vma_chain_length(find_vma(cmm, TINY.start_brk))).toBe(2);
      const created = counter('sim.mm.vma_new');
      expect(sbrk(P)).toBe(TINY.brk);
      expect(counter('sim.mm.vma_new') - created).toBe(1);
      expect(ranges(cmm)).toEqual([...before.slice(0, 7), [TINY.brk, TINY.brk + P], ...before.slice(7)]);
      expect(ranges(pmm)).toEqual(before);
      void parent;
    });
  }

  it("a grandchild never gets the root anon_vma, even after the parent's VMA is gone (6.2+ self-parent count)", () => {
    const { task: parent } = boot_layout(TINY_MAPS);
    const x = mmap(0, P, RW, ANON, 0, 0);
    expect(write_fault(x)).toBe(0);
    const root = vma_anon_vma(find_vma(task_mm(parent), x));
    const child = kernel_clone(0);
    expect(munmap(x, P)).toBe(0); // the root anon_vma: no VMA of its own left, one child
    set_current(child);
    const grandchild = kernel_clone(0);
    const vma = find_vma(task_mm(grandchild), x);
    // Not reused: a fresh anon_vma of its own, linked after the child's and the root.
    expect(vma_anon_vma(vma)).not.toBe(root);
    expect(vma_anon_vma(vma)).not.toBe(vma_anon_vma(find_vma(task_mm(child), x)));
    expect(anon_vma_chain_length(vma)).toBe(3);
  });

  it('frees everything when the last user drops an mm', () => {
    const { mm } = boot_layout(TINY_MAPS);
    const child = kernel_clone(0);
    mmput(task_mm(child));
    mmput(mm);
    synchronize_rcu();
    do_safe_point();
    for (const cache of ['vm_area_struct', 'anon_vma_chain', 'anon_vma', 'maple_node']) {
      expect(counter(`sim.slab.${cache}.alloc`), cache).toBe(counter(`sim.slab.${cache}.free`));
    }
  });
});

describe('the parent replayed from /proc/PID/maps', () => {
  it('reproduces the shipped capture: 148 VMAs with its ranges, protections, offsets and names, and the [vsyscall] gate', () => {
    const text = readFileSync(DEFAULT_MAPS, 'utf8');
    const lines = text.trimEnd().split('\n');
    expect(lines.length).toBe(149);
    const { mm } = boot_layout(DEFAULT_MAPS);
    expect(mm_map_count(mm)).toBe(148);
    const names = plan_replay(parse_maps(text)).files;
    const shown = show_maps(mm, names).map((v) => [v.start.toString(16), v.end.toString(16), v.perms, v.offset.toString(16).padStart(8, '0'), v.path]);
    // Read the capture with a plain split, not with the parser under test.
    const want = lines.slice(0, 148).map((l) => {
      const [range, perms, offset, , , ...path] = l.split(/ +/);
      const [start, end] = range.split('-');
      return [start, end, perms, offset, path.join(' ').trim()];
    });
    expect(shown).toEqual(want);
    expect(lines[148]).toMatch(/^ffffffffff600000-ffffffffff601000 --xp .*\[vsyscall\]$/);
    expect(parse_maps(text).gate?.path).toBe('[vsyscall]');
  });

  it('builds the tiny layout the way exec, ld.so and malloc do: the stores work out to leaves of 10 and 9', () => {
    // Worked by hand: exec's stores fill one root leaf to 16 entries; the program's RELRO
    // mprotect splits its data VMA (17 entries) at b_end/2 = 8, giving 9 + 8; ld.so's RELRO
    // split adds one on the right, and malloc's first sbrk one on the left.
    const { mm } = boot_layout(TINY_MAPS, 'v6.7');
    expect(mt_validate(mm_mt(mm)).leaves).toEqual([10, 9]);
    // The bulk-built child (6.7): the 17th entry splits at b_end - 6 = 10 (bulk mode): 11 + 6,
    // then the stack's gap and VMA go right.
    expect(mt_validate(mm_mt(task_mm(kernel_clone(0)))).leaves).toEqual([11, 8]);
  });

  it('__mt_dup (6.8) gives the child the parent\'s leaves', () => {
    const { mm } = boot_layout(DEFAULT_MAPS, 'v6.8');
    const parent = mt_validate(mm_mt(mm));
    const child = mt_validate(mm_mt(task_mm(kernel_clone(0))));
    expect(child.leaves).toEqual(parent.leaves);
    expect(child.height).toBe(parent.height);
  });

  it('rejects a malformed maps file with the line at fault', () => {
    const good = readFileSync(TINY_MAPS, 'utf8').split('\n');
    const bad = (i: number, line: string) => [...good.slice(0, i), line, ...good.slice(i + 1)].join('\n');
    expect(() => parse_maps(bad(1, 'this is not a maps line'))).toThrow(new MapsError(2, "not a /proc/PID/maps line: 'this is not a maps line'"));
    expect(() => parse_maps(bad(2, '555555555800-555555557000 r--p 00002000 fe:00 11 /usr/bin/tiny'))).toThrow(/^line 3: the range .* is not page-aligned$/);
    expect(() => parse_maps(bad(2, '555555555000-555555557000 r--p 00002000 fe:00 11 /usr/bin/tiny'))).toThrow('line 3: overlaps line 2');
    expect(() => parse_maps(bad(14, '7ffffffde000-800000000000 rw-p 00000000 00:00 0 [stack]'))).toThrow(/^line 15: the range .* is above TASK_SIZE \(7ffffffff000\)$/);
    expect(() => parse_maps(bad(3, '555555553000-555555554000 r--p 00002000 fe:00 11 /usr/bin/tiny'))).toThrow('line 4: not in ascending order (line 3 starts higher)');
  });
});
