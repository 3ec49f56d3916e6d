// Process exit and reaping (kernel/exit.c): do_exit gives up the task's perf events, files and address
// space and leaves a zombie; wait4 runs the child until it has exited (it is runnable on the
// parent's CPU, and the parent blocks), then reaps it.

import { mem32 } from '../../machine/memory.ts';
import { get_current } from '../../machine/cpu.ts';
import { define_counter, this_cpu_inc } from '../../machine/counters.ts';
import { T_EXIT_CODE, T_EXIT_STATE, T_MM, T_REAL_PARENT, mmput, release_task } from './fork.ts';
import { perf_event_exit_task } from './events/core.ts';
import { run_until_exit } from './sched/core.ts';
import { exit_files } from '../fs/file.ts';
import { ECHILD } from '../include/uapi/asm-generic/errno-base.ts';

const EXIT_ZOMBIE = 1;

const nr_exits = define_counter('sim.exit.processes');

// kernel/exit.c do_exit (exit_group for a single-threaded process)
export function do_exit(code: number): void {
  const task = get_current();
  const t = task >> 2;
  if (mem32[t + T_EXIT_STATE] === EXIT_ZOMBIE) return;
  this_cpu_inc(nr_exits);
  perf_event_exit_task(task);
  exit_files(task);
  const mm = mem32[t + T_MM];
  mem32[t + T_MM] = 0;
  if (mm) mmput(mm);
  mem32[t + T_EXIT_CODE] = code;
  mem32[t + T_EXIT_STATE] = EXIT_ZOMBIE;
}

/** A child that returns from its user code without exiting exits with 0, as from main(). */
function exit_if_alive(task: number): void {
  if (mem32[(task >> 2) + T_EXIT_STATE] !== EXIT_ZOMBIE) do_exit(0);
}

// kernel/exit.c sys_wait4 for one child: its exit status, or -ECHILD
export function sys_wait4(child: number): number {
  const t = child >> 2;
  if (mem32[t + T_REAL_PARENT] !== get_current()) return -ECHILD;
  if (mem32[t + T_EXIT_STATE] !== EXIT_ZOMBIE && !run_until_exit(child, exit_if_alive)) return -ECHILD;
  const status = (mem32[t + T_EXIT_CODE] & 0xff) << 8;
  release_task(child);
  return status;
}
