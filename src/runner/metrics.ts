// From points to numbers, as will-it-scale and lkp do it: runtest.py's CSV, then lkp's
// will-it-scale parser (programs/will-it-scale/parse) over that CSV, then the rest of a run's
// stats: time.* of the process and the machine's sim.* counters.

import type { PointResult } from './point.ts';
import { sprintf } from '../lib/printf.ts';

export interface CsvRow {
  tasks: number;
  processes: number;
  processes_idle: number;
  threads: number;
  threads_idle: number;
  linear: number;
}

/** runtest.py's first two lines, printed before any point runs. */
export const CSV_HEAD = ['tasks,processes,processes_idle,threads,threads_idle,linear', '0,0,100,0,100,0'];

/**
 * runtest.py's rows: per task count, the process and thread averages and idle%. A point that
 * failed printed no `average:` line, so its average is upstream's initial -1 (lkp's parser skips
 * the row); a mode not run is 0 ops, 0 idle (lkp's patched runtest.py).
 */
export function csv_rows(points: readonly PointResult[]): CsvRow[] {
  const average = (p: PointResult | undefined) => (p === undefined ? 0 : p.errors.length > 0 ? -1 : p.average);
  const counts = [...new Set(points.map((p) => p.nr_tasks))].sort((a, b) => a - b);
  let linear = 0; // lkp's runtest.py starts at 0: without a 1-task point, linear stays 0
  return counts.map((tasks) => {
    const proc = points.find((p) => p.nr_tasks === tasks && p.mode === 'process');
    const thr = points.find((p) => p.nr_tasks === tasks && p.mode === 'thread');
    const processes = average(proc);
    const threads = average(thr);
    if (tasks === 1) linear = Math.max(processes, threads);
    return {
      tasks,
      processes,
      processes_idle: proc?.idle ?? 0,
      threads,
      threads_idle: thr?.idle ?? 0,
      linear: linear * tasks,
    };
  });
}


/** A runtest.py row: '%d,%d,%0.2f,%d,%0.2f,%d'. */
export function format_csv_row(r: CsvRow): string {
  return [Math.trunc(r.tasks), Math.trunc(r.processes), sprintf('%0.2f', r.processes_idle), Math.trunc(r.threads), sprintf('%0.2f', r.threads_idle), Math.trunc(r.linear)].join(',');
}

/** Ruby's `%d` of a Float: truncation toward zero. */
function ruby_d(x: number): number {
  return Math.trunc(x);
}

/** Ruby's `%f`: six decimals. */
function ruby_f(x: number): number {
  return Number(x.toFixed(6));
}

/**
 * lkp's programs/will-it-scale/parse, line for line: `<N>.<column>` per data row (rows whose
 * processes and threads are both 0 are skipped, as lkp skips failed samples), then scalability,
 * per_process_ops, per_thread_ops and workload. Keys without lkp's `will-it-scale.` prefix.
 */
export function parse_will_it_scale(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  let names: string[] = [];
  const scalability: number[] = [];
  const per_process: number[] = [];
  const per_thread: number[] = [];
  let workload = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (/^[a-z_,]+$/.test(line)) {
      names = line.split(',').slice(1);
    } else if (/^[0-9.,]+$/.test(line)) {
      const values = line.split(',');
      const nr_task = values.shift()!;
      if (nr_task === '0') continue;
      const processes = Number.parseInt(values[0], 10);
      const threads = Number.parseInt(values[2], 10);
      if (processes === 0 && threads === 0) continue;
      const linear = Number.parseInt(values[values.length - 1], 10);
      if (linear !== 0 && nr_task !== '1') scalability.push(Number.parseFloat(values[0]) / linear);
      per_process.push(processes / Number.parseInt(nr_task, 10));
      workload += processes;
      per_thread.push(threads / Number.parseInt(nr_task, 10));
      workload += threads;
      names.forEach((name, i) => { out[`${nr_task}.${name}`] = Number(values[i]); });
    } else {
      const m = /(Assertion .* failed)/.exec(line);
      if (m) out[m[1].replace(/.*: /, '').replace(/[^a-zA-Z0-9<>!=]/g, '_').replace(/__+/g, '_')] = 1;
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  if (scalability.length) out.scalability = ruby_f(scalability[scalability.length - 1]);
  if (per_process.length) out.per_process_ops = ruby_d(mean(per_process));
  if (per_thread.length) out.per_thread_ops = ruby_d(mean(per_thread));
  if (workload !== 0) out.workload = ruby_d(workload);
  return out;
}

/**
 * `sim.*` totals over every point of the run (they grow with the operations done, so they vary
 * between runs), and per operation as a deterministic probe counted them (exact for a seed).
 */
export function sim_stats(points: readonly PointResult[], per_op: ReadonlyMap<string, number>): Record<string, number> {
  const totals = new Map<string, number>();
  for (const p of points) for (const [k, v] of p.counters) totals.set(k, (totals.get(k) ?? 0) + v);
  const out: Record<string, number> = {};
  for (const [k, v] of [...totals].sort(([a], [b]) => a.localeCompare(b))) out[k] = v;
  for (const [k, v] of [...per_op].sort(([a], [b]) => a.localeCompare(b))) out[`${k}_per_op`] = v;
  return out;
}

/** The points' counters divided by what `of` counts in them (operations, background passes), summed over the points. */
export function measured_per(points: readonly PointResult[], of: (p: PointResult) => number): Map<string, number> {
  const n = points.reduce((sum, p) => sum + of(p), 0);
  const out = new Map<string, number>();
  if (n <= 0) return out;
  for (const p of points) for (const [k, v] of p.counters) out.set(k, (out.get(k) ?? 0) + v / n);
  return out;
}

/** lkp's dmesg stat name for a kernel message: `dmesg.<message with non-alphanumerics as _>`. */
export function dmesg_stat(message: string): string {
  return `dmesg.${message.replace(/[^a-zA-Z0-9<>!=]/g, '_').replace(/__+/g, '_').replace(/^_|_$/g, '')}`;
}

/**
 * lkp's lib/dmesg.rb common_error_id, as programs/stderr/parse applies it to each stderr line
 * (ids shorter than 3 characters dropped, a leading '#' kept apart from dump-stat's comments).
 */
export function common_error_id(line: string): string {
  return line
    .replace(/\r?\n$/, '')
    .replace(/\b[3-9]\.[0-9]+[-a-z0-9.]+/g, '#')
    .replace(/\b[1-9][0-9]-[A-Z][a-z]+-[0-9]{4}\b/g, '#')
    .replace(/\b0x[0-9a-f]+\b/g, '#')
    .replace(/\b[a-f0-9]{40}\b/g, '#')
    .replace(/\b[0-9][0-9.]*/g, '#')
    .replace(/#x\b/g, '0x')
    .replace(/[\\"$]/g, '~')
    .replace(/[ \t]/g, ' ')
    .replace(/ {2,}/g, ' ')
    .replace(/([^a-zA-Z0-9]) /g, '$1')
    .replace(/ ([^a-zA-Z])/g, '$1')
    .replace(/^ /, '')
    .replaceAll('  _', '_')
    .replace(/ /g, '_')
    .replace(/[-_.,;:#!*[(]+$/, '');
}

/** lkp's programs/stderr/parse over a run's stderr: `stderr.<id>: 1` per distinct line, and `stderr.has_stderr`. */
export function stderr_stats(lines: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const raw of lines) {
    // etc/ignore-stderr: blank lines (perf-profile's list), and lkp strips non-printable characters
    const line = raw.replace(/[^\x20-\x7e]/g, '');
    if (line.trim() === '') continue;
    let id = common_error_id(line);
    if (id.length < 3) continue;
    if (line[0] !== '#') id = id.replace(/^#/, '_#');
    out[`stderr.${id}`] = 1;
  }
  if (Object.keys(out).length > 0) out['stderr.has_stderr'] = 1;
  return out;
}
