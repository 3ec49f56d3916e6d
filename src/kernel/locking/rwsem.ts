// Read-write semaphores on Atomics (kernel/locking/rwsem.c).
//
// count: bit 0 writer holds it, bit 1 someone sleeps on it, bits 2.. number of readers. A waiter
// spins a little (Linux's optimistic spinning), then sleeps with its CPU idle. Release wakes every
// sleeper, which retries; readers are not held back by sleeping writers (no handoff yet).

import { mem32 } from '../../machine/memory.ts';
import { this_cpu_inc_index } from '../../machine/counters.ts';
import { schedule_wait } from '../kernel/sched/wait.ts';
import { lock_class_counter } from './lockdep.ts';

export const RWSEM_SIZE = 8;
const WRITER = 1;
const WAITERS = 2;
const READER = 4;
const SPIN_TRIES = 100;

// include/linux/rwsem.h init_rwsem
export function init_rwsem(sem: number, class_name: string): void {
  mem32[sem >> 2] = 0;
  mem32[(sem >> 2) + 1] = lock_class_counter(class_name);
}

// kernel/locking/rwsem.c down_write
export function down_write(sem: number): void {
  const i = sem >> 2;
  if (Atomics.compareExchange(mem32, i, 0, WRITER) !== 0) rwsem_down_write_slowpath(i);
}

// kernel/locking/rwsem.c rwsem_down_write_slowpath
function rwsem_down_write_slowpath(i: number): void {
  this_cpu_inc_index(mem32[i + 1]);
  let slept = false;
  for (let spins = 0; ; spins++) {
    const c = Atomics.load(mem32, i);
    if ((c & ~WAITERS) === 0) {
      if (Atomics.compareExchange(mem32, i, c, c | WRITER) === c) return;
      continue;
    }
    if (spins < SPIN_TRIES) continue;
    if ((c & WAITERS) === 0 && Atomics.compareExchange(mem32, i, c, c | WAITERS) !== c) continue;
    schedule_wait(i, c | WAITERS, 1, !slept);
    slept = true;
  }
}

// kernel/locking/rwsem.c up_write
export function up_write(sem: number): void {
  const i = sem >> 2;
  if (Atomics.compareExchange(mem32, i, WRITER, 0) === WRITER) return;
  Atomics.and(mem32, i, ~(WRITER | WAITERS));
  Atomics.notify(mem32, i);
}

// kernel/locking/rwsem.c down_read
export function down_read(sem: number): void {
  const i = sem >> 2;
  const c = Atomics.load(mem32, i);
  if ((c & WRITER) !== 0 || Atomics.compareExchange(mem32, i, c, c + READER) !== c) rwsem_down_read_slowpath(i);
}

// kernel/locking/rwsem.c rwsem_down_read_slowpath
function rwsem_down_read_slowpath(i: number): void {
  this_cpu_inc_index(mem32[i + 1]);
  let slept = false;
  for (let spins = 0; ; spins++) {
    const c = Atomics.load(mem32, i);
    if ((c & WRITER) === 0) {
      if (Atomics.compareExchange(mem32, i, c, c + READER) === c) return;
      continue;
    }
    if (spins < SPIN_TRIES) continue;
    if ((c & WAITERS) === 0 && Atomics.compareExchange(mem32, i, c, c | WAITERS) !== c) continue;
    schedule_wait(i, c | WAITERS, 1, !slept);
    slept = true;
  }
}

// kernel/locking/rwsem.c up_read
export function up_read(sem: number): void {
  const i = sem >> 2;
  const c = Atomics.sub(mem32, i, READER) - READER;
  if ((c & ~WAITERS) === 0 && (c & WAITERS) !== 0) {
    Atomics.and(mem32, i, ~WAITERS);
    Atomics.notify(mem32, i);
  }
}

// kernel/locking/rwsem.c downgrade_write: the writer becomes a reader, letting other readers in
export function downgrade_write(sem: number): void {
  const i = sem >> 2;
  const prev = Atomics.add(mem32, i, READER - WRITER);
  if (prev & WAITERS) {
    Atomics.and(mem32, i, ~WAITERS);
    Atomics.notify(mem32, i);
  }
}
