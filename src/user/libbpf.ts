// The user-space side of bpf(2) (tools/lib/bpf, libbpf v0.3 of early 2021): bpf.c's thin syscall
// wrappers, and libbpf.c's object and skeleton handling — maps created before programs, a program
// load retried with a verifier log on failure, the warnings it prints with its default print
// callback (warnings and info reach stderr with no verbose flag), and attaching tracing programs.

import { syscall_enter_from_user_mode as enter, syscall_exit_to_user_mode as exit } from '../kernel/entry/common.ts';
import {
  bpf_btf_get_fd_by_id as sys_btf_get_fd_by_id, bpf_btf_load as sys_btf_load, bpf_map_create as sys_map_create,
  bpf_map_lookup_elem as sys_map_lookup_elem, bpf_map_update_elem as sys_map_update_elem, bpf_obj_get_info_by_fd as sys_obj_get_info,
  bpf_prog_get_fd_by_id as sys_prog_get_fd_by_id, bpf_prog_ids, bpf_prog_load as sys_prog_load, bpf_prog_test_run_fd,
  bpf_raw_tracepoint_open as sys_raw_tracepoint_open, btf_fd_type_name, btf_fd_find_func, type BpfProgInfo, type ProgLoadAttr,
} from '../kernel/kernel/bpf/syscall.ts';
import type { MapAttr } from '../kernel/kernel/bpf/arraymap.ts';
import type { BtfFunc } from '../kernel/kernel/bpf/btf.ts';
import type { TestRunResult } from '../kernel/net/bpf/test_run.ts';
import { close_fd } from '../kernel/fs/file.ts';
import { bpf_insns_encode, type BpfInsn } from '../kernel/include/linux/filter.ts';
import { BPF_PROG_TYPE_TRACING } from '../kernel/include/uapi/linux/bpf.ts';
import type { Stdio } from './stdio.ts';
import { strerror } from './strerror.ts';

function sys<T>(fn: () => T): T {
  enter();
  try {
    return fn();
  } finally {
    exit();
  }
}

// ---- tools/lib/bpf/bpf.c

export const bpf_create_map = (attr: MapAttr) => sys(() => sys_map_create(attr));
export const bpf_map_update_elem = (fd: number, key: number, value: Uint8Array) => sys(() => sys_map_update_elem(fd, key, value));
export const bpf_map_lookup_elem = (fd: number, key: number) => sys(() => sys_map_lookup_elem(fd, key));
export const bpf_prog_get_fd_by_id = (id: number) => sys(() => sys_prog_get_fd_by_id(id));
export const bpf_btf_get_fd_by_id = (id: number) => sys(() => sys_btf_get_fd_by_id(id));
export const bpf_obj_get_info_by_fd = (fd: number): BpfProgInfo | number => sys(() => sys_obj_get_info(fd));
export const bpf_raw_tracepoint_open = (prog_fd: number) => sys(() => sys_raw_tracepoint_open(prog_fd));
export const bpf_load_program_xattr = (attr: ProgLoadAttr) => sys(() => sys_prog_load(attr));
/** bpf_prog_get_next_id, walked to the end. */
export const bpf_prog_get_ids = () => sys(() => bpf_prog_ids());
export const bpf_close = (fd: number) => sys(() => close_fd(fd));
export const bpf_load_btf = (funcs: readonly BtfFunc[]) => sys(() => sys_btf_load(funcs));

const test_run_out: TestRunResult = { err: 0, retval: 0, duration: 0 };

/** bpf_prog_test_run: the result is reused by the next call (no allocation per run). */
export function bpf_prog_test_run(prog_fd: number, repeat: number, data: Uint8Array): TestRunResult {
  enter();
  bpf_prog_test_run_fd(prog_fd, data, repeat, test_run_out);
  exit();
  return test_run_out;
}

/** The kernel's BTF (/sys/kernel/btf/vmlinux) is BTF object 1. */
const VMLINUX_BTF_ID = 1;

/** btf__get_from_id: `fn` on an fd of BTF object `btf_id`, closed after; or `missing` when there is no such object. */
function with_btf<T>(btf_id: number, missing: (err: number) => T, fn: (fd: number) => T): T {
  const fd = bpf_btf_get_fd_by_id(btf_id);
  if (fd < 0) return missing(fd);
  const r = sys(() => fn(fd));
  bpf_close(fd);
  return r;
}

/** btf__type_by_id + btf__name_by_offset: a FUNC's name in BTF object `btf_id`, or null. */
export function btf_func_name(btf_id: number, type_id: number): string | null {
  return with_btf(btf_id, () => null, (fd) => btf_fd_type_name(fd, type_id));
}

/** btf__find_by_name_kind(BTF_KIND_FUNC) in BTF object `btf_id`: the type id, or -errno. */
export function btf_find_func(btf_id: number, name: string): number {
  return with_btf(btf_id, (err) => err, (fd) => btf_fd_find_func(fd, name));
}

/** bpf_prog_get_next_id walked, with each program's info (what `bpftool prog` lists). */
export function bpf_prog_infos(): BpfProgInfo[] {
  const out: BpfProgInfo[] = [];
  for (const id of bpf_prog_get_ids()) {
    const fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;
    const info = bpf_obj_get_info_by_fd(fd);
    bpf_close(fd);
    if (typeof info !== 'number') out.push(info);
  }
  return out;
}

// ---- tools/lib/bpf/libbpf.c: objects and skeletons

/** LIBBPF_ERRNO__VERIFY: "Kernel verifier blocks program loading" (libbpf.h: __LIBBPF_ERRNO__START 4000 + 7). */
export const LIBBPF_ERRNO__VERIFY = 4007;
/** The log level libbpf's retry asks for (bpf_load_program_xattr: 1 when it passes a log buffer). */
const BPF_LOG_LEVEL = 1;

export interface MapDef extends MapAttr {
  name: string;
}

export interface ProgDef {
  name: string;
  /** The ELF section: "fentry/XXX", "fexit/XXX", "xdp", ... */
  sec: string;
  prog_type: number;
  expected_attach_type?: number;
  /** The program, given the fds of the object's maps by name. */
  insns(map_fds: Record<string, number>): readonly (BpfInsn | readonly BpfInsn[])[];
  /** The program's BTF: its function (func_info[0]). */
  btf?: { func: string; nr_args: number };
}

export interface ObjectDef {
  name: string;
  license: string;
  maps: readonly MapDef[];
  progs: readonly ProgDef[];
}

export interface BpfProgram {
  def: ProgDef;
  fd: number;
  attach_prog_fd: number;
  attach_btf_id: number;
  link: number;
}

export interface BpfObject {
  def: ObjectDef;
  maps: Record<string, MapDef & { fd: number }>;
  progs: BpfProgram[];
  io: Stdio;
  btf_fd: number;
}

/** bpf_object__open_mem / the skeleton's __open: nothing in the kernel yet. */
export function bpf_object__open(def: ObjectDef, io: Stdio): BpfObject {
  const maps: BpfObject['maps'] = {};
  for (const m of def.maps) maps[m.name] = { ...m, fd: -1 };
  return { def, maps, progs: def.progs.map((p) => ({ def: p, fd: -1, attach_prog_fd: 0, attach_btf_id: 0, link: -1 })), io, btf_fd: -1 };
}

/** bpf_map__resize. */
export function bpf_map__resize(obj: BpfObject, map: string, max_entries: number): void {
  obj.maps[map].max_entries = max_entries;
}

/** bpf_program__set_attach_target: the target program's fd and its function's name; 0 or -errno. */
export function bpf_program__set_attach_target(obj: BpfObject, prog: BpfProgram, attach_prog_fd: number, func: string): number {
  // libbpf_find_prog_btf_id: the target's BTF, and the FUNC of that name in it
  const info = bpf_obj_get_info_by_fd(attach_prog_fd);
  if (typeof info === 'number') return info;
  if (info.btf_id === 0) {
    obj.io.err(`libbpf: target prog_fd ${attach_prog_fd} doesn't have BTF`);
    return -22;
  }
  const id = btf_find_func(info.btf_id, func);
  if (id < 0) {
    obj.io.err(`libbpf: ${func} is not found in prog's BTF`);
    return id;
  }
  prog.attach_prog_fd = attach_prog_fd;
  prog.attach_btf_id = id;
  return 0;
}

/** libbpf.c load_program: one try without a log, then one with; -errno or -LIBBPF_ERRNO__VERIFY. */
function load_program(obj: BpfObject, prog: BpfProgram): number {
  const map_fds = Object.fromEntries(Object.entries(obj.maps).map(([k, m]) => [k, m.fd]));
  const func_type = obj.progs.filter((p) => p.def.btf).indexOf(prog) + 1;
  const attr: ProgLoadAttr = {
    prog_type: prog.def.prog_type,
    ...(prog.def.btf && { prog_btf_fd: obj.btf_fd, func_info_type_id: func_type }),
    expected_attach_type: prog.def.expected_attach_type,
    insns: bpf_insns_encode(prog.def.insns(map_fds)),
    license: obj.def.license,
    prog_name: prog.def.name.slice(0, 15),
    attach_prog_fd: prog.attach_prog_fd,
    attach_btf_id: prog.attach_btf_id,
  };
  // libbpf_find_attach_btf_id: "fentry/<function>" of a program without a target program is a kernel function
  if (prog.def.prog_type === BPF_PROG_TYPE_TRACING && !prog.attach_prog_fd) {
    const id = btf_find_func(VMLINUX_BTF_ID, prog.def.sec.slice(prog.def.sec.indexOf('/') + 1));
    if (id < 0) {
      obj.io.err(`libbpf: failed to find kernel BTF type ID of '${prog.def.sec}': ${id}`);
      return id;
    }
    attr.attach_btf_id = id;
  }
  let r = bpf_load_program_xattr(attr);
  if (r.fd >= 0) {
    prog.fd = r.fd;
    return 0;
  }
  r = bpf_load_program_xattr({ ...attr, log_level: BPF_LOG_LEVEL });
  if (r.fd >= 0) {
    prog.fd = r.fd;
    return 0;
  }
  obj.io.err(`libbpf: load bpf program failed: ${strerror(-r.fd)}`);
  if (r.log !== '') {
    obj.io.err('libbpf: -- BEGIN DUMP LOG ---');
    // pr_warn("\n%s\n", log_buf): the prefix, then the log's lines, then an empty line
    const lines = `libbpf: \n${r.log}\n`.split('\n');
    lines.pop();
    for (const line of lines) obj.io.err(line);
    obj.io.err('libbpf: -- END LOG --');
    return -LIBBPF_ERRNO__VERIFY;
  }
  return r.fd;
}

/** bpf_object__load_skeleton: the object's BTF, maps, then programs; 0, or the error (and libbpf's warnings). */
export function bpf_object__load(obj: BpfObject): number {
  const funcs = obj.progs.flatMap((p) => (p.def.btf ? [{ name: p.def.btf.func, nr_args: p.def.btf.nr_args }] : []));
  if (funcs.length > 0) {
    // bpf_object__load_btf: the .BTF section's FUNCs, one per program, in program order
    obj.btf_fd = bpf_load_btf(funcs);
    if (obj.btf_fd < 0) {
      obj.io.err(`libbpf: Error loading .BTF into kernel: ${obj.btf_fd}.`);
      return fail_load(obj, obj.btf_fd);
    }
  }
  for (const m of Object.values(obj.maps)) {
    m.fd = bpf_create_map(m);
    if (m.fd < 0) {
      obj.io.err(`libbpf: failed to create map '${m.name}': ${strerror(-m.fd)}(${m.fd})`);
      return fail_load(obj, m.fd);
    }
  }
  for (const prog of obj.progs) {
    const err = load_program(obj, prog);
    if (err !== 0) {
      obj.io.err(`libbpf: failed to load program '${prog.def.name}'`);
      return fail_load(obj, err);
    }
  }
  return 0;
}

function fail_load(obj: BpfObject, err: number): number {
  obj.io.err(`libbpf: failed to load object '${obj.def.name}'`);
  obj.io.err(`libbpf: failed to load BPF skeleton '${obj.def.name}': ${err}`);
  return err;
}

/** bpf_object__attach_skeleton: each tracing program's link (bpf_program__attach_trace); 0 or -errno. */
export function bpf_object__attach(obj: BpfObject): number {
  for (const prog of obj.progs) {
    if (prog.def.prog_type !== BPF_PROG_TYPE_TRACING) continue;
    const link = bpf_raw_tracepoint_open(prog.fd);
    if (link < 0) {
      obj.io.err(`libbpf: prog '${prog.def.name}': failed to attach: ${strerror(-link)}`);
      obj.io.err(`libbpf: failed to auto-attach program '${prog.def.name}': ${link}`);
      return link;
    }
    prog.link = link;
  }
  return 0;
}

/** bpf_object__destroy_skeleton: links, programs, maps closed. */
export function bpf_object__destroy(obj: BpfObject): void {
  for (const prog of obj.progs) {
    if (prog.link >= 0) bpf_close(prog.link);
    if (prog.fd >= 0) bpf_close(prog.fd);
    prog.link = prog.fd = -1;
  }
  for (const m of Object.values(obj.maps)) {
    if (m.fd >= 0) bpf_close(m.fd);
    m.fd = -1;
  }
  if (obj.btf_fd >= 0) bpf_close(obj.btf_fd);
}
