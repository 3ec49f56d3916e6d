// x86 jump labels (arch/x86/kernel/jump_label.c): a static branch site is a 5-byte NOP, or a JMP
// rel32 to the branch's out-of-line code; how a site is rewritten follows the knob arch.text_poke:
// text_poke_smp under stop_machine, one site at a time (2.6.37-3.11); text_poke_bp, one site at a
// time (3.12-5.2); or arch_jump_label_transform_queue + _apply, all sites of a key in one
// text_poke_bp_batch (5.3+).

import { kconfig, knob_index, knob_value_index } from '../../../config.ts';
import { text_poke_bp_batch, text_poke_smp } from './alternative.ts';
import { INSN_SIZE, OP_JMP, OP_NOP5 } from '../include/asm/text-patching.ts';

const K_TEXT_POKE = knob_index('arch.text_poke');
const POKE_STOP_MACHINE = knob_value_index('arch.text_poke', 'stop_machine');
const POKE_INT3 = knob_value_index('arch.text_poke', 'int3');

/** Where the compiler put a branch's unlikely block: the JMP's rel32 (its distance changes nothing here). */
export const OUT_OF_LINE_REL = 0x100;

const NOP5 = Uint8Array.of(OP_NOP5, 0x1f, 0x44, 0x00, 0x00);

/** The instruction a site holds when its branch is on (JMP) or off (NOP5). */
export function jump_label_insn(enable: boolean): Uint8Array {
  if (!enable) return NOP5;
  const insn = new Uint8Array(INSN_SIZE);
  insn[0] = OP_JMP;
  new DataView(insn.buffer).setInt32(1, OUT_OF_LINE_REL, true);
  return insn;
}

const JMP = jump_label_insn(true);

// arch/x86/kernel/jump_label.c arch_jump_label_transform (and _queue/_apply from 5.3): rewrite
// every site of one key update
export function arch_jump_label_transform_sites(sites: readonly number[], enable: boolean): void {
  const insn = enable ? JMP : NOP5;
  const how = kconfig(K_TEXT_POKE);
  if (how === POKE_STOP_MACHINE) for (const site of sites) text_poke_smp(site, insn);
  // 3.12's text_poke_bp: the breakpoint handler resumes after the site, as the NOP would.
  else if (how === POKE_INT3) for (const site of sites) text_poke_bp_batch([site], [insn], 'skip');
  else text_poke_bp_batch(sites, sites.map(() => insn), 'emulate');
}

/** The boot-time text of a site: the NOP (jump_label_init leaves every key off). */
export const JUMP_LABEL_INITIAL = NOP5;
