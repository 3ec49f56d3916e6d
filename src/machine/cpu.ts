// Simulated CPUs. A thread "enters" a CPU to run on it; while it is there it owns that CPU's
// per-CPU data. Other CPUs reach it only through its pending-work word, which it polls at safe
// points (syscall entry/exit, every K iterations of a user loop): that stands in for interrupts.
//
// A CPU with no thread on it is idle. Machine-wide operations (stop_machine, IPIs, RCU grace
// periods) do not wait for an idle CPU: the caller claims it, does its part on its behalf and
// counts that as a modeled cost, the way an idle CPU in Linux answers from its idle loop.

import { availableParallelism } from 'node:os';
import { ktime_get_ns } from './clock.ts';
import { mem32 } from './memory.ts';
import { nr_cpu_ids, per_cpu_base, per_cpu_ptr } from './percpu.ts';
import { define_per_cpu } from './symbols.ts';

// Bits of the pending-work word.
export const PENDING_CALL_FUNCTION = 1 << 0; // smp_call_function IPI
export const PENDING_STOP = 1 << 1; // stop_machine: park
export const PENDING_RCU = 1 << 2; // RCU wants a quiescent state or has callbacks ready
export const PENDING_WORK = 1 << 3; // workqueue items queued on this CPU
const NR_PENDING_BITS = 4;

// cpu_state.context: what the CPU is executing, as Linux's tick reads it from the interrupted
// registers (user_mode) and preempt_count (in hardirq, serving softirq). The owner writes it with
// plain stores when it changes; the machine's timer (kernel/sched/cputime.ts account_ticks) reads it.
export const CTX_USER = 0;
export const CTX_SYSTEM = 1;
export const CTX_SOFTIRQ = 2;
export const CTX_HARDIRQ = 3;
/** A kernel thread's work run at a safe point (the stopper, a kworker): system time of no process. */
export const CTX_KTHREAD = 4;

// cpu_state.owner
export const CPU_IDLE = 0;
export const CPU_RUNNING = 1;
export const CPU_CLAIMED = 2;

// The tick. The simulated CPU has no timer interrupt: it looks at the machine clock at a safe
// point once a budget of safe points has passed, and the kernel's tick handler then accounts the
// jiffies that fell due since its last tick. So that a busy CPU does its per-tick work in each
// jiffy whatever its safe points cost, the budget is calibrated like a delay loop: at each look it
// becomes the number of safe points that took a TICK_POLLS_PER_PERIOD-th of the tick period
// last time (growing at most 2× per look, so it starts from 1 and doubles on a new CPU, and
// recovers in a few looks from a stall of the host). safe_point() itself stays a plain load and a
// decrement. The figures, on this project's 2-core host under Node 20: a look at the clock
// (process.hrtime.bigint) costs ~60 ns; brk2 on 6.7 passes a safe point every ~2.6 µs and getppid1
// every ~8 ns (sim.syscalls × 2 over a run's elapsed time). At HZ=1000, 8 looks per jiffy are
// 8,000 a second, ~0.05% of a CPU, and put the tick at most ~1/8 jiffy late; TICK_POLL_MAX keeps a
// loop of fast safe points at the 4096-safe-point cadence it had before (one look per ~34 µs).
/** Most safe points between two looks at the clock. */
export const TICK_POLL_MAX = 4096;
/** Looks at the clock per tick period that the poll budget aims at. */
export const TICK_POLLS_PER_PERIOD = 8;

// struct cpu_state: the pending word on the first cache line (written by other CPUs), the rest on
// the second (written by the owner).
const CS_PENDING = 0;
const CS_OWNER = 16;
const CS_CURRENT = 17;
const CS_CONTEXT = 18;
const cpu_state = define_per_cpu('cpu_state', 128);

export let this_cpu = -1;
/** Byte address of this CPU's per-CPU unit. */
export let this_cpu_base = 0;
let pending_idx = 0;
let context_idx = 0;
/** Safe points left before the next look at the clock. */
let tick_budget = 1;
/** The budget tick_budget counted down from, and the machine clock when it started. */
let poll_budget = 1;
let poll_ns = 0;
let in_safe_point = false;

type PendingHandler = () => void;
const pending_handlers: Array<PendingHandler | undefined> = new Array(NR_PENDING_BITS);
const pending_contexts = new Int32Array(NR_PENDING_BITS);
let tick_handler: (now_ns: number) => void = () => {};
let tick_period_ns: () => number = () => Infinity;
const idle_hooks: Array<{ enter: () => void; exit: () => void }> = [];

/**
 * Install the kernel's handler for one pending bit (Linux open_softirq / IPI vector setup), and the
 * context it runs in: CTX_HARDIRQ for an IPI handler, CTX_SOFTIRQ for a softirq, CTX_KTHREAD for
 * work a kernel thread does (the stopper, a kworker).
 */
export function open_pending_handler(bit: number, fn: PendingHandler, context: number): void {
  pending_handlers[31 - Math.clz32(bit)] = fn;
  pending_contexts[31 - Math.clz32(bit)] = context;
}

/** Install the kernel's tick: its handler, given the clock, and its period (Linux clockevents). */
export function set_tick_handler(fn: (now_ns: number) => void, period_ns: () => number): void {
  tick_handler = fn;
  tick_period_ns = period_ns;
}

/** A new CPU knows nothing of its loop's pace: look at the clock at the next safe point. */
function tick_poll_reset(): void {
  tick_budget = poll_budget = 1;
  poll_ns = this_cpu === -1 ? 0 : ktime_get_ns();
}

/** The budget ran out: from how long it took, the one that takes 1/TICK_POLLS_PER_PERIOD tick. */
function tick_poll_calibrate(now: number): void {
  const passed = poll_budget - tick_budget;
  const elapsed = now - poll_ns;
  let next = Math.min(2 * poll_budget, TICK_POLL_MAX);
  if (elapsed > 0) next = Math.min(next, Math.floor((passed * tick_period_ns()) / (TICK_POLLS_PER_PERIOD * elapsed)));
  tick_budget = poll_budget = Math.max(1, next) | 0;
  poll_ns = now;
}

/** Hooks run when this CPU leaves idle (`exit`) and enters it (`enter`), e.g. RCU's dynticks. */
export function register_idle_hooks(enter: () => void, exit: () => void): void {
  idle_hooks.push({ enter, exit });
}

function state_idx(cpu: number, word: number): number {
  return (per_cpu_ptr(cpu_state, cpu) >> 2) + word;
}

function switch_to(cpu: number): void {
  this_cpu = cpu;
  // Off any CPU, per-CPU accesses land in the spare unit after the last CPU, which no reader sums:
  // harmless, and it keeps a stray access from corrupting real data.
  const unit = cpu < 0 ? nr_cpu_ids() : cpu;
  this_cpu_base = per_cpu_base(unit);
  pending_idx = (per_cpu_ptr(cpu_state, unit) >> 2) + CS_PENDING;
  context_idx = (per_cpu_ptr(cpu_state, unit) >> 2) + CS_CONTEXT;
}

/** Set what this CPU executes (a CTX_* value); returns what it executed before. A plain store. */
export function set_cpu_context(context: number): number {
  const prev = mem32[context_idx];
  mem32[context_idx] = context;
  return prev;
}

/** What CPU `cpu` executes, as its timer interrupt would find it. */
export function cpu_context(cpu: number): number {
  return mem32[state_idx(cpu, CS_CONTEXT)];
}

export function smp_processor_id(): number {
  return this_cpu;
}

const host_cores = availableParallelism();

/**
 * Whether a CPU that must wait for others may spin on the host: only while the simulated CPUs
 * with threads fit the host's cores. Past that a spinning thread takes the core another
 * simulated CPU needs, and the wait grows by the host's time slices.
 */
export function host_can_spin(): boolean {
  let running = 0;
  for (let cpu = 0, n = nr_cpu_ids(); cpu < n; cpu++) if (Atomics.load(mem32, state_idx(cpu, CS_OWNER)) === CPU_RUNNING) running++;
  return running <= host_cores;
}

export function cpu_owner(cpu: number): number {
  return Atomics.load(mem32, state_idx(cpu, CS_OWNER));
}

/** The task running on CPU `cpu` (Linux cpu_curr), as another CPU sees it. */
export function cpu_curr(cpu: number): number {
  return mem32[state_idx(cpu, CS_CURRENT)];
}

/** The task running on this CPU (Linux `current`). */
export function get_current(): number {
  return mem32[(this_cpu_base >> 2) + cpu_state.off / 4 + CS_CURRENT];
}

export function set_current(task: number): void {
  mem32[(this_cpu_base >> 2) + cpu_state.off / 4 + CS_CURRENT] = task;
}

export function raise_pending(cpu: number, bits: number): void {
  Atomics.or(mem32, state_idx(cpu, CS_PENDING), bits);
}

/** Take CPU `cpu` for this thread; waits while another CPU has claimed it. */
export function cpu_enter(cpu: number): void {
  if (this_cpu !== -1) throw new Error(`cpu_enter(${cpu}): thread already on CPU ${this_cpu}`);
  const idx = state_idx(cpu, CS_OWNER);
  for (;;) {
    const prev = Atomics.compareExchange(mem32, idx, CPU_IDLE, CPU_RUNNING);
    if (prev === CPU_IDLE) break;
    if (prev === CPU_RUNNING) throw new Error(`cpu_enter(${cpu}): CPU already has a thread`);
    Atomics.wait(mem32, idx, CPU_CLAIMED, 1);
  }
  switch_to(cpu);
  // A task's thread comes back to its CPU in user mode (or the caller sets the kernel context).
  mem32[context_idx] = CTX_USER;
  tick_poll_reset();
  for (const h of idle_hooks) h.exit();
}

/** Leave this CPU idle: first answer whatever is pending, then tell RCU and the others. */
export function cpu_exit(): void {
  if (this_cpu === -1) throw new Error('cpu_exit: thread is not on a CPU');
  do_safe_point();
  for (const h of idle_hooks) h.enter();
  const idx = state_idx(this_cpu, CS_OWNER);
  Atomics.store(mem32, idx, CPU_IDLE);
  Atomics.notify(mem32, idx);
  switch_to(-1);
}

/** Claim an idle CPU so that it stays idle while the caller acts for it. */
export function claim_idle_cpu(cpu: number): boolean {
  return Atomics.compareExchange(mem32, state_idx(cpu, CS_OWNER), CPU_IDLE, CPU_CLAIMED) === CPU_IDLE;
}

export function release_claimed_cpu(cpu: number): void {
  const idx = state_idx(cpu, CS_OWNER);
  Atomics.store(mem32, idx, CPU_IDLE);
  Atomics.notify(mem32, idx);
}

/** Run `fn` as CPU `cpu` (claimed by the caller): per-CPU data and counters are that CPU's. */
export function on_behalf_of(cpu: number, fn: () => void): void {
  const saved = this_cpu;
  const saved_in = in_safe_point;
  switch_to(cpu);
  try {
    fn();
  } finally {
    switch_to(saved);
    in_safe_point = saved_in;
  }
}

/**
 * Poll for pending work: called at every syscall entry/exit and every K user iterations.
 * A plain load on purpose: V8 (Node 20) does not inline Atomics.load, which costs ~17 ns here
 * against ~1 ns; an aligned 32-bit load cannot tear, and a bit seen late is seen at the next poll.
 */
export function safe_point(): void {
  if (mem32[pending_idx] !== 0 || --tick_budget === 0) do_safe_point();
}

/** Handle everything pending on this CPU, then look at the clock for the tick. */
export function do_safe_point(): void {
  if (in_safe_point || this_cpu === -1) return;
  in_safe_point = true;
  try {
    for (let i = 0; i < NR_PENDING_BITS; i++) {
      const bit = 1 << i;
      if ((Atomics.load(mem32, pending_idx) & bit) !== 0) {
        Atomics.and(mem32, pending_idx, ~bit);
        const prev = set_cpu_context(pending_contexts[i]);
        pending_handlers[i]?.();
        set_cpu_context(prev);
      }
    }
    const now = ktime_get_ns();
    if (tick_budget <= 0) tick_poll_calibrate(now);
    tick_handler(now);
  } finally {
    in_safe_point = false;
    // A handler that passed safe points of its own may have spent the budget (their polls return
    // at once in here): look again at the next one rather than never.
    if (tick_budget <= 0) tick_budget = 1;
  }
}

/** Inside a spin-wait: answer function-call IPIs only (Linux spins with interrupts enabled). */
export function service_ipis(): void {
  if (this_cpu === -1) return;
  if ((Atomics.load(mem32, pending_idx) & PENDING_CALL_FUNCTION) !== 0) {
    Atomics.and(mem32, pending_idx, ~PENDING_CALL_FUNCTION);
    const prev = set_cpu_context(CTX_HARDIRQ);
    pending_handlers[0]?.();
    set_cpu_context(prev);
  }
}

/** Forget the CPU this thread was on (the thread is moving to another machine's arena). */
export function reset_cpu_binding(): void {
  switch_to(-1);
  in_safe_point = false;
  tick_poll_reset();
}
