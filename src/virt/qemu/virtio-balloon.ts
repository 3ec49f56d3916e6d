// virtio-balloon's device side (hw/virtio/virtio-balloon.c): the host discards what the guest
// gives. In 2009 balloon_page() madvised each page (MADV_DONTNEED, under kvm_has_sync_mmu());
// since QEMU 4.x balloon_inflate_page() calls ram_block_discard_range, which also punches the hole
// a memfd needs.

import { MADV_DONTNEED } from '../../kernel/mm/madvise.ts';
import { madvise } from '../../user/libc.ts';
import { TARGET_PAGE_SIZE, ram_block_discard_range, type RAMBlock } from './physmem.ts';

export type BalloonDiscard = 'madvise' | 'discard_range';

/** The device's handling of one inflated guest page. */
export function balloon_inflate_page(rb: RAMBlock, gfn: number, discard: BalloonDiscard): void {
  if (discard === 'madvise') madvise(rb.host + gfn * TARGET_PAGE_SIZE, TARGET_PAGE_SIZE, MADV_DONTNEED); // return unchecked, as in 2009
  else ram_block_discard_range(rb, gfn, 1);
}
