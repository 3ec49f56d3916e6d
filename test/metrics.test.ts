import { describe, expect, it } from 'vitest';
import { CSV_HEAD, csv_rows, dmesg_stat, format_csv_row, parse_will_it_scale, sim_stats, type CsvRow } from '../src/runner/metrics.ts';

/** runtest.py's whole output, as run.ts prints it: the head lines, then a row per task count. */
function format_csv(rows: readonly CsvRow[]): string {
  return [...CSV_HEAD, ...rows.map(format_csv_row)].join('\n') + '\n';
}
import type { PointResult } from '../src/runner/point.ts';

function point(mode: 'process' | 'thread', nr_tasks: number, average: number, idle: number, counters: Record<string, number> = {}, ops = 0): PointResult {
  return { mode, nr_tasks, parent: { vmas: 0, tree: { height: 0, nodes: 0, leaves: [] } }, average, idle, proc_stat: [], proc_stat_end: null, proc_vmstat: [], profiles: [], cputime: { utime: 0, stime: 0 }, samples: [], ops, counters: new Map(Object.entries(counters)), background_counts: 0, metrics: {}, output: [], tool_stats: {}, errors: [], kernel_log: [], setup_ms: 0, teardown_ms: 0, interrupted: false };
}

describe('lkp will-it-scale parser', () => {
  it('reproduces lkp spec/fixtures/stats/will-it-scale/1', () => {
    const csv = 'tasks,processes,processes_idle,threads,threads_idle,linear\n0,0,100,0,100,0\n104,1200363,0.04,0,0.00,0\n';
    expect(parse_will_it_scale(csv)).toEqual({
      '104.processes': 1200363,
      '104.processes_idle': 0.04,
      '104.threads': 0,
      '104.threads_idle': 0,
      '104.linear': 0,
      per_process_ops: 11541,
      per_thread_ops: 0,
      workload: 1200363,
    });
  });

  it('takes scalability from the last point and truncates per-task means', () => {
    const csv = 'tasks,processes,processes_idle,threads,threads_idle,linear\n0,0,100,0,100,0\n1,1000,50.00,900,50.00,1000\n2,1900,0.00,1500,0.00,2000\n3,2500,0.00,2000,0.00,3000\n';
    const s = parse_will_it_scale(csv);
    expect(s.scalability).toBe(0.833333); // 2500 / 3000
    expect(s.per_process_ops).toBe(927); // mean(1000, 950, 833.33) = 927.78
    expect(s.per_thread_ops).toBe(772); // mean(900, 750, 666.67) = 772.22
    expect(s.workload).toBe(1000 + 900 + 1900 + 1500 + 2500 + 2000);
  });

  it('skips rows where both averages are 0 (a failed point) and records assertion failures', () => {
    const csv = 'tasks,processes,processes_idle,threads,threads_idle,linear\n0,0,100,0,100,0\n1,0,0.00,0,0.00,0\nbrk2_processes: tests/brk2.c:13: testcase: Assertion `brk(addr) == 0\' failed.\n';
    expect(parse_will_it_scale(csv)).toEqual({ 'Assertion_brk_addr_==_0_failed': 1 });
  });
});

describe('runtest.py CSV', () => {
  it('prints the header, the zero row and one row per task count, linear from the 1-task point', () => {
    const rows = csv_rows([point('process', 1, 1000.7, 49.5), point('thread', 1, 1200, 49.123), point('process', 2, 1900, 0), point('thread', 2, 2300, 0.004)]);
    expect(format_csv(rows)).toBe(
      'tasks,processes,processes_idle,threads,threads_idle,linear\n0,0,100,0,100,0\n1,1000,49.50,1200,49.12,1200\n2,1900,0.00,2300,0.00,2400\n',
    );
  });

  it("writes upstream's -1 for a point that failed (it printed no average), which lkp's parser then skips", () => {
    const failed = { ...point('thread', 2, 0, 0.5), errors: ['task 1: Error: boom'] };
    const rows = csv_rows([point('process', 1, 1000, 50), point('thread', 1, 900, 50), point('process', 2, 1900, 0.25), failed]);
    const csv = format_csv(rows);
    expect(csv).toBe('tasks,processes,processes_idle,threads,threads_idle,linear\n0,0,100,0,100,0\n1,1000,50.00,900,50.00,1000\n2,1900,0.25,-1,0.50,2000\n');
    expect(parse_will_it_scale(csv)).toEqual({
      '1.processes': 1000, '1.processes_idle': 50, '1.threads': 900, '1.threads_idle': 50, '1.linear': 1000,
      per_process_ops: 1000, per_thread_ops: 900, workload: 1900,
    });
  });

  it('writes 0 ops and 0 idle for a mode that did not run, and linear 0 without a 1-task point', () => {
    const rows = csv_rows([point('process', 2, 1900, 0.5)]);
    expect(format_csv(rows)).toBe('tasks,processes,processes_idle,threads,threads_idle,linear\n0,0,100,0,100,0\n2,1900,0.50,0,0.00,0\n');
  });
});

describe('run stats', () => {
  it('sums sim counters over points and takes the per-op values from the probe', () => {
    const probe = new Map([['sim.syscalls', 1], ['sim.rcu.callbacks', 0.25]]);
    const s = sim_stats([point('process', 1, 0, 0, { 'sim.syscalls': 100, 'sim.rcu.callbacks': 3 }, 50), point('thread', 1, 0, 0, { 'sim.syscalls': 50 }, 25)], probe);
    expect(s).toEqual({ 'sim.rcu.callbacks': 3, 'sim.rcu.callbacks_per_op': 0.25, 'sim.syscalls': 150, 'sim.syscalls_per_op': 1 });
  });

  it('names kernel messages as lkp names dmesg stats', () => {
    expect(dmesg_stat('WARNING: at mm/mmap.c:123 do_brk_flags')).toBe('dmesg.WARNING_at_mm_mmap_c_123_do_brk_flags');
  });
});
