// User-mode loads and stores of whole pages — what memset, memcpy and buffer_is_zero do to guest
// RAM — through the CPU's page walker. A missing or read-only translation raises the page fault
// and the access restarts, as an instruction does. A page's bytes are its 64-bit content tag.

import { mem32 } from '../machine/memory.ts';
import { frame_tag_hi, frame_tag_lo, mmu_translate, set_frame_tag } from '../machine/mmu.ts';
import { MM_PGD } from '../kernel/mm/mm_types.ts';
import { current_mm } from '../kernel/mm/mmap.ts';
import { exc_page_fault } from '../kernel/arch/x86/mm/fault.ts';

/** The tag the last load_page read (the registers a load fills). */
export let loaded_lo = 0;
export let loaded_hi = 0;

function translate(addr: number, write: boolean): number {
  const mm = current_mm();
  for (;;) {
    const pfn = mmu_translate(mem32[(mm >> 2) + MM_PGD], addr, write);
    if (pfn >= 0) return pfn;
    if (exc_page_fault(mm, addr, write) !== 0) return -1; // SIGSEGV (or the OOM killer)
  }
}

/** Read the page at addr into loaded_lo/hi; false when the access kills the task. */
export function load_page(addr: number): boolean {
  const pfn = translate(addr, false);
  if (pfn < 0) return false;
  loaded_lo = frame_tag_lo(pfn);
  loaded_hi = frame_tag_hi(pfn);
  return true;
}

/** Write the whole page at addr (memset, memcpy of a page): its content becomes the tag. */
export function store_page(addr: number, lo: number, hi: number): boolean {
  const pfn = translate(addr, true);
  if (pfn < 0) return false;
  set_frame_tag(pfn, lo, hi);
  return true;
}

/** util/bufferiszero.c buffer_is_zero over one page: it reads the page. */
export function page_is_zero(addr: number): boolean {
  if (!load_page(addr)) throw new Error(`SIGSEGV reading ${addr.toString(16)}`);
  return loaded_lo === 0 && loaded_hi === 0;
}
