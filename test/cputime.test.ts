// CPU time accounting from the tick (kernel/sched/cputime.ts) on a manual clock, and what the
// monitors make of it. The expected values are worked by hand from Linux's rules: each tick
// charges one period (HZ=1000: 1 ms) to what the CPU is doing, /proc/stat prints nanoseconds as
// USER_HZ ticks (10 ms), mpstat divides by the CPUs' summed deltas, vmstat rounds (100·x + Div/2)/Div.

import { describe, expect, it } from 'vitest';
import { start_kernel } from '../src/kernel/init/main.ts';
import { resolve_config } from '../src/kernel/config.ts';
import { clock_advance } from '../src/machine/clock.ts';
import { CTX_HARDIRQ, CTX_KTHREAD, CTX_SOFTIRQ, CTX_SYSTEM, CTX_USER, cpu_enter, cpu_exit, set_cpu_context, set_current } from '../src/machine/cpu.ts';
import { kernel_clone } from '../src/kernel/kernel/fork.ts';
import { kthread_create } from '../src/kernel/kernel/fork.ts';
import { syscall_enter_from_user_mode, syscall_exit_to_user_mode } from '../src/kernel/entry/common.ts';
import { _exit, fork, wait4 } from '../src/user/libc.ts';
import { account_ticks, kcpustat_cpu, kstat_timer_irqs, task_cputime } from '../src/kernel/kernel/sched/cputime.ts';
import { show_stat } from '../src/kernel/fs/proc/stat.ts';
import { mpstat_record } from '../src/monitors/mpstat.ts';
import { vmstat_record } from '../src/monitors/vmstat.ts';
import { idle_percent, linux_stat } from '../src/runner/procstat.ts';
import { parse_proc_stat } from '../src/monitors/proc_stat.ts';
import { time_stats } from '../src/monitors/time.ts';
import type { PointResult } from '../src/runner/point.ts';

const MS = 1e6;

/** Spend `ms` in `context` on CPU 0, then let the machine's timer account it. */
function spend(context: number, ms: number): void {
  set_cpu_context(context);
  clock_advance(ms * MS);
  account_ticks();
}

describe('tick-based CPU time accounting', () => {
  it('charges each tick to what the CPU was doing, per CPU, and the user task its utime and stime', () => {
    start_kernel({ nr_cpus: 2, mem_mb: 64, config: resolve_config(), clock: 'manual' });
    set_current(kernel_clone(0)); // a user process (it has an mm); CPU 1 has no task: idle
    const before = show_stat();
    account_ticks(); // boot to now: nothing has passed on a manual clock
    spend(CTX_USER, 30);
    spend(CTX_SYSTEM, 20);
    spend(CTX_SOFTIRQ, 10);
    spend(CTX_HARDIRQ, 10);
    // Less than a tick passes: nothing is charged until the next one begins.
    set_cpu_context(CTX_USER);
    clock_advance(0.5 * MS);
    account_ticks();
    expect(kcpustat_cpu(0)[0]).toBe(30 * MS);
    clock_advance(0.6 * MS);
    account_ticks(); // that tick found the CPU in user mode
    cpu_exit();
    clock_advance(29 * MS);
    account_ticks();

    // enum cpu_usage_stat: user nice system softirq irq idle iowait steal guest guest_nice
    expect(kcpustat_cpu(0)).toEqual([31 * MS, 0, 20 * MS, 10 * MS, 10 * MS, 29 * MS, 0, 0, 0, 0]);
    expect(kcpustat_cpu(1)).toEqual([0, 0, 0, 0, 0, 100 * MS, 0, 0, 0, 0]);
    expect(kstat_timer_irqs(0)).toBe(71); // one local timer interrupt per tick while busy
    expect(kstat_timer_irqs(1)).toBe(0); // NOHZ: an idle CPU takes none
    // Softirq and hardirq ticks land in the interrupted task's stime (account_system_index_time).
    expect(task_cputime()).toEqual({ utime: 31 * MS, stime: 40 * MS });

    const after = show_stat();
    // show_stat's order: user nice system idle iowait irq softirq steal guest guest_nice, in 10 ms.
    expect(after.split('\n').slice(0, 3)).toEqual(['cpu  3 0 2 12 0 1 1 0 0 0', 'cpu0 3 0 2 2 0 1 1 0 0 0', 'cpu1 0 0 0 10 0 0 0 0 0 0']);
    expect(parse_proc_stat(after)).toMatchObject({ intr: 71, ctxt: 0, procs_running: 0 });

    // mpstat: the CPUs' 10 ms ticks summed: 3 + 2 + (2 + 10) + 1 + 1 = 19; user 3/19 = 15.79%.
    expect(mpstat_record(before, after)).toEqual({
      'cpu.all.usr%': 15.79, 'cpu.all.nice%': 0, 'cpu.all.sys%': 10.53, 'cpu.all.iowait%': 0, 'cpu.all.irq%': 5.26, 'cpu.all.soft%': 5.26,
      'cpu.all.steal%': 0, 'cpu.all.guest%': 0, 'cpu.all.gnice%': 0, 'cpu.all.idle%': 63.16,
    });
    // vmstat: Div 19 of the `cpu` line's 3 + 2 + 12 + 1 + 1; us (300 + 9)/19 = 16,
    // sy (400 + 9)/19 = 21, id (1200 + 9)/19 = 63; 71 interrupts in 1 s.
    expect(vmstat_record(before, after, 1)).toEqual({ 'procs.r': 0, 'system.in': 71, 'system.cs': 0, 'cpu.us': 16, 'cpu.sy': 21, 'cpu.id': 63, 'cpu.wa': 0, 'cpu.st': 0 });
    // runtest.py: (idle + iowait) / every field of the `cpu` line = 12 / 19.
    expect(idle_percent(linux_stat(parse_proc_stat(before).all), linux_stat(parse_proc_stat(after).all))).toBeCloseTo((12 / 19) * 100, 12);
  });

  it('a syscall is system time by its entry and exit alone; a forked child\'s user code inside the parent\'s wait4 is user time', () => {
    start_kernel({ nr_cpus: 1, mem_mb: 64, config: resolve_config(), clock: 'manual' });
    set_current(kernel_clone(0));
    account_ticks();
    syscall_enter_from_user_mode();
    clock_advance(2 * MS);
    account_ticks();
    syscall_exit_to_user_mode();
    clock_advance(3 * MS);
    account_ticks();
    expect(kcpustat_cpu(0).slice(0, 3)).toEqual([3 * MS, 0, 2 * MS]);
    // fork, then wait4 runs the child here: 4 ms of its user code, then its _exit.
    const child = fork(() => {
      clock_advance(4 * MS);
      account_ticks();
      _exit(0);
    });
    wait4(child);
    clock_advance(1 * MS); // the parent, back in user mode
    account_ticks();
    expect(kcpustat_cpu(0).slice(0, 3)).toEqual([8 * MS, 0, 2 * MS]);
    expect(task_cputime()).toEqual({ utime: 8 * MS, stime: 2 * MS });
  });

  it('a kernel thread\'s ticks count for the CPU but in no process\'s rusage, also when it runs at a user task\'s safe point', () => {
    start_kernel({ nr_cpus: 1, mem_mb: 64, config: resolve_config(), clock: 'manual' });
    set_current(kthread_create());
    account_ticks();
    spend(CTX_SYSTEM, 5);
    expect(kcpustat_cpu(0)[2]).toBe(5 * MS);
    expect(task_cputime()).toEqual({ utime: 0, stime: 0 });
    set_current(kernel_clone(0)); // a user task is current, a kworker's work runs at its safe point
    spend(CTX_KTHREAD, 3);
    expect(kcpustat_cpu(0)[2]).toBe(8 * MS);
    expect(task_cputime()).toEqual({ utime: 0, stime: 0 });
    cpu_exit();
    cpu_enter(0);
  });
});

describe('the time monitor', () => {
  it('prints GNU time\'s truncated centiseconds and whole-ms %P from whole nanoseconds', () => {
    // 0.29 s is 28.999… centiseconds as a float product; GNU time prints tv_usec / 10000 = 29.
    const point = { cputime: { utime: 290 * MS, stime: 1130 * MS }, counters: new Map([['sim.sched.nvcsw', 3], ['sim.mm.faults', 7]]) } as unknown as PointResult;
    expect(time_stats({ points: [point], elapsed_s: 2.01 })).toEqual({
      'time.user_time': 0.29,
      'time.system_time': 1.13,
      'time.percent_of_cpu_this_job_got': 70, // (290 + 1130) × 100 / 2010, whole percent
      'time.elapsed_time': 2.01,
      'time.elapsed_time.max': 2.01,
      'time.minor_page_faults': 7,
      'time.voluntary_context_switches': 3,
      'time.involuntary_context_switches': 0,
      'time.page_size': 4096,
    });
  });
});
