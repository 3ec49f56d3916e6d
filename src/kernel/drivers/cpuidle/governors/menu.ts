// Which idle state an idle CPU sleeps in, and what waking it costs (drivers/cpuidle/governors/
// menu.c, 3.2). menu_select picks the deepest state whose target residency fits the idle time it
// expects; menu_update learns from how long the CPU really stayed idle. Linux expects the time to
// the next timer event scaled by a learned correction factor (each sample weighing 1/8); an idle
// simulated CPU has no timer of its own to wait for, so the expectation here is the learned part
// alone: an average of the CPU's measured idle times, each new one weighing 1/8. A CPU that has
// not been idle yet expects to stay idle for ever (the deepest state), as with no timer pending.
// The wake-up itself is hardware: the chosen state's exit latency, which the waker waits out.

import { memf64, mem32 } from '../../../../machine/memory.ts';
import { register_idle_hooks, smp_processor_id } from '../../../../machine/cpu.ts';
import { ktime_get_ns } from '../../../../machine/clock.ts';
import { nr_cpu_ids, per_cpu_ptr } from '../../../../machine/percpu.ts';
import { define_per_cpu } from '../../../../machine/symbols.ts';
import { intel_idle_states } from '../../idle/intel_idle.ts';

// struct menu_device, and the CPU's last idle entry
const MD_IDLE_SINCE = 0; // f64: machine clock at idle entry
const MD_EXPECTED = 1; // f64: expected idle ns
const MD_STATE = 4; // u32: the state chosen at entry
const MD_IDLE = 5; // u32: 1 while idle
const menu_devices = define_per_cpu('menu_devices', 24);

/** How much a new measured idle time weighs in the expectation (menu.c's DECAY = 8). */
const DECAY = 8;

function f64(cpu: number): number {
  return per_cpu_ptr(menu_devices, cpu) >> 3;
}

function u32(cpu: number): number {
  return per_cpu_ptr(menu_devices, cpu) >> 2;
}

// drivers/cpuidle/governors/menu.c menu_select: CPU `cpu` goes idle now
export function cpuidle_idle_enter(cpu: number, now_ns: number): void {
  const states = intel_idle_states();
  const expected = memf64[f64(cpu) + MD_EXPECTED];
  let state = 0;
  for (let s = 1; s < states.length; s++) if (states[s].target_residency_ns <= expected) state = s;
  memf64[f64(cpu) + MD_IDLE_SINCE] = now_ns;
  mem32[u32(cpu) + MD_STATE] = state;
  mem32[u32(cpu) + MD_IDLE] = 1;
}

// drivers/cpuidle/governors/menu.c menu_update: CPU `cpu` wakes now; returns the exit latency of
// the state it slept in (0 when it was not idle)
export function cpuidle_idle_exit(cpu: number, now_ns: number): number {
  if (mem32[u32(cpu) + MD_IDLE] !== 1) return 0;
  mem32[u32(cpu) + MD_IDLE] = 0;
  const i = f64(cpu);
  const measured = Math.max(0, now_ns - memf64[i + MD_IDLE_SINCE]);
  const old = memf64[i + MD_EXPECTED];
  memf64[i + MD_EXPECTED] = old === Infinity ? measured : old + (measured - old) / DECAY;
  return intel_idle_states()[mem32[u32(cpu) + MD_STATE]].exit_latency_ns;
}

/** Wake idle CPUs together (their IPIs sent at once): they leave their states in parallel, so the slowest exit is what the waker waits for. */
export function cpuidle_wake_together(cpus: readonly number[]): number {
  let slowest = 0;
  for (const cpu of cpus) slowest = Math.max(slowest, cpuidle_idle_exit(cpu, ktime_get_ns()));
  return slowest;
}

/** The state CPU `cpu` sleeps in now, or null when it is not idle (tests). */
export function cpuidle_state_of(cpu: number): string | null {
  return mem32[u32(cpu) + MD_IDLE] === 1 ? intel_idle_states()[mem32[u32(cpu) + MD_STATE]].name : null;
}

// Boot: no CPU has an expectation yet; every CPU but the boot CPU is idle from the start.
export function cpuidle_init(boot_cpu: number): void {
  for (let cpu = 0, n = nr_cpu_ids(); cpu < n; cpu++) {
    memf64[f64(cpu) + MD_EXPECTED] = Infinity;
    if (cpu !== boot_cpu) cpuidle_idle_enter(cpu, ktime_get_ns());
  }
}

register_idle_hooks(
  () => cpuidle_idle_enter(smp_processor_id(), ktime_get_ns()),
  () => { cpuidle_idle_exit(smp_processor_id(), ktime_get_ns()); },
);
