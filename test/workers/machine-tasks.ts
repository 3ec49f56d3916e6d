// Task bodies for the machine tests, run on piscina workers (built by build.ts, like the harness's
// worker). Each attaches to the test's machine, enters its CPU, does its part, leaves.

import { attach_kernel } from '../../src/kernel/init/main.ts';
import type { MachineDescriptor } from '../../src/machine/machine.ts';
import { mem32 } from '../../src/machine/memory.ts';
import { cpu_enter, cpu_exit, do_safe_point, safe_point, set_current } from '../../src/machine/cpu.ts';
import { BoundedTask } from '../../src/runner/probe.ts';
import brk2 from '../../workloads/brk2.ts';
import { spin_lock, spin_unlock } from '../../src/kernel/locking/spinlock.ts';
import { down_write, up_write } from '../../src/kernel/locking/rwsem.ts';
import { kmem_cache_alloc, kmem_cache_free } from '../../src/kernel/mm/slab.ts';
import { TD_COUNTER, TD_LOCK, TD_RCU_PASSED, TD_RWSEM, td, test_branch_key, test_cache, test_data } from './shared.ts';
import { static_branch } from '../../src/kernel/include/linux/jump_label.ts';
import { define_counter, read_counter } from '../../src/machine/counters.ts';

export interface MachineTask {
  machine: MachineDescriptor;
  /** ctl words: 0 stop, 1 ready count, 2.. gates / shared scratch */
  ctl: SharedArrayBuffer;
  /** Per-task iteration counters (stride 32 float64). */
  slots: SharedArrayBuffer;
  name: 'spin_counter' | 'rwsem_counter' | 'loop' | 'branch_loop' | 'rcu_gate' | 'slab_swap' | 'brk2';
  cpu: number;
  nr: number;
  nr_tasks: number;
  iterations: number;
  /** For slab_swap: objects per task, addresses exchanged through `objs`. */
  objs?: SharedArrayBuffer;
  /** For brk2: the task_struct to run as. */
  task?: number;
}

const CTL_STOP = 0;
const CTL_READY = 1;
const int3_traps = define_counter('sim.text_poke.int3_traps');
export const CTL_GATE = 16; // + nr: gate of task nr (rcu_gate), phase word (slab_swap)

function ready(ctl: Int32Array): void {
  Atomics.add(ctl, CTL_READY, 1);
  Atomics.notify(ctl, CTL_READY);
}

function run(t: MachineTask, ctl: Int32Array, slots: Float64Array): void {
  const slot = t.nr * 32;
  switch (t.name) {
    case 'spin_counter': {
      const lock = test_data.addr + TD_LOCK * 4;
      for (let i = 0; i < t.iterations; i++) {
        spin_lock(lock);
        mem32[td(TD_COUNTER)] = mem32[td(TD_COUNTER)] + 1; // plain read-modify-write: the lock is all that protects it
        spin_unlock(lock);
        if ((i & 255) === 0) safe_point();
      }
      return;
    }
    case 'rwsem_counter': {
      const sem = test_data.addr + TD_RWSEM * 4;
      for (let i = 0; i < t.iterations; i++) {
        down_write(sem);
        mem32[td(TD_COUNTER)] = mem32[td(TD_COUNTER)] + 1;
        up_write(sem);
        if ((i & 255) === 0) safe_point();
      }
      return;
    }
    case 'loop': {
      ready(ctl);
      while (ctl[CTL_STOP] === 0) {
        safe_point();
        slots[slot]++;
      }
      return;
    }
    case 'branch_loop': {
      // A safe point, then the static branch. Slots: 0 iterations, 1 branch taken, 2 the run of the
      // site trapped on INT3 (this CPU's trap count moved: only it runs the site), 3 taken when it did.
      ready(ctl);
      while (ctl[CTL_STOP] === 0) {
        safe_point();
        const traps = read_counter(int3_traps);
        const taken = static_branch(test_branch_key, 0);
        const trapped = read_counter(int3_traps) !== traps;
        if (taken) slots[slot + 1]++;
        if (trapped) slots[slot + 2]++;
        if (trapped && taken) slots[slot + 3]++;
        slots[slot]++;
      }
      return;
    }
    case 'rcu_gate': {
      // Hold this CPU outside any safe point (no quiescent state) until the test opens the gate.
      ready(ctl);
      while (Atomics.load(ctl, CTL_GATE + t.nr) === 0) Atomics.wait(ctl, CTL_GATE + t.nr, 0, 5);
      do_safe_point();
      Atomics.add(mem32, td(TD_RCU_PASSED), 1);
      while (Atomics.load(ctl, CTL_STOP) === 0) {
        safe_point();
        slots[slot]++;
      }
      return;
    }
    case 'brk2': {
      // will-it-scale's brk2 loop for exactly `iterations` operations, as thread t.task
      set_current(t.task!);
      brk2.testcase(new BoundedTask(t.nr, t.nr_tasks, 'thread', t.iterations));
      return;
    }
    case 'slab_swap': {
      // Allocate on this CPU, publish, wait for everyone, then free the next task's objects.
      const objs = new Int32Array(t.objs!);
      for (let i = 0; i < t.iterations; i++) objs[t.nr * t.iterations + i] = kmem_cache_alloc(test_cache);
      ready(ctl);
      while (Atomics.load(ctl, CTL_READY) < t.nr_tasks) Atomics.wait(ctl, CTL_READY, Atomics.load(ctl, CTL_READY), 5);
      const victim = (t.nr + 1) % t.nr_tasks;
      for (let i = 0; i < t.iterations; i++) kmem_cache_free(test_cache, objs[victim * t.iterations + i]);
      return;
    }
  }
}

export default function machine_task(t: MachineTask): number {
  attach_kernel(t.machine);
  const ctl = new Int32Array(t.ctl);
  const slots = new Float64Array(t.slots);
  cpu_enter(t.cpu);
  try {
    run(t, ctl, slots);
  } finally {
    cpu_exit();
  }
  return slots[t.nr * 32];
}
