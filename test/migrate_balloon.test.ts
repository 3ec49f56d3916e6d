// The migrate_balloon scenario: RSS on both QEMUs for every zero-page mode, worked out by hand for
// an 8 MiB guest ballooned to 1 MiB (2048 pages, 256 kept, 1792 zero); dirty tracking through
// KVM's log with a running guest; the integrity check against a planted corruption; bad params.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { current_mm } from '../src/kernel/mm/mmap.ts';
import { kvm_create_vm, kvm_vcpu_write_page } from '../src/kernel/virt/kvm/kvm_main.ts';
import { kernel_clone, task_mm } from '../src/kernel/kernel/fork.ts';
import { set_current } from '../src/machine/cpu.ts';
import { follow_page } from '../src/kernel/mm/memory.ts';
import { set_frame_tag } from '../src/machine/mmu.ts';
import { qemu_ram_alloc } from '../src/virt/qemu/physmem.ts';
import { CHANNEL_BYTES, QEMUFile, RAM_SAVE_FLAG_COMPRESS, RAM_SAVE_FLAG_PAGE } from '../src/virt/qemu/migration/qemu-file.ts';
import { migration_bitmap_sync, ram_load, ram_save_eos, ram_save_iterate, ram_save_setup, type RamSaveState } from '../src/virt/qemu/migration/ram.ts';
import { mismatched_pages } from '../workloads/migrate_balloon.ts';
import { TINY_MAPS, boot_layout } from './helpers/boot.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PAGE_MB = 1 / 256;
const GUEST = 2048, KEPT = 256;

function scenario(...args: string[]): Record<string, number> {
  const root = mkdtempSync(join(tmpdir(), 'scalelab-migrate-'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/bench.ts'), 'migrate_balloon', '--tasks', '3', '--cpus', '3', '--mode', 'process',
    '--param', 'guest_mb=8', '--param', 'balloon_to_mb=1', '--results', root, '--json', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  const stats = JSON.parse(r.stdout).stats as Record<string, number>;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(stats)) {
    if (/^migrate_balloon\.[a-z_]+$/.test(k)) out[k.slice('migrate_balloon.'.length)] = v;
    if (k.startsWith('stderr.')) out[k] = v;
  }
  // What both QEMUs inherited from the parent they were forked from, in pages.
  out.base = Math.round((out.src_rss_before_mb - KEPT * PAGE_MB) / PAGE_MB);
  return out;
}

const pages = (mb: number, base: number) => Math.round(mb / PAGE_MB) - base;

describe('migrate_balloon: RSS by zero-page mode (8 MiB guest ballooned to 1 MiB)', () => {
  it('the stream: 1792 zero pages of 9 bytes, 256 normal of 4104, and the 8-byte EOS, at 32 MiB/s', () => {
    const m = scenario('--param', 'qemu=0.10');
    expect([m.pages_zero, m.pages_normal, m.iterations, m.mismatched_pages]).toEqual([GUEST - KEPT, KEPT, 1, 0]);
    expect(m.bytes_sent).toBe(1792 * 9 + 256 * 4104 + 8);
    expect(m.total_time_ms).toBeCloseTo(((1792 * 9 + 256 * 4104 + 8) / (32 * 1048576)) * 1000, 6);
    // 0.10 memsets every zero page on the destination: all 2048 pages.
    expect(pages(m.dst_rss_mb, m.base)).toBe(GUEST);
  });

  it('madvise instead of memset (30868442a): the zero pages are never allocated', () => {
    const m = scenario('--param', 'zero_page_load=madvise');
    expect([pages(m.dst_rss_mb, m.base), pages(m.dst_rss_peak_mb, m.base)]).toEqual([KEPT, KEPT]);
  });

  it('memset then madvise (779c6befc, QEMU 0.11): 256 pages, one more at the peak', () => {
    const m = scenario('--param', 'qemu=0.11');
    expect([pages(m.dst_rss_mb, m.base), pages(m.dst_rss_peak_mb, m.base)]).toEqual([KEPT, KEPT + 1]);
  });

  it('ram_handle_zero (check_memset) on anonymous RAM: the read maps the zero page, 256 pages', () => {
    const m = scenario('--param', 'qemu=9.0');
    expect([pages(m.dst_rss_mb, m.base), pages(m.src_rss_peak_mb, m.base)]).toEqual([KEPT, KEPT]);
  });

  it('memory-backend-memfd: check_memset reads allocate page cache on both sides (#2839); check_madvise does not on the destination', () => {
    const memset = scenario('--param', 'backend=memfd');
    expect([pages(memset.dst_rss_mb, memset.base), pages(memset.src_rss_peak_mb, memset.base)]).toEqual([GUEST, GUEST]);
    const madv = scenario('--param', 'backend=memfd', '--param', 'zero_page_load=check_madvise');
    expect(pages(madv.dst_rss_mb, madv.base)).toBe(KEPT);
  });

  it('the source: is_dup_page reads bring every ballooned page back on 2.6.30, not on 2.6.32', () => {
    const old = scenario('--param', 'qemu=0.11', '--kernel', 'v2.6.30');
    expect([pages(old.src_rss_before_mb, old.base), pages(old.src_rss_peak_mb, old.base)]).toEqual([KEPT, GUEST]);
    const fixed = scenario('--param', 'qemu=0.11', '--kernel', 'v2.6.32');
    expect(pages(fixed.src_rss_peak_mb, fixed.base)).toBe(KEPT);
    // The thread's proposals skip the reads on the old kernel too.
    const mincore = scenario('--param', 'qemu=0.11', '--kernel', 'v2.6.30', '--param', 'zero_page_detect=mincore');
    expect(pages(mincore.src_rss_peak_mb, mincore.base)).toBe(KEPT);
  });

  it('bad parameters exit 2 with one line', () => {
    for (const bad of [['balloon_to_mb=9'], ['guest_mb=0'], ['bandwidth_mb_s=0']]) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/bench.ts'), 'migrate_balloon', '--tasks', '3', '--cpus', '3', '--param', 'guest_mb=8', '--param', bad[0]], { cwd: ROOT, encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('migration on one CPU', () => {
  function setup(pages: number, sets: string[] = []) {
    boot_layout(TINY_MAPS, 'v6.8', sets);
    const rb = qemu_ram_alloc(pages, 'anon');
    const kvm = kvm_create_vm(current_mm(), rb.host, pages);
    for (let gfn = 0; gfn < pages; gfn++) kvm_vcpu_write_page(kvm, 0, gfn, gfn + 1, 7);
    const sab = new SharedArrayBuffer(CHANNEL_BYTES + 64);
    const st: RamSaveState = {
      rb, kvm, f: new QEMUFile(sab, 0), bitmap: new Int32Array(Math.ceil(pages / 32)), nonzero: new Int32Array(Math.ceil(pages / 32)),
      detect: 'read', clock: new Float64Array(1), bytes_per_ns: 1, pages_zero: 0, pages_normal: 0, bytes: 0,
    };
    return { rb, kvm, st, sab };
  }

  it("KVM's dirty log re-sends exactly what the running guest wrote after the pass, with its new content", () => {
    const { kvm, st, sab } = setup(64);
    ram_save_setup(st);
    expect(ram_save_iterate(st)).toBe(64);
    kvm_vcpu_write_page(kvm, 0, 3, 100, 1);
    kvm_vcpu_write_page(kvm, 0, 5, 0, 0); // the guest zeroes page 5
    kvm_vcpu_write_page(kvm, 0, 3, 101, 1); // written twice, sent once
    expect(migration_bitmap_sync(st)).toBe(2);
    expect(Array.from(st.bitmap)).toEqual([(1 << 3) | (1 << 5), 0]);
    expect(ram_save_iterate(st)).toBe(2);
    expect(migration_bitmap_sync(st)).toBe(0);
    const reader = new QEMUFile(sab, 0);
    const got: number[][] = [];
    for (let i = 0; i < 66; i++) {
      reader.get();
      if (i >= 64) got.push([reader.page, reader.flags, reader.lo, reader.hi]);
    }
    expect(got).toEqual([[3, RAM_SAVE_FLAG_PAGE, 101, 1], [5, RAM_SAVE_FLAG_COMPRESS, 0, 0]]);
  });

  for (const [mode, stale] of [['madvise', 1], ['memset_madvise', 0]] as const) {
    it(`when madvise fails (mm.madvise_dontneed_fails), a page the guest zeroed after it was sent stays stale with ${mode}: ${stale}`, () => {
      const { rb, kvm, st, sab } = setup(32, ['mm.madvise_dontneed_fails=1']);
      const src_mm = current_mm();
      ram_save_setup(st);
      ram_save_iterate(st); // page 9 goes with its content
      kvm_vcpu_write_page(kvm, 0, 9, 0, 0); // then the guest zeroes it
      migration_bitmap_sync(st);
      expect(ram_save_iterate(st)).toBe(1); // and it goes again, as a zero page
      ram_save_eos(st);
      const dst = kernel_clone(0);
      set_current(dst);
      const drb = qemu_ram_alloc(32, 'anon');
      expect(ram_load(new QEMUFile(sab, 0), drb, mode)).toBe(33);
      expect(mismatched_pages(32, { mm: src_mm, host: rb.host, ino: 0 }, { mm: task_mm(dst), host: drb.host, ino: 0 })).toBe(stale);
    });
  }

  it('the integrity check counts a page planted wrong on the destination', () => {
    const { rb, st, sab } = setup(32);
    const src_mm = current_mm();
    ram_save_setup(st);
    ram_save_iterate(st);
    ram_save_eos(st);
    const dst = kernel_clone(0);
    set_current(dst);
    const drb = qemu_ram_alloc(32, 'anon');
    expect(ram_load(new QEMUFile(sab, 0), drb, 'check_memset')).toBe(32);
    const src = { mm: src_mm, host: rb.host, ino: 0 };
    const d = { mm: task_mm(dst), host: drb.host, ino: 0 };
    expect(mismatched_pages(32, src, d)).toBe(0);
    set_frame_tag(follow_page(task_mm(dst), drb.host + 9 * 4096), 0xbad, 0);
    expect(mismatched_pages(32, src, d)).toBe(1);
  });
});
