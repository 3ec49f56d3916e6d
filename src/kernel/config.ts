// The knob registry: every behaviour of the simulated kernel that differs between versions or
// configurations, with its allowed values, and presets named after the releases they match.
// A resolved configuration is written into the arena at boot, where kernel code on every CPU reads
// it through kconfig().

import { createHash } from 'node:crypto';
import { mem32 } from '../machine/memory.ts';
import { define_global } from '../machine/symbols.ts';
import { BOOL_WORDS, parse_bool } from '../lib/bool.ts';

export type KnobValue = number | string | boolean;

interface KnobBase {
  key: string;
  description: string;
}
export interface EnumKnob extends KnobBase {
  type: 'enum';
  values: readonly string[];
  default: string;
}
export interface IntKnob extends KnobBase {
  type: 'int';
  min: number;
  max: number;
  default: number;
  /** When set, the only values allowed. */
  choices?: readonly number[];
}
export interface BoolKnob extends KnobBase {
  type: 'bool';
  default: boolean;
}
export type Knob = EnumKnob | IntKnob | BoolKnob;

export const KNOBS: readonly Knob[] = [
  {
    key: 'fork.dup_mmap',
    type: 'enum',
    values: ['bulk_store', 'mt_dup'],
    default: 'mt_dup',
    description: "how fork copies the VMA tree: bulk-store every VMA in order (6.1-6.7), or __mt_dup's node-for-node copy (6.8+, commit 6e553c6bcb)",
  },
  {
    key: 'kernel.hz',
    type: 'int',
    min: 100,
    max: 1000,
    choices: [100, 250, 300, 1000],
    default: 1000,
    description: 'CONFIG_HZ: scheduler ticks per second (timers, jiffies, RCU grace-period starts)',
  },
  {
    key: 'debug.mt_validate',
    type: 'bool',
    default: false,
    description: 'CONFIG_DEBUG_MAPLE_TREE: validate a maple tree after every store (slow)',
  },
  {
    key: 'arch.text_poke',
    type: 'enum',
    values: ['stop_machine', 'int3', 'int3_batch'],
    default: 'int3_batch',
    description: 'how x86 rewrites a static branch site: text_poke_smp under stop_machine per site (2.6.37-3.11), text_poke_bp with INT3 and three sync IPI rounds per site (3.12-5.2, fd4363fff3d9), or one text_poke_bp_batch per key (5.3+)',
  },
  {
    key: 'machine.ipi_ns',
    type: 'int',
    min: 0,
    max: 1_000_000,
    default: 2000,
    description: 'modeled delivery time (ns) of an IPI to an idle CPU, before its wake-up: the 1-2 µs commonly quoted for an x86 IPI from send to handler (an order of magnitude, not one machine measured)',
  },
  {
    key: 'machine.cpuidle',
    type: 'enum',
    values: ['nehalem', 'c1', 'poll'],
    default: 'nehalem',
    description: "idle states of the CPUs (intel_idle, 3.2): nehalem_cstates C1 3 µs / C3 20 µs / C6 200 µs exit latency, c1 (C1 only: intel_idle.max_cstate=1), or poll (idle=poll, no exit latency)",
  },
  {
    key: 'machine.cacheline_ns',
    type: 'int',
    min: 0,
    max: 10_000,
    default: 100,
    description: 'modeled time (ns) to move a contended cache line to another CPU, once per acknowledgement of a shared counter: about 100 ns across the QPI of a 2-socket Nehalem-EP (Molka et al., PACT 2009)',
  },
  {
    key: 'machine.cpu_mhz',
    type: 'int',
    min: 1,
    max: 10_000,
    default: 2933,
    description: 'core clock (MHz) the cycles PMU counts at: 2933 MHz, a Xeon X5570 (Nehalem-EP, 2 sockets × 4 cores × 2 threads = 16 CPUs)',
  },
  {
    key: 'machine.ref_mhz',
    type: 'int',
    min: 1,
    max: 10_000,
    default: 2933,
    description: "reference clock (MHz) the ref-cycles PMU event counts at: the TSC's nominal rate, 2933 MHz on the Xeon X5570 (no turbo or frequency scaling is modeled, so it equals machine.cpu_mhz)",
  },
  {
    key: 'bpf.jit_enable',
    type: 'bool',
    default: true,
    description: 'net.core.bpf_jit_enable: programs are JIT-compiled and marked jited (the simulation interprets them either way); off, they are not, and fentry/fexit programs cannot attach to them',
  },
  {
    key: 'bpf.tracing_prog_nesting',
    type: 'bool',
    default: true,
    description: "an fentry/fexit program may attach to a tracing program that is not itself attached to one (6.8+, 19bfcdf9498a); off: any tracing-to-tracing attach is 'Cannot recursively attach' (5.5-6.7)",
  },
  {
    key: 'mm.zero_page',
    type: 'bool',
    default: true,
    description: "an anonymous read fault maps the shared zero page (<= 2.6.23, and 2.6.32+ 'mm: reinstate ZERO_PAGE'); off, it allocates a zeroed page (2.6.24-2.6.31, 557ed1fa 'remove ZERO_PAGE')",
  },
  {
    key: 'mm.madvise_dontneed_fails',
    type: 'bool',
    default: false,
    description: 'fault injection: madvise(MADV_DONTNEED) fails with -EINVAL and drops nothing, as on a VM_LOCKED VMA (the "kernel may ignore the advice" case)',
  },
  {
    key: 'perf.sched_events_rate_limit_ms',
    type: 'int',
    min: 0,
    max: 60_000,
    default: 1000,
    description: 'jump_label_rate_limit of perf_sched_events: 0 turns its sites off at the last close (<= 3.2); 1000 (HZ jiffies) defers that by a second (3.3+, b202952075f6)',
  },
  {
    key: 'perf.sched_events_sites',
    type: 'int',
    min: 2,
    max: 64,
    default: 2,
    description: 'static_branch() sites of perf_sched_events in kernel text: 2 in 3.2 (perf_event_task_sched_out in prepare_task_switch, perf_event_task_sched_in in finish_task_switch)',
  },
];

export interface Preset {
  name: string;
  description: string;
  /** What the simulation of this release leaves as the newest kernel has it. */
  unmodeled?: string;
  knobs: Record<string, KnobValue>;
}

// Before 6.1 VMAs lived in an rbtree, not a maple tree; the simulation has only the maple tree.
const OLD_MM = 'the VMA tree, fork and brk as in 6.8 (no rbtree: 3.x-5.x kept VMAs in one; the maple tree came in 6.1)';
// BPF trampolines (fentry/fexit) came in 5.5; the simulation's BPF is 5.11's in every preset.
const NO_TRAMPOLINES = `${OLD_MM}; BPF tracing programs and trampolines, which came in 5.5, as in 5.11`;
const NO_NESTING = { 'bpf.tracing_prog_nesting': false };

// The 2009 hosts of the QEMU zero-page thread: what differs is ZERO_PAGE (and nothing newer exists).
const OLD_HOST = `${NO_TRAMPOLINES}; jump labels (2.6.37) and perf events (2.6.31) as in 3.2`;

/** Oldest first; the last one is the default. */
export const PRESETS: readonly Preset[] = [
  { name: 'v2.6.30', description: "Linux 2.6.30 (June 2009): an anonymous read fault allocates a zeroed page (ZERO_PAGE removed in 2.6.24, 557ed1fa)", knobs: { 'mm.zero_page': false, 'arch.text_poke': 'stop_machine', 'perf.sched_events_rate_limit_ms': 0, ...NO_NESTING }, unmodeled: OLD_HOST },
  { name: 'v2.6.32', description: "Linux 2.6.32 (December 2009): anonymous read faults map the shared zero page again ('mm: reinstate ZERO_PAGE')", knobs: { 'mm.zero_page': true, 'arch.text_poke': 'stop_machine', 'perf.sched_events_rate_limit_ms': 0, ...NO_NESTING }, unmodeled: OLD_HOST },
  { name: 'v3.2', description: 'Linux 3.2 (January 2012): jump labels patched by text_poke_smp under stop_machine, perf_sched_events off at the last close', knobs: { 'arch.text_poke': 'stop_machine', 'perf.sched_events_rate_limit_ms': 0, ...NO_NESTING }, unmodeled: NO_TRAMPOLINES },
  { name: 'v3.3', description: 'Linux 3.3 (March 2012): perf_sched_events decrements deferred by HZ (b202952075f6)', knobs: { 'arch.text_poke': 'stop_machine', 'perf.sched_events_rate_limit_ms': 1000, ...NO_NESTING }, unmodeled: NO_TRAMPOLINES },
  { name: 'v3.12', description: 'Linux 3.12 (November 2013): jump labels patched by text_poke_bp, INT3 and three sync IPI rounds per site', knobs: { 'arch.text_poke': 'int3', 'perf.sched_events_rate_limit_ms': 1000, ...NO_NESTING }, unmodeled: NO_TRAMPOLINES },
  { name: 'v5.3', description: 'Linux 5.3 (September 2019): the sites of one key patched in one text_poke_bp_batch', knobs: { 'arch.text_poke': 'int3_batch', 'perf.sched_events_rate_limit_ms': 1000, ...NO_NESTING }, unmodeled: NO_TRAMPOLINES },
  { name: 'v5.11', description: "Linux 5.11 (February 2021), the kernel perf stat -b was tested on (the tool itself came in perf 5.12): fentry/fexit may not attach to another tracing program ('Cannot recursively attach')", knobs: { 'fork.dup_mmap': 'mt_dup', ...NO_NESTING }, unmodeled: `${OLD_MM}; nothing else that differs from 5.3 is modeled` },
  { name: 'v6.7', description: 'Linux 6.7 (January 2024)', knobs: { 'fork.dup_mmap': 'bulk_store', ...NO_NESTING } },
  { name: 'v6.8', description: 'Linux 6.8 (March 2024): fork duplicates the maple tree with __mt_dup; an fentry/fexit program may attach to a tracing program one level deep (19bfcdf9498a)', knobs: { 'fork.dup_mmap': 'mt_dup', 'bpf.tracing_prog_nesting': true } },
];

export const DEFAULT_PRESET = PRESETS[PRESETS.length - 1].name;

export class ConfigError extends Error {}

export function find_knob(key: string): Knob | undefined {
  return KNOBS.find((k) => k.key === key);
}

/** Parse a knob value given as text (from `--set key=value`); throws ConfigError. */
export function parse_knob_value(knob: Knob, text: string): KnobValue {
  switch (knob.type) {
    case 'enum':
      if (!knob.values.includes(text)) throw new ConfigError(`--set ${knob.key}: '${text}' is not one of ${knob.values.join(', ')}`);
      return text;
    case 'bool': {
      const v = parse_bool(text);
      if (v === null) throw new ConfigError(`--set ${knob.key}: '${text}' is not a boolean (${BOOL_WORDS})`);
      return v;
    }
    case 'int': {
      const v = Number(text);
      if (text.trim() === '' || !Number.isInteger(v)) throw new ConfigError(`--set ${knob.key}: '${text}' is not an integer`);
      if (knob.choices && !knob.choices.includes(v)) throw new ConfigError(`--set ${knob.key}: ${v} is not one of ${knob.choices.join(', ')}`);
      if (v < knob.min || v > knob.max) throw new ConfigError(`--set ${knob.key}: ${v} is out of range ${knob.min}..${knob.max}`);
      return v;
    }
  }
}

export interface ResolvedConfig {
  preset: string;
  /** `--set` overrides that change the preset (parsed), in key order; one that repeats its value is not an override. */
  overrides: Record<string, KnobValue>;
  /** `--set` items that gave the preset's own value, as `key=value`: no-ops, left out of `overrides` and `id`. */
  noop_sets: string[];
  /** When the overrides made another preset's kernel exactly (so `preset` is that one): the kernel as asked for. */
  same_as: string | null;
  /** Every knob's value. */
  knobs: Record<string, KnobValue>;
  /** sha256 over the knobs, 12 hex digits. */
  hash: string;
  /** Directory name for results: the preset, plus the overrides when there are any. */
  id: string;
}

/** A preset plus `key=value` overrides → every knob's value; throws ConfigError on bad input. */
export function resolve_config(preset_name: string = DEFAULT_PRESET, sets: readonly string[] = []): ResolvedConfig {
  const preset = PRESETS.find((p) => p.name === preset_name);
  if (!preset) throw new ConfigError(`unknown kernel preset '${preset_name}' (presets: ${PRESETS.map((p) => p.name).join(', ')})`);
  const knobs: Record<string, KnobValue> = {};
  for (const k of KNOBS) knobs[k.key] = k.default;
  Object.assign(knobs, preset.knobs);
  const overrides: Record<string, KnobValue> = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set '${s}': expected key=value`);
    const key = s.slice(0, eq);
    const knob = find_knob(key);
    if (!knob) throw new ConfigError(`--set: unknown knob '${key}' (see --list)`);
    overrides[key] = parse_knob_value(knob, s.slice(eq + 1));
  }
  // An override equal to the preset's value is the same kernel: the same id, the same group.
  const noop_sets = Object.entries(overrides).filter(([k, v]) => knobs[k] === v).map(([k, v]) => `${k}=${v}`);
  let sorted = Object.fromEntries(Object.entries(overrides).filter(([k, v]) => knobs[k] !== v).sort(([a], [b]) => a.localeCompare(b)));
  Object.assign(knobs, sorted);
  // Overrides that make another preset's kernel exactly are that preset: one kernel, one group.
  const same = Object.keys(sorted).length ? PRESETS.find((p) => KNOBS.every((k) => (p.knobs[k.key] ?? k.default) === knobs[k.key])) : undefined;
  const named = same ?? preset;
  if (same) sorted = {};
  const hash = createHash('sha256').update(JSON.stringify(Object.entries(knobs).sort())).digest('hex').slice(0, 12);
  const suffix = Object.entries(sorted).map(([k, v]) => `${k}=${v}`).join(',');
  const id = suffix === '' ? named.name : suffix.length <= 80 ? `${named.name}+${suffix}` : `${named.name}+${hash}`;
  return { preset: named.name, overrides: sorted, noop_sets, same_as: same ? `${preset.name}+${Object.entries(overrides).map(([k, v]) => `${k}=${v}`).join(',')}` : null, knobs, hash, id };
}

// The resolved knobs in the arena, one word each in registry order.
const kconfig_words = define_global('kconfig', KNOBS.length * 4);

function encode(knob: Knob, v: KnobValue): number {
  if (knob.type === 'enum') return knob.values.indexOf(v as string);
  if (knob.type === 'bool') return v ? 1 : 0;
  return v as number;
}

/** Boot: store the configuration where every CPU can read it. */
export function kconfig_install(cfg: ResolvedConfig): void {
  KNOBS.forEach((k, i) => { mem32[(kconfig_words.addr >> 2) + i] = encode(k, cfg.knobs[k.key]); });
}

/** Index of a knob, for kconfig(); throws at module load if the key is misspelt. */
export function knob_index(key: string): number {
  const i = KNOBS.findIndex((k) => k.key === key);
  if (i < 0) throw new Error(`no knob ${key}`);
  return i;
}

/** Index of an enum knob's value, for comparing with kconfig(). */
export function knob_value_index(key: string, value: string): number {
  const k = KNOBS[knob_index(key)];
  const i = k.type === 'enum' ? k.values.indexOf(value) : -1;
  if (i < 0) throw new Error(`knob ${key} has no value ${value}`);
  return i;
}

/** The running kernel's value of a knob: ints as is, bools 0/1, enums as the value's index. */
export function kconfig(index: number): number {
  return mem32[(kconfig_words.addr >> 2) + index];
}
