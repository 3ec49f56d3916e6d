// Patching kernel text while it runs (arch/x86/kernel/alternative.c): text_poke_smp under
// stop_machine (2.6.37-3.11), text_poke_bp with an INT3 breakpoint and three rounds of sync_core
// IPIs (3.12, commit fd4363fff3d9), text_poke_bp_batch over all sites of a key (5.3, Bristot's
// batching series).
//
// Kernel text is bytes in the arena: a patch site is the 5 bytes of one instruction (NOP5 or a
// JMP rel32), and the CPUs that run it read its first byte, so a site that holds INT3 traps.

import { mem8, mem32 } from '../../../../machine/memory.ts';
import { define_counter, define_function, define_global } from '../../../../machine/symbols.ts';
import { this_cpu_add, this_cpu_inc } from '../../../../machine/counters.ts';
import { on_each_cpu } from '../../../kernel/smp.ts';
import { stop_machine } from '../../../kernel/stop_machine.ts';
import { INSN_SIZE, OP_INT3, OP_NOP5 } from '../include/asm/text-patching.ts';
import { set_int3_handler } from './traps.ts';


const nr_sites = define_counter('sim.text_poke.sites');
const nr_stop_machine = define_counter('sim.text_poke.stop_machine');
const nr_int3_rounds = define_counter('sim.text_poke.int3_rounds');
const nr_int3_traps = define_counter('sim.text_poke.int3_traps');

/** How a breakpoint hit mid-patch continues: past the site (3.12, the NOP path) or as the new instruction (5.3's int3_emulate). */
export type Int3Resume = 'skip' | 'emulate';

// struct bp_patching_desc (5.3; 3.12's bp_int3_addr/handler): the sites being patched with a
// breakpoint, and the first byte each will end with. One patcher at a time: jump_label_mutex
// serializes them (Linux: text_mutex).
const BP_NR = 0;
const BP_RESUME = 1; // 0 skip, 1 emulate
const BP_ENTRIES = 2; // [site, new first byte] pairs
export const BP_MAX = 256;
const bp_desc = define_global('bp_patching_desc', (BP_ENTRIES + 2 * BP_MAX) * 4);

function bp(i: number): number {
  return (bp_desc.addr >> 2) + i;
}

/** Write `len` bytes of `insn` from offset `from` into the site (text_poke's memcpy through a writable alias). */
function poke(site: number, insn: Uint8Array, from: number, len: number): void {
  for (let i = from; i < from + len; i++) Atomics.store(mem8, site + i, insn[i]);
}

// arch/x86/kernel/alternative.c do_sync_core: serialize the instruction stream after a write
const do_sync_core = define_function('do_sync_core', () => {});

// arch/x86/kernel/alternative.c text_poke_sync (3.12: on_each_cpu(do_sync_core, NULL, 1))
function text_poke_sync(): void {
  this_cpu_inc(nr_int3_rounds);
  on_each_cpu(do_sync_core, 0);
}

// struct text_poke_param, and stop_machine_first / wrote_text, for the stopped machine
const TP_SITE = 0;
const TP_FIRST = 1; // stop_machine_first, set to 1: the CPU that takes it to 0 writes
const TP_WROTE = 2; // wrote_text
const TP_INSN = 3; // INSN_SIZE bytes
const text_poke_param = define_global('text_poke_param', 24);

function tp(field: number): number {
  return (text_poke_param.addr >> 2) + field;
}

// arch/x86/kernel/alternative.c stop_machine_text_poke (3.2), in RUN on every CPU: the first to
// arrive writes and sets wrote_text, the others spin until it has; then each syncs its core
const stop_machine_text_poke = define_function('stop_machine_text_poke', () => {
  if (Atomics.sub(mem32, tp(TP_FIRST), 1) === 1) {
    const site = mem32[tp(TP_SITE)];
    for (let i = 0; i < INSN_SIZE; i++) Atomics.store(mem8, site + i, mem8[text_poke_param.addr + TP_INSN * 4 + i]);
    Atomics.store(mem32, tp(TP_WROTE), 1);
    Atomics.notify(mem32, tp(TP_WROTE));
  } else {
    // Spinning, with interrupts off, as every CPU in RUN does.
    while (Atomics.load(mem32, tp(TP_WROTE)) === 0);
  }
});

// arch/x86/kernel/alternative.c text_poke_smp (2.6.37-3.11): one __stop_machine per site
export function text_poke_smp(site: number, insn: Uint8Array): void {
  this_cpu_inc(nr_sites);
  this_cpu_inc(nr_stop_machine);
  mem32[tp(TP_SITE)] = site;
  mem32[tp(TP_FIRST)] = 1;
  mem32[tp(TP_WROTE)] = 0;
  mem8.set(insn.subarray(0, INSN_SIZE), text_poke_param.addr + TP_INSN * 4);
  stop_machine(stop_machine_text_poke, 0, 'all');
}

// arch/x86/kernel/alternative.c text_poke_bp_batch (5.3; text_poke_bp is the batch of one in 3.12):
// INT3 on every first byte, sync; every tail, sync; every first byte, sync.
export function text_poke_bp_batch(sites: readonly number[], insns: readonly Uint8Array[], resume: Int3Resume): void {
  if (sites.length > BP_MAX) throw new Error(`text_poke_bp_batch: ${sites.length} sites, at most ${BP_MAX}`);
  this_cpu_add(nr_sites, sites.length);
  sites.forEach((site, i) => {
    mem32[bp(BP_ENTRIES + 2 * i)] = site;
    mem32[bp(BP_ENTRIES + 2 * i + 1)] = insns[i][0];
  });
  mem32[bp(BP_RESUME)] = resume === 'emulate' ? 1 : 0;
  Atomics.store(mem32, bp(BP_NR), sites.length);
  for (const site of sites) Atomics.store(mem8, site, OP_INT3);
  text_poke_sync();
  sites.forEach((site, i) => poke(site, insns[i], 1, INSN_SIZE - 1));
  text_poke_sync();
  sites.forEach((site, i) => poke(site, insns[i], 0, 1));
  text_poke_sync();
  Atomics.store(mem32, bp(BP_NR), 0);
}

// arch/x86/kernel/alternative.c poke_int3_handler: a CPU ran a site while it held INT3. Returns
// the first byte to act on: 3.12 resumes past the site (as the NOP would), 5.3 emulates the new one.
function poke_int3_handler(site: number): number {
  this_cpu_inc(nr_int3_traps);
  const n = Atomics.load(mem32, bp(BP_NR));
  for (let i = 0; i < n; i++) {
    if (mem32[bp(BP_ENTRIES + 2 * i)] !== site) continue;
    return mem32[bp(BP_RESUME)] === 1 ? mem32[bp(BP_ENTRIES + 2 * i + 1)] : OP_NOP5;
  }
  // Not ours: the patch finished between the fetch and the trap; the site holds its new byte.
  return mem8[site];
}

set_int3_handler(poke_int3_handler);
