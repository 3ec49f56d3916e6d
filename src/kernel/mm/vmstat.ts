// /proc/vmstat (mm/vmstat.c vmstat_show): the VM event counters the simulation keeps, under
// their Linux names.

import { read_counter_by_name } from '../../machine/counters.ts';

/** /proc/vmstat name → the machine counter that counts it. */
const VM_EVENTS: ReadonlyArray<readonly [string, string]> = [
  ['pgalloc_normal', 'sim.vmstat.pgalloc_normal'],
  ['pgfree', 'sim.vmstat.pgfree'],
  ['pgfault', 'sim.mm.faults'],
];

// mm/vmstat.c vmstat_show
export function show_vmstat(): string {
  return VM_EVENTS.map(([name, counter]) => `${name} ${read_counter_by_name(counter)}\n`).join('');
}
