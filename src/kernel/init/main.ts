// Booting the simulated kernel (init/main.c start_kernel) on a fresh machine, and attaching
// another thread to a booted one. Importing this module loads every kernel subsystem, so each
// thread registers the same counters, functions and pending-work handlers.

import { create_machine, attach_machine, type MachineDescriptor, type MachineOptions } from '../../machine/machine.ts';
import { cpu_enter } from '../../machine/cpu.ts';
import { kconfig_install, type ResolvedConfig } from '../config.ts';
import { movable_zone_init, page_alloc_init } from '../mm/page_alloc.ts';
import { kmem_cache_init } from '../mm/slab.ts';
import { printk_init } from '../kernel/printk/printk.ts';
import { rcu_init } from '../kernel/rcu.ts';
import { smp_init } from '../kernel/smp.ts';
import { cpu_stop_init, stop_machine_init } from '../kernel/stop_machine.ts';
import { init_timers } from '../kernel/time/timer.ts';
import { workqueue_init } from '../kernel/workqueue.ts';
import { jump_label_init } from '../kernel/jump_label.ts';
import { fork_init } from '../kernel/fork.ts';
import { perf_event_init, perf_sched_events, perf_sched_events_sites } from '../kernel/events/core.ts';
import { cpuidle_init } from '../drivers/cpuidle/governors/menu.ts';
import '../arch/x86/kernel/alternative.ts';
import { sched_init } from '../kernel/sched/core.ts';
import { bpf_init } from '../kernel/bpf/syscall.ts';

export interface BootOptions extends MachineOptions {
  config: ResolvedConfig;
}

export interface BootedKernel {
  machine: MachineDescriptor;
  /** init (pid 1), current on the boot CPU when start_kernel returns. */
  init_task: number;
}

// init/main.c start_kernel: returns with the calling thread on CPU 0, running init
export function start_kernel(opts: BootOptions): BootedKernel {
  const machine = create_machine(opts);
  cpu_enter(0);
  sched_init();
  kconfig_install(opts.config);
  page_alloc_init();
  movable_zone_init();
  kmem_cache_init();
  printk_init();
  rcu_init();
  smp_init();
  stop_machine_init();
  init_timers();
  workqueue_init();
  jump_label_init((k) => (k === perf_sched_events ? perf_sched_events_sites() : k.max_sites));
  const init_task = fork_init();
  cpu_stop_init();
  perf_event_init();
  bpf_init();
  cpuidle_init(0);
  return { machine, init_task };
}

/** Map a booted machine on this thread (workers, before they enter their CPU). */
export function attach_kernel(machine: MachineDescriptor): void {
  attach_machine(machine);
  sched_init();
}
