// A parent process rebuilt from a captured /proc/PID/maps, the way the process built itself.
//
// The maple tree's shape depends on the order of the stores that built it, so the replay makes
// the calls a real process makes, in its order: execve maps the program (its load segments, the
// bss after them, the start of the heap right behind), the dynamic loader and the vDSO, and sets
// up the stack; then ld.so maps each shared library (glibc 2.36 elf/dl-map-segments.h: one
// mapping reserves the whole span, the other load segments go over it with MAP_FIXED, what lies
// between text and data becomes PROT_NONE, the bss is anonymous memory), libraries arriving in
// descending address order as the kernel places them top-down; relocation writes the data and
// makes RELRO read-only; malloc grows the heap with brk and takes anonymous mappings top-down;
// will-it-scale maps its shared result area. The capture only shows the result, so three things
// are inferred, each the common case: an `r--p` line directly before a library's `rw-p` line,
// contiguous in address and file offset, is the RELRO part of one read-write load segment; an
// anonymous `rw-p` line directly after an object's last segment is its bss; a library whose base
// is 2 MiB aligned with room above it was loaded with a 2 MiB p_align (glibc 2.35+ reserves
// span + alignment, maps at the aligned address and gives back both ends). The replayed address
// space is then compared with the capture, line by line.

import { VDSO_FILE, VVAR_FILE, VVAR_VCLOCK_FILE, exec_elf, type ElfImage, type VdsoMapping } from '../kernel/fs/exec.ts';
import { get_current } from '../machine/cpu.ts';
import { task_mm } from '../kernel/kernel/fork.ts';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE } from '../kernel/mm/mmap.ts';
import { PAGE_SIZE } from '../kernel/mm/mm_types.ts';
import { mmap, mprotect, munmap, sbrk, write_fault } from './libc.ts';
import { show_maps, type Maps, type MapsLine } from './maps.ts';

export class ReplayError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

interface Range {
  start: number;
  end: number;
}

/** A load segment: one mmap of the file. A read-write one may begin with its RELRO part. */
interface Segment extends Range {
  prot: number;
  /** File offset, bytes. */
  offset: number;
  /** End of the RELRO part (made read-only after relocation), 0 for none. */
  relro_end: number;
  line: number;
}

/** An ELF object as mapped: the program, the dynamic loader or a shared library. */
interface MappedObject {
  path: string;
  file: number;
  segments: Segment[];
  bss: Range | null;
  /** The load alignment ld.so honoured (PAGE_SIZE, or 2 MiB; see the header). */
  align: number;
  /** The free room above the object in the capture, bytes (where an aligned reservation's tail went). */
  room_above: number;
}

interface AnonMapping extends Range {
  prot: number;
  line: number;
}

interface SharedMapping extends AnonMapping {
  file: number;
  offset: number;
}

export interface ReplayPlan {
  /** The pathname of every file id the replay uses (what /proc/PID/maps prints for it). */
  files: Map<number, string>;
  /** And the other way round. */
  file_ids: Map<string, number>;
  program: MappedObject;
  interp: MappedObject | null;
  stack: Range;
  vdso: Array<Range & { file: number; text: boolean }>;
  heap: MapsLine | null;
  /** Shared libraries, highest first (the order ld.so maps them in). */
  libraries: MappedObject[];
  /** Anonymous private mappings that are neither a bss nor the heap, highest first. */
  anon: AnonMapping[];
  shared: SharedMapping[];
  /** The capture's lines in the mm (the [vsyscall] gate area is not one). */
  lines: MapsLine[];
}

const HUGE_ALIGN = 2 << 20;
/** glibc malloc's first and later heap extensions: DEFAULT_TOP_PAD (128 KiB) plus a small request, page-aligned. */
const MALLOC_HEAP_STEP = 0x21000;
const VDSO_NAMES: Record<string, number> = { '[vvar]': VVAR_FILE, '[vvar_vclock]': VVAR_VCLOCK_FILE, '[vdso]': VDSO_FILE };

function prot_of(perms: string): number {
  return (perms[0] === 'r' ? PROT_READ : 0) | (perms[1] === 'w' ? PROT_WRITE : 0) | (perms[2] === 'x' ? PROT_EXEC : 0);
}

function is_anonymous(l: MapsLine): boolean {
  return l.path === '' || l.path.startsWith('[anon:');
}

/** The dynamic loader by its file name (ld-linux-x86-64.so.2, ld-linux-aarch64.so.1, ld-2.31.so, ld-musl-x86_64.so.1). */
function is_interpreter(path: string): boolean {
  return /^ld[-.].*\.so/.test(path.slice(path.lastIndexOf('/') + 1));
}

/** Classify a capture's lines into what made them; throws ReplayError for what the replay cannot make. */
export function plan_replay(maps: Maps): ReplayPlan {
  const lines = maps.lines;
  const files = new Map<number, string>();
  const file_ids = new Map<string, number>();
  const file_of = (path: string) => {
    let id = file_ids.get(path);
    if (id === undefined) {
      id = file_ids.size + 1;
      file_ids.set(path, id);
      files.set(id, path);
    }
    return id;
  };
  const used = new Set<MapsLine>();
  const by_path = new Map<string, MapsLine[]>();
  const shared: SharedMapping[] = [];
  let stack: Range | null = null;
  let heap: MapsLine | null = null;
  const vdso: ReplayPlan['vdso'] = [];
  for (const l of lines) {
    const prot = prot_of(l.perms);
    if (l.perms[3] === 's') {
      shared.push({ start: l.start, end: l.end, prot, line: l.line, file: is_anonymous(l) ? 0 : file_of(l.path), offset: l.offset });
      used.add(l);
    } else if (l.path === '[stack]') {
      if (stack) throw new ReplayError(l.line, 'a second [stack]');
      stack = l;
      used.add(l);
    } else if (l.path === '[heap]') {
      if (heap) throw new ReplayError(l.line, 'a second [heap]');
      heap = l;
      used.add(l);
    } else if (l.path in VDSO_NAMES) {
      vdso.push({ start: l.start, end: l.end, file: VDSO_NAMES[l.path], text: l.path === '[vdso]' });
      files.set(VDSO_NAMES[l.path], l.path);
      used.add(l);
    } else if (l.path.startsWith('[') && !is_anonymous(l)) {
      throw new ReplayError(l.line, `${l.path} is not a mapping the replay knows how to make`);
    } else if (!is_anonymous(l)) {
      const group = by_path.get(l.path) ?? [];
      group.push(l);
      by_path.set(l.path, group);
    }
  }
  if (!stack) throw new ReplayError(lines.at(-1)!.line, 'no [stack] line');
  const next_start = (end: number) => lines.find((l) => l.start >= end)?.start ?? stack!.start;
  const object = (path: string, group: MapsLine[]): MappedObject => {
    const file = file_of(path);
    const segments: Segment[] = [];
    for (const l of group) {
      used.add(l);
      if (l.perms === '---p') continue; // a hole between segments, made by ld.so's mprotect
      const prev = segments.at(-1);
      const prot = prot_of(l.perms);
      if (prev && prev.prot === PROT_READ && prot === (PROT_READ | PROT_WRITE) && prev.end === l.start && prev.offset + (prev.end - prev.start) === l.offset) {
        prev.relro_end = prev.end;
        prev.end = l.end;
        prev.prot = prot;
        continue;
      }
      segments.push({ start: l.start, end: l.end, prot, offset: l.offset, relro_end: 0, line: l.line });
    }
    if (segments.length === 0) throw new ReplayError(group[0].line, `${path} has no mapped segment`);
    const last = group.at(-1)!;
    const after = lines.find((l) => l.start === last.end);
    let bss: Range | null = null;
    if (after && !used.has(after) && is_anonymous(after) && after.perms === 'rw-p' && segments.at(-1)!.prot & PROT_WRITE) {
      bss = after;
      used.add(after);
    }
    const end = bss ? bss.end : last.end;
    const base = segments[0].start;
    const room_above = next_start(end) - end;
    // A top-down reservation of maplen (span + alignment, at least twice the alignment) aligns up
    // to the base only when it ended more than maplen - span - alignment above the span.
    const maplength = end - base;
    const slack = Math.max(0, HUGE_ALIGN - maplength);
    const aligned = base % HUGE_ALIGN === 0 && room_above > slack;
    return { path, file, segments, bss, align: aligned ? HUGE_ALIGN : PAGE_SIZE, room_above };
  };
  const paths = [...by_path.keys()];
  if (paths.length === 0) throw new ReplayError(lines[0].line, 'no program: no file-backed mapping');
  // The program is the lowest file mapping (ELF_ET_DYN_BASE or its link address).
  const program = object(paths[0], by_path.get(paths[0])!);
  const interp_path = paths.slice(1).find(is_interpreter);
  const interp = interp_path ? object(interp_path, by_path.get(interp_path)!) : null;
  const libraries = paths
    .slice(1)
    .filter((p) => p !== interp_path)
    .map((p) => object(p, by_path.get(p)!))
    .sort((a, b) => b.segments[0].start - a.segments[0].start);
  const anon = lines
    .filter((l) => !used.has(l))
    .map((l) => ({ start: l.start, end: l.end, prot: prot_of(l.perms), line: l.line }))
    .sort((a, b) => b.start - a.start);
  if (heap && heap.start < object_end(program)) throw new ReplayError(heap.line, '[heap] starts inside the program');
  return { files, file_ids, program, interp, stack, vdso, heap, libraries, anon, shared, lines };
}

function object_end(o: MappedObject): number {
  return o.bss ? o.bss.end : o.segments.at(-1)!.end;
}

/** The kernel's view of an object: its segments in pages from the load address. */
function elf_image(o: MappedObject): ElfImage {
  const base = o.segments[0].start;
  return {
    file: o.file,
    segments: o.segments.map((s, i) => ({
      offset: (s.start - base) / PAGE_SIZE,
      file_offset: s.offset / PAGE_SIZE,
      pages: (s.end - s.start) / PAGE_SIZE,
      prot: s.prot,
      bss_pages: i === o.segments.length - 1 && o.bss ? (o.bss.end - o.bss.start) / PAGE_SIZE : 0,
    })),
  };
}

function must(ok: boolean, line: number, what: string): void {
  if (!ok) throw new ReplayError(line, `the replay could not ${what}`);
}

// glibc elf/dl-map-segments.h _dl_map_segments (with _dl_map_segment's alignment), for a
// shared library; then relocations write its data (the first page of the read-write segment).
function map_library(o: MappedObject): void {
  const first = o.segments[0];
  const last = o.segments.at(-1)!;
  const base = first.start;
  const maplength = object_end(o) - base;
  const pgoff = first.offset / PAGE_SIZE;
  if (o.align > PAGE_SIZE) {
    // Reserve span + alignment top-down, map the file at the aligned address, give back both ends.
    const maplen = maplength >= o.align ? maplength + o.align : 2 * o.align;
    const res_end = base + maplength + Math.min(o.room_above, maplen - maplength);
    const res_start = res_end - maplen;
    must(mmap(res_start, maplen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0) === res_start, first.line, `reserve ${o.path}`);
    must(mmap(base, maplength, first.prot, MAP_PRIVATE | MAP_FIXED, o.file, pgoff) === base, first.line, `map ${o.path}`);
    if (base > res_start) munmap(res_start, base - res_start);
    if (res_end > base + maplength) munmap(base + maplength, res_end - base - maplength);
  } else {
    must(mmap(base, maplength, first.prot, MAP_PRIVATE, o.file, pgoff) === base, first.line, `map ${o.path} at its address`);
  }
  const has_holes = o.segments.some((s, i) => i > 0 && o.segments[i - 1].end !== s.start);
  if (has_holes) must(mprotect(first.end, last.start - first.end, PROT_NONE) === 0, first.line, `protect the holes of ${o.path}`);
  for (const s of o.segments.slice(1)) {
    must(mmap(s.start, s.end - s.start, s.prot, MAP_PRIVATE | MAP_FIXED, o.file, s.offset / PAGE_SIZE) === s.start, s.line, `map a segment of ${o.path}`);
  }
  if (o.bss) must(mmap(o.bss.start, o.bss.end - o.bss.start, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, 0, 0) === o.bss.start, last.line, `map the bss of ${o.path}`);
  touch_data(o);
}

/** Relocation and startup write the data segments and the bss. */
function touch_data(o: MappedObject): void {
  for (const s of o.segments) if (s.prot & PROT_WRITE) write_fault(s.start);
  if (o.bss) write_fault(o.bss.start);
}

// elf/dl-reloc.c _dl_protect_relro
function protect_relro(o: MappedObject): void {
  for (const s of o.segments) if (s.relro_end) must(mprotect(s.start, s.relro_end - s.start, PROT_READ) === 0, s.line, `make the RELRO of ${o.path} read-only`);
}

function vdso_layout(plan: ReplayPlan): VdsoMapping[] {
  return plan.vdso.map((v) => ({ file: v.file, pages: (v.end - v.start) / PAGE_SIZE, text: v.text }));
}

/** How a replay orders what comes after execve: as the process did, or every line in address order (for comparison). */
export type ReplayOrder = 'process' | 'descending' | 'ascending';

/** Build the current task's address space from the plan (runs on a CPU, as the task). */
export function replay_maps(plan: ReplayPlan, order: ReplayOrder = 'process'): void {
  const { program, interp, stack, heap } = plan;
  const start_brk = heap ? heap.start : object_end(program);
  exec_elf(elf_image(program), interp ? elf_image(interp) : null, {
    stack_pages: (stack.end - stack.start) / PAGE_SIZE,
    brk_gap_pages: (start_brk - object_end(program)) / PAGE_SIZE,
    vdso: vdso_layout(plan),
    load_bias: program.segments[0].start,
    mmap_base: interp ? object_end(interp) : undefined,
    stack_top: stack.end,
  });
  write_fault(stack.end - PAGE_SIZE);
  touch_data(program);
  if (interp) touch_data(interp);
  if (order === 'process') {
    for (const lib of plan.libraries) map_library(lib);
    for (const lib of [...plan.libraries].reverse()) protect_relro(lib);
    protect_relro(program);
    if (interp) protect_relro(interp);
    if (heap) grow_heap(heap);
    for (const a of plan.anon) map_anon(a);
    for (const s of plan.shared) map_shared(s);
  } else {
    replay_lines(plan, order);
  }
  verify(plan);
}

// glibc malloc sysmalloc: the main arena grows with sbrk, the new top chunk's header written
function grow_heap(heap: MapsLine): void {
  for (let cur = heap.start; cur < heap.end; ) {
    const step = Math.min(MALLOC_HEAP_STEP, heap.end - cur);
    must(sbrk(step) === cur, heap.line, 'grow the heap');
    write_fault(cur);
    cur += step;
  }
}

function map_anon(a: AnonMapping): void {
  must(mmap(a.start, a.end - a.start, a.prot, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0) === a.start, a.line, 'place an anonymous mapping at its address');
  if (a.prot & PROT_WRITE) write_fault(a.start);
}

function map_shared(s: SharedMapping): void {
  const flags = MAP_SHARED | (s.file ? 0 : MAP_ANONYMOUS);
  must(mmap(s.start, s.end - s.start, s.prot, flags, s.file, s.offset / PAGE_SIZE) === s.start, s.line, 'place a shared mapping at its address');
  if (s.prot & PROT_WRITE) write_fault(s.start);
}

/**
 * Every line after execve with MAP_FIXED (the heap with one brk, a RELRO line mapped read-write
 * and made read-only at once), in address order: what the order of the stores changes.
 */
function replay_lines(plan: ReplayPlan, order: 'descending' | 'ascending'): void {
  const exec_made = new Set<number>([plan.stack.start, ...plan.vdso.map((v) => v.start)]);
  const relro = new Set<number>();
  for (const o of [plan.program, plan.interp, ...plan.libraries]) {
    if (!o) continue;
    for (const s of o.segments) if (s.relro_end) relro.add(s.start);
    if (o !== plan.program && o !== plan.interp) continue;
    const end = object_end(o);
    for (const l of plan.lines) if (l.start >= o.segments[0].start && l.end <= end) exec_made.add(l.start);
  }
  const rest = plan.lines.filter((l) => !exec_made.has(l.start));
  if (order === 'descending') rest.reverse();
  for (const l of rest) {
    if (l.path === '[heap]') {
      must(sbrk(l.end - l.start) === l.start, l.line, 'grow the heap');
      write_fault(l.start);
      continue;
    }
    const anonymous = is_anonymous(l);
    const file = anonymous ? 0 : plan.file_ids.get(l.path)!;
    const flags = (l.perms[3] === 's' ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED | (anonymous ? MAP_ANONYMOUS : 0);
    const prot = relro.has(l.start) ? PROT_READ | PROT_WRITE : prot_of(l.perms);
    must(mmap(l.start, l.end - l.start, prot, flags, file, l.offset / PAGE_SIZE) === l.start, l.line, 'map the line');
    if (prot & PROT_WRITE) write_fault(l.start);
    if (relro.has(l.start)) must(mprotect(l.start, l.end - l.start, PROT_READ) === 0, l.line, 'make RELRO read-only');
  }
  protect_relro(plan.program);
  if (plan.interp) protect_relro(plan.interp);
}

/** The replayed address space must show as the capture does: same ranges, protections, offsets, names. */
function verify(plan: ReplayPlan): void {
  const shown = show_maps(task_mm(get_current()), plan.files);
  for (let i = 0; i < Math.max(shown.length, plan.lines.length); i++) {
    const want = plan.lines[i];
    const got = shown[i];
    if (!want) throw new ReplayError(plan.lines.at(-1)!.line, `the replay made a mapping the capture does not have at ${got.start.toString(16)}`);
    if (!got || got.start !== want.start || got.end !== want.end || got.perms !== want.perms || got.offset !== want.offset || got.path !== (is_anonymous(want) ? '' : want.path)) {
      const has = got ? `${got.start.toString(16)}-${got.end.toString(16)} ${got.perms} ${got.offset.toString(16)} ${got.path}` : 'nothing';
      throw new ReplayError(want.line, `the replay gives ${has.trim()} where the capture has ${want.start.toString(16)}-${want.end.toString(16)} ${want.perms}`);
    }
  }
}
