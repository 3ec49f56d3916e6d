// Jiffies, the scheduler tick and timers (kernel/time/timer.c, kernel/time/tick-sched.c).
//
// The tick follows the machine clock at HZ: a running CPU looks at the clock at safe points often
// enough to see each jiffy begin (the calibrated budget in machine/cpu.ts), and accounts every
// jiffy that began since its last tick, however few safe points it passed meanwhile. An idle CPU
// has no tick (NOHZ idle) and accounts none for its idle time. Timers live on the CPU that armed
// them, in a list sorted by expiry (a wheel is not worth it at the scale of a simulated run).

import { mem32, memf64 } from '../../../machine/memory.ts';
import { CTX_SOFTIRQ, register_idle_hooks, set_cpu_context, set_tick_handler, smp_processor_id, this_cpu_base } from '../../../machine/cpu.ts';
import { ktime_get_ns } from '../../../machine/clock.ts';
import { nr_cpu_ids, per_cpu_ptr } from '../../../machine/percpu.ts';
import { call_kfunction, define_counter, define_per_cpu, type KFunction } from '../../../machine/symbols.ts';
import { this_cpu_add, this_cpu_inc } from '../../../machine/counters.ts';
import { spin_lock, spin_lock_init, spin_unlock } from '../../locking/spinlock.ts';
import { kconfig, knob_index } from '../../config.ts';
import { rcu_sched_clock_irq } from '../rcu.ts';

const K_HZ = knob_index('kernel.hz');

// struct timer_list (caller-allocated, 8-byte aligned)
const TL_EXPIRES = 0; // f64 index: expiry in jiffies
const TL_FUNC = 2;
const TL_DATA = 3;
const TL_NEXT = 4;
const TL_CPU = 5; // base the timer is queued on, -1 when not pending
export const TIMER_LIST_SIZE = 24;

// struct timer_base (per CPU)
const TB_LOCK = 0; // spinlock, 2 words
const TB_HEAD = 2;
const TB_LAST_TICK = 4; // f64 (word 4-5): jiffies of this CPU's last tick
const timer_bases = define_per_cpu('timer_bases', 24);

const nr_ticks = define_counter('sim.timer.ticks');
const nr_expired = define_counter('sim.timer.expired');

export function HZ(): number {
  return kconfig(K_HZ);
}

function ns_to_jiffies(ns: number): number {
  return Math.floor((ns * HZ()) / 1e9);
}

// include/linux/jiffies.h jiffies
export function jiffies(): number {
  return ns_to_jiffies(ktime_get_ns());
}

function base_of(cpu: number): number {
  return per_cpu_ptr(timer_bases, cpu);
}

export function init_timers(): void {
  for (let cpu = 0, n = nr_cpu_ids(); cpu < n; cpu++) spin_lock_init(base_of(cpu) + TB_LOCK * 4, 'timer_base');
}

// include/linux/timer.h timer_setup
export function timer_setup(timer: number, func: KFunction, data: number): void {
  const t = timer >> 2;
  memf64[(timer >> 3) + TL_EXPIRES] = 0;
  mem32[t + TL_FUNC] = func.id;
  mem32[t + TL_DATA] = data;
  mem32[t + TL_NEXT] = 0;
  mem32[t + TL_CPU] = -1;
}

export function timer_pending(timer: number): boolean {
  return Atomics.load(mem32, (timer >> 2) + TL_CPU) >= 0;
}

function enqueue(base: number, timer: number): void {
  const expires = memf64[(timer >> 3) + TL_EXPIRES];
  let prev = 0;
  let cur = mem32[(base >> 2) + TB_HEAD];
  while (cur !== 0 && memf64[(cur >> 3) + TL_EXPIRES] <= expires) {
    prev = cur;
    cur = mem32[(cur >> 2) + TL_NEXT];
  }
  mem32[(timer >> 2) + TL_NEXT] = cur;
  if (prev === 0) mem32[(base >> 2) + TB_HEAD] = timer;
  else mem32[(prev >> 2) + TL_NEXT] = timer;
}

function unlink(base: number, timer: number): void {
  let prev = 0;
  let cur = mem32[(base >> 2) + TB_HEAD];
  while (cur !== 0 && cur !== timer) {
    prev = cur;
    cur = mem32[(cur >> 2) + TL_NEXT];
  }
  if (cur === 0) return;
  const next = mem32[(timer >> 2) + TL_NEXT];
  if (prev === 0) mem32[(base >> 2) + TB_HEAD] = next;
  else mem32[(prev >> 2) + TL_NEXT] = next;
}

// kernel/time/timer.c timer_delete: true when the timer was pending
export function del_timer(timer: number): boolean {
  for (;;) {
    const cpu = Atomics.load(mem32, (timer >> 2) + TL_CPU);
    if (cpu < 0) return false;
    const base = base_of(cpu);
    spin_lock(base + TB_LOCK * 4);
    if (Atomics.load(mem32, (timer >> 2) + TL_CPU) === cpu) {
      unlink(base, timer);
      Atomics.store(mem32, (timer >> 2) + TL_CPU, -1);
      spin_unlock(base + TB_LOCK * 4);
      return true;
    }
    spin_unlock(base + TB_LOCK * 4);
  }
}

// kernel/time/timer.c mod_timer: (re)arm on this CPU to fire at `expires` jiffies
export function mod_timer(timer: number, expires: number): boolean {
  const was_pending = del_timer(timer);
  const cpu = smp_processor_id();
  const base = base_of(cpu);
  spin_lock(base + TB_LOCK * 4);
  memf64[(timer >> 3) + TL_EXPIRES] = expires;
  enqueue(base, timer);
  Atomics.store(mem32, (timer >> 2) + TL_CPU, cpu);
  spin_unlock(base + TB_LOCK * 4);
  return was_pending;
}

// kernel/time/timer.c add_timer
export function add_timer(timer: number): void {
  mod_timer(timer, memf64[(timer >> 3) + TL_EXPIRES]);
}

// kernel/time/timer.c __run_timers: run this CPU's timers that are due
function run_timers(now: number): void {
  const base = this_cpu_base + timer_bases.off;
  for (;;) {
    spin_lock(base + TB_LOCK * 4);
    const t = mem32[(base >> 2) + TB_HEAD];
    if (t === 0 || memf64[(t >> 3) + TL_EXPIRES] > now) {
      spin_unlock(base + TB_LOCK * 4);
      return;
    }
    mem32[(base >> 2) + TB_HEAD] = mem32[(t >> 2) + TL_NEXT];
    Atomics.store(mem32, (t >> 2) + TL_CPU, -1);
    spin_unlock(base + TB_LOCK * 4);
    this_cpu_inc(nr_expired);
    call_kfunction(mem32[(t >> 2) + TL_FUNC], mem32[(t >> 2) + TL_DATA]);
  }
}

function last_tick(): number {
  return ((this_cpu_base + timer_bases.off) >> 3) + TB_LAST_TICK / 2;
}

// kernel/time/tick-sched.c tick_sched_timer → update_process_times: the per-CPU tick. When it
// comes late (the CPU passed no safe point for a while), it is one late tick that catches up, as
// Linux's is when its hrtimer fires after interrupts were off for several periods:
// tick_do_update_jiffies64 counts every period that fell due (so do sim.timer.ticks) and
// hrtimer_forward skips them, update_process_times runs once, __run_timers runs every timer whose
// expiry has passed, and rcu_sched_clock_irq runs once: it reports a quiescent state and starts a
// grace period if one is needed, which replaying it would not do more of.
function tick_sched_timer(now_ns: number): void {
  const now = ns_to_jiffies(now_ns);
  const last = last_tick();
  const ticks = now - memf64[last];
  if (ticks <= 0) return;
  memf64[last] = now;
  this_cpu_add(nr_ticks, ticks);
  const prev = set_cpu_context(CTX_SOFTIRQ); // run_timer_softirq
  run_timers(now);
  set_cpu_context(prev);
  rcu_sched_clock_irq();
}

// kernel/time/tick-sched.c tick_nohz_idle_exit: the tick was stopped while the CPU was idle; it
// restarts from now, the idle jiffies not accounted as this CPU's ticks. In Linux a timer due
// while the CPU idles wakes it at its expiry; an idle simulated CPU has no thread to wake, so the
// timers that fell due run here, when it leaves idle.
function tick_nohz_idle_exit(): void {
  const now = jiffies();
  memf64[last_tick()] = now;
  if (mem32[((this_cpu_base + timer_bases.off) >> 2) + TB_HEAD] !== 0) run_timers(now);
}

set_tick_handler(tick_sched_timer, () => 1e9 / HZ());
register_idle_hooks(() => {}, tick_nohz_idle_exit);
