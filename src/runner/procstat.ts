// Host CPU idle time from /proc/stat, measured around a point as runtest.py does:
// idle% = (idle + iowait) / all jiffies × 100.

import { readFileSync } from 'node:fs';

export interface CpuTimes {
  idle: number;
  total: number;
}

export function read_cpu_times(path = '/proc/stat'): CpuTimes | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  return parse_cpu_line(text.split('\n').find((l) => l.startsWith('cpu ')) ?? '');
}

export function parse_cpu_line(line: string): CpuTimes | null {
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 5 || f.some((x) => !Number.isFinite(x))) return null;
  // runtest.py sums every field, guest and guest_nice included (the kernel also counts them in
  // user and nice); follow it so idle% matches will-it-scale's own CSV.
  const [user, nice, system, idle, iowait, irq = 0, softirq = 0, steal = 0, guest = 0, guest_nice = 0] = f;
  const busy = user + nice + system + irq + softirq + steal + guest + guest_nice;
  return { idle: idle + iowait, total: busy + idle + iowait };
}

/** Idle percentage between two readings; 100 when nothing can be measured. */
export function idle_percent(before: CpuTimes | null, after: CpuTimes | null): number {
  if (!before || !after || after.total <= before.total) return 100;
  return ((after.idle - before.idle) / (after.total - before.total)) * 100;
}
