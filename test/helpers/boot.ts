// Boot the simulated kernel on this thread and become a process whose address space is a
// replayed maps file: the shipped will-it-scale capture, or the 15-line test/fixtures/layouts/tiny.maps
// (a PIE with its bss and heap, ld.so, the vDSO and the stack), whose maple tree is small enough
// to work out by hand.

import { fileURLToPath } from 'node:url';
import { start_kernel } from '../../src/kernel/init/main.ts';
import { DEFAULT_PRESET, resolve_config } from '../../src/kernel/config.ts';
import { set_current } from '../../src/machine/cpu.ts';
import { kernel_clone, task_mm } from '../../src/kernel/kernel/fork.ts';
import { build_parent, maps_layout, type ParentLayout } from '../../src/runner/layout.ts';

export const TINY_MAPS = fileURLToPath(new URL('../fixtures/layouts/tiny.maps', import.meta.url));

/** The tiny layout's addresses. */
export const TINY = {
  program: 0x555555554000,
  bss: 0x555555559000,
  start_brk: 0x55555555a000,
  brk: 0x55555557b000,
  vvar: 0x7ffff7fc4000,
  stack: 0x7ffffffde000,
  vmas: 15,
};

export function boot_layout(layout: string | ParentLayout, preset: string = DEFAULT_PRESET, sets: string[] = []) {
  const config = resolve_config(preset, sets);
  start_kernel({ nr_cpus: 1, mem_mb: 128, config, clock: 'manual' });
  const task = kernel_clone(0);
  set_current(task);
  build_parent(typeof layout === 'string' ? maps_layout(layout) : layout);
  return { config, task, mm: task_mm(task) };
}
