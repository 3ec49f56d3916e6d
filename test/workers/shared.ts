// Kernel objects the machine tests share between the main thread and task workers: both import
// this module, so the names bind to the same arena addresses and function ids.

import { mem32 } from '../../src/machine/memory.ts';
import { define_function, define_global } from '../../src/machine/symbols.ts';
import { smp_processor_id } from '../../src/machine/cpu.ts';
import { define_kmem_cache } from '../../src/kernel/mm/slab.ts';
import { stop_machine_cpu_states } from '../../src/kernel/kernel/stop_machine.ts';
import { define_static_key } from '../../src/kernel/include/linux/jump_label.ts';

// word layout of test_data
export const TD_LOCK = 0; // spinlock (2 words)
export const TD_COUNTER = 2;
export const TD_RWSEM = 4; // rw_semaphore (2 words)
export const TD_STOP_RUNS = 6; // times the stop_machine function ran
export const TD_STOP_PARKED = 7; // CPUs parked while it ran
export const TD_STOP_IDLE = 8; // CPUs claimed idle while it ran
export const TD_STOP_FROZEN = 9; // 1 if no worker counter moved while it ran
export const TD_RCU_INVOKED = 10;
export const TD_RCU_PASSED_AT_INVOKE = 11;
export const TD_RCU_PASSED = 12; // workers that have passed their quiescent state
export const TD_IPI_MASK = 13; // CPUs the cross-call function ran on (bit per CPU)
export const TD_IPI_RUNS = 14;
export const TD_RCU_HEAD = 16; // an rcu_head (3 words)
export const TD_WORDS = 32;
export const test_data = define_global('test:data', TD_WORDS * 4);

export function td(word: number): number {
  return (test_data.addr >> 2) + word;
}

export const test_cache = define_kmem_cache('test_obj', 64);

/** Shared with the workers through the task message: the slots the stop_machine test watches. */
let watched: Float64Array | null = null;
export function watch_slots(slots: Float64Array | null): void {
  watched = slots;
}

export const stopped_fn = define_function('test:stopped_fn', () => {
  Atomics.add(mem32, td(TD_STOP_RUNS), 1);
  const st = stop_machine_cpu_states();
  mem32[td(TD_STOP_PARKED)] = st.parked;
  mem32[td(TD_STOP_IDLE)] = st.idle;
  if (watched) {
    const before = Array.from(watched);
    const until = performance.now() + 20;
    while (performance.now() < until);
    mem32[td(TD_STOP_FROZEN)] = before.every((v, i) => watched![i] === v) ? 1 : 0;
  }
});

export const rcu_cb = define_function('test:rcu_cb', () => {
  mem32[td(TD_RCU_PASSED_AT_INVOKE)] = Atomics.load(mem32, td(TD_RCU_PASSED));
  Atomics.add(mem32, td(TD_RCU_INVOKED), 1);
});

export const ipi_fn = define_function('test:ipi_fn', () => {
  Atomics.or(mem32, td(TD_IPI_MASK), 1 << smp_processor_id());
  Atomics.add(mem32, td(TD_IPI_RUNS), 1);
});

/** A static key with one site, which the branch_loop task runs. */
export const test_branch_key = define_static_key('test:branch_key', 1);
