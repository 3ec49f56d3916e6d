// User pages, page tables and RSS on one CPU, against Linux's rules worked by hand: which fault
// allocates, maps the zero page or copies, what each counter and RSS line says after it, and what
// madvise, MAP_LOCKED, fork and punching a hole in a memfd do.

import { describe, expect, it } from 'vitest';
import { read_counter_by_name } from '../src/machine/counters.ts';
import { set_current } from '../src/machine/cpu.ts';
import { MM_ANONPAGES, MM_SHMEMPAGES, PAGE_SIZE } from '../src/kernel/mm/mm_types.ts';
import { MAP_ANONYMOUS, MAP_LOCKED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../src/kernel/mm/mmap.ts';
import { get_mm_counter, get_mm_hiwater_rss, get_mm_rss } from '../src/kernel/mm/memory.ts';
import { movable_stats } from '../src/kernel/mm/page_alloc.ts';
import { MADV_DONTNEED } from '../src/kernel/mm/madvise.ts';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from '../src/kernel/mm/shmem.ts';
import { clear_refs_write, task_mem } from '../src/kernel/fs/proc/task_mmu.ts';
import { kernel_clone, task_mm } from '../src/kernel/kernel/fork.ts';
import { fallocate, ftruncate, madvise, memfd_create, mmap, mmap_fd, munmap } from '../src/user/libc.ts';
import { load_page, loaded_hi, loaded_lo, page_is_zero, store_page } from '../src/user/mem.ts';
import { TINY_MAPS, boot_layout } from './helpers/boot.ts';

const P = PAGE_SIZE;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function counters(...names: string[]): () => Record<string, number> {
  const base = Object.fromEntries(names.map((n) => [n, read_counter_by_name(`sim.mm.${n}`)]));
  return () => Object.fromEntries(names.map((n) => [n, read_counter_by_name(`sim.mm.${n}`) - base[n]]));
}

function read_tag(addr: number): [number, number] {
  expect(load_page(addr)).toBe(true);
  return [loaded_lo, loaded_hi];
}

describe('anonymous faults', () => {
  it('2.6.32: a read maps the zero page (no RSS); the write after it is a COW fault into a zeroed page', () => {
    const { mm } = boot_layout(TINY_MAPS, 'v2.6.32');
    const a = mmap(0, 4 * P, RW, ANON, 0, 0);
    const rss0 = get_mm_rss(mm);
    const delta = counters('faults_read', 'faults_write', 'zero_page_maps', 'cow_faults');
    expect(page_is_zero(a)).toBe(true);
    expect(page_is_zero(a)).toBe(true); // mapped now: no second fault
    expect(get_mm_rss(mm) - rss0).toBe(0);
    expect(store_page(a, 7, 8)).toBe(true);
    expect(delta()).toEqual({ faults_read: 1, faults_write: 1, zero_page_maps: 1, cow_faults: 1 });
    expect(get_mm_counter(mm, MM_ANONPAGES)).toBeGreaterThan(0);
    expect(get_mm_rss(mm) - rss0).toBe(1);
    expect(read_tag(a)).toEqual([7, 8]);
    // A first write allocates at once: one write fault, no COW.
    expect(store_page(a + P, 1, 1)).toBe(true);
    expect(delta()).toEqual({ faults_read: 1, faults_write: 2, zero_page_maps: 1, cow_faults: 1 });
    expect(get_mm_rss(mm) - rss0).toBe(2);
  });

  it('2.6.30: a read allocates a zeroed, writable page (RSS +1); the write after it needs no fault', () => {
    const { mm } = boot_layout(TINY_MAPS, 'v2.6.30');
    const a = mmap(0, 4 * P, RW, ANON, 0, 0);
    const rss0 = get_mm_rss(mm);
    const delta = counters('faults_read', 'faults_write', 'zero_page_maps', 'cow_faults');
    for (let i = 0; i < 4; i++) expect(page_is_zero(a + i * P)).toBe(true);
    expect(get_mm_rss(mm) - rss0).toBe(4);
    expect(store_page(a, 5, 5)).toBe(true);
    expect(delta()).toEqual({ faults_read: 4, faults_write: 0, zero_page_maps: 0, cow_faults: 0 });
  });

  it('madvise(MADV_DONTNEED) frees the pages; the next read sees zeroes; VmHWM keeps the peak until clear_refs 5', () => {
    const { mm } = boot_layout(TINY_MAPS, 'v2.6.32');
    const a = mmap(0, 8 * P, RW, ANON, 0, 0);
    const rss0 = get_mm_rss(mm);
    const frames0 = movable_stats().in_use;
    for (let i = 0; i < 8; i++) store_page(a + i * P, i + 1, 0);
    expect(movable_stats().in_use - frames0).toBe(8);
    const delta = counters('zap_pages');
    expect(madvise(a, 6 * P, MADV_DONTNEED)).toBe(0);
    expect(delta()).toEqual({ zap_pages: 6 });
    expect(get_mm_rss(mm) - rss0).toBe(2);
    expect(movable_stats().in_use - frames0).toBe(2);
    expect(get_mm_hiwater_rss(mm)).toBe(rss0 + 8);
    expect(task_mem(mm)).toContain(`VmHWM:\t${String((rss0 + 8) * 4).padStart(8)} kB`);
    expect(task_mem(mm)).toContain(`VmRSS:\t${String((rss0 + 2) * 4).padStart(8)} kB`);
    expect(read_tag(a)).toEqual([0, 0]); // the zero page, not a page
    expect(read_tag(a + 7 * P)).toEqual([8, 0]);
    expect(clear_refs_write(mm, 5)).toBe(0);
    expect(get_mm_hiwater_rss(mm)).toBe(rss0 + 2);
    expect(munmap(a, 8 * P)).toBe(0);
    expect(movable_stats().in_use).toBe(frames0);
  });

  it('madvise fails with EINVAL on a VM_LOCKED mapping (MAP_LOCKED populated it), and everywhere under mm.madvise_dontneed_fails', () => {
    const { mm } = boot_layout(TINY_MAPS, 'v2.6.32');
    const rss0 = get_mm_rss(mm);
    const a = mmap(0, 4 * P, RW, ANON | MAP_LOCKED, 0, 0);
    expect(get_mm_rss(mm) - rss0).toBe(4); // populated by write faults: private and writable
    expect(madvise(a, 4 * P, MADV_DONTNEED)).toBe(-1);
    expect(get_mm_rss(mm) - rss0).toBe(4);

    boot_layout(TINY_MAPS, 'v2.6.32', ['mm.madvise_dontneed_fails=1']);
    const b = mmap(0, P, RW, ANON, 0, 0);
    store_page(b, 9, 9);
    expect(madvise(b, P, MADV_DONTNEED)).toBe(-1);
    expect(read_tag(b)).toEqual([9, 9]);
  });

  it('fork makes private pages copy-on-write: the child copies on its write, the parent keeps its content', () => {
    const { mm, task } = boot_layout(TINY_MAPS, 'v2.6.32');
    const a = mmap(0, 2 * P, RW, ANON, 0, 0);
    store_page(a, 1, 2);
    store_page(a + P, 3, 4);
    const child = kernel_clone(0);
    const cmm = task_mm(child);
    const shared = get_mm_rss(cmm);
    set_current(child);
    const delta = counters('cow_faults');
    expect(store_page(a, 5, 6)).toBe(true);
    expect(delta()).toEqual({ cow_faults: 1 });
    expect(get_mm_rss(cmm)).toBe(shared); // one page traded for its copy
    set_current(task);
    expect(read_tag(a)).toEqual([1, 2]);
    // The parent's page has one mapping left: its write reuses it (no copy).
    expect(store_page(a, 7, 7)).toBe(true);
    expect(delta()).toEqual({ cow_faults: 1 });
    void mm;
  });
});

describe('shmem (memfd)', () => {
  it('every fault allocates page cache (no zero page); MADV_DONTNEED drops the mapping, not the page; a punched hole frees it', () => {
    const { mm } = boot_layout(TINY_MAPS, 'v2.6.32');
    const fd = memfd_create();
    expect(fd).toBe(3);
    expect(ftruncate(fd, 4 * P)).toBe(0);
    const a = mmap_fd(0, 4 * P, RW, MAP_SHARED, fd, 0);
    expect(a).toBeGreaterThan(0);
    const frames0 = movable_stats().in_use;
    const delta = counters('zero_page_maps');
    expect(page_is_zero(a)).toBe(true);
    expect(get_mm_counter(mm, MM_SHMEMPAGES)).toBe(1);
    expect(delta()).toEqual({ zero_page_maps: 0 });
    store_page(a + P, 11, 12);
    expect(get_mm_counter(mm, MM_SHMEMPAGES)).toBe(2);
    expect(madvise(a, 4 * P, MADV_DONTNEED)).toBe(0);
    expect(get_mm_counter(mm, MM_SHMEMPAGES)).toBe(0);
    expect(movable_stats().in_use - frames0).toBe(2); // still in the page cache
    expect(read_tag(a + P)).toEqual([11, 12]);
    expect(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4 * P)).toBe(0);
    expect(get_mm_counter(mm, MM_SHMEMPAGES)).toBe(0); // the hole was unmapped too
    expect(movable_stats().in_use - frames0).toBe(0);
    expect(read_tag(a + P)).toEqual([0, 0]);
    expect(get_mm_counter(mm, MM_SHMEMPAGES)).toBe(1);
  });
});
