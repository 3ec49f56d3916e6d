// will-it-scale tests/brk1.c: "brk increase/decrease of one page". Starting at the current break,
// each pass creates a one-page VMA after the inherited heap and removes it again.

import { MM_LOOP_EXACT, define_workload } from '../src/runner/workload.ts';
import { brk, sbrk } from '../src/user/libc.ts';

const PAGE_SIZE = 4096;

export default define_workload({
  description: 'brk increase/decrease of one page',
  kind: 'throughput',
  // Exact: the mm and maple-tree counters its stores decide (MM_LOOP_EXACT says which and why).
  exact: MM_LOOP_EXACT,
  testcase(t) {
    const iterations = t.iterations;
    const slot = t.slot;
    let addr = sbrk(0);
    while (t.running()) {
      addr += PAGE_SIZE;
      if (brk(addr) !== 0) throw new Error("brk1: Assertion `brk(addr) == 0' failed");
      addr -= PAGE_SIZE;
      if (brk(addr) !== 0) throw new Error("brk1: Assertion `brk(addr) == 0' failed");
      iterations[slot] += 2;
    }
  },
});
