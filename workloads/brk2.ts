// will-it-scale tests/brk2.c: "brk unshared increase/decrease of one page". The first sbrk makes
// a new one-page VMA after the heap the task inherited (which it may not merge with); the loop
// then grows that VMA by a page and shrinks it back, 2 operations per pass.

import { MM_LOOP_EXACT, define_workload } from '../src/runner/workload.ts';
import { brk, sbrk } from '../src/user/libc.ts';

const PAGE_SIZE = 4096;

export default define_workload({
  description: 'brk unshared increase/decrease of one page',
  kind: 'throughput',
  // Exact: the mm and maple-tree counters its stores decide (MM_LOOP_EXACT says which and why).
  exact: MM_LOOP_EXACT,
  testcase(t) {
    const iterations = t.iterations;
    const slot = t.slot;
    let addr = sbrk(PAGE_SIZE) + PAGE_SIZE;
    while (t.running()) {
      addr += PAGE_SIZE;
      if (brk(addr) !== 0) throw new Error("brk2: Assertion `brk(addr) == 0' failed");
      addr -= PAGE_SIZE;
      if (brk(addr) !== 0) throw new Error("brk2: Assertion `brk(addr) == 0' failed");
      iterations[slot] += 2;
    }
  },
});
