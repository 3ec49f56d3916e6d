// tools/perf/util/bpf_counter.c (Song Liu, v7 of "perf-stat: enable counting events for BPF
// programs", merged for 5.12): per event, one bpf_prog_profiler skeleton per target program,
// attached to it with fentry and fexit; the event's per-CPU perf events go into the skeleton's
// `events` map, and a read sums `accum_readings` over the CPUs.

import { nr_cpu_ids } from '../../machine/percpu.ts';
import {
  bpf_close, bpf_map__resize, bpf_map_lookup_elem, bpf_map_update_elem, bpf_obj_get_info_by_fd, bpf_object__attach, bpf_object__destroy,
  bpf_object__load, bpf_object__open, bpf_prog_get_fd_by_id, bpf_program__set_attach_target, btf_func_name, type BpfObject,
} from '../libbpf.ts';
import { bpf_prog_profiler_bpf } from './bpf_skel/bpf_prog_profiler.ts';
import type { Stdio } from '../stdio.ts';

/** Counts as perf keeps them per CPU (struct perf_counts_values). */
export interface CountsValues {
  val: number;
  ena: number;
  run: number;
}

/** The part of struct evsel that bpf_counter uses. */
export interface Evsel {
  name: string;
  config: number;
  /** The per-CPU perf event fds (FD(evsel, cpu, 0)). */
  fds: number[];
  bpf_counter_list: BpfObject[];
  counts: CountsValues[];
}

export interface BpfCounterEnv {
  io: Stdio;
  /** perf's -v count: pr_debug prints at 1 and above. */
  verbose: number;
}

const u64 = (b: Uint8Array, off: number) => {
  const dv = new DataView(b.buffer, b.byteOffset);
  return dv.getUint32(off, true) + dv.getUint32(off + 4, true) * 4294967296;
};

// bpf_target_prog_name: the name of func_info[0] in the program's BTF, or null
function bpf_target_prog_name(tgt_fd: number, env: BpfCounterEnv): string | null {
  const info = bpf_obj_get_info_by_fd(tgt_fd);
  if (typeof info === 'number') {
    if (env.verbose > 0) env.io.err(`failed to get info_linear for prog FD ${tgt_fd}`);
    return null;
  }
  const name = info.btf_id === 0 ? null : btf_func_name(info.btf_id, info.func_info[0] ?? 0);
  if (info.btf_id === 0 || name === null) {
    if (env.verbose > 0) env.io.err(`prog FD ${tgt_fd} doesn't have valid btf`);
    return null;
  }
  return name;
}

function bpf_program_profiler_load_one(evsel: Evsel, prog_id: number, env: BpfCounterEnv): number {
  const prog_fd = bpf_prog_get_fd_by_id(prog_id);
  if (prog_fd < 0) {
    env.io.err(`Failed to open fd for bpf prog ${prog_id}`);
    return -1;
  }
  const skel = bpf_object__open(bpf_prog_profiler_bpf, env.io);
  const fail = () => {
    bpf_object__destroy(skel);
    bpf_close(prog_fd);
    return -1;
  };
  bpf_map__resize(skel, 'events', nr_cpu_ids());
  bpf_map__resize(skel, 'fentry_readings', 1);
  bpf_map__resize(skel, 'accum_readings', 1);
  const prog_name = bpf_target_prog_name(prog_fd, env);
  if (prog_name === null) {
    env.io.err(`Failed to get program name for bpf prog ${prog_id}. Does it have BTF?`);
    return fail();
  }
  for (const prog of skel.progs) {
    if (bpf_program__set_attach_target(skel, prog, prog_fd, prog_name) !== 0) {
      env.io.err('bpf_program__set_attach_target failed.');
      env.io.err(`Does bpf prog ${prog_id} have BTF?`);
      return fail();
    }
  }
  if (bpf_object__load(skel) !== 0) {
    env.io.err('bpf_prog_profiler_bpf__load failed');
    return fail();
  }
  evsel.bpf_counter_list.push(skel);
  bpf_close(prog_fd);
  return 0;
}

// bpf_program_profiler__load: parse the ids (strtoul: 0, UINT_MAX or trailing garbage is an error)
export function bpf_program_profiler__load(evsel: Evsel, bpf_str: string, env: BpfCounterEnv): number {
  for (const tok of bpf_str.split(',').filter((t) => t !== '')) {
    const m = /^\s*[+]?(\d*)(.*)$/.exec(tok)!;
    const prog_id = m[1] === '' ? 0 : Number(m[1]);
    if (prog_id === 0 || prog_id >= 0xffffffff || m[2] !== '') {
      env.io.err(`Failed to parse bpf prog ids ${bpf_str}`);
      return -1;
    }
    if (bpf_program_profiler_load_one(evsel, prog_id, env) !== 0) {
      bpf_program_profiler__destroy(evsel);
      return -1;
    }
  }
  return 0;
}

export function bpf_program_profiler__enable(evsel: Evsel): number {
  for (const skel of evsel.bpf_counter_list) {
    const ret = bpf_object__attach(skel);
    if (ret !== 0) {
      bpf_program_profiler__destroy(evsel);
      return ret;
    }
  }
  return 0;
}

// bpf_program_profiler__read: the accumulated readings, summed per CPU over the skeletons
export function bpf_program_profiler__read(evsel: Evsel): number {
  if (evsel.bpf_counter_list.length === 0) return -11; // -EAGAIN
  const num_cpu = nr_cpu_ids();
  evsel.counts = Array.from({ length: num_cpu }, () => ({ val: 0, ena: 0, run: 0 }));
  for (const skel of evsel.bpf_counter_list) {
    const values = bpf_map_lookup_elem(skel.maps.accum_readings.fd, 0);
    if (typeof values === 'number') return values;
    for (let cpu = 0; cpu < num_cpu; cpu++) {
      evsel.counts[cpu].val += u64(values, cpu * 24);
      evsel.counts[cpu].ena += u64(values, cpu * 24 + 8);
      evsel.counts[cpu].run += u64(values, cpu * 24 + 16);
    }
  }
  return 0;
}

// bpf_program_profiler__install_pe: this CPU's event into each skeleton's `events`
export function bpf_program_profiler__install_pe(evsel: Evsel, cpu: number, fd: number): number {
  const value = new Uint8Array(4);
  new DataView(value.buffer).setInt32(0, fd, true);
  for (const skel of evsel.bpf_counter_list) {
    const ret = bpf_map_update_elem(skel.maps.events.fd, cpu, value);
    if (ret !== 0) return ret;
  }
  return 0;
}

export function bpf_program_profiler__destroy(evsel: Evsel): void {
  for (const skel of evsel.bpf_counter_list) bpf_object__destroy(skel);
  evsel.bpf_counter_list = [];
}
