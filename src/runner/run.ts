// One run: the sweep over task counts and modes (runtest.py's order: for each task count, the
// process point, then the thread point), then the run's stats and printed output.

import { CSV_HEAD, csv_rows, dmesg_stat, format_csv_row, measured_per, parse_will_it_scale, sim_stats, stderr_stats } from './metrics.ts';
import { run_point, type ParentShape, type PointHooks, type PointResult, type PointSpec, type StopSignal } from './point.ts';
import { probe_workload } from './probe.ts';
import type { TaskPool } from './pool.ts';
import { find_monitor } from '../monitors/index.ts';
import type { Mode, ThroughputWorkload } from './workload.ts';

/** A sweep: a point's settings, for every task count and mode. */
export interface RunSpec extends Omit<PointSpec, 'mode' | 'nr_tasks'> {
  /** The workload's name (scenario metrics are stored under it). */
  name: string;
  modes: readonly Mode[];
  tasks: readonly number[];
  /** The monitors whose stats the run reports (src/monitors). */
  monitors: readonly string[];
}

export interface RunResult {
  points: PointResult[];
  stats: Record<string, number>;
  /** Everything the run printed, kernel log included. */
  output: string;
  failed: boolean;
  interrupted: boolean;
}

export interface RunHooks {
  /** A line of output as it happens (the run also keeps it). */
  log(line: string): void;
  /** Before each point: its index, the number of points, and its mode and task count. */
  point?(index: number, count: number, mode: Mode, nr_tasks: number): void;
  progress?(taken: number): void;
  /** After each point. */
  point_done?(): void;
  /** A point's error, as it happens (also kept in the output): the CLI puts it on stderr. */
  error?(line: string): void;
  /** A line of detail (a sim.* counter): kept in the output, shown with --verbose. */
  detail?(line: string): void;
}

/** The points of a sweep, in runtest.py's order. */
export function sweep_points(tasks: readonly number[], modes: readonly Mode[]): Array<{ mode: Mode; nr_tasks: number }> {
  const out: Array<{ mode: Mode; nr_tasks: number }> = [];
  for (const nr_tasks of tasks) for (const mode of ['process', 'thread'] as const) if (modes.includes(mode)) out.push({ mode, nr_tasks });
  return out;
}

function describe_parent(p: ParentShape): string {
  return `${plural(p.vmas, 'VMA')}; maple tree of height ${p.tree.height}, ${plural(p.tree.nodes, 'node')}, leaves of ${p.tree.leaves.join(',')} entries`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Operations the per-op probe runs before it counts, and counts. */
const PROBE_WARMUP_OPS = 1000;
const PROBE_OPS = 10000;

// The run's `sim.*_per_op`: one task of the first point's mode, on the calling thread, with a
// modeled clock; the timed points' counters would mix in start-up, warm-up and stop.
function probe_per_op(spec: RunSpec, mode: Mode, log: (line: string) => void): Map<string, number> {
  const t = performance.now();
  const r = probe_workload(spec.config, spec.layout, spec.workload as ThroughputWorkload, PROBE_WARMUP_OPS, PROBE_OPS, mode, spec.params);
  log(`# per-op probe: 1 ${mode} task, ${PROBE_WARMUP_OPS} + ${PROBE_OPS} operations, ${(performance.now() - t).toFixed(0)} ms`);
  return r.per_op;
}

export async function run_sweep(spec: RunSpec, pool: TaskPool, hooks: RunHooks, signal: StopSignal): Promise<RunResult> {
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    hooks.log(line);
  };
  const t0 = performance.now();
  log(`testcase:${spec.workload.description}`);

  const plan = sweep_points(spec.tasks, spec.modes);
  const points: PointResult[] = [];
  const point_hooks: PointHooks = { log, progress: hooks.progress };
  const throughput = spec.workload.kind === 'throughput';
  // runtest.py prints its CSV as it goes: the head first, a row once a task count's points are done.
  const csv: string[] = throughput ? [...CSV_HEAD] : [];
  for (const line of csv) log(line);
  for (const [i, { mode, nr_tasks }] of plan.entries()) {
    if (signal.stopped) break;
    hooks.point?.(i, plan.length, mode, nr_tasks);
    log(`# ${mode} mode, ${plural(nr_tasks, 'task')} on ${plural(spec.nr_cpus, 'CPU')}`);
    const p = await run_point({ ...spec, mode, nr_tasks }, pool, point_hooks, signal);
    hooks.point_done?.();
    points.push(p);
    for (const l of p.output) log(l.line);
    if (throughput && p.errors.length === 0 && !p.interrupted) log(`average:${p.average}`);
    for (const e of p.errors) {
      log(`error: ${e}`);
      hooks.error?.(`${mode} mode, ${plural(nr_tasks, 'task')}: ${e}`);
    }
    log(`# set-up ${p.setup_ms.toFixed(0)} ms, tear-down ${p.teardown_ms.toFixed(0)} ms`);
    if (i === 0) log(`# parent (${spec.layout.name}): ${describe_parent(p.parent)}`);
    if (throughput && !p.interrupted && plan[i + 1]?.nr_tasks !== nr_tasks) {
      const row = format_csv_row(csv_rows(points).find((r) => r.tasks === nr_tasks)!);
      csv.push(row);
      log(row);
    }
  }

  const stats: Record<string, number> = {};
  if (throughput) {
    for (const [k, v] of Object.entries(parse_will_it_scale(csv.join('\n')))) stats[`will-it-scale.${k}`] = v;
  }
  // A scenario's metrics, or a throughput workload's background tasks': per point, and averaged
  // over the points that ran (a failed point has no metrics to average in).
  const sums: Record<string, number> = {};
  const ran = points.filter((p) => p.errors.length === 0);
  for (const p of ran) {
    for (const [k, v] of Object.entries(p.metrics)) {
      stats[`${spec.name}.${p.nr_tasks}.${p.mode}.${k}`] = v;
      sums[k] = (sums[k] ?? 0) + v / ran.length;
    }
  }
  for (const [k, v] of Object.entries(sums)) stats[`${spec.name}.${k}`] = v;
  // A tool's own stats (perf-stat.*), averaged over the points that made them.
  const tool_sums: Record<string, number[]> = {};
  for (const p of ran) for (const [k, v] of Object.entries(p.tool_stats)) (tool_sums[k] ??= []).push(v);
  for (const [k, vs] of Object.entries(tool_sums)) stats[k] = vs.reduce((a, b) => a + b, 0) / vs.length;
  // lkp's stats/stderr: what the tasks wrote to stderr, over every point (a failed one's too)
  Object.assign(stats, stderr_stats(points.flatMap((p) => p.output.filter((l) => l.stream === 'stderr').map((l) => l.line))));
  const failed = points.some((p) => p.errors.length > 0);
  // lkp's marks of a run whose test failed: the test's own fail stat, and last_state.exit_fail (the program exited non-zero).
  if (failed) {
    stats['will-it-scale.fail'] = 1;
    stats['last_state.exit_fail'] = 1;
  }
  const elapsed_s = (performance.now() - t0) / 1000;
  for (const name of spec.monitors) Object.assign(stats, find_monitor(name)!.stats({ points, elapsed_s }));
  // The probe runs the loop alone; with background tasks the counters that matter are theirs, so
  // per op is measured over the points instead (not exact), and per background pass as well.
  const background = spec.workload.kind === 'throughput' ? spec.workload.background : undefined;
  const probed = spec.workload.kind === 'throughput' && !background && !failed && !signal.stopped && plan.length > 0;
  const per_op = probed ? probe_per_op(spec, plan[0].mode, log) : background && !failed ? measured_per(points, (p) => p.ops) : new Map<string, number>();
  Object.assign(stats, sim_stats(points, per_op));
  if (background && !failed) {
    for (const [k, v] of measured_per(points, (p) => p.background_counts)) stats[`${k}_per_${background.pass}`] = v;
  }

  const kernel_messages = points.flatMap((p) => p.kernel_log);
  for (const m of new Set(kernel_messages)) stats[dmesg_stat(m)] = 1;
  for (const [k, v] of Object.entries(stats)) {
    if (!k.startsWith('sim.')) log(`${k}: ${v}`);
    else if (v !== 0) {
      lines.push(`${k}: ${v}`);
      hooks.detail?.(`${k}: ${v}`);
    }
  }
  for (const m of kernel_messages) log(`kernel: ${m}`);
  const interrupted = signal.stopped;
  return { points, stats, output: lines.join('\n') + '\n', failed, interrupted };
}
