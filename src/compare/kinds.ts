// What kind of metric a key names, by lkp's conventions and scalelab's additions: failure stats
// (their own block), absolute changes (percentage points), "perf metrics" (a 1% change matters,
// others need 5%), and which direction is better.

/** lkp's etc/failure and etc/pass, reduced to the families that appear in will-it-scale results. */
export const FAILURE_PREFIX = /^(dmesg|kmsg|last_state|stderr)\./;
const FAILURE_SUFFIX = /\.(fail|pass|error|warn)$/;

/** A failure (functional) stat: shown as fail:runs, never averaged. lkp's __function_stat?. */
export function is_failure_stat(key: string): boolean {
  if (key.includes('.time.') || key.includes('.timestamp:') || key.includes('.bootstage:')) return false;
  return FAILURE_PREFIX.test(key) || FAILURE_SUFFIX.test(key) || /assert/i.test(key);
}

/** lkp's $stat_absolute_changes: the change is a difference, not a percentage. */
export function is_absolute_change(key: string): boolean {
  return key.startsWith('perf-profile') || key.endsWith('%');
}

// lkp's etc/perf-metrics-prefixes and perf_metric? patterns, plus scalelab's own counters.
const PERF_PREFIXES = ['perf-stat.', 'proc-vmstat.', 'vmstat.cpu.', 'iostat.', 'turbostat.PkgTmp', 'turbostat.%Busy', 'sim.', 'will-it-scale.'];

/** A metric where a 1% change is worth showing (lkp's perf_metric?); `tests` are the workloads' own stat bases. */
export function is_perf_metric(key: string, tests: ReadonlySet<string>): boolean {
  if (PERF_PREFIXES.some((p) => key.startsWith(p))) return true;
  if (/^(.*\.)?time\..+/.test(key) || /^lock_stat\..*\.contentions/.test(key)) return true;
  return tests.has(key.slice(0, key.indexOf('.')));
}

export type Direction = 'higher' | 'lower';

// Which way is better; a metric not listed has no direction (no improvement/regression verdict).
const DIRECTIONS: [RegExp, Direction][] = [
  [/^will-it-scale\.(per_process_ops|per_thread_ops|workload|scalability)$/, 'higher'],
  [/^will-it-scale\.\d+\.(processes|threads)$/, 'higher'],
  [/^time\.(elapsed_time|user_time|system_time|voluntary_context_switches|involuntary_context_switches|maximum_resident_set_size)$/, 'lower'],
  [/^sim\..*_per_op$/, 'lower'], // kernel work per operation
  [/^sim\.lock\..*\.contended$/, 'lower'],
  [/^perf-stat\.overall\.path-length$/, 'lower'], // instructions per operation
];

export function direction_of(key: string): Direction | null {
  for (const [re, d] of DIRECTIONS) if (re.test(key)) return d;
  return null;
}

/** The metrics a headline is about, most important first (lkp's KPIs for will-it-scale). */
export const KPI_ORDER = ['will-it-scale.per_process_ops', 'will-it-scale.per_thread_ops', 'will-it-scale.workload'];
