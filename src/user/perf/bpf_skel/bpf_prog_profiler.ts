// tools/perf/util/bpf_skel/bpf_prog_profiler.bpf.c (Song Liu, 2020), as the skeleton perf embeds:
// maps `events` (PERF_EVENT_ARRAY, one slot per CPU), `fentry_readings` and `accum_readings`
// (PERCPU_ARRAY of one struct bpf_perf_event_value), and two programs. The instructions are the C
// compiled by hand the way clang -O2 -target bpf lays it out (struct bpf_perf_event_value is
// counter, enabled, running: u64 at 0, 8, 16).

import {
  BPF_ADD, BPF_DW, BPF_FUNC_get_smp_processor_id, BPF_FUNC_map_lookup_elem, BPF_FUNC_perf_event_read_value, BPF_JEQ, BPF_JNE,
  BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_PERF_EVENT_VALUE_SIZE, BPF_PROG_TYPE_TRACING, BPF_REG_FP, BPF_SUB,
  BPF_TRACE_FENTRY, BPF_TRACE_FEXIT, BPF_W,
} from '../../../kernel/include/uapi/linux/bpf.ts';
import {
  BPF_ALU64_IMM, BPF_ALU64_REG, BPF_EMIT_CALL, BPF_EXIT_INSN, BPF_JMP_IMM, BPF_LD_MAP_FD, BPF_LDX_MEM, BPF_MOV32_REG, BPF_MOV64_IMM,
  BPF_MOV64_REG, BPF_ST_MEM, BPF_STX_MEM,
} from '../../../kernel/include/linux/filter.ts';
import type { ObjectDef } from '../../libbpf.ts';

const FP = BPF_REG_FP;

// SEC("fentry/XXX") int BPF_PROG(fentry_XXX): look the reading up first, then read the counter
// into it (`if (err) return 0; return 0;` is one return)
const fentry_XXX = (m: Record<string, number>) => [
  BPF_EMIT_CALL(BPF_FUNC_get_smp_processor_id), //   0: key = bpf_get_smp_processor_id()
  BPF_MOV64_REG(6, 0), //                             1
  BPF_ST_MEM(BPF_W, FP, -4, 0), //                    2: zero = 0
  BPF_MOV64_REG(2, FP), //                            3
  BPF_ALU64_IMM(BPF_ADD, 2, -4), //                   4
  BPF_LD_MAP_FD(1, m.fentry_readings), //             5-6
  BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem), //         7: ptr = lookup(&fentry_readings, &zero)
  BPF_JMP_IMM(BPF_JEQ, 0, 0, 6), //                   8: if (!ptr) return 0
  BPF_MOV64_REG(3, 0), //                             9
  BPF_LD_MAP_FD(1, m.events), //                      10-11
  BPF_MOV32_REG(2, 6), //                             12
  BPF_MOV64_IMM(4, BPF_PERF_EVENT_VALUE_SIZE), //     13
  BPF_EMIT_CALL(BPF_FUNC_perf_event_read_value), //   14: bpf_perf_event_read_value(&events, key, ptr, sizeof(*ptr))
  BPF_MOV64_IMM(0, 0), //                             15
  BPF_EXIT_INSN(), //                                 16
];

// SEC("fexit/XXX") int BPF_PROG(fexit_XXX): read all events first, then fexit_update_maps(&reading)
// inlined: only a reading with a valid fentry reading (before && before->counter) is accumulated
const fexit_XXX = (m: Record<string, number>) => [
  BPF_EMIT_CALL(BPF_FUNC_get_smp_processor_id), //   0: cpu
  BPF_MOV32_REG(2, 0), //                             1
  BPF_LD_MAP_FD(1, m.events), //                      2-3
  BPF_MOV64_REG(3, FP), //                            4
  BPF_ALU64_IMM(BPF_ADD, 3, -24), //                  5: &reading
  BPF_MOV64_IMM(4, BPF_PERF_EVENT_VALUE_SIZE), //     6
  BPF_EMIT_CALL(BPF_FUNC_perf_event_read_value), //   7
  BPF_JMP_IMM(BPF_JNE, 0, 0, 32), //                  8: if (err) return 0
  BPF_ST_MEM(BPF_W, FP, -28, 0), //                   9: zero = 0
  BPF_MOV64_REG(2, FP), //                            10
  BPF_ALU64_IMM(BPF_ADD, 2, -28), //                  11
  BPF_LD_MAP_FD(1, m.fentry_readings), //             12-13
  BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem), //         14: before
  BPF_JMP_IMM(BPF_JEQ, 0, 0, 25), //                  15: if (before ...
  BPF_LDX_MEM(BPF_DW, 1, 0, 0), //                    16
  BPF_JMP_IMM(BPF_JEQ, 1, 0, 23), //                  17: ... && before->counter)
  BPF_LDX_MEM(BPF_DW, 6, FP, -24), //                 18: diff.counter = after->counter - before->counter
  BPF_ALU64_REG(BPF_SUB, 6, 1), //                    19
  BPF_LDX_MEM(BPF_DW, 7, FP, -16), //                 20: diff.enabled
  BPF_LDX_MEM(BPF_DW, 1, 0, 8), //                    21
  BPF_ALU64_REG(BPF_SUB, 7, 1), //                    22
  BPF_LDX_MEM(BPF_DW, 8, FP, -8), //                  23: diff.running
  BPF_LDX_MEM(BPF_DW, 1, 0, 16), //                   24
  BPF_ALU64_REG(BPF_SUB, 8, 1), //                    25
  BPF_MOV64_REG(2, FP), //                            26
  BPF_ALU64_IMM(BPF_ADD, 2, -28), //                  27
  BPF_LD_MAP_FD(1, m.accum_readings), //              28-29
  BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem), //         30: accum
  BPF_JMP_IMM(BPF_JEQ, 0, 0, 9), //                   31: if (accum) {
  BPF_LDX_MEM(BPF_DW, 1, 0, 0), //                    32
  BPF_ALU64_REG(BPF_ADD, 1, 6), //                    33
  BPF_STX_MEM(BPF_DW, 0, 1, 0), //                    34: accum->counter += diff.counter
  BPF_LDX_MEM(BPF_DW, 1, 0, 8), //                    35
  BPF_ALU64_REG(BPF_ADD, 1, 7), //                    36
  BPF_STX_MEM(BPF_DW, 0, 1, 8), //                    37: accum->enabled += diff.enabled
  BPF_LDX_MEM(BPF_DW, 1, 0, 16), //                   38
  BPF_ALU64_REG(BPF_ADD, 1, 8), //                    39
  BPF_STX_MEM(BPF_DW, 0, 1, 16), //                   40: accum->running += diff.running
  BPF_MOV64_IMM(0, 0), //                             41
  BPF_EXIT_INSN(), //                                 42
];

/** Instructions each program executes when every lookup and read succeeds (worked by hand from the listings above). */
export const PROFILER_INSNS = {
  fentry: 15, // 0-5, 7-10, 12-16 (an LD_IMM64 is one instruction)
  /** fentry after its read returns (15-16): counted by its own reading's successor. */
  fentry_after_read: 2,
  fexit: 40,
  /** fexit up to and including the CALL that reads (0-2, 4-7). */
  fexit_to_read: 7,
};

export const bpf_prog_profiler_bpf: ObjectDef = {
  name: 'bpf_prog_profiler_bpf',
  license: 'Dual BSD/GPL',
  maps: [
    { name: 'events', map_type: BPF_MAP_TYPE_PERF_EVENT_ARRAY, key_size: 4, value_size: 4, max_entries: 1 },
    { name: 'fentry_readings', map_type: BPF_MAP_TYPE_PERCPU_ARRAY, key_size: 4, value_size: BPF_PERF_EVENT_VALUE_SIZE, max_entries: 1 },
    { name: 'accum_readings', map_type: BPF_MAP_TYPE_PERCPU_ARRAY, key_size: 4, value_size: BPF_PERF_EVENT_VALUE_SIZE, max_entries: 1 },
  ],
  progs: [
    { name: 'fentry_XXX', sec: 'fentry/XXX', prog_type: BPF_PROG_TYPE_TRACING, expected_attach_type: BPF_TRACE_FENTRY, insns: fentry_XXX, btf: { func: 'fentry_XXX', nr_args: 0 } },
    { name: 'fexit_XXX', sec: 'fexit/XXX', prog_type: BPF_PROG_TYPE_TRACING, expected_attach_type: BPF_TRACE_FEXIT, insns: fexit_XXX, btf: { func: 'fexit_XXX', nr_args: 0 } },
  ],
};
