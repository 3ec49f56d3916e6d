// Changing the protection of a range (mm/mprotect.c, Linux 6.7): each VMA in the range gets the
// new access bits, merged into a neighbour with the same flags when it can be, split off
// otherwise. ld.so does this to every object it loads: the RELRO part of the data segment
// becomes read-only after relocation, the holes between segments PROT_NONE.

import { define_counter } from '../../machine/symbols.ts';
import { this_cpu_inc } from '../../machine/counters.ts';
import {
  PAGE_ALIGN, PAGE_SIZE, VM_ACCOUNT, VM_EXEC, VM_NORESERVE, VM_READ, VM_SHARED, VM_WRITE, offset_in_page, set_vm_flags,
  vm_end, vm_flags, vm_pgoff, vm_start, vma_anon_vma, vma_file, vma_mm,
} from './mm_types.ts';
import { PROT_EXEC, PROT_READ, PROT_WRITE, current_mm, mmap_write_lock, mmap_write_unlock, vm_stat_account } from './mmap.ts';
import { EACCES, EINVAL, ENOMEM } from '../include/uapi/asm-generic/errno-base.ts';
import { VmaIterator, split_vma, vma_find, vma_iter_end, vma_merge, vma_prev } from './vma.ts';
import { change_protection } from './memory.ts';

const c_mprotect = define_counter('sim.mm.mprotect');

const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;

// include/linux/mman.h calc_vm_prot_bits
function calc_vm_prot_bits(prot: number): number {
  return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0);
}

/** The VMA mprotect_fixup leaves as `*pprev`, for the next VMA of the range. */
let fixup_prev = 0;

// mm/mprotect.c mprotect_fixup: give [start, end) of vma the flags newflags; 0 or -errno
function mprotect_fixup(vmi: VmaIterator, vma: number, prev: number, start: number, end: number, newflags: number): number {
  const mm = vma_mm(vma);
  const oldflags = vm_flags(vma);
  const nrpages = (end - start) / PAGE_SIZE;
  if (newflags === oldflags) {
    fixup_prev = vma;
    return 0;
  }
  // Making a private mapping writable charges it; an anonymous one never faulted is uncharged again.
  if (newflags & VM_WRITE) {
    if (!(oldflags & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE))) newflags |= VM_ACCOUNT;
  } else if (oldflags & VM_ACCOUNT && !vma_file(vma) && !vma_anon_vma(vma)) {
    newflags &= ~VM_ACCOUNT;
  }
  // First try to merge with the previous and/or next VMA.
  const pgoff = vm_pgoff(vma) + (start - vm_start(vma)) / PAGE_SIZE;
  const merged = vma_merge(vmi, mm, prev, start, end, newflags, vma_anon_vma(vma), vma_file(vma), pgoff);
  if (merged) {
    vma = merged;
  } else {
    if (start !== vm_start(vma)) {
      const err = split_vma(vmi, vma, start, true);
      if (err) return err;
    }
    if (end !== vm_end(vma)) {
      const err = split_vma(vmi, vma, end, false);
      if (err) return err;
    }
  }
  fixup_prev = vma;
  set_vm_flags(vma, newflags);
  change_protection(mm, start, end, newflags);
  vm_stat_account(mm, oldflags, -nrpages);
  vm_stat_account(mm, newflags, nrpages);
  return 0;
}

const mprotect_vmi = new VmaIterator();

// mm/mprotect.c do_mprotect_pkey (without protection keys or PROT_GROWSDOWN/UP): 0 or -errno
export function sys_mprotect(start: number, len: number, prot: number): number {
  this_cpu_inc(c_mprotect);
  if (offset_in_page(start)) return -EINVAL;
  if (!len) return 0;
  len = PAGE_ALIGN(len);
  const end = start + len;
  if (end <= start) return -ENOMEM;
  const mm = current_mm();
  mmap_write_lock(mm);
  try {
    const vmi = mprotect_vmi.init(mm, start);
    let vma = vma_find(vmi, end);
    if (!vma || vm_start(vma) > start) return -ENOMEM;
    let prev = vma_prev(vmi);
    if (start > vm_start(vma)) prev = vma;
    let nstart = start;
    let tmp = vm_start(vma);
    for (vma = vma_find(vmi, end); vma; vma = vma_find(vmi, end)) {
      if (vm_start(vma) !== tmp) return -ENOMEM;
      const newflags = calc_vm_prot_bits(prot) | (vm_flags(vma) & ~VM_ACCESS_FLAGS);
      // newflags >> 4 shifts VM_MAY* in place of VM_*: no access the mapping may not have.
      if (newflags & ~(newflags >> 4) & VM_ACCESS_FLAGS) return -EACCES;
      tmp = Math.min(vm_end(vma), end);
      const err = mprotect_fixup(vmi, vma, prev, nstart, tmp, newflags);
      if (err) return err;
      prev = fixup_prev;
      tmp = vma_iter_end(vmi);
      nstart = tmp;
    }
    return tmp < end ? -ENOMEM : 0;
  } finally {
    mmap_write_unlock(mm);
  }
}
