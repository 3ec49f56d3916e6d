// Writing runs into a group, atomically: a run directory is claimed with mkdir (so concurrent
// invocations never share one), marked `incomplete` until its files are in place, and the
// group's matrix.json is rebuilt from the complete runs after each run.

import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { StoreError, write_file_atomic, write_json_atomic, type WriteFn } from './atomic.ts';
import { INCOMPLETE, MANIFEST, MATRIX, OUTPUT, STATS } from './layout.ts';
import { group_identity, identity_differences, type ExperimentFields, type Manifest } from './manifest.ts';

export class ResultsError extends Error {}

/**
 * mkdir -p, one level at a time from the nearest existing ancestor. Node's recursive mkdir retries
 * forever where a parent exists but refuses children without saying so (/proc answers ENOENT).
 */
export function make_dirs(path: string): void {
  const missing: string[] = [];
  let p = resolve(path);
  while (!existsSync(p)) {
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** Numbered run directories of a group, in order. */
export function run_dirs(group: string): string[] {
  if (!existsSync(group)) return [];
  return readdirSync(group, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^[0-9]+$/.test(e.name))
    .map((e) => Number(e.name))
    .sort((a, b) => a - b)
    .map((n) => join(group, String(n)));
}

/**
 * Refuse to add a run of another experiment to a group: the first run whose manifest reads says
 * what the group is. A group of runs without manifests (lkp's, or hand-made) is not checked.
 */
export function check_group_identity(group: string, mine: ExperimentFields): void {
  for (const run of run_dirs(group)) {
    let theirs: Manifest;
    try {
      theirs = JSON.parse(readFileSync(join(run, MANIFEST), 'utf8')) as Manifest;
      group_identity(theirs);
    } catch {
      continue;
    }
    const diff = identity_differences(group_identity(mine), group_identity(theirs));
    if (diff.length) throw new ResultsError(`${group} holds runs of another experiment (${diff.join(', ')}; this run's value first): not appending`);
    return;
  }
}

/** Create the next run directory of the group with its `incomplete` marker. */
export function begin_run(group: string): string {
  try {
    make_dirs(group);
  } catch (e) {
    throw new ResultsError(`cannot create result directory ${group}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  for (let n = run_dirs(group).length; ; n++) {
    const dir = join(group, String(n));
    try {
      mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new ResultsError(`cannot create run directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    try {
      closeSync(openSync(join(dir, INCOMPLETE), 'wx'));
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw StoreError.of(join(dir, INCOMPLETE), e);
    }
    return dir;
  }
}

/**
 * stats.json as lkp's pipeline writes it: sbin/dump-stat leaves out a stat that is 0 in every
 * record (a dmesg.timestamp excepted), so readers take a missing stat as 0. The zeros are named
 * for the manifest, so that scalelab can still tell a 0 from a metric a run never had.
 */
export function lkp_stats(stats: Record<string, number>): { stats: Record<string, number>; zero_stats: string[] } {
  const kept: Record<string, number> = {};
  const zero_stats: string[] = [];
  for (const [k, v] of Object.entries(stats)) {
    if (v === 0 && !k.startsWith('dmesg.timestamp')) zero_stats.push(k);
    else kept[k] = v;
  }
  return { stats: kept, zero_stats };
}

export interface RunFiles {
  output: string;
  manifest: unknown;
  stats: Record<string, number>;
}

/**
 * Write the run's files; stats.json last, then drop the marker. A write that fails (StoreError)
 * leaves the run marked incomplete, so no reader takes it for a complete run.
 */
export function finish_run(dir: string, files: RunFiles, write?: WriteFn): void {
  write_file_atomic(join(dir, OUTPUT), files.output, write);
  write_json_atomic(join(dir, MANIFEST), files.manifest, write);
  write_json_atomic(join(dir, STATS), files.stats, write);
  rmSync(join(dir, INCOMPLETE), { force: true });
}

/** Keep what an interrupted run printed; it stays marked incomplete and has no stats.json. */
export function abandon_run(dir: string, output: string, manifest: unknown, write?: WriteFn): void {
  write_file_atomic(join(dir, OUTPUT), output, write);
  write_json_atomic(join(dir, MANIFEST), manifest, write);
}

export function is_complete(run: string): boolean {
  return !existsSync(join(run, INCOMPLETE)) && existsSync(join(run, STATS));
}

/**
 * lkp's matrix.json for the group: {metric: [value per complete run]}, metrics in the order runs
 * first have them (as unite_to adds them), a metric missing from a run counted as 0
 * (matrix_fill_missing_zeros), plus `stats_source` naming each run's stats.json.
 * Given the run just finished, the existing matrix is extended by it when it covers every other
 * complete run; otherwise (the first run, a concurrent bench, a matrix from elsewhere) every run
 * is read again.
 */
export function update_matrix(group: string, added?: { dir: string; stats: Record<string, number> }, write?: WriteFn): Record<string, unknown> {
  const runs = run_dirs(group).filter(is_complete);
  const sources = runs.map((r) => join(r, STATS));
  const matrix = added ? extended_matrix(group, sources, added) : null;
  return write_matrix(group, matrix ?? matrix_of(runs), write);
}

/** A run's stats.json, or null when it is not a JSON object (a file from elsewhere, damaged later). */
function read_stats(run: string): Record<string, number> | null {
  try {
    const v = JSON.parse(readFileSync(join(run, STATS), 'utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, number>) : null;
  } catch {
    return null;
  }
}

/** The matrix of the runs whose stats.json reads; a damaged one is left out (compare says so). */
function matrix_of(all_runs: string[]): Record<string, unknown> {
  const read = all_runs.map((r) => ({ r, s: read_stats(r) })).filter((x): x is { r: string; s: Record<string, number> } => x.s !== null);
  const stats = read.map((x) => x.s);
  const sources = read.map((x) => join(x.r, STATS));
  const keys = [...new Set(stats.flatMap((s) => Object.keys(s)))];
  const matrix: Record<string, unknown> = {};
  for (const k of keys) matrix[k] = stats.map((s) => (typeof s[k] === 'number' ? s[k] : 0));
  matrix.stats_source = sources;
  return matrix;
}

/** The existing matrix with the added run appended, or null when it does not cover the other runs. */
function extended_matrix(group: string, sources: string[], added: { dir: string; stats: Record<string, number> }): Record<string, unknown> | null {
  const source = join(added.dir, STATS);
  if (sources.at(-1) !== source) return null;
  let old: Record<string, unknown>;
  try {
    old = JSON.parse(readFileSync(join(group, MATRIX), 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
  const prior = old.stats_source;
  if (!Array.isArray(prior) || prior.length !== sources.length - 1 || prior.some((p, i) => p !== sources[i])) return null;
  const n = prior.length;
  const keys = [...new Set([...Object.keys(old).filter((k) => k !== 'stats_source'), ...Object.keys(added.stats)])];
  const matrix: Record<string, unknown> = {};
  for (const k of keys) {
    const values = Array.isArray(old[k]) ? (old[k] as number[]) : new Array<number>(n).fill(0);
    const v = added.stats[k];
    values.push(typeof v === 'number' ? v : 0);
    matrix[k] = values;
  }
  matrix.stats_source = sources;
  return matrix;
}

function write_matrix(group: string, matrix: Record<string, unknown>, write?: WriteFn): Record<string, unknown> {
  write_json_atomic(join(group, MATRIX), matrix, write);
  return matrix;
}
