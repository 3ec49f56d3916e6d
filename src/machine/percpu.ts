// Per-CPU areas: one unit per CPU, each starting on its own page, so CPUs never share a cache
// line through per-CPU data. A per-CPU variable is an offset valid in every unit (Linux's
// __per_cpu_offset scheme).

import { H, mem32 } from './memory.ts';
import type { PerCpu } from './symbols.ts';

export function nr_cpu_ids(): number {
  return mem32[H.NR_CPUS >> 2];
}

export function per_cpu_base(cpu: number): number {
  return mem32[H.PCPU_BASE >> 2] + cpu * mem32[H.PCPU_UNIT >> 2];
}

export function per_cpu_ptr(v: PerCpu, cpu: number): number {
  return per_cpu_base(cpu) + v.off;
}
