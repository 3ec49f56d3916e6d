// will-it-scale runtest.py's idle% (its linux_stat class): from the `cpu` line of /proc/stat
// before and after a point, idle% = Δ(idle + iowait) / Δ(all fields) × 100. It sums every field,
// guest and guest_nice included (the kernel also counts them in user and nice); follow it so that
// idle% is will-it-scale's own.

import { GUEST, GUEST_NICE, IDLE, IOWAIT, IRQ, NICE, SOFTIRQ, STEAL, SYSTEM, USER, type CpuFields } from '../monitors/proc_stat.ts';

export interface CpuTimes {
  idle: number;
  total: number;
}

export function linux_stat(f: CpuFields): CpuTimes {
  const busy = f[USER] + f[NICE] + f[SYSTEM] + f[IRQ] + f[SOFTIRQ] + f[STEAL] + f[GUEST] + f[GUEST_NICE];
  return { idle: f[IDLE] + f[IOWAIT], total: busy + f[IDLE] + f[IOWAIT] };
}

/** Idle percentage between two readings; 100 when no time passed (runtest.py would print 0). */
export function idle_percent(before: CpuTimes, after: CpuTimes): number {
  if (after.total <= before.total) return 100;
  return ((after.idle - before.idle) / (after.total - before.total)) * 100;
}
