// The machine under real worker threads: locks, stop_machine, RCU grace periods, slab across
// CPUs and cross-CPU calls, with exact outcomes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { worker_build } from '../src/runner/build.ts';
import { start_kernel } from '../src/kernel/init/main.ts';
import { resolve_config } from '../src/kernel/config.ts';
import { mem32 } from '../src/machine/memory.ts';
import { cpu_enter, cpu_exit, do_safe_point, set_current } from '../src/machine/cpu.ts';
import { CLONE_THREAD, CLONE_VM, kernel_clone, task_mm } from '../src/kernel/kernel/fork.ts';
import { build_parent, maps_layout } from '../src/runner/layout.ts';
import { TINY_MAPS } from './helpers/boot.ts';
import { mt_entries, mt_validate } from '../src/kernel/lib/maple_tree.ts';
import { mm_mt, vm_end, vm_start } from '../src/kernel/mm/mm_types.ts';
import { brk, sbrk } from '../src/user/libc.ts';
import { read_counter_by_name, read_counter_on } from '../src/machine/counters.ts';
import { spin_lock_init } from '../src/kernel/locking/spinlock.ts';
import { init_rwsem } from '../src/kernel/locking/rwsem.ts';
import { stop_machine } from '../src/kernel/kernel/stop_machine.ts';
import { smp_call_function } from '../src/kernel/kernel/smp.ts';
import { static_key_slow_inc } from '../src/kernel/kernel/jump_label.ts';
import { call_rcu, rcu_gp_kick, rcu_stats } from '../src/kernel/kernel/rcu.ts';
import { slab_stats } from '../src/kernel/mm/slab.ts';
import type { MachineTask } from './workers/machine-tasks.ts';
import { CTL_GATE } from './workers/machine-tasks.ts';
import {
  TD_COUNTER, TD_IPI_MASK, TD_IPI_RUNS, TD_LOCK, TD_RCU_HEAD, TD_RCU_INVOKED, TD_RCU_PASSED, TD_RCU_PASSED_AT_INVOKE,
  TD_RWSEM, TD_STOP_FROZEN, TD_STOP_IDLE, TD_STOP_PARKED, TD_STOP_RUNS, ipi_fn, rcu_cb, stopped_fn, td, test_branch_key, test_cache,
  test_data, watch_slots,
} from './workers/shared.ts';

const TASKS = fileURLToPath(new URL('./workers/machine-tasks.ts', import.meta.url));
let pool: Piscina;

beforeAll(async () => {
  const build = await worker_build([TASKS]);
  pool = new Piscina({ filename: build.built(TASKS), minThreads: 4, maxThreads: 4, execArgv: [] });
});

afterAll(async () => {
  await pool.destroy();
});

function boot(nr_cpus: number, sets: string[] = []) {
  return start_kernel({ nr_cpus, mem_mb: 64, config: resolve_config(undefined, sets) });
}

function control() {
  return {
    ctl: new Int32Array(new SharedArrayBuffer(64 * 4)),
    slots: new Float64Array(new SharedArrayBuffer(8 * 32 * 8)),
  };
}

async function wait_ready(ctl: Int32Array, n: number) {
  while (Atomics.load(ctl, 1) < n) await new Promise((r) => setTimeout(r, 2));
}

function task(k: ReturnType<typeof boot>, c: ReturnType<typeof control>, name: MachineTask['name'], nr: number, nr_tasks: number, cpu: number, iterations = 0): MachineTask {
  return { machine: k.machine, ctl: c.ctl.buffer as SharedArrayBuffer, slots: c.slots.buffer as SharedArrayBuffer, name, nr, nr_tasks, cpu, iterations };
}

describe('machine under worker threads', () => {
  it('four workers increment a spinlock-protected counter to the exact total', async () => {
    const k = boot(4);
    spin_lock_init(test_data.addr + TD_LOCK * 4, 'test_lock');
    cpu_exit();
    const c = control();
    const N = 50_000;
    await Promise.all([0, 1, 2, 3].map((i) => pool.run(task(k, c, 'spin_counter', i, 4, i, N))));
    expect(mem32[td(TD_COUNTER)]).toBe(4 * N);
    // Contention is up to the host's scheduling; the first acquisition cannot be contended.
    expect(read_counter_by_name('sim.lock.test_lock.contended')).toBeLessThan(4 * N);
  });

  it('four workers increment an rw_semaphore-protected counter to the exact total', async () => {
    const k = boot(4);
    init_rwsem(test_data.addr + TD_RWSEM * 4, 'test_rwsem');
    cpu_exit();
    const c = control();
    const N = 20_000;
    await Promise.all([0, 1, 2, 3].map((i) => pool.run(task(k, c, 'rwsem_counter', i, 4, i, N))));
    expect(mem32[td(TD_COUNTER)]).toBe(4 * N);
  });

  it('stop_machine runs its function exactly once, with every looping worker parked and idle CPUs claimed', async () => {
    const k = boot(7); // CPU 0: the caller; 1-4: workers; 5-6: idle
    cpu_exit();
    const c = control();
    const runs = [1, 2, 3, 4].map((cpu, i) => pool.run(task(k, c, 'loop', i, 4, cpu)));
    await wait_ready(c.ctl, 4);
    watch_slots(c.slots);
    cpu_enter(0);
    stop_machine(stopped_fn, 0);
    cpu_exit();
    watch_slots(null);
    Atomics.store(c.ctl, 0, 1);
    const iterations = await Promise.all(runs);
    expect(mem32[td(TD_STOP_RUNS)]).toBe(1);
    expect(mem32[td(TD_STOP_PARKED)]).toBe(4);
    expect(mem32[td(TD_STOP_IDLE)]).toBe(2);
    expect(mem32[td(TD_STOP_FROZEN)]).toBe(1);
    expect(read_counter_by_name('sim.stop_machine.parked')).toBe(4);
    expect(read_counter_by_name('sim.stop_machine.idle_acks')).toBe(2);
    // 3.2's protocol: each of the 7 CPUs acknowledges PREPARE, DISABLE_IRQ, RUN and EXIT once.
    expect([0, 1, 2, 3, 4, 5, 6].map((cpu) => read_counter_on('sim.stop_machine.acks', cpu))).toEqual([4, 4, 4, 4, 4, 4, 4]);
    expect(iterations.every((n) => n > 0)).toBe(true);
  });

  /** CPU 1 runs the branch_loop task while CPU 0 turns the key on; the worker then passes the patched site a while longer. */
  async function patch_under_branch_loop(nr_cpus: number, text_poke: string) {
    const k = boot(nr_cpus, [`arch.text_poke=${text_poke}`]);
    cpu_exit();
    const c = control();
    const run = pool.run(task(k, c, 'branch_loop', 0, 1, 1));
    await wait_ready(c.ctl, 1);
    cpu_enter(0);
    static_key_slow_inc(test_branch_key);
    cpu_exit();
    const seen = c.slots[0];
    while (c.slots[0] < seen + 100) await new Promise((r) => setTimeout(r, 1));
    Atomics.store(c.ctl, 0, 1);
    await run;
    return { slots: c.slots };
  }

  // The site's first byte is INT3 from before the first sync round until after the second, and a
  // running CPU passes the site at least once between its answers to the two.
  for (const [text_poke, taken] of [['int3_batch', true], ['int3', false]] as const) {
    it(`${text_poke}: a CPU that runs a site mid-patch traps, and continues as ${taken ? "5.3's handler emulates the new JMP" : "3.12's handler skips past the NOP"}`, async () => {
      const c = await patch_under_branch_loop(2, text_poke);
      const trapped = c.slots[2];
      expect(trapped).toBeGreaterThanOrEqual(1);
      expect(read_counter_by_name('sim.text_poke.int3_traps')).toBe(trapped);
      expect(read_counter_by_name('sim.text_poke.int3_rounds')).toBe(3);
      // Taken while trapped only where the handler emulates the JMP; taken always once it is written.
      expect(c.slots[3]).toBe(taken ? trapped : 0);
      expect(c.slots[1]).toBeGreaterThan(c.slots[3]);
    });
  }

  it('stop_machine text patching (3.2): the running CPU is parked through all four states, never sees INT3, and takes the branch after', async () => {
    const c = await patch_under_branch_loop(3, 'stop_machine'); // CPU 0 patches, 1 runs the site, 2 idle
    expect(read_counter_by_name('sim.text_poke.stop_machine')).toBe(1);
    expect(read_counter_by_name('sim.stop_machine.parked')).toBe(1);
    expect([0, 1, 2].map((cpu) => read_counter_on('sim.stop_machine.acks', cpu))).toEqual([4, 4, 4]);
    expect(read_counter_by_name('sim.text_poke.int3_traps')).toBe(0);
    expect(c.slots[1]).toBeGreaterThan(0);
  });

  it('smp_call_function runs on every other CPU: running ones at a safe point, idle ones by the caller', async () => {
    const k = boot(4); // CPU 0 caller; 1-2 workers; 3 idle
    cpu_exit();
    const c = control();
    const runs = [1, 2].map((cpu, i) => pool.run(task(k, c, 'loop', i, 2, cpu)));
    await wait_ready(c.ctl, 2);
    cpu_enter(0);
    smp_call_function(ipi_fn, 0);
    cpu_exit();
    Atomics.store(c.ctl, 0, 1);
    await Promise.all(runs);
    expect(mem32[td(TD_IPI_MASK)]).toBe(0b1110);
    expect(mem32[td(TD_IPI_RUNS)]).toBe(3);
    expect(read_counter_by_name('sim.smp.idle_acks')).toBe(1);
  });

  it('an RCU callback runs only after every running CPU has passed a quiescent state', async () => {
    const k = boot(5); // CPU 0: the main thread; 1-4: workers held before their quiescent state
    cpu_exit();
    const c = control();
    const runs = [1, 2, 3, 4].map((cpu, i) => pool.run(task(k, c, 'rcu_gate', i, 4, cpu)));
    await wait_ready(c.ctl, 4);
    cpu_enter(0);
    call_rcu(test_data.addr + TD_RCU_HEAD * 4, rcu_cb);
    rcu_gp_kick();
    const gp = rcu_stats().gp_seq;
    expect(gp & 1).toBe(1); // a grace period is in progress
    do_safe_point(); // CPU 0's own quiescent state
    for (let i = 0; i < 4; i++) {
      expect(mem32[td(TD_RCU_INVOKED)]).toBe(0);
      expect(rcu_stats().gp_seq).toBe(gp);
      Atomics.store(c.ctl, CTL_GATE + i, 1);
      Atomics.notify(c.ctl, CTL_GATE + i);
      while (Atomics.load(mem32, td(TD_RCU_PASSED)) < i + 1) await new Promise((r) => setTimeout(r, 1));
    }
    while (rcu_stats().gp_seq === gp) await new Promise((r) => setTimeout(r, 1));
    do_safe_point(); // the callback runs on CPU 0, where it was queued
    cpu_exit();
    Atomics.store(c.ctl, 0, 1);
    await Promise.all(runs);
    expect(mem32[td(TD_RCU_INVOKED)]).toBe(1);
    expect(mem32[td(TD_RCU_PASSED_AT_INVOKE)]).toBe(4);
    expect(read_counter_by_name('sim.rcu.callbacks')).toBe(1);
  });

  it('slab objects allocated on one CPU and freed on another balance out', async () => {
    const k = boot(4);
    cpu_exit();
    const c = control();
    const N = 1000;
    const objs = new SharedArrayBuffer(4 * N * 4);
    await Promise.all([0, 1, 2, 3].map((i) => pool.run({ ...task(k, c, 'slab_swap', i, 4, i, N), objs })));
    const addrs = new Int32Array(objs);
    expect(new Set(addrs).size).toBe(4 * N); // no object handed out twice
    expect(addrs.every((a) => a > 0)).toBe(true);
    expect(read_counter_by_name('sim.slab.test_obj.alloc')).toBe(4 * N);
    expect(read_counter_by_name('sim.slab.test_obj.free')).toBe(4 * N);
    expect(slab_stats(test_cache).active_objects).toBe(0);
  });
});


describe('mm under worker threads', () => {
  it('thread-mode brk2, 4 tasks on one mm: the tree stays valid and brk comes back where it started', async () => {
    const config = resolve_config();
    const k = start_kernel({ nr_cpus: 4, mem_mb: 64, config });
    const parent = kernel_clone(0);
    set_current(parent);
    build_parent(maps_layout(TINY_MAPS));
    const mm = task_mm(parent);
    const start = sbrk(0);
    const brk_calls = read_counter_by_name('sim.mm.brk');
    const layout = mt_entries(mm_mt(mm)).map(([, , v]) => [vm_start(v), vm_end(v)]);
    const threads = [0, 1, 2, 3].map(() => kernel_clone(CLONE_VM | CLONE_THREAD));
    cpu_exit();
    const c = control();
    const N = 4000;
    await Promise.all(threads.map((task, i) => pool.run({ ...task_of(k, c, i, task, N) })));
    cpu_enter(0);
    set_current(parent);
    mt_validate(mm_mt(mm));
    // Per task: sbrk(P) (two brk calls), then N / 2 passes of two.
    expect(read_counter_by_name('sim.mm.brk') - brk_calls).toBe(4 * (N + 2));
    expect(brk(start)).toBe(0);
    expect(sbrk(0)).toBe(start);
    expect(mt_entries(mm_mt(mm)).map(([, , v]) => [vm_start(v), vm_end(v)])).toEqual(layout);
    cpu_exit();
  });
});

function task_of(k: ReturnType<typeof boot>, c: ReturnType<typeof control>, nr: number, task: number, iterations: number): MachineTask {
  return { machine: k.machine, ctl: c.ctl.buffer as SharedArrayBuffer, slots: c.slots.buffer as SharedArrayBuffer, name: 'brk2', nr, nr_tasks: 4, cpu: nr, iterations, task };
}
