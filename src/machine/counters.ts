// Exact per-CPU event counters (`sim.<subsystem>.<event>`). Each CPU increments only its own
// block, with plain stores (no atomics, no shared cache lines); a reader sums the blocks, like
// Linux's per-CPU counters. Values are float64, exact up to 2^53 events.

import { memf64 } from './memory.ts';
import { this_cpu_base } from './cpu.ts';
import { nr_cpu_ids, per_cpu_ptr } from './percpu.ts';
import { COUNTERS_MAX, all_counters, define_counter, define_per_cpu, find_counter_index, type Counter } from './symbols.ts';

const counters = define_per_cpu('counters', COUNTERS_MAX * 8);

export { define_counter, type Counter };

export function this_cpu_inc(c: Counter): void {
  memf64[((this_cpu_base + counters.off) >> 3) + c.index] += 1;
}

export function this_cpu_add(c: Counter, n: number): void {
  memf64[((this_cpu_base + counters.off) >> 3) + c.index] += n;
}

/** Increment a counter by index (for counters named at run time, kept in kernel records). */
export function this_cpu_inc_index(index: number): void {
  memf64[((this_cpu_base + counters.off) >> 3) + index] += 1;
}

/** This CPU's count of a counter (Linux this_cpu_read). */
export function this_cpu_read(c: Counter): number {
  return memf64[((this_cpu_base + counters.off) >> 3) + c.index];
}

/** One CPU's count of a counter (Linux per_cpu()). */
export function per_cpu_count(c: Counter, cpu: number): number {
  return memf64[(per_cpu_ptr(counters, cpu) >> 3) + c.index];
}

function sum_index(index: number): number {
  let total = 0;
  for (let cpu = 0, n = nr_cpu_ids(); cpu < n; cpu++) total += memf64[(per_cpu_ptr(counters, cpu) >> 3) + index];
  return total;
}

export function read_counter(c: Counter): number {
  return sum_index(c.index);
}

/** One CPU's count of a counter by name (Linux per_cpu()); 0 when nothing defined it. */
export function read_counter_on(name: string, cpu: number): number {
  const i = find_counter_index(name);
  return i < 0 ? 0 : memf64[(per_cpu_ptr(counters, cpu) >> 3) + i];
}

/** Value of a counter by name (0 when nothing defined it). */
export function read_counter_by_name(name: string): number {
  const i = find_counter_index(name);
  return i < 0 ? 0 : sum_index(i);
}

/** Every counter of the machine, summed over CPUs: name → value. */
export function snapshot_counters(): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, index] of all_counters()) out.set(name, sum_index(index));
  return out;
}
