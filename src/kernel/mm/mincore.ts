// mincore(2) (mm/mincore.c) for one page: is it resident — mapped in the caller's page tables, or
// (for a file) in the page cache?

import { current_mm } from './mmap.ts';
import { find_vma } from './vma.ts';
import { PAGE_SIZE, vm_pgoff, vm_start, vma_file } from './mm_types.ts';
import { follow_page } from './memory.ts';
import { file_mapping, find_get_page } from './filemap.ts';
import { put_page } from './page_alloc.ts';
import { ENOMEM } from '../include/uapi/asm-generic/errno-base.ts';

// mm/mincore.c mincore_page / mincore_pte_range: 1 resident, 0 not, -ENOMEM outside any VMA
export function sys_mincore_page(addr: number): number {
  const mm = current_mm();
  const vma = find_vma(mm, addr);
  if (!vma || vm_start(vma) > addr) return -ENOMEM;
  if (follow_page(mm, addr) >= 0) return 1;
  if (!vma_file(vma)) return 0;
  const mapping = file_mapping(vma_file(vma));
  const pfn = mapping ? find_get_page(mapping, vm_pgoff(vma) + (addr - vm_start(vma)) / PAGE_SIZE) : -1;
  if (pfn < 0) return 0;
  put_page(pfn);
  return 1;
}
