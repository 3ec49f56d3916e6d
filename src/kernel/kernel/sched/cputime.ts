// CPU time accounting from the tick (kernel/sched/cputime.c account_process_tick, the default
// CONFIG_TICK_CPU_ACCOUNTING without CONFIG_IRQ_TIME_ACCOUNTING): every tick charges one period to
// what the CPU was doing when the timer interrupted it: user mode, a softirq being served, a
// hardirq, other kernel code, or the idle task. Softirq and hardirq ticks are charged to the
// interrupted task's stime as well, as account_system_index_time does.
//
// The simulated CPUs have no timer interrupt that can land in the middle of their work (their own
// tick runs at safe points, which are always at a boundary), so the machine's timer is the
// harness thread: every tick it calls account_ticks, which reads the state each CPU publishes
// (machine/cpu.ts cpu_context, cpu_owner, cpu_curr). The hot path only stores that state when
// it changes. Work the caller does on behalf of a claimed idle CPU is that CPU's idle time (its
// modeled wake-up and acknowledgement are the time it spends).

import { memf64, mem32 } from '../../../machine/memory.ts';
import { CPU_RUNNING, CTX_HARDIRQ, CTX_KTHREAD, CTX_SOFTIRQ, CTX_USER, cpu_context, cpu_curr, cpu_owner } from '../../../machine/cpu.ts';
import { nr_cpu_ids, per_cpu_ptr } from '../../../machine/percpu.ts';
import { define_global, define_per_cpu } from '../../../machine/symbols.ts';
import { HZ, jiffies } from '../time/timer.ts';
import { T_MM } from '../../include/linux/sched.ts';

// include/linux/kernel_stat.h enum cpu_usage_stat
export const CPUTIME_USER = 0;
export const CPUTIME_NICE = 1;
export const CPUTIME_SYSTEM = 2;
export const CPUTIME_SOFTIRQ = 3;
export const CPUTIME_IRQ = 4;
export const CPUTIME_IDLE = 5;
export const CPUTIME_IOWAIT = 6;
export const CPUTIME_STEAL = 7;
export const CPUTIME_GUEST = 8;
export const CPUTIME_GUEST_NICE = 9;
const NR_STATS = 10;

// Per CPU, in ns: kernel_cpustat.cpustat[NR_STATS], then what the user tasks that ran on the CPU
// were charged (the sum of their task_struct utime and stime: the simulated processes' rusage),
// then the CPU's local timer interrupts (kstat "LOC").
const KS_TASK_UTIME = NR_STATS;
const KS_TASK_STIME = NR_STATS + 1;
const KS_TIMER_IRQS = NR_STATS + 2;
const kernel_cpustat = define_per_cpu('kernel_cpustat', (NR_STATS + 3) * 8);
/** The jiffy the machine's timer last accounted. */
const last_accounted = define_global('cputime_last_tick', 8);

function stat(cpu: number, field: number): number {
  return (per_cpu_ptr(kernel_cpustat, cpu) >> 3) + field;
}

// kernel/sched/cputime.c account_process_tick, for CPU `cpu`, `ticks` periods of `tick_ns`
function account_process_tick(cpu: number, ticks: number, tick_ns: number): void {
  const cputime = ticks * tick_ns;
  if (cpu_owner(cpu) !== CPU_RUNNING) {
    // account_idle_time: no task on the CPU (an idle CPU has no tick under NOHZ; its idle time
    // is what tick_nohz accounts at idle exit, the same periods)
    memf64[stat(cpu, CPUTIME_IDLE)] += cputime;
    return;
  }
  memf64[stat(cpu, KS_TIMER_IRQS)] += ticks;
  const context = cpu_context(cpu);
  const index = context === CTX_USER ? CPUTIME_USER : context === CTX_SOFTIRQ ? CPUTIME_SOFTIRQ : context === CTX_HARDIRQ ? CPUTIME_IRQ : CPUTIME_SYSTEM;
  memf64[stat(cpu, index)] += cputime;
  // A kernel thread's work done at a safe point runs while the interrupted user task is still
  // `current` here; on Linux it is the kthread's own time.
  const task = cpu_curr(cpu);
  if (context !== CTX_KTHREAD && task !== 0 && mem32[(task >> 2) + T_MM] !== 0) memf64[stat(cpu, index === CPUTIME_USER ? KS_TASK_UTIME : KS_TASK_STIME)] += cputime;
}

/**
 * The machine's timer interrupt: account every tick period that began since the last call, on
 * every CPU, to what each is doing now. Called every tick by the harness thread (and in tests).
 */
export function account_ticks(): void {
  const now = jiffies();
  const ticks = now - memf64[last_accounted.addr >> 3];
  if (ticks <= 0) return;
  memf64[last_accounted.addr >> 3] = now;
  const tick_ns = 1e9 / HZ();
  for (let cpu = 0, n = nr_cpu_ids(); cpu < n; cpu++) account_process_tick(cpu, ticks, tick_ns);
}

/** CPU `cpu`'s kernel_cpustat.cpustat, in ns. */
export function kcpustat_cpu(cpu: number): number[] {
  return Array.from({ length: NR_STATS }, (_, i) => memf64[stat(cpu, i)]);
}

/** Local timer interrupts CPU `cpu` took. */
export function kstat_timer_irqs(cpu: number): number {
  return memf64[stat(cpu, KS_TIMER_IRQS)];
}

/** What the machine's user tasks were charged, in ns (their rusage ru_utime and ru_stime). */
export function task_cputime(): { utime: number; stime: number } {
  let utime = 0;
  let stime = 0;
  for (let cpu = 0, n = nr_cpu_ids(); cpu < n; cpu++) {
    utime += memf64[stat(cpu, KS_TASK_UTIME)];
    stime += memf64[stat(cpu, KS_TASK_STIME)];
  }
  return { utime, stime };
}
