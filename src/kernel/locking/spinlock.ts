// Spinlocks on Atomics (kernel/locking/qspinlock.c in spirit; the waiting is futex-style).
//
// A lock is two words: the lock value (0 free, 1 held, 2 held with waiters) and its class's
// contention counter. A waiter spins briefly, answering IPIs as a Linux CPU spinning with
// interrupts enabled would, then sleeps on the lock word; the host may have fewer cores than the
// machine has CPUs, and a pure spin would burn the time slice of the holder.

import { mem32 } from '../../machine/memory.ts';
import { service_ipis } from '../../machine/cpu.ts';
import { this_cpu_inc_index } from '../../machine/counters.ts';
import { lock_class_counter } from './lockdep.ts';

export const SPINLOCK_SIZE = 8;
const SPIN_TRIES = 200;

// include/linux/spinlock.h spin_lock_init
export function spin_lock_init(lock: number, class_name: string): void {
  mem32[lock >> 2] = 0;
  mem32[(lock >> 2) + 1] = lock_class_counter(class_name);
}

// include/linux/spinlock.h spin_lock
export function spin_lock(lock: number): void {
  const i = lock >> 2;
  if (Atomics.compareExchange(mem32, i, 0, 1) !== 0) spin_lock_slowpath(i);
}

// kernel/locking/qspinlock.c queued_spin_lock_slowpath
function spin_lock_slowpath(i: number): void {
  this_cpu_inc_index(mem32[i + 1]);
  for (let spins = 0; ; spins++) {
    const v = Atomics.load(mem32, i);
    if (v === 0 && Atomics.compareExchange(mem32, i, 0, 2) === 0) return;
    if (spins < SPIN_TRIES) {
      service_ipis();
      continue;
    }
    if (v === 1) Atomics.compareExchange(mem32, i, 1, 2);
    Atomics.wait(mem32, i, 2, 0.05);
    service_ipis();
  }
}

// include/linux/spinlock.h spin_unlock
export function spin_unlock(lock: number): void {
  const i = lock >> 2;
  if (Atomics.exchange(mem32, i, 0) === 2) Atomics.notify(mem32, i, 1);
}
