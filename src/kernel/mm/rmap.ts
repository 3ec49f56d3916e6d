// Anonymous memory's reverse map (mm/rmap.c, 6.7): anon_vma objects and the anon_vma_chain links
// between them and VMAs. The simulation has no pages, so the interval trees are left out; what is
// kept is what changes mm behaviour: which anon_vma a VMA has and how long its chain is. A heap
// inherited through fork has a chain of two (the parent's anon_vma and its own), and brk will not
// merge a new area into it (is_mergeable_anon_vma: the chain is not singular).

import { mem32 } from '../../machine/memory.ts';
import { define_kmem_cache, kmem_cache_alloc, kmem_cache_free } from './slab.ts';
import { PAGE_SIZE, VMA_ANON_VMA, VMA_AVC_HEAD, VM_EXEC, VM_READ, VM_SOFTDIRTY, VM_WRITE, vm_end, vm_flags, vm_pgoff, vm_start, vma_anon_vma } from './mm_types.ts';

// struct anon_vma
const AV_ROOT = 0;
const AV_REFCOUNT = 1;
const AV_PARENT = 2;
const AV_NUM_CHILDREN = 3;
const AV_NUM_ACTIVE_VMAS = 4;
const AV_NR_AVC = 5; // chains that point at it (the interval tree's size)
export const ANON_VMA_SIZE = 88;

// struct anon_vma_chain
const AVC_VMA = 0;
const AVC_ANON_VMA = 1;
const AVC_SAME_VMA_NEXT = 2;
export const ANON_VMA_CHAIN_SIZE = 64;

const anon_vma_cachep = define_kmem_cache('anon_vma', ANON_VMA_SIZE);
const anon_vma_chain_cachep = define_kmem_cache('anon_vma_chain', ANON_VMA_CHAIN_SIZE);

export class RmapNoMem extends Error {}

function av(a: number, field: number): number {
  return (a >> 2) + field;
}

// mm/rmap.c anon_vma_alloc
function anon_vma_alloc(): number {
  const a = kmem_cache_alloc(anon_vma_cachep);
  if (!a) throw new RmapNoMem('anon_vma');
  mem32[av(a, AV_ROOT)] = a;
  mem32[av(a, AV_PARENT)] = a;
  mem32[av(a, AV_REFCOUNT)] = 1;
  mem32[av(a, AV_NUM_CHILDREN)] = 0;
  mem32[av(a, AV_NUM_ACTIVE_VMAS)] = 0;
  mem32[av(a, AV_NR_AVC)] = 0;
  return a;
}

// mm/rmap.c put_anon_vma
function put_anon_vma(a: number): void {
  if (--mem32[av(a, AV_REFCOUNT)] > 0) return;
  const root = mem32[av(a, AV_ROOT)];
  kmem_cache_free(anon_vma_cachep, a);
  if (root !== a) put_anon_vma(root);
}

function new_avc(vma: number, anon_vma: number): number {
  const avc = kmem_cache_alloc(anon_vma_chain_cachep);
  if (!avc) throw new RmapNoMem('anon_vma_chain');
  mem32[(avc >> 2) + AVC_VMA] = vma;
  mem32[(avc >> 2) + AVC_ANON_VMA] = anon_vma;
  mem32[(avc >> 2) + AVC_SAME_VMA_NEXT] = 0;
  mem32[av(anon_vma, AV_NR_AVC)]++;
  return avc;
}

// mm/rmap.c anon_vma_chain_link: the new link goes at the head of the VMA's chain
function anon_vma_chain_link(vma: number, anon_vma: number): void {
  const avc = new_avc(vma, anon_vma);
  mem32[(avc >> 2) + AVC_SAME_VMA_NEXT] = mem32[(vma >> 2) + VMA_AVC_HEAD];
  mem32[(vma >> 2) + VMA_AVC_HEAD] = avc;
}

/** anon_vma_chain_link at the chain's tail (after `tail`, 0 for an empty chain); returns the new tail. */
function anon_vma_chain_append(vma: number, tail: number, anon_vma: number): number {
  const avc = new_avc(vma, anon_vma);
  if (tail) mem32[(tail >> 2) + AVC_SAME_VMA_NEXT] = avc;
  else mem32[(vma >> 2) + VMA_AVC_HEAD] = avc;
  return avc;
}

/** Length of the VMA's anon_vma_chain. */
export function anon_vma_chain_length(vma: number): number {
  let n = 0;
  for (let avc = mem32[(vma >> 2) + VMA_AVC_HEAD]; avc; avc = mem32[(avc >> 2) + AVC_SAME_VMA_NEXT]) n++;
  return n;
}

/** include/linux/list.h list_is_singular(&vma->anon_vma_chain) */
export function anon_vma_chain_singular(vma: number): boolean {
  const head = mem32[(vma >> 2) + VMA_AVC_HEAD];
  return head !== 0 && mem32[(head >> 2) + AVC_SAME_VMA_NEXT] === 0;
}

const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;

// mm/mmap.c anon_vma_compatible: could a and b share an anon_vma?
function anon_vma_compatible(a: number, b: number): boolean {
  return (
    vm_end(a) === vm_start(b) &&
    ((vm_flags(a) ^ vm_flags(b)) & ~(VM_ACCESS_FLAGS | VM_SOFTDIRTY)) === 0 &&
    vm_start(b) - vm_start(a) === (vm_pgoff(b) - vm_pgoff(a)) * PAGE_SIZE
  );
}

// mm/mmap.c reusable_anon_vma
function reusable_anon_vma(old: number, a: number, b: number): number {
  if (anon_vma_compatible(a, b)) {
    const anon_vma = vma_anon_vma(old);
    if (anon_vma && anon_vma_chain_singular(old)) return anon_vma;
  }
  return 0;
}

// mm/mmap.c find_mergeable_anon_vma: a neighbour's anon_vma this VMA could share
function find_mergeable_anon_vma(vma: number, prev: number, next: number): number {
  let anon_vma = 0;
  if (next) anon_vma = reusable_anon_vma(next, vma, next);
  if (!anon_vma && prev) anon_vma = reusable_anon_vma(prev, prev, vma);
  return anon_vma;
}

// mm/rmap.c __anon_vma_prepare: the first write fault gives an anonymous VMA its anon_vma
export function anon_vma_prepare(vma: number, prev: number, next: number): void {
  if (vma_anon_vma(vma)) return;
  let anon_vma = find_mergeable_anon_vma(vma, prev, next);
  if (anon_vma) mem32[av(anon_vma, AV_REFCOUNT)]++;
  else {
    anon_vma = anon_vma_alloc();
    mem32[av(anon_vma, AV_NUM_CHILDREN)]++; // self-parent link for a new root (6.2+): a root is never reused
  }
  mem32[(vma >> 2) + VMA_ANON_VMA] = anon_vma;
  anon_vma_chain_link(vma, anon_vma);
  mem32[av(anon_vma, AV_NUM_ACTIVE_VMAS)]++;
}

// mm/rmap.c anon_vma_clone: dst gets a chain entry for every anon_vma of src, in src's order.
// Linux walks src's chain from its tail and reuses the first anon_vma that qualifies; walking
// from the head, that is the last one that does (linking changes no count the test reads).
export function anon_vma_clone(dst: number, src: number): void {
  let reuse = 0;
  let tail = 0;
  // Linux adds each link at the head: src's links end up before any dst already had.
  const had = mem32[(dst >> 2) + VMA_AVC_HEAD];
  mem32[(dst >> 2) + VMA_AVC_HEAD] = 0;
  for (let avc = mem32[(src >> 2) + VMA_AVC_HEAD]; avc; avc = mem32[(avc >> 2) + AVC_SAME_VMA_NEXT]) {
    const anon_vma = mem32[(avc >> 2) + AVC_ANON_VMA];
    mem32[av(anon_vma, AV_REFCOUNT)]++;
    tail = anon_vma_chain_append(dst, tail, anon_vma);
    // Reuse an anon_vma that has no VMA and at most one child left (6.2+).
    if (mem32[av(anon_vma, AV_NUM_CHILDREN)] < 2 && mem32[av(anon_vma, AV_NUM_ACTIVE_VMAS)] === 0) reuse = anon_vma;
  }
  if (tail) mem32[(tail >> 2) + AVC_SAME_VMA_NEXT] = had;
  else mem32[(dst >> 2) + VMA_AVC_HEAD] = had;
  if (!vma_anon_vma(dst) && vma_anon_vma(src) && reuse) mem32[(dst >> 2) + VMA_ANON_VMA] = reuse;
  if (vma_anon_vma(dst)) mem32[av(vma_anon_vma(dst), AV_NUM_ACTIVE_VMAS)]++;
}

// mm/rmap.c anon_vma_fork: the child's VMA links to the parent's anon_vmas and gets its own
export function anon_vma_fork(vma: number, pvma: number): void {
  const parent_av = vma_anon_vma(pvma);
  if (!parent_av) return;
  mem32[(vma >> 2) + VMA_ANON_VMA] = 0;
  mem32[(vma >> 2) + VMA_AVC_HEAD] = 0;
  anon_vma_clone(vma, pvma);
  if (vma_anon_vma(vma)) return;
  const anon_vma = anon_vma_alloc();
  mem32[av(anon_vma, AV_NUM_ACTIVE_VMAS)]++;
  const root = mem32[av(parent_av, AV_ROOT)];
  mem32[av(anon_vma, AV_ROOT)] = root;
  mem32[av(anon_vma, AV_PARENT)] = parent_av;
  mem32[av(root, AV_REFCOUNT)]++;
  mem32[(vma >> 2) + VMA_ANON_VMA] = anon_vma;
  anon_vma_chain_link(vma, anon_vma);
  mem32[av(parent_av, AV_NUM_CHILDREN)]++;
}

// mm/rmap.c unlink_anon_vmas: drop the VMA's chain (when the VMA goes away)
export function unlink_anon_vmas(vma: number): void {
  let avc = mem32[(vma >> 2) + VMA_AVC_HEAD];
  const own = vma_anon_vma(vma);
  if (own) mem32[av(own, AV_NUM_ACTIVE_VMAS)]--;
  while (avc) {
    const next = mem32[(avc >> 2) + AVC_SAME_VMA_NEXT];
    const anon_vma = mem32[(avc >> 2) + AVC_ANON_VMA];
    // The last link gone, the parent has one child less (a root is its own parent).
    if (--mem32[av(anon_vma, AV_NR_AVC)] === 0) mem32[av(mem32[av(anon_vma, AV_PARENT)], AV_NUM_CHILDREN)]--;
    kmem_cache_free(anon_vma_chain_cachep, avc);
    put_anon_vma(anon_vma);
    avc = next;
  }
  mem32[(vma >> 2) + VMA_AVC_HEAD] = 0;
  mem32[(vma >> 2) + VMA_ANON_VMA] = 0;
}
