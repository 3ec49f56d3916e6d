// lkp's mpstat monitor (programs/mpstat: `mpstat -o JSON 1`, CPU "all"): per interval (the
// harness's samples, one second by default; max_utilization.seconds counts them),
// sysstat's percentages of all CPUs' time (mpstat.c get_global_cpu_mpstats: the CPUs' deltas
// summed, guest taken out of user as it is counted in both), printed %.2f; stats are their means,
// and max_utilization the busiest interval (100 − idle − iowait) and its number.

import { interval_records, mean_of_samples, round2, type Monitor, type MonitorInput } from './monitor.ts';
import { GUEST, GUEST_NICE, IDLE, IOWAIT, IRQ, NICE, SOFTIRQ, STEAL, SYSTEM, USER, parse_proc_stat } from './proc_stat.ts';


/** One mpstat record of CPU "all" between two /proc/stat readings. */
export function mpstat_record(before: string, after: string): Record<string, number> {
  const a = parse_proc_stat(before).cpus;
  const b = parse_proc_stat(after).cpus;
  const d = new Array<number>(10).fill(0);
  for (let cpu = 0; cpu < b.length; cpu++) for (let f = 0; f < 10; f++) d[f] += Math.max(0, b[cpu][f] - (a[cpu]?.[f] ?? 0));
  // rd_stats.c get_per_cpu_interval: guest and guest_nice are already in user and nice
  const itv = d[USER] + d[NICE] + d[SYSTEM] + d[IOWAIT] + d[IDLE] + d[STEAL] + d[IRQ] + d[SOFTIRQ];
  const pct = (x: number) => (itv === 0 ? 0 : round2((Math.max(0, x) / itv) * 100));
  return {
    'cpu.all.usr%': pct(d[USER] - d[GUEST]),
    'cpu.all.nice%': pct(d[NICE] - d[GUEST_NICE]),
    'cpu.all.sys%': pct(d[SYSTEM]),
    'cpu.all.iowait%': pct(d[IOWAIT]),
    'cpu.all.irq%': pct(d[IRQ]),
    'cpu.all.soft%': pct(d[SOFTIRQ]),
    'cpu.all.steal%': pct(d[STEAL]),
    'cpu.all.guest%': pct(d[GUEST]),
    'cpu.all.gnice%': pct(d[GUEST_NICE]),
    'cpu.all.idle%': itv === 0 ? 100 : pct(d[IDLE]),
  };
}

export function mpstat_stats(input: MonitorInput): Record<string, number> {
  const records = interval_records(input, (a, b) => mpstat_record(a.text, b.text));
  if (records.length === 0) return {};
  const out = mean_of_samples(records);
  // programs/mpstat/parse: the busiest record, over the whole job
  let max_util = -Infinity;
  let max_index = 0;
  records.forEach((r, i) => {
    const util = 100 - r['cpu.all.idle%'] - r['cpu.all.iowait%'];
    if (util > max_util) [max_util, max_index] = [util, i];
  });
  if (max_util !== 0) out.max_utilization_pct = max_util;
  out['max_utilization.seconds'] = max_index + 1;
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [`mpstat.${k}`, v]));
}

export const mpstat: Monitor = {
  name: 'mpstat',
  description: 'CPU time per state, % of all CPUs (usr, sys, soft, irq, idle …), mean over the sample intervals',
  default: true,
  stats: mpstat_stats,
};
