// /proc/stat (fs/proc/stat.c show_stat): CPU time per state in USER_HZ ticks, machine-wide and
// per CPU, then interrupts, context switches, forks and running tasks, as the kernel prints them.

import { CPU_RUNNING, cpu_owner } from '../../../machine/cpu.ts';
import { nr_cpu_ids } from '../../../machine/percpu.ts';
import { read_counter_by_name } from '../../../machine/counters.ts';
import { CPUTIME_GUEST, CPUTIME_GUEST_NICE, CPUTIME_IDLE, CPUTIME_IOWAIT, CPUTIME_IRQ, CPUTIME_NICE, CPUTIME_SOFTIRQ, CPUTIME_STEAL, CPUTIME_SYSTEM, CPUTIME_USER, kcpustat_cpu, kstat_timer_irqs } from '../../kernel/sched/cputime.ts';

/** include/asm-generic/param.h USER_HZ: the unit of /proc/stat's times. */
export const USER_HZ = 100;

// kernel/time/time.c nsec_to_clock_t
function nsec_to_clock_t(ns: number): number {
  return Math.floor(ns / (1e9 / USER_HZ));
}

// The order show_stat prints the fields in.
const FIELDS = [CPUTIME_USER, CPUTIME_NICE, CPUTIME_SYSTEM, CPUTIME_IDLE, CPUTIME_IOWAIT, CPUTIME_IRQ, CPUTIME_SOFTIRQ, CPUTIME_STEAL, CPUTIME_GUEST, CPUTIME_GUEST_NICE];

function cpu_line(name: string, cpustat: number[]): string {
  return `${name} ${FIELDS.map((f) => nsec_to_clock_t(cpustat[f])).join(' ')}`;
}

// fs/proc/stat.c show_stat
export function show_stat(): string {
  const n = nr_cpu_ids();
  const per_cpu = Array.from({ length: n }, (_, cpu) => kcpustat_cpu(cpu));
  const sum = per_cpu.reduce((acc, s) => acc.map((v, i) => v + s[i]));
  let irqs = read_counter_by_name('sim.smp.ipis');
  let running = 0;
  for (let cpu = 0; cpu < n; cpu++) {
    irqs += kstat_timer_irqs(cpu);
    if (cpu_owner(cpu) === CPU_RUNNING) running++;
  }
  const lines = [cpu_line('cpu ', sum), ...per_cpu.map((s, cpu) => cpu_line(`cpu${cpu}`, s))];
  lines.push(`intr ${irqs}`);
  lines.push(`ctxt ${read_counter_by_name('sim.sched.context_switches')}`);
  lines.push(`processes ${read_counter_by_name('sim.fork.processes') + read_counter_by_name('sim.fork.threads')}`);
  lines.push(`procs_running ${running}`);
  lines.push('procs_blocked 0');
  return lines.join('\n') + '\n';
}
