// Cross-CPU function calls (kernel/smp.c). The caller posts the function to every other CPU and
// waits until each has run it. A running CPU runs it at its next safe point (or while it spins on
// a lock); an idle CPU is claimed by the caller, which runs the function as that CPU once the
// modeled IPI and idle-state exit have passed.

import { mem32 } from '../../machine/memory.ts';
import {
  CTX_HARDIRQ, PENDING_CALL_FUNCTION, claim_idle_cpu, on_behalf_of, open_pending_handler, raise_pending,
  release_claimed_cpu, service_ipis, smp_processor_id,
} from '../../machine/cpu.ts';
import { nr_cpu_ids, per_cpu_ptr } from '../../machine/percpu.ts';
import { call_kfunction, define_counter, define_global, define_per_cpu, type KFunction } from '../../machine/symbols.ts';
import { this_cpu_add, this_cpu_inc } from '../../machine/counters.ts';
import { MUTEX_SIZE, mutex_init, mutex_lock, mutex_unlock } from '../locking/mutex.ts';
import { kconfig, knob_index } from '../config.ts';
import { hw_latency_wait, ktime_get_ns } from '../../machine/clock.ts';
import { cpuidle_idle_enter, cpuidle_wake_together } from '../drivers/cpuidle/governors/menu.ts';

// struct call_function_data: one caller at a time
const CF_MUTEX = 0;
const CF_FUNC = MUTEX_SIZE / 4;
const CF_ARG = CF_FUNC + 1;
const call_function_data = define_global('call_function_data', MUTEX_SIZE + 8);

// per-CPU call_single_data state
const CSD_IDLE = 0;
const CSD_REQUESTED = 1;
const CSD_RUNNING = 2;
const CSD_DONE = 3;
const csd = define_per_cpu('csd', 4);

const K_IPI_NS = knob_index('machine.ipi_ns');
const nr_calls = define_counter('sim.smp.call_function');
const nr_ipis = define_counter('sim.smp.ipis');
const nr_idle_acks = define_counter('sim.smp.idle_acks');
/** Modeled hardware latencies the callers waited out: IPI delivery and idle-state exits. */
const modeled_ns = define_counter('sim.smp.modeled_ns');

function cf(field: number): number {
  return (call_function_data.addr >> 2) + field;
}

function csd_idx(cpu: number): number {
  return per_cpu_ptr(csd, cpu) >> 2;
}

export function smp_init(): void {
  mutex_init(call_function_data.addr + CF_MUTEX * 4, 'call_function');
}

function run_posted(): void {
  call_kfunction(mem32[cf(CF_FUNC)], mem32[cf(CF_ARG)]);
}

// kernel/smp.c generic_smp_call_function_interrupt: the IPI handler
function generic_smp_call_function_interrupt(): void {
  const i = csd_idx(smp_processor_id());
  if (Atomics.compareExchange(mem32, i, CSD_REQUESTED, CSD_RUNNING) !== CSD_REQUESTED) return;
  run_posted();
  Atomics.store(mem32, i, CSD_DONE);
  Atomics.notify(mem32, i);
}

open_pending_handler(PENDING_CALL_FUNCTION, generic_smp_call_function_interrupt, CTX_HARDIRQ);

/**
 * Run the posted function as each of `cpus`, idle CPUs claimed by the caller: they were sent the
 * IPI together and wake in parallel, so the caller first waits out the IPI's delivery and the
 * slowest one's exit from its idle state (modeled hardware).
 */
function run_on_idle(cpus: readonly number[]): void {
  const ns = kconfig(K_IPI_NS) + cpuidle_wake_together(cpus);
  this_cpu_add(modeled_ns, ns);
  hw_latency_wait(ns);
  for (const cpu of cpus) {
    on_behalf_of(cpu, run_posted);
    Atomics.store(mem32, csd_idx(cpu), CSD_DONE);
    this_cpu_inc(nr_idle_acks);
    cpuidle_idle_enter(cpu, ktime_get_ns());
    release_claimed_cpu(cpu);
  }
}

/** Claim `cpu` if it is idle and still waits for the call (then the caller runs it for it). */
function claim_for_call(cpu: number): boolean {
  if (!claim_idle_cpu(cpu)) return false;
  if (Atomics.compareExchange(mem32, csd_idx(cpu), CSD_REQUESTED, CSD_RUNNING) === CSD_REQUESTED) return true;
  release_claimed_cpu(cpu);
  return false;
}

// kernel/smp.c smp_call_function: run func(arg) on every other CPU and wait for all of them
export function smp_call_function(func: KFunction, arg: number): void {
  const me = smp_processor_id();
  if (me < 0) throw new Error('smp_call_function: caller is not on a CPU');
  mutex_lock(call_function_data.addr + CF_MUTEX * 4);
  this_cpu_inc(nr_calls);
  mem32[cf(CF_FUNC)] = func.id;
  mem32[cf(CF_ARG)] = arg;
  const n = nr_cpu_ids();
  const idle: number[] = [];
  for (let cpu = 0; cpu < n; cpu++) {
    if (cpu === me) continue;
    Atomics.store(mem32, csd_idx(cpu), CSD_REQUESTED);
    this_cpu_inc(nr_ipis);
    if (claim_for_call(cpu)) idle.push(cpu);
    else raise_pending(cpu, PENDING_CALL_FUNCTION);
  }
  if (idle.length) run_on_idle(idle);
  for (let waiting = true; waiting; ) {
    waiting = false;
    for (let cpu = 0; cpu < n; cpu++) {
      if (cpu === me) continue;
      const i = csd_idx(cpu);
      const st = Atomics.load(mem32, i);
      if (st === CSD_DONE) continue;
      // It went idle before answering, once another claimer let it go.
      if (st === CSD_REQUESTED && claim_for_call(cpu)) {
        run_on_idle([cpu]);
        continue;
      }
      waiting = true;
      raise_pending(cpu, PENDING_CALL_FUNCTION);
      service_ipis();
      Atomics.wait(mem32, i, st, 0.05);
    }
  }
  for (let cpu = 0; cpu < n; cpu++) if (cpu !== me) Atomics.store(mem32, csd_idx(cpu), CSD_IDLE);
  mutex_unlock(call_function_data.addr + CF_MUTEX * 4);
}

// kernel/smp.c on_each_cpu: smp_call_function plus the caller itself
export function on_each_cpu(func: KFunction, arg: number): void {
  smp_call_function(func, arg);
  func.fn(arg);
}
