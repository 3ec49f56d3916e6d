// A monitor (lkp's word): one of the programs lkp runs beside a test, turned into a module that
// reads the simulated machine's accounting of a run and gives lkp-named stats.

import type { PointResult } from '../runner/point.ts';

export interface MonitorInput {
  /** The run's points, in the order they ran. */
  points: readonly PointResult[];
  /** Wall-clock seconds of the whole run. */
  elapsed_s: number;
}

export interface Monitor {
  /** lkp's name (`mpstat`, `perf-profile`): the stats' prefix. */
  name: string;
  description: string;
  /** Run unless --monitor says otherwise (the cheap ones, derived from the accounting). */
  default: boolean;
  stats(input: MonitorInput): Record<string, number>;
}

/** A value as printed with %.2f. */
export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * lkp's sbin/dump-stat drops a key whose samples are all zero (first, last and sum), and
 * lib/matrix.rb reduces the rest: the mean over samples, or for counters the sum or last − first.
 * Here: the mean of each key's samples, after that drop. (A stat that is one sample and 0 is
 * dropped where every stat is, when the run is stored: results/store.ts lkp_stats.)
 */
export function mean_of_samples(records: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const keys = new Map<string, number[]>();
  for (const r of records) for (const [k, v] of Object.entries(r)) (keys.get(k) ?? keys.set(k, []).get(k)!).push(v);
  const out: Record<string, number> = {};
  for (const [k, vs] of keys) {
    if (vs.every((v) => v === 0)) continue;
    out[k] = vs.reduce((a, b) => a + b, 0) / records.length;
  }
  return out;
}

type Reading = PointResult['proc_stat'][number];

/**
 * A monitor's record for each interval of every point, between consecutive /proc/stat readings:
 * at the start and after each sample, or from the start to the end when a point took no samples.
 */
export function interval_records(input: MonitorInput, record: (before: Reading, after: Reading) => Record<string, number>): Array<Record<string, number>> {
  const out: Array<Record<string, number>> = [];
  for (const p of input.points) {
    const r = p.proc_stat.length >= 2 ? p.proc_stat : p.proc_stat_end ? [...p.proc_stat, p.proc_stat_end] : [];
    for (let i = 1; i < r.length; i++) out.push(record(r[i - 1], r[i]));
  }
  return out;
}
