// tmpfs files made by memfd_create (mm/memfd.c, mm/shmem.c): pages only in the page cache, none
// on a disk. ftruncate sets the size; fallocate(FALLOC_FL_PUNCH_HOLE) unmaps the range from every
// mapping (unmap_mapping_range) and frees its pages (shmem_truncate_range).

import { define_counter } from '../../machine/symbols.ts';
import { this_cpu_inc } from '../../machine/counters.ts';
import { PAGE_SIZE, vm_end, vm_pgoff, vm_start, vma_mm } from './mm_types.ts';
import { file_mapping, mapping_size_pages, mapping_vmas, set_mapping_size_pages, shmem_new_ino, truncate_inode_pages_range } from './filemap.ts';
import { zap_mapping_range } from './memory.ts';
import { FILE_SHMEM, fd_install_new, fget } from '../fs/file.ts';
import { current_mm, mmap_write_lock, mmap_write_unlock, do_mmap } from './mmap.ts';
import { EBADF, EINVAL, EMFILE, ENOMEM, EOPNOTSUPP } from '../include/uapi/asm-generic/errno-base.ts';

// include/uapi/linux/falloc.h
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;

const c_punched = define_counter('sim.shmem.punched_pages');

// mm/memfd.c SYSCALL_DEFINE2(memfd_create): a new empty tmpfs file and its fd
export function sys_memfd_create(): number {
  const ino = shmem_new_ino();
  if (ino < 0) return -ENOMEM;
  if (file_mapping(ino) === 0) return -ENOMEM;
  const fd = fd_install_new(FILE_SHMEM, ino);
  return fd < 0 ? -EMFILE : fd;
}

function shmem_ino(fd: number): number {
  const ino = fget(fd, FILE_SHMEM);
  return ino > 0 ? ino : -EBADF;
}

// fs/open.c do_sys_ftruncate → shmem_setattr: the new size (shrinking frees the pages past it)
export function sys_ftruncate(fd: number, length: number): number {
  const ino = shmem_ino(fd);
  if (ino < 0) return ino;
  if (length < 0) return -EINVAL;
  const mapping = file_mapping(ino);
  const pages = Math.ceil(length / PAGE_SIZE);
  const old = mapping_size_pages(mapping);
  set_mapping_size_pages(mapping, pages);
  if (pages < old) shmem_punch(mapping, pages, old);
  return 0;
}

// mm/shmem.c shmem_fallocate: only punching holes is modeled (allocation ahead is not)
export function sys_fallocate(fd: number, mode: number, offset: number, len: number): number {
  const ino = shmem_ino(fd);
  if (ino < 0) return ino;
  if (mode !== (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) return -EOPNOTSUPP;
  if (offset < 0 || len <= 0) return -EINVAL;
  const start = Math.ceil(offset / PAGE_SIZE);
  const end = Math.floor((offset + len) / PAGE_SIZE);
  if (end > start) shmem_punch(file_mapping(ino), start, end);
  return 0;
}

// unmap_mapping_range, then shmem_truncate_range, for page indexes [start, end)
function shmem_punch(mapping: number, start: number, end: number): void {
  for (const vma of mapping_vmas(mapping)) {
    const first = Math.max(start, vm_pgoff(vma));
    const last = Math.min(end, vm_pgoff(vma) + (vm_end(vma) - vm_start(vma)) / PAGE_SIZE);
    if (first >= last) continue;
    const at = (index: number) => vm_start(vma) + (index - vm_pgoff(vma)) * PAGE_SIZE;
    zap_mapping_range(vma_mm(vma), mapping, at(first), at(last));
  }
  const dropped = truncate_inode_pages_range(mapping, start, end);
  for (let i = 0; i < dropped; i++) this_cpu_inc(c_punched);
}

// mm/mmap.c ksys_mmap_pgoff with an fd: map a memfd
export function sys_mmap_fd(addr: number, len: number, prot: number, flags: number, fd: number, pgoff: number): number {
  const ino = shmem_ino(fd);
  if (ino < 0) return ino;
  const mm = current_mm();
  mmap_write_lock(mm);
  const ret = do_mmap(mm, ino, addr, len, prot, flags, pgoff);
  mmap_write_unlock(mm);
  return ret;
}
