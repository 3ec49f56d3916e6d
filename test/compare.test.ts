import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parse_csv } from 'csv-parse/sync';
import { FORMATS } from '../src/compare/format/index.ts';
import { neutralise } from '../src/compare/format/csv.ts';
import { group_from, load_path, type RunData } from '../src/compare/load.ts';
import { gzipSync } from 'node:zlib';
import { build_model, type CompareSettings } from '../src/compare/model.ts';
import { Selector, describe_group, type Group } from '../src/compare/select.ts';
import { Prng } from '../src/lib/prng.ts';
import { normal_quantile } from '../src/stats/normal.ts';
import type { Manifest } from '../src/results/manifest.ts';

const ROOT = join(import.meta.dirname, '..');
const SIGNIFICANT: CompareSettings = { alpha: 0.05, min_change: null, selection: 'significant', lkp_columns: false };
const ALL: CompareSettings = { ...SIGNIFICANT, selection: 'all' };
const LKP: CompareSettings = { ...SIGNIFICANT, selection: 'lkp-gates' };

/** A manifest as bench writes one, with `over` replacing fields. */
function scalelab_manifest(over: Partial<Manifest> = {}): Manifest {
  return {
    tool: { name: 'scalelab', version: '0.1.0' },
    workload: 'brk2',
    description: '',
    params: {},
    label: null,
    mode: 'process',
    tasks: [1],
    nr_cpus: 2,
    mem_mb: 256,
    duration_s: 5,
    warmup: 6,
    interval_s: 1,
    seed: 1,
    layout: { kind: 'maps', name: 'one.maps', sha256: null },
    kernel: { preset: 'v6.7', id: 'v6.7', hash: '0', overrides: {}, knobs: {} },
    exact_metrics: [],
    zero_stats: [],
    commit: { id: 'aaaa11112222', sha: 'aaaa11112222'.padEnd(40, '0'), dirty: false },
    host: { node: 'v20', cpu_model: 'cpu', cpus: 2, platform: 'linux' },
    started: '2026-12-01T00:00:00Z',
    finished: null,
    status: 'complete',
    ...over,
  };
}

/** A group in memory: one stats object per run; `manifest` makes it a scalelab group (exact metrics, label). */
function group(path: string, runs: Record<string, number>[], opts: { exact?: string[]; zero?: string[]; failed?: number[]; label?: string; monitors?: string[] } = {}): Group {
  const manifest = opts.exact || opts.label || opts.monitors ? scalelab_manifest({ exact_metrics: opts.exact ?? [], zero_stats: opts.zero ?? [], label: opts.label ?? null, monitors: opts.monitors }) : null;
  const entries = runs.map((stats, i) => ({ run: { name: String(i), source: `${path}/${i}/stats.json`, failed: opts.failed?.includes(i) ?? false, lkp_incomplete: stats['last_state.is_incomplete_run'] === 1, manifest } as RunData, stats }));
  return describe_group(group_from(path, entries), path);
}

/** Runs of one metric from values. */
const runs_of = (key: string, values: number[]) => values.map((v) => ({ [key]: v }));

function lkp_rows(base: Group, head: Group, settings = ALL): string[] {
  return FORMATS.lkp(build_model([base, head], settings))
    .split('\n')
    .filter((l) => /^[\d .+\-e±%:]{16,}  \S+$/.test(l));
}

describe("lkp's rows, byte for byte (reference §2.3)", () => {
  const row = (key: string, a: number[], b: number[]) => lkp_rows(group('/r/base', runs_of(key, a)), group('/r/head', runs_of(key, b)));

  it('a %10d row', () => {
    expect(row('will-it-scale.per_process_ops', [129489], [252151])).toEqual(['    129489           +94.7%     252151        will-it-scale.per_process_ops']);
  });

  it('a %10.4g row', () => {
    expect(row('numa-numastat.node0.local_node', [1.792e8], [1.549e8])).toEqual([' 1.792e+08           -13.6%  1.549e+08        numa-numastat.node0.local_node']);
  });

  it('an absolute-change row for a key ending in %', () => {
    expect(row('mpstat.cpu.all.soft%', [24.47], [17.29])).toEqual(['     24.47            -7.2       17.29        mpstat.cpu.all.soft%']);
  });

  it('±NN% cells: population stddev over mean, shown above 2%, truncated', () => {
    expect(row('turbostat.PkgTmp', [55.0, 56.67, 58.34], [50.5, 52.83, 55.16])).toEqual(['     56.67 ±  2%      -6.8%      52.83 ±  3%  turbostat.PkgTmp']);
    // 1.87%: blank
    expect(row('turbostat.PkgTmp', [55.37, 56.67, 57.97], [55.37, 56.67, 57.97])[0]).toBe('     56.67            +0.0%      56.67        turbostat.PkgTmp');
  });

  it('a perf-profile row a profiled head lacks (below the 0.05 lkp prints) is 0.00, as the 0-day mail shows it', () => {
    const key = 'perf-profile.calltrace.cycles-pp.mas_wr_spanning_store.mas_store_prealloc.do_brk_flags.__do_sys_brk.do_syscall_64';
    const base = group('/r/base', [{ [key]: 10.26, 'will-it-scale.per_process_ops': 1 }], { monitors: ['perf-profile'] });
    const profiled = group('/r/head', [{ 'will-it-scale.per_process_ops': 1 }], { monitors: ['mpstat', 'perf-profile'] });
    const unprofiled = group('/r/head', [{ 'will-it-scale.per_process_ops': 1 }], { monitors: ['mpstat'] });
    // The seed's line (004_de8b07e9748550c0.txt; the mail indents the table by one more space).
    expect(lkp_rows(base, profiled).filter((l) => l.endsWith(key))).toEqual([`     10.26           -10.3        0.00        ${key}`]);
    // scalelab's own view: 0.00 only where the head was profiled; otherwise the metric is missing.
    const head_n = (head: Group) => build_model([base, head], ALL).rows.find((r) => r.metric === key)!.stats[1].n;
    expect([head_n(profiled), head_n(unprofiled)]).toEqual([1, 0]);
  });

  it('a perf-profile row: absolute change, no % sign', () => {
    expect(row('perf-profile.self.cycles-pp.mas_wr_walk', [10.5], [3.2])).toEqual(['     10.50            -7.3        3.20        perf-profile.self.cycles-pp.mas_wr_walk']);
  });

  it('a change of 100000% or more switches to %.2g', () => {
    expect(row('proc-vmstat.pgfault', [1], [3001])).toEqual(['      1.00          +3e+05%       3001        proc-vmstat.pgfault']);
  });

  it('a base of 0 divides by 1e-100, as lkp does', () => {
    expect(row('sim.maple.store_spanning', [0], [5])).toEqual(['      0.00         +5e+102%       5.00        sim.maple.store_spanning']);
  });

  it('the failure block: fails:runs and the reproduction change, failure rows first', () => {
    const base = group('/r/base', [{ 'dmesg.BUG_kernel_NULL_pointer': 0, 'will-it-scale.per_process_ops': 100 }, { 'will-it-scale.per_process_ops': 100 }, { 'will-it-scale.per_process_ops': 100 }]);
    const head = group('/r/head', [{ 'dmesg.BUG_kernel_NULL_pointer': 1, 'will-it-scale.per_process_ops': 100 }, { 'dmesg.BUG_kernel_NULL_pointer': 1, 'will-it-scale.per_process_ops': 100 }, { 'will-it-scale.per_process_ops': 100 }]);
    const out = FORMATS.lkp(build_model([base, head], ALL)).split('\n');
    const i = out.indexOf('       fail:runs  %reproduction    fail:runs');
    expect(i).toBeGreaterThan(0);
    expect(out[i + 1]).toBe('           |             |             |    ');
    expect(out[i + 2]).toBe('           :3           67%           2:3     dmesg.BUG_kernel_NULL_pointer');
    expect(out[i + 3]).toBe('         %stddev     %change         %stddev');
    expect(out[i + 4]).toBe('             \\          |                \\  ');
  });

  it('the header block: common axes, compared values, 16/27-character titles and dashes', () => {
    const a = group('/lkp/result/will-it-scale/process-100%-brk2/box/debian/x86_64-rhel/gcc-12/ec81deb6b769dc1b3d3d8c37d5b4b1bd0a7bb3a8', runs_of('x', [1]));
    const b = group('/lkp/result/will-it-scale/process-100%-brk2/box/debian/x86_64-rhel/gcc-12/6e553c6bcb7746abad29ce63e0c8c8a4f8a5d1f2', runs_of('x', [2]));
    const head = FORMATS.lkp(build_model([a, b], ALL)).split('\n').slice(0, 10);
    expect(head).toEqual([
      '='.repeat(89),
      // DataStore's axes, sorted as "key=value" strings; the path has no run, so `run` is empty.
      'compiler/kconfig/path_params/rootfs/run/tbox_group/testcase:',
      '  gcc-12/x86_64-rhel/process-100%-brk2/debian//box/will-it-scale',
      '',
      'commit: ',
      '  ec81deb6b769dc1b3d3d8c37d5b4b1bd0a7bb3a8',
      '  6e553c6bcb7746abad29ce63e0c8c8a4f8a5d1f2',
      '',
      'ec81deb6b769dc1b 6e553c6bcb7746abad29ce63e0c ',
      '---------------- --------------------------- ',
    ]);
  });
});

describe('statistics per row', () => {
  it('a clear change with 5+5 runs: exact U test p, q over the tested rows, the interval, a verdict', () => {
    const base = group('/r/v6.7', [...runs_of('will-it-scale.per_process_ops', [100, 101, 99, 102, 98])].map((r, i) => ({ ...r, 'time.user_time': 10 + (i % 2) })));
    const head = group('/r/v6.8', [...runs_of('will-it-scale.per_process_ops', [195, 196, 194, 197, 193])].map((r, i) => ({ ...r, 'time.user_time': 10 + ((i + 1) % 2) })));
    const m = build_model([base, head], SIGNIFICANT);
    const [r] = m.rows;
    expect(m.rows.map((x) => x.metric)).toEqual(['will-it-scale.per_process_ops']);
    const c = r.changes[0];
    expect(c.test).toBe('exact');
    expect(c.p).toBeCloseTo(0.007936507936507936, 12);
    expect(c.q).toBeCloseTo(0.015873015873015872, 12); // 2 tested rows: p·2/1
    expect(c.change).toBeCloseTo(95, 10);
    expect(c.ci![0]).toBeGreaterThan(85);
    expect(c.ci![1]).toBeLessThan(105);
    expect(c.verdict).toBe('improvement');
    expect(m.headlines).toEqual(['noticed a 95.0% improvement of will-it-scale.per_process_ops']);
    const text = FORMATS.text(m);
    expect(text).toContain('    100.00           +95.0%     195.00        will-it-scale.per_process_ops  (p=0.008 q=0.016 n=5+5)\n');
  });

  it('exact metrics are compared without a test: one run each is enough, any difference counts', () => {
    const exact = ['sim.maple.store_spanning_per_op'];
    const base = group('/r/brk2/process-1/v6.7/c0', [{ 'sim.maple.store_spanning_per_op': 0.5, 'sim.maple.store_slot_per_op': 0.5, 'will-it-scale.per_process_ops': 100 }], { exact: [...exact, 'sim.maple.store_slot_per_op'] });
    // The head's 0 is left out of its stats.json and named in its manifest, as bench writes it.
    const head = group('/r/brk2/process-1/v6.8/c0', [{ 'sim.maple.store_slot_per_op': 0.5, 'will-it-scale.per_process_ops': 300 }], { exact: [...exact, 'sim.maple.store_slot_per_op'], zero: exact });
    const m = build_model([base, head], SIGNIFICANT);
    expect(m.rows.map((r) => r.metric)).toEqual(['sim.maple.store_spanning_per_op']);
    expect(m.rows[0].changes[0]).toMatchObject({ test: 'exact-metric', p: null, significant: true, verdict: 'improvement' });
    expect(FORMATS.text(m)).toContain('sim.maple.store_spanning_per_op  (exact n=1+1)');
  });

  it('runs from before zeros were left out of stats.json: their written zeros still count (0.5 → 0 is an exact change)', () => {
    const exact = ['sim.maple.store_spanning_per_op'];
    const old_manifest = (): Manifest => {
      const m = scalelab_manifest({ exact_metrics: exact });
      delete m.zero_stats;
      return m;
    };
    const grp = (path: string, v: number) => describe_group(group_from(path, [{ run: { name: '0', source: `${path}/0/stats.json`, failed: false, lkp_incomplete: false, manifest: old_manifest() }, stats: { 'sim.maple.store_spanning_per_op': v } }]), path);
    const m = build_model([grp('/r/brk2/process-1/v6.7/c0', 0.5), grp('/r/brk2/process-1/v6.8/c0', 0)], SIGNIFICANT);
    expect(m.rows.map((r) => r.metric)).toEqual(exact);
    expect(m.rows[0].changes[0]).toMatchObject({ test: 'exact-metric', significant: true, change: -100 });
    expect(m.footnotes.join('\n')).not.toContain('missing');
    // From 0, lkp's change is against 1e-100 (+5e+101%): only --format lkp prints that; md says `new`.
    const from_zero = build_model([grp('/r/brk2/process-1/v6.8/c0', 0), grp('/r/brk2/process-1/v6.7/c0', 0.5)], SIGNIFICANT);
    expect(FORMATS.md(from_zero)).toContain('\n      0.00              new       0.50        sim.maple.store_spanning_per_op\n');
    expect(FORMATS.lkp(from_zero)).toContain('\n      0.00         +5e+101%       0.50        sim.maple.store_spanning_per_op\n');
  });

  it('an exact change below --min-change is certain but not shown (1% for sim metrics by default)', () => {
    // Both children fast, slab pages falling differently: 1.0252 against 1.0251 is a 0.0098% change.
    const metric = 'sim.slab.maple_node.free_per_op';
    const base = group('/r/brk2/process-1/v6.7/c0', [{ [metric]: 1.0252, 'sim.mm.brk_per_op': 1 }], { exact: [metric, 'sim.mm.brk_per_op'] });
    const head = group('/r/brk2/process-1/v6.8/c0', [{ [metric]: 1.0251, 'sim.mm.brk_per_op': 1.02 }], { exact: [metric, 'sim.mm.brk_per_op'] });
    const m = build_model([base, head], SIGNIFICANT);
    expect(m.rows.map((r) => r.metric)).toEqual(['sim.mm.brk_per_op']); // +2% passes the 1% floor
    const lower = build_model([base, head], { ...SIGNIFICANT, min_change: 0.005 });
    expect(lower.rows.map((r) => r.metric).sort()).toEqual(['sim.mm.brk_per_op', metric]);
    expect(build_model([base, head], { ...SIGNIFICANT, min_change: 5 }).rows).toEqual([]);
  });

  it('too few runs for the U test: said in a footnote; the headline falls back to lkp gates', () => {
    const base = group('/r/a', runs_of('will-it-scale.per_process_ops', [100, 101, 99]));
    const head = group('/r/b', runs_of('will-it-scale.per_process_ops', [150, 151, 149]));
    const m = build_model([base, head], SIGNIFICANT);
    expect(m.rows).toEqual([]);
    expect(m.footnotes.some((f) => f.startsWith('n=3+3: too few runs for the U test to ever reach p <= 0.05; it needs at least 4 runs per side'))).toBe(true);
    expect(m.footnotes).toContain('Nothing changed significantly among 1 metrics; --all shows every one.');
    expect(m.headlines[0]).toBe("noticed a 50.0% improvement of will-it-scale.per_process_ops (by lkp's gates: 3+3 runs are too few for the U test)");
  });

  it('warns about noise, outliers, differing metric sets and skipped runs', () => {
    const base = group('/r/a', [
      { 'sim.x': 100, 'only.base': 1 },
      { 'sim.x': 101 },
      { 'sim.x': 99 },
      { 'sim.x': 100 },
      { 'sim.x': 102 },
      { 'sim.x': 100, 'will-it-scale.fail': 1 },
    ], { failed: [5] });
    const head = group('/r/b', runs_of('sim.x', [200, 260, 140, 210, 190, 2000]));
    const m = build_model([base, head], SIGNIFICANT);
    expect(m.rows.map((r) => r.metric)).toContain('sim.x');
    const notes = m.footnotes.join('\n');
    expect(notes).toContain('a: 1 run counted only in the failure stats (failed; lkp ncompare counts them in every row).');
    expect(notes).toContain('High noise (CV > 10%) in 1 shown metric: sim.x.');
    expect(notes).toContain('Outliers (|modified z| > 3.5; kept): sim.x in b run 5 (2000).');
    expect(notes).toContain('Metric sets differ: 1 metric missing from b (absent, or 0 in every run): only.base.');
  });
});

describe('row selection and order', () => {
  it("lkp's order: failure rows, the test's own stats, then monitors with fewer rows, each by key; perf-profile by change", () => {
    const stats = (k: number) => ({
      'dmesg.WARNING': k,
      'will-it-scale.per_process_ops': 100 * (1 + k),
      'will-it-scale.workload': 200 * (1 + k),
      'vmstat.b': 10 * (1 + k),
      'mpstat.a': 10 * (1 + k),
      'mpstat.b': 10 * (1 + k),
      'perf-profile.self.b': 10 + 5 * k,
      'perf-profile.self.a': 10 - 5 * k,
      'perf-profile.self.c': 10 + 1 * k,
    });
    const m = build_model([group('/r/a', [stats(0)]), group('/r/b', [stats(1)])], ALL);
    expect(m.rows.map((r) => r.metric)).toEqual([
      'dmesg.WARNING',
      'will-it-scale.per_process_ops',
      'will-it-scale.workload',
      'vmstat.b',
      'mpstat.a',
      'mpstat.b',
      'perf-profile.self.a',
      'perf-profile.self.c',
      'perf-profile.self.b',
    ]);
  });

  it("--lkp-gates: 3 runs on a side, separated medians and ranges, ratio > 1.01 (> 1.05 outside perf metrics)", () => {
    const mk = (key: string, a: number[], b: number[]) => build_model([group('/r/a', runs_of(key, a)), group('/r/b', runs_of(key, b))], LKP).rows.length;
    expect(mk('will-it-scale.per_process_ops', [100, 101, 102], [110, 111, 112])).toBe(1);
    expect(mk('will-it-scale.per_process_ops', [100, 101], [110, 111])).toBe(0); // fewer than 3 runs on both sides
    expect(mk('will-it-scale.per_process_ops', [100, 105, 110], [104, 108, 112])).toBe(0); // ranges overlap the medians
    expect(mk('will-it-scale.per_process_ops', [100, 100.1, 100.2], [100.8, 100.9, 101])).toBe(0); // ratio <= 1.01
    expect(mk('mpstat.cpu.all.usr', [100, 101, 102], [103, 104, 105])).toBe(0); // not a perf metric: needs > 5%
    expect(mk('mpstat.cpu.all.usr', [100, 101, 102], [110, 111, 112])).toBe(1);
  });

  it('several heads: one column and one note per head', () => {
    const key = 'will-it-scale.per_process_ops';
    const m = build_model([group('/r/a', runs_of(key, [98, 99, 101, 102])), group('/r/b', runs_of(key, [148, 149, 151, 152])), group('/r/c', runs_of(key, [102, 101, 99, 98]))], ALL);
    const text = FORMATS.text(m);
    expect(text).toContain('               a                           b                           c \n---------------- --------------------------- --------------------------- \n');
    expect(text).toContain('         %stddev     %change         %stddev     %change         %stddev\n');
    expect(text).toContain('    100.00           +50.0%     150.00            +0.0%     100.00        will-it-scale.per_process_ops  (p=0.029 q=0.029 n=4+4) | ~ (p=1.000 q=1.000 n=4+4)');
    expect(m.headlines).toEqual(['b: noticed a 50.0% improvement of will-it-scale.per_process_ops', 'c: no significant change of will-it-scale.per_process_ops (+0.0%, p=1.000)']);
  });
});

describe('A/A through the model', () => {
  it('1,000 seeded comparisons of two groups of 10 runs from one distribution flag at most alpha of them', () => {
    const rng = new Prng(42);
    const draw = () => Array.from({ length: 10 }, () => 1000 + 30 * normal_quantile(Math.min(1 - 1e-12, Math.max(1e-12, rng.float()))));
    let flagged = 0;
    for (let i = 0; i < 1000; i++) {
      const m = build_model([group('/r/a', runs_of('will-it-scale.per_process_ops', draw())), group('/r/b', runs_of('will-it-scale.per_process_ops', draw()))], { ...SIGNIFICANT, min_change: 0 });
      if (m.rows.length) flagged++;
    }
    expect(flagged / 1000).toBeLessThanOrEqual(0.05);
    expect(flagged).toBeGreaterThan(0);
  });
});

describe('formats', () => {
  const base = group('/r/a', runs_of('will-it-scale.per_process_ops', [100, 101, 99, 102, 98]).map((r) => ({ ...r, '=HYPERLINK("x")': 1 })));
  const head = group('/r/b', runs_of('will-it-scale.per_process_ops', [195, 196, 194, 197, 193]).map((r) => ({ ...r, '=HYPERLINK("x")': 2 })));
  const m = build_model([base, head], ALL);

  it('CSV: csv-stringify rows; a cell a spreadsheet would run as a formula is neutralised', () => {
    const rows = parse_csv(FORMATS.csv(m), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.metric)).toEqual(['will-it-scale.per_process_ops', '\'=HYPERLINK("x")']);
    expect(rows[0]).toMatchObject({ base_n: '5', head_n: '5', base_mean: '100', head_mean: '195', head_significant: 'true', head_p: String(2 / 252) });
    for (const t of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) expect(neutralise(t)).toBe(`'${t}`);
    expect(neutralise('will-it-scale.x')).toBe('will-it-scale.x');
  });

  it('JSON: groups, rows with stats per group and changes per head', () => {
    const j = JSON.parse(FORMATS.json(m));
    expect(j.groups.map((g: { id: string; runs: number }) => [g.id, g.runs])).toEqual([['a', 5], ['b', 5]]);
    const row = j.rows.find((r: { metric: string }) => r.metric === 'will-it-scale.per_process_ops');
    expect(row).toMatchObject({ absolute: false, stats: [{ n: 5, mean: 100 }, { n: 5, mean: 195 }] });
    expect(row.stats[0].stddev).toBeCloseTo(Math.sqrt(2), 12);
    expect(row.changes).toHaveLength(1);
    expect(Object.keys(row.changes[0])).toEqual(expect.arrayContaining(['change', 'p', 'q', 'ci', 'significant']));
    expect(row.changes[0].ci).toHaveLength(2);
  });

  it('markdown: the headline, the sentence, lkp\'s table once, the significance block, the notes', () => {
    const md = FORMATS.md(m);
    // Plain lines: no bold, no backticks; the groups named by their path axis (common: /r).
    expect(md).toMatch(/^noticed a 95\.0% improvement of will-it-scale\.per_process_ops\n\nCompared \/r: b \(5 runs from \/r\/b\) against the base a \(5 runs from \/r\/a\)\.\n\n```\n=====/);
    // lkp's rows once (means 100 and 195: +95.0%), and no markdown table.
    expect(md).toContain('\n    100.00           +95.0%     195.00        will-it-scale.per_process_ops\n      1.00          +100.0%       2.00        =HYPERLINK("x")\n```\n');
    expect(md).not.toMatch(/^\|/m);
    // 5+5 runs fully apart: p = 2/C(10,5) = 0.008; the constant metric's tied normal p is 0.004;
    // Benjamini-Hochberg over the two: q = min(0.004·2/1, 0.008·2/2) = 0.008 for both. The interval
    // of the ratio: the 3rd smallest and largest of the 25 head/base ratios, 193/101 and 197/99.
    expect(md).toContain(
      '\nb against a, row by row:\n\n```\n' +
        '    p      q    n  95% CI of the change  metric\n' +
        '1 improvement:\n' +
        '0.008  0.008  5+5  [+91.1%, +99.0%]      will-it-scale.per_process_ops\n' +
        '\n' +
        '1 other significant change (no known better direction):\n' +
        '0.004  0.008  5+5  [+100.0%, +100.0%]    =HYPERLINK("x")\n' +
        '```\n',
    );
    expect(md).toMatch(/\n\n- Shown: every metric\. p: two-sided Mann-Whitney U \(exact without ties up to\n  50 runs a side, else normal with tie correction\); q: Benjamini-Hochberg\n  over the 2 tested metrics; CI: 95% Hodges-Lehmann interval of the change\.\n$/);
  });
});

describe('compare CLI on result roots', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scalelab-compare-'));
  const write = (path: string, value: unknown) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  };
  // A plain lkp result root: numbered runs with stats.json, nothing else.
  const lkp_group = (commit: string) => join(dir, 'lkp/result/will-it-scale/process-100%-brk2/box/debian/x86_64-rhel/gcc-12', commit);
  const ops = { base: [129400, 129500, 129600, 129450, 129550], head: [252100, 252200, 252150, 252050, 252250] };
  ops.base.forEach((v, i) => write(join(lkp_group('ec81deb6b769dc1b'), String(i), 'stats.json'), { 'will-it-scale.per_process_ops': v, 'mpstat.cpu.all.soft%': 24.47 }));
  ops.head.forEach((v, i) => write(join(lkp_group('6e553c6bcb7746ab'), String(i), 'stats.json'), { 'will-it-scale.per_process_ops': v, 'mpstat.cpu.all.soft%': 17.29 }));
  write(join(lkp_group('6e553c6bcb7746ab'), '5', 'stats.json'), { 'will-it-scale.per_process_ops': 1, 'last_state.is_incomplete_run': 1 });
  // A group that is only a matrix.json.
  write(join(dir, 'matrix-only', 'matrix.json'), { 'will-it-scale.per_process_ops': ops.base, stats_source: ops.base.map((_, i) => `/x/${i}/stats.json`) });
  // A scalelab result root with manifests.
  const results = join(dir, 'results');
  const manifest = (kernel: string, label: string | null, commit: string) => ({ workload: 'brk2', label, mode: 'process', tasks: [1], nr_cpus: 2, mem_mb: 256, duration_s: 5, seed: 1, params: {}, kernel: { preset: kernel, id: kernel, knobs: { 'fork.dup_mmap': kernel === 'v6.7' ? 'bulk_store' : 'mt_dup' }, overrides: {} }, exact_metrics: ['sim.maple.store_spanning_per_op'], layout: { kind: 'maps', name: kernel === 'v6.7' ? 'one.maps' : 'two.maps', sha256: null }, commit: { id: commit, sha: commit.padEnd(40, '0'), dirty: false }, host: { node: 'v20', cpu_model: 'cpu', cpus: 2, platform: 'linux' }, status: 'complete' });
  for (const [kernel, commit, label, spanning] of [['v6.7', 'aaaa11112222', 'before', 0.5], ['v6.8', 'aaaa11112222', 'after', 0], ['v6.8', 'bbbb33334444', 'later', 0]] as const) {
    for (let r = 0; r < 4; r++) {
      const run = join(results, 'brk2', 'process-1', kernel, commit, String(r));
      // Zeros are left out of stats.json, as lkp's dump-stat leaves them out, and named in the manifest.
      write(join(run, 'stats.json'), { 'will-it-scale.per_process_ops': (kernel === 'v6.7' ? 100 : 200) + r, ...(spanning ? { 'sim.maple.store_spanning_per_op': spanning } : {}) });
      write(join(run, 'manifest.json'), { ...manifest(kernel, label, commit), zero_stats: spanning ? [] : ['sim.maple.store_spanning_per_op'] });
    }
  }
  write(join(results, 'brk2', 'process-1', 'v6.7', 'aaaa11112222', '4', 'incomplete'), '');

  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'compare.ts'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SCALELAB_RESULTS: results } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('reads a plain lkp result root; --format lkp prints what ncompare prints', () => {
    const r = run(lkp_group('ec81deb6b769dc1b'), lkp_group('6e553c6bcb7746ab'), '--format', 'lkp');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('commit: \n  ec81deb6b769dc1b\n  6e553c6bcb7746ab\n\nec81deb6b769dc1b            6e553c6bcb7746ab \n---------------- --------------------------- \n');
    expect(r.stdout).toContain('    129500           +94.7%     252150        will-it-scale.per_process_ops\n');
    expect(r.stdout).toContain('     24.47            -7.2       17.29        mpstat.cpu.all.soft%\n');
  });

  it('text: the headline, notes and a footnote for the incomplete run', () => {
    const r = run(lkp_group('ec81deb6b769dc1b'), lkp_group('6e553c6bcb7746ab'));
    expect(r.code).toBe(0);
    // The head's incomplete run is a failure the base did not have: in one run of six, it follows the numbers.
    expect(r.stdout.split('\n')[0]).toBe('noticed a 94.7% improvement of will-it-scale.per_process_ops; and a failure: last_state.is_incomplete_run 0:5 → 1:6');
    expect(r.stdout).toContain('    129500           +94.7%     252150        will-it-scale.per_process_ops  (p=0.008 q=0.008 n=5+5)\n');
    // The true reproduction, 1 of 6 runs: 17% (lkp's own table divides by the base's 5 runs: 20%).
    expect(r.stdout).toContain('           :5           17%           1:6     last_state.is_incomplete_run\n');
    expect(r.stdout).toContain('* 6e553c6bcb7746ab: 1 run counted only in the failure stats (failed).');
  });

  it('a matrix.json alone is a group', () => {
    const r = run(join(dir, 'matrix-only'), lkp_group('6e553c6bcb7746ab'), '--all', '--force', '--format', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).groups[0].runs).toBe(5);
  });

  it('selectors in the result root: kernel preset, label, commit prefix, key=value filters', () => {
    for (const [a, b] of [['v6.7', 'after'], ['before', 'kernel=v6.8,commit=aaaa'], ['fork.dup_mmap=bulk_store', 'bbbb'], ['layout=one.maps', 'layout=two.maps,commit=aaaa']]) {
      const r = run(a, b, '--format', 'json', '--all');
      expect(r.code, `${a} ${b}: ${r.stderr}`).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.groups.map((g: { runs: number }) => g.runs)).toEqual([4, 4]);
      const spanning = j.rows.find((x: { metric: string }) => x.metric === 'sim.maple.store_spanning_per_op');
      expect(spanning).toMatchObject({ exact: true, changes: [{ test: 'exact-metric', significant: true }] });
    }
  });

  it('--output writes the report to a file atomically', () => {
    const out = join(dir, 'report.md');
    const r = run('v6.7', 'after', '--format', 'md', '--output', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toBe(run('v6.7', 'after', '--format', 'md').stdout);
  });

  const bad: [string, string[], RegExp][] = [
    ['a missing path', ['./nowhere', 'v6.8'], /^compare: no such file or directory: \.\/nowhere$/],
    ['a directory without runs', [dir, 'after'], /^compare: .*: no runs \(no numbered run directories with stats\.json, no matrix\.json\)$/],
    ['an unknown format', ['v6.7', 'after', '--format', 'xml'], /^compare: unknown format 'xml' \(formats: text, lkp, md, csv, json\)$/],
    ['a selector that matches nothing', ['v9.9', 'after'], /^compare: 'v9\.9' matches no runs in /],
    ['a selector that matches several groups none of which pairs up', ['v6.8', 'v6.7'], /^compare: no groups of 'v6\.8' and 'v6\.7' differ only in kernel \(the most alike also differ in layout\): 'v6\.8' matches 2 groups: brk2\/process-1\/v6\.8\/aaaa11112222, brk2\/process-1\/v6\.8\/bbbb33334444$/],
    ['an unknown axis', ['colour=red', 'v6.7'], /^compare: unknown axis 'colour' in 'colour=red'/],
    ['one selector only', ['v6.7'], /^compare: need a base and at least one head/],
    ['a bad --alpha', ['v6.7', 'after', '--alpha', '0'], /^compare: --alpha: '0' is not a probability between 0 and 1$/],
    ['a negative --alpha', ['v6.7', 'after', '--alpha', '-0.1'], /^compare: --alpha: '-0\.1' is not a probability between 0 and 1$/],
    ['an unknown flag', ['v6.7', 'after', '--bogus'], /^compare: unknown option '--bogus' \(see --help\)$/],
    ['--output that is a directory', ['v6.7', 'after', '--output', dir], /^compare: cannot write .*: EISDIR \(is a directory\)$/],
    ['an empty --results', ['v6.7', 'after', '--results', ''], /^compare: --results: empty path$/],
    ['groups of different workloads', [lkp_group('ec81deb6b769dc1b'), 'after'], /^compare: the groups are of different workloads \(will-it-scale, brk2\); --force compares them anyway$/],
  ];
  for (const [name, args, message] of bad) {
    it(`${name}: one line on stderr, exit 2`, () => {
      const r = run(...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    });
  }

  it('--output into a directory leaves no temporary file behind', () => {
    const before = readdirSync(join(dir, '..')).filter((f) => f.includes('.tmp-'));
    run('v6.7', 'after', '--output', dir);
    expect(readdirSync(join(dir, '..')).filter((f) => f.includes('.tmp-'))).toEqual(before);
  });

  it('--version', () => {
    expect(run('--version').stdout).toBe(`scalelab ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`);
  });

  it('a stats.json that is a directory, and a truncated stats.json.gz: the runs are skipped with a footnote, the rest compares', () => {
    for (const [i, v] of [1, 2, 3].entries()) write(join(dir, 'odd', String(i), 'stats.json'), { 'will-it-scale.per_process_ops': v });
    mkdirSync(join(dir, 'odd', '3', 'stats.json'), { recursive: true });
    mkdirSync(join(dir, 'odd', '4'));
    writeFileSync(join(dir, 'odd', '4', 'stats.json.gz'), gzipSync('{"will-it-scale.per_process_ops": 4, "more": 5}').subarray(0, 20));
    const r = run(join(dir, 'odd'), join(dir, 'odd'), '--all');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`* odd: 2 damaged runs skipped (${join(dir, 'odd', '3', 'stats.json')}: a directory, not a file; ${join(dir, 'odd', '4', 'stats.json.gz')}: truncated gzip data).`);
  });

  it('a group whose only run has a corrupt stats.json: the error names the file', () => {
    write(join(dir, 'corrupt', '0', 'stats.json'), '{"will-it-scale.per_process_ops": 1,');
    const r = run(join(dir, 'corrupt'), 'after', '--force');
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^compare: .*corrupt: no runs to compare \\(0 incomplete, 1 damaged: ${join(dir, 'corrupt', '0', 'stats.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
  });

  it('non-numeric values are skipped and counted in a footnote', () => {
    write(join(dir, 'strings', '0', 'stats.json'), { 'will-it-scale.per_process_ops': 100, 'will-it-scale.note': 'text' });
    const r = run(join(dir, 'strings'), join(dir, 'strings'), '--all');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 non-numeric value skipped \(e\.g\. will-it-scale\.note in .*strings\/0\/stats\.json\)/);
  });
});

describe('gzipped lkp results', () => {
  it('reads stats.json.gz run by run, matrix.json.gz in a group, and a matrix.json.gz given as the path', () => {
    const root = mkdtempSync(join(tmpdir(), 'scalelab-gz-'));
    const runs = join(root, 'runs');
    const values = [[100, 1], [110, 1], [90, 2]];
    values.forEach(([ops, fails], i) => {
      mkdirSync(join(runs, String(i)), { recursive: true });
      writeFileSync(join(runs, String(i), 'stats.json.gz'), gzipSync(JSON.stringify({ 'will-it-scale.per_process_ops': ops, 'dmesg.BUG': fails })));
    });
    const matrix = { 'will-it-scale.per_process_ops': [100, 110, 90], 'dmesg.BUG': [1, 1, 2] };
    mkdirSync(join(root, 'matrix'));
    writeFileSync(join(root, 'matrix', 'matrix.json.gz'), gzipSync(JSON.stringify(matrix)));
    for (const path of [runs, join(root, 'matrix'), join(root, 'matrix', 'matrix.json.gz')]) {
      const g = load_path(path);
      expect(g.complete.get('will-it-scale.per_process_ops'), path).toEqual([100, 110, 90]);
      expect(g.all.get('dmesg.BUG'), path).toEqual([1, 1, 2]);
    }
  });
});

// Issue 9, item 3: selectors that work for the README's own workflow.
describe('selectors pair groups up', () => {
  const results = mkdtempSync(join(tmpdir(), 'scalelab-pairs-'));
  const hash = (k: string) => createHash('sha256').update(k).digest('hex').slice(0, 12);
  const put = (kernel_id: string, preset: string, mode: string, label: string | null, knobs: Record<string, unknown> = {}) => {
    const dir = join(results, 'brk2', `${mode}-1,2-cpus=2`, kernel_id, 'aaaa11112222');
    for (let r = 0; r < 3; r++) {
      mkdirSync(join(dir, String(r)), { recursive: true });
      writeFileSync(join(dir, String(r), 'stats.json'), JSON.stringify({ 'will-it-scale.per_process_ops': (preset === 'v6.7' ? 100 : 200) + r }));
      const m = { workload: 'brk2', label, mode, tasks: [1, 2], nr_cpus: 2, mem_mb: 256, duration_s: 5, interval_s: 1, warmup: 6, seed: 1, params: {}, kernel: { preset, id: kernel_id, hash: hash(kernel_id), knobs: { 'fork.dup_mmap': preset === 'v6.7' ? 'bulk_store' : 'mt_dup', 'kernel.hz': 1000, ...knobs }, overrides: knobs }, exact_metrics: [], layout: { kind: 'maps', name: 'one.maps', sha256: null }, commit: { id: 'aaaa11112222', sha: 'aaaa11112222'.padEnd(40, '0'), dirty: false }, host: { node: 'v20', cpu_model: 'cpu', cpus: 2, platform: 'linux' }, status: 'complete' };
      writeFileSync(join(dir, String(r), 'manifest.json'), JSON.stringify(m));
    }
    return dir;
  };
  const g = {
    v67p: put('v6.7', 'v6.7', 'process', null),
    v67t: put('v6.7', 'v6.7', 'thread', null),
    v68p: put('v6.8', 'v6.8', 'process', null),
    v68t: put('v6.8', 'v6.8', 'thread', null),
    hz: put('v6.8+kernel.hz=250', 'v6.8', 'process', 'a/b=c,d', { 'kernel.hz': 250 }),
    two: put('v6.8+kernel.hz=250,fork.dup_mmap=bulk_store', 'v6.8', 'thread', null, { 'kernel.hz': 250, 'fork.dup_mmap': 'bulk_store' }),
  };
  const sel = (...texts: string[]) => new Selector(results).resolve_all(texts).map((x) => x.path);

  it('a bare preset means the kernel without overrides; kernel= is the exact kernel id; preset= the family', () => {
    expect(sel('v6.7,mode=process', 'v6.8')).toEqual([g.v67p, g.v68p]);
    expect(sel('kernel=v6.8,mode=process', 'v6.8+kernel.hz=250')).toEqual([g.v68p, g.hz]);
    expect(() => sel('preset=v6.8,mode=process')).toThrow(/'preset=v6\.8,mode=process' is ambiguous|matches 2 groups/);
  });

  it('several matches pair up when one way only differs in the compared axis; otherwise the error lists the pairs and a filter', () => {
    // v6.8+kernel.hz=250 has no thread group: with mode fixed on one side, the other side follows.
    expect(sel('v6.7,mode=thread', 'v6.8')).toEqual([g.v67t, g.v68t]);
    expect(sel('v6.7', 'v6.8,mode=thread')).toEqual([g.v67t, g.v68t]);
    expect(() => sel('v6.7', 'v6.8')).toThrow(/^'v6\.7' and 'v6\.8' pair up 2 ways that differ only in kernel \(brk2\/process-1,2-cpus=2\/v6\.7\/aaaa11112222 vs brk2\/process-1,2-cpus=2\/v6\.8\/aaaa11112222; brk2\/thread-1,2-cpus=2\/v6\.7\/aaaa11112222 vs brk2\/thread-1,2-cpus=2\/v6\.8\/aaaa11112222\); add a filter to choose, e.g\. v6\.7,mode=process$/);
  });

  it('pairing works along any axis, a label is a name and no part of the experiment, and a path takes part', () => {
    expect(sel('mode=thread,kernel=v6.7', 'mode=process')).toEqual([g.v67t, g.v67p]);
    expect(() => sel('mode=thread', 'mode=process')).toThrow(/pair up 2 ways that differ only in mode .*e\.g\. mode=thread,kernel=v6\.7$/);
    // The selectors name no axis in common (kernel, label): either may differ, nothing else.
    expect(sel('v6.8', 'label=a/b=c,d')).toEqual([g.v68p, g.hz]);
    expect(sel(g.v67t, 'v6.8')).toEqual([g.v67t, g.v68t]);
  });

  it('a kernel id with several overrides is one selector, bare or after kernel=', () => {
    expect(sel('v6.8+kernel.hz=250,fork.dup_mmap=bulk_store')).toEqual([g.two]);
    expect(sel('kernel=v6.8+kernel.hz=250,fork.dup_mmap=bulk_store')).toEqual([g.two]);
  });

  it('a result root that is a file: one line', () => {
    const file = join(results, 'brk2', 'process-1,2-cpus=2', 'v6.7', 'aaaa11112222', '0', 'stats.json');
    expect(() => new Selector(file).resolve('v6.7')).toThrow(/^result root .* is not a directory$/);
  });

  it('values may hold / = and commas', () => {
    expect(sel('label=a/b=c,d')).toEqual([g.hz]);
    expect(sel('label=a/b=c,d,mode=process')).toEqual([g.hz]);
    expect(() => sel('a/b')).toThrow(/^no such file or directory: a\/b$/);
    expect(() => sel('mod=process')).toThrow(/^unknown axis 'mod' in 'mod=process'/);
  });
});

// Issue 9, item 4: a failure is the headline, and a failed run is no perf value.
describe('failures in the comparison', () => {
  const ok = (v: number) => ({ 'will-it-scale.per_process_ops': v });
  const failed = (v: number) => ({ 'will-it-scale.per_process_ops': v, 'will-it-scale.fail': 1, 'last_state.exit_fail': 1 });

  it('a head that failed in every run: the failure is the headline, as the robot writes it', () => {
    const base = group('/r/base', [100, 101, 102, 103, 104].map(ok));
    const head = group('/r/head', [50, 51, 52, 53, 54].map(failed), { failed: [0, 1, 2, 3, 4] });
    const m = build_model([base, head], SIGNIFICANT);
    expect(m.headlines).toEqual(['noticed a failure: will-it-scale.fail 0:5 → 5:5']);
  });

  it('a failed run counts in the failure block only: its perf values are left out', () => {
    const base = group('/r/base', [100, 101, 102].map(ok));
    const head = group('/r/head', [ok(200), ok(202), failed(0)], { failed: [2] });
    const m = build_model([base, head], ALL);
    const perf = m.rows.find((r) => r.metric === 'will-it-scale.per_process_ops')!;
    expect(perf.stats[1].values).toEqual([200, 202]);
    expect(perf.stats[1].mean).toBe(201);
    const fail = m.rows.find((r) => r.metric === 'will-it-scale.fail')!;
    expect(fail.stats.map((s) => `${s.fails}:${s.runs}`)).toEqual(['0:3', '1:3']);
    // (201 − 101)/101 = +99.0%; 3 runs against 2 cannot go below p = 2/C(5,2) = 0.2.
    expect(m.headlines).toEqual(['no significant change of will-it-scale.per_process_ops (+99.0%, p=0.200); and a failure: will-it-scale.fail 0:3 → 1:3']);
  });
});

// Issue 9, item 6: statistics that can be true.
describe('statistics that can be true', () => {
  const key = 'will-it-scale.per_process_ops';

  it('a non-numeric value is skipped: it is not a 0, and not in n', () => {
    const base = group('/r/base', [{ [key]: 100 }, { [key]: 100 }, { [key]: 'text' as unknown as number }]);
    const head = group('/r/head', runs_of(key, [100, 100, 100]));
    const r = build_model([base, head], ALL).rows.find((x) => x.metric === key)!;
    expect(r.stats[0].n).toBe(2);
    expect(r.stats[0].mean).toBe(100);
    expect(r.changes[0].change).toBe(0);
  });

  it('the interval of a non-negative count does not go below -100%', () => {
    // Differences head − base run from −15 to −4 against a base mean of 10: unbounded, the interval would reach about −130%.
    const base = group('/r/base', runs_of('sim.rcu.callbacks', [5, 10, 15, 10, 10]));
    const head = group('/r/head', runs_of('sim.rcu.callbacks', [0, 0, 0, 0, 1]));
    const c = build_model([base, head], ALL).rows[0].changes[0];
    expect(c.ci![0]).toBe(-100);
    expect(c.ci![1]).toBeGreaterThanOrEqual(-100);
  });

  it('values near the largest double: a finite change, not NaN', () => {
    const base = group('/r/base', runs_of(key, [1.7e308, 1.6e308, 1.75e308, 1.65e308, 1.7e308]));
    const head = group('/r/head', runs_of(key, [1.2e308, 1.1e308, 1.3e308, 1.25e308, 1.15e308]));
    const r = build_model([base, head], ALL).rows[0];
    // (1.2 − 1.68) / 1.68 = −28.571…%
    expect(r.stats[0].mean).toBeCloseTo(1.68e308, -300);
    expect(r.changes[0].change).toBeCloseTo(-28.5714, 3);
    expect(FORMATS.text(build_model([base, head], ALL))).toMatch(/-28\.6%/);
  });

  it('from 0 and to 0: `new` and `gone` outside --format lkp; 0 → 0 is no change', () => {
    const base = group('/r/base', [0, 0, 0, 0].map(() => ({ a: 0, b: 7, c: 0, d: 1 })));
    const head = group('/r/head', [0, 0, 0, 0].map(() => ({ a: 5, b: 0, c: 0, d: 1 })));
    const m = build_model([base, head], ALL);
    const change = (k: string) => m.rows.find((r) => r.metric === k)!.changes[0];
    expect(change('a')).toMatchObject({ change: null, appeared: 'new', ci: null });
    expect(change('b')).toMatchObject({ change: -100, appeared: 'gone' });
    const text = FORMATS.text(m);
    expect(text).toMatch(/\n {6}0\.00 {14}new {7}5\.00 {8}a {2}/);
    expect(text).toMatch(/\n {6}7\.00 {13}gone {7}0\.00 {8}b {2}/);
    expect(FORMATS.lkp(m)).toMatch(/\n {6}0\.00 {9}\+5e\+102% {7}5\.00 {8}a\n/);
    expect(JSON.parse(FORMATS.json(m)).rows.find((r: { metric: string }) => r.metric === 'a').changes[0]).toMatchObject({ change: null, appeared: 'new' });
  });

  it("0 → 0 under --all is +0.0%, not lkp's -100%", () => {
    // A second head gives the metric a value, so lkp's matrix keeps it; the first head's 0 → 0 is
    // lkp's −100% (0 − 1e-100 over 1e-100) and no change in the other formats.
    const g = (path: string, v: number) => group(path, [0, 1, 2].map((i) => ({ 'will-it-scale.per_thread_ops': v, [key]: 100 + i })));
    const m = build_model([g('/r/base', 0), g('/r/head', 0), g('/r/head2', 5)], ALL);
    const row = m.rows.find((r) => r.metric === 'will-it-scale.per_thread_ops')!;
    expect(row.changes[0]).toMatchObject({ change: 0, appeared: null });
    expect(row.changes[0].lkp_change).toBeCloseTo(-100, 10);
    expect(FORMATS.text(m)).toMatch(/\n {6}0\.00 {12}\+0\.0% {7}0\.00 {14}new {7}5\.00 {8}will-it-scale\.per_thread_ops/);
    expect(FORMATS.lkp(m)).toMatch(/\n {6}0\.00 {10}-100\.0% {7}0\.00 {9}\+5e\+102% {7}5\.00 {8}will-it-scale\.per_thread_ops/);
  });
});
