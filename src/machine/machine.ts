// Building a machine (main thread, once per run point) and attaching to it (every thread that will
// run on it). The arena's boot layout:
//
//   page 0          header
//   symbol table    names of counters, functions, globals, per-CPU variables
//   per-CPU units   one per CPU, and a spare one for code running off any CPU
//   memblock        kernel globals
//   mem_map         one page descriptor per page frame
//   page frames     everything after: handed to the page allocator at boot
//
// User memory is a second region, ZONE_MOVABLE (as Linux's movablecore= makes one): frames that only
// user pages use, with descriptors in their own buffer and no bytes (a frame's content is a tag).
// It holds two 16 GiB guests' RAM, which the ≤ 2 GiB arena could not.

import { ARENA_MAGIC, FRAME_WORDS, H, PAGE_SIZE, align_up, map_arena, mem32, memf64 } from './memory.ts';
import { reset_cpu_binding } from './cpu.ts';
import { CLOCK_HOST, CLOCK_MANUAL, host_ns } from './clock.ts';
import { SYMTAB_BYTES, SYMTAB_CAPACITY, bind_symbols } from './symbols.ts';

export const PCPU_UNIT_BYTES = 64 * 1024;
export const MEMBLOCK_BYTES = 2 * 1024 * 1024;
export const PAGE_DESC_BYTES = 32;
export const MAX_CPUS = 512;
export const MIN_MEM_MB = 16;
export const MAX_MEM_MB = 2047;
/** ZONE_MOVABLE: 64 GiB of user memory (a modest lkp test box has 64-192 GiB); untouched frames cost nothing. */
export const DEFAULT_USER_MEM_MB = 65536;
export const MAX_USER_MEM_MB = 262144;

export interface MachineOptions {
  nr_cpus: number;
  mem_mb: number;
  /** User memory (ZONE_MOVABLE) in MiB; DEFAULT_USER_MEM_MB when not given. */
  user_mem_mb?: number;
  /** 'manual' freezes the clock until tests advance it. */
  clock?: 'host' | 'manual';
}

export interface MachineDescriptor {
  arena: SharedArrayBuffer;
  /** The user frames' descriptors. */
  frames: SharedArrayBuffer;
}

export function create_machine(opts: MachineOptions): MachineDescriptor {
  const { nr_cpus, mem_mb } = opts;
  if (!Number.isInteger(nr_cpus) || nr_cpus < 1 || nr_cpus > MAX_CPUS) throw new RangeError(`nr_cpus must be 1..${MAX_CPUS}`);
  if (!Number.isInteger(mem_mb) || mem_mb < MIN_MEM_MB || mem_mb > MAX_MEM_MB) throw new RangeError(`memory must be ${MIN_MEM_MB}..${MAX_MEM_MB} MiB`);
  const user_mem_mb = opts.user_mem_mb ?? DEFAULT_USER_MEM_MB;
  if (!Number.isInteger(user_mem_mb) || user_mem_mb < 1 || user_mem_mb > MAX_USER_MEM_MB) throw new RangeError(`user memory must be 1..${MAX_USER_MEM_MB} MiB`);
  const bytes = mem_mb * 1024 * 1024;
  const sab = new SharedArrayBuffer(bytes);
  const nr_frames = user_mem_mb * 256;
  const frames = new SharedArrayBuffer(nr_frames * FRAME_WORDS * 4);
  map_arena(sab, frames);

  const nr_pages = bytes / PAGE_SIZE;
  const symtab = PAGE_SIZE;
  const pcpu = align_up(symtab + SYMTAB_BYTES, PAGE_SIZE);
  const memblock = pcpu + (nr_cpus + 1) * PCPU_UNIT_BYTES; // + the spare unit used off-CPU
  const mem_map = memblock + MEMBLOCK_BYTES;
  const first_free = align_up(mem_map + nr_pages * PAGE_DESC_BYTES, PAGE_SIZE);
  if (first_free + 64 * PAGE_SIZE > bytes) throw new RangeError('machine memory too small for its boot layout');

  const w = (field: number, v: number) => { mem32[field >> 2] = v; };
  w(H.MAGIC, ARENA_MAGIC);
  w(H.NR_CPUS, nr_cpus);
  w(H.NR_PAGES, nr_pages);
  w(H.NR_FRAMES, nr_frames);
  w(H.SYMTAB, symtab);
  w(H.SYMTAB_CAP, SYMTAB_CAPACITY);
  w(H.PCPU_BASE, pcpu);
  w(H.PCPU_UNIT, PCPU_UNIT_BYTES);
  w(H.MEMBLOCK_CUR, memblock);
  w(H.MEMBLOCK_END, memblock + MEMBLOCK_BYTES);
  w(H.MEM_MAP, mem_map);
  w(H.FIRST_FREE_PFN, first_free / PAGE_SIZE);
  w(H.CLOCK_MODE, opts.clock === 'manual' ? CLOCK_MANUAL : CLOCK_HOST);
  memf64[H.BOOT_NS >> 3] = host_ns();

  reset_cpu_binding();
  bind_symbols();
  return { arena: sab, frames };
}

/** Map an existing machine on this thread (a worker, or the main thread coming back to it). */
export function attach_machine(desc: MachineDescriptor): void {
  map_arena(desc.arena, desc.frames);
  if (mem32[H.MAGIC >> 2] !== ARENA_MAGIC) throw new Error('attach_machine: not a scalelab arena');
  reset_cpu_binding();
  bind_symbols();
}
