// stop_machine (kernel/stop_machine.c): every online CPU stops at a barrier, one runs the
// function, then all resume. Running CPUs park at their next safe point; while they wait for
// the rest to arrive they still answer IPIs (Linux disables interrupts only once all have
// arrived), then wait out the function. Idle CPUs are claimed by the caller, which keeps them
// idle until the end and counts each as a modeled wake-up.

import { mem32 } from '../../machine/memory.ts';
import {
  PENDING_STOP, claim_idle_cpu, open_pending_handler, raise_pending, release_claimed_cpu, service_ipis,
  smp_processor_id,
} from '../../machine/cpu.ts';
import { nr_cpu_ids, per_cpu_ptr } from '../../machine/percpu.ts';
import { define_counter, define_global, define_per_cpu, type KFunction } from '../../machine/symbols.ts';
import { this_cpu_add, this_cpu_inc } from '../../machine/counters.ts';
import { MUTEX_SIZE, mutex_init, mutex_lock, mutex_unlock } from '../locking/mutex.ts';
import { kconfig, knob_index } from '../config.ts';

// multi_stop_state
const MULTI_STOP_NONE = 0;
const MULTI_STOP_PREPARE = 1;
const MULTI_STOP_RUN = 2;
const MULTI_STOP_EXIT = 3;

// struct multi_stop_data
const MS_MUTEX = 0; // stop_cpus_mutex
const MS_STATE = MUTEX_SIZE / 4;
const MS_PARKED = MS_STATE + 1;
const MS_LEFT = MS_STATE + 2;
const multi_stop_data = define_global('multi_stop_data', MUTEX_SIZE + 16);

// per-CPU cpu_stopper state
const STOPPER_NONE = 0;
const STOPPER_REQUESTED = 1;
const STOPPER_PARKED = 2;
const STOPPER_CLAIMED_IDLE = 3;
const cpu_stopper = define_per_cpu('cpu_stopper', 4);

const K_IPI_NS = knob_index('machine.ipi_ns');
const nr_stop = define_counter('sim.stop_machine.calls');
const nr_parked = define_counter('sim.stop_machine.parked');
const nr_idle_acks = define_counter('sim.stop_machine.idle_acks');
const idle_ack_ns = define_counter('sim.stop_machine.idle_ack_ns');

function ms(field: number): number {
  return (multi_stop_data.addr >> 2) + field;
}

function stopper_idx(cpu: number): number {
  return per_cpu_ptr(cpu_stopper, cpu) >> 2;
}

export function stop_machine_init(): void {
  mutex_init(multi_stop_data.addr + MS_MUTEX * 4, 'stop_cpus');
}

// kernel/stop_machine.c multi_cpu_stop, on a CPU that is not the caller
function multi_cpu_stop(): void {
  const i = stopper_idx(smp_processor_id());
  if (Atomics.compareExchange(mem32, i, STOPPER_REQUESTED, STOPPER_PARKED) !== STOPPER_REQUESTED) return;
  this_cpu_inc(nr_parked);
  Atomics.add(mem32, ms(MS_PARKED), 1);
  Atomics.notify(mem32, ms(MS_PARKED));
  for (let st = Atomics.load(mem32, ms(MS_STATE)); st !== MULTI_STOP_EXIT; st = Atomics.load(mem32, ms(MS_STATE))) {
    if (st === MULTI_STOP_PREPARE) service_ipis();
    Atomics.wait(mem32, ms(MS_STATE), st, st === MULTI_STOP_PREPARE ? 0.05 : 1);
  }
  Atomics.add(mem32, ms(MS_LEFT), 1);
  Atomics.notify(mem32, ms(MS_LEFT));
}

open_pending_handler(PENDING_STOP, multi_cpu_stop);

// kernel/stop_machine.c stop_machine: run func(arg) on this CPU while every other CPU is stopped
export function stop_machine(func: KFunction, arg: number): void {
  const me = smp_processor_id();
  if (me < 0) throw new Error('stop_machine: caller is not on a CPU');
  mutex_lock(multi_stop_data.addr + MS_MUTEX * 4);
  this_cpu_inc(nr_stop);
  const n = nr_cpu_ids();
  Atomics.store(mem32, ms(MS_PARKED), 0);
  Atomics.store(mem32, ms(MS_LEFT), 0);
  Atomics.store(mem32, ms(MS_STATE), MULTI_STOP_PREPARE);
  for (let cpu = 0; cpu < n; cpu++) if (cpu !== me) Atomics.store(mem32, stopper_idx(cpu), STOPPER_REQUESTED);

  // Every other CPU ends up parked or claimed idle.
  for (let waiting = true; waiting; ) {
    waiting = false;
    for (let cpu = 0; cpu < n; cpu++) {
      if (cpu === me) continue;
      const i = stopper_idx(cpu);
      if (Atomics.load(mem32, i) !== STOPPER_REQUESTED) continue;
      if (claim_idle_cpu(cpu)) {
        if (Atomics.compareExchange(mem32, i, STOPPER_REQUESTED, STOPPER_CLAIMED_IDLE) === STOPPER_REQUESTED) {
          this_cpu_inc(nr_idle_acks);
          this_cpu_add(idle_ack_ns, kconfig(K_IPI_NS));
        } else release_claimed_cpu(cpu);
        continue;
      }
      waiting = true;
      raise_pending(cpu, PENDING_STOP);
    }
    if (waiting) {
      service_ipis();
      Atomics.wait(mem32, ms(MS_PARKED), Atomics.load(mem32, ms(MS_PARKED)), 0.05);
    }
  }

  Atomics.store(mem32, ms(MS_STATE), MULTI_STOP_RUN);
  try {
    func.fn(arg);
  } finally {
    Atomics.store(mem32, ms(MS_STATE), MULTI_STOP_EXIT);
    Atomics.notify(mem32, ms(MS_STATE));
    const parked = Atomics.load(mem32, ms(MS_PARKED));
    for (let left = Atomics.load(mem32, ms(MS_LEFT)); left < parked; left = Atomics.load(mem32, ms(MS_LEFT))) {
      Atomics.wait(mem32, ms(MS_LEFT), left, 1);
    }
    for (let cpu = 0; cpu < n; cpu++) {
      if (cpu === me) continue;
      const i = stopper_idx(cpu);
      if (Atomics.exchange(mem32, i, STOPPER_NONE) === STOPPER_CLAIMED_IDLE) release_claimed_cpu(cpu);
    }
    Atomics.store(mem32, ms(MS_STATE), MULTI_STOP_NONE);
    mutex_unlock(multi_stop_data.addr + MS_MUTEX * 4);
  }
}

/** How each other CPU is held right now (tests check it from inside the stopped function). */
export function stop_machine_cpu_states(): { parked: number; idle: number } {
  let parked = 0;
  let idle = 0;
  for (let cpu = 0, n = nr_cpu_ids(); cpu < n; cpu++) {
    const st = Atomics.load(mem32, stopper_idx(cpu));
    if (st === STOPPER_PARKED) parked++;
    else if (st === STOPPER_CLAIMED_IDLE) idle++;
  }
  return { parked, idle };
}
