// The BPF programs perf_stat_bpf profiles, as their loaders would load them, each hand-compiled
// from the C in its comment the way clang -O2 -target bpf lays it out:
// - xdp: samples/bpf/xdp1_kern.c's xdp_prog1 without its VLAN loop — parse Ethernet and IPv4/IPv6,
//   count the packet per IP protocol in a per-CPU array, drop it; loaded with BTF.
// - socket_filter: accept IPv4 packets whole, drop the rest; loaded with BTF.
// - cgroup_skb: count ingress bytes and let them pass, loaded without BTF as systemd loads its
//   cgroup programs (the seed's prog 92).
// - tracing: an fentry program on the kernel's bpf_fentry_test1 (what BPF_PROG_TEST_RUN of a
//   tracing program calls), adding its argument to a counter; with BTF, as libbpf loads fentry programs.

import {
  BPF_ADD, BPF_DW, BPF_FUNC_map_lookup_elem, BPF_H, BPF_JEQ, BPF_JGT, BPF_JNE, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_PROG_TYPE_CGROUP_SKB, BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_TRACING, BPF_PROG_TYPE_XDP, BPF_REG_FP, BPF_TRACE_FENTRY, BPF_W,
  BPF_B, XDP_DROP,
} from '../kernel/include/uapi/linux/bpf.ts';
import {
  BPF_ALU64_IMM, BPF_ALU64_REG, BPF_EMIT_CALL, BPF_EXIT_INSN, BPF_JMP_A, BPF_JMP_IMM, BPF_JMP_REG, BPF_LD_MAP_FD, BPF_LDX_MEM,
  BPF_MOV64_IMM, BPF_MOV64_REG, BPF_ST_MEM, BPF_STX_MEM,
} from '../kernel/include/linux/filter.ts';
import type { ObjectDef } from './libbpf.ts';

const FP = BPF_REG_FP;

export type TargetName = 'xdp' | 'socket_filter' | 'cgroup_skb' | 'tracing';

// int xdp_prog1(struct xdp_md *ctx)
const xdp_prog1 = (m: Record<string, number>) => [
  BPF_LDX_MEM(BPF_W, 2, 1, 4), //          0: data_end = ctx->data_end
  BPF_LDX_MEM(BPF_W, 1, 1, 0), //          1: data = ctx->data
  BPF_MOV64_IMM(0, XDP_DROP), //           2: rc = XDP_DROP
  BPF_MOV64_REG(3, 1), //                  3
  BPF_ALU64_IMM(BPF_ADD, 3, 14), //        4: nh_off = sizeof(*eth)
  BPF_JMP_REG(BPF_JGT, 3, 2, 25), //       5: if (data + nh_off > data_end) return rc
  BPF_LDX_MEM(BPF_H, 4, 1, 12), //         6: h_proto = eth->h_proto
  BPF_ST_MEM(BPF_W, FP, -4, 0), //         7: ipproto = 0
  BPF_JMP_IMM(BPF_JEQ, 4, 0x0008, 7), //   8: if (h_proto == htons(ETH_P_IP))
  BPF_JMP_IMM(BPF_JNE, 4, 0xdd86, 11), //  9: else if (h_proto == htons(ETH_P_IPV6))
  BPF_MOV64_REG(3, 1), //                  10: parse_ipv6
  BPF_ALU64_IMM(BPF_ADD, 3, 54), //        11
  BPF_JMP_REG(BPF_JGT, 3, 2, 8), //        12: if (ip6h + 1 > data_end) return 0
  BPF_LDX_MEM(BPF_B, 4, 1, 20), //         13: ip6h->nexthdr
  BPF_STX_MEM(BPF_W, FP, 4, -4), //        14
  BPF_JMP_A(5), //                         15
  BPF_MOV64_REG(3, 1), //                  16: parse_ipv4
  BPF_ALU64_IMM(BPF_ADD, 3, 34), //        17
  BPF_JMP_REG(BPF_JGT, 3, 2, 2), //        18: if (iph + 1 > data_end) return 0
  BPF_LDX_MEM(BPF_B, 4, 1, 23), //         19: iph->protocol
  BPF_STX_MEM(BPF_W, FP, 4, -4), //        20
  BPF_MOV64_REG(2, FP), //                 21
  BPF_ALU64_IMM(BPF_ADD, 2, -4), //        22
  BPF_LD_MAP_FD(1, m.rxcnt), //            23-24
  BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem), // 25: value = bpf_map_lookup_elem(&rxcnt, &ipproto)
  BPF_JMP_IMM(BPF_JEQ, 0, 0, 3), //        26: if (value)
  BPF_LDX_MEM(BPF_DW, 1, 0, 0), //         27
  BPF_ALU64_IMM(BPF_ADD, 1, 1), //         28
  BPF_STX_MEM(BPF_DW, 0, 1, 0), //         29: *value += 1
  BPF_MOV64_IMM(0, XDP_DROP), //           30: return rc
  BPF_EXIT_INSN(), //                      31
];

// int socket_prog(struct __sk_buff *skb): skb->protocol == htons(ETH_P_IP) ? skb->len : 0
const socket_prog = () => [
  BPF_MOV64_IMM(0, 0), //                  0
  BPF_LDX_MEM(BPF_W, 2, 1, 16), //         1: skb->protocol
  BPF_JMP_IMM(BPF_JNE, 2, 0x0008, 1), //   2
  BPF_LDX_MEM(BPF_W, 0, 1, 0), //          3: skb->len
  BPF_EXIT_INSN(), //                      4
];

// int ingress_bytes(struct __sk_buff *skb): bytes[0] += skb->len; return 1 (pass)
const ingress_bytes = (m: Record<string, number>) => [
  BPF_ST_MEM(BPF_W, FP, -4, 0), //         0: key = 0
  BPF_MOV64_REG(6, 1), //                  1
  BPF_MOV64_REG(2, FP), //                 2
  BPF_ALU64_IMM(BPF_ADD, 2, -4), //        3
  BPF_LD_MAP_FD(1, m.bytes), //            4-5
  BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem), // 6
  BPF_JMP_IMM(BPF_JEQ, 0, 0, 4), //        7: if (v)
  BPF_LDX_MEM(BPF_W, 1, 6, 0), //          8: skb->len
  BPF_LDX_MEM(BPF_DW, 2, 0, 0), //         9
  BPF_ALU64_REG(BPF_ADD, 2, 1), //         10
  BPF_STX_MEM(BPF_DW, 0, 2, 0), //         11: *v += skb->len
  BPF_MOV64_IMM(0, 1), //                  12
  BPF_EXIT_INSN(), //                      13
];

// SEC("fentry/bpf_fentry_test1") int BPF_PROG(handle_test1, int a): calls[0] += a, with `a` read as
// the u64 the trampoline saved (the test always passes 1, so no sign extension is written)
const handle_test1 = (m: Record<string, number>) => [
  BPF_ST_MEM(BPF_W, FP, -4, 0), //         0: key = 0
  BPF_LDX_MEM(BPF_DW, 6, 1, 0), //         1: a (ctx[0])
  BPF_MOV64_REG(2, FP), //                 2
  BPF_ALU64_IMM(BPF_ADD, 2, -4), //        3
  BPF_LD_MAP_FD(1, m.calls), //            4-5
  BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem), // 6
  BPF_JMP_IMM(BPF_JEQ, 0, 0, 3), //        7: if (v)
  BPF_LDX_MEM(BPF_DW, 1, 0, 0), //         8
  BPF_ALU64_REG(BPF_ADD, 1, 6), //         9
  BPF_STX_MEM(BPF_DW, 0, 1, 0), //         10: *v += a
  BPF_MOV64_IMM(0, 0), //                  11
  BPF_EXIT_INSN(), //                      12
];

export interface Target {
  object: ObjectDef;
  /** The program's name, as bpftool shows it (and how the tasks find its id). */
  prog: string;
  /** Instructions one run executes on the workload's packet (worked by hand from the listing). */
  insns_per_run: number;
}

export const TARGETS: Record<TargetName, Target> = {
  xdp: {
    object: {
      name: 'xdp1_kern', license: 'GPL',
      maps: [{ name: 'rxcnt', map_type: BPF_MAP_TYPE_PERCPU_ARRAY, key_size: 4, value_size: 8, max_entries: 256 }],
      progs: [{ name: 'xdp_prog1', sec: 'xdp1', prog_type: BPF_PROG_TYPE_XDP, insns: xdp_prog1, btf: { func: 'xdp_prog1', nr_args: 1 } }],
    },
    prog: 'xdp_prog1',
    // an IPv4 packet: 0-8, 16-23 (LD_IMM64 once), 25-31
    insns_per_run: 24,
  },
  socket_filter: {
    object: {
      name: 'sockex', license: 'GPL', maps: [],
      progs: [{ name: 'socket_prog', sec: 'socket', prog_type: BPF_PROG_TYPE_SOCKET_FILTER, insns: socket_prog, btf: { func: 'socket_prog', nr_args: 1 } }],
    },
    prog: 'socket_prog',
    insns_per_run: 5,
  },
  cgroup_skb: {
    object: {
      name: 'ip_accounting', license: 'GPL',
      maps: [{ name: 'bytes', map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 8, max_entries: 1 }],
      progs: [{ name: '', sec: 'cgroup_skb/ingress', prog_type: BPF_PROG_TYPE_CGROUP_SKB, insns: ingress_bytes }],
    },
    prog: '',
    insns_per_run: 13,
  },
  tracing: {
    object: {
      name: 'fentry_test', license: 'GPL',
      maps: [{ name: 'calls', map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 8, max_entries: 1 }],
      progs: [{ name: 'handle_test1', sec: 'fentry/bpf_fentry_test1', prog_type: BPF_PROG_TYPE_TRACING, expected_attach_type: BPF_TRACE_FENTRY, insns: handle_test1, btf: { func: 'handle_test1', nr_args: 1 } }],
    },
    prog: 'handle_test1',
    insns_per_run: 12,
  },
};

/** The workload's packet: Ethernet, IPv4, UDP, 64 bytes (a minimum frame without its FCS), zero payload. */
export function udp_packet(): Uint8Array {
  const p = new Uint8Array(60);
  p.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00], 0); // dst, src, ETH_P_IP
  p.set([0x45, 0, 0, 46, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14); // IPv4, UDP
  p.set([0x30, 0x39, 0x30, 0x39, 0, 26, 0, 0], 34); // UDP 12345 → 12345
  return p;
}
