// will-it-scale's sampling loop (main.c): every interval, read each task's counter, take the
// per-task deltas, print min/max/total; warm-up samples are printed but not counted.

import { SLOT_STRIDE } from './workload.ts';

export interface Sample {
  min: number;
  max: number;
  total: number;
}

/** Deltas since the previous reading; updates `prev`. */
export function take_sample(slots: Float64Array, prev: Float64Array, nr_tasks: number): Sample {
  let min = Infinity;
  let max = 0;
  let total = 0;
  for (let i = 0; i < nr_tasks; i++) {
    const v = slots[i * SLOT_STRIDE];
    const diff = v - prev[i];
    prev[i] = v;
    if (diff < min) min = diff;
    if (diff > max) max = diff;
    total += diff;
  }
  return { min: nr_tasks === 0 ? 0 : min, max, total };
}

export function format_sample(s: Sample): string {
  return `min:${s.min} max:${s.max} total:${s.total}`;
}

/**
 * Operations per second over the measured samples: will-it-scale's `total / opt_iterations`
 * (integer division) for one-second samples, normalised when the interval is not one second.
 */
export function measured_average(samples: readonly Sample[], warmup: number, interval_s: number): number {
  const measured = samples.slice(warmup);
  if (measured.length === 0) return 0;
  const sum = measured.reduce((acc, s) => acc + s.total, 0);
  return Math.floor(sum / (measured.length * interval_s));
}
