// What kind of metric a key names, by lkp's conventions and scalelab's additions: absolute
// changes (percentage points), "perf metrics" (a 1% change matters, others need 5%), and which
// direction is better. (Failure stats are lkp's function_stat?, in lkp/tables.ts.)

import { perf_metric, stat_key_base } from './lkp/tables.ts';

/** lkp's $stat_absolute_changes: the change is a difference, not a percentage. */
export function is_absolute_change(key: string): boolean {
  return key.startsWith('perf-profile') || key.endsWith('%');
}

/**
 * A metric where a 1% change is worth showing (5% otherwise), for the U-test rows: lkp's
 * perf_metric?, scalelab's kernel counters (sim.*), and the workloads' own stats (`tests`, their
 * stat bases). lkp's own gates use perf_metric? alone.
 */
export function is_perf_metric(key: string, tests: ReadonlySet<string>): boolean {
  return perf_metric(key) || key.startsWith('sim.') || tests.has(stat_key_base(key));
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
