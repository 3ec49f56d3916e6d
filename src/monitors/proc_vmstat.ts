// lkp's proc-vmstat monitor (programs/proc-vmstat: /proc/vmstat every second): the VM event
// counters lib/matrix.rb reduces as last − first (pg*, numa_* …), over the run: each point's
// machine boots anew, so the run's count is the sum of the points'.

import type { Monitor, MonitorInput } from './monitor.ts';

function parse_vmstat(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [name, value] = line.split(' ');
    if (name && value !== undefined) out.set(name, Number(value));
  }
  return out;
}

export function proc_vmstat_stats(input: MonitorInput): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of input.points) {
    if (p.proc_vmstat.length < 2) continue;
    const first = parse_vmstat(p.proc_vmstat[0]);
    for (const [name, last] of parse_vmstat(p.proc_vmstat[p.proc_vmstat.length - 1])) {
      const key = `proc-vmstat.${name}`;
      out[key] = (out[key] ?? 0) + last - (first.get(name) ?? 0);
    }
  }
  return out;
}

export const proc_vmstat: Monitor = {
  name: 'proc-vmstat',
  description: '/proc/vmstat event counters over the run (pgalloc_normal, pgfree, pgfault)',
  default: true,
  stats: proc_vmstat_stats,
};
