// GNU time -v around the test, as lkp records it (bin/run-test, programs/time/parse): the
// simulated processes' rusage (user and system time from the tick accounting, context switches,
// minor faults), the run's wall-clock time, and what GNU time derives from them. The background
// tasks (the perf loop of perf_stat_spawn) are processes of the machine and count too, though a
// real perf would run outside `time`; user and system time cover the points (start to stop),
// elapsed the whole run. Maximum RSS needs user pages, which the simulated mm does not have yet,
// so it is not reported.

import type { Monitor, MonitorInput } from './monitor.ts';

/** GNU time prints seconds with two decimals, truncated (tv_usec / 10000); from whole ns. */
const centiseconds = (ns: number) => Math.floor(Math.round(ns) / 1e7) / 100;

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
  const elapsed_ns = input.elapsed_s * 1e9;
  const ms = (ns: number) => Math.floor(Math.round(ns) / 1e6);
  return {
    'time.user_time': centiseconds(utime),
    'time.system_time': centiseconds(stime),
    // time.c: %P, (user + system) × 100 / elapsed in whole ms, whole percent
    'time.percent_of_cpu_this_job_got': ms(elapsed_ns) > 0 ? Math.floor(((ms(utime) + ms(stime)) * 100) / ms(elapsed_ns)) : 0,
    'time.elapsed_time': centiseconds(elapsed_ns),
    'time.elapsed_time.max': centiseconds(elapsed_ns),
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
