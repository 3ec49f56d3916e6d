// Page faults (mm/memory.c), as far as the simulation has them: there are no pages or page
// tables, but the first write to anonymous memory gives its VMA an anon_vma, which is what
// later decides whether a VMA can be merged with (and what fork copies).

import { define_counter } from '../../machine/symbols.ts';
import { this_cpu_inc } from '../../machine/counters.ts';
import { down_read, up_read } from '../locking/rwsem.ts';
import { spin_lock, spin_unlock } from '../locking/spinlock.ts';
import { MM_PAGE_TABLE_LOCK, VM_SHARED, VM_WRITE, mmap_lock_addr, vm_end, vm_flags, vm_start, vma_file } from './mm_types.ts';
import { anon_vma_prepare } from './rmap.ts';
import { find_vma, find_vma_prev } from './vma.ts';
import { EFAULT } from '../include/uapi/asm-generic/errno-base.ts';


const c_faults = define_counter('sim.mm.faults');

// mm/memory.c handle_mm_fault (via do_anonymous_page / do_cow_fault): 0, or -EFAULT outside any VMA
export function handle_mm_fault(mm: number, addr: number, write: boolean): number {
  this_cpu_inc(c_faults);
  down_read(mmap_lock_addr(mm));
  try {
    const { vma, prev } = find_vma_prev(mm, addr);
    if (!vma || vm_start(vma) > addr) return -EFAULT;
    if (write && !(vm_flags(vma) & VM_WRITE)) return -EFAULT;
    // A private writable page (anonymous, or a copy of a file page) belongs to the anon_vma.
    const needs_anon_vma = write ? !(vm_flags(vma) & VM_SHARED) : !vma_file(vma);
    if (needs_anon_vma) {
      // Concurrent first faults on one VMA race to install its anon_vma; page_table_lock decides.
      spin_lock(mm + MM_PAGE_TABLE_LOCK * 4);
      anon_vma_prepare(vma, prev, find_vma(mm, vm_end(vma)));
      spin_unlock(mm + MM_PAGE_TABLE_LOCK * 4);
    }
    return 0;
  } finally {
    up_read(mmap_lock_addr(mm));
  }
}
