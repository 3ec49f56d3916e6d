// The page cache (mm/filemap.c, include/linux/fs.h struct address_space): each file's pages by
// index, in a two-level table standing in for the xarray (8192 leaves of 1024 slots: files up to
// 32 GiB). A file is the opaque id a VMA carries; ids from SHMEM_INO_BASE up are shmem inodes
// (memfd_create). A regular file's bytes come from disk: a page read in gets a tag made from its
// inode and index. A shmem page starts zero and lives only in the cache.

import { PAGE_SIZE, frames, mem32, memset0 } from '../../machine/memory.ts';
import { set_frame_tag } from '../../machine/mmu.ts';
import { define_global } from '../../machine/symbols.ts';
import { spin_lock, spin_lock_init, spin_unlock } from '../locking/spinlock.ts';
import { F_INDEX, F_MAPPING, F_FLAGS, PG_swapbacked, alloc_movable_page, alloc_pages, frame_desc, get_page, put_page } from './page_alloc.ts';
import { define_kmem_cache, kmem_cache_zalloc } from './slab.ts';

export const MAX_INO = 16384;
export const SHMEM_INO_BASE = 4096;
const ROOT_ORDER = 3; // 8192 leaf pointers
const ROOT_SLOTS = (PAGE_SIZE << ROOT_ORDER) / 4;
const LEAF_SLOTS = PAGE_SIZE / 4;
/** A shmem file's VMAs (i_mmap) are kept for hole punching; more mappings than this fail with -ENOMEM. */
export const MAX_FILE_MMAPS = 16;

// struct address_space
const AS_LOCK = 0; // i_pages lock, 2 words
const AS_INO = 2;
const AS_SHMEM = 3;
const AS_NRPAGES = 4;
const AS_ROOT = 5;
const AS_SIZE_PAGES = 6; // i_size in pages (shmem: set by ftruncate)
const AS_NR_MMAP = 7;
const AS_MMAP = 8;
const AS_SIZE = (AS_MMAP + MAX_FILE_MMAPS) * 4;
const address_space_cachep = define_kmem_cache('address_space', AS_SIZE);
const inode_table = define_global('inode_table', MAX_INO * 4 + 4);
const NEXT_SHMEM_INO = MAX_INO;

const as = (mapping: number, field: number) => (mapping >> 2) + field;

export function is_shmem_ino(ino: number): boolean {
  return ino >= SHMEM_INO_BASE && ino < MAX_INO;
}

/** The address_space of file `ino`, made on first use; 0 when out of memory. */
export function file_mapping(ino: number): number {
  if (ino <= 0 || ino >= MAX_INO) return 0; // the special mappings (vdso, vvar) have no page cache
  const slot = (inode_table.addr >> 2) + ino;
  let mapping = mem32[slot];
  if (mapping !== 0) return mapping;
  mapping = kmem_cache_zalloc(address_space_cachep);
  if (mapping === 0) return 0;
  const root = alloc_pages(ROOT_ORDER);
  if (root === 0) return 0;
  memset0(root, PAGE_SIZE << ROOT_ORDER);
  spin_lock_init(mapping + AS_LOCK * 4, 'i_pages');
  mem32[as(mapping, AS_INO)] = ino;
  mem32[as(mapping, AS_SHMEM)] = is_shmem_ino(ino) ? 1 : 0;
  mem32[as(mapping, AS_ROOT)] = root;
  const raced = Atomics.compareExchange(mem32, slot, 0, mapping);
  return raced === 0 ? mapping : raced; // (a lost race leaks one record; only tests race here)
}

// mm/shmem.c shmem_get_inode: a new shmem inode number
export function shmem_new_ino(): number {
  const ino = SHMEM_INO_BASE + Atomics.add(mem32, (inode_table.addr >> 2) + NEXT_SHMEM_INO, 1);
  return ino < MAX_INO ? ino : -1;
}

export function mapping_ino(mapping: number): number {
  return mem32[as(mapping, AS_INO)];
}

export function mapping_is_shmem(mapping: number): boolean {
  return mem32[as(mapping, AS_SHMEM)] === 1;
}

export function mapping_size_pages(mapping: number): number {
  return mem32[as(mapping, AS_SIZE_PAGES)];
}

export function set_mapping_size_pages(mapping: number, pages: number): void {
  mem32[as(mapping, AS_SIZE_PAGES)] = pages;
}

/** Word index of the slot for `index` (its leaf made when `create`), or -1. */
function slot_of(mapping: number, index: number, create: boolean): number {
  const hi = Math.floor(index / LEAF_SLOTS);
  if (hi >= ROOT_SLOTS) return -1;
  const root = mem32[as(mapping, AS_ROOT)];
  let leaf = mem32[(root >> 2) + hi];
  if (leaf === 0) {
    if (!create) return -1;
    leaf = alloc_pages(0);
    if (leaf === 0) return -1;
    memset0(leaf, PAGE_SIZE);
    mem32[(root >> 2) + hi] = leaf;
  }
  return (leaf >> 2) + (index - hi * LEAF_SLOTS);
}

// mm/filemap.c filemap_get_folio: the cached page at `index` with a reference, or -1
export function find_get_page(mapping: number, index: number): number {
  spin_lock(mapping + AS_LOCK * 4);
  const slot = slot_of(mapping, index, false);
  const pfn = slot < 0 ? -1 : mem32[slot] - 1;
  if (pfn >= 0) get_page(pfn);
  spin_unlock(mapping + AS_LOCK * 4);
  return pfn;
}

/** A regular file's bytes on disk at `index`: a nonzero tag from its inode and index (splitmix-style). */
function disk_tag(ino: number, index: number): [number, number] {
  let x = Math.imul(ino ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  const hi = Math.imul(x ^ (x >>> 15), 0x846ca68b) | 0x1;
  return [x | 0, hi];
}

/**
 * mm/filemap.c filemap_fault / mm/shmem.c shmem_get_folio(SGP_CACHE): the page at `index`, added to
 * the cache when missing (zeroed for shmem, read from disk otherwise), with a reference for the
 * caller; -1 when out of memory or past the cache's size.
 */
export function filemap_get_page(mapping: number, index: number): number {
  const lock = mapping + AS_LOCK * 4;
  spin_lock(lock);
  const slot = slot_of(mapping, index, true);
  if (slot < 0) {
    spin_unlock(lock);
    return -1;
  }
  let pfn = mem32[slot] - 1;
  if (pfn < 0) {
    pfn = alloc_movable_page();
    if (pfn < 0) {
      spin_unlock(lock);
      return -1;
    }
    const d = frame_desc(pfn);
    frames[d + F_MAPPING] = mapping;
    frames[d + F_INDEX] = index;
    if (mapping_is_shmem(mapping)) {
      frames[d + F_FLAGS] |= PG_swapbacked;
      set_frame_tag(pfn, 0, 0); // shmem_alloc_folio + clear_highpage
    } else {
      const [lo, hi] = disk_tag(mapping_ino(mapping), index);
      set_frame_tag(pfn, lo, hi);
    }
    mem32[slot] = pfn + 1; // the cache's reference is the allocation's
    mem32[as(mapping, AS_NRPAGES)]++;
  }
  get_page(pfn);
  spin_unlock(lock);
  return pfn;
}

// mm/truncate.c truncate_inode_pages_range (via shmem_undo_range): drop [start, end) from the
// cache; pages still mapped keep their PTEs' references until those go. Returns the pages dropped.
export function truncate_inode_pages_range(mapping: number, start: number, end: number): number {
  const lock = mapping + AS_LOCK * 4;
  let dropped = 0;
  for (let index = start; index < end; index++) {
    spin_lock(lock);
    const slot = slot_of(mapping, index, false);
    const pfn = slot < 0 ? -1 : mem32[slot] - 1;
    if (pfn >= 0) {
      mem32[slot] = 0;
      mem32[as(mapping, AS_NRPAGES)]--;
      frames[frame_desc(pfn) + F_MAPPING] = 0;
    }
    spin_unlock(lock);
    if (pfn >= 0) {
      put_page(pfn);
      dropped++;
    }
    // Skip a missing leaf whole.
    if (slot < 0) index = (Math.floor(index / LEAF_SLOTS) + 1) * LEAF_SLOTS - 1;
  }
  return dropped;
}

// mm/mmap.c __vma_link_file / unlink_file_vma: a shmem file's VMAs (i_mmap), for unmap_mapping_range
export function vma_link_file(ino: number, vma: number): boolean {
  if (!is_shmem_ino(ino)) return true;
  const mapping = file_mapping(ino);
  if (mapping === 0) return false;
  spin_lock(mapping + AS_LOCK * 4);
  const n = mem32[as(mapping, AS_NR_MMAP)];
  const ok = n < MAX_FILE_MMAPS;
  if (ok) {
    mem32[as(mapping, AS_MMAP + n)] = vma;
    mem32[as(mapping, AS_NR_MMAP)] = n + 1;
  }
  spin_unlock(mapping + AS_LOCK * 4);
  return ok;
}

export function unlink_file_vma(ino: number, vma: number): void {
  if (!is_shmem_ino(ino)) return;
  const mapping = mem32[(inode_table.addr >> 2) + ino];
  if (mapping === 0) return;
  spin_lock(mapping + AS_LOCK * 4);
  const n = mem32[as(mapping, AS_NR_MMAP)];
  for (let i = 0; i < n; i++) {
    if (mem32[as(mapping, AS_MMAP + i)] !== vma) continue;
    mem32[as(mapping, AS_MMAP + i)] = mem32[as(mapping, AS_MMAP + n - 1)];
    mem32[as(mapping, AS_NR_MMAP)] = n - 1;
    break;
  }
  spin_unlock(mapping + AS_LOCK * 4);
}

/** The VMAs mapping a shmem file now (a copy: the caller zaps them without the lock). */
export function mapping_vmas(mapping: number): number[] {
  spin_lock(mapping + AS_LOCK * 4);
  const out: number[] = [];
  for (let i = 0; i < mem32[as(mapping, AS_NR_MMAP)]; i++) out.push(mem32[as(mapping, AS_MMAP + i)]);
  spin_unlock(mapping + AS_LOCK * 4);
  return out;
}
