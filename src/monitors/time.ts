// GNU time -v around the test, as lkp records it (bin/run-test, programs/time/parse): the
// simulated processes' rusage (user and system time from the tick accounting, context switches,
// minor faults), the run's wall-clock time, and what GNU time derives from them. Maximum RSS
// needs user pages, which the simulated mm does not have yet, so it is not reported.

import type { Monitor, MonitorInput } from './monitor.ts';

/** GNU time prints seconds with two decimals, truncated (tv_usec / 10000). */
const centiseconds = (s: number) => Math.floor(s * 100) / 100;

export function time_stats(input: MonitorInput): Record<string, number> {
  let utime = 0;
  let stime = 0;
  let nvcsw = 0;
  let nivcsw = 0;
  let minflt = 0;
  for (const p of input.points) {
    utime += p.cputime.utime;
    stime += p.cputime.stime;
    nvcsw += p.counters.get('sim.sched.nvcsw') ?? 0;
    nivcsw += p.counters.get('sim.sched.nivcsw') ?? 0;
    minflt += p.counters.get('sim.mm.faults') ?? 0;
  }
  const user_s = centiseconds(utime / 1e9);
  const system_s = centiseconds(stime / 1e9);
  const elapsed_s = centiseconds(input.elapsed_s);
  return {
    'time.user_time': user_s,
    'time.system_time': system_s,
    // time.c: %P, (user + system) × 100 / elapsed in whole percent
    'time.percent_of_cpu_this_job_got': elapsed_s > 0 ? Math.floor(((user_s + system_s) * 100) / elapsed_s) : 0,
    'time.elapsed_time': elapsed_s,
    'time.elapsed_time.max': elapsed_s,
    'time.minor_page_faults': minflt,
    'time.voluntary_context_switches': nvcsw,
    'time.involuntary_context_switches': nivcsw,
    'time.page_size': 4096,
  };
}

export const time: Monitor = {
  name: 'time',
  description: "GNU time -v of the simulated processes: user/system time, context switches, faults, elapsed",
  default: true,
  stats: time_stats,
};
