// Sleeping mutex (kernel/locking/mutex.c): 0 free, 1 locked, 2 locked with sleepers. A waiter
// sleeps with its CPU idle (schedule_wait), which is what lets stop_machine and IPIs proceed
// while CPUs queue on a mutex.

import { mem32 } from '../../machine/memory.ts';
import { this_cpu_inc_index } from '../../machine/counters.ts';
import { schedule_wait } from '../kernel/sched/wait.ts';
import { lock_class_counter } from './lockdep.ts';

export const MUTEX_SIZE = 8;

// include/linux/mutex.h mutex_init
export function mutex_init(lock: number, class_name: string): void {
  mem32[lock >> 2] = 0;
  mem32[(lock >> 2) + 1] = lock_class_counter(class_name);
}

// kernel/locking/mutex.c mutex_lock
export function mutex_lock(lock: number): void {
  const i = lock >> 2;
  if (Atomics.compareExchange(mem32, i, 0, 1) === 0) return;
  this_cpu_inc_index(mem32[i + 1]);
  for (let slept = false; ; slept = true) {
    if (Atomics.exchange(mem32, i, 2) === 0) return;
    schedule_wait(i, 2, 1, !slept);
  }
}

// kernel/locking/mutex.c mutex_unlock
export function mutex_unlock(lock: number): void {
  const i = lock >> 2;
  if (Atomics.exchange(mem32, i, 0) === 2) Atomics.notify(mem32, i, 1);
}
