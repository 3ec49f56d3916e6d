// will-it-scale tests/mmap1.c: "Anonymous memory mmap/munmap of 128MB", untouched.

import { MM_LOOP_EXACT, define_workload } from '../src/runner/workload.ts';
import { mmap, munmap } from '../src/user/libc.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../src/kernel/mm/mmap.ts';

export default define_workload({
  description: 'Anonymous memory mmap/munmap of 128MB',
  kind: 'throughput',
  params: { size_mb: { type: 'int', default: 128, min: 1, max: 65536, description: 'size of each mapping, MiB' } },
  // Exact: the mm and maple-tree counters its stores decide (MM_LOOP_EXACT says which and why).
  exact: MM_LOOP_EXACT,
  testcase(t) {
    const iterations = t.iterations;
    const slot = t.slot;
    const size = (t.params.size_mb as number) * 1024 * 1024;
    while (t.running()) {
      const c = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0);
      if (c === -1) throw new Error("mmap1: Assertion `c != MAP_FAILED' failed");
      munmap(c, size);
      iterations[slot]++;
    }
  },
});
