// Building will-it-scale's parent process the way it comes to be on a real system: execve of the
// program (stack, PIE segments, heap start, ld.so, vDSO), then user space: ld.so maps each shared
// library (reserve the whole span, map each segment over it MAP_FIXED, add the bss), relocations
// and startup write to data, stack and heap, malloc grows the heap with brk and takes larger
// blocks with mmap (some freed again, leaving holes), and will-it-scale maps its shared result
// area. The recipe's numbers, and the seed that varies them, decide the VMA layout that fork
// copies: the layout is what brk2's speed depends on.

import { Prng } from '../lib/prng.ts';
import { VDSO_6_7, exec_elf, image_pages, type ElfImage } from '../kernel/fs/exec.ts';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE } from '../kernel/mm/mmap.ts';
import { PAGE_SIZE, STACK_TOP } from '../kernel/mm/mm_types.ts';
import { mmap, munmap, sbrk, write_fault } from './libc.ts';

/** An ELF file's loadable segments, in pages. */
export interface ImageShape {
  /** [pages, prot] of each segment, in address order. */
  segments: Array<[number, number]>;
  /**
   * Index of the segment that starts one page past its file offset (the RELRO part of the RW
   * load segment): a one-page hole before it, -1 for none.
   */
  hole_before: number;
  /** Zero-filled pages after the data (.bss), anonymous memory. */
  bss: number;
}

export interface ExecRecipe {
  stack_pages: number;
  program: ImageShape;
  ldso: ImageShape;
  libs: ImageShape[];
  /** Pages between the end of the bss and the heap. */
  brk_gap_pages: number;
  /** First heap extension (malloc's first sbrk), in pages. */
  heap_pages: number;
  /** Later heap extensions, in pages each. */
  heap_grows: number[];
  /** Anonymous mappings (large mallocs, thread stacks, caches), in pages; odd ones leave a 1-page hole. */
  anon_maps: number[];
  /** will-it-scale's shared result area, in pages. */
  shared_pages: number;
}

const R = PROT_READ;
const RX = PROT_READ | PROT_EXEC;
const RW = PROT_READ | PROT_WRITE;

/** Parameters of the default recipe (`--set exec.*`). */
export interface RecipeParams {
  libs: number;
  anon_maps: number;
  heap_grows: number;
  brk_gap_pages: number;
}

/**
 * The default recipe: a small PIE like will-it-scale's brk2_processes, ld.so, and `libs` shared
 * libraries shaped like glibc's (headers, text, rodata, a hole, RELRO, data, bss); anonymous
 * mappings of 1-3 pages chosen by the seed. Sizes follow shared/reference/kernel-mechanisms.md §1.9.
 */
export function default_recipe(p: RecipeParams, seed: number): ExecRecipe {
  const rng = new Prng(seed);
  return {
    stack_pages: 33,
    program: { segments: [[1, R], [2, RX], [1, R], [1, RW]], hole_before: -1, bss: 0 },
    ldso: { segments: [[1, R], [40, RX], [8, R], [1, R], [1, RW]], hole_before: 3, bss: 0 },
    libs: Array.from({ length: p.libs }, () => ({ segments: [[8, R], [40, RX], [16, R], [2, R], [2, RW]], hole_before: 3, bss: 1 })),
    brk_gap_pages: p.brk_gap_pages,
    heap_pages: 33,
    heap_grows: Array.from({ length: p.heap_grows }, () => 32),
    anon_maps: Array.from({ length: p.anon_maps }, () => rng.int(1, 3)),
    shared_pages: 1,
  };
}

/** A recipe drawn at random (bench:layouts): any number of libraries and mappings, any sizes. */
export function random_recipe(seed: number): ExecRecipe {
  const rng = new Prng(seed);
  const lib = (): ImageShape => ({
    segments: [[rng.int(1, 16), R], [rng.int(2, 200), RX], [rng.int(1, 60), R], [rng.int(1, 4), R], [rng.int(1, 4), RW]],
    hole_before: rng.chance(0.8) ? 3 : -1,
    bss: rng.int(0, 3),
  });
  return {
    stack_pages: rng.int(33, 40),
    program: { segments: [[1, R], [rng.int(1, 8), RX], [rng.int(1, 4), R], [1, R], [rng.int(1, 2), RW]], hole_before: rng.chance(0.5) ? 3 : -1, bss: rng.int(0, 2) },
    ldso: { segments: [[rng.int(1, 2), R], [rng.int(36, 44), RX], [rng.int(6, 11), R], [rng.int(1, 2), R], [rng.int(1, 2), RW]], hole_before: rng.chance(0.8) ? 3 : -1, bss: 0 },
    libs: Array.from({ length: rng.int(0, 10) }, lib),
    brk_gap_pages: rng.chance(0.5) ? 0 : rng.int(1, 16),
    heap_pages: rng.int(1, 64),
    heap_grows: Array.from({ length: rng.int(0, 6) }, () => rng.int(1, 64)),
    anon_maps: Array.from({ length: rng.int(0, 12) }, () => rng.int(1, 16)),
    shared_pages: rng.int(1, 2),
  };
}

let next_file_id = 1;

/** The ELF image of a shape: segments back to back, with the one-page hole where the shape has it. */
function elf(shape: ImageShape): ElfImage {
  const file = next_file_id++;
  const segments: ElfImage['segments'] = [];
  let addr = 0;
  let off = 0;
  for (const [i, [pages, prot]] of shape.segments.entries()) {
    const last = i === shape.segments.length - 1;
    if (i === shape.hole_before) addr++;
    segments.push({ offset: addr, file_offset: off, pages, prot, bss_pages: last ? shape.bss : 0 });
    addr += pages;
    off += pages;
  }
  return { file, segments };
}

// glibc elf/dl-map-segments.h _dl_map_segments: the first segment reserves the whole span, what
// lies between it and the RW load segment becomes PROT_NONE, the other segments are mapped
// MAP_FIXED over it, and the bss is anonymous memory; relocations then write the data. (ld.so
// maps RELRO read-write and mprotects it later; here it is mapped read-only at once.)
function map_library(shape: ImageShape): void {
  const img = elf(shape);
  const total = image_pages(img) * PAGE_SIZE;
  const first = img.segments[0];
  const last = img.segments[img.segments.length - 1];
  const base = mmap(0, total, first.prot, MAP_PRIVATE, img.file, 0);
  if (base < 0) throw new Error('ld.so: cannot map a library');
  const rw_load = img.segments[shape.hole_before >= 0 ? shape.hole_before : img.segments.length - 1];
  const gap_start = base + first.pages * PAGE_SIZE;
  const gap_end = base + rw_load.offset * PAGE_SIZE;
  if (gap_end > gap_start && mmap(gap_start, gap_end - gap_start, PROT_NONE, MAP_PRIVATE | MAP_FIXED, img.file, first.pages) < 0) {
    throw new Error('ld.so: cannot protect the holes');
  }
  for (const seg of img.segments.slice(1)) {
    if (mmap(base + seg.offset * PAGE_SIZE, seg.pages * PAGE_SIZE, seg.prot, MAP_PRIVATE | MAP_FIXED, img.file, seg.file_offset) < 0) {
      throw new Error('ld.so: cannot map a segment');
    }
  }
  const data_addr = base + last.offset * PAGE_SIZE;
  if (last.bss_pages) {
    const bss = data_addr + last.pages * PAGE_SIZE;
    if (mmap(bss, last.bss_pages * PAGE_SIZE, RW, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, 0, 0) < 0) throw new Error('ld.so: no bss');
    write_fault(bss);
  }
  write_fault(data_addr); // relocations write the GOT
}

/** Build the current task's address space from the recipe (runs on a CPU, as the task). */
export function build_parent_image(recipe: ExecRecipe): void {
  const program = elf(recipe.program);
  const ldso = elf(recipe.ldso);
  const { load_bias } = exec_elf(program, ldso, { stack_pages: recipe.stack_pages, brk_gap_pages: recipe.brk_gap_pages, vdso: VDSO_6_7 });
  write_fault(STACK_TOP - PAGE_SIZE);
  const data = program.segments[program.segments.length - 1];
  write_fault(load_bias + data.offset * PAGE_SIZE);
  if (data.bss_pages) write_fault(load_bias + (data.offset + data.pages) * PAGE_SIZE);
  for (const lib of recipe.libs) map_library(lib);
  // malloc: the main arena grows with brk, and every new top chunk is written
  for (const pages of [recipe.heap_pages, ...recipe.heap_grows]) {
    const old = sbrk(pages * PAGE_SIZE);
    if (old < 0) throw new Error('malloc: brk failed');
    write_fault(old);
  }
  // Larger allocations come from mmap; freeing some leaves holes.
  for (const [i, pages] of recipe.anon_maps.entries()) {
    const hole = i % 2 === 1;
    const addr = mmap(0, (pages + (hole ? 1 : 0)) * PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0);
    if (addr < 0) throw new Error('malloc: mmap failed');
    if (hole) munmap(addr, PAGE_SIZE);
    write_fault(addr + (hole ? PAGE_SIZE : 0));
  }
  // will-it-scale main.c: the shared result area
  const shared = mmap(0, recipe.shared_pages * PAGE_SIZE, RW, MAP_SHARED | MAP_ANONYMOUS, 0, 0);
  if (shared < 0) throw new Error('will-it-scale: cannot map the result area');
  write_fault(shared);
}

