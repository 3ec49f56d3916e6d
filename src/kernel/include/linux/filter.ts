// struct bpf_insn and the instruction macros of include/linux/filter.h (BPF_MOV64_IMM, BPF_LDX_MEM,
// BPF_JMP_IMM, ...), as user space writes programs with them (samples/bpf, the selftests). An
// instruction is 8 bytes: opcode, dst_reg:4 | src_reg:4, s16 off, s32 imm (little-endian x86).

import {
  BPF_ALU, BPF_ALU64, BPF_CALL, BPF_DW, BPF_END, BPF_EXIT, BPF_IMM, BPF_JA, BPF_JMP, BPF_JMP32, BPF_K, BPF_LD, BPF_LDX, BPF_MEM,
  BPF_MOV, BPF_PSEUDO_MAP_FD, BPF_ST, BPF_STX, BPF_X,
} from '../uapi/linux/bpf.ts';

export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm });

export const BPF_ALU64_REG = (op: number, dst: number, src: number) => insn(BPF_ALU64 | op | BPF_X, dst, src, 0, 0);
export const BPF_ALU64_IMM = (op: number, dst: number, imm: number) => insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
export const BPF_ALU32_IMM = (op: number, dst: number, imm: number) => insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
/** Byte swap to big- (BPF_TO_BE) or little-endian of the low `bits` bits (16, 32, 64). */
export const BPF_ENDIAN = (type: number, dst: number, bits: number) => insn(BPF_ALU | BPF_END | type, dst, 0, 0, bits);
export const BPF_MOV64_REG = (dst: number, src: number) => insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
export const BPF_MOV32_REG = (dst: number, src: number) => insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
export const BPF_MOV64_IMM = (dst: number, imm: number) => insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
export const BPF_MOV32_IMM = (dst: number, imm: number) => insn(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm);
export const BPF_LDX_MEM = (size: number, dst: number, src: number, off: number) => insn(BPF_LDX | size | BPF_MEM, dst, src, off, 0);
export const BPF_STX_MEM = (size: number, dst: number, src: number, off: number) => insn(BPF_STX | size | BPF_MEM, dst, src, off, 0);
export const BPF_ST_MEM = (size: number, dst: number, off: number, imm: number) => insn(BPF_ST | size | BPF_MEM, dst, 0, off, imm);
export const BPF_JMP_REG = (op: number, dst: number, src: number, off: number) => insn(BPF_JMP | op | BPF_X, dst, src, off, 0);
export const BPF_JMP_IMM = (op: number, dst: number, imm: number, off: number) => insn(BPF_JMP | op | BPF_K, dst, 0, off, imm);
export const BPF_JMP32_IMM = (op: number, dst: number, imm: number, off: number) => insn(BPF_JMP32 | op | BPF_K, dst, 0, off, imm);
export const BPF_JMP_A = (off: number) => insn(BPF_JMP | BPF_JA, 0, 0, off, 0);
export const BPF_EMIT_CALL = (func: number) => insn(BPF_JMP | BPF_CALL, 0, 0, 0, func);
export const BPF_EXIT_INSN = () => insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

/** BPF_LD_IMM64_RAW: a 64-bit immediate takes two instructions, the high half in the second's imm. */
export function BPF_LD_IMM64(dst: number, lo: number, hi = 0): [BpfInsn, BpfInsn] {
  return [insn(BPF_LD | BPF_DW | BPF_IMM, dst, 0, 0, lo), insn(0, 0, 0, 0, hi)];
}

/** BPF_LD_MAP_FD: load the map behind `fd` (the verifier replaces the fd with the map). */
export function BPF_LD_MAP_FD(dst: number, fd: number): [BpfInsn, BpfInsn] {
  return [insn(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd), insn(0, 0, 0, 0, 0)];
}

/** Encode instructions as the kernel reads them from user memory. */
export function bpf_insns_encode(prog: readonly (BpfInsn | readonly BpfInsn[])[]): Uint8Array {
  const flat = prog.flat() as BpfInsn[];
  const out = new Uint8Array(flat.length * 8);
  const dv = new DataView(out.buffer);
  flat.forEach((x, i) => {
    dv.setUint8(i * 8, x.code);
    dv.setUint8(i * 8 + 1, (x.src << 4) | (x.dst & 0xf));
    dv.setInt16(i * 8 + 2, x.off, true);
    dv.setInt32(i * 8 + 4, x.imm, true);
  });
  return out;
}
