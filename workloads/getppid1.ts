// will-it-scale tests/getppid1.c: the null-syscall loop, "(not very useful) example" of the
// README, and the cheapest way to see what the harness itself costs.

import { define_workload } from '../src/runner/workload.ts';
import { getppid } from '../src/user/libc.ts';

export default define_workload({
  description: 'getppid',
  kind: 'throughput',
  // Exact: the loop makes these calls itself, one per operation.
  exact: ['sim.syscalls_per_op'],
  testcase(t) {
    const iterations = t.iterations;
    const slot = t.slot;
    while (t.running()) {
      getppid();
      iterations[slot]++;
    }
  },
});
