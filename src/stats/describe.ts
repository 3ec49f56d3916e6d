// Per-sample summaries. The mean and standard deviation follow lkp's lib/statistics.rb operation
// for operation, so that lkp's columns come out bit-identical: Ruby's Array#sum (exact over its
// leading Integers, then Kahan–Babuska compensated) over n, and the population variance as
// (1/n) · Σ(x − mean)² summed left to right.

import { quantileSorted } from 'simple-statistics';
import { scratch, sort_numbers, sorted_in, SLOT } from './scratch.ts';

/** How Ruby holds each value: a Float or an Integer, and an Integer beyond 2^53 exactly. */
export interface RubyKinds {
  float(i: number): boolean;
  big(i: number): bigint | undefined;
}

/** Without other knowledge a whole number is an Integer, as JSON's `7` is. */
const BY_VALUE: (values: readonly number[]) => RubyKinds = (values) => ({ float: (i) => !Number.isInteger(values[i]), big: () => undefined });

/**
 * Ruby's Array#sum: the Integers up to the first Float exactly, then Kahan–Babuska balancing
 * compensated summation from there (an Integer after it as its nearest double). All Integers: the
 * exact sum, a bigint when it is beyond 2^53.
 */
export function ruby_sum(values: readonly number[], kinds: RubyKinds = BY_VALUE(values)): number | bigint {
  let small = 0;
  let exact: bigint | null = null;
  let i = 0;
  for (; i < values.length && !kinds.float(i); i++) {
    const big = kinds.big(i);
    if (exact === null && big === undefined && Number.isSafeInteger(small + values[i])) small += values[i];
    else exact = (exact ?? BigInt(small)) + (big ?? BigInt(values[i]));
  }
  if (i === values.length) return exact === null ? small : Number.isSafeInteger(Number(exact)) ? Number(exact) : exact;
  let f = exact === null ? small : Number(exact);
  let c = 0;
  for (; i < values.length; i++) {
    const x = values[i];
    const t = f + x;
    if (Math.abs(f) >= Math.abs(x)) c += f - t + x;
    else c += x - t + f;
    f = t;
  }
  return f + c;
}

/** lkp's `average`: sum / length (an Integer sum taken to the nearest double first). */
export function lkp_mean(values: readonly number[], kinds?: RubyKinds): number {
  return Number(ruby_sum(values, kinds)) / values.length;
}

/** lkp's `standard_deviation` (population, despite lkp's name `sample_variance`); `avg` is lkp_mean(values). */
export function lkp_stddev(values: readonly number[], avg = lkp_mean(values)): number {
  let sum = 0;
  for (const x of values) sum += (x - avg) * (x - avg);
  return Math.sqrt((1 / values.length) * sum);
}

/** The median (simple-statistics' type-7 quantile of the sorted values). */
export function median(values: readonly number[]): number {
  return quantileSorted(sorted_in(SLOT.median, values) as unknown as number[], 0.5);
}

/**
 * Values whose modified z-score 0.6745·|x − median| / MAD exceeds 3.5 (Iglewicz and Hoaglin).
 * When more than half the values are equal the MAD is 0; the mean absolute deviation (scaled by
 * 1.2533 so both estimate σ alike) takes its place. Indices into `values`.
 */
export function outliers(values: readonly number[], med: number): number[] {
  if (values.length < 3) return [];
  const deviations = scratch(SLOT.deviations, values.length);
  for (let i = 0; i < values.length; i++) deviations[i] = Math.abs(values[i] - med);
  sort_numbers(deviations);
  let scale = quantileSorted(deviations as unknown as number[], 0.5) / 0.6745;
  if (scale === 0) {
    let sum = 0;
    for (const d of deviations) sum += d;
    scale = 1.2533 * (sum / values.length);
  }
  if (scale === 0) return [];
  const out: number[] = [];
  values.forEach((x, i) => {
    if (Math.abs(x - med) / scale > 3.5) out.push(i);
  });
  return out;
}
