// perf events, the scheduler's perf hooks and the modeled hardware of cross-CPU operations
// (issue 10): what one `perf stat -e cycles true` costs in key updates, stops and context
// switches under 3.2's rules, the deferred decrement of 3.3 in a loop of 100 invocations per
// simulated second, inheritance, the cycles PMU, and the idle-state exits a stop waits out.
// One thread, manual clock; expected values are the kernel's rules worked by hand.

import { describe, expect, it } from 'vitest';
import { start_kernel } from '../src/kernel/init/main.ts';
import { resolve_config } from '../src/kernel/config.ts';
import { clock_advance, ktime_get_ns } from '../src/machine/clock.ts';
import { set_current } from '../src/machine/cpu.ts';
import { read_counter_by_name as counter } from '../src/machine/counters.ts';
import { define_function } from '../src/machine/symbols.ts';
import { kernel_clone } from '../src/kernel/kernel/fork.ts';
import { context_switch } from '../src/kernel/kernel/sched/core.ts';
import { stop_machine } from '../src/kernel/kernel/stop_machine.ts';
import { on_each_cpu } from '../src/kernel/kernel/smp.ts';
import { static_key_count } from '../src/kernel/include/linux/jump_label.ts';
import { static_key_slow_inc } from '../src/kernel/kernel/jump_label.ts';
import { PERF_COUNT_HW_CPU_CYCLES, PERF_TYPE_HARDWARE, perf_sched_events } from '../src/kernel/kernel/events/core.ts';
import { _exit, close, execve, fork, perf_event_open, read_counter, wait4 } from '../src/user/libc.ts';
import { LD_SO_IMAGE, TRUE_IMAGE, TRUE_LAYOUT } from '../src/user/coreutils_true.ts';
import { cpuidle_state_of } from '../src/kernel/drivers/cpuidle/governors/menu.ts';
import { BoundedTask } from '../src/runner/probe.ts';
import { resolve_params, type ThroughputWorkload } from '../src/runner/workload.ts';
import perf_stat_spawn from '../workloads/perf_stat_spawn.ts';

const w = perf_stat_spawn as ThroughputWorkload;

/** Boot 4 CPUs and become a fresh process on CPU 0 (the perf task); CPUs 1-3 stay idle. */
function boot(preset: string, sets: string[] = []): number {
  start_kernel({ nr_cpus: 4, mem_mb: 64, config: resolve_config(preset, sets), clock: 'manual' });
  const perf = kernel_clone(0);
  set_current(perf);
  return perf;
}

/** The workload's perf stat loop for `n` invocations, each taking `ns` of machine time. */
function perf_stat_loop(n: number, ns: number): void {
  const params = resolve_params(w, { perf_user_us: '0' });
  w.background!.loop(new BoundedTask(0, 1, 'process', n, 0, () => {}, ns, params));
}

const names = ['sim.jump_label.enable', 'sim.jump_label.disable', 'sim.stop_machine.calls', 'sim.text_poke.sites', 'sim.perf.events_opened', 'sim.perf.events_freed', 'sim.fork.processes', 'sim.exit.processes', 'sim.sched.context_switches', 'sim.perf.sched_out', 'sim.perf.sched_in'];
const snapshot = () => Object.fromEntries(names.map((k) => [k.replace(/^sim\./, ''), counter(k)]));

describe('perf stat -e cycles true, once', () => {
  it('3.2: one open and one close, two key updates, four stops (one per site and update), and the hooks only while a site is on', () => {
    boot('v3.2');
    perf_stat_loop(1, 0);
    // Forks since boot: init, the perf task, true. Each stop switches the perf CPU to its stopper and back (2 switches), and wait4 to the child
    // and back (2): 10. The hooks read their own site: sched_out in prepare_task_switch (site 0),
    // sched_in in finish_task_switch (site 1). Enabling patches site 0 in the first stop, site 1
    // in the second; disabling site 0 in the third, site 1 in the fourth. Switch by switch
    // (out, in): stop 1 in (-,-), out (o,-); stop 2 in (o,-), out (o,i); the child (o,i), (o,i);
    // stop 3 in (o,i), out (-,i); stop 4 in (-,i), out (-,-): 6 sched_out, 6 sched_in.
    expect(snapshot()).toEqual({
      'jump_label.enable': 1, 'jump_label.disable': 1, 'stop_machine.calls': 4, 'text_poke.sites': 4,
      'perf.events_opened': 1, 'perf.events_freed': 1, 'fork.processes': 3, 'exit.processes': 1,
      'sched.context_switches': 10, 'perf.sched_out': 6, 'perf.sched_in': 6,
    });
    expect(static_key_count(perf_sched_events)).toBe(0);
  });

  it('with events=3 the key is taken once and given back once: still four stops', () => {
    boot('v3.2');
    const params = resolve_params(w, { perf_user_us: '0', events: '3' });
    w.background!.loop(new BoundedTask(0, 1, 'process', 1, 0, () => {}, 0, params));
    expect([counter('sim.perf.events_opened'), counter('sim.jump_label.inc'), counter('sim.jump_label.enable'), counter('sim.stop_machine.calls')]).toEqual([3, 3, 1, 4]);
  });
});

describe('a loop of 100 invocations per simulated second for 3 s', () => {
  it('3.2 patches twice per invocation: 300 enables, 300 disables, 1200 stops', () => {
    boot('v3.2');
    perf_stat_loop(300, 10_000_000);
    expect([counter('sim.jump_label.enable'), counter('sim.jump_label.disable'), counter('sim.stop_machine.calls')]).toEqual([300, 300, 1200]);
  });

  it('3.3 keeps the key on while the loop runs: at most two key updates in any simulated second', () => {
    boot('v3.3');
    const start = ktime_get_ns();
    const per_second: number[] = [];
    let seen = 0;
    const params = resolve_params(w, { perf_user_us: '0' });
    const task = new BoundedTask(0, 1, 'process', 300, 0, () => {}, 10_000_000, params);
    const running = task.running.bind(task);
    task.running = () => {
      const s = Math.floor((ktime_get_ns() - start) / 1e9);
      const updates = counter('sim.jump_label.enable') + counter('sim.jump_label.disable');
      per_second[s] = (per_second[s] ?? 0) + updates - seen;
      seen = updates;
      return running();
    };
    w.background!.loop(task);
    expect(Math.max(...per_second.filter((n) => n !== undefined))).toBeLessThanOrEqual(2);
    expect(counter('sim.jump_label.deferred_scheduled')).toBeGreaterThan(0);
    // Every update is one stop per site.
    expect(counter('sim.stop_machine.calls')).toBe(2 * (counter('sim.jump_label.enable') + counter('sim.jump_label.disable')));
    expect(counter('sim.perf.events_opened')).toBe(300);
  });
});

describe('perf events', () => {
  it('an inherited event is not accounted: one key user for the counter and its copy in the child; the child\'s cycles go to the parent', () => {
    const perf = boot('v5.3');
    const cycles = { type: PERF_TYPE_HARDWARE, config: PERF_COUNT_HW_CPU_CYCLES, inherit: true };
    const ev = perf_event_open(cycles, perf, -1, -1, 0);
    expect(ev).toBeGreaterThan(0);
    const child = fork(() => {
      clock_advance(1000); // the child runs 1 µs
      _exit(0);
    });
    expect(counter('sim.perf.events_inherited')).toBe(1);
    expect([counter('sim.jump_label.inc'), static_key_count(perf_sched_events)]).toEqual([1, 1]);
    expect(wait4(child)).toBe(0);
    // The inherited event was freed at the child's exit without a decrement. 1000 ns at 2933 MHz.
    expect([counter('sim.jump_label.dec'), static_key_count(perf_sched_events)]).toEqual([0, 1]);
    expect(read_counter(ev).count).toBe(2933);
    close(ev);
    // The last user's close: 5.3 defers the 1 → 0 by HZ, so the key stays on with the work queued.
    expect([counter('sim.jump_label.dec'), static_key_count(perf_sched_events), counter('sim.jump_label.deferred_scheduled'), counter('sim.perf.events_freed')]).toEqual([1, 1, 1, 1]);
  });

  it('closing a counter while an inherited copy lives keeps it until that child exits; then it goes, with the decrement', () => {
    const perf = boot('v3.2');
    const ev = perf_event_open({ type: PERF_TYPE_HARDWARE, config: PERF_COUNT_HW_CPU_CYCLES, inherit: true }, perf, -1, -1, 0);
    const child = fork(() => {
      clock_advance(1000);
      _exit(0);
    });
    close(ev);
    expect([counter('sim.perf.events_freed'), counter('sim.jump_label.dec'), static_key_count(perf_sched_events)]).toEqual([0, 0, 1]);
    expect(wait4(child)).toBe(0);
    expect([counter('sim.perf.events_freed'), counter('sim.jump_label.dec'), static_key_count(perf_sched_events)]).toEqual([1, 1, 0]);
  });

  it('the cycles PMU counts only while its task runs, from exec with enable_on_exec; enabled and running times as perf keeps them', () => {
    boot('v5.3');
    const child = fork(() => {
      clock_advance(500); // before exec: not counted
      // exec, as perf's child does: the counter starts
      execve(TRUE_IMAGE, LD_SO_IMAGE, TRUE_LAYOUT);
      clock_advance(2000);
      _exit(0);
    });
    const ev = perf_event_open({ type: PERF_TYPE_HARDWARE, config: PERF_COUNT_HW_CPU_CYCLES, inherit: true, disabled: true, enable_on_exec: true }, child, -1, -1, 0);
    expect(wait4(child)).toBe(0);
    clock_advance(700); // the parent runs on: the child's counter is done
    expect(read_counter(ev)).toEqual({ count: Math.round((2000 * 2933) / 1000), time_enabled: 2000, time_running: 2000 });
  });

  it('a cycles counter on another CPU, a group or an unknown event is refused', () => {
    const perf = boot('v5.3');
    expect(perf_event_open({ type: PERF_TYPE_HARDWARE, config: PERF_COUNT_HW_CPU_CYCLES }, perf, 0, -1, 0)).toBe(-22);
    expect(perf_event_open({ type: PERF_TYPE_HARDWARE, config: 99 }, perf, -1, -1, 0)).toBe(-2);
    expect(counter('sim.perf.events_opened')).toBe(0);
  });
});

describe('the scheduler\'s perf hooks', () => {
  it('run only while perf_sched_events is on', () => {
    const a = boot('v5.3');
    const b = kernel_clone(0);
    context_switch(a, b, false);
    context_switch(b, a, false);
    expect([counter('sim.sched.context_switches'), counter('sim.perf.sched_out'), counter('sim.perf.sched_in')]).toEqual([2, 0, 0]);
    static_key_slow_inc(perf_sched_events);
    context_switch(a, b, false);
    expect([counter('sim.sched.context_switches'), counter('sim.perf.sched_out'), counter('sim.perf.sched_in')]).toEqual([3, 1, 1]);
  });
});

const nop = define_function('test:perf_events_nop', () => {});

describe('modeled hardware: what a stop and an IPI round wait out', () => {
  const modeled = () => counter('sim.stop_machine.modeled_ns');

  it('a stop waits for the IPI and the slowest idle CPU to leave its idle state (menu governor, Nehalem states), then one cache-line transfer per acknowledgement made for an idle CPU', () => {
    boot('v3.2');
    // CPUs 1-3 idle since boot with nothing learned: the deepest state, C6 (200 µs exit).
    expect(cpuidle_state_of(1)).toBe('C6-NHM');
    // 2 µs IPI + 200 µs + 4 states × 3 idle CPUs × 100 ns
    stop_machine(nop, 0);
    expect(modeled()).toBe(2000 + 200_000 + 4 * 3 * 100);
    // They slept 0 ns of machine time before the stop woke them: expected idle 0, so C1 (3 µs).
    expect(cpuidle_state_of(1)).toBe('C1-NHM');
    stop_machine(nop, 0);
    expect(modeled() - 203_200).toBe(2000 + 3000 + 1200);
    // 1 ms idle: the state was chosen at entry (C1); the expectation becomes 0 + 1 ms / 8 = 125 µs.
    clock_advance(1_000_000);
    stop_machine(nop, 0);
    expect(modeled() - 209_400).toBe(6200);
    // Chosen with 125 µs expected: C3 (target residency 80 µs, exit 20 µs).
    expect(cpuidle_state_of(2)).toBe('C3-NHM');
    clock_advance(1_000_000);
    stop_machine(nop, 0);
    expect(modeled() - 215_600).toBe(2000 + 20_000 + 1200);
    expect(counter('sim.stop_machine.idle_acks')).toBe(4 * 3);
  });

  it('with idle=poll only the IPI and the acknowledgements remain', () => {
    boot('v3.2', ['machine.cpuidle=poll']);
    stop_machine(nop, 0);
    expect(modeled()).toBe(2000 + 1200);
  });

  it('an IPI round to idle CPUs waits for the IPI and the slowest exit once: they wake in parallel', () => {
    boot('v5.3');
    on_each_cpu(nop, 0);
    expect([counter('sim.smp.modeled_ns'), counter('sim.smp.ipis'), counter('sim.smp.idle_acks')]).toEqual([2000 + 200_000, 3, 3]);
  });
});
