// RCU, non-preemptible flavour (kernel/rcu/tree.c, CONFIG_PREEMPT_NONE).
//
// Readers need no marking: a CPU is never inside a read-side section at a safe point, so every
// safe point it passes is a quiescent state. call_rcu queues a callback on this CPU, tagged with
// the grace period that must end before it may run. A grace period starts at a scheduler tick
// when callbacks wait for one (so many callbacks share it, as in Linux), asks every running CPU
// for a quiescent state through its pending word, and ends when the last one reports. Idle CPUs
// are in an extended quiescent state and are not asked. When it ends, CPUs with callbacks run
// the ready ones at their next safe point; the ender runs them for idle CPUs.
//
// Grace-period numbers follow rcu_seq: odd while one is in progress.

import { mem32 } from '../../machine/memory.ts';
import {
  CTX_SOFTIRQ, PENDING_RCU, claim_idle_cpu, on_behalf_of, open_pending_handler, raise_pending, register_idle_hooks,
  release_claimed_cpu, smp_processor_id, this_cpu_base, do_safe_point,
} from '../../machine/cpu.ts';
import { nr_cpu_ids, per_cpu_ptr } from '../../machine/percpu.ts';
import { call_kfunction, define_counter, define_global, define_per_cpu, type KFunction } from '../../machine/symbols.ts';
import { this_cpu_inc } from '../../machine/counters.ts';
import { spin_lock, spin_lock_init, spin_unlock } from '../locking/spinlock.ts';
import { schedule_wait } from './sched/wait.ts';

// struct rcu_state
const RS_LOCK = 0; // spinlock, 2 words
const RS_GP_SEQ = 2;
const RS_QS_REMAINING = 3;
const RS_GP_NEEDED = 4; // highest grace-period number some callback waits for
const rcu_state = define_global('rcu_state', 32);

function rcu_lock(): number {
  return rcu_state.addr + RS_LOCK * 4;
}

// struct rcu_data (per CPU)
const RD_NEED_QS = 0;
const RD_RUNNING = 1; // a thread is on the CPU (not in the extended quiescent state)
const RD_CB_HEAD = 2;
const RD_CB_TAIL = 3;
const RD_CB_COUNT = 4;
const rcu_data = define_per_cpu('rcu_data', 32);

// struct rcu_head, inside the object being freed: next, func, grace period needed
const nr_queued = define_counter('sim.rcu.callbacks_queued');
const nr_invoked = define_counter('sim.rcu.callbacks');
const nr_gp = define_counter('sim.rcu.grace_periods');
const nr_qs = define_counter('sim.rcu.qs_reports');
const nr_idle_batches = define_counter('sim.rcu.idle_cpu_batches');

function rs(field: number): number {
  return (rcu_state.addr >> 2) + field;
}

function rdp_of(cpu: number): number {
  return per_cpu_ptr(rcu_data, cpu) >> 2;
}

function this_rdp(): number {
  return (this_cpu_base + rcu_data.off) >> 2;
}

export function rcu_init(): void {
  spin_lock_init(rcu_lock(), 'rcu_state');
}

/** Last completed grace-period number. */
function rcu_completed(): number {
  const s = Atomics.load(mem32, rs(RS_GP_SEQ));
  return s & 1 ? s - 1 : s;
}

// kernel/rcu/rcu.h rcu_seq_snap: the grace period whose end makes a callback queued now safe
function rcu_seq_snap(): number {
  return (Atomics.load(mem32, rs(RS_GP_SEQ)) + 3) & ~1;
}

function note_gp_needed(snap: number): void {
  const i = rs(RS_GP_NEEDED);
  for (let cur = Atomics.load(mem32, i); cur < snap; cur = Atomics.load(mem32, i)) {
    if (Atomics.compareExchange(mem32, i, cur, snap) === cur) return;
  }
}

// kernel/rcu/tree.c call_rcu
export function call_rcu(head: number, func: KFunction): void {
  const h = head >> 2;
  const snap = rcu_seq_snap();
  mem32[h] = 0;
  mem32[h + 1] = func.id;
  mem32[h + 2] = snap;
  const r = this_rdp();
  const tail = mem32[r + RD_CB_TAIL];
  if (tail === 0) mem32[r + RD_CB_HEAD] = head;
  else mem32[tail >> 2] = head;
  mem32[r + RD_CB_TAIL] = head;
  mem32[r + RD_CB_COUNT]++;
  note_gp_needed(snap);
  this_cpu_inc(nr_queued);
}

// kernel/rcu/tree.c rcu_gp_init (rcu_state lock held)
function rcu_gp_start_locked(): void {
  const seq = rs(RS_GP_SEQ);
  if ((mem32[seq] & 1) !== 0 || Atomics.load(mem32, rs(RS_GP_NEEDED)) <= mem32[seq]) return;
  Atomics.store(mem32, seq, mem32[seq] + 1);
  this_cpu_inc(nr_gp);
  // The initial 1 keeps the count from reaching 0 before every CPU has been asked.
  Atomics.store(mem32, rs(RS_QS_REMAINING), 1);
  for (let cpu = 0, n = nr_cpu_ids(); cpu < n; cpu++) {
    const r = rdp_of(cpu);
    if (Atomics.load(mem32, r + RD_RUNNING) === 0) continue;
    Atomics.add(mem32, rs(RS_QS_REMAINING), 1);
    Atomics.store(mem32, r + RD_NEED_QS, 1);
    raise_pending(cpu, PENDING_RCU);
  }
  if (Atomics.sub(mem32, rs(RS_QS_REMAINING), 1) === 1) rcu_gp_end_locked();
}

// kernel/rcu/tree.c rcu_gp_cleanup (rcu_state lock held): end the grace period, get callbacks run
function rcu_gp_end_locked(): void {
  Atomics.add(mem32, rs(RS_GP_SEQ), 1);
  for (let cpu = 0, n = nr_cpu_ids(); cpu < n; cpu++) {
    const r = rdp_of(cpu);
    if (mem32[r + RD_CB_COUNT] === 0) continue;
    if (Atomics.load(mem32, r + RD_RUNNING) !== 0) raise_pending(cpu, PENDING_RCU);
    else if (cpu !== smp_processor_id() && claim_idle_cpu(cpu)) {
      on_behalf_of(cpu, rcu_do_batch);
      this_cpu_inc(nr_idle_batches);
      release_claimed_cpu(cpu);
    }
  }
  rcu_gp_start_locked();
}

// kernel/rcu/tree.c rcu_report_qs_rdp: this CPU passed a quiescent state
function rcu_report_qs(locked: boolean): void {
  const r = this_rdp();
  if (Atomics.exchange(mem32, r + RD_NEED_QS, 0) !== 1) return;
  this_cpu_inc(nr_qs);
  if (Atomics.sub(mem32, rs(RS_QS_REMAINING), 1) !== 1) return;
  if (locked) rcu_gp_end_locked();
  else {
    spin_lock(rcu_lock());
    rcu_gp_end_locked();
    spin_unlock(rcu_lock());
  }
}

// kernel/rcu/tree.c rcu_do_batch: run this CPU's callbacks whose grace period has ended
function rcu_do_batch(): void {
  const r = this_rdp();
  const done = rcu_completed();
  let head = mem32[r + RD_CB_HEAD];
  while (head !== 0 && mem32[(head >> 2) + 2] <= done) {
    const next = mem32[head >> 2];
    mem32[r + RD_CB_HEAD] = next;
    if (next === 0) mem32[r + RD_CB_TAIL] = 0;
    mem32[r + RD_CB_COUNT]--;
    this_cpu_inc(nr_invoked);
    call_kfunction(mem32[(head >> 2) + 1], head);
    head = mem32[r + RD_CB_HEAD];
  }
}

// kernel/rcu/tree.c rcu_core: the RCU softirq
function rcu_core(): void {
  rcu_report_qs(false);
  rcu_do_batch();
}

// kernel/rcu/tree.c rcu_sched_clock_irq: at each tick, start a grace period if callbacks need one
export function rcu_sched_clock_irq(): void {
  rcu_report_qs(false);
  const seq = Atomics.load(mem32, rs(RS_GP_SEQ));
  if ((seq & 1) === 0 && Atomics.load(mem32, rs(RS_GP_NEEDED)) > seq) {
    spin_lock(rcu_lock());
    rcu_gp_start_locked();
    spin_unlock(rcu_lock());
  }
  const r = this_rdp();
  if (mem32[r + RD_CB_HEAD] !== 0) rcu_do_batch();
}

// kernel/rcu/tree.c rcu_idle_enter (ct_idle_enter): idle is a quiescent state
function rcu_idle_enter(): void {
  spin_lock(rcu_lock());
  Atomics.store(mem32, this_rdp() + RD_RUNNING, 0);
  rcu_report_qs(true);
  spin_unlock(rcu_lock());
}

// kernel/rcu/tree.c rcu_idle_exit
function rcu_idle_exit(): void {
  spin_lock(rcu_lock());
  Atomics.store(mem32, this_rdp() + RD_RUNNING, 1);
  spin_unlock(rcu_lock());
}

open_pending_handler(PENDING_RCU, rcu_core, CTX_SOFTIRQ);
register_idle_hooks(rcu_idle_enter, rcu_idle_exit);

// kernel/rcu/tree.c synchronize_rcu: wait for a full grace period (sleeping, so the CPU is idle
// and does not hold the grace period up)
export function synchronize_rcu(): void {
  const snap = rcu_seq_snap();
  note_gp_needed(snap);
  for (let slept = false; rcu_completed() < snap; slept = true) {
    spin_lock(rcu_lock());
    rcu_gp_start_locked();
    spin_unlock(rcu_lock());
    do_safe_point();
    if (rcu_completed() >= snap) break;
    schedule_wait(rs(RS_GP_SEQ), Atomics.load(mem32, rs(RS_GP_SEQ)), 1, !slept);
  }
}

export interface RcuStats {
  gp_seq: number;
  callbacks_waiting: number;
}

export function rcu_stats(): RcuStats {
  let waiting = 0;
  for (let cpu = 0, n = nr_cpu_ids(); cpu < n; cpu++) waiting += mem32[rdp_of(cpu) + RD_CB_COUNT];
  return { gp_seq: Atomics.load(mem32, rs(RS_GP_SEQ)), callbacks_waiting: waiting };
}

/** Start a grace period now if callbacks wait for one, instead of at the next tick (tests). */
export function rcu_gp_kick(): void {
  spin_lock(rcu_lock());
  rcu_gp_start_locked();
  spin_unlock(rcu_lock());
}
