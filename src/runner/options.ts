// `npm run bench` flags (node:util parseArgs) and their validation. Every bad value becomes a
// UsageError with one line of explanation; the CLI prints it and exits 2.

import { UsageError, parse_flags, result_root } from '../lib/cli.ts';
import { availableParallelism } from 'node:os';
import { ConfigError, DEFAULT_PRESET, resolve_config, type ResolvedConfig } from '../kernel/config.ts';
import { MAX_CPUS, MAX_MEM_MB, MIN_MEM_MB } from '../machine/machine.ts';
import type { Mode } from './workload.ts';
import { DEFAULT_MAPS, maps_layout, synthetic_layout, type ParentLayout } from './layout.ts';
import { DEFAULT_MONITORS, MONITORS, find_monitor } from '../monitors/index.ts';
import { DEFAULT_PROFILE_INTERVAL_US } from '../monitors/perf_profile.ts';

export { UsageError };

/**
 * The defaults of the flags that define an experiment. A group directory names a value only where
 * it differs from these (the manifest records every value, and bench checks them on append).
 */
export const EXPERIMENT_DEFAULTS = { mem_mb: 256, duration_s: 5, interval_s: 1, warmup: 6, seed: 1 } as const;

export const USAGE = `usage: npm run bench -- <workload> [options]

Runs a will-it-scale style workload on the simulated machine and stores the results.

  --mode process|thread|both   tasks as forked processes, threads of one process, or both (both)
  --tasks LIST                 task counts, e.g. 1,2,100% (percent of --cpus) (1,100%)
  --duration S                 measured seconds per point (5)
  --warmup N                   samples printed but not counted (6, as will-it-scale's main.c)
  --interval S                 seconds between samples (1)
  --runs N                     runs to append to the result group (1)
  --kernel PRESET              kernel preset, e.g. v6.7 (${DEFAULT_PRESET})
  --set KEY=VALUE              override a knob; repeatable (see --list)
  --param KEY=VALUE            set a workload parameter; repeatable
  --cpus N                     simulated CPUs (host's ${availableParallelism()})
  --mem MIB                    simulated memory in MiB (256)
  --maps FILE                  the parent's address space: replay this /proc/PID/maps
                               (default: will-it-scale's brk2 parent, layouts/)
  --layout synthetic[:k=N,..]  the parent from the synthetic recipe instead
                               (libs, anon_maps, heap_grows, brk_gap_pages)
  --monitor LIST               monitors besides the default ones (${DEFAULT_MONITORS.join(', ')}):
                               e.g. perf-profile; -NAME leaves a default one out (see --list)
  --profile-interval US        perf-profile's sampling interval in µs (${DEFAULT_PROFILE_INTERVAL_US}:
                               perf record's 1000003 cycles at machine.cpu_mhz 2933)
  --seed N                     seed for every random choice (1)
  --label TEXT                 label stored in the manifest, for compare
  --results DIR                result root ($SCALELAB_RESULTS or ./results)
  --quiet                      print nothing but errors
  --verbose                    print every stat of a run, the sim.* counters too
                               (stats.json and output.txt always hold them)
  --json                       print one JSON object on stdout, nothing else
  --list                       list workloads, kernel presets and knobs
  --version                    the scalelab version
  --help                       this text`;

export interface BenchOptions {
  workload: string;
  mode: Mode | 'both';
  modes: Mode[];
  tasks: number[];
  duration_s: number;
  warmup: number;
  interval_s: number;
  samples: number;
  runs: number;
  config: ResolvedConfig;
  nr_cpus: number;
  mem_mb: number;
  layout: ParentLayout;
  seed: number;
  label: string | null;
  results: string;
  params: Record<string, string>;
  /** The monitors to run, by name (src/monitors). */
  monitors: string[];
  /** perf-profile's sampling interval, µs; null when perf-profile does not run. */
  profile_interval_us: number | null;
  quiet: boolean;
  /** Print every stat of a run (the sim.* counters too), not only will-it-scale's and lkp's. */
  verbose: boolean;
  json: boolean;
}

export type BenchCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'list' } | { kind: 'run'; options: BenchOptions };

function int_flag(name: string, text: string, min: number, max: number): number {
  if (!/^-?[0-9]+$/.test(text.trim())) throw new UsageError(`--${name}: '${text}' is not a whole number`);
  const v = Number(text);
  if (v < min || v > max) throw new UsageError(`--${name}: ${v} is out of range ${min}..${max}`);
  return v;
}

function seconds_flag(name: string, text: string, max: number): number {
  if (!/^[0-9]*\.?[0-9]+$/.test(text.trim())) throw new UsageError(`--${name}: '${text}' is not a positive number of seconds`);
  const v = Number(text);
  if (!(v > 0) || v > max) throw new UsageError(`--${name}: ${v} is out of range (0, ${max}]`);
  return v;
}

function key_values(name: string, items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of items) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${name} '${s}': expected key=value`);
    out[s.slice(0, eq)] = s.slice(eq + 1);
  }
  return out;
}

/** `perf-profile,-vmstat` → the default monitors with perf-profile and without vmstat. */
export function parse_monitors(items: readonly string[]): string[] {
  const chosen = new Set(DEFAULT_MONITORS);
  for (const item of items.flatMap((s) => s.split(','))) {
    const name = item.trim().replace(/^-/, '');
    if (!find_monitor(name)) throw new UsageError(`--monitor: unknown monitor '${name}' (monitors: ${MONITORS.map((m) => m.name).join(', ')})`);
    if (item.trim().startsWith('-')) chosen.delete(name);
    else chosen.add(name);
  }
  return MONITORS.map((m) => m.name).filter((n) => chosen.has(n));
}

/** `1,2,100%` → sorted distinct task counts; percentages are of the CPU count. */
export function parse_tasks(spec: string, nr_cpus: number): number[] {
  const out = new Set<number>();
  for (const item of spec.split(',')) {
    const t = item.trim();
    const pct = /^([0-9]+)%$/.exec(t);
    let n: number;
    if (pct) {
      const p = Number(pct[1]);
      if (p < 1 || p > 100) throw new UsageError(`--tasks: ${t} is out of range 1%..100%`);
      n = Math.max(1, Math.floor((nr_cpus * p) / 100));
    } else if (/^[0-9]+$/.test(t)) {
      n = Number(t);
      if (n < 1) throw new UsageError('--tasks: a task count must be at least 1');
      if (n > nr_cpus) throw new UsageError(`--tasks: ${n} tasks need at least ${n} simulated CPUs (--cpus ${n}); each task is pinned to its own CPU`);
    } else {
      throw new UsageError(`--tasks: '${t}' is neither a count nor a percentage`);
    }
    out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

export function parse_bench_args(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchCommand {
  const parsed = parse_flags(argv, {
    mode: { type: 'string', default: 'both' },
    tasks: { type: 'string', default: '1,100%' },
    duration: { type: 'string', default: String(EXPERIMENT_DEFAULTS.duration_s) },
    warmup: { type: 'string', default: String(EXPERIMENT_DEFAULTS.warmup) },
    interval: { type: 'string', default: String(EXPERIMENT_DEFAULTS.interval_s) },
    runs: { type: 'string', default: '1' },
    kernel: { type: 'string', default: DEFAULT_PRESET },
    set: { type: 'string', multiple: true, default: [] },
    param: { type: 'string', multiple: true, default: [] },
    cpus: { type: 'string' },
    mem: { type: 'string', default: String(EXPERIMENT_DEFAULTS.mem_mb) },
    maps: { type: 'string' },
    layout: { type: 'string' },
    seed: { type: 'string', default: String(EXPERIMENT_DEFAULTS.seed) },
    monitor: { type: 'string', multiple: true, default: [] },
    'profile-interval': { type: 'string' },
    label: { type: 'string' },
    results: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
    version: { type: 'boolean', default: false },
  });
  const v = parsed.values;
  if (v.help) return { kind: 'help' };
  if (v.version) return { kind: 'version' };
  if (v.list) return { kind: 'list' };
  if (v.quiet && v.verbose) throw new UsageError('--quiet and --verbose: give one');
  if (parsed.positionals.length === 0) throw new UsageError('no workload given (npm run bench -- <workload>; --list shows them)');
  if (parsed.positionals.length > 1) throw new UsageError(`one workload at a time, got ${parsed.positionals.join(' ')}`);

  const mode = v.mode as string;
  if (mode !== 'process' && mode !== 'thread' && mode !== 'both') throw new UsageError(`--mode: '${mode}' is not process, thread or both`);
  const nr_cpus = v.cpus !== undefined ? int_flag('cpus', v.cpus!, 1, MAX_CPUS) : Math.min(availableParallelism(), MAX_CPUS);
  const tasks = parse_tasks(v.tasks as string, nr_cpus);
  const duration_s = seconds_flag('duration', v.duration as string, 86_400);
  const interval_s = seconds_flag('interval', v.interval as string, 3600);
  // A run measures whole samples: a duration that is not a whole number of intervals would be recorded as what it was not.
  const samples = Math.round(duration_s / interval_s);
  if (duration_s < interval_s) throw new UsageError(`--duration ${duration_s} is shorter than one --interval (${interval_s} s): nothing would be measured`);
  if (Math.abs(samples * interval_s - duration_s) > 1e-9 * duration_s) throw new UsageError(`--duration ${duration_s} is not a whole number of --interval ${interval_s} s samples (${samples * interval_s} s would be measured)`);
  let config: ResolvedConfig;
  try {
    config = resolve_config(v.kernel as string, v.set as string[]);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
  const seed = int_flag('seed', v.seed as string, 0, 2 ** 32 - 1);
  if (v.maps !== undefined && v.layout !== undefined) throw new UsageError('--maps and --layout: one parent layout at a time');
  const layout = v.layout !== undefined ? synthetic_layout(v.layout, seed) : maps_layout(v.maps ?? DEFAULT_MAPS);
  const monitors = parse_monitors(v.monitor as string[]);
  const profiling = monitors.includes('perf-profile');
  if (v['profile-interval'] !== undefined && !profiling) throw new UsageError('--profile-interval: perf-profile is not among the monitors (--monitor perf-profile)');
  const profile_interval_us = profiling ? (v['profile-interval'] !== undefined ? int_flag('profile-interval', v['profile-interval'] as string, 10, 1_000_000) : DEFAULT_PROFILE_INTERVAL_US) : null;
  const label = v.label ?? null;
  if (label !== null && label.trim() === '') throw new UsageError('--label: empty label');
  return {
    kind: 'run',
    options: {
      workload: parsed.positionals[0],
      mode,
      modes: mode === 'both' ? ['process', 'thread'] : [mode],
      tasks,
      duration_s,
      warmup: int_flag('warmup', v.warmup as string, 0, 10_000),
      interval_s,
      samples,
      runs: int_flag('runs', v.runs as string, 1, 10_000),
      config,
      nr_cpus,
      mem_mb: int_flag('mem', v.mem as string, MIN_MEM_MB, MAX_MEM_MB),
      layout,
      seed,
      label,
      results: result_root(v.results, env),
      params: key_values('param', v.param as string[]),
      monitors,
      profile_interval_us,
      quiet: v.quiet as boolean,
      verbose: v.verbose as boolean,
      json: v.json as boolean,
    },
  };
}
