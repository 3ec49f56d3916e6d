// BPF Type Format (kernel/bpf/btf.c), in miniature: a BTF object is a table of types with names;
// the kinds that matter here are FUNC (a function, with the number of its arguments standing in
// for its FUNC_PROTO) and the void type 0. The kernel's own BTF (vmlinux, id 1) describes the
// functions tracing programs may attach to; a program loaded with BTF names its function through
// func_info[0].type_id in its BTF object. BTF objects are records in the arena, found by id.

import { mem8, mem32 } from '../../../machine/memory.ts';
import { define_global } from '../../../machine/symbols.ts';
import { define_kmem_cache, kmem_cache_free, kmem_cache_zalloc } from '../../mm/slab.ts';
import { idr_alloc, idr_find } from '../../lib/idr.ts';
import { E2BIG, ENOENT, ENOSPC } from '../../include/uapi/asm-generic/errno-base.ts';

export const BTF_KIND_FUNC = 12;

// struct btf: id, type count, then per type [kind, vlen, name offset], then the string section
const B_ID = 0;
const B_NR_TYPES = 1;
const B_STR_LEN = 2;
const B_TYPES = 4;
export const BTF_MAX_TYPES = 16;
const B_STRINGS = (B_TYPES + 3 * BTF_MAX_TYPES) * 4;
const BTF_STR_MAX = 512;
const BTF_SIZE = B_STRINGS + BTF_STR_MAX;
const btf_cachep = define_kmem_cache('btf', BTF_SIZE);

/** The kernel's BTF objects by id (btf_idr); id 1 is vmlinux's. */
const BTF_IDR_MAX = 256;
const btf_idr = define_global('btf_idr', (BTF_IDR_MAX + 1) * 4);

export interface BtfFunc {
  name: string;
  nr_args: number;
}

// kernel/bpf/btf.c btf_parse + btf_alloc_id: a new BTF object of FUNC types (type ids 1..n); its id, or -errno
export function btf_new(funcs: readonly BtfFunc[]): number {
  if (funcs.length > BTF_MAX_TYPES) return -E2BIG;
  const btf = kmem_cache_zalloc(btf_cachep);
  if (btf === 0) return -ENOSPC;
  const b = btf >> 2;
  let str = 1; // offset 0 is the empty name, as in BTF
  for (const [i, f] of funcs.entries()) {
    const bytes = new TextEncoder().encode(f.name);
    if (str + bytes.length + 1 > BTF_STR_MAX) {
      kmem_cache_free(btf_cachep, btf);
      return -E2BIG;
    }
    mem8.set(bytes, btf + B_STRINGS + str);
    mem32[b + B_TYPES + 3 * i] = BTF_KIND_FUNC;
    mem32[b + B_TYPES + 3 * i + 1] = f.nr_args;
    mem32[b + B_TYPES + 3 * i + 2] = str;
    str += bytes.length + 1;
  }
  mem32[b + B_NR_TYPES] = funcs.length;
  mem32[b + B_STR_LEN] = str;
  const id = idr_alloc(btf_idr.addr, BTF_IDR_MAX, btf);
  if (id < 0) kmem_cache_free(btf_cachep, btf);
  else mem32[b + B_ID] = id;
  return id;
}

/** The BTF object with this id, or 0 (btf_get_by_fd / btf_get_fd_by_id). */
export function btf_get_by_id(id: number): number {
  return idr_find(btf_idr.addr, BTF_IDR_MAX, id);
}

/** A type of a BTF object (btf_type_by_id): its kind, name and argument count, or null. */
export function btf_type_by_id(btf: number, type_id: number): { kind: number; name: string; nr_args: number } | null {
  const b = btf >> 2;
  if (type_id < 1 || type_id > mem32[b + B_NR_TYPES]) return null;
  const t = b + B_TYPES + 3 * (type_id - 1);
  const off = btf + B_STRINGS + mem32[t + 2];
  let n = 0;
  while (mem8[off + n] !== 0) n++;
  return { kind: mem32[t], nr_args: mem32[t + 1], name: new TextDecoder().decode(mem8.slice(off, off + n)) };
}

/** btf_find_by_name_kind: the id of the type named `name` of kind `kind`, or -ENOENT. */
export function btf_find_by_name_kind(btf: number, name: string, kind: number): number {
  for (let id = 1; id <= mem32[(btf >> 2) + B_NR_TYPES]; id++) {
    const t = btf_type_by_id(btf, id);
    if (t && t.kind === kind && t.name === name) return id;
  }
  return -ENOENT;
}

/** The kernel functions vmlinux's BTF describes (net/bpf/test_run.c's test functions). */
export const VMLINUX_FUNCS: readonly BtfFunc[] = [{ name: 'bpf_fentry_test1', nr_args: 1 }];

// kernel/bpf/btf.c btf_parse_vmlinux (boot): vmlinux's BTF, id 1
export function btf_vmlinux_init(): void {
  if (btf_new(VMLINUX_FUNCS) !== 1) throw new Error('btf_vmlinux_init: vmlinux BTF is not id 1');
}

export function btf_vmlinux(): number {
  return btf_get_by_id(1);
}
