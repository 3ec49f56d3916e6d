// Selectors: which runs a command-line word means. A path is read as it is (lkp's own layout
// works). Anything else is looked up in the scalelab result root: `key=value` filters over the
// manifest axes (several joined with commas: `kernel=v6.7,mode=process`), or a bare word that is
// a label, a kernel preset or a commit prefix. A selector must come down to runs of one group
// directory; when it matches several, the error lists them.

import { existsSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { UsageError } from '../lib/cli.ts';
import type { Manifest } from '../results/manifest.ts';
import { byte_order, lkp_group_axes, path_axes } from './lkp/axes.ts';
import { load_path, load_runs, scan_result_root, type LoadedGroup, type RunRef } from './load.ts';

export interface Group extends LoadedGroup {
  /** The selector as given. */
  selector: string;
  /** The group's axes as [name, value]: lkp's (its job.yaml or its path), or its manifests'. */
  axes: [string, string][];
  workload: string | null;
  /** Metrics every complete run's manifest declares exact. */
  exact: Set<string>;
}

const FIXED_KEYS = ['workload', 'testcase', 'mode', 'tasks', 'path_params', 'kernel', 'preset', 'kernel_id', 'commit', 'label', 'seed', 'cpus', 'mem_mb', 'duration', 'node', 'layout'];

interface Term {
  key: string | null;
  value: string;
}

/** `a=1,b=2,3` → a=1 and b=2,3: a comma starts a new term only before `key=`. */
function parse_terms(text: string): Term[] {
  return text.split(/,(?=[\w.-]+=)/).map((t) => {
    const eq = t.indexOf('=');
    return eq > 0 ? { key: t.slice(0, eq), value: t.slice(eq + 1) } : { key: null, value: t };
  });
}

function path_parts(root: string, dir: string): string[] {
  return relative(root, dir).split(sep);
}

/** The values a run offers for an axis (a commit is matched by prefix elsewhere). */
function axis_values(root: string, ref: RunRef, key: string): string[] {
  const [workload, path_params, kernel_id] = path_parts(root, ref.dir);
  const m = ref.manifest;
  const tasks_spec = path_params.split('-')[1] ?? '';
  switch (key) {
    case 'workload':
    case 'testcase':
      return [workload];
    case 'path_params':
      return [path_params];
    case 'mode':
      return [m?.mode ?? path_params.split('-')[0]];
    case 'tasks':
      return m ? [tasks_spec, m.tasks.join(',')] : [tasks_spec];
    case 'kernel':
      return m ? [m.kernel.preset, m.kernel.id] : [kernel_id];
    case 'preset':
      return m ? [m.kernel.preset] : [];
    case 'kernel_id':
      return [kernel_id];
    case 'label':
      return m?.label ? [m.label] : [];
    case 'seed':
      return m ? [String(m.seed)] : [];
    case 'cpus':
      return m ? [String(m.nr_cpus)] : [];
    case 'mem_mb':
      return m ? [String(m.mem_mb)] : [];
    case 'duration':
      return m ? [String(m.duration_s)] : [];
    case 'node':
      return m ? [m.host.node] : [];
    case 'layout':
      return m?.layout ? [m.layout.name] : [];
    default:
      if (m && key in m.kernel.knobs) return [String(m.kernel.knobs[key])];
      if (m && key in m.params) return [String(m.params[key])];
      return [];
  }
}

function commit_of(root: string, ref: RunRef): string[] {
  const dir = path_parts(root, ref.dir)[3];
  return ref.manifest?.commit.sha ? [dir, ref.manifest.commit.sha] : [dir];
}

function matches(root: string, ref: RunRef, term: Term): boolean {
  const v = term.value;
  if (term.key === 'commit') return commit_of(root, ref).some((c) => c.startsWith(v));
  if (term.key !== null) return axis_values(root, ref, term.key).includes(v);
  const m = ref.manifest;
  if (m?.label === v) return true;
  if (axis_values(root, ref, 'kernel').includes(v)) return true;
  return /^[0-9a-f]{4,}$/i.test(v) && commit_of(root, ref).some((c) => c.startsWith(v));
}

function known_keys(refs: readonly RunRef[]): Set<string> {
  const keys = new Set(FIXED_KEYS);
  for (const r of refs) {
    for (const k of Object.keys(r.manifest?.kernel.knobs ?? {})) keys.add(k);
    for (const k of Object.keys(r.manifest?.params ?? {})) keys.add(k);
  }
  return keys;
}

/** Resolves the selectors of one command; the result root is scanned once, when first needed. */
export class Selector {
  private refs: RunRef[] | null = null;

  constructor(private readonly root: string) {}

  private runs(): RunRef[] {
    this.refs ??= scan_result_root(this.root);
    return this.refs;
  }

  resolve(text: string): Group {
    if (existsSync(text)) return describe_group(load_path(text), text);
    if (text.includes('/') || text.startsWith('.')) throw new UsageError(`no such file or directory: ${text}`);
    if (!existsSync(this.root)) throw new UsageError(`'${text}' is not a path, and there is no result root at ${this.root}`);
    const refs = this.runs();
    const terms = parse_terms(text);
    const keys = known_keys(refs);
    for (const t of terms) {
      if (t.key !== null && !keys.has(t.key)) throw new UsageError(`unknown axis '${t.key}' in '${text}' (axes: ${[...keys].join(', ')})`);
    }
    const picked = refs.filter((r) => r.damaged === undefined && terms.every((t) => matches(this.root, r, t)));
    if (picked.length === 0) throw new UsageError(`'${text}' matches no runs in ${this.root}`);
    const by_group = new Map<string, RunRef[]>();
    for (const r of picked) {
      const g = dirname(r.dir);
      by_group.set(g, [...(by_group.get(g) ?? []), r]);
    }
    if (by_group.size > 1) {
      const names = [...by_group.keys()].map((g) => relative(this.root, g));
      throw new UsageError(`'${text}' is ambiguous: it matches ${names.length} groups: ${names.join(', ')}`);
    }
    const [[dir, runs]] = by_group;
    // A run whose manifest is damaged matches no selector; it is still the group's, and its footnote says so.
    const damaged = refs.filter((r) => r.damaged !== undefined && dirname(r.dir) === dir);
    return describe_group(load_runs([...runs, ...damaged], text), text);
  }
}

/** An axis's value over the manifests: one value, or the distinct ones joined by commas. */
function manifest_axis(manifests: readonly Manifest[], value: (m: Manifest) => unknown): string {
  return [...new Set(manifests.map((m) => String(value(m))))].join(',');
}

/**
 * A scalelab group's axes, from its manifests: what the experiment was (workload, mode, tasks,
 * the simulated machine, the parent layout, the kernel and its knobs, the workload's parameters)
 * and the project commit that ran it.
 */
function manifest_axes(manifests: readonly Manifest[]): [string, string][] {
  const axes = new Map<string, string>([
    ['testcase', manifest_axis(manifests, (m) => m.workload)],
    ['mode', manifest_axis(manifests, (m) => m.mode)],
    ['nr_task', manifest_axis(manifests, (m) => m.tasks.join(','))],
    ['cpus', manifest_axis(manifests, (m) => m.nr_cpus)],
    ['mem_mb', manifest_axis(manifests, (m) => m.mem_mb)],
    ['duration', manifest_axis(manifests, (m) => m.duration_s)],
    ['layout', manifest_axis(manifests, (m) => m.layout?.name)],
    ['kernel', manifest_axis(manifests, (m) => m.kernel.preset)],
    ['commit', manifest_axis(manifests, (m) => m.commit.id)],
  ]);
  for (const k of new Set(manifests.flatMap((m) => Object.keys(m.kernel.overrides ?? {})))) axes.set(k, manifest_axis(manifests, (m) => m.kernel.overrides?.[k] ?? '-'));
  for (const k of new Set(manifests.flatMap((m) => Object.keys(m.params)))) axes.set(k, manifest_axis(manifests, (m) => m.params[k] ?? '-'));
  const labels = [...new Set(manifests.map((m) => m.label).filter((l): l is string => !!l))];
  if (labels.length) axes.set('label', labels.join(','));
  return [...axes];
}

/** A loaded group with its axes (its manifests', else lkp's), workload and exact metrics. */
export function describe_group(g: LoadedGroup, selector: string): Group {
  const manifests = g.runs.map((r) => r.manifest).filter((m): m is Manifest => m !== null);
  let axes: [string, string][];
  if (manifests.length > 0) axes = manifest_axes(manifests);
  else if (path_axes(g.path).size > 0 || existsSync(join(g.path, 'job.yaml'))) axes = lkp_group_axes(g.path);
  else axes = [['path', dirname(g.path)], ['commit', basename(g.path)]];
  if (g.single_run !== null) axes = [...axes.filter(([k]) => k !== 'run'), ['run', g.single_run]];
  // Sorted as lkp's DataStore sorts its "key=value" strings.
  axes.sort(([a, x], [b, y]) => byte_order(`${a}=${x}`, `${b}=${y}`));
  const complete = g.runs.filter((r) => !r.failed);
  let exact = new Set<string>();
  if (complete.length > 0 && complete.every((r) => r.manifest)) {
    exact = new Set(complete[0].manifest!.exact_metrics);
    for (const r of complete.slice(1)) {
      const mine = new Set(r.manifest!.exact_metrics);
      exact = new Set([...exact].filter((k) => mine.has(k)));
    }
  }
  const workload = manifests[0]?.workload ?? axes.find(([k]) => k === 'testcase')?.[1] ?? null;
  return { ...g, selector, axes, workload, exact };
}
