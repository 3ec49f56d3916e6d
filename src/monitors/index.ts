// The monitors `--monitor` chooses from, and which run by default.

import type { Monitor } from './monitor.ts';
import { mpstat } from './mpstat.ts';
import { vmstat } from './vmstat.ts';
import { time } from './time.ts';
import { proc_vmstat } from './proc_vmstat.ts';
import { perf_profile } from './perf_profile.ts';

export const MONITORS: readonly Monitor[] = [mpstat, vmstat, time, proc_vmstat, perf_profile];

export const DEFAULT_MONITORS: readonly string[] = MONITORS.filter((m) => m.default).map((m) => m.name);

export function find_monitor(name: string): Monitor | undefined {
  return MONITORS.find((m) => m.name === name);
}
