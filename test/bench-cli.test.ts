// `npm run bench` as a user runs it: a child process per invocation.

import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH = ['--import', 'tsx', join(ROOT, 'scripts/bench.ts')];
const FIXTURES = join(ROOT, 'test/fixtures/workloads');
const QUICK = ['--tasks', '1', '--mode', 'process', '--duration', '1', '--warmup', '0'];

function results_dir(): string {
  return mkdtempSync(join(tmpdir(), 'scalelab-bench-'));
}

function bench(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [...BENCH, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every run directory under a result root. */
function runs_under(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = join(d, e.name);
      if (/^[0-9]+$/.test(e.name)) out.push(p);
      else walk(p);
    }
  };
  walk(root);
  return out.sort();
}

describe('bench: bad input', () => {
  const unwritable = join(results_dir(), 'file');
  writeFileSync(unwritable, 'not a directory');
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown workload', ['getpid1'], /unknown workload 'getpid1'; did you mean 'getppid1'\? \(others: .*sched_yield/],
    ['no workload', [], /no workload given/],
    ['unknown flag', ['getppid1', '--bogus'], /^bench: unknown option '--bogus' \(see --help\)$/],
    ['a result root under /proc (Node\'s recursive mkdir would spin there)', ['getppid1', '--results', '/proc/scalelab-nowhere/x'], /^bench: results directory \/proc\/scalelab-nowhere\/x is not writable \(ENOENT\)$/],
    ['an empty result root', ['getppid1', '--results', ''], /^bench: --results: empty path$/],
    ['--quiet with --verbose', ['getppid1', '--quiet', '--verbose'], /^bench: --quiet and --verbose: give one$/],
    ['non-numeric duration', ['getppid1', '--duration', 'abc'], /--duration: 'abc' is not a positive number/],
    ['zero duration', ['getppid1', '--duration', '0'], /--duration: 0 is out of range/],
    ['zero tasks', ['getppid1', '--tasks', '0'], /--tasks: a task count must be at least 1/],
    ['too many percent', ['getppid1', '--tasks', '150%'], /--tasks: 150% is out of range 1%\.\.100%/],
    ['more tasks than CPUs', ['getppid1', '--tasks', '3', '--cpus', '2'], /--tasks: 3 tasks need at least 3 simulated CPUs/],
    ['negative runs', ['getppid1', '--runs', '-1'], /--runs: -1 is out of range 1\.\./],
    ['bad mode', ['getppid1', '--mode', 'fork'], /--mode: 'fork' is not process, thread or both/],
    ['unknown knob', ['getppid1', '--set', 'fork.nope=1'], /--set: unknown knob 'fork\.nope'/],
    ['bad knob value', ['getppid1', '--set', 'kernel.hz=123'], /--set kernel\.hz: 123 is not one of 100, 250, 300, 1000/],
    ['unknown preset', ['getppid1', '--kernel', 'v2.4'], /unknown kernel preset 'v2\.4'/],
    ['unknown parameter', ['getppid1', '--param', 'size=1'], /--param: unknown parameter 'size' \(this workload has none\)/],
    ['unwritable results', ['getppid1', '--results', unwritable], /results directory .* is not writable/],
    ['negative spawners', ['perf_stat_spawn', '--param', 'spawners=-1', '--tasks', '1'], /--param: parameter spawners: -1 is out of range 0\.\.8/],
    ['perf_user_us not a number', ['perf_stat_spawn', '--param', 'perf_user_us=fast', '--tasks', '1'], /--param: parameter perf_user_us: 'fast' is not an integer/],
    ['unknown monitor', ['getppid1', '--monitor', 'perf-stat'], /^bench: --monitor: unknown monitor 'perf-stat' \(monitors: mpstat, vmstat, time, proc-vmstat, perf-profile\)$/],
    ['a sampling interval without perf-profile', ['getppid1', '--profile-interval', '100'], /^bench: --profile-interval: perf-profile is not among the monitors/],
    ['a sampling interval too short', ['getppid1', '--monitor', 'perf-profile', '--profile-interval', '1'], /^bench: --profile-interval: 1 is out of range 10\.\./],
    ['no CPU left for the background task', ['perf_stat_spawn', '--cpus', '4', '--tasks', '4'], /perf_stat_spawn: 4 tasks and 1 background task need 5 CPUs, --cpus is 4/],
    ['an unknown BPF target', ['perf_stat_bpf', '--param', 'target=kprobe', '--tasks', '1'], /--param: parameter target: 'kprobe' is not one of xdp, socket_filter, cgroup_skb, tracing$/],
    ['profile out of range', ['perf_stat_bpf', '--param', 'profile=2', '--tasks', '1'], /--param: parameter profile: 2 is out of range 0\.\.1/],
  ];
  for (const [name, args, message] of cases) {
    it(`${name}: one line on stderr, exit 2`, () => {
      const r = bench(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^bench: /);
      expect(lines[0]).toMatch(message);
    });
  }

  it('an empty SCALELAB_RESULTS is refused instead of writing into the current directory', () => {
    const r = bench(['getppid1'], { SCALELAB_RESULTS: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('bench: SCALELAB_RESULTS is set but empty\n');
  });

  it('--version', () => {
    const r = bench(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`scalelab ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`);
  });

  it('an unwritable (read-only) results directory is refused', () => {
    if (process.getuid?.() === 0) return; // root writes anywhere; the file case above covers it
    const d = results_dir();
    chmodSync(d, 0o500);
    const r = bench(['getppid1', '--results', join(d, 'sub')]);
    expect(r.code).toBe(2);
  });
});

describe('bench: runs', () => {
  it('prints samples, the CSV and the lkp metrics, and stores a complete run', () => {
    const root = results_dir();
    const r = bench(['getppid1', ...QUICK, '--results', root]);
    expect(r.code).toBe(0);
    // runtest.py's head first, a point's samples, then its row once its task count is done.
    expect(r.stdout).toMatch(/^testcase:getppid\ntasks,processes,processes_idle,threads,threads_idle,linear\n0,0,100,0,100,0\n# process mode, 1 task on \d+ CPUs?\n/);
    expect(r.stdout).toMatch(/\nwarmup\nmeasurement\nmin:\d+ max:\d+ total:\d+\naverage:\d+\n/);
    expect(r.stdout).toMatch(/\n# parent \(will-it-scale-brk2_processes\.debian12\.maps\): 148 VMAs; maple tree of height \d, \d+ nodes, leaves of [\d,]+ entries\n1,\d+,[\d.]+,0,0\.00,\d+\n/);
    expect(r.stdout).toMatch(/\nwill-it-scale\.per_process_ops: \d+\n/);
    // The sim.* counters are in output.txt and stats.json; on stdout only with --verbose.
    expect(r.stdout).not.toMatch(/\nsim\./);
    const [run] = runs_under(root);
    // The directory names the experiment from resolved values: the CPU count always, the rest off their default.
    expect(run).toMatch(/getppid1\/process-1-cpus=\d+-duration=1-warmup=0\/v6\.8\/[^/]+\/0$/);
    for (const f of ['stats.json', 'manifest.json', 'output.txt']) expect(existsSync(join(run, f))).toBe(true);
    expect(existsSync(join(run, 'incomplete'))).toBe(false);
    const stats = JSON.parse(readFileSync(join(run, 'stats.json'), 'utf8'));
    const average = Number(/\naverage:(\d+)\n/.exec(r.stdout)![1]);
    expect(stats['will-it-scale.1.processes']).toBe(average);
    expect(stats['will-it-scale.per_process_ops']).toBe(average);
    expect(stats['sim.syscalls_per_op']).toBe(1);
    expect(readFileSync(join(run, 'output.txt'), 'utf8')).toMatch(/\nsim\.syscalls_per_op: 1\n/);
    const verbose = bench(['getppid1', ...QUICK, '--results', root, '--verbose']);
    expect(verbose.stdout).toMatch(/\nsim\.syscalls_per_op: 1\n/);
    const manifest = JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8'));
    const digest = createHash('sha256').update(readFileSync(join(ROOT, 'layouts/will-it-scale-brk2_processes.debian12.maps'))).digest('hex');
    expect(manifest).toMatchObject({ workload: 'getppid1', status: 'complete', kernel: { preset: 'v6.8' }, exact_metrics: ['sim.syscalls_per_op'] });
    expect(manifest.layout).toEqual({ kind: 'maps', name: 'will-it-scale-brk2_processes.debian12.maps', sha256: digest });
    expect(readFileSync(join(run, 'output.txt'), 'utf8').replace(/^sim\..*\n/gm, '')).toBe(r.stdout.replace(/# stored .*\n$/, ''));
  });

  it("warms up as will-it-scale's main.c does: six samples printed before 'measurement', then the counted ones", () => {
    const r = bench(['getppid1', '--tasks', '1', '--mode', 'process', '--duration', '0.4', '--interval', '0.2', '--results', results_dir()]);
    expect(r.code).toBe(0);
    const sample = 'min:\\d+ max:\\d+ total:\\d+\\n';
    expect(r.stdout).toMatch(new RegExp(`\\nwarmup\\n(${sample}){6}measurement\\n(${sample}){2}average:\\d+\\n`));
  });

  it('--maps replays another capture (its name and digest in the path and manifest); --layout synthetic builds the recipe', () => {
    const root = results_dir();
    const tiny = join(ROOT, 'test/fixtures/layouts/tiny.maps');
    const a = bench(['getppid1', ...QUICK, '--results', root, '--json', '--maps', tiny]);
    expect(a.code).toBe(0);
    const digest = createHash('sha256').update(readFileSync(tiny)).digest('hex');
    expect(JSON.parse(a.stdout).resultDir).toMatch(new RegExp(`/process-1-cpus=\\d+-duration=1-warmup=0-layout=tiny\\.maps@${digest.slice(0, 12)}/`));
    const b = bench(['getppid1', ...QUICK, '--results', root, '--json', '--layout', 'synthetic:libs=2']);
    expect(b.code).toBe(0);
    const dir = JSON.parse(b.stdout).resultDir;
    expect(dir).toMatch(/\/process-1-cpus=\d+-duration=1-warmup=0-layout=synthetic:libs=2,anon_maps=2,heap_grows=1,brk_gap_pages=0\//);
    expect(JSON.parse(readFileSync(join(dir, '0', 'manifest.json'), 'utf8')).layout).toEqual({ kind: 'synthetic', name: 'synthetic:libs=2,anon_maps=2,heap_grows=1,brk_gap_pages=0', sha256: null });
  });

  it('a malformed maps file: one line naming the line at fault, exit 2', () => {
    const d = results_dir();
    const file = join(d, 'bad.maps');
    const lines = readFileSync(join(ROOT, 'test/fixtures/layouts/tiny.maps'), 'utf8').split('\n');
    lines[3] = '555555556800-555555557000 r--p 00002000 fe:00 11 /usr/bin/tiny';
    writeFileSync(file, lines.join('\n'));
    const r = bench(['getppid1', '--maps', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`bench: --maps ${file}: line 4: the range 555555556800-555555557000 is not page-aligned\n`);
    const s = bench(['getppid1', '--maps', join(d, 'none.maps')]);
    expect(s.stderr).toMatch(/^bench: --maps .*none\.maps: cannot read it \(ENOENT\)\n$/);
    expect(bench(['getppid1', '--maps', file, '--layout', 'synthetic']).stderr).toBe('bench: --maps and --layout: one parent layout at a time\n');
  });

  it('--json prints one object and nothing else on stdout; later invocations append runs', () => {
    const root = results_dir();
    const first = bench(['getppid1', ...QUICK, '--results', root, '--json', '--kernel', 'v6.7']);
    expect(first.code).toBe(0);
    const a = JSON.parse(first.stdout);
    expect(Object.keys(a)).toEqual(['workload', 'kernel', 'resultDir', 'runDirs', 'stats']);
    expect(a).toMatchObject({ workload: 'getppid1', kernel: 'v6.7' });
    const second = bench(['getppid1', ...QUICK, '--results', root, '--json', '--kernel', 'v6.7', '--runs', '2']);
    const b = JSON.parse(second.stdout);
    expect(b.resultDir).toBe(a.resultDir);
    expect(b.runDirs.map((d: string) => d.split('/').pop())).toEqual(['1', '2']);
    const matrix = JSON.parse(readFileSync(join(a.resultDir, 'matrix.json'), 'utf8'));
    expect(matrix['will-it-scale.1.processes']).toHaveLength(3);
    expect(matrix.stats_source).toHaveLength(3);
  });

  it('brk2: the per-op counters are exact, identical run after run, and show the spanning store of 6.7', () => {
    const root = results_dir();
    const r = bench(['brk2', ...QUICK, '--results', root, '--json', '--kernel', 'v6.7', '--mode', 'both', '--runs', '2']);
    expect(r.code).toBe(0);
    const { resultDir } = JSON.parse(r.stdout);
    const matrix = JSON.parse(readFileSync(join(resultDir, 'matrix.json'), 'utf8'));
    const manifest = JSON.parse(readFileSync(join(resultDir, '0', 'manifest.json'), 'utf8'));
    expect(manifest.exact_metrics).toContain('sim.maple.store_spanning_per_op');
    // A 0 is left out of stats.json (lkp's dump-stat does that) and named in the manifest instead.
    const stats = JSON.parse(readFileSync(join(resultDir, '0', 'stats.json'), 'utf8'));
    expect(manifest.zero_stats).toContain('sim.maple.destroy_rebalance_per_op');
    for (const k of manifest.zero_stats) expect(stats[k], k).toBeUndefined();
    expect(Object.values(stats)).not.toContain(0);
    for (const k of manifest.exact_metrics) {
      if (manifest.zero_stats.includes(k)) expect(matrix[k], k).toBeUndefined();
      else expect(new Set(matrix[k]).size, k).toBe(1);
    }
    expect(matrix['sim.maple.store_spanning_per_op'][0]).toBe(0.5);
    expect(matrix['sim.mm.brk_per_op'][0]).toBe(1);
  });

  it('a workload that throws in a worker: the run is stored as failed, the other points still run, exit 1', () => {
    const root = results_dir();
    const r = bench(['crash', '--tasks', '1,2', '--mode', 'process', '--duration', '2', '--warmup', '0', '--results', root], { SCALELAB_WORKLOADS: FIXTURES });
    expect(r.code).toBe(1);
    const [run] = runs_under(root);
    const stats = JSON.parse(readFileSync(join(run, 'stats.json'), 'utf8'));
    expect(stats['will-it-scale.fail']).toBe(1);
    const output = readFileSync(join(run, 'output.txt'), 'utf8');
    expect(stats['will-it-scale.1.processes']).toBe(Number(/\naverage:(\d+)\n/.exec(output)![1])); // the 1-task point's
    expect(stats['will-it-scale.2.processes']).toBeUndefined(); // the failed point's row is skipped, as lkp skips it
    expect(output).toMatch(/\n2,-1,[\d.]+,0,0\.00,\d+\n/); // runtest.py's -1: no average line
    expect(output).toMatch(/error: task 1: Error: fixture crash in task 1/);
    expect(JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8')).status).toBe('failed');
  });

  it('a scenario workload stores its metrics per point and averaged', () => {
    const root = results_dir();
    const r = bench(['answer', '--tasks', '1,2', '--mode', 'process', '--param', 'base=10', '--results', root, '--json'], { SCALELAB_WORKLOADS: FIXTURES });
    expect(r.code).toBe(0);
    const { stats, resultDir } = JSON.parse(r.stdout);
    expect(stats['answer.1.process.answer']).toBe(12);
    expect(stats['answer.2.process.answer']).toBe(12.5); // tasks 0 and 1: 12 and 13
    expect(stats['answer.answer']).toBe(12.25);
    expect(stats['answer.tasks']).toBe(1.5);
    expect(resultDir).toMatch(/answer\/process-1,2-base=10-cpus=\d+\//);
  });
});

describe('bench: interruptions', () => {
  function start(root: string, runs: number) {
    return spawn(process.execPath, [...BENCH, 'getppid1', ...QUICK, '--runs', String(runs), '--results', root], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async function until(cond: () => boolean, timeout_ms = 60_000) {
    const end = Date.now() + timeout_ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  function check_runs(root: string) {
    const runs = runs_under(root);
    for (const run of runs) {
      const marked = existsSync(join(run, 'incomplete'));
      const stats = join(run, 'stats.json');
      if (marked) expect(existsSync(stats)).toBe(false);
      else expect(typeof JSON.parse(readFileSync(stats, 'utf8'))['will-it-scale.per_process_ops']).toBe('number');
    }
    return runs;
  }

  it('a run killed mid-way leaves an incomplete marker and never a half-written stats.json', async () => {
    const root = results_dir();
    const child = start(root, 3);
    const exited = new Promise((r) => child.on('exit', r));
    await until(() => runs_under(root).some((r) => r.endsWith('/1')));
    child.kill('SIGKILL');
    await exited;
    const runs = check_runs(root);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(existsSync(join(runs[0], 'stats.json'))).toBe(true);
    expect(existsSync(join(runs[runs.length - 1], 'incomplete'))).toBe(true);
  });

  /** Start 5 runs, send `stop` once run 1 has begun; the exit code and the runs left, checked as check_runs checks them. */
  async function interrupted(stop: (child: ReturnType<typeof start>) => Promise<void>) {
    const root = results_dir();
    const child = start(root, 5);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await until(() => runs_under(root).some((r) => r.endsWith('/1')));
    await stop(child);
    const code = await exited;
    const runs = check_runs(root);
    expect(runs).toHaveLength(2);
    expect(existsSync(join(runs[0], 'stats.json'))).toBe(true);
    expect(existsSync(join(runs[1], 'incomplete'))).toBe(true);
    expect(existsSync(join(runs[1], 'output.txt'))).toBe(true);
    return { code, runs };
  }

  it('SIGTERM (timeout, CI, systemd) is handled as Ctrl-C: finished runs kept, the current one kept as incomplete with its output and manifest, exit 143', async () => {
    // Twice, as a group kill arrives with npm's and tsx's relayed copy: the second is that copy, not a second request
    // (a standard signal does not queue: the copy is one that comes a moment later).
    const { code, runs } = await interrupted(async (child) => {
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      child.kill('SIGTERM');
    });
    expect(code).toBe(143);
    expect(JSON.parse(readFileSync(join(runs[1], 'manifest.json'), 'utf8')).status).toBe('interrupted');
  });

  it('SIGTERM to the whole process group through npx and tsx (as timeout sends it): the relayed copy does not lose the run', async () => {
    const root = results_dir();
    const child = spawn('npx', ['tsx', join(ROOT, 'scripts/bench.ts'), 'getppid1', ...QUICK, '--runs', '5', '--results', root], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const exited = new Promise((r) => child.on('exit', r));
    await until(() => runs_under(root).some((r) => r.endsWith('/1')));
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
    await until(() => existsSync(join(runs_under(root)[1], 'manifest.json')), 20_000);
    const runs = check_runs(root);
    expect(runs).toHaveLength(2);
    expect(JSON.parse(readFileSync(join(runs[1], 'manifest.json'), 'utf8')).status).toBe('interrupted');
    expect(existsSync(join(runs[1], 'output.txt'))).toBe(true);
  });

  it('Ctrl-C stops the workers, keeps finished runs and exits 130', async () => {
    const { code } = await interrupted(async (child) => void child.kill('SIGINT'));
    expect(code).toBe(130);
  });
});

// Issue 9, item 2: a group is one experiment, and one experiment is one group.
describe('bench: group identity', () => {
  const FAST = ['getppid1', '--mode', 'process', '--cpus', '2', '--interval', '0.1', '--warmup', '0', '--json'];
  const group_of = (r: { code: number | null; stdout: string; stderr: string }) => {
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout).resultDir as string;
  };

  it("the monitors describe the simulated machine: 1 task on 4 CPUs is ~75% idle, its time is the simulated process's; perf-profile is another experiment", () => {
    const root = results_dir();
    const r = bench(['getppid1', ...QUICK, '--cpus', '4', '--monitor', 'perf-profile', '--results', root]);
    expect(r.code).toBe(0);
    const [run] = runs_under(root);
    expect(run).toMatch(/getppid1\/process-1-cpus=4-duration=1-warmup=0-perf_profile=341us\//);
    const stats = JSON.parse(readFileSync(join(run, 'stats.json'), 'utf8'));
    // One CPU of four runs the task: idle is 75% but for the moments the task starts and stops.
    expect(stats['will-it-scale.1.processes_idle']).toBeGreaterThan(70);
    expect(stats['will-it-scale.1.processes_idle']).toBeLessThan(80);
    expect(stats['mpstat.cpu.all.idle%']).toBeGreaterThan(70);
    expect(stats['mpstat.cpu.all.sys%'] + stats['mpstat.cpu.all.usr%']).toBeGreaterThan(20);
    expect(stats['time.system_time']).toBeGreaterThan(0);
    expect(stats['time.page_size']).toBe(4096);
    // The loop and its syscall under Linux's names, the harness's frames gone.
    expect(stats['perf-profile.children.cycles-pp.testcase']).toBeGreaterThan(50);
    expect(stats['perf-profile.calltrace.cycles-pp.__do_sys_getppid.do_syscall_64.entry_SYSCALL_64_after_hwframe.getppid.testcase']).toBeGreaterThan(0);
    expect(Object.keys(stats).some((k) => /run_task|piscina/.test(k))).toBe(false);
    const manifest = JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ monitors: ['mpstat', 'vmstat', 'time', 'proc-vmstat', 'perf-profile'], profile_interval_us: 341 });
    // Without the profiler: the default monitors, in a group of its own.
    const plain = bench(['getppid1', ...QUICK, '--cpus', '4', '--monitor=-vmstat', '--results', root]);
    expect(plain.code).toBe(0);
    const other = runs_under(root).find((d) => d !== run)!;
    expect(other).toMatch(/getppid1\/process-1-cpus=4-duration=1-warmup=0\//);
    const plain_stats = JSON.parse(readFileSync(join(other, 'stats.json'), 'utf8'));
    expect(Object.keys(plain_stats).filter((k) => /^(perf-profile|vmstat)\./.test(k))).toEqual([]);
    expect(plain_stats['mpstat.cpu.all.idle%']).toBeGreaterThan(70);
  });

  it('runs of another duration, interval, warm-up, seed or memory land in another group', () => {
    const root = results_dir();
    const base = group_of(bench([...FAST, '--tasks', '1', '--duration', '0.2', '--results', root]));
    const others = [
      ['--duration', '0.3'],
      ['--duration', '0.2', '--seed', '7'],
      ['--duration', '0.2', '--mem', '512'],
      ['--duration', '0.2', '--warmup', '1'],
    ].map((extra) => group_of(bench([...FAST, '--tasks', '1', ...extra, '--results', root])));
    expect(new Set([base, ...others]).size).toBe(5);
    expect(others[0]).toMatch(/\/process-1-cpus=2-duration=0\.3-interval=0\.1-warmup=0\//);
    expect(others[1]).toMatch(/-seed=7\//);
  });

  it('--tasks 1,2, 2,1 and 100% on 2 CPUs, and a --set that repeats the preset, are one group', () => {
    const root = results_dir();
    const a = group_of(bench([...FAST, '--tasks', '1,2', '--duration', '0.1', '--results', root]));
    const b = group_of(bench([...FAST, '--tasks', '2,1', '--duration', '0.1', '--results', root]));
    const c = group_of(bench([...FAST, '--tasks', '1,100%', '--duration', '0.1', '--results', root]));
    const d = bench([...FAST, '--tasks', '1,2', '--duration', '0.1', '--set', 'fork.dup_mmap=mt_dup', '--results', root]);
    expect(d.stderr.split('\n')[0]).toBe("bench: note: --set fork.dup_mmap=mt_dup is v6.8's own value: the same kernel, the same group");
    expect(new Set([a, b, c, group_of(d)])).toEqual(new Set([a]));
    expect(a).toMatch(/\/process-1,2-cpus=2-duration=0\.1-interval=0\.1-warmup=0\/v6\.8\//);
    expect(readdirSync(a).filter((f) => /^\d+$/.test(f))).toHaveLength(4);
    // Overrides that make v6.7's kernel exactly (the same config hash) are v6.7's group.
    const v67 = group_of(bench([...FAST, '--tasks', '1,2', '--duration', '0.1', '--kernel', 'v6.7', '--results', root]));
    const reverted = bench([...FAST, '--tasks', '1,2', '--duration', '0.1', '--set', 'fork.dup_mmap=bulk_store', '--set', 'bpf.tracing_prog_nesting=false', '--results', root]);
    expect(reverted.stderr.split('\n')[0]).toBe("bench: note: v6.8+fork.dup_mmap=bulk_store,bpf.tracing_prog_nesting=false is v6.7's kernel exactly: its runs go to v6.7's group");
    expect(group_of(reverted)).toBe(v67);
  });

  it('a run is not appended to a group that holds another experiment: one line, exit 2', () => {
    const root = results_dir();
    const g = group_of(bench([...FAST, '--tasks', '1', '--duration', '0.1', '--results', root]));
    const manifest = join(g, '0', 'manifest.json');
    writeFileSync(manifest, JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), seed: 2, duration_s: 0.5 }));
    const r = bench([...FAST, '--tasks', '1', '--duration', '0.1', '--results', root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bench: .* holds runs of another experiment \(duration_s 0\.1 ≠ 0\.5, seed 1 ≠ 2; this run's value first\): not appending\n$/);
    expect(readdirSync(g).filter((f) => /^\d+$/.test(f))).toEqual(['0']);
  });

  it('a duration that is not a whole number of intervals is refused instead of measuring something else', () => {
    for (const [args, message] of [
      [['--duration', '0.5', '--interval', '1'], /^bench: --duration 0\.5 is shorter than one --interval \(1 s\): nothing would be measured\n$/],
      [['--duration', '2.5', '--interval', '1'], /^bench: --duration 2\.5 is not a whole number of --interval 1 s samples \(3 s would be measured\)\n$/],
    ] as const) {
      const r = bench(['getppid1', ...args, '--results', results_dir()]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(bench(['getppid1', '--duration', '0.3', '--interval', '0.1', '--help']).code).toBe(0);
  });
});

// Issue 9, item 4: failures are results.
describe('bench: failures are results', () => {
  it('errors go to stderr even with --quiet; per-point metrics come only from points that ran; the run is marked failed for lkp too', () => {
    const root = results_dir();
    const r = bench(['crash', '--tasks', '1,2', '--mode', 'both', '--duration', '0.5', '--interval', '0.1', '--warmup', '0', '--quiet', '--results', root], { SCALELAB_WORKLOADS: FIXTURES });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('bench: error: process mode, 2 tasks: task 1: Error: fixture crash in task 1\nbench: error: thread mode, 2 tasks: task 1: Error: fixture crash in task 1\n');
    const [run] = runs_under(root);
    const stats = JSON.parse(readFileSync(join(run, 'stats.json'), 'utf8'));
    // Only the 1-task points ran: the averages are theirs alone, and no scalability exists without a second point.
    expect(stats['will-it-scale.per_process_ops']).toBe(stats['will-it-scale.1.processes']);
    expect(stats['will-it-scale.per_thread_ops']).toBe(stats['will-it-scale.1.threads']);
    expect(stats['will-it-scale.workload']).toBe(stats['will-it-scale.1.processes'] + stats['will-it-scale.1.threads']);
    expect(stats['will-it-scale.scalability']).toBeUndefined();
    expect(stats['will-it-scale.fail']).toBe(1);
    expect(stats['last_state.exit_fail']).toBe(1);
  });

  it('prepare() that throws: one line on stderr, the run stored as failed with its output and manifest, exit 1', () => {
    const root = results_dir();
    const r = bench(['bad_prepare', '--tasks', '1', '--mode', 'process', '--duration', '0.2', '--interval', '0.1', '--warmup', '0', '--quiet', '--results', root], { SCALELAB_WORKLOADS: FIXTURES });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('bench: error: process mode, 1 task: prepare: fixture prepare failure\n');
    const [run] = runs_under(root);
    expect(existsSync(join(run, 'incomplete'))).toBe(false);
    expect(JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8')).status).toBe('failed');
    expect(JSON.parse(readFileSync(join(run, 'stats.json'), 'utf8'))['will-it-scale.fail']).toBe(1);
    expect(readFileSync(join(run, 'output.txt'), 'utf8')).toMatch(/\nerror: prepare: fixture prepare failure\n/);
  });

  it('a workload file that throws when loaded: --list lists the others and reports it in one line; bench of it exits 2', () => {
    const list = bench(['--list'], { SCALELAB_WORKLOADS: FIXTURES });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/\n {2}answer {11}scenario/);
    expect(list.stdout).toMatch(/\n {2}bad_load {9}\(does not load; see stderr\)\n/);
    expect(list.stderr).toMatch(/^bench: .*bad_load\.ts: cannot load the workload: fixture load failure\n$/);
    const r = bench(['bad_load'], { SCALELAB_WORKLOADS: FIXTURES });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bench: .*bad_load\.ts: cannot load the workload: fixture load failure\n$/);
  });
});

describe('bench: perf_stat_bpf', () => {
  const BPF = ['perf_stat_bpf', '--cpus', '2', '--tasks', '1', '--mode', 'process', '--warmup', '0'];
  const run_of = (root: string) => {
    const [dir] = runs_under(root);
    return { stats: JSON.parse(readFileSync(join(dir, 'stats.json'), 'utf8')) as Record<string, number>, output: readFileSync(join(dir, 'output.txt'), 'utf8') };
  };

  it('xdp, profiled: bpftool\'s listing, perf\'s command and an interval line a second, perf-stat.b.* and the monitors\' runs', () => {
    const root = results_dir();
    const r = bench([...BPF, '--duration', '3', '--results', root]);
    expect(r.code).toBe(0);
    const { stats, output } = run_of(root);
    expect(output).toMatch(/^1: xdp {2}name xdp_prog1 {2}tag [0-9a-f]{16} {2}gpl\n\tloaded_at \S+ {2}uid 0\n\txlated 256B {2}jited 261B {2}memlock 4096B {2}map_ids 1\n\tbtf_id 2$/m);
    expect(output).toContain('perf stat -e cycles,ref-cycles,instructions -b 1 -I 1000 --log-fd 1\n');
    const intervals = output.split('\n').filter((l) => /^ {5}\d\.\d{9} +[\d,]+ {6}cycles {19} {35}$/.test(l));
    expect(intervals.length).toBeGreaterThanOrEqual(2);
    expect(output).toMatch(/^ {5}\d\.\d{9} +[\d,]+ {6}instructions {14}# +\d+\.\d\d {2}insn per cycle {9}$/m);
    for (const e of ['cycles', 'ref-cycles', 'instructions']) expect(stats[`perf-stat.b.${e}`]).toBeGreaterThan(0);
    expect(stats['perf_stat_bpf.perf_exit_status']).toBeUndefined(); // 0, which stats.json leaves out as lkp does
    expect(stats['perf_stat_bpf.monitor_runs']).toBeGreaterThan(0);
    expect(Object.keys(stats).filter((k) => k.startsWith('stderr.'))).toEqual([]);
  });

  it('cgroup_skb without BTF: perf\'s error, exit 255, stderr failure stats, and the point stored', () => {
    const root = results_dir();
    const r = bench([...BPF, '--duration', '1', '--param', 'target=cgroup_skb', '--results', root]);
    expect(r.code).toBe(0);
    const { stats, output } = run_of(root);
    expect(output).toContain('Failed to get program name for bpf prog 1. Does it have BTF?\n');
    expect(stats['stderr.Failed_to_get_program_name_for_bpf_prog#Does_it_have_BTF?']).toBe(1);
    expect(stats['stderr.has_stderr']).toBe(1);
    expect(stats['perf_stat_bpf.perf_exit_status']).toBe(255);
    expect(stats['will-it-scale.per_process_ops']).toBeGreaterThan(0);
  });

  it('-b abc: perf\'s parse error as a failure stat', () => {
    const root = results_dir();
    expect(bench([...BPF, '--duration', '1', '--param', 'prog_ids=abc', '--results', root]).code).toBe(0);
    const { stats, output } = run_of(root);
    expect(output).toContain('perf stat -e cycles,ref-cycles,instructions -b abc -I 1000 --log-fd 1\nFailed to parse bpf prog ids abc\n');
    expect(stats['stderr.Failed_to_parse_bpf_prog_ids_abc']).toBe(1);
    expect(stats['perf_stat_bpf.perf_exit_status']).toBe(255);
  });

  it('a tracing target on 5.11: the verifier\'s refusal through libbpf as stderr stats', () => {
    const root = results_dir();
    expect(bench([...BPF, '--duration', '1', '--kernel', 'v5.11', '--param', 'target=tracing', '--results', root]).code).toBe(0);
    const { stats } = run_of(root);
    expect(stats['stderr.Cannot_recursively_attach']).toBe(1);
    expect(stats["stderr.libbpf:failed_to_load_program'fentry_XXX'"]).toBe(1);
    expect(stats['stderr.bpf_prog_profiler_bpf__load_failed']).toBe(1);
  });
});
