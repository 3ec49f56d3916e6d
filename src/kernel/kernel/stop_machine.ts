// stop_machine as in 3.2 (kernel/stop_machine.c __stop_machine, stop_machine_cpu_stop): every
// online CPU runs a state machine PREPARE → DISABLE_IRQ → RUN → EXIT, and every state change is a
// barrier: each CPU acknowledges the state (ack_state), and the last to do so moves all of them to
// the next (set_state). In RUN the function runs on the first online CPU, or on every CPU (what
// text_poke_smp asks for). Running CPUs join at their next safe point; while in PREPARE they still
// answer IPIs (Linux disables interrupts in DISABLE_IRQ). An idle CPU is claimed by the caller,
// which acknowledges each state on its behalf, as the idle CPU would from its stopper thread.
// What the host lacks is modeled hardware, waited out by the caller while the others stay parked:
// PREPARE waits for the IPI and the slowest idle CPU's exit from its idle state (they wake in
// parallel), and each state costs one cache-line transfer per acknowledgement made through the
// caller (the running CPUs' acknowledgements are real atomics on the host).

import { mem32 } from '../../machine/memory.ts';
import {
  CTX_KTHREAD, PENDING_STOP, claim_idle_cpu, host_can_spin, on_behalf_of, open_pending_handler, raise_pending, release_claimed_cpu, service_ipis,
  smp_processor_id,
} from '../../machine/cpu.ts';
import { nr_cpu_ids, per_cpu_ptr } from '../../machine/percpu.ts';
import { call_kfunction, define_counter, define_global, define_per_cpu, type KFunction } from '../../machine/symbols.ts';
import { this_cpu_add, this_cpu_inc } from '../../machine/counters.ts';
import { MUTEX_SIZE, mutex_init, mutex_lock, mutex_unlock } from '../locking/mutex.ts';
import { kconfig, knob_index } from '../config.ts';
import { hw_latency_wait, ktime_get_ns } from '../../machine/clock.ts';
import { cpuidle_idle_enter, cpuidle_wake_together } from '../drivers/cpuidle/governors/menu.ts';
import { stopper_sched_in, stopper_sched_out } from './sched/core.ts';
import { kthread_create } from './fork.ts';

// enum stopmachine_state (3.2)
const STOPMACHINE_NONE = 0;
const STOPMACHINE_PREPARE = 1;
const STOPMACHINE_RUN = 3; // after DISABLE_IRQ (2)
const STOPMACHINE_EXIT = 4;
/** Every CPU has acknowledged EXIT: the caller may return. */
const STOPMACHINE_DONE = 5;

// struct stop_machine_data
const MS_MUTEX = 0; // stop_cpus_mutex
const MS_STATE = MUTEX_SIZE / 4;
const MS_THREAD_ACK = MS_STATE + 1;
const MS_FUNC = MS_STATE + 2;
const MS_ARG = MS_STATE + 3;
const MS_ALL = MS_STATE + 4; // 1: the function runs on every CPU
const MS_PARKED = MS_STATE + 5;
const MS_LEFT = MS_STATE + 6;
const stop_machine_data = define_global('stop_machine_data', MUTEX_SIZE + 32);

// per-CPU cpu_stopper state
const STOPPER_NONE = 0;
const STOPPER_REQUESTED = 1;
const STOPPER_PARKED = 2;
const STOPPER_CLAIMED_IDLE = 3;
const cpu_stopper = define_per_cpu('cpu_stopper', 4);
// per-CPU cpu_stopper.thread: the stopper task (migration/N)
const cpu_stopper_task = define_per_cpu('cpu_stopper_task', 4);

const K_IPI_NS = knob_index('machine.ipi_ns');
const K_CACHELINE_NS = knob_index('machine.cacheline_ns');
const nr_stop = define_counter('sim.stop_machine.calls');
const nr_parked = define_counter('sim.stop_machine.parked');
const nr_acks = define_counter('sim.stop_machine.acks');
const nr_idle_acks = define_counter('sim.stop_machine.idle_acks');
/** Real time the stopped running CPUs spent in the stopper, summed. */
const wait_ns = define_counter('sim.stop_machine.wait_ns');
/** The modeled part: hardware latencies the caller waited out while the others were stopped. */
const modeled_ns = define_counter('sim.stop_machine.modeled_ns');

// Linux's stopped CPUs spin on the state with interrupts off, so a state change reaches them at
// once. A host thread that slept on the word would add the host's wake-up latency (tens of µs)
// to every state: the stopped CPUs and the caller spin for up to this long, then sleep on it;
// they sleep at once when, as the stop begins, the busy simulated CPUs outnumber the host's cores
// (host_can_spin). The caller's modeled waits and RUN's wait for wrote_text always spin: short.
const STOP_SPIN_NS = 1_000_000;

/** Wait for the state word to leave `cur`: spin, then sleep. */
function wait_state_change(cur: number, since: number, spin: boolean): void {
  if (spin && ktime_get_ns() - since < STOP_SPIN_NS) return;
  Atomics.wait(mem32, ms(MS_STATE), cur, 0.05);
}

function ms(field: number): number {
  return (stop_machine_data.addr >> 2) + field;
}

function stopper_idx(cpu: number): number {
  return per_cpu_ptr(cpu_stopper, cpu) >> 2;
}

export function stop_machine_init(): void {
  mutex_init(stop_machine_data.addr + MS_MUTEX * 4, 'stop_cpus');
}

// kernel/stop_machine.c cpu_stop_init (an early initcall, after init exists): a stopper task per CPU
export function cpu_stop_init(): void {
  for (let cpu = 0, n = nr_cpu_ids(); cpu < n; cpu++) mem32[per_cpu_ptr(cpu_stopper_task, cpu) >> 2] = kthread_create();
}

function stopper_of(cpu: number): number {
  return mem32[per_cpu_ptr(cpu_stopper_task, cpu) >> 2];
}

// kernel/stop_machine.c set_state: every CPU must acknowledge the new state
function set_state(state: number): void {
  Atomics.store(mem32, ms(MS_THREAD_ACK), nr_cpu_ids());
  Atomics.store(mem32, ms(MS_STATE), state);
  Atomics.notify(mem32, ms(MS_STATE));
}

// kernel/stop_machine.c ack_state: the last CPU to acknowledge moves everyone on
function ack_state(state: number): void {
  this_cpu_inc(nr_acks);
  if (Atomics.sub(mem32, ms(MS_THREAD_ACK), 1) === 1) set_state(state + 1);
}

// kernel/stop_machine.c stop_machine_cpu_stop, one state on this CPU: RUN runs the function where
// it is active (DISABLE_IRQ's local_irq_disable is that no CPU answers IPIs after PREPARE)
function enter_state(state: number): void {
  if (state === STOPMACHINE_RUN && (mem32[ms(MS_ALL)] === 1 || smp_processor_id() === 0)) call_kfunction(mem32[ms(MS_FUNC)], mem32[ms(MS_ARG)]);
  ack_state(state);
}

// kernel/stop_machine.c stop_machine_cpu_stop, on a running CPU that is not the caller
function multi_cpu_stop(): void {
  const i = stopper_idx(smp_processor_id());
  if (Atomics.compareExchange(mem32, i, STOPPER_REQUESTED, STOPPER_PARKED) !== STOPPER_REQUESTED) return;
  const t0 = ktime_get_ns();
  this_cpu_inc(nr_parked);
  stopper_sched_in(stopper_of(smp_processor_id()));
  Atomics.add(mem32, ms(MS_PARKED), 1);
  let cur = STOPMACHINE_NONE;
  let since = t0;
  const spin = host_can_spin();
  do {
    const st = Atomics.load(mem32, ms(MS_STATE));
    if (st !== cur) {
      cur = st;
      since = ktime_get_ns();
      enter_state(cur);
    } else {
      if (cur === STOPMACHINE_PREPARE) service_ipis();
      wait_state_change(cur, since, spin);
    }
  } while (cur !== STOPMACHINE_EXIT);
  stopper_sched_out();
  this_cpu_add(wait_ns, ktime_get_ns() - t0);
  Atomics.add(mem32, ms(MS_LEFT), 1);
  Atomics.notify(mem32, ms(MS_LEFT));
}

open_pending_handler(PENDING_STOP, multi_cpu_stop, CTX_KTHREAD);

/** Wait out a modeled latency as part of the stop (the caller's CPU spins; the others stay parked). */
function stop_latency(ns: number): void {
  if (ns <= 0) return;
  this_cpu_add(modeled_ns, ns);
  hw_latency_wait(ns);
}

/** Acknowledge `state` for the claimed idle CPUs: one cache-line transfer each. */
function ack_for(claimed: readonly number[], state: number): void {
  if (claimed.length === 0) return;
  stop_latency(claimed.length * kconfig(K_CACHELINE_NS));
  for (const cpu of claimed) on_behalf_of(cpu, () => enter_state(state));
}

/**
 * kernel/stop_machine.c __stop_machine: stop every CPU and run func(arg) in RUN on the first
 * online CPU, or on every CPU with `on = 'all'` (text_poke_smp passes cpu_online_mask).
 */
export function stop_machine(func: KFunction, arg: number, on: 'first' | 'all' = 'first'): void {
  const me = smp_processor_id();
  if (me < 0) throw new Error('stop_machine: caller is not on a CPU');
  mutex_lock(stop_machine_data.addr + MS_MUTEX * 4);
  this_cpu_inc(nr_stop);
  const n = nr_cpu_ids();
  mem32[ms(MS_FUNC)] = func.id;
  mem32[ms(MS_ARG)] = arg;
  mem32[ms(MS_ALL)] = on === 'all' ? 1 : 0;
  Atomics.store(mem32, ms(MS_PARKED), 0);
  Atomics.store(mem32, ms(MS_LEFT), 0);
  for (let cpu = 0; cpu < n; cpu++) if (cpu !== me) Atomics.store(mem32, stopper_idx(cpu), STOPPER_REQUESTED);
  set_state(STOPMACHINE_PREPARE);
  // The caller waits for the stop; its CPU runs its own stopper meanwhile.
  stopper_sched_in(stopper_of(me));

  // This CPU's part, and the claimed idle CPUs': each state as it comes.
  const claimed: number[] = [];
  let cur = STOPMACHINE_NONE;
  let since = ktime_get_ns();
  const spin = host_can_spin();
  try {
    while (cur !== STOPMACHINE_DONE) {
      const st = Atomics.load(mem32, ms(MS_STATE));
      if (st !== cur) {
        cur = st;
        since = ktime_get_ns();
        if (cur === STOPMACHINE_DONE) break;
        enter_state(cur);
        ack_for(claimed, cur);
        continue;
      }
      if (cur === STOPMACHINE_PREPARE) {
        // Bring the others in: an idle CPU is claimed (and acknowledges PREPARE through us once
        // it has woken), a running one is asked.
        const woken: number[] = [];
        for (let cpu = 0; cpu < n; cpu++) {
          if (cpu === me || Atomics.load(mem32, stopper_idx(cpu)) !== STOPPER_REQUESTED) continue;
          if (!claim_idle_cpu(cpu)) {
            raise_pending(cpu, PENDING_STOP);
            continue;
          }
          if (Atomics.compareExchange(mem32, stopper_idx(cpu), STOPPER_REQUESTED, STOPPER_CLAIMED_IDLE) !== STOPPER_REQUESTED) {
            release_claimed_cpu(cpu);
            continue;
          }
          this_cpu_inc(nr_idle_acks);
          woken.push(cpu);
        }
        if (woken.length) {
          stop_latency(kconfig(K_IPI_NS) + cpuidle_wake_together(woken));
          claimed.push(...woken);
          ack_for(woken, STOPMACHINE_PREPARE);
        }
        service_ipis();
      }
      if (Atomics.load(mem32, ms(MS_STATE)) === cur) wait_state_change(cur, since, spin);
    }
  } finally {
    // Every CPU has acknowledged EXIT, or the function threw here: then send the parked ones to EXIT.
    if (cur !== STOPMACHINE_DONE) set_state(STOPMACHINE_EXIT);
    const parked = Atomics.load(mem32, ms(MS_PARKED));
    for (let left = Atomics.load(mem32, ms(MS_LEFT)); left < parked; left = Atomics.load(mem32, ms(MS_LEFT))) Atomics.wait(mem32, ms(MS_LEFT), left, 1);
    for (let cpu = 0; cpu < n; cpu++) {
      if (cpu === me) continue;
      if (Atomics.exchange(mem32, stopper_idx(cpu), STOPPER_NONE) !== STOPPER_CLAIMED_IDLE) continue;
      cpuidle_idle_enter(cpu, ktime_get_ns());
      release_claimed_cpu(cpu);
    }
    Atomics.store(mem32, ms(MS_STATE), STOPMACHINE_NONE);
    stopper_sched_out();
    mutex_unlock(stop_machine_data.addr + MS_MUTEX * 4);
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
