// Which stats `lkp ncompare` lists without -a: lib/compare.rb Group#_calc_changed_stat_keys →
// lib/stats.rb _get_changed_stats → StatCompare#process (with lib/changed_stat.rb's default
// rule), step for step on the groups' matrices, Ruby's Integer/Float distinction included.
// ncompare's options here: no gap, no --more, a perf-profile threshold of Integer 5.

import { ruby_kinds, type LoadedGroup } from '../load.ts';
import { ruby_regex } from './ruby_regex.ts';
import { function_stat, perf_metric, reasonable_perf_change, reportable_stat, stat_key_base } from './tables.ts';

const MARGIN_SHIFT = 5;
const MAX_RATIO = 5;
const PERF_PROFILE_THRESHOLD = 5; // an Integer: it gates only perf-profile stats whose median is an Integer
const INCOMPLETE = 'last_state.is_incomplete_run';

/** A stat's values per run (an Integer beyond 2^53 exact, as a bigint) and which of them are Floats; a matrix of them with its column count. */
type RubyNumber = number | bigint;
interface Col {
  v: RubyNumber[];
  f: boolean[];
}
interface LkpMatrix {
  stats: Map<string, Col>;
  cols: number;
  /** The stat families (bases) it has, when first asked (monitored_by_b?). */
  families?: Set<string>;
}

function matrix_of(g: LoadedGroup): LkpMatrix {
  const stats = new Map<string, Col>();
  for (const [k, v] of g.all) {
    const kinds = ruby_kinds(g, k, v);
    stats.set(k, { v: v.map((x, i) => kinds.big(i) ?? x), f: v.map((_, i) => kinds.float(i)) });
  }
  return { stats, cols: g.runs.length };
}

const zeros = (n: number): Col => ({ v: new Array<number>(n).fill(0), f: new Array<boolean>(n).fill(false) });

/** StatSummary: size >> 5 (at most max_margin) to trim a side, then sorted (stably, as glibc's qsort_r sorts for Ruby), leading -1s ("no data") dropped, trimmed. */
interface Summary {
  size: number;
  min: RubyNumber;
  mean: RubyNumber;
  mean_is_float: boolean;
  max: RubyNumber;
}

// Ruby compares an Integer of any size with a Float exactly, as JavaScript compares a bigint with a number.
const by_value = (a: RubyNumber, b: RubyNumber) => (a < b ? -1 : a > b ? 1 : 0);
const larger = (a: RubyNumber, b: RubyNumber) => (a > b ? a : b);
/** Integer − Integer is exact; with a Float in it, both are doubles. */
const minus = (a: RubyNumber, b: RubyNumber) => (typeof a === 'bigint' && typeof b === 'bigint' ? Number(a - b) : Number(a) - Number(b));
function summary(c: Col, max_margin: number): Summary | null {
  const order = c.v.map((_, i) => i).sort((x, y) => by_value(c.v[x], c.v[y]));
  // sort_remove_margin sizes the margin before `sorted` drops the -1s.
  const margin = Math.min(order.length >> MARGIN_SHIFT, max_margin);
  let first = 0;
  while (first < order.length && c.v[order[first]] == -1) first++; // Ruby's ==: -1 and -1.0 alike
  const sorted = order.slice(first);
  const kept = sorted.slice(margin, sorted.length - margin);
  if (kept.length === 0) return null;
  const mid = kept[kept.length >> 1];
  return { size: kept.length, min: c.v[kept[0]], mean: c.v[mid], mean_is_float: c.f[mid], max: c.v[kept[kept.length - 1]] };
}

/** StatCompare#monitored_by_b?: does the base have any stat of this family? (Asked before the base changes.) */
function monitored_by(b: LkpMatrix, family: string): boolean {
  b.families ??= new Set([...b.stats.keys()].map(stat_key_base));
  return b.families.has(family);
}

/** StatCompare#skip_function_stat?: a .fail/.error/.warn needs its .pass in the base, and the other way round. */
function skip_function_stat(k: string, b: LkpMatrix): boolean {
  if (/^(dmesg|kmsg|last_state|stderr)\./.test(k)) return false;
  const stem = k.replace(/\.[^.]*$/, '');
  if (/\.(error|warn|fail)$/.test(k) && !b.stats.has(`${stem}.pass`)) return true;
  if (/\.pass$/.test(k)) {
    // lkp interpolates the stem into a Ruby regex unescaped; a stem Ruby cannot read stops lkp
    // with a RegexpError, and here matches nothing.
    let re: RegExp | null = null;
    try {
      re = ruby_regex(`^${stem}\\.(error|warn|fail)$`);
    } catch {
      re = null;
    }
    if (![...b.stats.keys()].some((s) => re?.test(s))) return true;
  }
  return false;
}

/** StatCompare#process: is stat k of a (the head) changed against b (the base)? */
function stat_changed(k: string, a: LkpMatrix, b: LkpMatrix, is_incomplete_run: boolean): boolean {
  const fn = function_stat(k);
  if (is_incomplete_run && !/^(dmesg|last_state|stderr)\./.test(k)) return false;
  if (!reportable_stat(k)) return false;
  if (fn ? skip_function_stat(k, b) : a.cols < 3 && b.cols < 3) return false;
  const family = /^(lock_stat|perf-profile)\./.exec(k)?.[1];
  if (!b.stats.has(k) && !fn && !(family && monitored_by(b, family))) return false;

  let max_margin = fn ? 0 : 3;
  const sb = summary(b.stats.get(k) ?? zeros(b.cols), max_margin);
  if (!sb) return false;
  if (b.cols <= 3 && max_margin > 1) max_margin = 1;
  const sa = summary(a.stats.get(k)!, max_margin);
  if (!sa) return false;

  const perf_profile = k.startsWith('perf-profile.');
  if (perf_profile && !sa.mean_is_float) {
    if (!(sa.mean > PERF_PROFILE_THRESHOLD || sb.mean > PERF_PROFILE_THRESHOLD)) return false;
  } else if (fn) {
    if (sa.max == sb.max) return false; // Ruby's ==
  } else if (!((sb.min > sa.mean && sb.mean > sa.max) || (sa.min > sb.mean && sa.mean > sb.max))) return false;

  // calc_stats_metrics and skip_small_change?
  if (perf_profile) return true;
  const max = Number(larger(sb.max, sa.max));
  const [high, low] = sa.mean > sb.mean ? [sa, sb] : [sb, sa];
  const delta = minus(high.mean, low.mean);
  const ratio = Math.min(low.mean > 0 ? Number(high.mean) / Number(low.mean) : MAX_RATIO, MAX_RATIO);
  if (!(ratio > 1.01)) return false;
  if (!(ratio > 1.05 || perf_metric(k))) return false;
  return reasonable_perf_change(k, delta, max);
}

/** __get_changed_stats: the base's stats join the head's as zeros, then every head stat in order. */
function changed_in(a: LkpMatrix, b: LkpMatrix, is_incomplete_run: boolean, into: Set<string>): void {
  for (const k of b.stats.keys()) if (!a.stats.has(k)) a.stats.set(k, zeros(a.cols));
  for (const k of a.stats.keys()) if (stat_changed(k, a, b, is_incomplete_run)) into.add(k);
}

/** filter_incomplete_run: drop the runs whose is_incomplete_run is 1, and the stat itself. */
function filter_incomplete_run(m: LkpMatrix): void {
  const flags = m.stats.get(INCOMPLETE);
  if (!flags) return;
  const keep = flags.v.map((x, i) => (x == 1 ? -1 : i)).filter((i) => i >= 0); // Ruby's ==
  for (const c of m.stats.values()) {
    c.v = keep.map((i) => c.v[i]);
    c.f = keep.map((i) => c.f[i]);
  }
  m.cols = keep.length;
  m.stats.delete(INCOMPLETE);
}

/**
 * The stats ncompare lists for these groups (the first is the base), in its order: per head,
 * with incomplete runs the failure stats first, then the rest without those runs.
 */
export function lkp_changed_stats(groups: readonly LoadedGroup[]): string[] {
  const keys = new Set<string>();
  const b = matrix_of(groups[0]);
  for (const g of groups.slice(1)) {
    const a = matrix_of(g);
    const changed = new Set<string>();
    const incomplete = a.stats.has(INCOMPLETE) || b.stats.has(INCOMPLETE);
    changed_in(a, b, incomplete, changed);
    if (incomplete) {
      // The base is filtered once and stays so for later heads, as lkp's shared copy does.
      filter_incomplete_run(a);
      filter_incomplete_run(b);
      changed_in(a, b, false, changed);
    }
    for (const k of changed) keys.add(k);
  }
  return [...keys];
}
