// The x86 instructions a patch site holds (arch/x86/include/asm/text-patching.h; 3.2 spells them
// in alternative.c and jump_label.c).

export const INSN_SIZE = 5;
/** The first byte of each instruction a site can hold. */
export const OP_NOP5 = 0x0f; // 0f 1f 44 00 00: ideal_nops[5], the x86-64 P6 5-byte NOP
export const OP_JMP = 0xe9; // e9 rel32
export const OP_INT3 = 0xcc;
