// The comparison itself: per metric, lkp's columns (mean, population stddev, %change) and what lkp
// lacks (a Mann–Whitney U test, a Hodges–Lehmann interval for the change, Benjamini–Hochberg
// q-values, exact metrics, warnings, a verdict); then which rows to show and in lkp's order. The
// formatters only lay this model out.

import { sprintf } from '../lib/printf.ts';
import { lkp_mean, lkp_stddev, median, outliers, ruby_sum, type RubyKinds } from '../stats/describe.ts';
import { bh_qvalues } from '../stats/fdr.ts';
import { hodges_lehmann_ci } from '../stats/hodges_lehmann.ts';
import { mann_whitney, u_min_p, u_min_runs } from '../stats/mann_whitney.ts';
import { scratch, SLOT } from '../stats/scratch.ts';
import { direction_of, is_absolute_change, is_perf_metric, KPI_ORDER, type Direction } from './kinds.ts';
import { byte_order } from './lkp/axes.ts';
import { lkp_changed_stats } from './lkp/changed.ts';
import { ruby_kinds } from './load.ts';
import { ALL_TESTS, function_stat, stat_key_base } from './lkp/tables.ts';
import type { Group } from './select.ts';

export interface CompareSettings {
  alpha: number;
  /** The smallest |%change| worth showing; null: 1% for perf metrics, 5% for others (lkp's rule). */
  min_change: number | null;
  selection: 'significant' | 'all' | 'lkp-gates';
  /** lkp's columns: a failed run counts in every row, as in lkp ncompare (only lkp's incomplete runs are left out). */
  lkp_columns: boolean;
}

export interface GroupStat {
  /** Values compared: complete runs (all runs for failure stats); 0 when the group lacks the metric. */
  n: number;
  values: number[];
  /** lkp's average (0 without values). */
  mean: number;
  /** Population standard deviation (lkp's), null below 2 values. */
  stddev: number | null;
  /** Median, for shown rows. */
  median: number | null;
  /** Coefficient of variation, %, null when undefined. */
  cv: number | null;
  /** Indices into `values` of flagged outliers (kept, not dropped), for shown rows. */
  outliers: number[];
  /** lkp's ±%stddev cell value: 100·sd/avg (sd itself when avg is 0), −1 for a single run. */
  lkp_err: number;
  /** Failure stats: the sum over runs (lkp's fail count; exact when it is an Integer beyond 2^53) and the runs counted. */
  fails: number;
  fails_exact: bigint | null;
  runs: number;
}

export type TestKind = 'exact' | 'normal' | 'equal' | 'exact-metric' | 'failure' | 'none';

export interface Change {
  /**
   * The change: % of the base mean (lkp's formula), or a difference for absolute-change metrics;
   * for failure stats, the reproduction change in points. Null from a base of 0 (`appeared` says new).
   */
  change: number | null;
  /** lkp's printed change: its 1e-100 rule for a base of 0, its index quirk for failure stats. */
  lkp_change: number;
  /** A metric that was 0 and is not ('new'), or was not 0 and is ('gone'); null otherwise. */
  appeared: 'new' | 'gone' | null;
  /** % change of the mean (gates and verdicts), null when the base mean is 0. */
  relative: number | null;
  /** 95% (1 − alpha) interval of the change, in the units of `change`, for shown rows. */
  ci: [number, number] | null;
  p: number | null;
  q: number | null;
  test: TestKind;
  significant: boolean;
  verdict: 'improvement' | 'regression' | null;
}

export interface Row {
  metric: string;
  failure: boolean;
  exact: boolean;
  absolute: boolean;
  /** A perf metric in lkp's sense: a 1% change is worth showing (5% otherwise). */
  perf: boolean;
  direction: Direction | null;
  stats: GroupStat[];
  changes: Change[];
}

export interface GroupSummary {
  id: string;
  selector: string;
  path: string;
  axes: [string, string][];
  workload: string | null;
  complete: number;
  failed: number;
  /** Runs lkp leaves out of the perf rows (last_state.is_incomplete_run). */
  lkp_incomplete: number;
  incomplete: number;
  /** Manifest facts for the report (first complete run), when scalelab wrote the group. */
  manifest: Group['runs'][number]['manifest'];
}

export interface CompareModel {
  groups: GroupSummary[];
  /** Axes equal in every group, and the names of those that differ (the compared ones). */
  common_axes: [string, string][];
  compare_keys: string[];
  settings: CompareSettings;
  /** Every metric seen, and how many of them were tested per head. */
  metrics_total: number;
  tested: number[];
  /** The rows to show, in lkp's order. */
  rows: Row[];
  /** One headline per head group, like the robot's. */
  headlines: string[];
  footnotes: string[];
}

const NOISE_CV = 10;
const LIST_MAX = 5;

/** Mean and population stddev that do not overflow near the largest double (Ruby's sum does: lkp prints Infinity). */
function scaled_mean_stddev(values: readonly number[]): [number, number | null] {
  let scale = 0;
  for (const v of values) scale = Math.max(scale, Math.abs(v));
  let mean = 0;
  for (const v of values) mean += v / scale / values.length;
  let sq = 0;
  for (const v of values) sq += (v / scale - mean) ** 2;
  return [mean * scale, values.length >= 2 ? scale * Math.sqrt(sq / values.length) : null];
}

function stat_of(values: number[], failure: boolean, runs: number, kinds: RubyKinds, lkp_columns: boolean): GroupStat {
  const n = values.length;
  let mean = n ? lkp_mean(values, kinds) : 0;
  let stddev = n >= 2 ? lkp_stddev(values, mean) : null;
  if (!lkp_columns && n > 0 && (!Number.isFinite(mean) || (stddev !== null && !Number.isFinite(stddev)))) [mean, stddev] = scaled_mean_stddev(values);
  const lkp_sd = stddev ?? -1;
  // lkp's fails are Ruby's Array#sum of the values.
  const sum = failure ? ruby_sum(values, kinds) : 0;
  return {
    n,
    values,
    mean,
    stddev,
    median: null,
    cv: stddev !== null && mean !== 0 ? (100 * stddev) / Math.abs(mean) : null,
    outliers: [],
    lkp_err: mean !== 0 ? (100 * lkp_sd) / mean : lkp_sd,
    fails: Number(sum),
    fails_exact: typeof sum === 'bigint' ? sum : null,
    runs,
  };
}

function all_positive(values: readonly number[]): boolean {
  for (const v of values) if (!(v > 0)) return false;
  return true;
}

function logs_in(slot: number, values: readonly number[]): Float64Array {
  const out = scratch(slot, values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.log(values[i]);
  return out;
}

/** The interval of the change from the Hodges–Lehmann shift: on log values for % changes of positive data. */
function change_ci(base: number[], head: number[], absolute: boolean, base_mean: number, alpha: number): [number, number] | null {
  if (absolute) return hodges_lehmann_ci(base, head, alpha);
  if (all_positive(base) && all_positive(head)) {
    const ci = hodges_lehmann_ci(logs_in(SLOT.log_base, base), logs_in(SLOT.log_head, head), alpha);
    return ci && [100 * Math.expm1(ci[0]), 100 * Math.expm1(ci[1])];
  }
  const ci = hodges_lehmann_ci(base, head, alpha);
  if (!ci || base_mean === 0) return null;
  const pct: [number, number] = [(100 * ci[0]) / Math.abs(base_mean), (100 * ci[1]) / Math.abs(base_mean)];
  // A metric that cannot go below 0 cannot fall by more than 100%.
  if (non_negative(base) && non_negative(head)) return [Math.max(pct[0], -100), Math.max(pct[1], -100)];
  return pct;
}

function non_negative(values: readonly number[]): boolean {
  for (const v of values) if (!(v >= 0)) return false;
  return true;
}

function verdict_of(direction: Direction | null, relative: number | null): Change['verdict'] {
  if (direction === null || relative === null || relative === 0) return null;
  return (relative > 0) === (direction === 'higher') ? 'improvement' : 'regression';
}

function all_metrics(groups: readonly Group[]): string[] {
  const seen = new Set<string>();
  for (const g of groups) for (const k of g.all.keys()) seen.add(k);
  return [...seen];
}

function summarize_groups(groups: readonly Group[]): Pick<CompareModel, 'groups' | 'common_axes' | 'compare_keys'> {
  const names = [...new Set(groups.flatMap((g) => g.axes.map(([k]) => k)))].sort((a, b) => byte_order(`${a}=`, `${b}=`));
  const value = (g: Group, k: string) => g.axes.find(([name]) => name === k)?.[1] ?? '';
  let compare_keys = names.filter((k) => groups.some((g) => value(g, k) !== value(groups[0], k)));
  // Groups alike in every axis are told apart as lkp tells them, by commit.
  if (compare_keys.length === 0 && names.includes('commit')) compare_keys = ['commit'];
  const common_axes = names.filter((k) => !compare_keys.includes(k)).map((k): [string, string] => [k, value(groups[0], k)]);
  return {
    groups: groups.map((g, i) => ({
      id: compare_keys.length ? compare_keys.map((k) => value(g, k)).join('/') : `#${i}`,
      selector: g.selector,
      path: g.path,
      axes: g.axes,
      workload: g.workload,
      complete: g.runs.filter((r) => !r.failed).length,
      failed: g.runs.filter((r) => r.failed).length,
      lkp_incomplete: g.runs.filter((r) => r.lkp_incomplete).length,
      incomplete: g.incomplete,
      manifest: g.runs.find((r) => !r.failed && r.manifest)?.manifest ?? null,
    })),
    common_axes,
    compare_keys,
  };
}

function fmt_change(c: number): string {
  return `${sprintf('%+.1f', c)}%`;
}

/**
 * The values a row compares for a group, with Ruby's view of each: complete runs (lkp's or
 * scalelab's), all runs for failure stats; a metric the manifests record as 0 is zeros.
 */
function values_of(g: Group, metric: string, failure: boolean, lkp_columns: boolean, runs: number): [number[], RubyKinds] {
  const m = failure ? g.all : lkp_columns ? g.lkp_complete : g.complete;
  const values = m.get(metric);
  if (!values) return [g.zero_stats.has(metric) || (g.profiled && metric.startsWith('perf-profile.')) ? new Array<number>(runs).fill(0) : [], NO_KINDS];
  const col = failure ? (i: number) => i : lkp_columns ? (i: number) => g.lkp_complete_cols[i] : (i: number) => g.complete_cols[i];
  // A value that was not a number was skipped: it is no 0, and no value at all.
  const skipped = g.non_numeric.at.get(metric);
  if (skipped) {
    const kept = values.map((_, i) => i).filter((i) => !skipped.has(col(i)));
    const kept_values = kept.map((i) => values[i]);
    return [kept_values, ruby_kinds(g, metric, kept_values, (i) => col(kept[i]))];
  }
  return [values, ruby_kinds(g, metric, values, col)];
}
const NO_KINDS: RubyKinds = { float: () => false, big: () => undefined };

export function build_model(groups: readonly Group[], settings: CompareSettings): CompareModel {
  const heads = groups.length - 1;
  // The tests whose stats lead the table: lkp's, and scalelab's own workloads.
  const workloads = new Set(groups.flatMap((g) => (g.runs.some((r) => r.manifest) && g.workload ? [g.workload] : [])));
  const tests = new Set([...ALL_TESTS, ...workloads]);
  const summary = summarize_groups(groups);
  const runs_complete = summary.groups.map((g) => (settings.lkp_columns ? g.complete + g.failed - g.lkp_incomplete : g.complete));
  const runs_all = summary.groups.map((g) => g.complete + g.failed);

  // Every metric: lkp's columns and the U test (the q-values need every p).
  const rows: Row[] = [];
  for (const metric of all_metrics(groups)) {
    const failure = function_stat(metric);
    let exact = !failure;
    const stats: GroupStat[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      exact &&= g.exact.has(metric);
      const runs = failure ? runs_all[i] : runs_complete[i];
      const [values, kinds] = values_of(g, metric, failure, settings.lkp_columns, runs);
      stats.push(stat_of(values, failure, runs, kinds, settings.lkp_columns));
    }
    const row: Row = { metric, failure, exact, absolute: is_absolute_change(metric), perf: is_perf_metric(metric, workloads), direction: direction_of(metric), stats, changes: [] };
    for (let h = 1; h <= heads; h++) row.changes.push(change_of(row, h));
    rows.push(row);
  }

  // q-values over the tested rows of each head; then which changes count.
  const tested: number[] = [];
  for (let h = 0; h < heads; h++) {
    const idx = rows.map((r, i) => (r.changes[h].p !== null ? i : -1)).filter((i) => i >= 0);
    tested.push(idx.length);
    const q = bh_qvalues(idx.map((i) => rows[i].changes[h].p!));
    idx.forEach((i, j) => (rows[i].changes[h].q = q[j]));
  }
  // lkp's own choice: what ncompare lists for all the groups, and for each head against the base.
  const lkp_listed = lkp_changed_stats(groups);
  const lkp_listed_set = new Set(lkp_listed);
  const per_head = heads === 1 ? [lkp_listed_set] : groups.slice(1).map((g) => new Set(lkp_changed_stats([groups[0], g])));
  const lkp_gates = (r: Row): boolean[] => per_head.map((s) => s.has(r.metric));
  for (const r of rows) {
    const floor = settings.min_change ?? (r.perf ? 1 : 5);
    r.changes.forEach((c, h) => {
      const base = r.stats[0];
      const head = r.stats[h + 1];
      if (c.test === 'failure') c.significant = Math.max(...head.values, 0) !== Math.max(...base.values, 0);
      // An exact change needs no test but is shown only when it is as large as any other shown change.
      const relevant = c.relative === null || Math.abs(c.relative) >= floor;
      if (c.test === 'exact-metric') c.significant = head.mean !== base.mean && relevant;
      else if (c.q !== null) c.significant = c.q <= settings.alpha && relevant;
      if (!c.significant) c.verdict = null;
    });
  }

  // ncompare's own order before sorting: what it listed, in the order it listed it.
  const by_metric = new Map(rows.map((r) => [r.metric, r]));
  const shown =
    settings.selection === 'all' ? rows : settings.selection === 'lkp-gates' ? lkp_listed.map((k) => by_metric.get(k)!) : rows.filter((r) => r.changes.some((c) => c.significant));
  // What only shown rows need: medians, outliers, intervals.
  for (const r of shown) complete_row(r, settings.alpha);

  return {
    ...summary,
    settings,
    metrics_total: rows.length,
    tested,
    rows: lkp_sort(shown, tests),
    headlines: summary.groups.slice(1).map((g, h) => (heads > 1 ? `${g.id}: ` : '') + headline(rows, h, settings.alpha, (r) => lkp_gates(r)[h])),
    footnotes: footnotes(groups, summary.groups, rows, shown, settings, tested, lkp_listed_set, runs_complete),
  };
}

/** A head's change against the base: lkp's number, the relative change, the test. */
function change_of(r: Row, h: number): Change {
  const base = r.stats[0];
  const head = r.stats[h];
  // Divided before scaled, so that means near the largest double give a finite change.
  const relative = base.mean !== 0 ? 100 * ((head.mean - base.mean) / Math.abs(base.mean)) : head.mean === base.mean ? 0 : null;
  if (r.failure) {
    const repro = (s: GroupStat) => (s.runs ? s.fails / s.runs : 0);
    // lkp's calc_failure_change divides head h's fails by the runs of column h−1.
    const lkp_runs = r.stats[h - 1].runs;
    const lkp_change = 100 * ((lkp_runs ? head.fails / lkp_runs : 0) - repro(base));
    return { change: 100 * (repro(head) - repro(base)), lkp_change, appeared: null, relative, ci: null, p: null, q: null, test: 'failure', significant: false, verdict: null };
  }
  // lkp's change: a base of 0 counts as 1e-100 (0 → 5 is +5e+102%, 0 → 0 is -100%).
  const avg0 = base.mean === 0 ? 1e-100 : base.mean;
  const lkp_change = r.absolute ? head.mean - base.mean : (100.0 * (head.mean - avg0)) / avg0;
  // scalelab's: no percentage from 0; 0 → 0 is no change, 0 → x is new, x → 0 is gone.
  let change: number | null = r.absolute ? lkp_change : 100 * ((head.mean - avg0) / avg0);
  let appeared: Change['appeared'] = null;
  if (!r.absolute && base.mean === 0) {
    change = head.mean === 0 ? 0 : null;
    if (head.mean !== 0) appeared = 'new';
  } else if (!r.absolute && head.mean === 0) appeared = 'gone';
  let test: TestKind = 'none';
  let p: number | null = null;
  if (base.n > 0 && head.n > 0) {
    if (r.exact) test = 'exact-metric';
    else {
      const u = mann_whitney(base.values, head.values);
      test = u.method;
      p = u.p;
    }
  }
  return { change, lkp_change, appeared, relative, ci: null, p, q: null, test, significant: false, verdict: verdict_of(r.direction, relative) };
}

function complete_row(r: Row, alpha: number): void {
  for (const s of r.stats) {
    if (s.n === 0) continue;
    s.median = median(s.values);
    if (!r.failure && !r.exact) s.outliers = outliers(s.values, s.median);
  }
  r.changes.forEach((c, h) => {
    if (c.p !== null) c.ci = change_ci(r.stats[0].values, r.stats[h + 1].values, r.absolute, r.stats[0].mean, alpha);
  });
}

/** `5:5`: lkp's fail:runs. */
function fail_runs(s: GroupStat): string {
  return `${s.fails_exact ?? s.fails}:${s.runs}`;
}

function headline(rows: readonly Row[], h: number, alpha: number, lkp_gate: (r: Row) => boolean): string {
  // A failure the base did not have is news. In every head run it is the news (the numbers of a
  // kernel that fails every time say little); in some, it follows what the numbers say.
  const failure = rows
    .filter((r) => r.failure && r.stats[0].fails === 0 && r.stats[h + 1].fails > 0)
    .sort((a, b) => b.changes[h].change! - a.changes[h].change! || Number(b.metric.endsWith('.fail')) - Number(a.metric.endsWith('.fail')))[0];
  if (!failure) return perf_headline(rows, h, alpha, lkp_gate);
  const what = `${failure.metric} ${fail_runs(failure.stats[0])} → ${fail_runs(failure.stats[h + 1])}`;
  if (failure.stats[h + 1].fails >= failure.stats[h + 1].runs) return `noticed a failure: ${what}`;
  return `${perf_headline(rows, h, alpha, lkp_gate)}; and a failure: ${what}`;
}

function perf_headline(rows: readonly Row[], h: number, alpha: number, lkp_gate: (r: Row) => boolean): string {
  const by_metric = new Map(rows.map((r) => [r.metric, r]));
  const kpi = KPI_ORDER.map((k) => by_metric.get(k)).find((r) => r && r.changes[h].test !== 'none');
  const noticed = (r: Row, how = '') => `noticed a ${sprintf('%.1f', r.changes[h].relative!)}% ${r.changes[h].verdict ?? verdict_of(r.direction, r.changes[h].relative)} of ${r.metric}${how}`;
  if (kpi?.changes[h].verdict) return noticed(kpi);
  if (kpi) {
    // With too few runs the U test cannot reach alpha at all; lkp's gates can still speak.
    const [b, x] = [kpi.stats[0].n, kpi.stats[h + 1].n];
    const c = kpi.changes[h];
    if (u_min_p(b, x) > alpha && lkp_gate(kpi) && verdict_of(kpi.direction, c.relative)) return noticed(kpi, ` (by lkp's gates: ${b}+${x} runs are too few for the U test)`);
  }
  const other = rows
    .filter((r) => r.changes[h].verdict && !r.failure)
    .sort((a, b) => Math.abs(b.changes[h].relative!) - Math.abs(a.changes[h].relative!))[0];
  if (!kpi && other) return noticed(other);
  if (kpi) {
    const c = kpi.changes[h];
    const rest = other ? `; the largest significant change is ${fmt_change(other.changes[h].relative!)} (${other.changes[h].verdict}) of ${other.metric}` : '';
    return `no significant change of ${kpi.metric} (${c.relative === null ? 'n/a' : fmt_change(c.relative)}, p=${c.p === null ? 'n/a' : sprintf('%.3f', c.p)})${rest}`;
  }
  return 'no significant change in a metric with a known direction';
}

function list(items: string[]): string {
  return items.length > LIST_MAX ? `${items.slice(0, LIST_MAX).join(', ')} and ${items.length - LIST_MAX} more` : items.join(', ');
}

function footnotes(groups: readonly Group[], summary: readonly GroupSummary[], rows: readonly Row[], shown: readonly Row[], settings: CompareSettings, tested: number[], lkp_listed: ReadonlySet<string>, runs_complete: readonly number[]): string[] {
  const notes: string[] = [];
  const alpha = settings.alpha;
  for (const g of summary) {
    const left_out = settings.lkp_columns ? g.lkp_incomplete : g.failed;
    const how = settings.lkp_columns ? "incomplete by lkp's mark" : `failed${g.lkp_incomplete < g.failed ? "; lkp ncompare counts them in every row" : ''}`;
    const parts = [g.incomplete && `${g.incomplete} incomplete run${g.incomplete > 1 ? 's' : ''} skipped`, left_out && `${left_out} run${left_out > 1 ? 's' : ''} counted only in the failure stats (${how})`].filter(Boolean);
    if (parts.length) notes.push(`${g.id}: ${parts.join('; ')}.`);
  }
  if (settings.selection === 'significant') {
    const shown_set = new Set(shown.map((r) => r.metric));
    const only_lkp = [...lkp_listed].filter((k) => !shown_set.has(k));
    const only_here = shown.filter((r) => !lkp_listed.has(r.metric)).map((r) => r.metric);
    if (only_lkp.length || only_here.length) {
      const parts = [only_lkp.length && `lists ${only_lkp.length} row${only_lkp.length > 1 ? 's' : ''} the U test does not (${list(only_lkp)})`, only_here.length && `leaves out ${only_here.length} shown here (${list(only_here)})`].filter(Boolean);
      notes.push(`lkp ncompare's own rule (--lkp-gates) ${parts.join(' and ')}.`);
    }
  }
  for (const [h, g] of summary.slice(1).entries()) {
    const [nb, nh] = [runs_complete[0], runs_complete[h + 1]];
    if (tested[h] > 0 && u_min_p(nb, nh) > alpha) {
      notes.push(`n=${nb}+${nh}${summary.length > 2 ? ` (${g.id})` : ''}: too few runs for the U test to ever reach p <= ${alpha}; it needs at least ${u_min_runs(alpha)} runs per side (only exact metrics and failures can show as changed).`);
    }
  }
  const floor = settings.min_change === null ? '1% (5% for metrics outside will-it-scale, time, sim and perf counters)' : `${settings.min_change}%`;
  const sel =
    settings.selection === 'all' ? 'every metric' : settings.selection === 'lkp-gates' ? "the metrics lkp's own gates pass" : `metrics with q <= ${alpha} and |change| >= ${floor}, and exact metrics that changed by as much`;
  notes.push(`Shown: ${sel}. p: two-sided Mann-Whitney U (exact without ties up to 50 runs a side, else normal with tie correction); q: Benjamini-Hochberg over the ${tested.join('/')} tested metrics; CI: ${Math.round(100 * (1 - alpha))}% Hodges-Lehmann interval of the change.`);
  if (shown.length === 0) notes.push(`Nothing changed significantly among ${rows.length} metrics; --all shows every one.`);

  const noisy = shown.filter((r) => !r.failure && r.stats.some((s) => s.cv !== null && s.cv > NOISE_CV)).map((r) => r.metric);
  if (noisy.length) notes.push(`High noise (CV > ${NOISE_CV}%) in ${noisy.length} shown metric${noisy.length > 1 ? 's' : ''}: ${list(noisy)}.`);
  const flagged: string[] = [];
  for (const r of shown) {
    r.stats.forEach((s, gi) => {
      const cols = settings.lkp_columns ? groups[gi].lkp_complete_cols : groups[gi].complete_cols;
      for (const i of s.outliers) flagged.push(`${r.metric} in ${summary[gi].id} run ${groups[gi].runs[cols[i]]?.name ?? i} (${sprintf('%.6g', s.values[i])})`);
    });
  }
  if (flagged.length) notes.push(`Outliers (|modified z| > 3.5; kept): ${list(flagged)}.`);
  const perf_rows = rows.filter((r) => !r.failure);
  for (const [gi, g] of summary.entries()) {
    const missing = perf_rows.filter((r) => r.stats[gi].n === 0 && r.stats.some((s) => s.n > 0)).map((r) => r.metric);
    // A group without manifests cannot tell an absent metric from one that was an Integer 0 in every run (lkp's matrix drops those).
    const why = groups[gi].runs.some((r) => r.manifest) ? '' : ' (absent, or 0 in every run)';
    if (missing.length) notes.push(`Metric sets differ: ${missing.length} metric${missing.length > 1 ? 's' : ''} missing from ${g.id}${why}: ${list(missing)}.`);
  }
  const varying = perf_rows.filter((r) => r.exact && r.stats.some((s) => s.values.some((v) => v !== s.values[0]))).map((r) => r.metric);
  if (varying.length) notes.push(`Declared exact but varying between runs: ${list(varying)}.`);
  for (const [gi, g] of groups.entries()) {
    if (g.non_numeric.count) notes.push(`${summary[gi].id}: ${g.non_numeric.count} non-numeric value${g.non_numeric.count > 1 ? 's' : ''} skipped (e.g. ${g.non_numeric.example}).`);
    if (g.damaged.length) notes.push(`${summary[gi].id}: ${g.damaged.length} damaged run${g.damaged.length > 1 ? 's' : ''} skipped (${g.damaged.join('; ')}).`);
  }
  return notes;
}

/**
 * lkp's Compare.sort_stats: failure families first, then families with fewer rows, every lkp
 * test's own at 0; by key (perf-profile by its first two parts); then by change. Stable, as
 * Ruby's sort_by is with glibc, so ties keep ncompare's listing order.
 */
function lkp_sort(rows: Row[], tests: ReadonlySet<string>): Row[] {
  const count = new Map<string, number>();
  for (const r of rows) {
    const b = stat_key_base(r.metric);
    count.set(b, (count.get(b) ?? (r.failure ? -10_000 : 0)) + 1);
  }
  for (const t of tests) if ((count.get(t) ?? 0) > 0) count.set(t, 0);
  const sort_key = (r: Row) => (stat_key_base(r.metric) === 'perf-profile' ? r.metric.split('.').slice(0, 2).join('.') : r.metric);
  const keyed = rows.map((r) => ({ r, a: count.get(stat_key_base(r.metric))!, b: sort_key(r), c: r.changes.map((x) => x.lkp_change) }));
  keyed.sort((x, y) => {
    if (x.a !== y.a) return x.a - y.a;
    const by_key = byte_order(x.b, y.b);
    if (by_key !== 0) return by_key;
    for (let i = 0; i < x.c.length; i++) if (x.c[i] !== y.c[i]) return x.c[i] - y.c[i];
    return 0;
  });
  return keyed.map((k) => k.r);
}
