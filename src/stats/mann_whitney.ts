// The two-sided Mann–Whitney U test, as Go's benchstat runs it: the exact null distribution when
// both samples have at most 50 values and no value repeats, otherwise the normal approximation
// with tie and continuity corrections. simple-statistics has the rank sum but no p-value.

import { normal_cdf, normal_quantile } from './normal.ts';
import { sorted_in, SLOT } from './scratch.ts';

const EXACT_MAX_N = 50;

export interface UTest {
  /** U of the first sample: pairs (x, y) with x > y, ties counting one half. */
  u: number;
  p: number;
  method: 'exact' | 'normal' | 'equal';
}

const cdf_cache = new Map<number, Float64Array>();

/**
 * P(U ≤ u) under H0 for sample sizes n1, n2 (u = 0 … n1·n2), by counting rank arrangements:
 * f(i, j, u) = f(i−1, j, u−j) + f(i, j−1, u), additions only, one row of j at a time.
 */
export function u_cdf(n1: number, n2: number): Float64Array {
  const m = Math.min(n1, n2);
  const n = Math.max(n1, n2);
  const key = m * 1000 + n;
  const cached = cdf_cache.get(key);
  if (cached) return cached;
  // prev[j] holds f(i−1, j, ·), cur[j] f(i, j, ·); f(i, j, ·) has i·j + 1 entries.
  let prev: Float64Array[] = Array.from({ length: n + 1 }, () => Float64Array.of(1));
  for (let i = 1; i <= m; i++) {
    const cur: Float64Array[] = [Float64Array.of(1)];
    for (let j = 1; j <= n; j++) {
      const f = new Float64Array(i * j + 1);
      const left = prev[j]; // f(i−1, j): a new largest value from sample 1 beats all j of sample 2
      for (let u = 0; u < left.length; u++) f[u + j] += left[u];
      const down = cur[j - 1]; // f(i, j−1): the largest value is from sample 2
      for (let u = 0; u < down.length; u++) f[u] += down[u];
      cur.push(f);
    }
    prev = cur;
  }
  const counts = prev[n];
  let total = 0;
  for (let u = 0; u < counts.length; u++) total += counts[u];
  const cdf = new Float64Array(counts.length);
  let acc = 0;
  for (let u = 0; u < counts.length; u++) {
    acc += counts[u];
    cdf[u] = acc / total;
  }
  cdf_cache.set(key, cdf);
  return cdf;
}

/** The rank sum of x within x ∪ y (ties get average ranks), the tie term Σ(t³ − t), and whether all values are equal. */
function rank_sum(x: readonly number[], y: readonly number[]): { r1: number; ties: boolean; tie_term: number; all_equal: boolean } {
  // Both samples sorted, then merged: no comparator callbacks, no tuples.
  const xs = sorted_in(SLOT.rank_x, x);
  const ys = sorted_in(SLOT.rank_y, y);
  let i = 0;
  let j = 0;
  let pos = 0;
  let r1 = 0;
  let tie_term = 0;
  while (i < xs.length || j < ys.length) {
    const v = j >= ys.length || (i < xs.length && xs[i] <= ys[j]) ? xs[i] : ys[j];
    let cx = 0;
    let cy = 0;
    while (i < xs.length && xs[i] === v) (i++, cx++);
    while (j < ys.length && ys[j] === v) (j++, cy++);
    const t = cx + cy;
    r1 += cx * (pos + (t + 1) / 2);
    if (t > 1) tie_term += t * t * t - t;
    pos += t;
  }
  const lo = Math.min(xs[0], ys[0]);
  const hi = Math.max(xs[xs.length - 1], ys[ys.length - 1]);
  return { r1, ties: tie_term > 0, tie_term, all_equal: lo === hi };
}

/** Two-sided Mann–Whitney U test of x against y (both non-empty). */
export function mann_whitney(x: readonly number[], y: readonly number[]): UTest {
  const n1 = x.length;
  const n2 = y.length;
  const { r1, ties, tie_term, all_equal } = rank_sum(x, y);
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  if (all_equal) return { u: u1, p: 1, method: 'equal' };
  const mn = n1 * n2;
  if (!ties && n1 <= EXACT_MAX_N && n2 <= EXACT_MAX_N) {
    const u = Math.min(u1, mn - u1);
    return { u: u1, p: Math.min(1, 2 * u_cdf(n1, n2)[u]), method: 'exact' };
  }
  const N = n1 + n2;
  const sigma = Math.sqrt((mn * (N + 1 - tie_term / (N * (N - 1)))) / 12);
  let numer = u1 - mn / 2;
  numer -= Math.sign(numer) * 0.5;
  const z = numer / sigma;
  return { u: u1, p: Math.min(1, 2 * normal_cdf(-Math.abs(z))), method: 'normal' };
}

/** The smallest two-sided p the test can give for these sizes (no ties): 2 / C(n1+n2, n1). */
export function u_min_p(n1: number, n2: number): number {
  let c = 1;
  for (let i = 1; i <= n1; i++) c = (c * (n2 + i)) / i;
  return Math.min(1, 2 / c);
}

/** The fewest runs per side (equal sizes) with which the test can reach `alpha`. */
export function u_min_runs(alpha: number): number {
  let n = 1;
  while (u_min_p(n, n) > alpha) n++;
  return n;
}

/**
 * The largest c with P(U ≤ c) ≤ alpha/2 (−1 when there is none): the order statistics c+1 and
 * n1·n2−c of the pairwise differences bound a 1−alpha confidence interval for the shift.
 */
export function u_critical(n1: number, n2: number, alpha: number): number {
  if (n1 <= EXACT_MAX_N && n2 <= EXACT_MAX_N) {
    const cdf = u_cdf(n1, n2);
    let c = -1;
    while (c + 1 < cdf.length && cdf[c + 1] <= alpha / 2 + 1e-12) c++;
    return c;
  }
  const mn = n1 * n2;
  const sigma = Math.sqrt((mn * (n1 + n2 + 1)) / 12);
  return Math.max(-1, Math.floor(mn / 2 - 0.5 + normal_quantile(alpha / 2) * sigma));
}
