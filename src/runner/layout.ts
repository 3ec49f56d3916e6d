// The parent process's address space, a harness option (not a kernel knob): by default
// will-it-scale's own brk2 parent replayed from a captured /proc/PID/maps; `--maps FILE` replays
// another capture; `--layout synthetic[:key=N,...]` builds the parameterised recipe of
// exec_image.ts instead (bench:layouts draws random ones).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UsageError } from '../lib/cli.ts';
import { MapsError, parse_maps } from '../user/maps.ts';
import { ReplayError, plan_replay, replay_maps, type ReplayOrder, type ReplayPlan } from '../user/replay.ts';
import { build_parent_image, default_recipe, type ExecRecipe, type RecipeParams } from '../user/exec_image.ts';
import { PROJECT_ROOT } from './build.ts';
import type { LayoutRecord } from '../results/manifest.ts';
import { start_kernel } from '../kernel/init/main.ts';
import { resolve_config } from '../kernel/config.ts';
import { kernel_clone } from '../kernel/kernel/fork.ts';
import { cpu_exit, set_current } from '../machine/cpu.ts';

/** The shipped capture: brk2_processes -t 1 under `setarch linux64 -R`, Debian 12, Linux 6.18. */
export const DEFAULT_MAPS = join(PROJECT_ROOT, 'layouts', 'will-it-scale-brk2_processes.debian12.maps');

export type ParentLayout =
  | { kind: 'maps'; name: string; sha256: string; plan: ReplayPlan; order: ReplayOrder }
  | { kind: 'synthetic'; name: string; recipe: ExecRecipe };

/**
 * The synthetic recipe's parameters, defaults from the shipped capture: 30 shared libraries, 2
 * anonymous mappings besides the bss areas, the heap grown once after malloc's first 132 KiB,
 * and the heap right after the bss (runtest.py's `setarch -R` turns brk randomisation off).
 */
export const SYNTHETIC_DEFAULTS: RecipeParams = { libs: 30, anon_maps: 2, heap_grows: 1, brk_gap_pages: 0 };
const SYNTHETIC_LIMITS: Record<keyof RecipeParams, number> = { libs: 64, anon_maps: 64, heap_grows: 64, brk_gap_pages: 4096 };

/** A maps file as a layout; a bad file is a UsageError naming its line. */
export function maps_layout(path: string, order: ReplayOrder = 'process'): ParentLayout {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--maps ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  try {
    const plan = plan_replay(parse_maps(text));
    return { kind: 'maps', name: basename(path), sha256: createHash('sha256').update(text).digest('hex'), plan, order };
  } catch (e) {
    if (e instanceof MapsError || e instanceof ReplayError) throw new UsageError(`--maps ${path}: ${e.message}`);
    throw e;
  }
}

/** `synthetic[:libs=N,anon_maps=N,heap_grows=N,brk_gap_pages=N]` with --seed. */
export function synthetic_layout(spec: string, seed: number): ParentLayout {
  const m = /^synthetic(?::(.*))?$/.exec(spec);
  if (!m) throw new UsageError(`--layout: '${spec}' is not synthetic[:key=N,...] (use --maps FILE for a capture)`);
  const params: RecipeParams = { ...SYNTHETIC_DEFAULTS };
  for (const item of m[1] ? m[1].split(',') : []) {
    const [key, value] = item.split('=');
    if (!(key in SYNTHETIC_LIMITS)) throw new UsageError(`--layout: unknown key '${key}' (keys: ${Object.keys(SYNTHETIC_LIMITS).join(', ')})`);
    const k = key as keyof RecipeParams;
    if (value === undefined || !/^[0-9]+$/.test(value) || Number(value) > SYNTHETIC_LIMITS[k]) throw new UsageError(`--layout: ${key} must be a whole number 0..${SYNTHETIC_LIMITS[k]}`);
    params[k] = Number(value);
  }
  const name = `synthetic:${Object.entries(params).map(([k, v]) => `${k}=${v}`).join(',')}`;
  return { kind: 'synthetic', name, recipe: default_recipe(params, seed) };
}

export function layout_record(l: ParentLayout): LayoutRecord {
  return { kind: l.kind, name: l.name, sha256: l.kind === 'maps' ? l.sha256 : null };
}

/** The result path's parameter for a layout other than the default: its name (and digest, for a capture). */
export function layout_path_param(l: ParentLayout): string | null {
  if (l.kind === 'synthetic') return l.name;
  return l.name === basename(DEFAULT_MAPS) && l.sha256 === default_layout_digest() ? null : `${l.name}@${l.sha256.slice(0, 12)}`;
}

let default_digest: string | null = null;
function default_layout_digest(): string {
  default_digest ??= createHash('sha256').update(readFileSync(DEFAULT_MAPS)).digest('hex');
  return default_digest;
}

/** Replay the layout once on a scratch machine, so a capture the replay cannot reproduce is bad input. */
export function check_layout(l: ParentLayout): void {
  if (l.kind !== 'maps') return;
  start_kernel({ nr_cpus: 1, mem_mb: 64, config: resolve_config(), clock: 'manual' });
  set_current(kernel_clone(0));
  try {
    build_parent(l);
  } catch (e) {
    if (e instanceof ReplayError) throw new UsageError(`--maps ${l.name}: ${e.message}`);
    throw e;
  } finally {
    cpu_exit();
  }
}

/** Build the current task's address space (on a CPU, as the task). */
export function build_parent(l: ParentLayout): void {
  if (l.kind === 'maps') replay_maps(l.plan, l.order);
  else build_parent_image(l.recipe);
}
