// Work items and delayed work (kernel/workqueue.c). Work queued on a CPU runs at that CPU's next
// safe point, standing in for its kworker; delayed work is a timer that queues the work.

import { mem32 } from '../../machine/memory.ts';
import { CTX_KTHREAD, PENDING_WORK, open_pending_handler, raise_pending, smp_processor_id, this_cpu_base } from '../../machine/cpu.ts';
import { nr_cpu_ids, per_cpu_ptr } from '../../machine/percpu.ts';
import { call_kfunction, define_counter, define_function, define_per_cpu, type KFunction } from '../../machine/symbols.ts';
import { this_cpu_inc } from '../../machine/counters.ts';
import { spin_lock, spin_lock_init, spin_unlock } from '../locking/spinlock.ts';
import { TIMER_LIST_SIZE, del_timer, jiffies, mod_timer, timer_pending, timer_setup } from './time/timer.ts';

// struct work_struct
const WS_FUNC = 0;
const WS_DATA = 1;
const WS_NEXT = 2;
const WS_PENDING = 3;
export const WORK_STRUCT_SIZE = 16;
// struct delayed_work: the work, then its timer
const DW_TIMER = WORK_STRUCT_SIZE;
export const DELAYED_WORK_SIZE = WORK_STRUCT_SIZE + TIMER_LIST_SIZE;

// struct worker_pool (per CPU)
const WP_LOCK = 0;
const WP_HEAD = 2;
const WP_TAIL = 3;
const worker_pool = define_per_cpu('worker_pool', 16);

const nr_queued = define_counter('sim.workqueue.queued');
const nr_executed = define_counter('sim.workqueue.executed');

export function workqueue_init(): void {
  for (let cpu = 0, n = nr_cpu_ids(); cpu < n; cpu++) spin_lock_init(per_cpu_ptr(worker_pool, cpu) + WP_LOCK * 4, 'worker_pool');
}

// include/linux/workqueue.h INIT_WORK
export function init_work(work: number, func: KFunction, data: number): void {
  const w = work >> 2;
  mem32[w + WS_FUNC] = func.id;
  mem32[w + WS_DATA] = data;
  mem32[w + WS_NEXT] = 0;
  mem32[w + WS_PENDING] = 0;
}

// kernel/workqueue.c queue_work_on: false when it was already pending
export function queue_work_on(cpu: number, work: number): boolean {
  const w = work >> 2;
  if (Atomics.compareExchange(mem32, w + WS_PENDING, 0, 1) !== 0) return false;
  const pool = per_cpu_ptr(worker_pool, cpu);
  spin_lock(pool + WP_LOCK * 4);
  mem32[w + WS_NEXT] = 0;
  const tail = mem32[(pool >> 2) + WP_TAIL];
  if (tail === 0) mem32[(pool >> 2) + WP_HEAD] = work;
  else mem32[(tail >> 2) + WS_NEXT] = work;
  mem32[(pool >> 2) + WP_TAIL] = work;
  spin_unlock(pool + WP_LOCK * 4);
  this_cpu_inc(nr_queued);
  raise_pending(cpu, PENDING_WORK);
  return true;
}

export function schedule_work(work: number): boolean {
  return queue_work_on(smp_processor_id(), work);
}

// kernel/workqueue.c worker_thread: run everything queued on this CPU
function process_worklist(): void {
  const pool = this_cpu_base + worker_pool.off;
  for (;;) {
    spin_lock(pool + WP_LOCK * 4);
    const work = mem32[(pool >> 2) + WP_HEAD];
    if (work === 0) {
      spin_unlock(pool + WP_LOCK * 4);
      return;
    }
    const next = mem32[(work >> 2) + WS_NEXT];
    mem32[(pool >> 2) + WP_HEAD] = next;
    if (next === 0) mem32[(pool >> 2) + WP_TAIL] = 0;
    Atomics.store(mem32, (work >> 2) + WS_PENDING, 0);
    spin_unlock(pool + WP_LOCK * 4);
    this_cpu_inc(nr_executed);
    call_kfunction(mem32[(work >> 2) + WS_FUNC], mem32[(work >> 2) + WS_DATA]);
  }
}

open_pending_handler(PENDING_WORK, process_worklist, CTX_KTHREAD);

// kernel/workqueue.c delayed_work_timer_fn
const delayed_work_timer_fn = define_function('delayed_work_timer_fn', (dwork: number) => {
  queue_work_on(smp_processor_id(), dwork);
});

// include/linux/workqueue.h INIT_DELAYED_WORK
export function init_delayed_work(dwork: number, func: KFunction, data: number): void {
  init_work(dwork, func, data);
  timer_setup(dwork + DW_TIMER, delayed_work_timer_fn, dwork);
}

// kernel/workqueue.c schedule_delayed_work: run the work `delay` jiffies from now on this CPU
export function schedule_delayed_work(dwork: number, delay: number): boolean {
  if (Atomics.load(mem32, (dwork >> 2) + WS_PENDING) !== 0 || timer_pending(dwork + DW_TIMER)) return false;
  if (delay <= 0) return schedule_work(dwork);
  mod_timer(dwork + DW_TIMER, jiffies() + delay);
  return true;
}

// kernel/workqueue.c cancel_delayed_work: true when it was pending (timer stopped before firing)
export function cancel_delayed_work(dwork: number): boolean {
  return del_timer(dwork + DW_TIMER);
}
