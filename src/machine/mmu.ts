// The CPU's page walker: x86-64 4-level paging (Intel SDM vol. 3, §4.5) over tables the kernel
// keeps in the arena. A table is one 4 KiB arena page of 512 eight-byte entries. The simulation
// splits an entry into two 32-bit words: the flags as in hardware (bit 0 present, 1 writable, ...)
// and the number of what it points to — the arena address of the next table, or for a PTE the
// user frame. The same walker serves the EPT KVM builds for a guest (guest-physical → frame).

import { frames, mem32, FRAME_WORDS } from './memory.ts';

export const PTRS_PER_TABLE = 512;
export const ENTRY_BYTES = 8;

// arch/x86/include/asm/pgtable_types.h
export const _PAGE_PRESENT = 0x001;
export const _PAGE_RW = 0x002;
export const _PAGE_USER = 0x004;
export const _PAGE_ACCESSED = 0x020;
export const _PAGE_DIRTY = 0x040;
/** Software bit 9 (_PAGE_BIT_SPECIAL): a PTE without a normal page behind it (the zero page). */
export const _PAGE_SPECIAL = 0x200;
export const _PAGE_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY;

/** A frame descriptor's tag words (the content of the 4 KiB behind the frame). */
export const FRAME_TAG_LO = 6;
export const FRAME_TAG_HI = 7;

/** Word index of entry `index` of the table at arena address `table`: flags there, the number after. */
export function entry_word(table: number, index: number): number {
  return (table >> 2) + index * 2;
}

// The four indexes of a user address (< 2^47): pgd 47..39, pud 38..30, pmd 29..21, pte 20..12.
// Page numbers pass 2^32, so the split goes through one division.
let pgd_i = 0, pud_i = 0, pmd_i = 0, pte_i = 0;
export function split_address(addr: number): void {
  const vpn = Math.floor(addr / 4096);
  const hi = Math.floor(vpn / 512);
  pte_i = vpn - hi * 512;
  pmd_i = hi & 511;
  pud_i = (hi >>> 9) & 511;
  pgd_i = hi >>> 18;
}
export function index_pgd(): number { return pgd_i; }
export function index_pud(): number { return pud_i; }
export function index_pmd(): number { return pmd_i; }
export function index_pte(): number { return pte_i; }

/**
 * Translate a user access from the root table `cr3`: the frame, or -1 when it faults (an entry not
 * present, or a write through one that is not writable). Like hardware, it sets Accessed, and
 * Dirty on a write, in the PTE.
 */
export function mmu_translate(cr3: number, addr: number, write: boolean): number {
  split_address(addr);
  let w = entry_word(cr3, pgd_i);
  if ((mem32[w] & _PAGE_PRESENT) === 0) return -1;
  w = entry_word(mem32[w + 1], pud_i);
  if ((mem32[w] & _PAGE_PRESENT) === 0) return -1;
  w = entry_word(mem32[w + 1], pmd_i);
  if ((mem32[w] & _PAGE_PRESENT) === 0) return -1;
  w = entry_word(mem32[w + 1], pte_i);
  const flags = mem32[w];
  if ((flags & _PAGE_PRESENT) === 0) return -1;
  if (write) {
    if ((flags & _PAGE_RW) === 0) return -1;
    if ((flags & (_PAGE_ACCESSED | _PAGE_DIRTY)) !== (_PAGE_ACCESSED | _PAGE_DIRTY)) mem32[w] = flags | _PAGE_ACCESSED | _PAGE_DIRTY;
  } else if ((flags & _PAGE_ACCESSED) === 0) mem32[w] = flags | _PAGE_ACCESSED;
  return mem32[w + 1];
}

/** The content tag of a frame: its low and high words. */
export function frame_tag_lo(pfn: number): number {
  return frames[pfn * FRAME_WORDS + FRAME_TAG_LO];
}
export function frame_tag_hi(pfn: number): number {
  return frames[pfn * FRAME_WORDS + FRAME_TAG_HI];
}
export function set_frame_tag(pfn: number, lo: number, hi: number): void {
  frames[pfn * FRAME_WORDS + FRAME_TAG_LO] = lo;
  frames[pfn * FRAME_WORDS + FRAME_TAG_HI] = hi;
}
