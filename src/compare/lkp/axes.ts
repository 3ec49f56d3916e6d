// The axes lkp gives a result group (lib/job.rb Job#axes when a run has a job.yaml, lib/result.rb
// ResultPath otherwise), as its DataStore keeps them (lib/data_store.rb): every value a string,
// the pairs sorted as "key=value" strings, a value cut at its first "=" and an empty one read back
// as nothing. ncompare prints them in that order.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, visit } from 'yaml';
import { MONITORS, WORKLOAD_ELEMENTS, WRAPPER_OPTIONS } from './tables.ts';

const MAXIS_KEYS = ['tbox_group', 'testcase', 'path_params', 'rootfs', 'kconfig', 'compiler', 'commit'];
// ResultPath::PATH_SCHEME: the path components after the testcase.
const PATH_SCHEME: Record<string, string[]> = {
  default: ['path_params', 'tbox_group', 'rootfs', 'kconfig', 'compiler', 'commit', 'run'],
  'health-stats': ['path_params', 'run'],
  hwinfo: ['tbox_group', 'run'],
  'deploy-clang': ['rootfs', 'llvm_project_commit', 'run'],
  'kvm-kernel-boot-test': ['tbox_group', 'kconfig', 'commit', 'qemu_config', 'qemu_commit', 'linux_commit', 'run'],
};
const LKP_DEFAULT_COMPILER = 'gcc-7'; // lib/constant.rb

function path_scheme(testcase: string): string[] {
  return PATH_SCHEME[testcase] ?? PATH_SCHEME.default;
}

/** A YAML number as Ruby prints it (its to_s), kept apart from strings for Array#inspect. */
class RubyNumber {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Ruby's to_s of a YAML value: what Job#axes makes of a parameter's value (an Array's is its inspect). */
function ruby_to_s(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return `[${v.map(ruby_inspect).join(', ')}]`;
  return String(v);
}

function ruby_inspect(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'string') return JSON.stringify(v);
  return ruby_to_s(v);
}

type Hash = Record<string, unknown>;
const is_hash = (v: unknown): v is Hash => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof RubyNumber);

/** lib/job.rb for_each_in: every (parent key, key, value) whose key is in `set`, at any depth. */
function for_each_in(h: Hash, set: ReadonlySet<string> | ReadonlyMap<string, unknown>, yield_: (pk: string | null, k: string, v: unknown) => void, pk: string | null = null): void {
  for (const [k, v] of Object.entries(h)) {
    if (set.has(k)) yield_(pk, k, v);
    if (is_hash(v)) for_each_in(v, set, yield_, k);
  }
}

/** Job#axes of a parsed job: the maxis keys it sets, then every program parameter (Job#each_param). */
export function job_axes(job: Hash): Map<string, string> {
  const as = new Map<string, unknown>();
  for (const k of MAXIS_KEYS) if (k !== 'path_params' && k in job) as.set(k, job[k]);
  const scheme = path_scheme(String(job.testcase ?? ''));
  if (scheme.includes('rootfs') && !as.get('rootfs')) as.set('rootfs', 'debian-x86_64.cgz');
  if (scheme.includes('compiler') && !as.get('compiler')) as.set('compiler', LKP_DEFAULT_COMPILER);
  if (as.has('rootfs')) as.set('rootfs', String(as.get('rootfs')).split(/[^a-zA-Z0-9._-]/).at(-1));

  // init_program_options: the options of every workload element the job names, and the wrappers'.
  const options = new Map<string, string>([['cluster', '-']]);
  for_each_in(job, WORKLOAD_ELEMENTS, (_pk, k) => {
    for (const [type, name] of WORKLOAD_ELEMENTS.get(k)!) options.set(name, type);
  });
  for (const [type, name] of WRAPPER_OPTIONS) options.set(name, type);
  const params = new Set([...options.keys(), ...WORKLOAD_ELEMENTS.keys()]);
  for_each_in(job, params, (pk, k, v) => {
    if (is_hash(v) || (pk !== null && MONITORS.has(pk))) return;
    if (options.get(k) === '=' || (v !== null && v !== undefined && v !== false)) as.set(k, v);
  });
  return new Map([...as].map(([k, v]) => [k, ruby_to_s(v)]));
}

/** ResultPath.parse of a group directory: testcase and the path scheme's components, from the path's tail. */
export function path_axes(group_dir: string): Map<string, string | null> {
  const parts = group_dir.split('/').filter(Boolean);
  // The testcase sits as many components above the group as its scheme has before `run`.
  for (let i = parts.length - 1; i >= 0; i--) {
    const scheme = path_scheme(parts[i]);
    const rest = parts.slice(i + 1);
    if (rest.length === scheme.length - 1) {
      const as = new Map<string, string | null>([['testcase', parts[i]]]);
      scheme.forEach((k, j) => as.set(k, rest[j] ?? null));
      return as;
    }
  }
  return new Map();
}

/** DataStore's round trip: values as strings, pairs sorted as "k=v", a value up to its first "=" (empty: none). */
export function stored_axes(axes: ReadonlyMap<string, string | null>): [string, string][] {
  return [...axes]
    .map(([k, v]) => `${k}=${v ?? ''}`)
    .sort(byte_order)
    .map((kv) => {
      const [k, v] = kv.split('=');
      return [k, v ?? ''];
    });
}

/** Ruby's String <=> for the ASCII-and-UTF-8 strings stat names and axes are: code point order. */
export function byte_order(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/** MResultRoot#job_file: the group's job.yaml, else the first run's in glob (sorted path) order. */
function group_job_file(group_dir: string): string | null {
  if (existsSync(join(group_dir, 'job.yaml'))) return join(group_dir, 'job.yaml');
  if (!existsSync(group_dir)) return null;
  const runs = readdirSync(group_dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^[0-9]/.test(e.name) && existsSync(join(group_dir, e.name, 'job.yaml')))
    .map((e) => e.name)
    .sort(byte_order);
  return runs.length ? join(group_dir, runs[0], 'job.yaml') : null;
}

/** Ruby's Float#to_s: the shortest digits, with ".0" when whole, in exponent form outside [1e-4, 1e15). */
export function ruby_float_to_s(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  const a = Math.abs(v);
  if (a === 0 || (a >= 1e-4 && a < 1e15)) return Number.isInteger(v) ? `${v.toFixed(1)}` : String(v);
  const [m, e] = v.toExponential().split('e');
  return `${m.includes('.') ? m : `${m}.0`}e${e[0]}${e.slice(1).padStart(2, '0')}`;
}

// Psych::ScalarScanner's numbers (Psych 4, Ruby 3.1): its float, its legacy integer (commas
// allowed), its base-60 forms.
const PSYCH_FLOAT = /^(?:[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?)$/;
const PSYCH_INT = /^(?:[-+]?0b[0-1_,]+|[-+]?0[0-7_,]+|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)|[-+]?0x[0-9a-fA-F_,]+)$/;
const PSYCH_SEXAGESIMAL_INT = /^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}$/;
const PSYCH_SEXAGESIMAL_FLOAT = /^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}\.[0-9_]*$/;

/** Ruby's String#to_i of a base-60 part: an optional sign, digits and underscores. */
const ruby_to_i = (s: string) => BigInt(s.replace(/_/g, '').replace(/^\+/, '') || '0');

/** Ruby's Integer() of a Psych integer: 0b, 0x and a leading 0 (octal) are bases. */
function ruby_integer(s: string): bigint {
  const t = s.replace(/[,_]/g, '');
  const neg = t.startsWith('-');
  const u = t.replace(/^[-+]/, '');
  const n = /^0[0-7]+$/.test(u) ? BigInt(`0o${u.slice(1)}`) : BigInt(u);
  return neg ? -n : n;
}

/**
 * What Psych makes of a plain scalar that might be a number, as Ruby's to_s prints it; undefined
 * when Psych reads a string. Its base-60 integer weighs part e by 60^|e-2| (5:00 is 18000).
 */
function psych_number_to_s(src: string): string | undefined {
  if (/^\+?\.inf$/i.test(src)) return 'Infinity';
  if (/^-\.inf$/i.test(src)) return '-Infinity';
  if (/^\.nan$/i.test(src)) return 'NaN';
  if (PSYCH_SEXAGESIMAL_INT.test(src)) return src.split(':').reduce((sum, p, e) => sum + ruby_to_i(p) * 60n ** BigInt(Math.abs(e - 2)), 0n).toString();
  if (PSYCH_SEXAGESIMAL_FLOAT.test(src)) return ruby_float_to_s(src.split(':').reduce((sum, p, e) => sum + Number(p.replace(/_/g, '')) * 60 ** Math.abs(e - 2), 0));
  if (PSYCH_FLOAT.test(src) && !/^[-+]?\.$/.test(src)) return ruby_float_to_s(Number(src.replace(/[,_]/g, '').replace(/\.([Ee]|$)/, '$1')));
  if (PSYCH_INT.test(src)) return ruby_integer(src).toString();
  return undefined;
}

/** A job file's first document (Job.open), parsed as YAML 1.1 as Ruby's Psych does, numbers as Ruby's to_s of them. */
export function read_job(file: string): Hash | null {
  try {
    const [doc] = parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1' });
    if (!doc || !('contents' in doc)) return null;
    visit(doc, {
      Scalar(_key, node) {
        const src = (node.source ?? '').trim();
        const number = node.type === 'PLAIN' && (typeof node.value === 'number' || typeof node.value === 'string') ? psych_number_to_s(src) : undefined;
        if (number !== undefined) node.value = new RubyNumber(number);
        else if (typeof node.value === 'number') node.value = src; // a number to JavaScript's reader, a string to Psych's
        else if (typeof node.value === 'boolean' && node.type === 'PLAIN' && !/^(yes|true|on|no|false|off)$/i.test(src)) node.value = src; // y, n: strings to Psych
        // A YAML date is a Ruby Date, whose to_s is the date as written (YYYY-MM-DD); a timestamp is kept as written.
        else if (node.value instanceof Date) node.value = (node.source ?? '').trim();
      },
    });
    const v = doc.toJS();
    return is_hash(v) ? v : null;
  } catch {
    return null;
  }
}

/** The axes lkp stores for a group directory, sorted. */
export function lkp_group_axes(group_dir: string): [string, string][] {
  const file = group_job_file(group_dir);
  const job = file ? read_job(file) : null;
  return stored_axes(job ? job_axes(job) : path_axes(group_dir));
}
