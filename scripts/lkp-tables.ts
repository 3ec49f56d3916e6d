// Writes data/lkp-tests/*.json from an intel/lkp-tests checkout: the tables lkp's compare reads
// (etc/failure, etc/stat-denylist, …) and what it derives from programs/ (which programs are
// tests, parsers, setups, daemons and monitors, and the options each one declares). Each file
// records the lkp-tests commit it was taken from.
//
//   npx tsx scripts/lkp-tables.ts <lkp-tests checkout>

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { write_json_atomic } from '../src/results/atomic.ts';

const src = process.argv[2];
if (!src || !existsSync(join(src, 'lib/compare.rb'))) {
  process.stderr.write('lkp-tables: usage: npx tsx scripts/lkp-tables.ts <lkp-tests checkout>\n');
  process.exit(2);
}
const commit = execFileSync('git', ['-C', src, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
const out = resolve(fileURLToPath(new URL('../data/lkp-tests', import.meta.url)));
mkdirSync(out, { recursive: true });

const text = (p: string) => readFileSync(join(src, p), 'utf8');
const save = (name: string, source: string, body: Record<string, unknown>) => write_json_atomic(join(out, `${name}.json`), { lkp_tests: commit, source, ...body });

// Read as lkp reads each file: File.read.split("\n") for the failure/pass patterns,
// LKP::Pattern.lines (no blanks, no # comments) for the pattern lists, split on whitespace for
// prefixes, stripped non-empty lines for the test-case lists.
const ruby_split_lines = (s: string) => s.split('\n').reduceRight<string[]>((acc, l) => (acc.length || l !== '' ? [l, ...acc] : acc), []);
const pattern_lines = (s: string) => s.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
for (const f of ['failure', 'pass']) save(f, `etc/${f}`, { patterns: ruby_split_lines(text(`etc/${f}`)) });
for (const f of ['stat-denylist', 'stat-allowlist', 'report-allowlist', 'perf-metrics-patterns']) save(f, `etc/${f}`, { patterns: pattern_lines(text(`etc/${f}`)) });
save('perf-metrics-prefixes', 'etc/perf-metrics-prefixes', { prefixes: text('etc/perf-metrics-prefixes').split(/\s+/).filter(Boolean) });
for (const f of ['linux-test-cases', 'other-test-cases']) save(f, `etc/${f}`, { testcases: text(`etc/${f}`).split('\n').map((l) => l.trim()).filter(Boolean) });

// etc/perf-metrics-threshold.yaml is a flat map of regex: number; lkp treats an Integer and a Float threshold differently.
const thresholds = text('etc/perf-metrics-threshold.yaml')
  .split('\n')
  .filter((l) => l.trim() && !l.startsWith('#'))
  .map((l) => {
    const m = /^(.*):\s+(\S+)\s*$/.exec(l);
    if (!m) throw new Error(`perf-metrics-threshold.yaml: cannot read '${l}'`);
    return { pattern: m[1], value: Number(m[2]), integer: /^-?\d+$/.test(m[2]) };
  });
save('perf-metrics-threshold', 'etc/perf-metrics-threshold.yaml', { thresholds });

// bin/program-options: "# - name" / "# = name" header lines up to the first empty line.
function program_options(file: string): [string, string][] {
  const opts: [string, string][] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') break;
    const m = /^# ([-=]) ([a-zA-Z0-9_.]+)$/.exec(line);
    if (m) opts.push([m[1], m[2]]);
  }
  return opts;
}
const executable = (p: string) => existsSync(p) && statSync(p).isFile() && (statSync(p).mode & 0o111) !== 0;
const SCRIPTS = ['run', 'parse', 'setup', 'daemon', 'monitor', 'no-stdout-monitor', 'one-shot-monitor', 'plain-monitor'];
const programs: Record<string, { scripts: string[]; executable: string[]; options: [string, string][] }> = {};
for (const name of readdirSync(join(src, 'programs')).sort()) {
  const dir = join(src, 'programs', name);
  if (!statSync(dir).isDirectory()) continue;
  const scripts = SCRIPTS.filter((s) => existsSync(join(dir, s)));
  const exec = scripts.filter((s) => executable(join(dir, s)));
  // Job#init_program_options reads the options of the script available_programs(:workload_elements) keeps: daemon over run over setup.
  const element = ['daemon', 'run', 'setup'].find((s) => exec.includes(s));
  programs[name] = { scripts, executable: exec, options: element ? program_options(join(dir, element)) : [] };
}
save('programs', 'programs/*/{run,parse,setup,daemon,*monitor}, bin/run-test, bin/run-daemon', {
  programs,
  wrapper_options: program_options(join(src, 'bin/run-test')),
  dwrapper_options: program_options(join(src, 'bin/run-daemon')),
});
console.log(`wrote ${out} from lkp-tests ${commit}`);
