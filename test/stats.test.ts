import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sprintf } from '../src/lib/printf.ts';
import { Prng } from '../src/lib/prng.ts';
import { lkp_mean, lkp_stddev, outliers, ruby_sum } from '../src/stats/describe.ts';
import { bh_qvalues } from '../src/stats/fdr.ts';
import { hodges_lehmann_ci } from '../src/stats/hodges_lehmann.ts';
import { mann_whitney, u_cdf, u_critical, u_min_p, u_min_runs } from '../src/stats/mann_whitney.ts';
import { normal_cdf, normal_quantile } from '../src/stats/normal.ts';
import { sort_numbers } from '../src/stats/scratch.ts';

describe('printf', () => {
  const { vectors } = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/printf-vectors.json'), 'utf8')) as { vectors: [string, number, string][] };

  it(`matches Ruby's printf on ${vectors.length} recorded cases`, () => {
    for (const [fmt, value, expected] of vectors) expect(sprintf(fmt, value), `${fmt} of ${value}`).toBe(expected);
  });

  it("truncates a Float under %d as Ruby does, and prints Ruby's NaN and Inf", () => {
    // Ruby's dtoa takes a value within its fast path's error bound of a tie for a tie, half to even
    // (ruby -e 'printf("%.2f %.2f %.4g", 85.175, 12.345, 287.05)' prints 85.18 12.34 287.0).
    expect(sprintf('%.2f %.2f %.4g', 85.175, 12.345, 287.05)).toBe('85.18 12.34 287.0');
    expect(sprintf('%10d', 129489.99)).toBe('    129489');
    expect(sprintf('%d', -2.7)).toBe('-2');
    expect(sprintf('%10.2f', NaN)).toBe('       NaN');
    expect(sprintf('%+.1f', -Infinity)).toBe('-Inf');
  });
});

describe('normal distribution', () => {
  // Φ(z) from the C library's erfc (CPython math.erfc), which is accurate to an ulp or two.
  const reference: [number, number][] = [
    [-8, 6.220960574271819e-16],
    [-5, 2.866515718791946e-7],
    [-3.5, 0.00023262907903552504],
    [-1.959963984540054, 0.02500000000000002],
    [-1, 0.15865525393145707],
    [-0.1, 0.460172162722971],
    [0, 0.5],
    [0.5, 0.6914624612740131],
    [2, 0.9772498680518208],
    [6, 0.9999999990134123],
  ];

  it('Φ agrees with the C library to 1e-13 relative, in both tails', () => {
    for (const [z, p] of reference) expect(Math.abs(normal_cdf(z) - p) / p, `Φ(${z})`).toBeLessThan(1e-13);
  });

  it('Φ⁻¹ inverts Φ', () => {
    expect(normal_quantile(0.975)).toBeCloseTo(1.959963984540054, 13);
    for (const p of [1e-10, 0.001, 0.3, 0.5, 0.9]) expect(normal_cdf(normal_quantile(p)) / p).toBeCloseTo(1, 12);
  });
});

describe('Mann-Whitney U', () => {
  it('exact distribution, no ties: the known p-values', () => {
    const a = mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    expect(a.method).toBe('exact');
    expect(Math.abs(a.p - 0.007936507936507936)).toBeLessThan(1e-9);
    const b = mann_whitney([10.1, 10.4, 9.8, 10.0, 10.3, 9.9], [10.6, 10.2, 10.9, 10.8, 10.5, 11.0]);
    expect(b.method).toBe('exact');
    expect(Math.abs(b.p - 0.008658008658008658)).toBeLessThan(1e-9);
  });

  it('normal approximation with tie and continuity corrections when values repeat', () => {
    const r = mann_whitney([1, 2, 2, 3, 3, 3, 4], [3, 4, 4, 5, 5, 6, 6, 7]);
    expect(r.method).toBe('normal');
    expect(r.u).toBe(3.5);
    expect(Math.abs(r.p - 0.004793348746185457)).toBeLessThan(1e-9);
  });

  it('p = 1 when every value is equal', () => {
    expect(mann_whitney([5, 5, 5], [5, 5, 5])).toEqual({ u: 4.5, p: 1, method: 'equal' });
  });

  it('is symmetric in its samples and exact up to 50 per side', () => {
    const rng = new Prng(7);
    const x = Array.from({ length: 50 }, () => rng.float());
    const y = Array.from({ length: 40 }, () => rng.float() + 0.2);
    const xy = mann_whitney(x, y);
    const yx = mann_whitney(y, x);
    expect(xy.method).toBe('exact');
    expect(xy.p).toBeCloseTo(yx.p, 14);
    expect(mann_whitney([...x, 0.5], y).method).toBe('normal');
  });

  it('the exact distribution sums to one and is symmetric', () => {
    const cdf = u_cdf(7, 9);
    expect(cdf[cdf.length - 1]).toBeCloseTo(1, 14);
    for (let u = 0; u < 63; u++) expect(cdf[u]).toBeCloseTo(1 - cdf[62 - u], 14);
  });

  it('minimum p per size: 4 runs a side are the fewest that can reach 0.05', () => {
    expect(u_min_p(3, 3)).toBeCloseTo(0.1, 12);
    expect(u_min_p(4, 4)).toBeCloseTo(0.02857142857142857, 12);
    expect(u_min_runs(0.05)).toBe(4);
    expect(u_min_runs(0.01)).toBe(5);
  });
});

describe('Hodges-Lehmann interval', () => {
  it('is bounded by the order statistics of the pairwise differences that the U critical value picks', () => {
    // n = 5 + 5: P(U <= 2) = 4/252 <= 0.025 < P(U <= 3) = 7/252, so c = 2: the 3rd smallest and largest of the 25 differences.
    expect(u_critical(5, 5, 0.05)).toBe(2);
    expect(hodges_lehmann_ci([1, 2, 3, 4, 5], [11, 12, 13, 14, 15], 0.05)).toEqual([7, 13]);
    expect(hodges_lehmann_ci([5, 4, 3, 2, 1], [15, 14, 13, 12, 11], 0.05)).toEqual([7, 13]);
  });

  it('agrees with sorting all pairwise differences, on seeded samples of many sizes with ties', () => {
    const rng = new Prng(5);
    for (let t = 0; t < 300; t++) {
      const x = Array.from({ length: rng.int(4, 60) }, () => rng.int(0, 30) / 2);
      const y = Array.from({ length: rng.int(4, 60) }, () => rng.int(5, 35) / 2);
      const d = x.flatMap((xi) => y.map((yj) => yj - xi)).sort((a, b) => a - b);
      const c = u_critical(x.length, y.length, 0.05);
      expect(hodges_lehmann_ci(x, y, 0.05)).toEqual(c < 0 ? null : [d[c], d[d.length - 1 - c]]);
    }
  });

  it('has no interval when the sample is too small to bound it', () => {
    expect(hodges_lehmann_ci([1, 2, 3], [4, 5, 6], 0.05)).toBeNull();
  });
});

describe('ordering small samples', () => {
  it('the small-sample sort agrees with a full sort on seeded data, ties included', () => {
    const rng = new Prng(11);
    for (let t = 0; t < 200; t++) {
      const v = Float64Array.from({ length: rng.int(1, 120) }, () => rng.int(0, 20) / 4);
      expect(Array.from(sort_numbers(Float64Array.from(v)))).toEqual([...v].sort((a, b) => a - b));
    }
  });
});

describe('Benjamini-Hochberg', () => {
  it('reproduces the q-values of the 15 p-values in Benjamini and Hochberg (1995)', () => {
    const p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528, 0.759, 1];
    const expected = [0.0015, 0.003, 0.0095, 0.0356, 0.0603, 0.0639, 0.0639, 0.0645, 0.0765, 0.486, 0.5812, 0.7149, 0.7532, 0.8132, 1];
    bh_qvalues(p).forEach((q, i) => expect(q).toBeCloseTo(expected[i], 4));
  });

  it('keeps the input order', () => {
    expect(bh_qvalues([0.04, 0.01, 0.03, 0.005])).toEqual([0.04, 0.02, 0.04, 0.02]);
  });
});

describe('A/A: two samples of 10 from one distribution', () => {
  it('are flagged significant at most alpha of the time over 1,000 seeded comparisons', () => {
    const rng = new Prng(20261122);
    const draw = () => Array.from({ length: 10 }, () => 100 + 5 * normal_quantile(Math.min(1 - 1e-12, Math.max(1e-12, rng.float()))));
    let flagged = 0;
    for (let i = 0; i < 1000; i++) if (mann_whitney(draw(), draw()).p <= 0.05) flagged++;
    expect(flagged / 1000).toBeLessThanOrEqual(0.05);
    expect(flagged).toBeGreaterThan(0); // the test is not simply blind
  });
});

describe('lkp arithmetic', () => {
  it("sums as Ruby's Array#sum does (compensated)", () => {
    expect(ruby_sum([0.1, 0.2, 0.3])).toBe(0.6);
    expect(0.1 + 0.2 + 0.3).not.toBe(0.6);
  });

  it('mean and population standard deviation; ±141% for [x, 0, 0] as in lkp issue #20', () => {
    expect(lkp_mean([2576 * 3, 0, 0])).toBe(2576);
    expect(Math.trunc((100 * lkp_stddev([2576 * 3, 0, 0])) / 2576)).toBe(141);
  });

  it('flags outliers by modified z-score and keeps them', () => {
    expect(outliers([10, 10.2, 9.9, 10.1, 10, 14], 10.05)).toEqual([5]);
    expect(outliers([5, 5, 5, 5, 9], 5)).toEqual([4]);
    expect(outliers([1, 2, 3, 4, 5], 3)).toEqual([]);
  });
});
