// Song Liu's `perf stat -b <prog_id>` (perf 5.12, reviewed by Arnaldo in January 2021): count
// hardware events for one BPF program. Each measured task runs the target program on its CPU in a
// loop (bpf(BPF_PROG_TEST_RUN) on a 60-byte UDP/IPv4 frame, or, for the fentry target, the kernel
// function it is attached to): one operation is one run. With profile=1 a background process on
// the last CPU lists the programs as `bpftool prog` does, then runs
// `perf stat -e <events> -b <id> -I 1000 --log-fd 1` for the point (its command line first, as
// lkp's monitors echo theirs): the interval lines go to the run's output and make perf-stat.b.*,
// and perf's errors on stderr make stderr.* failure stats, as lkp makes them.
//
// The target is loaded in the parent before the tasks exist (prepare), as a daemon would have
// loaded it; the tasks and perf find it by its name and type, as `bpftool prog show name` does.

import { define_workload, type Params, type TaskContext } from '../src/runner/workload.ts';
import { ktime_get_ns } from '../src/machine/clock.ts';
import { nanosleep } from '../src/user/libc.ts';
import {
  bpf_object__attach, bpf_object__load, bpf_object__open, bpf_prog_get_fd_by_id, bpf_prog_infos, bpf_prog_test_run,
} from '../src/user/libbpf.ts';
import { TARGETS, udp_packet, type TargetName } from '../src/user/bpf_targets.ts';
import { cmd_stat } from '../src/user/perf/builtin-stat.ts';
import { bpftool_prog_show } from '../src/user/bpftool.ts';
import { perf_stat_b_stats } from '../src/monitors/perf_stat.ts';
import { capture_stdio } from '../src/user/stdio.ts';

/** How often a sleeping perf looks for the harness's stop (its SIGINT), in ms. */
const SIGNAL_POLL_MS = 10;

function target(p: Params) {
  return TARGETS[p.target as TargetName];
}

/** The target's id: the loaded program of its type and name (bpftool prog show name ...). */
function find_target_id(p: Params): number {
  const t = target(p);
  const info = bpf_prog_infos().find((i) => i.type === t.object.progs[0].prog_type && i.name === t.prog);
  if (!info) throw new Error(`the ${p.target} target program is not loaded`);
  return info.id;
}

/** perf's sleep, cut short by the harness's stop as SIGINT cuts perf's nanosleep short. */
function sleep_until(t: TaskContext, deadline: number): boolean {
  for (;;) {
    if (!t.running()) return false;
    const left = deadline - ktime_get_ns();
    if (left <= 0) return true;
    nanosleep(Math.min(left, SIGNAL_POLL_MS * 1e6));
  }
}

export default define_workload({
  description: 'run a BPF program in a loop (BPF_PROG_TEST_RUN) while perf stat -b counts its cycles, ref-cycles and instructions',
  kind: 'throughput',
  params: {
    target: { type: 'string', default: 'xdp', choices: Object.keys(TARGETS), description: 'the program: xdp (with BTF), socket_filter (with BTF), cgroup_skb (without BTF), tracing (fentry on bpf_fentry_test1)' },
    profile: { type: 'int', default: 1, min: 0, max: 1, description: '1: perf stat -b counts the target for the point, on the last CPU; 0: the unprofiled baseline' },
    events: { type: 'string', default: 'cycles,ref-cycles,instructions', description: "perf stat's -e list" },
    prog_ids: { type: 'string', default: 'target', description: "perf stat's -b argument: 'target' for the target's id, or given as is (to see perf's errors)" },
    verbose: { type: 'int', default: 0, min: 0, max: 3, description: 'perf stat -v this many times' },
  },
  prepare(ctx) {
    const io = capture_stdio();
    const obj = bpf_object__open(target(ctx.params).object, io);
    if (bpf_object__load(obj) !== 0 || bpf_object__attach(obj) !== 0) throw new Error(`loading the ${ctx.params.target} target: ${io.lines.map((l) => l.line).join('; ')}`);
  },
  testcase(t) {
    const fd = bpf_prog_get_fd_by_id(find_target_id(t.params));
    const pkt = udp_packet();
    const iterations = t.iterations;
    const slot = t.slot;
    while (t.running()) {
      const r = bpf_prog_test_run(fd, 1, pkt);
      if (r.err !== 0) throw new Error(`BPF_PROG_TEST_RUN: error ${-r.err}`);
      iterations[slot]++;
    }
  },
  background: {
    tasks: (p) => p.profile as number,
    counts: 'intervals',
    pass: 'interval',
    loop(t) {
      const p = t.params;
      // the machine booted this long ago on the host's wall clock (bpftool's loaded_at)
      const boot_wall_ms = Date.now() - ktime_get_ns() / 1e6;
      t.io.out('# bpftool prog');
      bpftool_prog_show(t.io, boot_wall_ms);
      const ids = p.prog_ids === 'target' ? String(find_target_id(p)) : (p.prog_ids as string);
      const argv = ['stat', '-e', p.events as string, '-b', ids, '-I', '1000', '--log-fd', '1', ...Array.from({ length: p.verbose as number }, () => '-v')];
      t.io.out(`perf ${argv.join(' ')}`);
      const status = cmd_stat(argv, {
        io: t.io,
        sleep_until: (deadline) => {
          const slept = sleep_until(t, deadline);
          if (slept) t.iterations[t.slot]++;
          return slept;
        },
      });
      // perf is gone; the process waits for the point to end
      while (sleep_until(t, ktime_get_ns() + 1e9));
      return { perf_exit_status: status };
    },
    metrics: (counters) => ({ monitor_runs: counters.get('sim.bpf.tracing_runs_on_prog') ?? 0 }),
    output_stats: perf_stat_b_stats,
  },
});
