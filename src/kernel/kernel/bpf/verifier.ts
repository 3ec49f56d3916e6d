// The verifier (kernel/bpf/verifier.c bpf_check, 5.11 order): check_subprogs (jumps in range, the
// last instruction an exit), check_attach_btf_id (tracing programs: bpf_check_attach_target),
// resolve_pseudo_ldimm64 (known opcodes, map fds → maps), check_cfg (no back-edges, nothing
// unreachable), then do_check, which walks every path with each register's state: reads of
// uninitialized registers or stack, writes to the frame pointer, helpers the type may not call,
// maps a helper does not take. What it does not model: pointer arithmetic and bounds (the
// interpreter checks every access against the arena instead), liveness (mark_read is 0), and
// subprograms. The log has Linux's messages, and the stats line print_verification_stats writes.

import { mem32 } from '../../../machine/memory.ts';
import { kconfig, knob_index } from '../../config.ts';
import { fget, FILE_BPF_MAP } from '../../fs/file.ts';
import { map_word, M_KEY_SIZE, M_TYPE, bpf_map_inc } from './arraymap.ts';
import { bpf_func_proto } from './helpers.ts';
import { btf_get_by_id, btf_type_by_id, btf_vmlinux, BTF_KIND_FUNC } from './btf.ts';
import {
  MAX_USED_MAPS, P_ATTACH_TRACING_PROG, P_BTF_ID, P_EXPECTED_ATTACH, P_FUNC_INFO_CNT, P_FUNC_INFO_TYPE,
  P_INSNS, P_JITED, P_LEN, P_MAPS, P_NR_MAPS, P_TYPE, P_GPL,
} from './core.ts';
import {
  BPF_ALU, BPF_ALU64, BPF_CALL, BPF_COMPLEXITY_LIMIT_INSNS, BPF_DW, BPF_END, BPF_EXIT, BPF_JA, BPF_JMP, BPF_JMP32, BPF_LD,
  BPF_LDX, BPF_MEM, BPF_MOV, BPF_PROG_TYPE_TRACING, BPF_PSEUDO_MAP_FD, BPF_ST, BPF_STX, BPF_TRACE_FENTRY, BPF_TRACE_FEXIT,
  BPF_X, BPF_ADD, BPF_SUB, FUNC_NAME, MAX_BPF_STACK, __BPF_FUNC_MAX_ID, BPF_H, BPF_W, BPF_NEG, MAX_BPF_REG,
} from '../../include/uapi/linux/bpf.ts';
import { E2BIG, EACCES, EINVAL } from '../../include/uapi/asm-generic/errno-base.ts';

const K_NESTING = knob_index('bpf.tracing_prog_nesting');

export interface VerifierLog {
  /** attr->log_level: 0 keeps no log. */
  level: number;
  text: string;
}

function bpf_log(log: VerifierLog, msg: string): void {
  if (log.level > 0) log.text += msg;
}

interface Insn { code: number; dst: number; src: number; off: number; imm: number }

function insn_at(prog: number, i: number): Insn {
  const a = mem32[(prog >> 2) + P_INSNS];
  const w0 = mem32[(a >> 2) + 2 * i];
  return { code: w0 & 0xff, dst: (w0 >> 8) & 0xf, src: (w0 >> 12) & 0xf, off: w0 >> 16, imm: mem32[(a >> 2) + 2 * i + 1] };
}

const is_jump = (code: number) => (code & 7) === BPF_JMP || (code & 7) === BPF_JMP32;
const is_ld_imm64 = (code: number) => code === (BPF_LD | BPF_DW);

// verifier.c check_subprogs (one subprogram): every jump lands inside, the last insn leaves
function check_subprogs(prog: number, log: VerifierLog): number {
  const len = mem32[(prog >> 2) + P_LEN];
  for (let i = 0; i < len; i++) {
    const x = insn_at(prog, i);
    if (!is_jump(x.code) || (x.code & 0xf0) === BPF_CALL || (x.code & 0xf0) === BPF_EXIT) continue;
    const off = i + x.off + 1;
    if (off < 0 || off >= len) {
      bpf_log(log, `jump out of range from insn ${i} to ${off}\n`);
      return -EINVAL;
    }
  }
  const last = insn_at(prog, len - 1).code;
  if (last !== (BPF_JMP | BPF_EXIT) && last !== (BPF_JMP | BPF_JA)) {
    bpf_log(log, 'last insn is not an exit or jmp\n');
    return -EINVAL;
  }
  return 0;
}

/** The target a tracing program was loaded for: another program, or a kernel function's BTF id. */
export interface AttachTarget {
  tgt_prog: number;
  btf_id: number;
}

/** What bpf_check_attach_target found: the function's name and its argument count. */
export interface AttachInfo {
  tname: string;
  nr_args: number;
}

// kernel/bpf/verifier.c bpf_check_attach_target (5.11; 6.8 from 19bfcdf9498a): the function an
// fentry/fexit program attaches to, or -EINVAL with the reason in the log
export function bpf_check_attach_target(log: VerifierLog, prog: number, tgt: AttachTarget, out: AttachInfo): number {
  const { tgt_prog, btf_id } = tgt;
  if (!btf_id) {
    bpf_log(log, 'Tracing programs must provide btf_id\n');
    return -EINVAL;
  }
  const btf = tgt_prog ? btf_get_by_id(mem32[(tgt_prog >> 2) + P_BTF_ID]) : btf_vmlinux();
  if (!btf) {
    bpf_log(log, 'FENTRY/FEXIT program can only be attached to another program annotated with BTF\n');
    return -EINVAL;
  }
  const t = btf_type_by_id(btf, btf_id);
  if (!t) {
    bpf_log(log, `attach_btf_id ${btf_id} is invalid\n`);
    return -EINVAL;
  }
  if (!t.name) {
    bpf_log(log, `attach_btf_id ${btf_id} doesn't have a name\n`);
    return -EINVAL;
  }
  if (tgt_prog) {
    const t_ = tgt_prog >> 2;
    // func_info of a single-function program: its entry 0
    if (mem32[t_ + P_FUNC_INFO_CNT] === 0 || mem32[t_ + P_FUNC_INFO_TYPE] !== btf_id) {
      bpf_log(log, `Subprog ${t.name} doesn't exist\n`);
      return -EINVAL;
    }
    if (!mem32[t_ + P_JITED]) {
      bpf_log(log, 'Can attach to only JITed progs\n');
      return -EINVAL;
    }
    const prog_tracing = mem32[(prog >> 2) + P_TYPE] === BPF_PROG_TYPE_TRACING;
    if (kconfig(K_NESTING)) {
      // 6.8: one level of tracing-on-tracing; the target may not itself be attached to a tracing program
      if (prog_tracing && mem32[t_ + P_ATTACH_TRACING_PROG]) {
        bpf_log(log, 'Cannot nest tracing program attach more than once\n');
        return -EINVAL;
      }
    } else if (mem32[t_ + P_TYPE] === mem32[(prog >> 2) + P_TYPE]) {
      // "Cannot fentry/fexit another fentry/fexit program."
      bpf_log(log, 'Cannot recursively attach\n');
      return -EINVAL;
    }
  }
  if (t.kind !== BTF_KIND_FUNC) {
    bpf_log(log, `attach_btf_id ${btf_id} is not a function\n`);
    return -EINVAL;
  }
  out.tname = t.name;
  out.nr_args = t.nr_args;
  return 0;
}

// kernel/bpf/verifier.c check_attach_btf_id: only tracing programs attach here
function check_attach_btf_id(prog: number, tgt: AttachTarget, log: VerifierLog, out: AttachInfo): number {
  const p = prog >> 2;
  if (mem32[p + P_TYPE] !== BPF_PROG_TYPE_TRACING) return 0;
  const eat = mem32[p + P_EXPECTED_ATTACH];
  if (eat !== BPF_TRACE_FENTRY && eat !== BPF_TRACE_FEXIT) return -EINVAL;
  return bpf_check_attach_target(log, prog, tgt, out);
}

/** bpf_opcode_in_insntable, for the classes and operations this kernel runs. */
function opcode_known(code: number): boolean {
  const cls = code & 7;
  const op = code & 0xf0;
  switch (cls) {
    case BPF_ALU: case BPF_ALU64:
      if (op === BPF_END) return cls === BPF_ALU;
      return op <= 0xc0 && (op !== BPF_NEG || (code & BPF_X) === 0);
    case BPF_JMP: case BPF_JMP32:
      if (op === BPF_CALL || op === BPF_EXIT || op === BPF_JA) return cls === BPF_JMP && (code & BPF_X) === 0;
      return op <= 0xd0;
    case BPF_LDX: return (code & 0xe0) === BPF_MEM;
    case BPF_ST: case BPF_STX: return (code & 0xe0) === BPF_MEM;
    case BPF_LD: return code === (BPF_LD | BPF_DW);
    default: return false;
  }
}

// kernel/bpf/verifier.c resolve_pseudo_ldimm64: opcodes known, map fds replaced by their maps
function resolve_pseudo_ldimm64(prog: number, log: VerifierLog): number {
  const p = prog >> 2;
  const len = mem32[p + P_LEN];
  const a = mem32[p + P_INSNS] >> 2;
  for (let i = 0; i < len; i++) {
    const x = insn_at(prog, i);
    if (!opcode_known(x.code)) {
      bpf_log(log, `unknown opcode ${x.code.toString(16).padStart(2, '0')}\n`);
      return -EINVAL;
    }
    if (!is_ld_imm64(x.code)) continue;
    if (i === len - 1 || insn_at(prog, i + 1).code !== 0) {
      bpf_log(log, 'invalid bpf_ld_imm64 insn\n');
      return -EINVAL;
    }
    if (x.src === BPF_PSEUDO_MAP_FD) {
      const map = fget(x.imm, FILE_BPF_MAP);
      if (map === 0) {
        bpf_log(log, `fd ${x.imm} is not pointing to valid bpf_map\n`);
        return -EINVAL;
      }
      mem32[a + 2 * i + 1] = map;
      mem32[a + 2 * i + 3] = 0;
      let known = false;
      for (let j = 0; j < mem32[p + P_NR_MAPS]; j++) if (mem32[p + P_MAPS + j] === map) known = true;
      if (!known) {
        if (mem32[p + P_NR_MAPS] === MAX_USED_MAPS) {
          bpf_log(log, `too many maps (${MAX_USED_MAPS} in this kernel)\n`);
          return -E2BIG;
        }
        bpf_map_inc(map);
        mem32[p + P_MAPS + mem32[p + P_NR_MAPS]++] = map;
      }
    } else if (x.src !== 0) {
      bpf_log(log, 'unrecognized bpf_ld_imm64 insn\n');
      return -EINVAL;
    }
    i++;
  }
  return 0;
}

// kernel/bpf/verifier.c check_cfg: a depth-first walk; an edge to an instruction on the walk's
// stack is a back-edge (loops are not allowed here), and every instruction must be reached
function check_cfg(prog: number, log: VerifierLog): number {
  const len = mem32[(prog >> 2) + P_LEN];
  const state = new Uint8Array(len); // 0 unseen, 1 on the stack, 2 done
  const stack: number[] = [0];
  const next = new Int32Array(len);
  state[0] = 1;
  const succs = (t: number): number[] => {
    const x = insn_at(prog, t);
    if (is_ld_imm64(x.code)) return [t + 2];
    if (!is_jump(x.code)) return [t + 1];
    const op = x.code & 0xf0;
    if (op === BPF_EXIT) return [];
    if (op === BPF_CALL) return [t + 1];
    if (op === BPF_JA) return [t + x.off + 1];
    return [t + 1, t + x.off + 1];
  };
  while (stack.length) {
    const t = stack[stack.length - 1];
    const s = succs(t);
    if (next[t] < s.length) {
      const w = s[next[t]++];
      if (w < 0 || w >= len) {
        bpf_log(log, `jump out of range from insn ${t} to ${w}\n`);
        return -EINVAL;
      }
      if (state[w] === 1) {
        bpf_log(log, `back-edge from insn ${t} to ${w}\n`);
        return -EINVAL;
      }
      if (state[w] === 0) {
        state[w] = 1;
        stack.push(w);
      }
    } else {
      state[t] = 2;
      stack.pop();
    }
  }
  for (let i = 0; i < len; i++) {
    if (state[i] === 2) continue;
    // the second half of an LD_IMM64 is not an instruction of its own
    if (i > 0 && is_ld_imm64(insn_at(prog, i - 1).code) && state[i - 1] === 2) continue;
    bpf_log(log, `unreachable insn ${i}\n`);
    return -EINVAL;
  }
  return 0;
}

// Register states: NOT_INIT, a scalar, the frame pointer plus a constant, a map, the context.
const NOT_INIT = 0;
const SCALAR = 1;
const PTR_TO_STACK = 2;
const CONST_PTR_TO_MAP = 3;
const PTR_TO_CTX = 4;
const CONST_SCALAR = 5; // a scalar whose value (in val) the verifier knows: what MOV of an immediate gave

interface State {
  pc: number;
  type: Int32Array; // per register
  val: Int32Array; // stack offset, or the map
  stack: Uint8Array; // bytes of the 512-byte frame written so far
}

function clone(s: State, pc: number): State {
  return { pc, type: s.type.slice(), val: s.val.slice(), stack: s.stack.slice() };
}

function state_key(s: State): string {
  return `${s.type.join(',')}|${s.val.join(',')}|${Buffer.from(s.stack).toString('base64')}`;
}

/** What do_check counted, for the stats line. */
interface CheckStats { insn_processed: number; total_states: number; peak_states: number; max_states_per_insn: number }

// kernel/bpf/verifier.c do_check: walk every path (pruned where an equal state was already seen)
function do_check(prog: number, log: VerifierLog, st: CheckStats): number {
  const p = prog >> 2;
  const len = mem32[p + P_LEN];
  const type = mem32[p + P_TYPE];
  const init: State = { pc: 0, type: new Int32Array(11), val: new Int32Array(11), stack: new Uint8Array(MAX_BPF_STACK) };
  init.type[1] = PTR_TO_CTX;
  init.type[10] = PTR_TO_STACK;
  const explored: Array<Set<string> | undefined> = new Array(len);
  const second_half = new Uint8Array(len);
  for (let i = 0; i < len - 1; i++) if (is_ld_imm64(insn_at(prog, i).code)) second_half[++i] = 1;
  const pending: State[] = [init];
  const read = (s: State, r: number): number => {
    if (s.type[r] === NOT_INIT) {
      bpf_log(log, `R${r} !read_ok\n`);
      return -EACCES;
    }
    return 0;
  };
  const stack_bytes = (s: State, r: number, off: number, size: number, write: boolean, what: string): number => {
    const at = s.val[r] + off;
    if (at < -MAX_BPF_STACK || at + size > 0) {
      bpf_log(log, `invalid stack off=${at} size=${size}\n`);
      return -EACCES;
    }
    for (let i = 0; i < size; i++) {
      if (write) s.stack[MAX_BPF_STACK + at + i] = 1;
      else if (!s.stack[MAX_BPF_STACK + at + i]) {
        bpf_log(log, `invalid ${what}read from stack off ${s.val[r] + off}+${i} size ${size}\n`);
        return -EACCES;
      }
    }
    return 0;
  };
  const size_of = (code: number) => ((code & 0x18) === BPF_DW ? 8 : (code & 0x18) === BPF_W ? 4 : (code & 0x18) === BPF_H ? 2 : 1);
  while (pending.length) {
    const s = pending.pop()!;
    for (;;) {
      const i = s.pc;
      if (++st.insn_processed > BPF_COMPLEXITY_LIMIT_INSNS) {
        bpf_log(log, `BPF program is too large. Processed ${st.insn_processed} insn\n`);
        return -E2BIG;
      }
      const x = insn_at(prog, i);
      const cls = x.code & 7;
      let err = 0;
      if (second_half[i]) {
        bpf_log(log, 'invalid BPF_LD_IMM insn\n');
        return -EINVAL;
      }
      // check_reg_arg: a register field names one of R0-R10 (LD_IMM64's and CALL's src are not registers)
      const src_is_reg = cls !== BPF_LD && !(cls === BPF_JMP && (x.code & 0xf0) === BPF_CALL);
      for (const reg of src_is_reg ? [x.dst, x.src] : [x.dst]) {
        if (reg >= MAX_BPF_REG) {
          bpf_log(log, `R${reg} is invalid\n`);
          return -EINVAL;
        }
      }
      if (cls === BPF_ALU || cls === BPF_ALU64) {
        const op = x.code & 0xf0;
        if (x.dst === 10) { bpf_log(log, 'frame pointer is read only\n'); return -EACCES; }
        if ((x.code & BPF_X) && (err = read(s, x.src))) return err;
        if (op !== BPF_MOV && (err = read(s, x.dst))) return err;
        if (op === BPF_MOV && (x.code & BPF_X) && cls === BPF_ALU64) {
          s.type[x.dst] = s.type[x.src];
          s.val[x.dst] = s.val[x.src];
        } else if (op === BPF_MOV && (x.code & BPF_X) === 0 && (cls === BPF_ALU64 || x.imm >= 0)) {
          s.type[x.dst] = CONST_SCALAR;
          s.val[x.dst] = x.imm;
        } else if (cls === BPF_ALU64 && s.type[x.dst] === PTR_TO_STACK && (op === BPF_ADD || op === BPF_SUB) && (x.code & BPF_X) === 0) {
          s.val[x.dst] += op === BPF_ADD ? x.imm : -x.imm;
        } else s.type[x.dst] = SCALAR;
        s.pc++;
      } else if (cls === BPF_LDX) {
        if ((err = read(s, x.src))) return err;
        if (x.dst === 10) { bpf_log(log, 'frame pointer is read only\n'); return -EACCES; }
        if (s.type[x.src] === PTR_TO_STACK && (err = stack_bytes(s, x.src, x.off, size_of(x.code), false, ''))) return err;
        s.type[x.dst] = SCALAR;
        s.pc++;
      } else if (cls === BPF_STX || cls === BPF_ST) {
        if ((err = read(s, x.dst))) return err;
        if (cls === BPF_STX && (err = read(s, x.src))) return err;
        if (s.type[x.dst] === PTR_TO_STACK && (err = stack_bytes(s, x.dst, x.off, size_of(x.code), true, ''))) return err;
        s.pc++;
      } else if (cls === BPF_LD) {
        if (x.dst === 10) { bpf_log(log, 'frame pointer is read only\n'); return -EACCES; }
        s.type[x.dst] = x.src === BPF_PSEUDO_MAP_FD ? CONST_PTR_TO_MAP : SCALAR;
        s.val[x.dst] = x.src === BPF_PSEUDO_MAP_FD ? x.imm : 0;
        s.pc += 2;
      } else {
        const op = x.code & 0xf0;
        if (op === BPF_EXIT) {
          if ((err = read(s, 0))) return err;
          break;
        }
        if (op === BPF_CALL) {
          const id = x.imm;
          const name = FUNC_NAME[id] ?? `unknown#${id}`;
          if (id < 0 || id >= __BPF_FUNC_MAX_ID) { bpf_log(log, `invalid func ${name}#${id}\n`); return -EINVAL; }
          const proto = bpf_func_proto(type, id);
          if (!proto) { bpf_log(log, `unknown func ${FUNC_NAME[id] ?? 'unknown'}#${id}\n`); return -EINVAL; }
          if (proto.gpl_only && !mem32[p + P_GPL]) { bpf_log(log, 'cannot call GPL-restricted function from non-GPL compatible program\n'); return -EINVAL; }
          let map = 0;
          for (const [k, arg] of proto.args.entries()) {
            const r = k + 1;
            if ((err = read(s, r))) return err;
            if (arg === 'const_map_ptr') {
              if (s.type[r] !== CONST_PTR_TO_MAP) { bpf_log(log, `R${r} type=scalar expected=map_ptr\n`); return -EACCES; }
              map = s.val[r];
              const mt = map_word(map, M_TYPE);
              const ok = proto.map_types ? proto.map_types.includes(mt) : mt !== 4; // PERF_EVENT_ARRAY is only for perf helpers
              if (!ok) { bpf_log(log, `cannot pass map_type ${mt} into func ${name}#${id}\n`); return -EINVAL; }
            } else if (arg === 'ptr_to_map_key' && s.type[r] === PTR_TO_STACK) {
              if ((err = stack_bytes(s, r, 0, map_word(map, M_KEY_SIZE), false, 'indirect '))) return err;
            }
          }
          // ARG_PTR_TO_UNINIT_MEM + ARG_CONST_SIZE: the helper fills that much of the stack
          const mem_arg = proto.args.indexOf('ptr_to_uninit_mem');
          if (mem_arg >= 0) {
            const size_reg = mem_arg + 2;
            if (s.type[size_reg] !== CONST_SCALAR) {
              bpf_log(log, `R${size_reg} unbounded memory access, use 'var &= const' or 'if (var < const)'\n`);
              return -EACCES;
            }
            if (s.type[mem_arg + 1] === PTR_TO_STACK && (err = stack_bytes(s, mem_arg + 1, 0, s.val[size_reg], true, ''))) return err;
          }
          for (let r = 1; r <= 5; r++) s.type[r] = NOT_INIT;
          s.type[0] = SCALAR;
          s.pc++;
        } else if (op === BPF_JA) {
          s.pc += x.off + 1;
        } else {
          if ((err = read(s, x.dst))) return err;
          if ((x.code & BPF_X) && (err = read(s, x.src))) return err;
          // both ways: the fall-through now, the branch later
          pending.push(clone(s, i + x.off + 1));
          s.pc++;
        }
      }
      // prune at an instruction already reached with an equal state
      const key = state_key(s);
      const seen = (explored[s.pc] ??= new Set());
      if (seen.has(key)) break;
      seen.add(key);
      st.total_states++;
      st.peak_states = st.total_states;
      st.max_states_per_insn = Math.max(st.max_states_per_insn, seen.size);
    }
  }
  return 0;
}

// kernel/bpf/verifier.c bpf_check: 0, or -errno with the reasons in log.text
export function bpf_check(prog: number, tgt: AttachTarget, log: VerifierLog, attach: AttachInfo): number {
  const st: CheckStats = { insn_processed: 0, total_states: 0, peak_states: 0, max_states_per_insn: 0 };
  let ret = check_subprogs(prog, log);
  if (ret === 0) ret = check_attach_btf_id(prog, tgt, log, attach);
  if (ret === 0) ret = resolve_pseudo_ldimm64(prog, log);
  if (ret === 0) ret = check_cfg(prog, log);
  if (ret === 0) ret = do_check(prog, log, st);
  bpf_log(log, `processed ${st.insn_processed} insns (limit ${BPF_COMPLEXITY_LIMIT_INSNS}) max_states_per_insn ${st.max_states_per_insn} total_states ${st.total_states} peak_states ${st.peak_states} mark_read 0\n`);
  return ret;
}
