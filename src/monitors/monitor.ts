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

/** The /proc/stat readings of a point that bound its intervals: at the start, after each sample, at the end when it took no samples. */
export function interval_readings(p: PointResult): PointResult['proc_stat'] {
  return p.proc_stat.length >= 2 ? p.proc_stat : p.proc_stat_end ? [...p.proc_stat, p.proc_stat_end] : [];
}
