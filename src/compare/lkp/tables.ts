// lkp-tests' tables, read from data/lkp-tests/ (written by scripts/lkp-tables.ts from an
// lkp-tests checkout; each file names its commit), and the predicates lkp builds on them:
// function_stat? (lib/stats.rb), LKP::PerfMetrics (lib/perf_metrics.rb), bisectable_stat? and the
// report allowlist (lib/lkp_pattern.rb), reasonable_perf_change? and LKP::Programs.all_tests_set.
// Every pattern is a Ruby regex, read through ruby_regex.

import { readFileSync } from 'node:fs';
import { ruby_regex } from './ruby_regex.ts';

function table<T>(name: string): T & { lkp_tests: string; source: string } {
  return JSON.parse(readFileSync(new URL(`../../../data/lkp-tests/${name}.json`, import.meta.url), 'utf8'));
}

type Patterns = { patterns: string[] };
const failure = table<Patterns>('failure');
const pass = table<Patterns>('pass');
const stat_denylist = table<Patterns>('stat-denylist');
const stat_allowlist = table<Patterns>('stat-allowlist');
const report_allowlist = table<Patterns>('report-allowlist');
const perf_metrics_patterns = table<Patterns>('perf-metrics-patterns');
const perf_metrics_prefixes = table<{ prefixes: string[] }>('perf-metrics-prefixes');
const linux_test_cases = table<{ testcases: string[] }>('linux-test-cases');
const other_test_cases = table<{ testcases: string[] }>('other-test-cases');
const thresholds = table<{ thresholds: { pattern: string; value: number; integer: boolean }[] }>('perf-metrics-threshold');

interface Program {
  scripts: string[];
  executable: string[];
  options: [string, string][];
}
const programs = table<{ programs: Record<string, Program>; wrapper_options: [string, string][]; dwrapper_options: [string, string][] }>('programs');

/** The lkp-tests commit the tables come from. */
export const LKP_TESTS_COMMIT = failure.lkp_tests;

/** Every table file with its commit, for the test that checks they agree. */
export const TABLE_COMMITS = [failure, pass, stat_denylist, stat_allowlist, report_allowlist, perf_metrics_patterns, perf_metrics_prefixes, linux_test_cases, other_test_cases, thresholds, programs].map((t) => [t.source, t.lkp_tests]);

/** Every regex source the tables hold, for the test that checks JavaScript reads them as Ruby does. */
export const ALL_PATTERNS: string[] = [failure, pass, stat_denylist, stat_allowlist, report_allowlist, perf_metrics_patterns].flatMap((t) => t.patterns).concat(thresholds.thresholds.map((t) => t.pattern));

const anchored = (p: string[]) => p.map((s) => ruby_regex(`^${s}`));
const FAILURE_RES = anchored(failure.patterns);
const PASS_RES = anchored(pass.patterns);

/** LKP::Pattern#contain?: the lines joined into one alternation, matched anywhere. */
function pattern_set(t: Patterns): RegExp | null {
  return t.patterns.length ? ruby_regex(`(${t.patterns.join('|')})`) : null;
}
const DENY = pattern_set(stat_denylist);
const ALLOW = pattern_set(stat_allowlist);
const REPORT_ALLOW = pattern_set(report_allowlist);
const PERF_PATTERNS = pattern_set(perf_metrics_patterns);

function cached(f: (key: string) => boolean): (key: string) => boolean {
  const cache = new Map<string, boolean>();
  return (key) => {
    let v = cache.get(key);
    if (v === undefined) cache.set(key, (v = f(key)));
    return v;
  };
}

/** lkp's function_stat?: a failure (functional) stat, shown as fail:runs. */
export const function_stat = cached((k) => {
  if (k.includes('.time.') || k.includes('.timestamp:') || k.includes('.bootstage:')) return false;
  return FAILURE_RES.some((re) => re.test(k)) || PASS_RES.some((re) => re.test(k));
});

/** lkp's bisectable_stat? (allowlisted, or not denylisted) or on the report allowlist: a stat ncompare may show by default. */
export function reportable_stat(k: string): boolean {
  if (ALLOW?.test(k)) return true;
  return !DENY?.test(k) || !!REPORT_ALLOW?.test(k);
}

function names_with(...scripts: string[]): Set<string> {
  return new Set(Object.entries(programs.programs).filter(([, p]) => scripts.some((s) => p.scripts.includes(s))).map(([n]) => n));
}
function names_executable(script: string): Set<string> {
  return new Set(Object.entries(programs.programs).filter(([, p]) => p.executable.includes(script)).map(([n]) => n));
}

/** LKP::Programs.all_tests_set: programs with a run script, and daemons. */
export const ALL_TESTS: ReadonlySet<string> = new Set([...names_with('run'), ...names_executable('daemon')]);

// lib/perf_metrics.rb: etc/perf-metrics-prefixes, plus "<test>." for every test with a parser
// that is neither a functional test nor an "other" test.
const FUNCTIONAL = new Set([...linux_test_cases.testcases, ...other_test_cases.testcases]);
const PARSED = names_with('parse');
const PERF_PREFIXES = [...perf_metrics_prefixes.prefixes, ...[...ALL_TESTS].filter((t) => PARSED.has(t) && !FUNCTIONAL.has(t)).map((t) => `${t}.`)];

/** lkp's perf_metric?: a stat where a 1% change is worth showing (5% elsewhere). */
export const perf_metric = cached((k) => !!PERF_PATTERNS?.test(k) || PERF_PREFIXES.some((p) => k.startsWith(p)));

const THRESHOLDS = thresholds.thresholds.map((t) => ({ re: ruby_regex(`^${t.pattern}$`), value: t.value, integer: t.integer }));

/** lkp's reasonable_perf_change?: etc/perf-metrics-threshold.yaml first, then its built-in floors. */
export function reasonable_perf_change(name: string, delta: number, max: number): boolean {
  for (const t of THRESHOLDS) {
    if (!t.re.test(name)) continue;
    if (max < t.value) return false;
    // An Integer threshold halves by integer division.
    if (t.integer && delta < Math.floor(t.value / 2)) return false;
    return true;
  }
  if (/^iostat/.test(name)) return max > 1;
  if (/^(pagetypeinfo|buddyinfo|slabinfo)/.test(name)) return delta > 100;
  if (/^proc-vmstat/.test(name) || /meminfo/.test(name)) return max > 1000;
  if (/^lock_stat/.test(name)) return delta > (/time/.test(name) ? 1_000 : 10_000);
  if (/^(interrupts|softirqs)/.test(name)) return max > 10_000;
  return true;
}

/** lkp's stat_key_base: the part before the first dot. */
export function stat_key_base(k: string): string {
  const dot = k.indexOf('.');
  return dot < 0 ? k : k.slice(0, dot);
}

/** For Job#axes: the workload-element programs (setup, tests, daemons) with their options, the monitors, the wrappers' options. */
export const WORKLOAD_ELEMENTS: ReadonlyMap<string, [string, string][]> = new Map(
  Object.entries(programs.programs)
    .filter(([, p]) => ['setup', 'run', 'daemon'].some((s) => p.executable.includes(s)))
    .map(([n, p]) => [n, p.options]),
);
/** available_programs(:monitors): programs with a monitor, no-stdout-monitor, one-shot-monitor or plain-monitor. */
export const MONITORS: ReadonlySet<string> = new Set(['monitor', 'no-stdout-monitor', 'one-shot-monitor', 'plain-monitor'].flatMap((s) => [...names_executable(s)]));
export const WRAPPER_OPTIONS: [string, string][] = [...programs.wrapper_options, ...programs.dwrapper_options];
