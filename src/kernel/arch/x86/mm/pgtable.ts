// Page-table pages (arch/x86/mm/pgtable.c pgd_alloc, pte_alloc_one; mm/memory.c __pte_alloc and
// friends): each level is one zeroed arena page. The p4d level is folded (4-level paging).

import { PAGE_SIZE, memset0, mem32 } from '../../../../machine/memory.ts';
import { PTRS_PER_TABLE, _PAGE_PRESENT, _PAGE_TABLE, entry_word } from '../../../../machine/mmu.ts';
import { define_counter } from '../../../../machine/symbols.ts';
import { this_cpu_inc } from '../../../../machine/counters.ts';
import { alloc_pages, free_pages } from '../../../mm/page_alloc.ts';
import { spin_lock, spin_unlock } from '../../../locking/spinlock.ts';
import { MM_PGD } from '../../../mm/mm_types.ts';

const c_pgtable_alloc = define_counter('sim.mm.pgtable_alloc');

function table_alloc(): number {
  const page = alloc_pages(0);
  if (page === 0) return 0;
  memset0(page, PAGE_SIZE);
  this_cpu_inc(c_pgtable_alloc);
  return page;
}

/** A zeroed table page (also KVM's EPT root). */
export function table_alloc_root(): number {
  return table_alloc();
}

// arch/x86/mm/pgtable.c pgd_alloc (kernel/fork.c mm_alloc_pgd): the mm's root table
export function mm_alloc_pgd(mm: number): boolean {
  const pgd = table_alloc();
  mem32[(mm >> 2) + MM_PGD] = pgd;
  return pgd !== 0;
}

/**
 * mm/memory.c __pud_alloc/__pmd_alloc/__pte_alloc: the table below entry `index` of `table`, made
 * when missing; 0 when out of memory. A racing fault may populate it first: `lock` (page_table_lock) decides.
 */
export function table_alloc_below(lock: number, table: number, index: number): number {
  const w = entry_word(table, index);
  if (mem32[w] & _PAGE_PRESENT) return mem32[w + 1];
  const fresh = table_alloc();
  if (fresh === 0) return 0;
  spin_lock(lock);
  if (mem32[w] & _PAGE_PRESENT) {
    spin_unlock(lock);
    free_pages(fresh, 0);
    return mem32[w + 1];
  }
  mem32[w + 1] = fresh;
  mem32[w] = _PAGE_TABLE;
  spin_unlock(lock);
  return fresh;
}

/** The table below a present entry, or 0. */
export function table_below(table: number, index: number): number {
  const w = entry_word(table, index);
  return mem32[w] & _PAGE_PRESENT ? mem32[w + 1] : 0;
}

// mm/memory.c free_pgtables + arch pgd_free (exit_mmap): every table of the mm, the root last.
// munmap leaves the tables of the range it emptied in place until exit (free_pgd_range's
// floor/ceiling rule is not modeled).
export function free_all_pgtables(mm: number): void {
  const pgd = mem32[(mm >> 2) + MM_PGD];
  if (pgd === 0) return;
  free_level(pgd, 3);
  mem32[(mm >> 2) + MM_PGD] = 0;
}

function free_level(table: number, level: number): void {
  if (level > 0) {
    for (let i = 0; i < PTRS_PER_TABLE; i++) {
      const below = table_below(table, i);
      if (below) free_level(below, level - 1);
    }
  }
  free_pages(table, 0);
}
