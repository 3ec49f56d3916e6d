// BPF_PROG_TEST_RUN (net/bpf/test_run.c, 5.11): run a program on a packet the caller gives, as the
// receive path would — XDP on an xdp_buff, socket filters and cgroup_skb on an skb — `repeat`
// times, returning the last run's value and the mean time per run; tracing programs by calling the
// kernel's test function they attach to (bpf_fentry_test1), once per call.

import { mem8, mem32, PAGE_SIZE } from '../../../machine/memory.ts';
import { this_cpu_base } from '../../../machine/cpu.ts';
import { ktime_get_ns } from '../../../machine/clock.ts';
import { define_global, define_per_cpu } from '../../../machine/symbols.ts';
import { bpf_prog_run, fentry_site_calls, P_TYPE, P_EXPECTED_ATTACH, run_at_fentry_site } from '../../kernel/bpf/core.ts';
import {
  BPF_PROG_TYPE_CGROUP_SKB, BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_TRACING, BPF_PROG_TYPE_XDP, BPF_TRACE_FENTRY, BPF_TRACE_FEXIT,
} from '../../include/uapi/linux/bpf.ts';
import { EFAULT, EINVAL, EMSGSIZE, ENOTSUPP } from '../../include/uapi/asm-generic/errno-base.ts';

const ETH_HLEN = 14;
/** XDP_PACKET_HEADROOM, and the skb_shared_info tailroom of a 4 KiB frame (5.11: 320 bytes on x86-64). */
const XDP_PACKET_HEADROOM = 256;
const TAILROOM = 320;

// struct xdp_md as the program sees it: data, data_end, data_meta, ingress_ifindex, rx_queue_index
const XDP_MD_SIZE = 24;
// struct __sk_buff: len at 0, protocol at 16, data at 76, data_end at 80 (include/uapi/linux/bpf.h)
const SKB_LEN = 0;
const SKB_PROTOCOL = 16;
const SKB_DATA = 76;
const SKB_DATA_END = 80;
const SK_BUFF_SIZE = 192;

// A per-CPU page for the packet and its context.
const test_page = define_per_cpu('bpf_test_run_page', PAGE_SIZE);

export interface TestRunResult {
  err: number;
  retval: number;
  /** Mean ns per run (u32), as test_run reports it. */
  duration: number;
}

// net/bpf/test_run.c bpf_fentry_test1: the kernel function fentry test programs attach to
export const bpf_fentry_test1_text = define_global('text:bpf_fentry_test1', 16);
const fentry_args = new Float64Array(1);

const fentry_test1_body = (a: number) => a + 1;

export function bpf_fentry_test1(a: number): number {
  if (!fentry_site_calls(bpf_fentry_test1_text.addr)) return fentry_test1_body(a);
  fentry_args[0] = a;
  return run_at_fentry_site(bpf_fentry_test1_text.addr, fentry_args, fentry_test1_body, a, 0);
}

/** The __fentry__ site of a kernel function vmlinux's BTF names, or 0. */
export function kernel_function_site(name: string): number {
  return name === 'bpf_fentry_test1' ? bpf_fentry_test1_text.addr : 0;
}

function run_repeat(prog: number, ctx: number, repeat: number, out: TestRunResult): void {
  const n = repeat === 0 ? 1 : repeat;
  const t0 = ktime_get_ns();
  let ret = 0;
  for (let i = 0; i < n; i++) ret = bpf_prog_run(prog, ctx);
  out.retval = ret >>> 0;
  out.duration = Math.min(0xffffffff, Math.floor((ktime_get_ns() - t0) / n));
}

// net/bpf/test_run.c bpf_prog_test_run_xdp / _skb / _tracing, by the program's type
export function bpf_prog_test_run(prog: number, data: Uint8Array, repeat: number, out: TestRunResult): void {
  out.err = 0;
  out.retval = 0;
  out.duration = 0;
  const page = this_cpu_base + test_page.off;
  const type = mem32[(prog >> 2) + P_TYPE];
  if (type === BPF_PROG_TYPE_XDP) {
    // bpf_test_init(kattr, max_data_sz, headroom, tailroom): at most the page less head- and tailroom
    if (data.length > PAGE_SIZE - XDP_PACKET_HEADROOM - TAILROOM) { out.err = -EMSGSIZE; return; }
    const pkt = page + XDP_PACKET_HEADROOM;
    mem8.set(data, pkt);
    // the context sits in the tailroom, past any packet
    const md = page + PAGE_SIZE - XDP_MD_SIZE;
    mem32[md >> 2] = pkt;
    mem32[(md >> 2) + 1] = pkt + data.length;
    mem32[(md >> 2) + 2] = pkt;
    run_repeat(prog, md, repeat, out);
  } else if (type === BPF_PROG_TYPE_SOCKET_FILTER || type === BPF_PROG_TYPE_CGROUP_SKB) {
    if (data.length < ETH_HLEN || data.length > PAGE_SIZE - SK_BUFF_SIZE) { out.err = -EINVAL; return; }
    const pkt = page + SK_BUFF_SIZE;
    mem8.set(data, pkt);
    const c = page >> 2;
    for (let i = 0; i < SK_BUFF_SIZE / 4; i++) mem32[c + i] = 0;
    // eth_type_trans: the protocol (network order, as the skb keeps it) and the data past the MAC header
    mem32[c + SKB_PROTOCOL / 4] = data[12] | (data[13] << 8);
    mem32[c + SKB_LEN / 4] = data.length - ETH_HLEN;
    mem32[c + SKB_DATA / 4] = pkt + ETH_HLEN;
    mem32[c + SKB_DATA_END / 4] = pkt + data.length;
    run_repeat(prog, page, repeat, out);
  } else if (type === BPF_PROG_TYPE_TRACING) {
    const eat = mem32[(prog >> 2) + P_EXPECTED_ATTACH];
    if (eat !== BPF_TRACE_FENTRY && eat !== BPF_TRACE_FEXIT) { out.err = -ENOTSUPP; return; }
    // bpf_prog_test_run_tracing: the test functions must return what they always do
    if (bpf_fentry_test1(1) !== 2) { out.err = -EFAULT; return; }
  } else out.err = -ENOTSUPP;
}
