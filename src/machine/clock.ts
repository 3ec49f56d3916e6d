// The machine's monotonic clock, readable from every CPU. It follows the host's monotonic clock
// (CLOCK_MONOTONIC is one clock for all threads of a process), or, in tests, a manual clock that
// only moves when told to, so time-driven kernel code can be tested deterministically.

import { H, mem32, memf64 } from './memory.ts';

export const CLOCK_HOST = 0;
export const CLOCK_MANUAL = 1;

export function host_ns(): number {
  return Number(process.hrtime.bigint());
}

/** Nanoseconds since the machine booted. */
export function ktime_get_ns(): number {
  if (mem32[H.CLOCK_MODE >> 2] === CLOCK_MANUAL) return memf64[H.MANUAL_NS >> 3];
  return host_ns() - memf64[H.BOOT_NS >> 3];
}

/** Move the manual clock forward (tests). */
export function clock_advance(ns: number): void {
  if (mem32[H.CLOCK_MODE >> 2] !== CLOCK_MANUAL) throw new Error('clock_advance: the machine clock is not manual');
  memf64[H.MANUAL_NS >> 3] += ns;
}

/**
 * Wait out a modeled hardware latency on the machine clock (an idle CPU's wake-up, N CPUs taking
 * a cache line in turn): the calling CPU spins as the real one would, so the time is real time
 * for everyone waiting on it. On a manual clock the wait moves the clock instead.
 */
export function hw_latency_wait(ns: number): void {
  if (ns <= 0) return;
  if (mem32[H.CLOCK_MODE >> 2] === CLOCK_MANUAL) {
    memf64[H.MANUAL_NS >> 3] += ns;
    return;
  }
  const end = ktime_get_ns() + ns;
  while (ktime_get_ns() < end);
}
