// will-it-scale tests/sched_yield.c: a syscall that passes through the scheduler; on a pinned
// CPU with nothing else runnable it only notes a quiescent state and looks for pending work.

import { define_workload } from '../src/runner/workload.ts';
import { sched_yield } from '../src/user/libc.ts';

export default define_workload({
  description: 'sched_yield',
  kind: 'throughput',
  // Exact: the loop makes these calls itself, one per operation.
  exact: ['sim.syscalls_per_op', 'sim.sched.yields_per_op'],
  testcase(t) {
    const iterations = t.iterations;
    const slot = t.slot;
    while (t.running()) {
      if (sched_yield() !== 0) throw new Error('sched_yield failed');
      iterations[slot]++;
    }
  },
});
