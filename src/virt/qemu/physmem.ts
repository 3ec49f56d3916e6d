// Guest RAM in the QEMU process (system/physmem.c qemu_ram_alloc, ram_block_discard_range): one
// RAMBlock, anonymous private memory or a memfd mapped shared (memory-backend-memfd).

import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../kernel/mm/mmap.ts';
import { MADV_DONTNEED } from '../../kernel/mm/madvise.ts';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from '../../kernel/mm/shmem.ts';
import { fallocate, ftruncate, madvise, memfd_create, mmap, mmap_fd } from '../../user/libc.ts';

export const TARGET_PAGE_SIZE = 4096;
export type Backend = 'anon' | 'memfd';

export interface RAMBlock {
  /** The host virtual address of guest page 0. */
  host: number;
  pages: number;
  /** The memfd, or -1 for anonymous RAM. */
  fd: number;
}

// system/physmem.c qemu_ram_alloc (qemu_anon_ram_alloc, or file_ram_alloc over the memfd)
export function qemu_ram_alloc(pages: number, backend: Backend): RAMBlock {
  const len = pages * TARGET_PAGE_SIZE;
  if (backend === 'anon') {
    const host = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0);
    if (host < 0) throw new Error('qemu_ram_alloc: cannot map guest RAM');
    return { host, pages, fd: -1 };
  }
  const fd = memfd_create();
  if (fd < 0 || ftruncate(fd, len) < 0) throw new Error('memory-backend-memfd: cannot create the memfd');
  const host = mmap_fd(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (host < 0) throw new Error('memory-backend-memfd: cannot map it');
  return { host, pages, fd };
}

// system/physmem.c ram_block_discard_range: punch a hole in file-backed RAM, then madvise the
// mapping away (for anonymous RAM the madvise alone frees it); 0 or -1
export function ram_block_discard_range(rb: RAMBlock, page: number, count: number): number {
  const offset = page * TARGET_PAGE_SIZE;
  const len = count * TARGET_PAGE_SIZE;
  if (rb.fd >= 0 && fallocate(rb.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len) < 0) return -1;
  return madvise(rb.host + offset, len, MADV_DONTNEED);
}
