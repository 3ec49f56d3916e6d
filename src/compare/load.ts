// Reading result groups from disk, as lkp lays them out: a group directory holds numbered run
// directories, each with a stats.json of {metric: number} (scalelab adds manifest.json and an
// `incomplete` marker); a matrix.json of {metric: [value per run]} may stand alone; a run
// directory on its own is a group of one run. The runs' stats become the group's matrix as lkp's
// unite_to makes it (lib/matrix.rb), so that every format sees the rows lkp would.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UsageError } from '../lib/cli.ts';
import { INCOMPLETE, MANIFEST, MATRIX, STATS } from '../results/layout.ts';
import type { Manifest } from '../results/manifest.ts';
import type { RubyKinds } from '../stats/describe.ts';
import { whole_float_literals, type BigIntegers } from './lkp/json.ts';

export interface RunData {
  /** The run's name: its directory, or its column in a matrix.json. */
  name: string;
  /** The file its numbers came from. */
  source: string;
  /** A failed run (a point failed, or lkp marked it incomplete): scalelab counts it for failure stats only. */
  failed: boolean;
  /** lkp's incomplete run (last_state.is_incomplete_run is 1): lkp counts it for failure stats only. */
  lkp_incomplete: boolean;
  manifest: Manifest | null;
}

/** Per metric, one value per run, zero where a run lacks the metric (lkp's matrix_fill_missing_zeros). */
export type Matrix = Map<string, number[]>;

export interface LoadedGroup {
  /** The group directory (for a matrix.json, its directory). */
  path: string;
  /** When the selector named one run directory: its name. */
  single_run: string | null;
  /** Complete and failed runs, in run order. */
  runs: RunData[];
  /**
   * lkp's matrix: values over all of `runs`, metrics in the order lkp's unite_to first keeps them,
   * without the ones it drops (all zeros that are Integers, per-CPU sched_debug stats).
   */
  all: Matrix;
  /** Per metric, the columns of `all` whose whole-number value is a Ruby Float (`7.0` in the JSON). */
  floats: Map<string, Set<number>>;
  /** Per metric, the columns of `all` holding an Integer beyond 2^53, exact (`all` has the nearest double). */
  bigs: Map<string, Map<number, bigint>>;
  /** lkp's complete matrix (complete_matrix): without runs lkp marked incomplete; and its columns in `all`. */
  lkp_complete: Matrix;
  lkp_complete_cols: number[];
  /** scalelab's: without failed runs either. */
  complete: Matrix;
  complete_cols: number[];
  /** Metrics a run's manifest says were 0 (lkp's pipeline leaves zeros out of stats.json). */
  zero_stats: Set<string>;
  /**
   * Every run ran perf-profile: a perf-profile.* metric none of them has was below the 0.05 lkp's
   * parse prints, 0.00 in lkp's matrix.
   */
  profiled: boolean;
  /** Runs skipped entirely: interrupted, killed, or without stats. */
  incomplete: number;
  /** Runs skipped because a file of theirs is damaged (truncated by a full disk, not JSON): what and why. */
  damaged: string[];
  /** Values that were not numbers, skipped: how many, one of them, and per metric the columns of `all` they were in (their 0 there is no value). */
  non_numeric: { count: number; example: string | null; at: Map<string, Set<number>> };
}

/** A run as found in a result root: its directory and manifest (null when it has none). */
export interface RunRef {
  dir: string;
  manifest: Manifest | null;
  /** Why the manifest could not be read, when it could not. */
  damaged?: string;
}

/**
 * Ruby's view of a metric's `values`, whose i-th value is column col(i) of the group's `all`: a
 * Float or an Integer, and an Integer beyond 2^53 exactly.
 */
export function ruby_kinds(g: LoadedGroup, metric: string, values: readonly number[], col: (i: number) => number = (i) => i): RubyKinds {
  const floats = g.floats.get(metric);
  const bigs = g.bigs.get(metric);
  return { float: (i) => !Number.isInteger(values[i]) || !!floats?.has(col(i)), big: (i) => bigs?.get(col(i)) };
}

/** A result file that exists but cannot be read as one (truncated, not JSON, a directory): the run is skipped. */
class DamagedFile extends Error {}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const why: Record<string, string> = { EISDIR: 'a directory, not a file', Z_BUF_ERROR: 'truncated gzip data', Z_DATA_ERROR: 'corrupt gzip data' };
  return why[err.code ?? ''] ?? err.code ?? err.message.split('\n')[0];
}

/** A file's text, gunzipped when it is `.gz` or only its `.gz` exists (lkp keeps old results gzipped). */
function read_maybe_gz(path: string): string | null {
  const file = existsSync(path) ? path : existsSync(`${path}.gz`) ? `${path}.gz` : null;
  if (file === null) return null;
  try {
    return file.endsWith('.gz') ? gunzipSync(readFileSync(file)).toString('utf8') : readFileSync(file, 'utf8');
  } catch (e) {
    throw new DamagedFile(`${file}: ${reason(e)}`);
  }
}

function parse_json(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DamagedFile(`${file}: ${(e as Error).message.split('\n')[0]}`);
  }
}

function is_object(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function read_manifest(dir: string): Manifest | null {
  const text = read_maybe_gz(join(dir, MANIFEST));
  if (text === null) return null;
  const m = parse_json(text, join(dir, MANIFEST));
  if (!is_object(m)) throw new DamagedFile(`${join(dir, MANIFEST)}: not a JSON object`);
  return m as unknown as Manifest;
}

/** A run's manifest, or why it could not be read. */
function try_manifest(dir: string): { manifest: Manifest | null; damaged?: string } {
  try {
    return { manifest: read_manifest(dir) };
  } catch (e) {
    if (e instanceof DamagedFile) return { manifest: null, damaged: e.message };
    throw e;
  }
}

function numbered_dirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^\d+$/.test(e.name))
    .map((e) => e.name)
    .sort((a, b) => Number(a) - Number(b));
}

/** Runs read, with their parsed stats not yet checked, and the stats written as whole-number Floats. */
export type RunStats = { run: RunData; stats: Record<string, unknown>; floats?: ReadonlySet<string>; bigs?: ReadonlyMap<string, bigint> }[];

const is_incomplete_run = (stats: Record<string, unknown>) => stats['last_state.is_incomplete_run'] === 1;

function failed_by_stats(stats: Record<string, unknown>, manifest: Manifest | null): boolean {
  const n = (k: string) => (typeof stats[k] === 'number' ? (stats[k] as number) : 0);
  return manifest?.status === 'failed' || n('last_state.is_incomplete_run') > 0 || (manifest === null && n('will-it-scale.fail') > 0);
}

/**
 * A run directory's verdict: skipped (incomplete, or damaged: named for a footnote), or its stats
 * (parsed, checked later) with the failed flag.
 */
function load_run(dir: string, group: LoadedGroup, pending: RunStats, ref: { manifest: Manifest | null; damaged?: string } = try_manifest(dir)): void {
  if (ref.damaged !== undefined) {
    group.damaged.push(ref.damaged);
    return;
  }
  const manifest = ref.manifest;
  const stats_file = join(dir, STATS);
  let text: string | null;
  let raw: unknown;
  try {
    text = existsSync(join(dir, INCOMPLETE)) || manifest?.status === 'interrupted' ? null : read_maybe_gz(stats_file);
    if (text !== null) raw = parse_json(text, stats_file);
  } catch (e) {
    if (!(e instanceof DamagedFile)) throw e;
    group.damaged.push(e.message);
    return;
  }
  if (text === null) {
    group.incomplete++;
    return;
  }
  if (!is_object(raw)) {
    group.damaged.push(`${stats_file}: not a JSON object of metrics`);
    return;
  }
  const run: RunData = { name: basename(dir), source: stats_file, failed: failed_by_stats(raw, manifest), lkp_incomplete: is_incomplete_run(raw), manifest };
  group.runs.push(run);
  const floats = new Set<string>();
  const found: BigIntegers = new Map();
  for (const [k, at] of whole_float_literals(text, found)) if (at === true) floats.add(k);
  const bigs = new Map<string, bigint>();
  for (const [k, v] of found) if (typeof v === 'bigint') bigs.set(k, v);
  pending.push({ run, stats: raw, floats, bigs });
}

// unite_remove_denylist_stats: per-CPU sched_debug stats vary too much between runs.
const SCHED_DEBUG_PER_CPU = /^sched_debug.*\.[0-9]+$/;

/**
 * The group's matrices from its runs' stats, as unite_to builds lkp's run by run: a metric enters
 * where a run first has it, zero-filled before; a metric whose values are all Integer zeros is
 * dropped (unite_remove_empty_stats), so it enters only with its first other value. `as_is` (a
 * matrix.json read as it is) keeps every metric, as ncompare does. Values that are not finite
 * numbers are skipped and counted.
 */
function build_matrices(group: LoadedGroup, pending: RunStats, as_is = false): void {
  const n_all = group.runs.length;
  pending.forEach(({ run, stats, floats, bigs }, i) => {
    for (const key in stats) {
      const v = stats[key];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        group.non_numeric.count++;
        group.non_numeric.example ??= `${key} in ${run.source}`;
        let cols = group.non_numeric.at.get(key);
        if (!cols) group.non_numeric.at.set(key, (cols = new Set()));
        cols.add(i);
        continue;
      }
      const float = floats?.has(key) ?? false;
      if (!as_is && SCHED_DEBUG_PER_CPU.test(key)) continue;
      let col = group.all.get(key);
      if (!col) {
        if (!as_is && v === 0 && !float) continue;
        group.all.set(key, (col = new Array<number>(n_all).fill(0)));
      }
      col[i] = v;
      const big = bigs?.get(key);
      if (big !== undefined) {
        let b = group.bigs.get(key);
        if (!b) group.bigs.set(key, (b = new Map()));
        b.set(i, big);
      }
      if (float) {
        let f = group.floats.get(key);
        if (!f) group.floats.set(key, (f = new Set()));
        f.add(i);
      }
    }
    // Runs from before stats.json left zeros out wrote them: their zeros are named by the stats.
    const zeros = run.manifest ? (run.manifest.zero_stats ?? Object.keys(stats).filter((k) => stats[k] === 0)) : [];
    for (const k of zeros) group.zero_stats.add(k);
  });
  const columns = (keep: (r: RunData) => boolean, into: Matrix, cols: number[]) => {
    group.runs.forEach((r, i) => keep(r) && cols.push(i));
    for (const [k, values] of group.all) into.set(k, cols.map((i) => values[i]));
  };
  group.profiled = group.runs.length > 0 && group.runs.every((r) => r.manifest?.monitors?.includes('perf-profile'));
  columns((r) => !r.lkp_incomplete, group.lkp_complete, group.lkp_complete_cols);
  columns((r) => !r.failed, group.complete, group.complete_cols);
}

/** lkp's matrix.json: one column per run; `stats_source` names them when it is there. */
function load_matrix(file: string, text: string, group: LoadedGroup, pending: RunStats): void {
  const m = parse_json(text, file);
  if (!is_object(m)) throw new UsageError(`corrupt ${file}: not a JSON object of metric arrays`);
  const sources = Array.isArray(m.stats_source) ? m.stats_source.map(String) : null;
  const arrays = Object.entries(m).filter(([k, v]) => k !== 'stats_source' && Array.isArray(v)) as [string, unknown[]][];
  const cols = sources ? sources.length : arrays.length ? Math.max(arrays[0][1].length, arrays[arrays.length - 1][1].length) : 0;
  const columns: Record<string, unknown>[] = Array.from({ length: cols }, () => ({}));
  for (const [key, values] of Object.entries(m)) {
    if (key === 'stats_source') continue;
    if (!Array.isArray(values)) columns.forEach((c) => (c[key] = values));
    else values.slice(0, cols).forEach((v, i) => (columns[i][key] = v));
  }
  const floats = columns.map(() => new Set<string>());
  const bigs = columns.map(() => new Map<string, bigint>());
  const found: BigIntegers = new Map();
  for (const [k, at] of whole_float_literals(text, found)) if (at !== true) for (const i of at) floats[i]?.add(k);
  for (const [k, v] of found) if (v instanceof Map) for (const [i, b] of v) bigs[i]?.set(k, b);
  columns.forEach((stats, i) => {
    const run: RunData = { name: String(i), source: sources?.[i] ?? `${file}[${i}]`, failed: failed_by_stats(stats, null), lkp_incomplete: is_incomplete_run(stats), manifest: null };
    group.runs.push(run);
    pending.push({ run, stats, floats: floats[i], bigs: bigs[i] });
  });
}

function empty_group(path: string, single_run: string | null = null): LoadedGroup {
  return { path, single_run, runs: [], all: new Map(), floats: new Map(), bigs: new Map(), lkp_complete: new Map(), lkp_complete_cols: [], complete: new Map(), complete_cols: [], zero_stats: new Set(), profiled: false, incomplete: 0, damaged: [], non_numeric: { count: 0, example: null, at: new Map() } };
}

/** A group from a path: a group directory, a run directory, or a matrix.json file. */
export function load_path(path: string): LoadedGroup {
  if (!existsSync(path)) throw new UsageError(`no such file or directory: ${path}`);
  try {
    return load_existing_path(path);
  } catch (e) {
    // Only a matrix.json named on its own gets here: it is the whole group.
    if (e instanceof DamagedFile) throw new UsageError(`damaged ${e.message}`);
    throw e;
  }
}

function load_existing_path(path: string): LoadedGroup {
  const abs = resolve(path);
  const pending: RunStats = [];
  let g: LoadedGroup;
  if (statSync(abs).isFile()) {
    if (basename(abs).startsWith(STATS)) {
      g = empty_group(dirname(dirname(abs)), basename(dirname(abs)));
      load_run(dirname(abs), g, pending);
    } else {
      g = empty_group(dirname(abs));
      load_matrix(abs, read_maybe_gz(abs) ?? '', g, pending);
      return finish(g, pending, path, true);
    }
  } else if (existsSync(join(abs, STATS)) || existsSync(join(abs, `${STATS}.gz`)) || existsSync(join(abs, INCOMPLETE))) {
    g = empty_group(dirname(abs), basename(abs));
    load_run(abs, g, pending);
  } else {
    g = empty_group(abs);
    const runs = numbered_dirs(abs);
    if (runs.length > 0) for (const r of runs) load_run(join(abs, r), g, pending);
    else {
      const text = read_maybe_gz(join(abs, MATRIX));
      if (text === null) throw new UsageError(`${path}: no runs (no numbered run directories with ${STATS}, no ${MATRIX})`);
      load_matrix(join(abs, MATRIX), text, g, pending);
      return finish(g, pending, path, true);
    }
  }
  return finish(g, pending, path);
}

/** A group from runs that a selector picked in a result root (all in one group directory). */
export function load_runs(refs: readonly RunRef[], what: string): LoadedGroup {
  const g = empty_group(dirname(refs[0].dir));
  const pending: RunStats = [];
  for (const r of refs) load_run(r.dir, g, pending, r);
  return finish(g, pending, what);
}

/** A group from runs read elsewhere (the tests build groups this way). */
export function group_from(path: string, runs: RunStats): LoadedGroup {
  const g = empty_group(path);
  for (const r of runs) g.runs.push(r.run);
  return finish(g, runs, path);
}

// A group whose every run failed still has its failure stats to show; one with no run at all has nothing.
function finish(g: LoadedGroup, pending: RunStats, what: string, as_is = false): LoadedGroup {
  if (g.runs.length === 0) throw new UsageError(`${what}: no runs to compare (${g.incomplete} incomplete${g.damaged.length ? `, ${g.damaged.length} damaged: ${g.damaged[0]}` : ''})`);
  build_matrices(g, pending, as_is);
  return g;
}

/** Every run under a scalelab result root: <workload>/<params>/<kernel-id>/<commit>/<run>/. */
export function scan_result_root(root: string): RunRef[] {
  const refs: RunRef[] = [];
  const subdirs = (d: string) => readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => join(d, e.name));
  for (const w of subdirs(root)) for (const p of subdirs(w)) for (const k of subdirs(p)) for (const c of subdirs(k)) {
    for (const r of numbered_dirs(c)) {
      const dir = join(c, r);
      refs.push({ dir, ...try_manifest(dir) });
    }
  }
  return refs;
}
