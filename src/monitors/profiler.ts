// The perf-profile monitor's sampler in a task worker: V8's CPU profiler on the worker's own
// thread (node:inspector), started before the task's loop and stopped after it.

import { Session } from 'node:inspector/promises';
import { fold_profile, type CpuProfile } from './v8_profile.ts';
import type { FoldedStacks } from './perf_profile.ts';

let session: Session | null = null;

/** Start sampling this thread every `interval_us`; false if the profiler is not available. */
export async function start_profiler(interval_us: number): Promise<boolean> {
  try {
    if (!session) {
      session = new Session();
      session.connect();
    }
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: interval_us });
    await session.post('Profiler.start');
    return true;
  } catch {
    return false;
  }
}

/** Stop sampling; the samples as folded stacks with Linux frame names. */
export async function stop_profiler(): Promise<FoldedStacks> {
  const { profile } = (await session!.post('Profiler.stop')) as { profile: CpuProfile };
  await session!.post('Profiler.disable');
  return fold_profile(profile);
}
