// From a V8 CPU profile of a task worker to call stacks named as perf would name them on Linux.
//
// The simulated kernel's functions carry Linux names and V8 keeps them through the bundle (with
// TurboFan's inlining off while profiling, profiler.ts, every function is a frame of its own).
// Each frame is placed by the source file its function comes from (through the bundle's source
// map):
// - the harness (src/runner, Node's and libraries' code) is left out: the worker's entry, the
//   start barrier and the loop's stop check are not the test's code; what they call keeps its
//   frames, and a sample in them alone (the worker waiting at the barrier, with the profiler
//   already on) is no simulated CPU's and is not counted;
// - the user program (workloads/, src/user/: the testcase loop and the libc wrappers) and the
//   kernel (src/kernel/) keep their names; where user code calls into the kernel, the frames the
//   syscall instruction (or a fault) passes on Linux are put in between, which the simulation
//   calls directly: entry_SYSCALL_64_after_hwframe → do_syscall_64, or asm_exc_page_fault; a
//   syscall body `sys_X` is Linux's `__do_sys_X` (what SYSCALL_DEFINE names it);
// - the machine (src/machine: safe points, modeled hardware waits) and helpers (src/lib) keep
//   their own names, which say what they are;
// - a sample whose leaf is schedule_wait is a task asleep with its CPU idle (the thread blocks in
//   Atomics.wait, where V8 still samples it), and V8's `(idle)` a thread outside JavaScript
//   waiting for work: no cycles, so no sample;
// - functions that have no symbol on Linux because they are a field access or a macro there
//   (the simulation's record accessors, per-CPU and `current` helpers: NO_LINUX_FRAME) are folded
//   into their caller, as are anonymous functions; with inlining off they would be frames;
// - V8's other pseudo-frames keep their meaning: `v8_garbage_collector`, `v8_program` (the VM
//   outside JavaScript).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TraceMap, originalPositionFor } from '@jridgewell/trace-mapping';
import type { FoldedStacks } from './perf_profile.ts';

/** The parts of a V8 CPU profile (Profiler.stop's `profile`) that are read. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }>;
  samples?: number[];
}

export type FrameKind = 'user' | 'kernel' | 'other' | 'harness';

/** Where a frame belongs, from the source file of its function. */
export function classify_source(source: string): FrameKind {
  if (/(^|\/)src\/kernel\//.test(source)) return 'kernel';
  if (/(^|\/)src\/(machine|lib)\//.test(source)) return 'other';
  if (/(^|\/)(workloads|src\/user|test)\//.test(source)) return 'user';
  return 'harness';
}

const PSEUDO: Record<string, string> = {
  '(garbage collector)': 'v8_garbage_collector',
  '(program)': 'v8_program',
};

/**
 * The simulation's accessors and helpers where Linux reads a field or expands a macro or an
 * always-inline helper (vma->vm_start, this_cpu_inc, current): no perf frame on Linux, so none
 * here. Checked against Linux 6.7/6.8's sources (lib/maple_tree.c, mm/, include/linux/): none is
 * a Linux function. The simulation's own names for real work (cache_refill for ___slab_alloc's
 * refill, partial_add, note_gp_needed …) stay: their time is that work's.
 */
const NO_LINUX_FRAME = new Set([
  'vm_start', 'vm_end', 'vm_flags', 'vm_pgoff', 'set_vm_start', 'set_vm_end', 'set_vm_flags', 'set_vm_pgoff',
  'vma_file', 'vma_mm', 'vma_anon_vma', 'mm_mt', 'mm_get', 'mm_set', 'mmap_lock_addr', 'current_mm', 'mm_add_map_count',
  'set_slot', 'slot_idx', 'set_gap', 'gap', 'set_parent_raw', 'set_parent_tree', 'set_mt_root', 'mt_root',
  'page_desc', 'addr_to_pfn', 'rs', 'this_rdp', 'av', 'alloc_room', 'copy', 'clear', 'init', 'reset', 'jiffies', 'ns_to_jiffies',
  'this_cpu_inc', 'this_cpu_add', 'this_cpu_inc_index', 'per_cpu_ptr', 'per_cpu_base', 'get_current', 'set_current',
  'set_cpu_context', 'smp_processor_id', 'call_kfunction', 'kconfig',
]);

/** Leaf frames in which the task sleeps and its CPU idles. */
const OFF_CPU_LEAVES = new Set(['schedule_wait', '(idle)']);

const maps = new Map<string, TraceMap | null>();

/** The bundle file's inline source map (build.ts builds with sourcemap: 'inline'). */
function source_map(url: string): TraceMap | null {
  let m = maps.get(url);
  if (m !== undefined) return m;
  m = null;
  try {
    const text = readFileSync(fileURLToPath(url), 'utf8');
    const at = text.lastIndexOf('//# sourceMappingURL=data:application/json;base64,');
    if (at >= 0) m = new TraceMap(Buffer.from(text.slice(text.indexOf(',', at) + 1).trim(), 'base64').toString('utf8'));
  } catch {
    m = null;
  }
  maps.set(url, m);
  return m;
}

/** Where the frame's function comes from, by its bundle position. */
function frame_kind(url: string, line: number, column: number): FrameKind {
  if (!url.startsWith('file:')) return 'harness';
  const map = source_map(url);
  if (!map) return classify_source(fileURLToPath(url));
  const pos = originalPositionFor(map, { line: line + 1, column: Math.max(0, column) });
  return pos.source ? classify_source(pos.source) : 'harness';
}

interface Frame {
  name: string;
  kind: FrameKind;
}

/** Linux's frames between a user frame and the kernel function it calls directly. */
function entry_frames(kernel_fn: string): string[] {
  return kernel_fn === 'exc_page_fault' ? ['asm_exc_page_fault'] : ['entry_SYSCALL_64_after_hwframe', 'do_syscall_64'];
}

/**
 * The profile's samples as folded stacks (leaf first, ';'-joined), named as described above.
 * `kind_of` places a frame (frame_kind by default: by source map).
 */
export function fold_profile(profile: CpuProfile, kind_of: (url: string, line: number, column: number) => FrameKind = frame_kind): FoldedStacks {
  const by_id = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Root first: each node's kept frames, from its parent's.
  const stacks = new Map<number, Frame[]>();
  const stack_of = (id: number): Frame[] => {
    const known = stacks.get(id);
    if (known) return known;
    const node = by_id.get(id)!;
    const up = parent.has(id) ? stack_of(parent.get(id)!) : [];
    const { functionName: fn, url, lineNumber, columnNumber } = node.callFrame;
    let out = up;
    if (fn === '(idle)') out = [{ name: fn, kind: 'other' }];
    else if (fn in PSEUDO) out = [...up, { name: PSEUDO[fn], kind: 'other' }];
    else if (fn !== '(root)' && fn !== '' && !NO_LINUX_FRAME.has(fn)) {
      const kind = kind_of(url, lineNumber, columnNumber);
      if (kind !== 'harness') {
        const caller = up[up.length - 1];
        const name = kind === 'kernel' ? fn.replace(/^sys_/, '__do_sys_') : fn;
        const entry = kind === 'kernel' && caller?.kind === 'user' ? entry_frames(fn).map((e) => ({ name: e, kind: 'kernel' as const })) : [];
        out = [...up, ...entry, { name, kind }];
      }
    }
    stacks.set(id, out);
    return out;
  };
  const counts = new Map<number, number>();
  for (const id of profile.samples ?? []) counts.set(id, (counts.get(id) ?? 0) + 1);
  const folded: FoldedStacks = {};
  for (const [id, c] of counts) {
    const frames = stack_of(id);
    if (frames.length === 0 || OFF_CPU_LEAVES.has(frames[frames.length - 1].name)) continue;
    const key = frames.map((f) => f.name).reverse().join(';');
    folded[key] = (folded[key] ?? 0) + c;
  }
  return folded;
}
