// The bpf(2) system call (kernel/bpf/syscall.c, 5.11; 6.8's attach_tracing_prog from 19bfcdf9498a):
// maps, program load (the verifier, the runtime, an id), lookups by id, object info, tracing
// attach (a link), BTF load, and test runs. Each command is its own function, with the union
// bpf_attr fields it reads as an object; user memory is the caller's typed arrays.

import { mem8, mem32, memf64, PAGE_SIZE, put_string } from '../../../machine/memory.ts';
import { ktime_get_ns } from '../../../machine/clock.ts';
import { define_counter, this_cpu_inc } from '../../../machine/counters.ts';
import { define_global } from '../../../machine/symbols.ts';
import { nr_cpu_ids } from '../../../machine/percpu.ts';
import { kconfig, knob_index } from '../../config.ts';
import { alloc_pages, free_pages } from '../../mm/page_alloc.ts';
import { define_kmem_cache, kmem_cache_free, kmem_cache_zalloc } from '../../mm/slab.ts';
import { SPINLOCK_SIZE, spin_lock, spin_lock_init, spin_unlock } from '../../locking/spinlock.ts';
import { idr_alloc_cyclic, idr_find, idr_ids, idr_remove } from '../../lib/idr.ts';
import { FILE_BPF_LINK, FILE_BPF_MAP, FILE_BPF_PROG, FILE_BTF, fd_install_new, fget, register_file_release } from '../../fs/file.ts';
import { perf_event_get, perf_event_map_get, perf_event_map_put } from '../events/core.ts';
import { JUMP_LABEL_INITIAL } from '../../arch/x86/kernel/jump_label.ts';
import { INSN_SIZE } from '../../arch/x86/include/asm/text-patching.ts';
import {
  array_elem_size, array_map_alloc, bpf_map_put, map_word, M_ID, M_MAX_ENTRIES, M_TYPE, M_VALUE_SIZE, percpu_array_elem,
  array_map_lookup_elem, perf_event_array_slot, type MapAttr,
} from './arraymap.ts';
import { btf_find_by_name_kind, btf_get_by_id, btf_new, btf_type_by_id, btf_vmlinux_init, BTF_KIND_FUNC, type BtfFunc } from './btf.ts';
import {
  bpf_prog_calc_tag, BPF_PROG_SIZE, P_ATTACH_TRACING_PROG, P_BTF_ID, P_DST_PROG, P_DST_TRAMPOLINE,
  P_EXPECTED_ATTACH, P_FUNC_INFO_CNT, P_FUNC_INFO_TYPE, P_GPL, P_ID, P_INSNS, P_INSNS_ORDER, P_JITED, P_LEN, P_LOADED_AT, P_MAPS,
  P_NAME, P_NR_MAPS, P_REFCNT, P_SITE, P_TAG, P_TYPE, P_UID, prog_name,
} from './core.ts';
import { bpf_check, type AttachInfo, type VerifierLog } from './verifier.ts';
import { bpf_trampoline_get, bpf_trampoline_init, bpf_trampoline_link_prog, bpf_trampoline_put, bpf_trampoline_unlink_prog } from './trampoline.ts';
import { bpf_fentry_test1_text, bpf_prog_test_run, kernel_function_site, type TestRunResult } from '../../net/bpf/test_run.ts';
import {
  BPF_COMPLEXITY_LIMIT_INSNS, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_OBJ_NAME_LEN, BPF_PROG_TYPE_CGROUP_SKB,
  BPF_PROG_TYPE_KPROBE, BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_TRACING, BPF_PROG_TYPE_XDP, BPF_TAG_SIZE,
} from '../../include/uapi/linux/bpf.ts';
import './helpers.ts';
import { E2BIG, EBADF, EINVAL, ENOENT, ENOMEM } from '../../include/uapi/asm-generic/errno-base.ts';


const K_JIT = knob_index('bpf.jit_enable');
const K_NESTING = knob_index('bpf.tracing_prog_nesting');

const prog_cachep = define_kmem_cache('bpf_prog', BPF_PROG_SIZE);
// struct bpf_tracing_link: the program and the trampoline it is linked into
const L_PROG = 0;
const L_TRAMPOLINE = 1;
const link_cachep = define_kmem_cache('bpf_link', 8);

const PROG_IDR_MAX = 1024;
const prog_idr = define_global('prog_idr', (PROG_IDR_MAX + 1) * 4);
// kernel/bpf/syscall.c prog_idr: ids are cyclic (idr_alloc_cyclic), so a freed id is not reused soon
const prog_idr_next = define_global('prog_idr_next', 8);
const prog_idr_lock = define_global('prog_idr_lock', SPINLOCK_SIZE);

const nr_loads = define_counter('sim.bpf.prog_loads');
const nr_rejected = define_counter('sim.bpf.prog_rejected');
const nr_attach = define_counter('sim.bpf.tracing_attach');

const PROG_TYPES = [BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_KPROBE, BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_CGROUP_SKB, BPF_PROG_TYPE_TRACING];
// include/linux/license.h license_is_gpl_compatible
const GPL_LICENSES = ['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL'];

// kernel/bpf/syscall.c (boot): vmlinux's BTF, and the test function's __fentry__ site as ftrace leaves it (a NOP)
export function bpf_init(): void {
  spin_lock_init(prog_idr_lock.addr, 'prog_idr_lock');
  bpf_trampoline_init();
  btf_vmlinux_init();
  mem8.set(JUMP_LABEL_INITIAL, bpf_fentry_test1_text.addr);
}

// ---- maps

// kernel/bpf/syscall.c map_create: an fd for a new map, or -errno
export function bpf_map_create(attr: MapAttr): number {
  const map = array_map_alloc(attr);
  if (map < 0) return map;
  const fd = fd_install_new(FILE_BPF_MAP, map);
  if (fd < 0) bpf_map_put(map);
  return fd;
}

register_file_release(FILE_BPF_MAP, bpf_map_put);

// kernel/bpf/syscall.c map_update_elem: an array element from user memory; a perf event fd for a PERF_EVENT_ARRAY
export function bpf_map_update_elem(map_fd: number, key: number, value: Uint8Array): number {
  const map = fget(map_fd, FILE_BPF_MAP);
  if (map === 0) return -EBADF;
  if (key >>> 0 >= map_word(map, M_MAX_ENTRIES)) return -E2BIG;
  const type = map_word(map, M_TYPE);
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  if (type === BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
    // kernel/bpf/arraymap.c perf_event_fd_array_get_ptr
    const ev = perf_event_get(dv.getInt32(0, true));
    if (ev === 0) return -EBADF;
    const err = perf_event_map_get(ev);
    if (err !== 0) return err;
    const old = Atomics.exchange(mem32, perf_event_array_slot(map, key) >> 2, ev);
    if (old !== 0) perf_event_map_put(old);
    return 0;
  }
  const size = map_word(map, M_VALUE_SIZE);
  if (type === BPF_MAP_TYPE_PERCPU_ARRAY) {
    const elem = array_elem_size(map);
    if (value.length < elem * nr_cpu_ids()) return -EINVAL;
    for (let cpu = 0; cpu < nr_cpu_ids(); cpu++) mem8.set(value.subarray(cpu * elem, cpu * elem + size), percpu_array_elem(map, cpu, key));
    return 0;
  }
  if (value.length < size) return -EINVAL;
  mem8.set(value.subarray(0, size), array_map_lookup_elem(map, key));
  return 0;
}

// kernel/bpf/syscall.c map_lookup_elem (bpf_percpu_array_copy for per-CPU maps: every CPU's value,
// each rounded up to 8 bytes): the value, or -errno
export function bpf_map_lookup_elem(map_fd: number, key: number): Uint8Array | number {
  const map = fget(map_fd, FILE_BPF_MAP);
  if (map === 0) return -EBADF;
  if (key >>> 0 >= map_word(map, M_MAX_ENTRIES)) return -ENOENT;
  const type = map_word(map, M_TYPE);
  if (type === BPF_MAP_TYPE_PERF_EVENT_ARRAY) return -EINVAL; // perf_event_array has no lookup from user space (-ENOTSUPP in 5.11; EINVAL here)
  const size = map_word(map, M_VALUE_SIZE);
  if (type === BPF_MAP_TYPE_PERCPU_ARRAY) {
    const elem = array_elem_size(map);
    const out = new Uint8Array(elem * nr_cpu_ids());
    for (let cpu = 0; cpu < nr_cpu_ids(); cpu++) out.set(mem8.subarray(percpu_array_elem(map, cpu, key), percpu_array_elem(map, cpu, key) + size), cpu * elem);
    return out;
  }
  const at = array_map_lookup_elem(map, key);
  return mem8.slice(at, at + size);
}

// ---- programs

export interface ProgLoadAttr {
  prog_type: number;
  expected_attach_type?: number;
  insns: Uint8Array;
  license: string;
  prog_name?: string;
  /** BTF of the program and func_info[0]'s type: the program's function. */
  prog_btf_fd?: number;
  func_info_type_id?: number;
  /** A tracing program's target: another program's fd, and the target function's BTF id. */
  attach_prog_fd?: number;
  attach_btf_id?: number;
  log_level?: number;
  uid?: number;
}

/** What BPF_PROG_LOAD gives back: the fd or -errno, and the verifier's log. */
export interface ProgLoadResult {
  fd: number;
  log: string;
}

function bpf_prog_inc(prog: number): void {
  Atomics.add(mem32, (prog >> 2) + P_REFCNT, 1);
}

// kernel/bpf/syscall.c bpf_prog_put → __bpf_prog_put_noref: the last reference frees it and its id
export function bpf_prog_put(prog: number): void {
  const p = prog >> 2;
  // prog_idr_lock: the last reference and the id go together, so a lookup by id never takes a dying program
  spin_lock(prog_idr_lock.addr);
  const last = Atomics.sub(mem32, p + P_REFCNT, 1) === 1;
  if (last && mem32[p + P_ID] !== 0) idr_remove(prog_idr.addr, mem32[p + P_ID]);
  spin_unlock(prog_idr_lock.addr);
  if (!last) return;
  if (mem32[p + P_DST_TRAMPOLINE] !== 0) bpf_trampoline_put(mem32[p + P_DST_TRAMPOLINE]);
  if (mem32[p + P_DST_PROG] !== 0) bpf_prog_put(mem32[p + P_DST_PROG]);
  for (let i = 0; i < mem32[p + P_NR_MAPS]; i++) bpf_map_put(mem32[p + P_MAPS + i]);
  free_pages(mem32[p + P_INSNS], mem32[p + P_INSNS_ORDER]);
  kmem_cache_free(prog_cachep, prog);
}

register_file_release(FILE_BPF_PROG, bpf_prog_put);

// kernel/bpf/syscall.c bpf_prog_load
export function bpf_prog_load(attr: ProgLoadAttr): ProgLoadResult {
  const log: VerifierLog = { level: attr.log_level ?? 0, text: '' };
  const fail = (err: number): ProgLoadResult => {
    this_cpu_inc(nr_rejected);
    return { fd: err, log: log.text };
  };
  if (!PROG_TYPES.includes(attr.prog_type)) return fail(-EINVAL);
  const len = attr.insns.length / 8;
  if (len === 0 || !Number.isInteger(len) || len > BPF_COMPLEXITY_LIMIT_INSNS) return fail(-E2BIG);
  let dst_prog = 0;
  if (attr.attach_prog_fd) {
    dst_prog = fget(attr.attach_prog_fd, FILE_BPF_PROG);
    if (dst_prog === 0) return fail(-EBADF);
  }
  let btf = 0;
  if (attr.prog_btf_fd) {
    btf = fget(attr.prog_btf_fd, FILE_BTF);
    if (btf === 0) return fail(-EBADF);
    // kernel/bpf/verifier.c check_btf_func: func_info[0] is a FUNC of that BTF at insn 0
    if (!btf_type_by_id(btf, attr.func_info_type_id ?? 0)) return fail(-EINVAL);
  }
  const prog = kmem_cache_zalloc(prog_cachep);
  if (prog === 0) return fail(-ENOMEM);
  let order = 0;
  while (PAGE_SIZE << order < attr.insns.length) order++;
  const insns = alloc_pages(order);
  if (insns === 0) {
    kmem_cache_free(prog_cachep, prog);
    return fail(-ENOMEM);
  }
  mem8.set(attr.insns, insns);
  const p = prog >> 2;
  mem32[p + P_TYPE] = attr.prog_type;
  mem32[p + P_EXPECTED_ATTACH] = attr.expected_attach_type ?? 0;
  mem32[p + P_LEN] = len;
  mem32[p + P_INSNS] = insns;
  mem32[p + P_INSNS_ORDER] = order;
  mem32[p + P_REFCNT] = 1;
  mem32[p + P_GPL] = GPL_LICENSES.includes(attr.license) ? 1 : 0;
  mem32[p + P_UID] = attr.uid ?? 0;
  put_string(prog + P_NAME, attr.prog_name ?? '', BPF_OBJ_NAME_LEN - 1);
  if (btf) {
    mem32[p + P_BTF_ID] = mem32[btf >> 2];
    mem32[p + P_FUNC_INFO_CNT] = 1;
    mem32[p + P_FUNC_INFO_TYPE] = attr.func_info_type_id!;
  }
  if (dst_prog) {
    bpf_prog_inc(dst_prog);
    mem32[p + P_DST_PROG] = dst_prog;
    // 6.8: a tracing program loaded for a tracing program is marked before the verifier runs
    if (kconfig(K_NESTING) && attr.prog_type === BPF_PROG_TYPE_TRACING && mem32[(dst_prog >> 2) + P_TYPE] === BPF_PROG_TYPE_TRACING) mem32[p + P_ATTACH_TRACING_PROG] = 1;
  }
  mem8.set(bpf_prog_calc_tag(attr.insns), prog + P_TAG);
  const attach: AttachInfo = { tname: '', nr_args: 0 };
  const err = bpf_check(prog, { tgt_prog: dst_prog, btf_id: attr.attach_btf_id ?? 0 }, log, attach);
  if (err !== 0) {
    bpf_prog_put(prog);
    return fail(err);
  }
  if (attr.prog_type === BPF_PROG_TYPE_TRACING) {
    // kernel/bpf/verifier.c check_attach_btf_id: the trampoline of the target (a program's entry, or the function's)
    const site = dst_prog ? dst_prog + P_SITE : kernel_function_site(attach.tname);
    const tr = site ? bpf_trampoline_get(site, dst_prog ? 1 : attach.nr_args, dst_prog !== 0) : 0;
    if (tr === 0) {
      bpf_prog_put(prog);
      return fail(-ENOMEM);
    }
    mem32[p + P_DST_TRAMPOLINE] = tr;
  }
  // kernel/bpf/core.c bpf_prog_select_runtime: the JIT (when enabled) emits the patchable entry
  mem32[p + P_JITED] = kconfig(K_JIT);
  mem8.set(JUMP_LABEL_INITIAL, prog + P_SITE);
  memf64[(prog >> 3) + P_LOADED_AT] = ktime_get_ns();
  const id = idr_alloc_cyclic(prog_idr.addr, prog_idr_next.addr, PROG_IDR_MAX, prog);
  if (id < 0) {
    bpf_prog_put(prog);
    return fail(id);
  }
  mem32[p + P_ID] = id;
  const fd = fd_install_new(FILE_BPF_PROG, prog);
  if (fd < 0) bpf_prog_put(prog);
  else this_cpu_inc(nr_loads);
  return { fd, log: log.text };
}

// kernel/bpf/syscall.c bpf_prog_get_fd_by_id: a new fd for the program with this id, or -ENOENT
export function bpf_prog_get_fd_by_id(id: number): number {
  spin_lock(prog_idr_lock.addr);
  const prog = idr_find(prog_idr.addr, PROG_IDR_MAX, id);
  if (prog !== 0) bpf_prog_inc(prog);
  spin_unlock(prog_idr_lock.addr);
  if (prog === 0) return -ENOENT;
  const fd = fd_install_new(FILE_BPF_PROG, prog);
  if (fd < 0) bpf_prog_put(prog);
  return fd;
}

/** The ids of the loaded programs, in order (bpf_prog_get_next_id). */
export function bpf_prog_ids(): number[] {
  return idr_ids(prog_idr.addr, PROG_IDR_MAX);
}

/** struct bpf_prog_info, the fields this kernel fills. */
export interface BpfProgInfo {
  type: number;
  id: number;
  tag: Uint8Array;
  jited_prog_len: number;
  xlated_prog_len: number;
  load_time: number;
  created_by_uid: number;
  map_ids: number[];
  name: string;
  gpl_compatible: boolean;
  btf_id: number;
  /** func_info's type ids (nr_func_info of them). */
  func_info: number[];
  /** fdinfo's memlock: bpf_prog_size (the record and its instructions) rounded up to pages. */
  memlock: number;
}

// kernel/bpf/syscall.c bpf_prog_get_info_by_fd
export function bpf_obj_get_info_by_fd(fd: number): BpfProgInfo | number {
  const prog = fget(fd, FILE_BPF_PROG);
  if (prog === 0) return -EBADF;
  const p = prog >> 2;
  const len = mem32[p + P_LEN];
  return {
    type: mem32[p + P_TYPE],
    id: mem32[p + P_ID],
    tag: mem8.slice(prog + P_TAG, prog + P_TAG + BPF_TAG_SIZE),
    // the "JIT" keeps the instructions and puts the 5 patchable bytes in front of them
    jited_prog_len: mem32[p + P_JITED] ? INSN_SIZE + 8 * len : 0,
    xlated_prog_len: 8 * len,
    load_time: memf64[(prog >> 3) + P_LOADED_AT],
    created_by_uid: mem32[p + P_UID],
    map_ids: Array.from({ length: mem32[p + P_NR_MAPS] }, (_, i) => map_word(mem32[p + P_MAPS + i], M_ID)),
    name: prog_name(prog),
    gpl_compatible: mem32[p + P_GPL] === 1,
    btf_id: mem32[p + P_BTF_ID],
    func_info: mem32[p + P_FUNC_INFO_CNT] ? [mem32[p + P_FUNC_INFO_TYPE]] : [],
    memlock: Math.ceil((BPF_PROG_SIZE + 8 * len) / PAGE_SIZE) * PAGE_SIZE,
  };
}

// ---- tracing links

function bpf_link_release(link: number): void {
  const prog = mem32[(link >> 2) + L_PROG];
  const tr = mem32[(link >> 2) + L_TRAMPOLINE];
  bpf_trampoline_unlink_prog(prog, tr);
  bpf_trampoline_put(tr);
  bpf_prog_put(prog);
  kmem_cache_free(link_cachep, link);
}

register_file_release(FILE_BPF_LINK, bpf_link_release);

// kernel/bpf/syscall.c bpf_raw_tracepoint_open (no name) → bpf_tracing_prog_attach: link a loaded
// fentry/fexit program into the trampoline its load found; the link's fd, or -errno
export function bpf_raw_tracepoint_open(prog_fd: number): number {
  const prog = fget(prog_fd, FILE_BPF_PROG);
  if (prog === 0) return -EBADF;
  const p = prog >> 2;
  if (mem32[p + P_TYPE] !== BPF_PROG_TYPE_TRACING) return -EINVAL;
  // the trampoline from the load is consumed by the first attach (5.10+: a second needs a new target)
  const tr = mem32[p + P_DST_TRAMPOLINE];
  if (tr === 0) return -ENOENT;
  const link = kmem_cache_zalloc(link_cachep);
  if (link === 0) return -ENOMEM;
  const err = bpf_trampoline_link_prog(prog, tr);
  if (err !== 0) {
    kmem_cache_free(link_cachep, link);
    return err;
  }
  this_cpu_inc(nr_attach);
  mem32[p + P_DST_TRAMPOLINE] = 0;
  bpf_prog_inc(prog);
  mem32[(link >> 2) + L_PROG] = prog;
  mem32[(link >> 2) + L_TRAMPOLINE] = tr;
  const fd = fd_install_new(FILE_BPF_LINK, link);
  if (fd < 0) bpf_link_release(link);
  return fd;
}

// ---- BTF

// kernel/bpf/btf.c btf_new_fd (BPF_BTF_LOAD)
export function bpf_btf_load(funcs: readonly BtfFunc[]): number {
  const id = btf_new(funcs);
  if (id < 0) return id;
  return fd_install_new(FILE_BTF, btf_get_by_id(id));
}

// kernel/bpf/btf.c btf_get_fd_by_id
export function bpf_btf_get_fd_by_id(id: number): number {
  const btf = btf_get_by_id(id);
  if (btf === 0) return -ENOENT;
  return fd_install_new(FILE_BTF, btf);
}

/** BTF objects stay for the machine's life (their refcounts are not modeled). */
register_file_release(FILE_BTF, () => {});

/** The id of the FUNC named `name` in the BTF object behind fd, or -errno. */
export function btf_fd_find_func(fd: number, name: string): number {
  const btf = fget(fd, FILE_BTF);
  return btf === 0 ? -EBADF : btf_find_by_name_kind(btf, name, BTF_KIND_FUNC);
}

/** The name of a type of the BTF object behind fd (btf__type_by_id + btf__name_by_offset), or null. */
export function btf_fd_type_name(fd: number, type_id: number): string | null {
  const btf = fget(fd, FILE_BTF);
  return btf === 0 ? null : btf_type_by_id(btf, type_id)?.name ?? null;
}

// ---- test runs

// kernel/bpf/syscall.c bpf_prog_test_run
export function bpf_prog_test_run_fd(prog_fd: number, data: Uint8Array, repeat: number, out: TestRunResult): void {
  const prog = fget(prog_fd, FILE_BPF_PROG);
  if (prog === 0) {
    out.err = -EBADF;
    return;
  }
  bpf_prog_test_run(prog, data, repeat, out);
}
