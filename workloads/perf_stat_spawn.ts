// The experiment of b202952075f6 ("perf, core: rate limit perf_sched_events jump_label patching",
// Gleb Natapov, November 2011): "while true; do perf stat -e cycles true; done" slowed "my test
// application that just increments a counter for one second" by 4% on a 16-CPU box, the
// application using one CPU. The measured tasks are that application: increment a counter,
// nothing else. The background task on the last CPU is the shell loop: perf stat forks, opens its
// counters on the child (inherit, disabled, enable_on_exec, as builtin-stat.c), the child execs
// true and exits, perf reads and closes the counters and reaps the child.
//
// perf_user_us is perf's own start-up in user space before the fork, spent as user work on its
// CPU: it sets the loop's pace. No published figure for perf stat of 2011 was found; 5 ms is the
// order of a small dynamically linked tool's start-up on a 2011 server (ld.so relocations,
// parsing the event list, reading sysfs), a guess that the sweep in README shows the loss against.

import { define_workload } from '../src/runner/workload.ts';
import { ktime_get_ns } from '../src/machine/clock.ts';
import { _exit, close, execve, fork, perf_event_open, read_counter, wait4 } from '../src/user/libc.ts';
import { LD_SO_IMAGE, TRUE_IMAGE, TRUE_LAYOUT } from '../src/user/coreutils_true.ts';
import { PERF_COUNT_HW_CPU_CYCLES, PERF_TYPE_HARDWARE } from '../src/kernel/kernel/events/core.ts';

const CYCLES = { type: PERF_TYPE_HARDWARE, config: PERF_COUNT_HW_CPU_CYCLES, inherit: true, disabled: true, enable_on_exec: true };

function run_true(): void {
  execve(TRUE_IMAGE, LD_SO_IMAGE, TRUE_LAYOUT);
  _exit(0);
}

export default define_workload({
  description: 'increment a counter while perf stat -e cycles true runs in a loop beside it',
  kind: 'throughput',
  params: {
    spawners: { type: 'int', default: 1, min: 0, max: 8, description: 'perf stat loops on the last CPUs (0: the undisturbed baseline)' },
    perf_user_us: { type: 'int', default: 5000, min: 0, max: 1_000_000, description: "perf's start-up in user space per invocation, µs (a guess: see the workload's header)" },
    events: { type: 'int', default: 1, min: 1, max: 16, description: 'counters perf stat opens per invocation (-e cycles given this many times)' },
  },
  testcase(t) {
    const iterations = t.iterations;
    const slot = t.slot;
    while (t.running()) iterations[slot]++;
  },
  background: {
    tasks: (p) => p.spawners as number,
    counts: 'invocations',
    pass: 'invocation',
    loop(t) {
      const user_ns = (t.params.perf_user_us as number) * 1000;
      const fds = new Array<number>(t.params.events as number);
      while (t.running()) {
        for (const end = ktime_get_ns() + user_ns; ktime_get_ns() < end && t.running(); );
        const child = fork(run_true);
        for (let i = 0; i < fds.length; i++) {
          fds[i] = perf_event_open(CYCLES, child, -1, -1, 0);
          if (fds[i] < 0) throw new Error(`perf_event_open: error ${-fds[i]}`);
        }
        if (wait4(child) !== 0) throw new Error('true exited non-zero');
        for (const fd of fds) {
          read_counter(fd);
          close(fd);
        }
        t.iterations[t.slot]++;
      }
    },
  },
});
