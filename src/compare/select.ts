// Selectors: which runs a command-line word means. A path is read as it is (lkp's own layout
// works). Anything else is looked up in the scalelab result root: `key=value` filters over the
// manifest axes (several joined with commas: `kernel=v6.7,mode=process`; a comma starts a new
// filter only before a known `key=`, so values may hold `/`, `=` and commas), or a bare word that
// is a label, a kernel id (`v6.8`, `v6.8+kernel.hz=250`) or a commit prefix. Each selector must
// come down to one group directory; when some match several, the groups that differ only in the
// axes the selectors name are taken, if they pair up one way only; otherwise the error lists them.

import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { UsageError } from '../lib/cli.ts';
import { group_identity, type Manifest } from '../results/manifest.ts';
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

const FIXED_KEYS = ['workload', 'testcase', 'mode', 'tasks', 'path_params', 'kernel', 'preset', 'kernel_id', 'commit', 'label', 'seed', 'cpus', 'mem_mb', 'duration', 'interval', 'warmup', 'node', 'layout'];

interface Term {
  key: string | null;
  value: string;
}

/** `a=1,b=2,3` → a=1 and b=2,3: a comma starts a new term only before a known `key=`. */
function parse_terms(text: string, keys: ReadonlySet<string>): Term[] {
  const parts: string[] = [];
  let from = 0;
  for (let i = text.indexOf(','); i !== -1; i = text.indexOf(',', i + 1)) {
    const key = /^([^,=]+)=/.exec(text.slice(i + 1))?.[1];
    if (key !== undefined && keys.has(key)) {
      parts.push(text.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(text.slice(from));
  return parts.map((t) => {
    const eq = t.indexOf('=');
    return eq > 0 && keys.has(t.slice(0, eq)) ? { key: t.slice(0, eq), value: t.slice(eq + 1) } : { key: null, value: t };
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
    case 'kernel_id':
      return [m?.kernel.id ?? kernel_id];
    case 'preset':
      return m ? [m.kernel.preset] : [];
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
    case 'interval':
      return m ? [String(m.interval_s)] : [];
    case 'warmup':
      return m ? [String(m.warmup)] : [];
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

/** Which experiment axis a filter key constrains (for pairing groups up); null: none of them. */
function identity_axis(key: string, ref: RunRef): string | null {
  switch (key) {
    case 'workload':
    case 'testcase':
      return 'workload';
    case 'kernel':
    case 'kernel_id':
    case 'preset':
      return 'kernel';
    case 'duration':
      return 'duration_s';
    case 'interval':
      return 'interval_s';
    case 'node':
      return null;
    case 'path_params':
      return 'path_params';
    default:
      if (FIXED_KEYS.includes(key)) return key;
      if (ref.manifest && key in ref.manifest.kernel.knobs) return 'kernel';
      return 'params';
  }
}

/** Whether the run matches the term, and through which experiment axis. */
function match_axis(root: string, ref: RunRef, term: Term): string | null | false {
  const v = term.value;
  if (term.key === 'commit') return commit_of(root, ref).some((c) => c.startsWith(v)) && 'commit';
  if (term.key !== null) return axis_values(root, ref, term.key).includes(v) && identity_axis(term.key, ref);
  if (ref.manifest?.label === v) return 'label';
  if (axis_values(root, ref, 'kernel').includes(v)) return 'kernel';
  return /^[0-9a-f]{4,}$/i.test(v) && commit_of(root, ref).some((c) => c.startsWith(v)) && 'commit';
}

function known_keys(refs: readonly RunRef[]): Set<string> {
  const keys = new Set(FIXED_KEYS);
  for (const r of refs) {
    for (const k of Object.keys(r.manifest?.kernel.knobs ?? {})) keys.add(k);
    for (const k of Object.keys(r.manifest?.params ?? {})) keys.add(k);
  }
  return keys;
}

/** A selector's candidate groups: group directory → its matching runs; and the axes it named. */
interface Candidates {
  text: string;
  groups: Map<string, RunRef[]>;
  axes: Set<string>;
  /** A path selector's group: one choice, and no axis of its own to compare. */
  fixed?: Group;
}

/**
 * What a group is, axis by axis: its first manifest's experiment (a label is a name, not part of
 * it) with its kernel id, or for runs without manifests their path.
 */
function group_experiment(root: string, runs: readonly RunRef[]): Record<string, string> {
  const m = runs.find((r) => r.manifest)?.manifest;
  if (m) return { ...group_identity(m), kernel: `${m.kernel.id} ${m.kernel.hash}` };
  const [workload, path_params, kernel_id, commit] = path_parts(root, runs[0].dir);
  return { workload, path_params, kernel: kernel_id, commit };
}

const MAX_TUPLES = 100_000;

/** Resolves the selectors of one command; the result root is scanned once, when first needed. */
export class Selector {
  private refs: RunRef[] | null = null;

  constructor(private readonly root: string) {}

  private runs(): RunRef[] {
    this.refs ??= scan_result_root(this.root);
    return this.refs;
  }

  /** Every selector's group; several selectors are resolved together, so that they can pair up. */
  resolve_all(texts: readonly string[]): Group[] {
    const found = texts.map((t) => (existsSync(t) ? fixed_candidates(describe_group(load_path(t), t), t) : this.candidates(t)));
    const chosen = found.some((c) => c.groups.size > 1) ? this.pair_up(found) : found.map((c) => [...c.groups.keys()][0]);
    return found.map((c, i) => c.fixed ?? this.load(c, chosen[i]));
  }

  resolve(text: string): Group {
    return this.resolve_all([text])[0];
  }

  private load(c: Candidates, dir: string): Group {
    // A run whose manifest is damaged matches no selector; it is still the group's, and its footnote says so.
    const damaged = this.runs().filter((r) => r.damaged !== undefined && dirname(r.dir) === dir);
    return describe_group(load_runs([...c.groups.get(dir)!, ...damaged], c.text), c.text);
  }

  private candidates(text: string): Candidates {
    if (!existsSync(this.root)) {
      if (text.includes('/') || text.startsWith('.')) throw new UsageError(`no such file or directory: ${text}`);
      throw new UsageError(`'${text}' is not a path, and there is no result root at ${this.root}`);
    }
    if (!statSync(this.root).isDirectory()) throw new UsageError(`result root ${this.root} is not a directory`);
    const refs = this.runs();
    const keys = known_keys(refs);
    const terms = whole_name(text, refs) ?? parse_terms(text, keys);
    for (const t of terms) if (t.key === null && (t.value.includes('/') || t.value.startsWith('.'))) throw new UsageError(`no such file or directory: ${t.value}`);
    const groups = new Map<string, RunRef[]>();
    const axes = new Set<string>();
    for (const r of refs) {
      if (r.damaged !== undefined) continue;
      const through = terms.map((t) => match_axis(this.root, r, t));
      if (through.some((a) => a === false)) continue;
      for (const a of through) if (a) axes.add(a);
      const g = dirname(r.dir);
      groups.set(g, [...(groups.get(g) ?? []), r]);
    }
    if (groups.size === 0) {
      // A bare word with `=` that is no kernel id or label is most likely a misspelt axis.
      const unknown = terms.find((t) => t.key === null && t.value.indexOf('=') > 0);
      if (unknown) throw new UsageError(`unknown axis '${unknown.value.slice(0, unknown.value.indexOf('='))}' in '${text}' (axes: ${[...keys].join(', ')})`);
      throw new UsageError(`'${text}' matches no runs in ${this.root}`);
    }
    return { text, groups, axes };
  }

  /**
   * Selectors that match several groups: take the one combination (a group per selector) whose
   * groups differ only in the axes every selector names (`v6.7 v6.8` compares kernels, so the
   * groups must be alike in mode, tasks, duration, …). None or several such: say which.
   */
  private pair_up(sel: readonly Candidates[]): string[] {
    // The compared axes are those every selector names (`v6.7,mode=process v6.8` compares kernels;
    // mode must match), or, when they share none (`v6.7 label=fix`), any one names.
    const open = sel.filter((c) => !c.fixed);
    const shared = [...open[0].axes].filter((a) => open.every((c) => c.axes.has(a)));
    const named = new Set(shared.length ? shared : open.flatMap((c) => [...c.axes]));
    const options = sel.map((c) => [...c.groups.keys()]);
    const count = options.reduce((n, o) => n * o.length, 1);
    const name = (g: string) => relative(this.root, g);
    const listing = () => sel.filter((c) => c.groups.size > 1).map((c) => `'${c.text}' matches ${c.groups.size} groups: ${[...c.groups.keys()].map(name).join(', ')}`).join('; ');
    if (open.length === 1 && sel.length === 1) throw new UsageError(`'${sel[0].text}' is ambiguous: it matches ${sel[0].groups.size} groups: ${[...sel[0].groups.keys()].map(name).join(', ')}`);
    if (count > MAX_TUPLES) throw new UsageError(`the selectors are ambiguous: ${listing()}`);
    const rest = (dir: string, c: Candidates) => {
      const e = group_experiment(this.root, c.groups.get(dir)!);
      for (const a of named) delete e[a];
      return JSON.stringify(Object.entries(e).sort(([a], [b]) => (a < b ? -1 : 1)));
    };
    const rests = sel.map((c, i) => new Map(options[i].map((d) => [d, rest(d, c)])));
    const fits: string[][] = [];
    const walk = (i: number, picked: string[], key: string | null) => {
      if (i === sel.length) return void fits.push([...picked]);
      for (const d of options[i]) {
        const k = rests[i].get(d)!;
        if (key !== null && k !== key) continue;
        // The same group on both sides compares nothing.
        if (picked.includes(d)) continue;
        picked.push(d);
        walk(i + 1, picked, key ?? k);
        picked.pop();
      }
    };
    walk(0, [], null);
    const axes = [...named].join(', ') || 'nothing';
    if (fits.length === 1) return fits[0];
    if (fits.length === 0) throw new UsageError(`no groups of ${sel.map((c) => `'${c.text}'`).join(' and ')} differ only in ${axes}${closest(sel, named, this.root)}: ${listing()}`);
    const shown = fits.slice(0, 4).map((f) => f.map(name).join(' vs ')).join('; ');
    throw new UsageError(`${sel.map((c) => `'${c.text}'`).join(' and ')} pair up ${fits.length} ways that differ only in ${axes} (${shown}${fits.length > 4 ? '; …' : ''}); add a filter to choose, e.g. ${distinguishing(this.root, fits, sel)}`);
  }
}

/** What else the most alike groups of the first two selectors differ in: ` (the most alike also differ in label, layout)`. */
function closest(sel: readonly Candidates[], named: ReadonlySet<string>, root: string): string {
  if (sel.length < 2) return '';
  let best: string[] | null = null;
  for (const [a, ra] of sel[0].groups) {
    for (const [b, rb] of sel[1].groups) {
      if (a === b) continue;
      const ea = group_experiment(root, ra);
      const eb = group_experiment(root, rb);
      const diff = Object.keys(ea).filter((k) => !named.has(k) && k !== 'path_params' && ea[k] !== eb[k]);
      if (best === null || diff.length < best.length) best = diff;
    }
  }
  return best?.length ? ` (the most alike also differ in ${best.join(', ')})` : '';
}

/** A selector with a filter that tells the pairings apart, for the error's example (`v6.7,mode=process`). */
function distinguishing(root: string, fits: readonly string[][], sel: readonly Candidates[]): string {
  for (const [i, c] of sel.entries()) {
    if (c.fixed) continue;
    const picked = fits.map((f) => c.groups.get(f[i])!);
    for (const key of ['mode', 'tasks', 'cpus', 'duration', 'seed', 'mem_mb', 'interval', 'warmup', 'layout', 'kernel', 'commit']) {
      const values = picked.map((runs) => (key === 'commit' ? commit_of(root, runs[0])[0] : (axis_values(root, runs[0], key)[0] ?? '')));
      if (new Set(values).size === values.length) return `${c.text},${key}=${values[0]}`;
    }
  }
  return `${sel[0].text},path_params=${path_parts(root, fits[0][0])[1]}`;
}

/** A path selector as a choice of one, for pairing: its runs as the result root lists runs. */
function fixed_candidates(g: Group, text: string): Candidates {
  const runs = g.runs.map((r) => ({ dir: join(g.path, r.name), manifest: r.manifest }));
  return { text, groups: new Map([[g.path, runs.length ? runs : [{ dir: g.path, manifest: null }]]]), axes: new Set(), fixed: g };
}

/** A selector that is, as a whole, a run's kernel id or label (`v6.8+a=1,b=2`, `label=x,mode=y`): one term, not split at its commas. */
function whole_name(text: string, refs: readonly RunRef[]): Term[] | null {
  const eq = text.indexOf('=');
  const key = eq > 0 ? text.slice(0, eq) : '';
  for (const r of refs) {
    const m = r.manifest;
    if (!m) continue;
    if (m.kernel.id === text || m.label === text) return [{ key: null, value: text }];
    if ((key === 'kernel' || key === 'kernel_id') && m.kernel.id === text.slice(eq + 1)) return [{ key, value: text.slice(eq + 1) }];
    if (key === 'label' && m.label === text.slice(eq + 1)) return [{ key, value: text.slice(eq + 1) }];
  }
  return null;
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
