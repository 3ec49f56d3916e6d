// The Hodges–Lehmann estimate of the shift between two samples and its distribution-free
// confidence interval: the median of all pairwise differences y_j − x_i, bounded by the order
// statistics that the Mann–Whitney critical value picks (Bauer 1972).

import { median } from 'simple-statistics';
import { u_critical } from './mann_whitney.ts';

export interface Shift {
  estimate: number;
  /** [low, high] at confidence 1 − alpha, or null when the samples are too small to bound it. */
  ci: [number, number] | null;
}

export function hodges_lehmann(x: readonly number[], y: readonly number[], alpha: number): Shift {
  const d = new Float64Array(x.length * y.length);
  let k = 0;
  for (const xi of x) for (const yj of y) d[k++] = yj - xi;
  d.sort();
  const c = u_critical(x.length, y.length, alpha);
  return {
    estimate: median(Array.from(d)),
    ci: c >= 0 ? [d[c], d[d.length - 1 - c]] : null,
  };
}
