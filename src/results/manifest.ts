// What a run was: enough to reproduce it and to select it later (workload, parameters, the
// resolved kernel configuration and its hash, the project commit, the host).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ResolvedConfig } from '../kernel/config.ts';

export interface ProjectCommit {
  /** Twelve hex digits, with `-dirty` when the work tree has changes; `nogit` outside git. */
  id: string;
  sha: string | null;
  dirty: boolean;
}

export function project_commit(root: string): ProjectCommit {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const dirty = status.trim() !== '';
    return { id: sha.slice(0, 12) + (dirty ? '-dirty' : ''), sha, dirty };
  } catch {
    return { id: 'nogit', sha: null, dirty: false };
  }
}

export function tool_version(root: string): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The parent process's address space as the manifest records it. */
export interface LayoutRecord {
  kind: 'maps' | 'synthetic';
  /** The capture's file name, or `synthetic:key=N,...`. */
  name: string;
  /** The capture's sha256; null for the synthetic recipe. */
  sha256: string | null;
}

export interface Manifest {
  tool: { name: 'scalelab'; version: string };
  workload: string;
  description: string;
  params: Record<string, unknown>;
  label: string | null;
  mode: string;
  tasks: number[];
  nr_cpus: number;
  mem_mb: number;
  duration_s: number;
  warmup: number;
  interval_s: number;
  seed: number;
  /** The monitors that ran (absent in older runs: their time.* described the host). */
  monitors?: string[];
  /** perf-profile's sampling interval in µs, null when it did not run; it perturbs, so it is part of the experiment. */
  profile_interval_us?: number | null;
  /** The parent process's address space: a replayed capture (with its digest) or the synthetic recipe. */
  layout: LayoutRecord;
  kernel: { preset: string; id: string; hash: string; overrides: ResolvedConfig['overrides']; knobs: ResolvedConfig['knobs'] };
  /** Metrics that are exact (same value for the same seed): compared without a statistical test. */
  exact_metrics: string[];
  /** Metrics that were 0, left out of stats.json as lkp's dump-stat leaves them out (absent in older runs). */
  zero_stats?: string[];
  commit: ProjectCommit;
  host: { node: string; cpu_model: string; cpus: number; platform: string };
  started: string;
  finished: string | null;
  status: 'complete' | 'failed' | 'interrupted';
}

export function host_info(): Manifest['host'] {
  return {
    node: process.version,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    cpus: availableParallelism(),
    platform: `${process.platform}-${process.arch}`,
  };
}

/**
 * What makes runs one experiment, as lkp's path params do: every input that changes the results.
 * The kernel's resolved configuration is its hash; the project commit is the group's last level.
 * Values are text, so that manifests written by older versions compare as they read.
 */
export type ExperimentFields = Pick<Manifest, 'workload' | 'params' | 'mode' | 'tasks' | 'nr_cpus' | 'mem_mb' | 'layout' | 'duration_s' | 'interval_s' | 'warmup' | 'seed' | 'profile_interval_us'> & {
  kernel: Pick<Manifest['kernel'], 'hash'>;
  commit: Pick<ProjectCommit, 'id'>;
};

export function group_identity(m: ExperimentFields): Record<string, string> {
  return {
    workload: m.workload,
    params: JSON.stringify(Object.entries(m.params ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))),
    mode: m.mode,
    tasks: m.tasks.join(','),
    cpus: String(m.nr_cpus),
    mem_mb: String(m.mem_mb),
    kernel: m.kernel.hash,
    layout: m.layout ? `${m.layout.name}${m.layout.sha256 ? `@${m.layout.sha256.slice(0, 12)}` : ''}` : 'unrecorded',
    duration_s: String(m.duration_s),
    interval_s: String(m.interval_s),
    warmup: String(m.warmup),
    seed: String(m.seed),
    perf_profile: m.profile_interval_us ? `${m.profile_interval_us} us` : 'off',
    commit: m.commit.id,
  };
}

/** How two experiments differ: `duration_s 2 ≠ 1`, one item per axis, empty when they are one. */
export function identity_differences(mine: Record<string, string>, theirs: Record<string, string>): string[] {
  return Object.keys(mine).filter((k) => mine[k] !== theirs[k]).map((k) => `${k} ${mine[k]} ≠ ${theirs[k] ?? '(none)'}`);
}
