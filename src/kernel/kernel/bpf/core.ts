// BPF programs and the interpreter (kernel/bpf/core.c, 5.11): struct bpf_prog as a record in the
// arena, ___bpf_prog_run over the program's instructions, bpf_prog_calc_tag, and the entry of a
// program as the JIT lays it out — 5 patchable bytes (a NOP5 that a trampoline turns into a CALL,
// arch/x86/net/bpf_jit_comp.c emit_prologue) before the body.
//
// Registers are 64 bits, kept as two int32 halves so that the hot loop allocates nothing; MUL, DIV
// and MOD of 64-bit values go through BigInt (no shipped program uses them). Pointers are arena
// addresses (below 2^31), so a pointer is a register whose high half is 0. The interpreter counts
// every instruction it executes into this CPU's instructions-retired count (the PMU's
// `instructions`), flushing before each helper call so that a helper reading the PMU sees them.

import { mem8, mem32, PAGE_SIZE } from '../../../machine/memory.ts';
import { this_cpu_base } from '../../../machine/cpu.ts';
import { define_counter, this_cpu_add, this_cpu_inc } from '../../../machine/counters.ts';
import { define_per_cpu } from '../../../machine/symbols.ts';
import { createHash } from 'node:crypto';
import { do_int3 } from '../../arch/x86/kernel/traps.ts';
import { OP_INT3 } from '../../arch/x86/include/asm/text-patching.ts';
import { nr_instructions_retired } from '../events/core.ts';
import {
  BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_B, BPF_CALL, BPF_DIV, BPF_DW, BPF_END, BPF_EXIT, BPF_H, BPF_JA, BPF_JEQ,
  BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_JSGE, BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_LD,
  BPF_LDX, BPF_LSH, BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TO_BE, BPF_W, BPF_X,
  BPF_XOR, MAX_BPF_STACK, BPF_OBJ_NAME_LEN,
} from '../../include/uapi/linux/bpf.ts';

// struct bpf_prog + bpf_prog_aux: words
export const P_ID = 0;
export const P_TYPE = 1;
export const P_EXPECTED_ATTACH = 2;
export const P_LEN = 3; // instructions
export const P_INSNS = 4; // address of the instructions (pages)
export const P_INSNS_ORDER = 5;
export const P_JITED = 6;
export const P_BTF_ID = 7; // the program's BTF object (its id), 0 without BTF
export const P_FUNC_INFO_CNT = 8;
export const P_FUNC_INFO_TYPE = 9; // func_info[0].type_id
export const P_REFCNT = 10;
export const P_DST_PROG = 11; // a tracing program's target program (held), 0 for a kernel function
export const P_ATTACH_TRACING_PROG = 13; // 6.8 aux->attach_tracing_prog
export const P_DST_TRAMPOLINE = 15; // the trampoline a loaded tracing program will link to
export const P_GPL = 16;
export const P_UID = 17;
export const P_NR_MAPS = 18;
export const P_MAPS = 19; // .. P_MAPS + MAX_USED_MAPS - 1: the maps the program uses (held)
export const MAX_USED_MAPS = 8;
export const P_LOADED_AT = 14; // f64 index (bytes 112-119): boot-relative ns
export const P_NAME = 128; // bytes: BPF_OBJ_NAME_LEN
export const P_TAG = 144; // bytes: BPF_TAG_SIZE
/** The program's entry as the JIT emits it: 5 patchable bytes; the trampoline in word P_SITE/4 + 2. */
export const P_SITE = 160;
export const BPF_PROG_SIZE = 176;

/** An fentry site (a program's entry, or a kernel function's __fentry__ call): its trampoline. */
export const SITE_TRAMPOLINE = 2; // word offset from the site
export const OP_CALL = 0xe8;

const nr_runs = define_counter('sim.bpf.prog_runs');
const nr_faults = define_counter('sim.bpf.faults');

/** Nesting of program runs on one CPU (a trampoline runs programs around another's run). */
const MAX_DEPTH = 8;
// Each nested run has its own 512-byte frame.
const bpf_stack = define_per_cpu('bpf_stack', MAX_DEPTH * MAX_BPF_STACK);
const regs_by_depth = Array.from({ length: MAX_DEPTH }, () => new Int32Array(22));
let depth = 0;

export function prog_name(prog: number): string {
  let n = 0;
  while (n < BPF_OBJ_NAME_LEN && mem8[prog + P_NAME + n] !== 0) n++;
  return new TextDecoder().decode(mem8.slice(prog + P_NAME, prog + P_NAME + n));
}

// kernel/bpf/core.c bpf_prog_calc_tag: the first 8 bytes of the SHA-1 of the instructions as
// loaded, with the map fds of LD_IMM64 zeroed (both halves)
export function bpf_prog_calc_tag(insns: Uint8Array): Uint8Array {
  const raw = insns.slice();
  const dv = new DataView(raw.buffer);
  let was_ld_map = false;
  for (let i = 0; i < raw.length; i += 8) {
    const code = raw[i];
    const src = raw[i + 1] >> 4;
    if (!was_ld_map && code === (BPF_LD | BPF_DW) && (src === 1 || src === 2)) {
      was_ld_map = true;
      dv.setInt32(i + 4, 0, true);
    } else if (was_ld_map && code === 0 && raw[i + 1] === 0 && dv.getInt16(i + 2, true) === 0) {
      was_ld_map = false;
      dv.setInt32(i + 4, 0, true);
    } else was_ld_map = false;
  }
  return new Uint8Array(createHash('sha1').update(raw).digest().subarray(0, 8));
}

/** A helper: its arguments' low halves (arena addresses, small integers) → its return value. */
export type BpfHelper = (r1: number, r2: number, r3: number, r4: number, r5: number) => number;
/** The high halves of R1-R5 at the call, for a helper that must see a whole 64-bit argument. */
export const helper_args_hi = new Int32Array(5);
const helpers: Array<BpfHelper | undefined> = [];

export function register_bpf_helper(id: number, fn: BpfHelper): void {
  helpers[id] = fn;
}

function fault(addr: number): never {
  this_cpu_inc(nr_faults);
  throw new Error(`BUG: unable to handle page fault for address: ${addr.toString(16)} (BPF program)`);
}

function check(addr: number, size: number): void {
  if (addr < PAGE_SIZE || addr + size > mem8.length) fault(addr);
}

function load32(a: number): number {
  if ((a & 3) === 0) return mem32[a >> 2];
  return mem8[a] | (mem8[a + 1] << 8) | (mem8[a + 2] << 16) | (mem8[a + 3] << 24);
}

function store32(a: number, v: number): void {
  if ((a & 3) === 0) mem32[a >> 2] = v;
  else {
    mem8[a] = v;
    mem8[a + 1] = v >> 8;
    mem8[a + 2] = v >> 16;
    mem8[a + 3] = v >> 24;
  }
}

function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

const U32 = 4294967296;
const big = (lo: number, hi: number) => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

/** Unsigned and signed 64-bit comparison of (ahi, alo) with (bhi, blo): -1, 0, 1. */
function ucmp(ahi: number, alo: number, bhi: number, blo: number): number {
  if (ahi !== bhi) return (ahi >>> 0) < (bhi >>> 0) ? -1 : 1;
  if (alo === blo) return 0;
  return (alo >>> 0) < (blo >>> 0) ? -1 : 1;
}

function scmp(ahi: number, alo: number, bhi: number, blo: number): number {
  if (ahi !== bhi) return ahi < bhi ? -1 : 1;
  if (alo === blo) return 0;
  return (alo >>> 0) < (blo >>> 0) ? -1 : 1;
}

/** A jump's condition on (dst, src), 64- or 32-bit operands already chosen by the caller. */
function cond(op: number, dhi: number, dlo: number, shi: number, slo: number): boolean {
  switch (op) {
    case BPF_JEQ: return dhi === shi && dlo === slo;
    case BPF_JNE: return dhi !== shi || dlo !== slo;
    case BPF_JGT: return ucmp(dhi, dlo, shi, slo) > 0;
    case BPF_JGE: return ucmp(dhi, dlo, shi, slo) >= 0;
    case BPF_JLT: return ucmp(dhi, dlo, shi, slo) < 0;
    case BPF_JLE: return ucmp(dhi, dlo, shi, slo) <= 0;
    case BPF_JSGT: return scmp(dhi, dlo, shi, slo) > 0;
    case BPF_JSGE: return scmp(dhi, dlo, shi, slo) >= 0;
    case BPF_JSLT: return scmp(dhi, dlo, shi, slo) < 0;
    case BPF_JSLE: return scmp(dhi, dlo, shi, slo) <= 0;
    case BPF_JSET: return (dhi & shi) !== 0 || (dlo & slo) !== 0;
    default: throw new Error(`BPF: bad jump op ${op}`);
  }
}

// kernel/bpf/core.c ___bpf_prog_run: run the program's body with R1 = ctx; returns R0 (low half)
export function ___bpf_prog_run(prog: number, ctx: number): number {
  if (depth === MAX_DEPTH) throw new Error('BPF: programs nested too deep');
  const r = regs_by_depth[depth];
  const fp = this_cpu_base + bpf_stack.off + (depth + 1) * MAX_BPF_STACK;
  depth++;
  this_cpu_inc(nr_runs);
  // No zeroing: the verifier proved that nothing reads a register before writing it.
  r[2] = ctx;
  r[3] = 0;
  r[20] = fp;
  r[21] = 0;
  const base = mem32[(prog >> 2) + P_INSNS] >> 2;
  let pc = 0;
  let retired = 0;
  try {
    for (;;) {
      const w0 = mem32[base + 2 * pc];
      const imm = mem32[base + 2 * pc + 1];
      const code = w0 & 0xff;
      const dst = (w0 >> 8) & 0xf;
      const src = (w0 >> 12) & 0xf;
      const off = w0 >> 16;
      const cls = code & 7;
      const d = 2 * dst;
      retired++;
      pc++;
      if (cls === BPF_ALU64 || cls === BPF_ALU) {
        const op = code & 0xf0;
        const x = (code & BPF_X) !== 0;
        let slo = x ? r[2 * src] : imm;
        let shi = x ? r[2 * src + 1] : imm >> 31;
        if (cls === BPF_ALU) shi = 0;
        let lo = r[d];
        let hi = cls === BPF_ALU ? 0 : r[d + 1];
        switch (op) {
          case BPF_MOV: lo = slo; hi = shi; break;
          case BPF_ADD: {
            const sum = (lo >>> 0) + (slo >>> 0);
            lo = sum | 0;
            hi = (hi + shi + (sum >= U32 ? 1 : 0)) | 0;
            break;
          }
          case BPF_SUB: {
            const borrow = (lo >>> 0) < (slo >>> 0) ? 1 : 0;
            lo = (lo - slo) | 0;
            hi = (hi - shi - borrow) | 0;
            break;
          }
          case BPF_OR: lo |= slo; hi |= shi; break;
          case BPF_AND: lo &= slo; hi &= shi; break;
          case BPF_XOR: lo ^= slo; hi ^= shi; break;
          case BPF_NEG: {
            const borrow = lo !== 0 ? 1 : 0;
            lo = -lo | 0;
            hi = (-hi - borrow) | 0;
            break;
          }
          case BPF_LSH: case BPF_RSH: case BPF_ARSH: {
            const n = slo & (cls === BPF_ALU ? 31 : 63);
            if (cls === BPF_ALU) {
              lo = op === BPF_LSH ? lo << n : op === BPF_RSH ? lo >>> n : lo >> n;
            } else if (n !== 0) {
              if (op === BPF_LSH) {
                if (n < 32) { hi = (hi << n) | (lo >>> (32 - n)); lo <<= n; } else { hi = lo << (n - 32); lo = 0; }
              } else if (op === BPF_RSH) {
                if (n < 32) { lo = (lo >>> n) | (hi << (32 - n)); hi >>>= n; } else { lo = hi >>> (n - 32); hi = 0; }
              } else if (n < 32) { lo = (lo >>> n) | (hi << (32 - n)); hi >>= n; } else { lo = hi >> (n - 32); hi >>= 31; }
            }
            break;
          }
          case BPF_MUL:
            if (cls === BPF_ALU) lo = Math.imul(lo, slo);
            else { const v = BigInt.asUintN(64, big(lo, hi) * big(slo, shi)); lo = Number(v & 0xffffffffn) | 0; hi = Number(v >> 32n) | 0; }
            break;
          case BPF_DIV: case BPF_MOD: {
            // Division by zero gives 0 and modulo by zero leaves dst (the 5.x runtime rules).
            if (cls === BPF_ALU) {
              if (slo === 0) { if (op === BPF_DIV) lo = 0; } else lo = op === BPF_DIV ? ((lo >>> 0) / (slo >>> 0)) | 0 : (lo >>> 0) % (slo >>> 0) | 0;
            } else if (slo === 0 && shi === 0) {
              if (op === BPF_DIV) { lo = 0; hi = 0; }
            } else {
              const v = op === BPF_DIV ? big(lo, hi) / big(slo, shi) : big(lo, hi) % big(slo, shi);
              lo = Number(v & 0xffffffffn) | 0;
              hi = Number(v >> 32n) | 0;
            }
            break;
          }
          case BPF_END: {
            const to_be = (code & BPF_TO_BE) !== 0;
            lo = r[d];
            hi = r[d + 1];
            if (imm === 16) { lo = to_be ? ((lo & 0xff) << 8) | ((lo >>> 8) & 0xff) : lo & 0xffff; hi = 0; }
            else if (imm === 32) { lo = to_be ? bswap32(lo) : lo; hi = 0; }
            else if (to_be) { const t = lo; lo = bswap32(hi); hi = bswap32(t); }
            break;
          }
          default: throw new Error(`BPF: unknown ALU op ${op.toString(16)}`);
        }
        r[d] = lo;
        // BPF_END is an ALU-class instruction whose 64-bit form keeps both halves
        r[d + 1] = cls === BPF_ALU && !(op === BPF_END && imm === 64) ? 0 : hi;
      } else if (cls === BPF_JMP || cls === BPF_JMP32) {
        const op = code & 0xf0;
        if (op === BPF_JA) { pc += off; continue; }
        if (op === BPF_EXIT) break;
        if (op === BPF_CALL) {
          this_cpu_add(nr_instructions_retired, retired);
          retired = 0;
          const fn = helpers[imm];
          if (fn === undefined) throw new Error(`BPF: no helper ${imm}`);
          for (let k = 0; k < 5; k++) helper_args_hi[k] = r[2 * k + 3];
          const v = fn(r[2], r[4], r[6], r[8], r[10]);
          r[0] = v | 0;
          r[1] = v < 0 ? -1 : Math.floor(v / U32) | 0;
          continue;
        }
        const x = (code & BPF_X) !== 0;
        const slo = x ? r[2 * src] : imm;
        const jmp32 = cls === BPF_JMP32;
        const shi = jmp32 ? 0 : x ? r[2 * src + 1] : imm >> 31;
        // A 32-bit jump compares the low halves as if they were the whole registers.
        const ok = jmp32 ? cond(op, op >= BPF_JSGT && op !== BPF_JLT && op !== BPF_JLE ? r[d] >> 31 : 0, r[d], op >= BPF_JSGT && op !== BPF_JLT && op !== BPF_JLE ? slo >> 31 : 0, slo)
          : cond(op, r[d + 1], r[d], shi, slo);
        if (ok) pc += off;
      } else if (cls === BPF_LDX) {
        const a = r[2 * src] + off;
        const size = code & 0x18;
        const n = size === BPF_DW ? 8 : size === BPF_W ? 4 : size === BPF_H ? 2 : 1;
        check(a, n);
        if (size === BPF_DW) { r[d] = load32(a); r[d + 1] = load32(a + 4); }
        else { r[d] = size === BPF_W ? load32(a) : size === BPF_H ? mem8[a] | (mem8[a + 1] << 8) : mem8[a]; r[d + 1] = 0; }
      } else if (cls === BPF_STX || cls === BPF_ST) {
        const a = r[d] + off;
        const lo = cls === BPF_STX ? r[2 * src] : imm;
        const hi = cls === BPF_STX ? r[2 * src + 1] : imm >> 31;
        const size = code & 0x18;
        const n = size === BPF_DW ? 8 : size === BPF_W ? 4 : size === BPF_H ? 2 : 1;
        check(a, n);
        if (size === BPF_DW) { store32(a, lo); store32(a + 4, hi); }
        else if (size === BPF_W) store32(a, lo);
        else if (size === BPF_H) { mem8[a] = lo; mem8[a + 1] = lo >> 8; }
        else if (size === BPF_B) mem8[a] = lo;
      } else if (cls === BPF_LD) {
        // LD_IMM64: the verifier left the map's address in the first half for a map fd.
        r[d] = imm;
        r[d + 1] = mem32[base + 2 * pc + 1];
        pc++;
      } else throw new Error(`BPF: unknown instruction class ${cls}`);
    }
  } finally {
    this_cpu_add(nr_instructions_retired, retired);
    depth--;
  }
  return r[0];
}

/** The function a trampoline wraps, called with two words (a program and its context, or a kernel function's arguments). */
export type TrampolineBody = (a: number, b: number) => number;
/** Run the trampoline hooked at `site` (set by kernel/bpf/trampoline.ts) around `body(a, b)`. */
type TrampolineRun = (site: number, args: Float64Array, body: TrampolineBody, a: number, b: number) => number;
let trampoline_run: TrampolineRun = () => { throw new Error('BPF: a CALL at an fentry site, and no trampoline code'); };

export function set_trampoline_run(fn: TrampolineRun): void {
  trampoline_run = fn;
}

/** Whether a CPU that runs `site` now calls a trampoline (the site holds CALL, or INT3 mid-patch to a CALL). */
export function fentry_site_calls(site: number): boolean {
  let op = mem8[site];
  if (op === OP_INT3) op = do_int3(site);
  return op === OP_CALL;
}

/** Enter the trampoline at an fentry site that holds a CALL: `args` are the function's arguments. */
export function run_at_fentry_site(site: number, args: Float64Array, body: TrampolineBody, a: number, b: number): number {
  return trampoline_run(site, args, body, a, b);
}

const prog_args = new Float64Array(1);

// include/linux/filter.h BPF_PROG_RUN: a JITed program starts at its patchable entry, which a
// trampoline may have turned into a CALL
export function bpf_prog_run(prog: number, ctx: number): number {
  if (!fentry_site_calls(prog + P_SITE)) return ___bpf_prog_run(prog, ctx);
  prog_args[0] = ctx;
  return trampoline_run(prog + P_SITE, prog_args, ___bpf_prog_run, prog, ctx);
}
