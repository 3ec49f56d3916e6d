// BPF trampolines (kernel/bpf/trampoline.c, 5.11; arch/x86/net/bpf_jit_comp.c for the image): one
// per attach target — a BPF program's entry or a kernel function's __fentry__ site. Linking an
// fentry/fexit program rebuilds the trampoline's image and rewrites the target's 5 entry bytes:
// NOP5 → CALL image when the first program links (register_fentry), CALL old → CALL new when the
// set changes (modify_fentry), CALL → NOP5 when the last one goes (unregister_fentry). The rewrite
// is bpf_arch_text_poke, which is text_poke_bp (or, with arch.text_poke=stop_machine, the older
// text_poke_smp), counted in sim.text_poke.*.
//
// An image is a record listing its fentry and fexit programs; two per trampoline, used in turn, and
// the one being replaced is reused only after an RCU grace period (Linux frees the old image after
// synchronize_rcu_tasks): a CPU still running it has passed no safe point since it started. A CPU
// that runs a CALL site takes the trampoline's current image (published before the poke), which
// is the image the CALL names, or the one it is about to name while the poke is under way.

import { mem8, mem32 } from '../../../machine/memory.ts';
import { this_cpu_base } from '../../../machine/cpu.ts';
import { define_counter, this_cpu_inc } from '../../../machine/counters.ts';
import { define_per_cpu } from '../../../machine/symbols.ts';
import { kconfig, knob_index, knob_value_index } from '../../config.ts';
import { define_kmem_cache, kmem_cache_free, kmem_cache_zalloc } from '../../mm/slab.ts';
import { synchronize_rcu } from '../rcu.ts';
import { MUTEX_SIZE, mutex_init, mutex_lock, mutex_unlock } from '../../locking/mutex.ts';
import { define_global } from '../../../machine/symbols.ts';
import { text_poke_bp_batch, text_poke_smp } from '../../arch/x86/kernel/alternative.ts';
import { INSN_SIZE } from '../../arch/x86/include/asm/text-patching.ts';
import { JUMP_LABEL_INITIAL } from '../../arch/x86/kernel/jump_label.ts';
import { bpf_prog_run, OP_CALL, P_EXPECTED_ATTACH, set_trampoline_run, SITE_TRAMPOLINE } from './core.ts';
import { BPF_TRACE_FEXIT } from '../../include/uapi/linux/bpf.ts';
import { store_u64 } from './helpers.ts';
import { E2BIG, EBUSY, ENOENT } from '../../include/uapi/asm-generic/errno-base.ts';


/** BPF_MAX_TRAMP_PROGS is 38 in 5.11; this kernel's images hold fewer. */
export const BPF_MAX_TRAMP_PROGS = 8;

// struct bpf_tramp_image (the list of programs it calls)
const I_NR_FENTRY = 0;
const I_NR_FEXIT = 1;
const I_FENTRY = 2;
const I_FEXIT = I_FENTRY + BPF_MAX_TRAMP_PROGS;
const IMAGE_SIZE = (I_FEXIT + BPF_MAX_TRAMP_PROGS) * 4;

// struct bpf_trampoline
const T_SITE = 0;
const T_NR_ARGS = 1; // the target's argument count (its func_model)
const T_CUR = 2; // the image in use, 0 for none
const T_IMAGES = 3; // two images
const T_REFCNT = 5;
const T_NR_FENTRY = 6;
const T_NR_FEXIT = 7;
const T_UPDATES = 8;
const T_FENTRY = 9;
const T_FEXIT = T_FENTRY + BPF_MAX_TRAMP_PROGS;
const T_ON_PROG = T_FEXIT + BPF_MAX_TRAMP_PROGS; // 1: the site is a program's entry
const TRAMPOLINE_SIZE = (T_ON_PROG + 1) * 4;

const trampoline_cachep = define_kmem_cache('bpf_trampoline', TRAMPOLINE_SIZE);
const image_cachep = define_kmem_cache('bpf_tramp_image', IMAGE_SIZE);

const nr_updates = define_counter('sim.bpf.trampoline_updates');
const nr_tramp_runs = define_counter('sim.bpf.trampoline_runs');
// the programs a trampoline ran, by what it was attached to: another program, or a kernel function
const nr_runs_on_prog = define_counter('sim.bpf.tracing_runs_on_prog');
const nr_runs_on_kernel = define_counter('sim.bpf.tracing_runs_on_kernel');

const K_TEXT_POKE = knob_index('arch.text_poke');
const POKE_STOP_MACHINE = knob_value_index('arch.text_poke', 'stop_machine');

const t = (tr: number, f: number) => (tr >> 2) + f;

// kernel/bpf/trampoline.c trampoline_mutex (and each trampoline's tr->mutex, one lock here): the
// programs of a trampoline and its refcount change one attacher at a time
const trampoline_mutex = define_global('trampoline_mutex', MUTEX_SIZE);

export function bpf_trampoline_init(): void {
  mutex_init(trampoline_mutex.addr, 'trampoline_mutex');
}

function locked<T>(fn: () => T): T {
  mutex_lock(trampoline_mutex.addr);
  try {
    return fn();
  } finally {
    mutex_unlock(trampoline_mutex.addr);
  }
}

/** The trampoline at a site, or 0. */
export function site_trampoline(site: number): number {
  return mem32[(site >> 2) + SITE_TRAMPOLINE];
}

// kernel/bpf/trampoline.c bpf_trampoline_get: the site's trampoline, made on first use; 0 when out of memory
function __bpf_trampoline_get(site: number, nr_args: number, on_prog: boolean): number {
  let tr = site_trampoline(site);
  if (tr === 0) {
    tr = kmem_cache_zalloc(trampoline_cachep);
    const a = kmem_cache_zalloc(image_cachep);
    const b = kmem_cache_zalloc(image_cachep);
    if (tr === 0 || a === 0 || b === 0) {
      if (tr !== 0) kmem_cache_free(trampoline_cachep, tr);
      if (a !== 0) kmem_cache_free(image_cachep, a);
      if (b !== 0) kmem_cache_free(image_cachep, b);
      return 0;
    }
    mem32[t(tr, T_SITE)] = site;
    mem32[t(tr, T_NR_ARGS)] = nr_args;
    mem32[t(tr, T_ON_PROG)] = on_prog ? 1 : 0;
    mem32[t(tr, T_IMAGES)] = a;
    mem32[t(tr, T_IMAGES + 1)] = b;
    mem32[(site >> 2) + SITE_TRAMPOLINE] = tr;
  }
  mem32[t(tr, T_REFCNT)]++;
  return tr;
}

export function bpf_trampoline_get(site: number, nr_args: number, on_prog: boolean): number {
  return locked(() => __bpf_trampoline_get(site, nr_args, on_prog));
}

// kernel/bpf/trampoline.c bpf_trampoline_put: the last user frees it (nothing linked by then)
function __bpf_trampoline_put(tr: number): void {
  if (--mem32[t(tr, T_REFCNT)] > 0) return;
  mem32[(mem32[t(tr, T_SITE)] >> 2) + SITE_TRAMPOLINE] = 0;
  kmem_cache_free(image_cachep, mem32[t(tr, T_IMAGES)]);
  kmem_cache_free(image_cachep, mem32[t(tr, T_IMAGES + 1)]);
  kmem_cache_free(trampoline_cachep, tr);
}

export function bpf_trampoline_put(tr: number): void {
  locked(() => __bpf_trampoline_put(tr));
}

/** The 5 bytes of a CALL from `site` to `target`. */
function call_insn(site: number, target: number): Uint8Array {
  const insn = new Uint8Array(INSN_SIZE);
  insn[0] = OP_CALL;
  new DataView(insn.buffer).setInt32(1, target - (site + INSN_SIZE), true);
  return insn;
}

// arch/x86/net/bpf_jit_comp.c __bpf_arch_text_poke: rewrite the site if it holds `old`
function bpf_arch_text_poke(site: number, old: Uint8Array, insn: Uint8Array): number {
  for (let i = 0; i < INSN_SIZE; i++) if (mem8[site + i] !== old[i]) return -EBUSY;
  if (kconfig(K_TEXT_POKE) === POKE_STOP_MACHINE) text_poke_smp(site, insn);
  else text_poke_bp_batch([site], [insn], 'emulate');
  return 0;
}

// kernel/bpf/trampoline.c bpf_trampoline_update: a new image of the linked programs, then the site
function bpf_trampoline_update(tr: number): number {
  this_cpu_inc(nr_updates);
  const site = mem32[t(tr, T_SITE)];
  const cur = Atomics.load(mem32, t(tr, T_CUR));
  const nr_fentry = mem32[t(tr, T_NR_FENTRY)];
  const nr_fexit = mem32[t(tr, T_NR_FEXIT)];
  // The image about to be rewritten was replaced last time: wait until no CPU can still run it.
  if (mem32[t(tr, T_UPDATES)]++ > 0) synchronize_rcu();
  if (nr_fentry + nr_fexit === 0) {
    const err = bpf_arch_text_poke(site, call_insn(site, cur), JUMP_LABEL_INITIAL);
    if (err === 0) Atomics.store(mem32, t(tr, T_CUR), 0);
    return err;
  }
  const images = [mem32[t(tr, T_IMAGES)], mem32[t(tr, T_IMAGES + 1)]];
  const im = cur === images[0] ? images[1] : images[0];
  const i = im >> 2;
  mem32[i + I_NR_FENTRY] = nr_fentry;
  mem32[i + I_NR_FEXIT] = nr_fexit;
  for (let k = 0; k < nr_fentry; k++) mem32[i + I_FENTRY + k] = mem32[t(tr, T_FENTRY + k)];
  for (let k = 0; k < nr_fexit; k++) mem32[i + I_FEXIT + k] = mem32[t(tr, T_FEXIT + k)];
  Atomics.store(mem32, t(tr, T_CUR), im);
  const err = bpf_arch_text_poke(site, cur === 0 ? JUMP_LABEL_INITIAL : call_insn(site, cur), call_insn(site, im));
  if (err !== 0) Atomics.store(mem32, t(tr, T_CUR), cur);
  return err;
}

// kernel/bpf/trampoline.c bpf_trampoline_link_prog
function __bpf_trampoline_link_prog(prog: number, tr: number): number {
  const fexit = mem32[(prog >> 2) + P_EXPECTED_ATTACH] === BPF_TRACE_FEXIT;
  const nr = fexit ? T_NR_FEXIT : T_NR_FENTRY;
  const list = fexit ? T_FEXIT : T_FENTRY;
  if (mem32[t(tr, T_NR_FENTRY)] + mem32[t(tr, T_NR_FEXIT)] >= BPF_MAX_TRAMP_PROGS) return -E2BIG;
  // hlist_add_head: the newest program runs first
  const n = mem32[t(tr, nr)];
  for (let k = n; k > 0; k--) mem32[t(tr, list + k)] = mem32[t(tr, list + k - 1)];
  mem32[t(tr, list)] = prog;
  mem32[t(tr, nr)] = n + 1;
  const err = bpf_trampoline_update(tr);
  if (err !== 0) {
    for (let k = 0; k < n; k++) mem32[t(tr, list + k)] = mem32[t(tr, list + k + 1)];
    mem32[t(tr, nr)] = n;
  }
  return err;
}

export function bpf_trampoline_link_prog(prog: number, tr: number): number {
  return locked(() => __bpf_trampoline_link_prog(prog, tr));
}

// kernel/bpf/trampoline.c bpf_trampoline_unlink_prog
function __bpf_trampoline_unlink_prog(prog: number, tr: number): number {
  const fexit = mem32[(prog >> 2) + P_EXPECTED_ATTACH] === BPF_TRACE_FEXIT;
  const nr = fexit ? T_NR_FEXIT : T_NR_FENTRY;
  const list = fexit ? T_FEXIT : T_FENTRY;
  const n = mem32[t(tr, nr)];
  let k = 0;
  while (k < n && mem32[t(tr, list + k)] !== prog) k++;
  if (k === n) return -ENOENT;
  for (; k < n - 1; k++) mem32[t(tr, list + k)] = mem32[t(tr, list + k + 1)];
  mem32[t(tr, nr)] = n - 1;
  return bpf_trampoline_update(tr);
}

export function bpf_trampoline_unlink_prog(prog: number, tr: number): number {
  return locked(() => __bpf_trampoline_unlink_prog(prog, tr));
}

// The trampoline's frame: the target's arguments as u64s, then its return value (fexit's ctx).
const MAX_TRAMP_DEPTH = 8;
const MAX_TRAMP_ARGS = 7;
const tramp_frames = define_per_cpu('bpf_tramp_frames', MAX_TRAMP_DEPTH * (MAX_TRAMP_ARGS + 1) * 8);
let frame_depth = 0;

// arch/x86/net/bpf_jit_comp.c arch_prepare_bpf_trampoline, as the image runs: save the arguments,
// run each fentry program (__bpf_prog_enter/exit around each), call the target, run each fexit
// program with the arguments and the return value
set_trampoline_run((site, args, body, a, b) => {
  const tr = site_trampoline(site);
  const im = Atomics.load(mem32, t(tr, T_CUR));
  if (im === 0 || frame_depth === MAX_TRAMP_DEPTH) return body(a, b);
  this_cpu_inc(nr_tramp_runs);
  const nr_args = mem32[t(tr, T_NR_ARGS)];
  const runs = mem32[t(tr, T_ON_PROG)] ? nr_runs_on_prog : nr_runs_on_kernel;
  const frame = this_cpu_base + tramp_frames.off + frame_depth * (MAX_TRAMP_ARGS + 1) * 8;
  frame_depth++;
  try {
    for (let k = 0; k < nr_args; k++) store_u64(frame + 8 * k, args[k]);
    const i = im >> 2;
    for (let k = 0, n = mem32[i + I_NR_FENTRY]; k < n; k++) {
      this_cpu_inc(runs);
      bpf_prog_run(mem32[i + I_FENTRY + k], frame);
    }
    const ret = body(a, b);
    const nr_fexit = mem32[i + I_NR_FEXIT];
    if (nr_fexit > 0) {
      store_u64(frame + 8 * nr_args, ret >>> 0);
      for (let k = 0; k < nr_fexit; k++) {
        this_cpu_inc(runs);
        bpf_prog_run(mem32[i + I_FEXIT + k], frame);
      }
    }
    return ret;
  } finally {
    frame_depth--;
  }
});

