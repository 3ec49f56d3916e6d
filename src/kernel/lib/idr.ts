// ID allocation (lib/idr.c), in miniature: a table of `max + 1` words in the arena maps ids 1..max
// to objects; a slot is claimed with a compare-and-swap, so CPUs allocating at once get distinct ids.

import { mem32 } from '../../machine/memory.ts';
import { ENOSPC } from '../include/uapi/asm-generic/errno-base.ts';

/** idr_alloc: the lowest free id for `ptr`, or -ENOSPC. */
export function idr_alloc(idr: number, max: number, ptr: number): number {
  for (let id = 1; id <= max; id++) if (Atomics.compareExchange(mem32, (idr >> 2) + id, 0, ptr) === 0) return id;
  return -ENOSPC;
}

/** idr_alloc_cyclic: the next free id after the last one handed out (kept in the word at `next`), or -ENOSPC. */
export function idr_alloc_cyclic(idr: number, next: number, max: number, ptr: number): number {
  for (let tries = 0; tries < max; tries++) {
    const id = (Atomics.add(mem32, next >> 2, 1) % max) + 1;
    if (Atomics.compareExchange(mem32, (idr >> 2) + id, 0, ptr) === 0) return id;
  }
  return -ENOSPC;
}

/** idr_find: the object with this id, or 0. */
export function idr_find(idr: number, max: number, id: number): number {
  if (!Number.isInteger(id) || id < 1 || id > max) return 0;
  return mem32[(idr >> 2) + id];
}

/** idr_remove. */
export function idr_remove(idr: number, id: number): void {
  Atomics.store(mem32, (idr >> 2) + id, 0);
}

/** The ids in use, in order (idr_get_next walked). */
export function idr_ids(idr: number, max: number): number[] {
  const out: number[] = [];
  for (let id = 1; id <= max; id++) if (mem32[(idr >> 2) + id] !== 0) out.push(id);
  return out;
}
