// lkp's vmstat monitor (programs/vmstat: `vmstat -n 1`, procps-ng 4): per interval, interrupts
// and context switches per second and the CPU split in whole percent (sy holds irq and softirq;
// each column rounded on its own, (100·x + Div/2) / Div); stats are the means. vmstat's first line
// (averages since boot) is left out: the simulated machine boots for each point, so "since boot"
// is the point itself.

import { interval_records, mean_of_samples, type Monitor, type MonitorInput } from './monitor.ts';
import { GUEST, GUEST_NICE, IDLE, IOWAIT, IRQ, NICE, SOFTIRQ, STEAL, SYSTEM, USER, parse_proc_stat } from './proc_stat.ts';

/** One vmstat line between two /proc/stat readings `seconds` apart (vmstat's (Δ + sleep/2) / sleep, per second). */
export function vmstat_record(before: string, after: string, seconds: number): Record<string, number> {
  const a = parse_proc_stat(before);
  const b = parse_proc_stat(after);
  const d = (f: number) => b.all[f] - a.all[f];
  const us = Math.max(0, d(USER) + d(NICE) - d(GUEST) - d(GUEST_NICE));
  const sy = d(SYSTEM) + d(IRQ) + d(SOFTIRQ);
  const div = d(USER) + d(NICE) + sy + d(IDLE) + d(IOWAIT) + d(STEAL);
  const pct = (x: number) => (div === 0 ? 0 : Math.floor((100 * x + Math.floor(div / 2)) / div));
  const per_s = (x: number) => Math.floor(x / seconds + 0.5);
  return {
    'procs.r': b.procs_running,
    'system.in': per_s(b.intr - a.intr),
    'system.cs': per_s(b.ctxt - a.ctxt),
    'cpu.us': pct(us),
    'cpu.sy': pct(sy),
    'cpu.id': div === 0 ? 100 : pct(d(IDLE)),
    'cpu.wa': pct(d(IOWAIT)),
    'cpu.st': pct(d(STEAL)),
  };
}

export function vmstat_stats(input: MonitorInput): Record<string, number> {
  const records = interval_records(input, (a, b) => vmstat_record(a.text, b.text, (b.ns - a.ns) / 1e9));
  if (records.length === 0) return {};
  return Object.fromEntries(Object.entries(mean_of_samples(records)).map(([k, v]) => [`vmstat.${k}`, v]));
}

export const vmstat: Monitor = {
  name: 'vmstat',
  description: 'interrupts and context switches per second, CPU us/sy/id/wa in whole %, mean over the sample intervals',
  default: true,
  stats: vmstat_stats,
};
