// KVM in miniature (virt/kvm/kvm_main.c, arch/x86/kvm/mmu/tdp_mmu.c): one memslot of guest RAM at
// a host virtual address, an EPT (guest-physical → host frame, the same 4-level walk as the host's
// tables), faults that take host pages with get_user_pages, the dirty log that write-protects
// EPT entries, and the mmu notifier that drops EPT entries when host PTEs go (kvm_has_sync_mmu).
// There is no TLB: a vCPU walks the EPT on every access, and a "TLB flush" waits until every vCPU
// has left the access it was in (kvm_make_all_cpus_request's wait for !IN_GUEST_MODE).

import { PAGE_SIZE, mem32, memf64, memset0 } from '../../../machine/memory.ts';
import { _PAGE_PRESENT, _PAGE_RW, mmu_translate, set_frame_tag, PTRS_PER_TABLE } from '../../../machine/mmu.ts';
import { define_counter } from '../../../machine/symbols.ts';
import { this_cpu_inc } from '../../../machine/counters.ts';
import { spin_lock, spin_lock_init, spin_unlock } from '../../locking/spinlock.ts';
import { alloc_pages } from '../../mm/page_alloc.ts';
import { MM_NOTIFIER, MM_PGD } from '../../mm/mm_types.ts';
import { handle_mm_fault, mmu_notifier_register_ops, walk_to_pte } from '../../mm/memory.ts';
import { table_alloc_root } from '../../arch/x86/mm/pgtable.ts';

export const KVM_MAX_VCPUS = 8;
// struct kvm
const K_MMU_LOCK = 0;
const K_MM = 2;
const K_ROOT = 3;
const K_NPAGES = 4;
const K_BITMAP = 5;
const K_LOG_DIRTY = 6;
const K_HVA = 4; // f64 index from kvm >> 3 (words 8-9)
const K_VCPU_SEQ = 10; // per vCPU: odd while it is inside a guest access

const c_ept_faults = define_counter('sim.kvm.ept_faults');
const c_dirty_faults = define_counter('sim.kvm.dirty_log_faults');

const k = (kvm: number, field: number) => (kvm >> 2) + field;
const hva_of = (kvm: number) => memf64[(kvm >> 3) + K_HVA];

// virt/kvm/kvm_main.c kvm_create_vm + KVM_SET_USER_MEMORY_REGION: a VM whose RAM is npages at hva
// of mm; 0 when out of memory
export function kvm_create_vm(mm: number, hva: number, npages: number): number {
  const kvm = alloc_pages(0);
  if (kvm === 0) return 0;
  memset0(kvm, PAGE_SIZE);
  const bitmap_bytes = Math.ceil(npages / 32) * 4;
  let order = 0;
  while (PAGE_SIZE << order < bitmap_bytes) order++;
  const bitmap = alloc_pages(order);
  const root = table_alloc_root();
  if (bitmap === 0 || root === 0) return 0;
  memset0(bitmap, PAGE_SIZE << order);
  spin_lock_init(kvm + K_MMU_LOCK * 4, 'kvm->mmu_lock');
  mem32[k(kvm, K_MM)] = mm;
  mem32[k(kvm, K_ROOT)] = root;
  mem32[k(kvm, K_NPAGES)] = npages;
  mem32[k(kvm, K_BITMAP)] = bitmap;
  memf64[(kvm >> 3) + K_HVA] = hva;
  mem32[(mm >> 2) + MM_NOTIFIER] = kvm; // mmu_notifier_register
  return kvm;
}

function mark_page_dirty(kvm: number, gfn: number): void {
  if (mem32[k(kvm, K_LOG_DIRTY)]) Atomics.or(mem32, (mem32[k(kvm, K_BITMAP)] >> 2) + (gfn >>> 5), 1 << (gfn & 31));
}

// arch/x86/kvm/mmu: the EPT violation of a write to gfn: unprotect a write-protected entry (the
// dirty log's fast path), or take the host page with get_user_pages(FOLL_WRITE) and map it
function kvm_tdp_page_fault(kvm: number, gfn: number): number {
  const lock = kvm + K_MMU_LOCK * 4;
  const w = walk_to_pte(mem32[k(kvm, K_ROOT)], lock, gfn * PAGE_SIZE, true);
  if (w < 0) throw new Error('kvm: out of memory for the EPT');
  spin_lock(lock);
  if (mem32[w] & _PAGE_PRESENT) {
    this_cpu_inc(c_dirty_faults);
    mem32[w] |= _PAGE_RW;
    mark_page_dirty(kvm, gfn);
    const pfn = mem32[w + 1];
    spin_unlock(lock);
    return pfn;
  }
  spin_unlock(lock);
  this_cpu_inc(c_ept_faults);
  const mm = mem32[k(kvm, K_MM)];
  const hva = hva_of(kvm) + gfn * PAGE_SIZE;
  let pfn = mmu_translate(mem32[(mm >> 2) + MM_PGD], hva, true);
  while (pfn < 0) {
    if (handle_mm_fault(mm, hva, true) !== 0) throw new Error(`kvm: the guest's RAM at ${hva.toString(16)} cannot be faulted in`);
    pfn = mmu_translate(mem32[(mm >> 2) + MM_PGD], hva, true);
  }
  spin_lock(lock);
  mem32[w + 1] = pfn;
  mem32[w] = _PAGE_PRESENT | _PAGE_RW;
  mark_page_dirty(kvm, gfn);
  spin_unlock(lock);
  return pfn;
}

/** A vCPU's write of a whole guest page (the guest's stores): its content becomes the tag. */
export function kvm_vcpu_write_page(kvm: number, vcpu: number, gfn: number, lo: number, hi: number): void {
  const seq = k(kvm, K_VCPU_SEQ + vcpu);
  Atomics.add(mem32, seq, 1);
  let pfn = mmu_translate(mem32[k(kvm, K_ROOT)], gfn * PAGE_SIZE, true);
  if (pfn < 0) pfn = kvm_tdp_page_fault(kvm, gfn);
  set_frame_tag(pfn, lo, hi);
  Atomics.add(mem32, seq, 1);
}

// virt/kvm/kvm_main.c kvm_flush_remote_tlbs: every vCPU out of the access it was in
function kvm_flush_remote_tlbs(kvm: number): void {
  for (let v = 0; v < KVM_MAX_VCPUS; v++) {
    const seq = k(kvm, K_VCPU_SEQ + v);
    const s = Atomics.load(mem32, seq);
    if ((s & 1) === 0) continue;
    while (Atomics.load(mem32, seq) === s) { /* the vCPU finishes its access */ }
  }
}

/** Visit the present EPT entries of gfns [from, to), skipping missing tables. */
function for_each_ept_entry(kvm: number, from: number, to: number, fn: (w: number) => void): void {
  const root = mem32[k(kvm, K_ROOT)];
  for (let gfn = from; gfn < to;) {
    const w = walk_to_pte(root, 0, gfn * PAGE_SIZE, false);
    if (w < 0) {
      gfn = (Math.floor(gfn / PTRS_PER_TABLE) + 1) * PTRS_PER_TABLE;
      continue;
    }
    if (mem32[w] & _PAGE_PRESENT) fn(w);
    gfn++;
  }
}

// virt/kvm/kvm_main.c kvm_mmu_notifier_invalidate_range_start → kvm_unmap_gfn_range
mmu_notifier_register_ops((kvm, start, end) => {
  const hva = hva_of(kvm);
  const npages = mem32[k(kvm, K_NPAGES)];
  const from = Math.max(0, Math.floor((start - hva) / PAGE_SIZE));
  const to = Math.min(npages, Math.ceil((end - hva) / PAGE_SIZE));
  if (from >= to) return;
  const lock = kvm + K_MMU_LOCK * 4;
  spin_lock(lock);
  for_each_ept_entry(kvm, from, to, (w) => { mem32[w] = 0; mem32[w + 1] = 0; });
  spin_unlock(lock);
  kvm_flush_remote_tlbs(kvm);
});

// KVM_SET_USER_MEMORY_REGION with KVM_MEM_LOG_DIRTY_PAGES: from now on writes are logged; every
// mapped entry is write-protected so that the next write to it faults and is logged
export function kvm_enable_dirty_log(kvm: number): void {
  const lock = kvm + K_MMU_LOCK * 4;
  spin_lock(lock);
  mem32[k(kvm, K_LOG_DIRTY)] = 1;
  for_each_ept_entry(kvm, 0, mem32[k(kvm, K_NPAGES)], (w) => { mem32[w] &= ~_PAGE_RW; });
  spin_unlock(lock);
  kvm_flush_remote_tlbs(kvm);
}

// virt/kvm/kvm_main.c kvm_get_dirty_log_protect: take and clear each word of the log, write-protect
// the pages it names, and OR them into the caller's bitmap (QEMU's); returns the pages taken
export function kvm_get_dirty_log(kvm: number, out: Int32Array, out_word: number): number {
  const lock = kvm + K_MMU_LOCK * 4;
  const bitmap = mem32[k(kvm, K_BITMAP)] >> 2;
  const words = Math.ceil(mem32[k(kvm, K_NPAGES)] / 32);
  const root = mem32[k(kvm, K_ROOT)];
  let taken = 0;
  spin_lock(lock);
  for (let i = 0; i < words; i++) {
    let mask = Atomics.exchange(mem32, bitmap + i, 0);
    if (mask === 0) continue;
    out[out_word + i] |= mask;
    while (mask !== 0) {
      const bit = 31 - Math.clz32(mask & -mask);
      mask &= mask - 1;
      taken++;
      const w = walk_to_pte(root, 0, (i * 32 + bit) * PAGE_SIZE, false);
      if (w >= 0) mem32[w] &= ~_PAGE_RW;
    }
  }
  spin_unlock(lock);
  kvm_flush_remote_tlbs(kvm);
  return taken;
}
