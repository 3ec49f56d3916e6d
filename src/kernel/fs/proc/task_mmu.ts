// /proc/PID/status memory lines and /proc/PID/clear_refs (fs/proc/task_mmu.c): what ps, top and
// QEMU's users read as RSS, from the mm's counters.

import { MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS } from '../../mm/mm_types.ts';
import { get_mm_counter, get_mm_hiwater_rss, get_mm_rss, reset_mm_hiwater_rss } from '../../mm/memory.ts';
import { EINVAL } from '../../include/uapi/asm-generic/errno-base.ts';

const KB_PER_PAGE = 4;

// fs/proc/task_mmu.c task_mem: the VmHWM … VmSwap lines (the rss-related part), in kB
export function task_mem(mm: number): string {
  const kb = (pages: number) => `${String(pages * KB_PER_PAGE).padStart(8)} kB`;
  return [
    `VmHWM:\t${kb(get_mm_hiwater_rss(mm))}`,
    `VmRSS:\t${kb(get_mm_rss(mm))}`,
    `RssAnon:\t${kb(get_mm_counter(mm, MM_ANONPAGES))}`,
    `RssFile:\t${kb(get_mm_counter(mm, MM_FILEPAGES))}`,
    `RssShmem:\t${kb(get_mm_counter(mm, MM_SHMEMPAGES))}`,
    `VmSwap:\t${kb(get_mm_counter(mm, MM_SWAPENTS))}`,
  ].join('\n');
}

// include/uapi: enum clear_refs_types; 5 resets the peak RSS (4.0+)
export const CLEAR_REFS_MM_HIWATER_RSS = 5;

// fs/proc/task_mmu.c clear_refs_write: only the hiwater reset is modeled
export function clear_refs_write(mm: number, type: number): number {
  if (type !== CLEAR_REFS_MM_HIWATER_RSS) return -EINVAL;
  reset_mm_hiwater_rss(mm);
  return 0;
}
