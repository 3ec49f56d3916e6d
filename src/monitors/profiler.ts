// The perf-profile monitor's sampler in a task worker: V8's CPU profiler on the worker's own
// thread (node:inspector), started before the task's loop and stopped after it.
//
// V8's profiler charges a function TurboFan inlined to its caller (Node 20: a loop calling a
// small function shows all its time in the loop), so profiling turns TurboFan's inlining off,
// as the first thing a profiled worker does: every function is then a frame of its own, as
// perf sees the kernel's. The flag is the process's (V8 has no per-isolate flags), which suits
// a run that profiles all its tasks; it slows the code down, one more way the profiler perturbs.

import { Session } from 'node:inspector/promises';
import { setFlagsFromString } from 'node:v8';
import { fold_profile, type CpuProfile } from './v8_profile.ts';
import type { FoldedStacks } from './perf_profile.ts';

let session: Session | null = null;

/** Start sampling this thread every `interval_us` (throws when the profiler cannot start). */
export async function start_profiler(interval_us: number): Promise<void> {
  if (!session) {
    setFlagsFromString('--no-turbo-inlining');
    session = new Session();
    session.connect();
  }
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: interval_us });
  await session.post('Profiler.start');
}

/** Stop sampling; the samples as folded stacks with Linux frame names. The profiler is off after it, whatever fails. */
export async function stop_profiler(): Promise<FoldedStacks> {
  try {
    const { profile } = (await session!.post('Profiler.stop')) as { profile: CpuProfile };
    return fold_profile(profile);
  } finally {
    await session!.post('Profiler.disable');
  }
}
