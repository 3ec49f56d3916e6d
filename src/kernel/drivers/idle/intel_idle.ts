// The idle states a simulated CPU can sleep in (drivers/idle/intel_idle.c, 3.2): exit latency and
// target residency of each, from the driver's tables, chosen by the knob machine.cpuidle.
//   nehalem  nehalem_cstates of intel_idle in 2.6.35-3.x, which Nehalem and Westmere (the 2-socket,
//            16-thread servers of 2011) used: C1-NHM 3/6 µs, C3-NHM 20/80 µs, C6-NHM 200/800 µs
//   c1       the same CPU with C-states beyond C1 disabled (intel_idle.max_cstate=1, or firmware)
//   poll     idle=poll: an idle CPU spins and answers at once

import { kconfig, knob_index, knob_value_index } from '../../config.ts';

export interface IdleState {
  name: string;
  exit_latency_ns: number;
  target_residency_ns: number;
}

const NEHALEM: readonly IdleState[] = [
  { name: 'C1-NHM', exit_latency_ns: 3_000, target_residency_ns: 6_000 },
  { name: 'C3-NHM', exit_latency_ns: 20_000, target_residency_ns: 80_000 },
  { name: 'C6-NHM', exit_latency_ns: 200_000, target_residency_ns: 800_000 },
];
const TABLES: Record<string, readonly IdleState[]> = {
  nehalem: NEHALEM,
  c1: NEHALEM.slice(0, 1),
  poll: [{ name: 'POLL', exit_latency_ns: 0, target_residency_ns: 0 }],
};

const K_CPUIDLE = knob_index('machine.cpuidle');
const BY_INDEX = ['nehalem', 'c1', 'poll'].map((name) => {
  knob_value_index('machine.cpuidle', name);
  return TABLES[name];
});

/** The states of the running machine, shallowest first. */
export function intel_idle_states(): readonly IdleState[] {
  return BY_INDEX[kconfig(K_CPUIDLE)];
}
