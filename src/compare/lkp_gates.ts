// lkp's own rule for which stats `ncompare` lists (lib/stats.rb StatCompare#process with
// ncompare's options, lib/changed_stat.rb), for --lkp-gates and --format lkp: at least 3 runs on
// one side, medians and ranges of trimmed samples that separate, a ratio above 1.01 (1.05 for
// metrics that are not perf metrics), and lkp's minimum deltas. Deliberate gaps: lkp's
// stat-denylist and its full perf-metrics-threshold.yaml are not reproduced (only the entries and
// built-in rules quoted in shared/reference), and a perf-profile median counts as a Float
// unless it is a whole number.

import { scratch, sort_numbers, SLOT } from '../stats/scratch.ts';
import { FAILURE_PREFIX } from './kinds.ts';

const MARGIN_SHIFT = 5;
const MAX_RATIO = 5;
const PERF_PROFILE_THRESHOLD = 5;

interface Summary {
  min: number;
  mean: number; // lkp's "mean" is the middle element of the trimmed, sorted sample
  max: number;
}

/** lkp's StatSummary of the values zero-filled to `cols`: sorted, trimmed by size >> 5 (at most max_margin) a side. */
function summary(values: readonly number[], cols: number, max_margin: number): Summary | null {
  const size = Math.max(values.length, cols);
  if (size === 0) return null;
  const all = scratch(SLOT.lkp_summary, size);
  all.set(values);
  all.fill(0, values.length);
  sort_numbers(all);
  const margin = Math.min(size >> MARGIN_SHIFT, max_margin);
  const n = size - 2 * margin;
  if (n <= 0) return null;
  return { min: all[margin], mean: all[margin + (n >> 1)], max: all[margin + n - 1] };
}

// The yaml entries quoted in the reference (regexes over the whole name: the stat is hidden when
// max < v, or when delta < v/2 for an integer v), then lkp's built-in fallbacks.
const THRESHOLDS: [RegExp, number][] = [
  [/^vmstat\.system\.cs$/, 100],
  [/^vmstat\.cpu\.us$/, 10],
  [/^interrupts\..*$/, 100],
  [/^.*.time\.elapsed_time.*$/, 10],
];

function reasonable_perf_change(key: string, delta: number, max: number): boolean {
  for (const [re, v] of THRESHOLDS) {
    if (!re.test(key)) continue;
    if (max < v) return false;
    if (delta < v / 2) return false;
    return true;
  }
  if (/^iostat/.test(key)) return max > 1;
  if (/^(pagetypeinfo|buddyinfo|slabinfo)/.test(key)) return delta > 100;
  if (/^proc-vmstat/.test(key) || /meminfo/.test(key)) return max > 1000;
  if (/^lock_stat/.test(key)) return delta > (/time/.test(key) ? 1_000 : 10_000);
  if (/^(interrupts|softirqs)/.test(key)) return max > 10_000;
  return true;
}

/** lkp's skip_function_stat?: pass/fail pairs are judged only when the base has the other half. */
function skip_function_stat(key: string, base_keys: ReadonlySet<string>): boolean {
  if (FAILURE_PREFIX.test(key)) return false;
  const stem = key.replace(/\.[^.]*$/, '');
  if (/\.(error|warn|fail)$/.test(key) && !base_keys.has(`${stem}.pass`)) return true;
  if (/\.pass$/.test(key) && ![...base_keys].some((k) => k === `${stem}.error` || k === `${stem}.warn` || k === `${stem}.fail`)) return true;
  return false;
}

/**
 * Would lkp list this stat for a head against the base? Values are per run (zero-filled, empty
 * when the group lacks the stat); cols are the groups' run counts; base_keys every base stat.
 */
export function lkp_changed(key: string, failure: boolean, base_values: readonly number[], head_values: readonly number[], base_cols: number, head_cols: number, base_keys: ReadonlySet<string>, perf_metric: boolean): boolean {
  if (failure) {
    if (skip_function_stat(key, base_keys)) return false;
  } else if (head_cols < 3 && base_cols < 3) return false;
  if (!base_keys.has(key) && !failure && !/^(lock_stat|perf-profile)\./.test(key)) return false;

  let max_margin = failure ? 0 : 3;
  const b = summary(base_values, base_cols, max_margin);
  if (!b) return false;
  if (Math.max(base_values.length, base_cols) <= 3 && max_margin > 1) max_margin = 1;
  const a = summary(head_values, head_cols, max_margin);
  if (!a) return false;

  const perf_profile = key.startsWith('perf-profile.');
  if (perf_profile && Number.isInteger(a.mean)) {
    if (!(a.mean > PERF_PROFILE_THRESHOLD || b.mean > PERF_PROFILE_THRESHOLD)) return false;
  } else if (failure) {
    if (a.max === b.max) return false;
  } else if (!((b.min > a.mean && b.mean > a.max) || (a.min > b.mean && a.mean > b.max))) return false;

  if (perf_profile) return true;
  const max = Math.max(b.max, a.max);
  const [high, low] = a.mean > b.mean ? [a, b] : [b, a];
  const delta = high.mean - low.mean;
  const ratio = Math.min(low.mean > 0 ? high.mean / low.mean : MAX_RATIO, MAX_RATIO);
  if (!(ratio > 1.01)) return false;
  if (!(ratio > 1.05 || perf_metric)) return false;
  return reasonable_perf_change(key, delta, max);
}
