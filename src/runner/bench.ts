// `npm run bench`: run a workload --runs times and store each run in the result root.

import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { KNOBS, PRESETS, DEFAULT_PRESET } from '../kernel/config.ts';
import { group_dir } from '../results/layout.ts';
import { StoreError } from '../results/atomic.ts';
import { ResultsError, abandon_run, begin_run, check_group_identity, finish_run, lkp_stats, make_dirs, update_matrix } from '../results/store.ts';
import { host_info, project_commit, tool_version, type ExperimentFields, type Manifest } from '../results/manifest.ts';
import { PROJECT_ROOT, worker_build } from './build.ts';
import { TaskPool } from './pool.ts';
import { ProgressBar } from './progress.ts';
import { MONITORS } from '../monitors/index.ts';
import { UnknownWorkloadError, find_workload, list_workloads, load_workload } from './registry.ts';
import { run_sweep } from './run.ts';
import type { StopSignal } from './point.ts';
import { EXPERIMENT_DEFAULTS, UsageError, type BenchOptions } from './options.ts';
import { exact_metrics, resolve_params, type Params, type Workload } from './workload.ts';
import { check_layout, layout_path_param, layout_record } from './layout.ts';

export interface BenchIO {
  /** Standard output (results, unless --json). */
  out(text: string): void;
  err(text: string): void;
  /** Standard output is a terminal: show a progress bar there. */
  tty: NodeJS.WriteStream | null;
}

export interface BenchSummary {
  workload: string;
  kernel: string;
  resultDir: string;
  runDirs: string[];
  stats: Record<string, number>;
}

/** A workload file that cannot be loaded, in one line. */
function load_error(file: string, e: unknown): string {
  const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  return message.startsWith(file) ? message : `${file}: cannot load the workload: ${message}`;
}

/** --list: workloads, presets, knobs; a workload file that does not load is listed as such and reported by `report`. */
export async function list_text(report: (line: string) => void = () => {}): Promise<string> {
  const lines = ['workloads:'];
  for (const e of list_workloads()) {
    let w;
    try {
      w = await load_workload(e.file);
    } catch (err) {
      lines.push(`  ${e.name.padEnd(16)} (does not load; see stderr)`);
      report(load_error(e.file, err));
      continue;
    }
    lines.push(`  ${e.name.padEnd(16)} ${w.kind.padEnd(10)} ${w.description}`);
    for (const [k, p] of Object.entries(w.params ?? {})) lines.push(`      --param ${k}=${p.default}  ${p.description}`);
  }
  lines.push('', 'kernel presets (--kernel):');
  for (const p of PRESETS) {
    lines.push(`  ${p.name.padEnd(16)} ${p.description}${p.name === DEFAULT_PRESET ? ' [default]' : ''}`);
    if (p.unmodeled) lines.push(`      not modeled, as the newest kernel: ${p.unmodeled}`);
  }
  lines.push('', 'monitors (--monitor):');
  for (const m of MONITORS) lines.push(`  ${m.name.padEnd(16)} ${m.description}${m.default ? ' [default]' : ''}`);
  lines.push('', 'knobs (--set key=value):');
  for (const k of KNOBS) {
    const values = k.type === 'enum' ? k.values.join('|') : k.type === 'bool' ? '0|1' : k.choices ? k.choices.join('|') : `${k.min}..${k.max}`;
    const presets = PRESETS.filter((p) => k.key in p.knobs).map((p) => `${p.name}=${p.knobs[k.key]}`);
    lines.push(`  ${k.key.padEnd(22)} ${values}  default ${k.default}${presets.length ? ` (${presets.join(', ')})` : ''}`);
    lines.push(`      ${k.description}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * A group directory's parameters, from the resolved experiment (lkp's path params): the workload
 * parameters off their default, the simulated CPU count always (a default that follows the host
 * would name two machines alike), then memory, measurement and seed off their default, and a
 * parent other than the shipped capture. Equal experiments get equal names, whatever the spelling
 * of the flags (`--tasks 2,1` and `100%` on 2 CPUs are `1,2`).
 */
function experiment_path_params(o: BenchOptions, workload: Workload, params: Params): Array<[string, string | number | boolean]> {
  const out: Array<[string, string | number | boolean]> = [];
  for (const [k, spec] of Object.entries(workload.params ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) if (params[k] !== spec.default) out.push([k, params[k]]);
  out.push(['cpus', o.nr_cpus]);
  const d = EXPERIMENT_DEFAULTS;
  if (o.mem_mb !== d.mem_mb) out.push(['mem', o.mem_mb]);
  if (o.duration_s !== d.duration_s) out.push(['duration', o.duration_s]);
  if (o.interval_s !== d.interval_s) out.push(['interval', o.interval_s]);
  if (o.warmup !== d.warmup) out.push(['warmup', o.warmup]);
  if (o.seed !== d.seed) out.push(['seed', o.seed]);
  if (o.profile_interval_us !== null) out.push(['perf_profile', `${o.profile_interval_us}us`]);
  const layout = layout_path_param(o.layout);
  if (layout) out.push(['layout', layout]);
  return out;
}

/** A store write that failed (a full disk) is bad ground to run on, not a failed workload: one line, exit 2. */
function store(write: () => unknown, dir: string): void {
  try {
    write();
  } catch (e) {
    if (e instanceof StoreError) throw new UsageError(`${e.message}; ${dir} is left marked incomplete`);
    throw e;
  }
}

function check_writable(root: string): void {
  try {
    make_dirs(root);
    if (!statSync(root).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(root, constants.W_OK);
  } catch (e) {
    throw new UsageError(`results directory ${root} is not writable (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
}

/** Returns the process exit code: 0, 1 when a run failed, 128 + the signal's number when stopped (130 Ctrl-C, 143 SIGTERM). */
export async function bench(o: BenchOptions, io: BenchIO, signal: StopSignal): Promise<number> {
  let entry;
  try {
    entry = find_workload(o.workload);
  } catch (e) {
    if (e instanceof UnknownWorkloadError) throw new UsageError(e.message);
    throw e;
  }
  let workload;
  try {
    workload = await load_workload(entry.file);
  } catch (e) {
    throw new UsageError(load_error(entry.file, e));
  }
  let params;
  try {
    params = resolve_params(workload, o.params);
  } catch (e) {
    throw new UsageError(`--param: ${(e as Error).message}`);
  }
  const nr_background = workload.kind === 'throughput' ? (workload.background?.tasks(params) ?? 0) : 0;
  const most = Math.max(...o.tasks);
  if (most + nr_background > o.nr_cpus) {
    throw new UsageError(`${entry.name}: ${most} tasks and ${nr_background} background task${nr_background === 1 ? '' : 's'} need ${most + nr_background} CPUs, --cpus is ${o.nr_cpus} (each has a CPU of its own; try --tasks ${Math.max(1, o.nr_cpus - nr_background)})`);
  }
  const root = resolve(o.results);
  check_writable(root);
  check_layout(o.layout);

  const human = !o.quiet;
  const say = (line: string) => (o.json ? io.err(`${line}\n`) : io.out(`${line}\n`));
  const bar = human && !o.json && io.tty ? new ProgressBar(o.interval_s, io.tty) : null;
  const log = (line: string) => {
    if (!human) return;
    if (bar) bar.log(line);
    else say(line);
  };

  const commit = project_commit(PROJECT_ROOT);
  const experiment: ExperimentFields = {
    workload: entry.name,
    params,
    mode: o.mode,
    tasks: o.tasks,
    nr_cpus: o.nr_cpus,
    mem_mb: o.mem_mb,
    layout: layout_record(o.layout),
    duration_s: o.duration_s,
    interval_s: o.interval_s,
    warmup: o.warmup,
    seed: o.seed,
    profile_interval_us: o.profile_interval_us,
    kernel: o.config,
    commit,
  };
  const group = group_dir(root, { workload: entry.name, mode: o.mode, tasks: o.tasks.join(','), params: experiment_path_params(o, workload, params), kernel_id: o.config.id, commit: commit.id });
  try {
    check_group_identity(group, experiment);
  } catch (e) {
    if (e instanceof ResultsError) throw new UsageError(e.message);
    throw e;
  }
  if (human && o.config.same_as) io.err(`bench: note: ${o.config.same_as} is ${o.config.preset}'s kernel exactly: its runs go to ${o.config.preset}'s group\n`);
  if (human) for (const s of o.config.noop_sets) io.err(`bench: note: --set ${s} is ${o.config.preset}'s own value: the same kernel, the same group\n`);

  const build = await worker_build([entry.file]);
  const pool = new TaskPool(build.worker);
  const run_dirs: string[] = [];
  let last_stats: Record<string, number> = {};
  let failed = false;
  try {
    for (let r = 0; r < o.runs && !signal.stopped; r++) {
      let dir: string;
      try {
        dir = begin_run(group);
      } catch (e) {
        if (e instanceof ResultsError || e instanceof StoreError) throw new UsageError(e.message);
        throw e;
      }
      run_dirs.push(dir);
      const started = new Date().toISOString();
      if (o.runs > 1) log(`# run ${r + 1}/${o.runs} → ${dir}`);
      const result = await run_sweep(
        {
          name: entry.name,
          workload,
          workload_built: build.built(entry.file),
          params,
          modes: o.modes,
          tasks: o.tasks,
          nr_cpus: o.nr_cpus,
          mem_mb: o.mem_mb,
          config: o.config,
          layout: o.layout,
          warmup: o.warmup,
          samples: o.samples,
          interval_s: o.interval_s,
          seed: o.seed,
          monitors: o.monitors,
          profile_interval_us: o.profile_interval_us,
        },
        pool,
        {
          log,
          point: (i, n, mode, nr_tasks) => bar?.point(i, n, mode, nr_tasks, workload.kind === 'throughput' ? o.warmup + o.samples : 1),
          progress: (taken) => bar?.progress(taken),
          point_done: () => bar?.end_point(),
          // Errors go to stderr always, --quiet or not, beside the progress bar if there is one.
          error: (line) => io.err(`bench: error: ${line}\n`),
          detail: (line) => o.verbose && log(line),
        },
        signal,
      );
      const written = lkp_stats(result.stats);
      const manifest: Manifest = {
        tool: { name: 'scalelab', version: tool_version(PROJECT_ROOT) },
        workload: entry.name,
        description: workload.description,
        params,
        label: o.label,
        mode: o.mode,
        tasks: o.tasks,
        nr_cpus: o.nr_cpus,
        mem_mb: o.mem_mb,
        duration_s: o.duration_s,
        warmup: o.warmup,
        interval_s: o.interval_s,
        seed: o.seed,
        monitors: o.monitors,
        profile_interval_us: o.profile_interval_us,
        layout: experiment.layout,
        kernel: { preset: o.config.preset, id: o.config.id, hash: o.config.hash, overrides: o.config.overrides, knobs: o.config.knobs },
        exact_metrics: exact_metrics(workload, Object.keys(result.stats)),
        zero_stats: written.zero_stats,
        commit,
        host: host_info(),
        started,
        finished: new Date().toISOString(),
        status: result.interrupted ? 'interrupted' : result.failed ? 'failed' : 'complete',
      };
      if (result.interrupted) {
        store(() => abandon_run(dir, result.output, manifest), dir);
        log(`interrupted: ${dir} kept as incomplete`);
        break;
      }
      store(() => finish_run(dir, { output: result.output, manifest, stats: written.stats }), dir);
      try {
        update_matrix(group, { dir, stats: written.stats });
      } catch (e) {
        // The run itself is stored and complete; only the group's index is behind (the next bench or compare reads the runs).
        if (e instanceof StoreError) throw new UsageError(`${e.message}; ${dir} is stored, but matrix.json does not list it yet (the next bench into the group rebuilds it)`);
        throw e;
      }
      last_stats = result.stats;
      failed ||= result.failed;
      log(`# stored ${dir}`);
    }
  } finally {
    bar?.end_point();
    await pool.destroy();
  }
  if (o.json) {
    const summary: BenchSummary = { workload: entry.name, kernel: o.config.id, resultDir: group, runDirs: run_dirs, stats: last_stats };
    io.out(`${JSON.stringify(summary)}\n`);
  }
  if (signal.stopped) return signal.exit_code ?? 130;
  return failed ? 1 : 0;
}
