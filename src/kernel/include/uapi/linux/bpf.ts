// The eBPF instruction set and the bpf(2) ABI (include/uapi/linux/bpf.h and bpf_common.h, 5.11):
// opcode fields, program, attach and map types, helper ids. The bpf(2) commands are functions of
// kernel/bpf/syscall.ts, so their numbers are not needed.

// instruction classes (bpf_common.h, bpf.h)
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

// ld/st sizes and modes
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;
export const BPF_IMM = 0x00;
export const BPF_MEM = 0x60;

// alu and jmp operations, and the source operand
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_MOV = 0xb0;
export const BPF_ARSH = 0xc0;
export const BPF_END = 0xd0;
export const BPF_TO_BE = 0x08; // BPF_TO_LE is 0
export const BPF_K = 0x00;
export const BPF_X = 0x08;

export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;

export const BPF_PSEUDO_MAP_FD = 1;
export const MAX_BPF_REG = 11;
export const BPF_REG_FP = 10;
/** MAX_BPF_STACK (include/linux/filter.h). */
export const MAX_BPF_STACK = 512;
/** BPF_COMPLEXITY_LIMIT_INSNS (include/linux/bpf.h, 5.2+): what the verifier may process. */
export const BPF_COMPLEXITY_LIMIT_INSNS = 1_000_000;
/** BPF_MAXINSNS: the most instructions an unprivileged or classic program may have. */
export const BPF_MAXINSNS = 4096;
export const BPF_OBJ_NAME_LEN = 16;
export const BPF_TAG_SIZE = 8;

// enum bpf_prog_type
export const BPF_PROG_TYPE_SOCKET_FILTER = 1;
export const BPF_PROG_TYPE_KPROBE = 2;
export const BPF_PROG_TYPE_XDP = 6;
export const BPF_PROG_TYPE_CGROUP_SKB = 8;
export const BPF_PROG_TYPE_TRACING = 26;

// enum bpf_attach_type
export const BPF_TRACE_FENTRY = 24;
export const BPF_TRACE_FEXIT = 25;

// enum bpf_map_type
export const BPF_MAP_TYPE_ARRAY = 2;
export const BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4;
export const BPF_MAP_TYPE_PERCPU_ARRAY = 6;

// enum bpf_func_id (the helpers this kernel has)
export const BPF_FUNC_map_lookup_elem = 1;
export const BPF_FUNC_get_smp_processor_id = 8;
export const BPF_FUNC_perf_event_read_value = 55;
export const __BPF_FUNC_MAX_ID = 165; // 5.11

// bpf_perf_event_read_value flags: the index into the map, or this CPU's slot
export const BPF_F_INDEX_MASK = 0xffffffff;
export const BPF_F_CURRENT_CPU = 0xffffffff;

// XDP verdicts (enum xdp_action): the one the shipped program returns
export const XDP_DROP = 1;

/** bpftool's names of program types (prog_type_name, tools/bpf/bpftool/main.h 5.11). */
export const PROG_TYPE_NAME: Record<number, string> = {
  [BPF_PROG_TYPE_SOCKET_FILTER]: 'socket_filter',
  [BPF_PROG_TYPE_KPROBE]: 'kprobe',
  [BPF_PROG_TYPE_XDP]: 'xdp',
  [BPF_PROG_TYPE_CGROUP_SKB]: 'cgroup_skb',
  [BPF_PROG_TYPE_TRACING]: 'tracing',
};

/** The verifier's helper names (func_id_name, from __BPF_FUNC_MAPPER). */
export const FUNC_NAME: Record<number, string> = {
  [BPF_FUNC_map_lookup_elem]: 'bpf_map_lookup_elem',
  2: 'bpf_map_update_elem',
  3: 'bpf_map_delete_elem',
  5: 'bpf_ktime_get_ns',
  6: 'bpf_trace_printk',
  [BPF_FUNC_get_smp_processor_id]: 'bpf_get_smp_processor_id',
  14: 'bpf_get_current_pid_tgid',
  [BPF_FUNC_perf_event_read_value]: 'bpf_perf_event_read_value',
};

/** struct bpf_perf_event_value: counter, enabled, running (u64 each). */
export const BPF_PERF_EVENT_VALUE_SIZE = 24;
