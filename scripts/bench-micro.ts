// npm run bench:micro — what the simulated kernel's hot primitives cost on this host, in ns per
// operation (tinybench): a null syscall's entry and exit, a slab allocation and free, call_rcu
// with its share of a grace period and the callback, each maple tree store class, and a BPF
// program's test run, alone and with perf stat -b's three pairs of monitors on its trampoline.
//
// Each store is timed alone: its tree is brought to the state before the store by untimed hooks
// (beforeEach/afterEach), and a dry run first checks that the timed store counts as its class and
// nothing else. exact and slot use will-it-scale's replayed parent; node and rebalance a tree of
// 40 ranges with holes; append one without RCU; split, bnode and spanning are the three stores of brk2's loop in 6.7's bulk-built
// child of that parent; rebalance is an erase that takes the last leaf below its minimum.

import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { resolve_config } from '../src/kernel/config.ts';
import { start_kernel } from '../src/kernel/init/main.ts';
import { kernel_clone, task_mm } from '../src/kernel/kernel/fork.ts';
import { call_rcu, synchronize_rcu } from '../src/kernel/kernel/rcu.ts';
import { MM_MT_FLAGS, MT_FLAGS_ALLOC_RANGE, MaState, mas_store_gfp, mt_init_flags, mt_validate } from '../src/kernel/lib/maple_tree.ts';
import { define_kmem_cache, kmem_cache_alloc, kmem_cache_free } from '../src/kernel/mm/slab.ts';
import { PAGE_SIZE, mm_mt } from '../src/kernel/mm/mm_types.ts';
import { do_safe_point, set_current } from '../src/machine/cpu.ts';
import { snapshot_counters } from '../src/machine/counters.ts';
import { define_function, define_global } from '../src/machine/symbols.ts';
import { DEFAULT_MAPS, build_parent, maps_layout } from '../src/runner/layout.ts';
import { getppid, sbrk } from '../src/user/libc.ts';
import { clock_advance } from '../src/machine/clock.ts';
import { account_ticks } from '../src/kernel/kernel/sched/cputime.ts';
import { bpf_object__load, bpf_object__open, bpf_prog_test_run, bpf_obj_get_info_by_fd } from '../src/user/libbpf.ts';
import { TARGETS, udp_packet } from '../src/user/bpf_targets.ts';
import { PerfStatBpf } from '../src/user/perf/builtin-stat.ts';
import { capture_stdio } from '../src/user/stdio.ts';

const { values } = parseArgs({ options: { time: { type: 'string', default: '500' } } });
const P = PAGE_SIZE;

start_kernel({ nr_cpus: 1, mem_mb: 512, config: resolve_config('v6.7'), clock: 'manual' });
const parent = kernel_clone(0);
set_current(parent);
build_parent(maps_layout(DEFAULT_MAPS));
const parent_tree = mm_mt(task_mm(parent));
const child = kernel_clone(0); // 6.7: the bulk-built copy
set_current(child);
const B = sbrk(P); // brk2's own VMA, [B, B + P)
const child_tree = mm_mt(task_mm(child));
const scratch = define_global('bench:micro', 64 * 1024);
const micro_cache = define_kmem_cache('micro', 256);
const rcu_nop = define_function('bench:rcu_nop', () => {});

/** One store on a tree: [first, last] = entry, through a fresh maple state as vma_iter_*_gfp does. */
function store(tree: number, first: number, last: number, entry: number): void {
  if (mas_store_gfp(new MaState(tree, first, last), entry) !== 0) throw new Error('store failed');
}

// Entries: any word that is not a node pointer (bit 1 clear) will do; the trees never deref them.
const E1 = 8;
const E2 = 16;

/** RCU-freed nodes pile up without grace periods: let one pass every so often (untimed). */
let since_gp = 0;
function quiesce(): void {
  if (++since_gp < 256) return;
  since_gp = 0;
  synchronize_rcu();
  do_safe_point();
}

// The parent's [heap] and the gap after it; libstdc++'s r--p line as an exact-fit range.
const HEAP = [0x555555561000, 0x5555555a3000];
const STDCXX = [0x7ffff5600000, 0x7ffff5699000];

// A tree without RCU for append: one leaf of 6 ranges with holes (13 entries), room for two more.
const plain = scratch.addr;
mt_init_flags(plain, MT_FLAGS_ALLOC_RANGE);
for (let i = 1; i <= 6; i++) store(plain, 0x10000 * i, 0x10000 * i + 0x7fff, E1);
const APPEND_AT = 0x10000 * 7;

// For rebalance: 40 ranges with holes, bulk order; the last leaf [N, v38, N, v39, N, v40, N].
const rb = scratch.addr + 16;
mt_init_flags(rb, MM_MT_FLAGS);
for (let i = 1; i <= 40; i++) store(rb, 0x10000 * i, 0x10000 * i + 0x7fff, E1);
const V39 = [0x10000 * 39, 0x10000 * 39 + 0x7fff];
// For node: the same tree once more; the hole after v34 is in its 10-entry leaf, which has room.
const nd = scratch.addr + 24;
mt_init_flags(nd, MM_MT_FLAGS);
for (let i = 1; i <= 40; i++) store(nd, 0x10000 * i, 0x10000 * i + 0x7fff, E1);
const GAP = 0x10000 * 34 + 0x8000;

interface Case {
  name: string;
  /** The class the timed call must count, and how many of it. */
  counts?: Record<string, number>;
  fn: () => void;
  before?: () => void;
  after?: () => void;
  /** Operations per call, for ns per operation. */
  per_call?: number;
}

// brk2's loop in the bulk-built child, as a state machine: grow, split, clear.
let brk_state: 'grown' | 'split' | 'cleared' = 'cleared';
const brk_store = { grow: () => store(child_tree, B, B + 2 * P - 1, E1), split: () => store(child_tree, B, B + P - 1, E2), clear: () => store(child_tree, B + P, B + 2 * P - 1, 0) };
function brk_to(state: typeof brk_state): void {
  const next = { cleared: 'grown', grown: 'split', split: 'cleared' } as const;
  const step = { cleared: brk_store.grow, grown: brk_store.split, split: brk_store.clear } as const;
  while (brk_state !== state) {
    step[brk_state]();
    brk_state = next[brk_state];
  }
}

let rcu_heads = 0;
// Two copies of the xdp target: one alone, one that perf stat -b counts three events of.
const bpf_io = capture_stdio();
const xdp_fd = (): number => {
  const obj = bpf_object__open(TARGETS.xdp.object, bpf_io);
  if (bpf_object__load(obj) !== 0) throw new Error(`xdp target: ${bpf_io.lines.map((l) => l.line).join('; ')}`);
  return obj.progs[0].fd;
};
const xdp_alone = xdp_fd();
const xdp_profiled = xdp_fd();
const perf = new PerfStatBpf(['stat', '-e', 'cycles,ref-cycles,instructions', '-b', String((bpf_obj_get_info_by_fd(xdp_profiled) as { id: number }).id)], { io: bpf_io, sleep_until: () => false });
if (perf.parse() !== null || perf.start() !== 0) throw new Error(`perf stat -b: ${bpf_io.lines.map((l) => l.line).join('; ')}`);
const pkt = udp_packet();

const cases: Case[] = [
  { name: 'BPF_PROG_TEST_RUN: xdp_prog1 (24 instructions, interpreted)', counts: { 'sim.bpf.prog_runs': 1, 'sim.pmu.instructions': 24 }, fn: () => void bpf_prog_test_run(xdp_alone, 1, pkt) },
  { name: 'BPF_PROG_TEST_RUN: xdp_prog1 under perf stat -b (3 fentry + 3 fexit)', counts: { 'sim.bpf.prog_runs': 7, 'sim.bpf.tracing_runs_on_prog': 6 }, fn: () => void bpf_prog_test_run(xdp_profiled, 1, pkt) },
  { name: 'syscall entry and exit (getppid)', counts: { 'sim.syscalls': 1 }, fn: () => void getppid() },
  { name: 'slab: kmem_cache_alloc + kmem_cache_free', fn: () => kmem_cache_free(micro_cache, kmem_cache_alloc(micro_cache)) },
  {
    name: 'call_rcu + grace period + callback (per callback, batches of 64)',
    per_call: 64,
    fn: () => {
      for (let i = 0; i < 64; i++) call_rcu(scratch.addr + 1024 + 16 * ((rcu_heads++ & 63) + 64 * 0), rcu_nop);
      synchronize_rcu();
      do_safe_point();
    },
  },
  { name: 'maple store: exact fit', counts: { 'sim.maple.store_exact': 1 }, fn: () => store(parent_tree, STDCXX[0], STDCXX[1] - 1, (rcu_heads++ & 1) ? E1 : E2), after: quiesce },
  { name: 'maple store: slot (grow into the gap after)', counts: { 'sim.maple.store_slot': 1 }, fn: () => store(parent_tree, HEAP[0], HEAP[1] + P - 1, E1), after: () => { store(parent_tree, HEAP[1], HEAP[1] + P - 1, 0); quiesce(); } },
  { name: 'maple store: node (a range into a gap)', counts: { 'sim.maple.store_node': 1 }, fn: () => store(nd, GAP + P, GAP + 2 * P - 1, E1), after: () => { store(nd, GAP + P, GAP + 2 * P - 1, 0); quiesce(); } },
  { name: 'maple store: append (no RCU)', counts: { 'sim.maple.store_append': 1 }, fn: () => store(plain, APPEND_AT, APPEND_AT + 0x7fff, E1), after: () => store(plain, APPEND_AT, APPEND_AT + 0x7fff, 0) },
  { name: 'maple store: root (into an empty tree)', counts: { 'sim.maple.store_root': 1 }, before: () => mt_init_flags(scratch.addr + 32, MM_MT_FLAGS), fn: () => store(scratch.addr + 32, 0, 0, E1) },
  { name: 'maple store: split (brk2 shrink, 6.7 child)', counts: { 'sim.maple.store_split': 1 }, before: () => brk_to('grown'), fn: () => { brk_store.split(); brk_state = 'split'; }, after: quiesce },
  { name: 'maple store: bnode (brk2 clear, 6.7 child)', counts: { 'sim.maple.store_bnode': 1 }, before: () => brk_to('split'), fn: () => { brk_store.clear(); brk_state = 'cleared'; }, after: quiesce },
  { name: 'maple store: spanning (brk2 grow, 6.7 child)', counts: { 'sim.maple.store_spanning': 1 }, before: () => brk_to('cleared'), fn: () => { brk_store.grow(); brk_state = 'grown'; }, after: quiesce },
  { name: 'maple store: rebalance (an erase below the minimum)', counts: { 'sim.maple.store_rebalance': 1 }, fn: () => store(rb, V39[0], V39[1], 0), after: () => { store(rb, V39[0], V39[1], E1); quiesce(); } },
  // Last: it moves the manual clock one tick per call.
  { name: "the machine's timer: account_ticks, one tick of one CPU", fn: () => { clock_advance(1e6); account_ticks(); } },
];

/** Run a case once and check the timed call counts as its class and as no other store. */
function dry_run(c: Case): void {
  c.before?.();
  const before = snapshot_counters();
  c.fn();
  const after = snapshot_counters();
  c.after?.();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    const want = c.counts?.[k] ?? (k.startsWith('sim.maple.store_') ? 0 : null);
    if (want !== null && d !== want) throw new Error(`${c.name}: counted ${d} ${k}, expected ${want} (${[...after].filter(([n, x]) => n.startsWith("sim.maple.store_") && x !== before.get(n)).map(([n, x]) => `${n} +${x - (before.get(n) ?? 0)}`).join(", ")})`);
  }
}

for (const c of cases) dry_run(c);
mt_validate(parent_tree);
mt_validate(child_tree);

const bench = new Bench({ time: Number(values.time), warmupTime: 100 });
for (const c of cases) bench.add(c.name, c.fn, { beforeEach: c.before, afterEach: c.after });
bench.runSync();
mt_validate(parent_tree);
mt_validate(child_tree);
mt_validate(rb);

console.log('primitive'.padEnd(66), 'ns/op (median)'.padStart(15), 'samples'.padStart(9));
for (const c of cases) {
  const r = bench.getTask(c.name)!.result!;
  if (r.state !== 'completed') throw new Error(`${c.name}: ${r.state}`);
  const ns = (r.latency.p50 * 1e6) / (c.per_call ?? 1);
  console.log(c.name.padEnd(66), ns.toFixed(0).padStart(15), String(r.latency.samplesCount).padStart(9));
}
