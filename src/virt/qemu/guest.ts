// The guest, as the vCPU thread runs it (KVM_RUN): its stores to its own RAM, and its virtio
// balloon driver (drivers/virtio/virtio_balloon.c fill_balloon), which takes pages from the guest's
// allocator and hands their frame numbers to the device, VIRTIO_BALLOON_ARRAY_PFNS_MAX at a time.

import { Prng } from '../../lib/prng.ts';
import { kvm_vcpu_write_page } from '../../kernel/virt/kvm/kvm_main.ts';

export const VIRTIO_BALLOON_ARRAY_PFNS_MAX = 256;

export class Guest {
  private readonly prng: Prng;
  /** The guest's pages in the order its allocator hands them out; the first `ballooned` are the balloon's. */
  readonly order: Int32Array;
  ballooned = 0;
  private generation = 0;
  pages_written = 0;

  constructor(readonly kvm: number, readonly pages: number, seed: number) {
    this.prng = new Prng(seed);
    this.order = new Int32Array(pages);
    for (let i = 0; i < pages; i++) this.order[i] = i;
    for (let i = pages - 1; i > 0; i--) {
      const j = this.prng.u32() % (i + 1);
      const t = this.order[i];
      this.order[i] = this.order[j];
      this.order[j] = t;
    }
  }

  /** The content a guest store gives a page: nonzero, different for each store (a seeded pattern). */
  private write(gfn: number, zero: boolean): void {
    this.pages_written++;
    if (zero) {
      kvm_vcpu_write_page(this.kvm, 0, gfn, 0, 0);
      return;
    }
    this.generation++;
    kvm_vcpu_write_page(this.kvm, 0, gfn, this.prng.u32() | 1, this.generation);
  }

  /** The guest uses all of its RAM (what it had touched before the balloon is inflated). */
  touch_all(): void {
    for (let gfn = 0; gfn < this.pages; gfn++) this.write(gfn, false);
  }

  /** fill_balloon until the guest keeps `keep` pages; `device` gets each array of frame numbers. */
  fill_balloon(keep: number, device: (pfns: Int32Array) => void): void {
    while (this.pages - this.ballooned > keep) {
      const n = Math.min(VIRTIO_BALLOON_ARRAY_PFNS_MAX, this.pages - this.ballooned - keep);
      device(this.order.subarray(this.ballooned, this.ballooned + n));
      this.ballooned += n;
    }
  }

  /** One store to a random page the guest still owns; `zero_pct` of them zero it (a freed, cleared page). */
  dirty_one(zero_pct: number): void {
    const own = this.pages - this.ballooned;
    const gfn = this.order[this.ballooned + (this.prng.u32() % own)];
    this.write(gfn, this.prng.u32() % 100 < zero_pct);
  }
}
