// Static keys as the rest of the kernel sees them (include/linux/jump_label.h): DEFINE_STATIC_KEY
// and static_branch(). A key's struct counts its users; its sites are instructions in kernel text,
// a NOP while the key is off and a JMP to the branch's code while it is on, and static_branch()
// runs the site: it reads the first byte, and traps when that byte is INT3 (a patch under way).
// kernel/jump_label.ts changes keys and rewrites their sites.

import { mem8, mem32 } from '../../../machine/memory.ts';
import { define_global, type Global } from '../../../machine/symbols.ts';
import { INSN_SIZE, OP_INT3, OP_JMP } from '../../arch/x86/include/asm/text-patching.ts';
import { do_int3 } from '../../arch/x86/kernel/traps.ts';
import { DELAYED_WORK_SIZE } from '../../kernel/workqueue.ts';

// struct static_key_deferred: the key, its rate limit and the delayed work that decrements it
export const KEY_ENABLED = 0; // atomic_t enabled
export const KEY_NR_ENTRIES = 1; // sites in use (jump_entry count)
export const KEY_TIMEOUT = 2; // jiffies; 0 for a key without a rate limit
export const KEY_WORK = 16; // byte offset of struct delayed_work
const KEY_SIZE = KEY_WORK + DELAYED_WORK_SIZE;
/** Bytes of kernel text per site: the 5-byte instruction, padded. */
const SITE_STRIDE = 8;

/** A static key: its struct and the kernel text of its sites (its __jump_table entries). */
export interface StaticKey {
  name: string;
  key: Global;
  text: Global;
  max_sites: number;
}

const jump_table: StaticKey[] = [];

/** DEFINE_STATIC_KEY_FALSE with up to `max_sites` static_branch() sites in the kernel's text. */
export function define_static_key(name: string, max_sites: number): StaticKey {
  const k: StaticKey = { name, key: define_global(`static_key:${name}`, KEY_SIZE), text: define_global(`text:${name}`, max_sites * SITE_STRIDE), max_sites };
  jump_table.push(k);
  return k;
}

/** Every key of the kernel (the __jump_table section, by key). */
export function static_keys(): readonly StaticKey[] {
  return jump_table;
}

/** Index of a word of the key's struct in mem32. */
export function static_key_word(k: StaticKey, field: number): number {
  return (k.key.addr >> 2) + field;
}

/** The address of site i of the key in kernel text. */
export function jump_entry_code(k: StaticKey, i: number): number {
  return k.text.addr + i * SITE_STRIDE;
}

export function static_key_count(k: StaticKey): number {
  return Atomics.load(mem32, static_key_word(k, KEY_ENABLED));
}

// include/linux/jump_label.h static_branch_unlikely: run site i; true where it jumps to the branch
export function static_branch(k: StaticKey, i: number): boolean {
  const site = jump_entry_code(k, i);
  let op = Atomics.load(mem8, site);
  if (op === OP_INT3) op = do_int3(site);
  return op === OP_JMP;
}

/** The bytes of site i as they are now (tests read the text). */
export function jump_entry_text(k: StaticKey, i: number): number[] {
  return [...mem8.subarray(jump_entry_code(k, i), jump_entry_code(k, i) + INSN_SIZE)];
}
