// lkp's rules as scalelab reads them, each against lkp-tests' source worked by hand
// (lib/stats.rb, lib/job.rb, lib/data_store.rb, lib/matrix.rb, sbin/dump-stat at bbbc29c495d9).

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { job_axes, lkp_group_axes, path_axes, read_job, ruby_float_to_s, stored_axes } from '../src/compare/lkp/axes.ts';
import { ruby_regex } from '../src/compare/lkp/ruby_regex.ts';
import { whole_float_literals } from '../src/compare/lkp/json.ts';
import { ALL_PATTERNS, ALL_TESTS, function_stat, LKP_TESTS_COMMIT, perf_metric, reasonable_perf_change, reportable_stat, TABLE_COMMITS } from '../src/compare/lkp/tables.ts';
import { load_path } from '../src/compare/load.ts';
import { lkp_stats } from '../src/results/store.ts';
import { ruby_sum } from '../src/stats/describe.ts';

describe("lkp-tests' tables", () => {
  it('come from one lkp-tests commit', () => {
    expect(LKP_TESTS_COMMIT).toBe('bbbc29c495d9617f28dbc8b799cf0dac9a1ca54e');
    for (const [source, commit] of TABLE_COMMITS) expect(commit, source).toBe(LKP_TESTS_COMMIT);
  });

  it('every pattern means in JavaScript what it means in Ruby: no syntax the two read differently', () => {
    // Ruby-only or differently-read constructs: \A \z \Z \h \H, (?<name>, (?#, possessive ++ *+ ?+, \p{, \G, \K, [[:
    const ruby_only = /\\[AzZhHGKp]|\(\?[<#]|[+*?]\+|\[\[:/;
    for (const p of ALL_PATTERNS) {
      expect(() => new RegExp(p), p).not.toThrow();
      expect(ruby_only.test(p), p).toBe(false);
    }
  });

  it("function_stat?: etc/failure and etc/pass anchored at the start; .time., .timestamp: and .bootstage: are not", () => {
    expect(function_stat('dmesg.BUG:soft_lockup')).toBe(true);
    expect(function_stat('will-it-scale.fail')).toBe(true);
    // .+\.(error|warn|fail)[^_]*$ — "failures" is "fail" and "ures".
    expect(function_stat('sim.page_alloc.failures')).toBe(true);
    expect(function_stat('sim.page_alloc.fail_count')).toBe(false);
    expect(function_stat('foo.pass')).toBe(true);
    expect(function_stat('kmsg.timestamp:last')).toBe(false);
    expect(function_stat('dmesg.timestamp:last')).toBe(false);
    expect(function_stat('will-it-scale.per_process_ops')).toBe(false);
  });

  it("perf_metric?: etc/perf-metrics-prefixes, the patterns, and every parsed performance test; not sim.*", () => {
    expect(perf_metric('perf-stat.i.ipc')).toBe(true);
    expect(perf_metric('time.elapsed_time')).toBe(true); // ^(.*\.)?time..*
    expect(perf_metric('lock_stat.mmap_lock.contentions')).toBe(true);
    expect(perf_metric('will-it-scale.per_process_ops')).toBe(true); // will-it-scale has run and parse
    expect(perf_metric('hackbench.throughput')).toBe(true);
    expect(perf_metric('sim.maple.nodes_allocated_per_op')).toBe(false);
    expect(perf_metric('meminfo.Slab')).toBe(false);
    expect(perf_metric('mpstat.cpu.all.sys%')).toBe(false);
  });

  it('the report filter: a denylisted stat is hidden unless the stat or the report allowlist names it', () => {
    expect(reportable_stat('interrupts.CPU0.LOC:Local_timer_interrupts')).toBe(false); // ^interrupts\.
    expect(reportable_stat('meminfo.Slab')).toBe(true); // denylisted, on the report allowlist (^meminfo.)
    expect(reportable_stat('stderr.mount_nfs_timeout')).toBe(true); // on the stat allowlist
    expect(reportable_stat('will-it-scale.per_process_ops')).toBe(true);
  });

  it('reasonable_perf_change?: the threshold yaml first (an Integer threshold halves by integer division), then the built-in floors', () => {
    // vmstat.system.cs: 100 — max must reach 100 and delta 50.
    expect(reasonable_perf_change('vmstat.system.cs', 50, 100)).toBe(true);
    expect(reasonable_perf_change('vmstat.system.cs', 49, 100)).toBe(false);
    expect(reasonable_perf_change('vmstat.system.cs', 1000, 99)).toBe(false);
    // .*.time.elapsed_time.*: 10 matches "x.time.elapsed_time" but not "time.elapsed_time" (needs a character before .time).
    expect(reasonable_perf_change('x.time.elapsed_time', 4, 20)).toBe(false);
    expect(reasonable_perf_change('time.elapsed_time', 4, 20)).toBe(true);
    // A Float threshold (2.00) never applies the delta rule.
    expect(reasonable_perf_change('perf-profile.children.cycles-pp.native_queued_spin_lock_slowpath', 0.01, 2)).toBe(true);
    expect(reasonable_perf_change('proc-vmstat.pgfree', 1e6, 1000)).toBe(false);
    expect(reasonable_perf_change('slabinfo.x', 101, 0)).toBe(true);
    expect(reasonable_perf_change('lock_stat.x.waittime', 1000, 0)).toBe(false);
    expect(reasonable_perf_change('softirqs.CPU1.RCU', 0, 10_001)).toBe(true);
  });

  it('all_tests_set holds the tests and daemons', () => {
    for (const t of ['will-it-scale', 'hackbench', 'ebizzy']) expect(ALL_TESTS.has(t), t).toBe(true);
    for (const m of ['vmstat', 'mpstat', 'perf-profile']) expect(ALL_TESTS.has(m), m).toBe(false);
  });
});

describe("Ruby's Integer and Float in JSON", () => {
  it('finds whole numbers written as Floats, per key and per array index', () => {
    const flat = whole_float_literals('{"a": 7.0, "b": 7, "c": 1e5, "d": 2.5, "e\\"x": -0.0, "s": "1.0"}');
    expect([...flat]).toEqual([['a', true], ['c', true], ['e"x', true]]);
    const arrays = whole_float_literals('{"m": [1, 2.0, 3, 4E1], "n": [0.5, 0], "stats_source": ["/a/1.0", "/b"]}');
    expect([...arrays]).toEqual([['m', [1, 3]]]);
  });
});

describe("lkp's matrix from stats.json files (unite_to)", () => {
  it('drops a stat whose every value is an Integer 0 and the per-CPU sched_debug stats; zero-fills the rest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scalelab-unite-'));
    const runs = ['{"a": 0, "b": 0.0, "c": 0, "sched_debug.cpu.nr_running.3": 5, "sched_debug.cpu.nr_running.avg": 5}', '{"a": 0, "b": 0, "c": 4}'];
    runs.forEach((text, i) => {
      mkdirSync(join(dir, String(i)));
      writeFileSync(join(dir, String(i), 'stats.json'), text);
    });
    const g = load_path(dir);
    // `c` enters with its first non-zero value, after the stats run 0 kept.
    expect([...g.all.keys()]).toEqual(['b', 'sched_debug.cpu.nr_running.avg', 'c']);
    expect(g.all.get('c')).toEqual([0, 4]);
    expect(g.all.get('sched_debug.cpu.nr_running.avg')).toEqual([5, 0]);
    expect([...g.floats.get('b')!]).toEqual([0]);
  });

  it('scalelab writes stats.json as dump-stat does: zeros left out (a dmesg.timestamp kept), and named', () => {
    expect(lkp_stats({ a: 1, b: 0, 'dmesg.timestamp:last': 0, c: 0.5 })).toEqual({ stats: { a: 1, 'dmesg.timestamp:last': 0, c: 0.5 }, zero_stats: ['b'] });
  });
});

describe("lkp's axes (DataStore)", () => {
  it("Job#axes of golden s2's job.yaml: the maxis keys and every program parameter, stored sorted", () => {
    const job = { suite: 'will-it-scale', testcase: 'will-it-scale', nr_task: '100%', 'will-it-scale': { mode: 'process', test: 'brk2' }, cpufreq_governor: 'performance', tbox_group: 'lkp-icl-2sp9', rootfs: 'debian-12-x86_64-20240206.cgz', kconfig: 'x86_64-rhel-8.3', compiler: 'gcc-12', commit: 'a721613df737864a684d7bcfb5d5078c4a104a9b' };
    expect(stored_axes(job_axes(job))).toEqual([
      ['commit', 'a721613df737864a684d7bcfb5d5078c4a104a9b'],
      ['compiler', 'gcc-12'],
      ['cpufreq_governor', 'performance'],
      ['kconfig', 'x86_64-rhel-8.3'],
      ['mode', 'process'],
      ['nr_task', '100%'],
      ['rootfs', 'debian-12-x86_64-20240206.cgz'],
      ['tbox_group', 'lkp-icl-2sp9'],
      ['test', 'brk2'],
      ['testcase', 'will-it-scale'],
    ]);
  });

  it('Job#axes: an Integer parameter becomes its digits, a rootfs path its file name, a missing compiler gcc-7', () => {
    const axes = job_axes({ testcase: 'hackbench', rootfs: '/osimage/debian/debian-12.cgz', nr_threads: 16, 'hackbench': { mode: 'threads' } });
    expect(axes.get('rootfs')).toBe('debian-12.cgz');
    expect(axes.get('compiler')).toBe('gcc-7');
    expect(axes.get('mode')).toBe('threads');
  });

  it('ResultPath from the path: the testcase and the default scheme, `run` absent and stored empty; a value stops at its first "="', () => {
    const axes = path_axes('/x/result/will-it-scale/process-100%-brk2/box/debian.cgz/x86_64-rhel/gcc-12/0123456789abcdef0123456789abcdef01234567');
    expect(stored_axes(axes).map(([k, v]) => `${k}=${v}`).join('/')).toBe(
      'commit=0123456789abcdef0123456789abcdef01234567/compiler=gcc-12/kconfig=x86_64-rhel/path_params=process-100%-brk2/rootfs=debian.cgz/run=/tbox_group=box/testcase=will-it-scale',
    );
    expect(stored_axes(new Map([['path_params', 'a=1-b']]))).toEqual([['path_params', 'a']]);
  });

  it("a group's job file: the first run's in glob order (10 before 2)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'scalelab-job-'));
    for (const [run, test] of [['2', 'brk1'], ['10', 'brk2']]) {
      mkdirSync(join(dir, run));
      writeFileSync(join(dir, run, 'job.yaml'), `testcase: will-it-scale\nwill-it-scale:\n  test: ${test}\n`);
    }
    expect(lkp_group_axes(dir)).toContainEqual(['test', 'brk2']);
  });
});

describe('job.yaml values as Ruby reads them', () => {
  it("Psych's YAML 1.1 numbers, and Ruby's to_s of them (values from ruby 3.1)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'scalelab-yaml-'));
    writeFileSync(join(dir, 'job.yaml'), 'a: 1.0\nb: 1e3\nc: 0x10\nd: on\ne: 2.50\nf: .5\ng: 1_000\nh: 1.0e3\ni: 0\nj: 1.5e+20\n');
    // ruby -ryaml -e 'p YAML.load(...).transform_values(&:to_s)'
    const job = read_job(join(dir, 'job.yaml'))!;
    expect(Object.fromEntries(Object.entries(job).map(([k, v]) => [k, String(v)]))).toEqual({ a: '1.0', b: '1e3', c: '16', d: 'true', e: '2.5', f: '0.5', g: '1000', h: '1.0e3', i: '0', j: '1.5e+20' });
  });

  it("Float#to_s (values from ruby 3.1)", () => {
    expect([1e20, 1e-5, 123.0, 0.1, 1e15, 999999999999999.0, 1234567890123456.0, 0.0001, 0.000099, -2.5e-7].map(ruby_float_to_s)).toEqual(['1.0e+20', '1.0e-05', '123.0', '0.1', '1.0e+15', '999999999999999.0', '1.234567890123456e+15', '0.0001', '9.9e-05', '-2.5e-07']);
  });
});

describe('Ruby regexes', () => {
  // Each subject list was matched by ruby 3.1 (`x =~ Regexp.new(src)`): 1 matches, 0 does not.
  const cases: [string, string[], string][] = [
    ['^c++\\.(error|warn|fail)$', ['c.fail', 'cc.warn', 'c++.fail', '.fail'], '1100'], // possessive
    ['^x\\h\\.(error|warn|fail)$', ['x1.error', 'xh.error', 'x\\h.error', 'xF.fail'], '1001'], // hex digit
    ['^foo{,2}\\.(error|warn|fail)$', ['fo.fail', 'foo.fail', 'fooo.fail', 'foooo.fail', 'foo{,2}.fail'], '11100'], // at most 2
    ['^(?i)ab\\.(error|warn|fail)$', ['AB.fail', 'ab.FAIL', 'aB.warn', 'ac.fail'], '1110'], // inline flag
    ['^a+b\\.(error|warn|fail)$', ['aab.fail', 'a+b.fail'], '10'],
    ['^foo(bar)\\.(error|warn|fail)$', ['foobar.fail', 'foo(bar).fail'], '10'],
    ['^a(?>b+)b$', ['abb', 'ab'], '00'], // atomic
  ];
  for (const [src, subjects, want] of cases) {
    it(src, () => expect(subjects.map((x) => (ruby_regex(src).test(x) ? 1 : 0)).join('')).toBe(want));
  }
  it('a stem Ruby cannot read is an error here too', () => {
    expect(() => ruby_regex('^baz(\\.(error|warn|fail)$')).toThrow(SyntaxError);
  });
});

describe("Psych's scalars", () => {
  it("a job's parameters as Ruby 3.1 reads and prints them (ruby -ryaml -e 'p YAML.load(...).transform_values(&:to_s)')", () => {
    const dir = mkdtempSync(join(tmpdir(), 'scalelab-psych-'));
    // will-it-scale's run script declares runtime, test, mode, nr_task, no_affinity and smt.
    writeFileSync(join(dir, 'job.yaml'), 'testcase: will-it-scale\nwill-it-scale:\n  test: 5:00\n  mode: .nan\n  nr_task: [1, 2]\n  runtime: 016\n  smt: 1.5e+3\n  no_affinity: n\n');
    const axes = job_axes(read_job(join(dir, 'job.yaml'))!);
    expect(Object.fromEntries(['test', 'mode', 'nr_task', 'runtime', 'smt', 'no_affinity'].map((k) => [k, axes.get(k)]))).toEqual({
      test: '18000', // base 60, part e weighed by 60^|e-2|
      mode: 'NaN',
      nr_task: '[1, 2]',
      runtime: '14', // octal
      smt: '1500.0',
      no_affinity: 'n', // y and n are strings to Psych
    });
  });
});

describe("Ruby's Array#sum", () => {
  it('Integers exactly up to the first Float, Kahan–Babuska after it (values from ruby 3.1)', () => {
    const big = (values: number[], bigs: Record<number, bigint>) => ({ float: (i: number) => !Number.isInteger(values[i]), big: (i: number) => bigs[i] });
    // p [2**60+3, -(2**60), 5].sum → 8; with 5.0 → 8.0; [0.5, 2**60+3, -(2**60)].sum → 0.5
    const a = [2 ** 60 + 3, -(2 ** 60), 5];
    expect(ruby_sum(a, big(a, { 0: 2n ** 60n + 3n, 1: -(2n ** 60n) }))).toBe(8);
    expect(ruby_sum(a, { ...big(a, { 0: 2n ** 60n + 3n, 1: -(2n ** 60n) }), float: (i) => i === 2 })).toBe(8);
    const b = [0.5, 2 ** 60 + 3, -(2 ** 60)];
    expect(ruby_sum(b, big(b, { 1: 2n ** 60n + 3n, 2: -(2n ** 60n) }))).toBe(0.5);
    // p [9007199254740993, 1].sum → 9007199254740994, an Integer beyond 2^53
    const c = [9007199254740993, 1];
    expect(ruby_sum(c, big(c, { 0: 9007199254740993n }))).toBe(9007199254740994n);
    expect(ruby_sum(new Array(10).fill(0.1))).toBe(1); // ([0.1]*10).sum → 1.0
  });

  it('reads Integers beyond 2^53 exactly from a JSON text', () => {
    const bigs = new Map();
    whole_float_literals('{"a": 9007199254740993, "b": [1, 36028797018963971], "c": 12345678901234567890.0}', bigs);
    expect([...bigs]).toEqual([['a', 9007199254740993n], ['b', new Map([[1, 36028797018963971n]])]]);
  });
});
