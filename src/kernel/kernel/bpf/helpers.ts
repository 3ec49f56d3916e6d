// The helpers BPF programs call (kernel/bpf/helpers.c, kernel/trace/bpf_trace.c) and which program
// types may call which (each type's get_func_proto, 5.11): every type has the base helpers
// (bpf_map_lookup_elem, bpf_get_smp_processor_id); only tracing types (kprobe, tracing) have
// bpf_perf_event_read_value (bpf_tracing_func_proto), which is GPL-only.

import { mem8, mem32, memset0 } from '../../../machine/memory.ts';
import { smp_processor_id } from '../../../machine/cpu.ts';
import { array_map_lookup_elem, map_word, M_MAX_ENTRIES, M_TYPE, perf_event_array_slot } from './arraymap.ts';
import { helper_args_hi, register_bpf_helper } from './core.ts';
import { perf_event_read_local } from '../events/core.ts';
import {
  BPF_FUNC_get_smp_processor_id, BPF_FUNC_map_lookup_elem, BPF_FUNC_perf_event_read_value, BPF_F_CURRENT_CPU, BPF_F_INDEX_MASK,
  BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_PERF_EVENT_VALUE_SIZE, BPF_PROG_TYPE_KPROBE, BPF_PROG_TYPE_TRACING,
} from '../../include/uapi/linux/bpf.ts';
import { E2BIG, EINVAL, ENOENT } from '../../include/uapi/asm-generic/errno-base.ts';


/** What the verifier checks of a helper's argument (enum bpf_arg_type, the ones used here). */
export type ArgType = 'const_map_ptr' | 'ptr_to_map_key' | 'anything' | 'ptr_to_uninit_mem' | 'const_size';

export interface BpfFuncProto {
  gpl_only: boolean;
  args: readonly ArgType[];
  /** The map types it accepts (check_map_func_compatibility), when it takes a map. */
  map_types?: readonly number[];
}

const map_lookup_elem_proto: BpfFuncProto = { gpl_only: false, args: ['const_map_ptr', 'ptr_to_map_key'] };
const get_smp_processor_id_proto: BpfFuncProto = { gpl_only: false, args: [] };
const perf_event_read_value_proto: BpfFuncProto = {
  gpl_only: true, args: ['const_map_ptr', 'anything', 'ptr_to_uninit_mem', 'const_size'], map_types: [BPF_MAP_TYPE_PERF_EVENT_ARRAY],
};

// include/linux/bpf.h bpf_verifier_ops.get_func_proto of each type (net/core/filter.c,
// kernel/trace/bpf_trace.c): the helper's prototype, or null when the type may not call it
export function bpf_func_proto(prog_type: number, func_id: number): BpfFuncProto | null {
  switch (func_id) {
    case BPF_FUNC_map_lookup_elem: return map_lookup_elem_proto;
    case BPF_FUNC_get_smp_processor_id: return get_smp_processor_id_proto;
    case BPF_FUNC_perf_event_read_value: return prog_type === BPF_PROG_TYPE_TRACING || prog_type === BPF_PROG_TYPE_KPROBE ? perf_event_read_value_proto : null;
    default: return null;
  }
}

// kernel/bpf/helpers.c bpf_map_lookup_elem (array maps: the key is a u32 index)
register_bpf_helper(BPF_FUNC_map_lookup_elem, (map, key) => array_map_lookup_elem(map, mem8[key] | (mem8[key + 1] << 8) | (mem8[key + 2] << 16) | (mem8[key + 3] << 24)));

// kernel/bpf/helpers.c bpf_get_smp_processor_id
register_bpf_helper(BPF_FUNC_get_smp_processor_id, () => smp_processor_id());

const reading = new Float64Array(3);

/** Store a non-negative integer below 2^53 as a little-endian u64 (what BPF code reads with LDX DW). */
export function store_u64(addr: number, v: number): void {
  mem32[addr >> 2] = v % 4294967296;
  mem32[(addr >> 2) + 1] = Math.floor(v / 4294967296);
}

// kernel/trace/bpf_trace.c bpf_perf_event_read_value → get_map_perf_counter: the event in slot
// `flags` (or this CPU's), read into the program's struct bpf_perf_event_value; zeroed on error
register_bpf_helper(BPF_FUNC_perf_event_read_value, (map, flags_lo, buf, size) => {
  let err = 0;
  const index = flags_lo >>> 0;
  // flags & ~BPF_F_INDEX_MASK: the high half of the flags argument must be 0
  if (size !== BPF_PERF_EVENT_VALUE_SIZE || helper_args_hi[1] !== 0) err = -EINVAL;
  else {
    const slot = index === BPF_F_CURRENT_CPU ? smp_processor_id() : index & BPF_F_INDEX_MASK;
    if (map_word(map, M_TYPE) !== BPF_MAP_TYPE_PERF_EVENT_ARRAY || slot >= map_word(map, M_MAX_ENTRIES)) err = -E2BIG;
    else {
      const ev = mem32[perf_event_array_slot(map, slot) >> 2];
      err = ev === 0 ? -ENOENT : perf_event_read_local(ev, reading);
    }
  }
  if (err !== 0) {
    memset0(buf, size);
    return err;
  }
  for (let i = 0; i < 3; i++) store_u64(buf + 8 * i, reading[i]);
  return 0;
});
