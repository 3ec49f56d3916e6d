// The simulated machine's physical memory: one SharedArrayBuffer arena seen by every CPU (thread).
//
// Addresses are byte offsets into the arena (0 is NULL: the machine header lives there). Kernel
// records are fixed-size and 8-byte aligned, reached as `mem32[(addr >> 2) + FIELD]` or
// `memf64[(addr >> 3) + FIELD]`. The views are live ESM bindings, rebound when a thread maps a new
// arena, so a worker that moves to the next point's machine keeps using the same module code.

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const CACHELINE = 64;

export let arena: SharedArrayBuffer | null = null;
export let mem8: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
export let mem32: Int32Array<ArrayBufferLike> = new Int32Array(0);
export let memf64: Float64Array<ArrayBufferLike> = new Float64Array(0);
/**
 * The descriptors of the user page frames (ZONE_MOVABLE, below): FRAME_WORDS words per frame.
 * Their bytes are not simulated; a frame's content is its 64-bit tag (0: all zero).
 */
export let frames: Int32Array<ArrayBufferLike> = new Int32Array(0);
export let frames_sab: SharedArrayBuffer | null = null;
export const FRAME_WORDS = 8;

/** Machine header (page 0): byte offsets of its fields. */
export const H = {
  MAGIC: 0,
  NR_CPUS: 4,
  NR_PAGES: 8,
  SYMTAB: 12, // address of the shared name table
  SYMTAB_CAP: 16,
  SYMTAB_COUNT: 20,
  SYMTAB_LOCK: 24,
  PCPU_BASE: 28, // address of CPU 0's per-CPU unit
  PCPU_UNIT: 32, // bytes per unit
  PCPU_USED: 36, // bytes of each unit handed out by alloc_percpu
  MEMBLOCK_CUR: 40, // boot-time bump allocator for kernel globals
  MEMBLOCK_END: 44,
  CLOCK_MODE: 48, // 0 host monotonic clock, 1 manual (tests advance it)
  MEM_MAP: 52, // address of the page descriptor array
  FIRST_FREE_PFN: 56, // first page frame not reserved by the boot layout
  BOOT_NS: 64, // f64: host monotonic ns at boot
  MANUAL_NS: 72, // f64: the manual clock
  NR_FRAMES: 96, // user page frames (ZONE_MOVABLE); 80 and 84 are the symbol table's
} as const;

export const ARENA_MAGIC = 0x5ca1ab;

export function map_arena(sab: SharedArrayBuffer, user_frames: SharedArrayBuffer): void {
  arena = sab;
  mem8 = new Uint8Array(sab);
  mem32 = new Int32Array(sab);
  memf64 = new Float64Array(sab);
  frames_sab = user_frames;
  frames = new Int32Array(user_frames);
}

export function align_up(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** Copy `len` bytes inside the arena. */
export function memcpy(dst: number, src: number, len: number): void {
  mem8.copyWithin(dst, src, src + len);
}

/** Zero `len` bytes. Records are 8-byte aligned: word stores then, as fill() on shared memory is ~5× slower. */
export function memset0(addr: number, len: number): void {
  if (((addr | len) & 7) !== 0) {
    mem8.fill(0, addr, addr + len);
    return;
  }
  const end = (addr + len) >> 3;
  for (let i = addr >> 3; i < end; i++) memf64[i] = 0;
}

/** Boot-time allocation of kernel globals (Linux memblock): never freed, zeroed, 8-byte aligned. */
export function memblock_alloc(size: number, align = 8): number {
  const cur = align_up(mem32[H.MEMBLOCK_CUR >> 2], align);
  const end = cur + align_up(size, 8);
  if (end > mem32[H.MEMBLOCK_END >> 2]) throw new Error(`memblock: out of boot memory allocating ${size} bytes`);
  mem32[H.MEMBLOCK_CUR >> 2] = end;
  return cur;
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** Write a string into the arena (at most `max` bytes); returns the byte length written. */
export function put_string(addr: number, s: string, max: number): number {
  const bytes = utf8.encode(s);
  const n = Math.min(bytes.length, max);
  mem8.set(bytes.subarray(0, n), addr);
  return n;
}

export function get_string(addr: number, len: number): string {
  // TextDecoder refuses views on shared memory, so copy out first.
  return utf8d.decode(mem8.slice(addr, addr + len));
}
