// The distribution-free confidence interval of the Hodges–Lehmann shift between two samples (the
// median of all pairwise differences y_j − x_i): the order statistics of those differences that
// the Mann–Whitney critical value picks (Bauer 1972).

import { u_critical } from './mann_whitney.ts';
import { scratch, select, SLOT } from './scratch.ts';

/** [low, high] at confidence 1 − alpha, or null when the samples are too small to bound it. */
export function hodges_lehmann_ci(x: readonly number[], y: readonly number[], alpha: number): [number, number] | null {
  const c = u_critical(x.length, y.length, alpha);
  if (c < 0) return null;
  const m = x.length * y.length;
  const d = scratch(SLOT.pair_diffs, m);
  let k = 0;
  for (let i = 0; i < x.length; i++) for (let j = 0; j < y.length; j++) d[k++] = y[j] - x[i];
  return [select(d, c), select(d, m - 1 - c)];
}
