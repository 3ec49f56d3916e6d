// /proc/PID/maps, read and shown: a capture is parsed into its lines (with the line number of
// every complaint), and a simulated address space is shown the way fs/proc/task_mmu.c
// show_map_vma shows one, so a replayed parent can be compared with the capture it came from.

import { mem32 } from '../machine/memory.ts';
import { MaState, ULONG_MAX, mas_find } from '../kernel/lib/maple_tree.ts';
import {
  MM_BRK, MM_START_BRK, MM_START_STACK, PAGE_SIZE, TASK_SIZE, VMA_FILE, VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE, mm_get,
  mm_mt, vm_end, vm_flags, vm_pgoff, vm_start,
} from '../kernel/mm/mm_types.ts';

/** One line of a maps file. Addresses are exact: every user address is below 2^47. */
export interface MapsLine {
  /** 1-based line number in the file. */
  line: number;
  start: number;
  end: number;
  /** `r`/`w`/`x`/`p` or `s`, as printed. */
  perms: string;
  /** File offset in bytes (0 for anonymous memory). */
  offset: number;
  dev: string;
  inode: number;
  /** The pathname column: a file, `[heap]`, `[stack]`, `[vdso]`…, or '' for anonymous memory. */
  path: string;
}

export interface Maps {
  lines: MapsLine[];
  /** The `[vsyscall]` gate area: /proc/PID/maps lists it, but it is not in the mm (get_gate_vma). */
  gate: MapsLine | null;
}

export class MapsError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

const LINE_RE = /^([0-9a-f]{1,16})-([0-9a-f]{1,16}) ([r-][w-][x-][ps]) ([0-9a-f]{1,16}) ([0-9a-f]{2,}:[0-9a-f]{2,}) ([0-9]+)(?: +(.*))?$/;
const TASK_SIZE_BIG = BigInt(TASK_SIZE);

/** Parse a maps file; throws MapsError naming the first bad line. */
export function parse_maps(text: string): Maps {
  const lines: MapsLine[] = [];
  let gate: MapsLine | null = null;
  const raw = text.split('\n');
  if (raw.at(-1) === '') raw.pop();
  raw.forEach((s, i) => {
    const n = i + 1;
    const m = LINE_RE.exec(s);
    if (!m) throw new MapsError(n, `not a /proc/PID/maps line: '${s.length > 60 ? `${s.slice(0, 57)}...` : s}'`);
    const start = BigInt(`0x${m[1]}`);
    const end = BigInt(`0x${m[2]}`);
    const path = (m[7] ?? '').trim();
    if (start >= end) throw new MapsError(n, `the range ${m[1]}-${m[2]} is empty or reversed`);
    if (start % BigInt(PAGE_SIZE) !== 0n || end % BigInt(PAGE_SIZE) !== 0n) throw new MapsError(n, `the range ${m[1]}-${m[2]} is not page-aligned`);
    const entry: MapsLine = { line: n, start: Number(start), end: Number(end), perms: m[3], offset: Number(BigInt(`0x${m[4]}`)), dev: m[5], inode: Number(m[6]), path };
    if (end > TASK_SIZE_BIG) {
      if (path === '[vsyscall]' && gate === null) {
        gate = entry;
        return;
      }
      throw new MapsError(n, `the range ${m[1]}-${m[2]} is above TASK_SIZE (${TASK_SIZE.toString(16)})`);
    }
    if (gate) throw new MapsError(n, 'a mapping after [vsyscall], which is listed last');
    const prev = lines.at(-1);
    if (prev && entry.start < prev.end) {
      throw new MapsError(n, entry.start < prev.start ? `not in ascending order (line ${prev.line} starts higher)` : `overlaps line ${prev.line}`);
    }
    lines.push(entry);
  });
  if (lines.length === 0) throw new MapsError(1, 'no mappings');
  return { lines, gate };
}

/** A shown VMA: what show_map_vma prints, less the device and inode, which the simulation has not. */
export interface ShownVma {
  start: number;
  end: number;
  perms: string;
  offset: number;
  path: string;
}

/**
 * fs/proc/task_mmu.c show_map_vma over the mm's VMAs: `names` gives the pathname of each file id
 * (what d_path would print), and [heap]/[stack] are named by vma_is_initial_heap/stack.
 */
export function show_maps(mm: number, names: ReadonlyMap<number, string>): ShownVma[] {
  const out: ShownVma[] = [];
  const mas = new MaState(mm_mt(mm), 0, 0);
  const start_brk = mm_get(mm, MM_START_BRK);
  const brk = mm_get(mm, MM_BRK);
  const start_stack = mm_get(mm, MM_START_STACK);
  for (let vma = mas_find(mas, ULONG_MAX); vma; vma = mas_find(mas, ULONG_MAX)) {
    const flags = vm_flags(vma);
    const file = mem32[(vma >> 2) + VMA_FILE];
    const perms = `${flags & VM_READ ? 'r' : '-'}${flags & VM_WRITE ? 'w' : '-'}${flags & VM_EXEC ? 'x' : '-'}${flags & VM_MAYSHARE ? 's' : 'p'}`;
    let path = names.get(file) ?? '';
    if (!path && vm_start(vma) < brk && vm_end(vma) > start_brk) path = '[heap]';
    else if (!path && vm_start(vma) <= start_stack && vm_end(vma) >= start_stack) path = '[stack]';
    const named_file = file !== 0 && names.has(file) && !path.startsWith('[');
    out.push({ start: vm_start(vma), end: vm_end(vma), perms, offset: named_file ? vm_pgoff(vma) * PAGE_SIZE : 0, path });
  }
  return out;
}
