// madvise(2) (mm/madvise.c), the advice QEMU gives guest RAM: MADV_DONTNEED drops pages (the
// next touch sees zeroes, or the file's page-cache content), MADV_WILLNEED is a hint.

import { define_counter } from '../../machine/symbols.ts';
import { this_cpu_inc } from '../../machine/counters.ts';
import { PAGE_SIZE, VM_LOCKED, VM_PFNMAP, offset_in_page, vm_end, vm_flags, vm_start } from './mm_types.ts';
import { current_mm, mmap_read_lock, mmap_read_unlock } from './mmap.ts';
import { find_vma } from './vma.ts';
import { zap_page_range } from './memory.ts';
import { kconfig, knob_index } from '../config.ts';
import { EINVAL, ENOMEM } from '../include/uapi/asm-generic/errno-base.ts';

export const MADV_NORMAL = 0;
export const MADV_WILLNEED = 3;
export const MADV_DONTNEED = 4;
/** (VM_HUGETLB is 0x400000; the simulation has no hugetlbfs.) */
const VM_HUGETLB = 0x400000;

const c_madvise = define_counter('sim.mm.madvise');
const K_DONTNEED_FAILS = knob_index('mm.madvise_dontneed_fails');

// mm/madvise.c madvise_dontneed_single_vma (can_madv_lru_vma): locked, huge-TLB and PFN-mapped
// VMAs refuse; the knob makes every VMA refuse (fault injection)
function madvise_dontneed(mm: number, vma: number, start: number, end: number): number {
  if (vm_flags(vma) & (VM_LOCKED | VM_HUGETLB | VM_PFNMAP) || kconfig(K_DONTNEED_FAILS)) return -EINVAL;
  zap_page_range(mm, start, end);
  return 0;
}

// mm/madvise.c do_madvise: 0, or -errno (-ENOMEM when part of the range is not mapped)
export function sys_madvise(start: number, len: number, behavior: number): number {
  this_cpu_inc(c_madvise);
  if (offset_in_page(start)) return -EINVAL;
  if (behavior !== MADV_DONTNEED && behavior !== MADV_WILLNEED && behavior !== MADV_NORMAL) return -EINVAL;
  const end = start + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  if (end === start) return 0;
  const mm = current_mm();
  mmap_read_lock(mm);
  let unmapped_error = 0;
  let ret = 0;
  for (let addr = start; addr < end;) {
    const vma = find_vma(mm, addr);
    if (!vma || vm_start(vma) >= end) {
      unmapped_error = -ENOMEM;
      break;
    }
    if (vm_start(vma) > addr) unmapped_error = -ENOMEM;
    const from = Math.max(addr, vm_start(vma));
    const to = Math.min(end, vm_end(vma));
    if (behavior === MADV_DONTNEED) ret = madvise_dontneed(mm, vma, from, to);
    if (ret) break;
    addr = to;
  }
  mmap_read_unlock(mm);
  return ret || unmapped_error;
}
