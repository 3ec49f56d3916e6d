// Anthony Liguori's scenario (qemu-devel, June 2009, "Instead of writing a zero page, madvise it
// away"): start a guest, balloon it down, live-migrate it, and watch RSS on both hosts. The host is
// the simulated kernel; the source QEMU is one process (task 0 its migration thread, task 1 its
// vCPU), the destination QEMU another (task 2, the incoming migration). The guest touches all of
// its RAM, its balloon driver inflates to balloon_to_mb, then the migration runs while the vCPU
// keeps writing at dirty_mb_s of the link's modeled time. RSS is what the two mms account.

import { define_workload, type Params, type TaskContext } from '../src/runner/workload.ts';
import { current_mm } from '../src/kernel/mm/mmap.ts';
import { get_mm_hiwater_rss, get_mm_rss, follow_page } from '../src/kernel/mm/memory.ts';
import { clear_refs_write, CLEAR_REFS_MM_HIWATER_RSS } from '../src/kernel/fs/proc/task_mmu.ts';
import { kvm_create_vm } from '../src/kernel/virt/kvm/kvm_main.ts';
import { file_mapping, find_get_page } from '../src/kernel/mm/filemap.ts';
import { put_page } from '../src/kernel/mm/page_alloc.ts';
import { frame_tag_hi, frame_tag_lo } from '../src/machine/mmu.ts';
import { FILE_SHMEM, fget } from '../src/kernel/fs/file.ts';
import { qemu_ram_alloc, TARGET_PAGE_SIZE, type Backend, type RAMBlock } from '../src/virt/qemu/physmem.ts';
import { balloon_inflate_page, type BalloonDiscard } from '../src/virt/qemu/virtio-balloon.ts';
import { Guest } from '../src/virt/qemu/guest.ts';
import { CHANNEL_BYTES, QEMUFile } from '../src/virt/qemu/migration/qemu-file.ts';
import {
  migration_bitmap_sync, ram_load, ram_pages_remaining, ram_save_eos, ram_save_iterate, ram_save_setup,
  type RamSaveState, type ZeroPageDetect, type ZeroPageLoad,
} from '../src/virt/qemu/migration/ram.ts';

const MB_PAGES = (1 << 20) / TARGET_PAGE_SIZE;

/**
 * What each QEMU release does, read in its tag: ram_load in vl.c (0.10: memset; 0.11: memset, then
 * madvise), ram_handle_compressed in arch_init.c (2.0: memset unless is_zero_range; the madvise went
 * in fc1c4a5d, 1.7), ram_handle_zero in migration/ram.c (9.0: unless buffer_is_zero); balloon_page's
 * madvise until ram_block_discard_range (dbe1a2774521, 4.0). The link and downtime defaults stay
 * 2009's (32 MiB/s, 30 ms); 9.0's own are 128 MiB/s and 300 ms.
 */
export const QEMU_RELEASES: Record<string, { load: ZeroPageLoad; balloon: BalloonDiscard }> = {
  '0.10': { load: 'memset', balloon: 'madvise' },
  '0.11': { load: 'memset_madvise', balloon: 'madvise' },
  '2.0': { load: 'check_memset', balloon: 'madvise' },
  '9.0': { load: 'check_memset', balloon: 'discard_range' },
};

// The shared area: header words, then the stream, then the source's bitmaps.
const PHASE = 0; // below
const VCPU_PAUSED = 1;
const DST_READY = 2;
const DST_DONE = 3;
const DST_MM = 4;
const DST_INO = 5;
const SRC_FD = 6;
const SRC_KVM = 7;
const SRC_READY = 8;
const F_CLOCK = 16; // f64 slots from byte 128
const F_DST_HOST = 17;
const F_DST_PEAK = 18;
const F_DST_RSS = 19;
const F_SRC_HOST = 20;
const HEADER_BYTES = 256;
const BALLOONED = 1, MIGRATING = 2, STOPPED = 3, FAILED = 9;

function pages_of(p: Params): number {
  return (p.guest_mb as number) * MB_PAGES;
}

function bitmap_bytes(p: Params): number {
  return Math.ceil(pages_of(p) / 32) * 4;
}

class Shared {
  readonly w: Int32Array;
  readonly f: Float64Array;
  readonly file: QEMUFile;
  readonly bitmap: Int32Array;
  readonly nonzero: Int32Array;
  constructor(sab: SharedArrayBuffer, p: Params) {
    this.w = new Int32Array(sab, 0, 32);
    this.f = new Float64Array(sab, 0, 32);
    this.file = new QEMUFile(sab, HEADER_BYTES);
    const words = bitmap_bytes(p) / 4;
    this.bitmap = new Int32Array(sab, HEADER_BYTES + CHANNEL_BYTES, words);
    this.nonzero = new Int32Array(sab, HEADER_BYTES + CHANNEL_BYTES + words * 4, words);
  }
  wait_for(word: number, ok: (v: number) => boolean): void {
    for (let v = Atomics.load(this.w, word); !ok(v); v = Atomics.load(this.w, word)) {
      if (Atomics.load(this.w, PHASE) === FAILED) throw new Error('another task of the scenario failed');
      Atomics.wait(this.w, word, v, 5);
    }
  }
  set(word: number, v: number): void {
    Atomics.store(this.w, word, v);
    Atomics.notify(this.w, word);
  }
}

function release(p: Params) {
  const r = QEMU_RELEASES[p.qemu as string];
  return { load: p.zero_page_load === 'qemu' ? r.load : (p.zero_page_load as ZeroPageLoad), balloon: r.balloon, detect: p.zero_page_detect as ZeroPageDetect };
}

const mb = (pages: number) => pages / MB_PAGES;

/** A page's content as the kernel holds it, without faulting it in (what /proc/PID/pagemap + kpageflags would tell). */
function peek_tag(mm: number, host: number, ino: number, page: number, out: Int32Array): void {
  let pfn = follow_page(mm, host + page * TARGET_PAGE_SIZE);
  let ref = false;
  if (pfn < 0 && ino > 0) {
    pfn = find_get_page(file_mapping(ino), page);
    ref = pfn >= 0;
  }
  out[0] = pfn < 0 ? 0 : frame_tag_lo(pfn);
  out[1] = pfn < 0 ? 0 : frame_tag_hi(pfn);
  if (ref) put_page(pfn);
}

export interface GuestRam {
  mm: number;
  host: number;
  /** The memfd's inode, 0 for anonymous RAM. */
  ino: number;
}

/** The check after migration: guest pages whose content differs between the two QEMUs' RAM. */
export function mismatched_pages(pages: number, src: GuestRam, dst: GuestRam): number {
  const a = new Int32Array(2), b = new Int32Array(2);
  let n = 0;
  for (let page = 0; page < pages; page++) {
    peek_tag(src.mm, src.host, src.ino, page, a);
    peek_tag(dst.mm, dst.host, dst.ino, page, b);
    if (a[0] !== b[0] || a[1] !== b[1]) n++;
  }
  return n;
}

// Task 0: the source QEMU's main loop and migration thread (migration_thread; ram_save_live in 2009)
function source(t: TaskContext, s: Shared, rb: RAMBlock, kvm: number): Record<string, number> {
  const p = t.params;
  const mm = current_mm();
  s.wait_for(PHASE, (v) => v >= BALLOONED);
  const src_rss_before = get_mm_rss(mm);
  clear_refs_write(mm, CLEAR_REFS_MM_HIWATER_RSS);
  s.wait_for(DST_READY, (v) => v === 1);
  const wall0 = performance.now();
  const r = release(p);
  const clock = s.f.subarray(F_CLOCK, F_CLOCK + 1);
  const st: RamSaveState = {
    rb, kvm, f: s.file, bitmap: s.bitmap, nonzero: s.nonzero, detect: r.detect, clock,
    bytes_per_ns: ((p.bandwidth_mb_s as number) * (1 << 20)) / 1e9, pages_zero: 0, pages_normal: 0, bytes: 0,
  };
  ram_save_setup(st);
  s.set(PHASE, MIGRATING);
  const max_downtime_ns = (p.max_downtime_ms as number) * 1e6;
  let iterations = 0;
  for (;;) {
    ram_save_iterate(st);
    iterations++;
    migration_bitmap_sync(st);
    // ram_save_live stage 2: expected_time = remaining / bandwidth <= migrate_max_downtime()
    if ((ram_pages_remaining(st) * TARGET_PAGE_SIZE) / st.bytes_per_ns <= max_downtime_ns) break;
  }
  // Stage 3: vm_stop, then what is left, then EOS.
  const stop_ns = clock[0];
  s.set(PHASE, STOPPED);
  s.wait_for(VCPU_PAUSED, (v) => v === 1);
  migration_bitmap_sync(st);
  ram_save_iterate(st);
  ram_save_eos(st);
  s.wait_for(DST_DONE, (v) => v === 1);
  const sim_wall_ms = performance.now() - wall0;
  const src_ino = rb.fd >= 0 ? fget(rb.fd, FILE_SHMEM) : 0;
  const mismatched = mismatched_pages(rb.pages, { mm, host: rb.host, ino: src_ino }, { mm: s.w[DST_MM], host: s.f[F_DST_HOST], ino: s.w[DST_INO] });
  if (mismatched > 0) t.io.err(`qemu: migration check: guest pages differ between source and destination`);
  return {
    src_rss_before_mb: mb(src_rss_before),
    src_rss_peak_mb: mb(get_mm_hiwater_rss(mm)),
    src_rss_after_mb: mb(get_mm_rss(mm)),
    dst_rss_peak_mb: mb(s.f[F_DST_PEAK]),
    dst_rss_mb: mb(s.f[F_DST_RSS]),
    pages_zero: st.pages_zero,
    pages_normal: st.pages_normal,
    bytes_sent: st.bytes,
    iterations,
    downtime_ms: (clock[0] - stop_ns) / 1e6,
    total_time_ms: clock[0] / 1e6,
    mismatched_pages: mismatched,
    sim_wall_ms,
  };
}

// Task 1: the vCPU (KVM_RUN): the guest uses its RAM, inflates its balloon, then keeps writing
function vcpu(t: TaskContext, s: Shared, rb: RAMBlock, kvm: number): void {
  const p = t.params;
  const r = release(p);
  const guest = new Guest(kvm, rb.pages, t.nr + 1);
  guest.touch_all();
  guest.fill_balloon((p.balloon_to_mb as number) * MB_PAGES, (pfns) => {
    for (const gfn of pfns) {
      balloon_inflate_page(rb, gfn, r.balloon);
      s.nonzero[gfn >>> 5] &= ~(1 << (gfn & 31));
    }
  });
  s.set(PHASE, BALLOONED);
  s.wait_for(PHASE, (v) => v >= MIGRATING);
  const pages_per_ns = ((p.dirty_mb_s as number) * MB_PAGES) / 1e9;
  const zero_pct = p.dirty_zero_pct as number;
  let written = 0;
  while (Atomics.load(s.w, PHASE) === MIGRATING) {
    const due = Math.floor(s.f[F_CLOCK] * pages_per_ns);
    if (written >= due) {
      Atomics.wait(s.w, PHASE, MIGRATING, 0.05);
      continue;
    }
    guest.dirty_one(zero_pct);
    written++;
  }
  s.set(VCPU_PAUSED, 1); // pause_all_vcpus
}

// Task 2: the destination QEMU (-incoming): its RAM, then ram_load until EOS
function destination(t: TaskContext, s: Shared): void {
  const p = t.params;
  const mm = current_mm();
  const rb = qemu_ram_alloc(pages_of(p), p.backend as Backend);
  s.w[DST_MM] = mm;
  s.w[DST_INO] = rb.fd >= 0 ? fget(rb.fd, FILE_SHMEM) : 0;
  s.f[F_DST_HOST] = rb.host;
  clear_refs_write(mm, CLEAR_REFS_MM_HIWATER_RSS);
  s.set(DST_READY, 1);
  ram_load(s.file, rb, release(p).load);
  s.f[F_DST_PEAK] = get_mm_hiwater_rss(mm);
  s.f[F_DST_RSS] = get_mm_rss(mm);
  s.set(DST_DONE, 1);
}

export default define_workload({
  description: 'a ballooned guest live-migrated between two QEMUs on the simulated host; RSS of both (qemu-devel, June 2009)',
  kind: 'scenario',
  params: {
    guest_mb: { type: 'int', default: 1024, min: 1, max: 16384, description: 'guest RAM (MiB)' },
    balloon_to_mb: { type: 'int', default: 128, min: 0, max: 16384, description: 'what the guest keeps once its balloon is inflated (MiB)' },
    backend: { type: 'string', default: 'anon', choices: ['anon', 'memfd'], description: 'guest RAM: anonymous memory, or memory-backend-memfd (shared)' },
    dirty_mb_s: { type: 'int', default: 0, min: 0, max: 100_000, description: 'guest writes during the migration, MiB per second of the link' },
    dirty_zero_pct: { type: 'int', default: 0, min: 0, max: 100, description: 'of those writes, the percentage that zero a page (a freed page the guest clears)' },
    bandwidth_mb_s: { type: 'int', default: 32, min: 1, max: 1_000_000, description: "the link's speed (MiB/s): 32, QEMU's default migration speed limit in 2009" },
    max_downtime_ms: { type: 'int', default: 30, min: 1, max: 60_000, description: "stop the guest when what is left takes this long to send: 30 ms, QEMU's default max_downtime" },
    qemu: { type: 'string', default: '9.0', choices: Object.keys(QEMU_RELEASES), description: 'the QEMU release: its zero-page load and balloon discard' },
    zero_page_load: { type: 'string', default: 'qemu', choices: ['qemu', 'memset', 'madvise', 'memset_madvise', 'check_memset', 'check_madvise'], description: "the destination's zero page ('qemu': as the release does)" },
    zero_page_detect: { type: 'string', default: 'read', choices: ['read', 'mincore', 'nonzero_bitmap'], description: "how the source finds zero pages: reading them (QEMU), or the thread's proposals" },
  },
  check_params(p) {
    if ((p.balloon_to_mb as number) > (p.guest_mb as number)) return `parameter balloon_to_mb: ${p.balloon_to_mb} is larger than guest_mb ${p.guest_mb}`;
    if ((p.dirty_mb_s as number) >= (p.bandwidth_mb_s as number)) return `parameter dirty_mb_s: ${p.dirty_mb_s} MiB/s would never converge over a ${p.bandwidth_mb_s} MiB/s link`;
    return null;
  },
  processes: () => [0, 0, 1],
  shared_bytes: (p) => HEADER_BYTES + CHANNEL_BYTES + 2 * bitmap_bytes(p),
  scenario(t) {
    const s = new Shared(t.shared, t.params);
    try {
      if (t.nr === 2) return destination(t, s);
      // The source's RAM and VM: made by task 0 (QEMU's main thread), used by its vCPU thread.
      if (t.nr === 0) {
        const rb = qemu_ram_alloc(pages_of(t.params), t.params.backend as Backend);
        const kvm = kvm_create_vm(current_mm(), rb.host, rb.pages);
        if (kvm === 0) throw new Error('kvm: out of memory');
        s.f[F_SRC_HOST] = rb.host;
        s.w[SRC_FD] = rb.fd;
        s.w[SRC_KVM] = kvm;
        s.set(SRC_READY, 1);
        return source(t, s, rb, kvm);
      }
      s.wait_for(SRC_READY, (v) => v === 1);
      return vcpu(t, s, { host: s.f[F_SRC_HOST], pages: pages_of(t.params), fd: s.w[SRC_FD] }, s.w[SRC_KVM]);
    } catch (e) {
      s.set(PHASE, FAILED);
      throw e;
    }
  },
});
