// RAM migration (migration/ram.c; vl.c's ram_save_live/ram_load in 2009). Source: every page
// starts dirty, KVM logs the guest's writes, each pass sends the dirty pages — a zero page as
// addr|COMPRESS + 1 byte, any other as addr|PAGE + 4096 bytes. Destination: ram_load writes them,
// and what it does with a zero page is what changed between releases (ZeroPageLoad).

import { kvm_enable_dirty_log, kvm_get_dirty_log } from '../../../kernel/virt/kvm/kvm_main.ts';
import { MADV_DONTNEED } from '../../../kernel/mm/madvise.ts';
import { madvise, mincore_page } from '../../../user/libc.ts';
import { loaded_hi, loaded_lo, page_is_zero, store_page } from '../../../user/mem.ts';
import { TARGET_PAGE_SIZE, ram_block_discard_range, type RAMBlock } from '../physmem.ts';
import { NORMAL_PAGE_BYTES, QEMUFile, RAM_SAVE_FLAG_COMPRESS, RAM_SAVE_FLAG_EOS, RAM_SAVE_FLAG_PAGE, ZERO_PAGE_BYTES } from './qemu-file.ts';

/**
 * How the source decides a page is zero: `read` reads it (is_dup_page, buffer_is_zero: QEMU);
 * the thread's proposals: `mincore` sends a non-resident page as zero unread, `nonzero_bitmap`
 * sends unread a page ballooning cleared and no write has set since.
 */
export type ZeroPageDetect = 'read' | 'mincore' | 'nonzero_bitmap';
/**
 * The destination's zero page: `memset` (before 30868442a), `madvise` (30868442a: instead of the
 * memset), `memset_madvise` (779c6befc), `check_memset` (ram_handle_zero: memset unless
 * buffer_is_zero), `check_madvise` (the 2026 proposal: discard instead of reading).
 */
export type ZeroPageLoad = 'memset' | 'madvise' | 'memset_madvise' | 'check_memset' | 'check_madvise';

export interface RamSaveState {
  rb: RAMBlock;
  kvm: number;
  f: QEMUFile;
  /** The migration bitmap (one bit per page; QEMU's, shared by its threads). */
  bitmap: Int32Array;
  /** The NONZERO bits of nonzero_bitmap: cleared by ballooning, set by a logged write. */
  nonzero: Int32Array;
  detect: ZeroPageDetect;
  /** The link's modeled clock (ns) and speed. */
  clock: Float64Array;
  bytes_per_ns: number;
  pages_zero: number;
  pages_normal: number;
  bytes: number;
}

function send(st: RamSaveState, page: number, flags: number, lo: number, hi: number, bytes: number): void {
  st.f.put(page, flags, lo, hi);
  st.bytes += bytes;
  st.clock[0] += bytes / st.bytes_per_ns;
}

function known_zero(st: RamSaveState, page: number): boolean {
  if (st.detect === 'mincore') return mincore_page(st.rb.host + page * TARGET_PAGE_SIZE) === 0;
  if (st.detect === 'nonzero_bitmap') return (st.nonzero[page >>> 5] & (1 << (page & 31))) === 0;
  return false;
}

// ram_save_block / ram_save_target_page: one dirty page onto the stream
function ram_save_page(st: RamSaveState, page: number): void {
  if (known_zero(st, page) || page_is_zero(st.rb.host + page * TARGET_PAGE_SIZE)) {
    st.pages_zero++;
    send(st, page, RAM_SAVE_FLAG_COMPRESS, 0, 0, ZERO_PAGE_BYTES);
    return;
  }
  st.pages_normal++;
  send(st, page, RAM_SAVE_FLAG_PAGE, loaded_lo, loaded_hi, NORMAL_PAGE_BYTES);
}

// ram_save_setup (stage 1): every page dirty, and KVM's dirty logging on
export function ram_save_setup(st: RamSaveState): void {
  const pages = st.rb.pages;
  for (let i = 0; i < pages >>> 5; i++) st.bitmap[i] = -1;
  if (pages & 31) st.bitmap[pages >>> 5] = (1 << (pages & 31)) - 1;
  kvm_enable_dirty_log(st.kvm);
}

// migration_bitmap_sync: KVM's log into the migration bitmap (and the NONZERO bits); the pages it had
export function migration_bitmap_sync(st: RamSaveState): number {
  const before = st.detect === 'nonzero_bitmap' ? st.bitmap.slice() : null;
  const taken = kvm_get_dirty_log(st.kvm, st.bitmap, 0);
  if (before) for (let i = 0; i < st.bitmap.length; i++) st.nonzero[i] |= st.bitmap[i] & ~before[i];
  return taken;
}

/** The dirty pages left (ram_bytes_remaining / TARGET_PAGE_SIZE). */
export function ram_pages_remaining(st: RamSaveState): number {
  let n = 0;
  for (let i = 0; i < st.bitmap.length; i++) {
    let v = st.bitmap[i];
    while (v !== 0) {
      v &= v - 1;
      n++;
    }
  }
  return n;
}

// ram_save_iterate: send every dirty page once, clearing its bit; the pages sent
export function ram_save_iterate(st: RamSaveState): number {
  let sent = 0;
  for (let i = 0; i < st.bitmap.length; i++) {
    let mask = st.bitmap[i];
    if (mask === 0) continue;
    st.bitmap[i] = 0;
    while (mask !== 0) {
      const bit = 31 - Math.clz32(mask & -mask);
      mask &= mask - 1;
      ram_save_page(st, i * 32 + bit);
      sent++;
    }
  }
  return sent;
}

export function ram_save_eos(st: RamSaveState): void {
  send(st, 0, RAM_SAVE_FLAG_EOS, 0, 0, 8);
}

// ram_load (ram_load_precopy): until EOS; returns the pages received
export function ram_load(f: QEMUFile, rb: RAMBlock, mode: ZeroPageLoad): number {
  let pages = 0;
  for (;;) {
    f.get();
    if (f.flags & RAM_SAVE_FLAG_EOS) return pages;
    pages++;
    const host = rb.host + f.page * TARGET_PAGE_SIZE;
    if (f.flags & RAM_SAVE_FLAG_PAGE) {
      store_page(host, f.lo, f.hi); // qemu_get_buffer into the page
      continue;
    }
    switch (mode) {
      case 'memset':
        store_page(host, 0, 0);
        break;
      case 'madvise':
        madvise(host, TARGET_PAGE_SIZE, MADV_DONTNEED); // return unchecked
        break;
      case 'memset_madvise':
        store_page(host, 0, 0);
        madvise(host, TARGET_PAGE_SIZE, MADV_DONTNEED);
        break;
      case 'check_memset':
        if (!page_is_zero(host)) store_page(host, 0, 0);
        break;
      case 'check_madvise':
        ram_block_discard_range(rb, f.page, 1);
        break;
    }
  }
}

