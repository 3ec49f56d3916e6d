// Cross-CPU function calls (kernel/smp.c). The caller posts the function to every other CPU and
// waits until each has run it. A running CPU runs it at its next safe point (or while it spins on
// a lock); an idle CPU is claimed by the caller, which runs the function as that CPU and counts
// the idle CPU's wake-up as a modeled cost.

import { mem32 } from '../../machine/memory.ts';
import {
  CPU_RUNNING, PENDING_CALL_FUNCTION, claim_idle_cpu, cpu_owner, on_behalf_of, open_pending_handler, raise_pending,
  release_claimed_cpu, service_ipis, smp_processor_id,
} from '../../machine/cpu.ts';
import { nr_cpu_ids, per_cpu_ptr } from '../../machine/percpu.ts';
import { call_kfunction, define_counter, define_global, define_per_cpu, type KFunction } from '../../machine/symbols.ts';
import { this_cpu_add, this_cpu_inc } from '../../machine/counters.ts';
import { MUTEX_SIZE, mutex_init, mutex_lock, mutex_unlock } from '../locking/mutex.ts';
import { kconfig, knob_index } from '../config.ts';

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
const idle_ack_ns = define_counter('sim.smp.idle_ack_ns');

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

open_pending_handler(PENDING_CALL_FUNCTION, generic_smp_call_function_interrupt);

// kernel/smp.c smp_call_function: run func(arg) on every other CPU and wait for all of them
export function smp_call_function(func: KFunction, arg: number): void {
  const me = smp_processor_id();
  if (me < 0) throw new Error('smp_call_function: caller is not on a CPU');
  mutex_lock(call_function_data.addr + CF_MUTEX * 4);
  this_cpu_inc(nr_calls);
  mem32[cf(CF_FUNC)] = func.id;
  mem32[cf(CF_ARG)] = arg;
  const n = nr_cpu_ids();
  for (let cpu = 0; cpu < n; cpu++) {
    if (cpu === me) continue;
    Atomics.store(mem32, csd_idx(cpu), CSD_REQUESTED);
    if (cpu_owner(cpu) === CPU_RUNNING) {
      raise_pending(cpu, PENDING_CALL_FUNCTION);
      this_cpu_inc(nr_ipis);
    }
  }
  for (let waiting = true; waiting; ) {
    waiting = false;
    for (let cpu = 0; cpu < n; cpu++) {
      if (cpu === me) continue;
      const i = csd_idx(cpu);
      const st = Atomics.load(mem32, i);
      if (st === CSD_DONE) continue;
      if (st === CSD_REQUESTED && claim_idle_cpu(cpu)) {
        if (Atomics.compareExchange(mem32, i, CSD_REQUESTED, CSD_RUNNING) === CSD_REQUESTED) {
          on_behalf_of(cpu, run_posted);
          Atomics.store(mem32, i, CSD_DONE);
          this_cpu_inc(nr_idle_acks);
          this_cpu_add(idle_ack_ns, kconfig(K_IPI_NS));
        }
        release_claimed_cpu(cpu);
        continue;
      }
      // Not idle: make sure it has been asked (it may have entered after we posted).
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
