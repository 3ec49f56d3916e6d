// The miniature eBPF (issue 12): the interpreter's opcode classes, the verifier's rejections, the
// tracing attach rules by version, and perf stat -b's monitors — their accumulation rule, per-CPU
// summing, and exact instruction counts. One thread, manual clock. Expected values are worked by
// hand from the instruction listings and Linux's rules; the error lines are the seed's.

import { describe, expect, it } from 'vitest';
import { start_kernel } from '../src/kernel/init/main.ts';
import { resolve_config } from '../src/kernel/config.ts';
import { cpu_enter, cpu_exit, get_current, set_current } from '../src/machine/cpu.ts';
import { kernel_clone } from '../src/kernel/kernel/fork.ts';
import { fget, FILE_BPF_PROG } from '../src/kernel/fs/file.ts';
import { ___bpf_prog_run } from '../src/kernel/kernel/bpf/core.ts';
import { bpf_map_create, bpf_map_lookup_elem, bpf_prog_load } from '../src/kernel/kernel/bpf/syscall.ts';
import {
  BPF_ADD, BPF_ARSH, BPF_B, BPF_DIV, BPF_DW, BPF_FUNC_map_lookup_elem, BPF_FUNC_perf_event_read_value, BPF_H, BPF_JEQ, BPF_JGT,
  BPF_JSGT, BPF_JSLT, BPF_LSH, BPF_MAP_TYPE_ARRAY, BPF_MOD, BPF_MUL, BPF_NEG, BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_XDP, BPF_REG_FP,
  BPF_RSH, BPF_SUB, BPF_TO_BE, BPF_W,
} from '../src/kernel/include/uapi/linux/bpf.ts';
import {
  BPF_ALU32_IMM, BPF_ALU64_IMM, BPF_ALU64_REG, BPF_EMIT_CALL, BPF_ENDIAN, BPF_EXIT_INSN, BPF_JMP32_IMM, BPF_JMP_A, BPF_JMP_IMM, BPF_LD_IMM64,
  BPF_LD_MAP_FD, BPF_LDX_MEM, BPF_MOV32_IMM, BPF_MOV64_IMM, BPF_MOV64_REG, BPF_ST_MEM, BPF_STX_MEM, bpf_insns_encode, type BpfInsn,
} from '../src/kernel/include/linux/filter.ts';
import {
  bpf_object__attach, bpf_object__load, bpf_object__open, bpf_prog_get_ids, bpf_prog_test_run, bpf_obj_get_info_by_fd, bpf_prog_get_fd_by_id,
} from '../src/user/libbpf.ts';
import { TARGETS, udp_packet, type TargetName } from '../src/user/bpf_targets.ts';
import { PROFILER_INSNS } from '../src/user/perf/bpf_skel/bpf_prog_profiler.ts';
import { PerfStatBpf, cmd_stat, format_counter } from '../src/user/perf/builtin-stat.ts';
import { bpf_program_profiler__read } from '../src/user/perf/bpf_counter.ts';
import { capture_stdio } from '../src/user/stdio.ts';
import { close } from '../src/user/libc.ts';
import { read_counter_by_name } from '../src/machine/counters.ts';
import { common_error_id, stderr_stats } from '../src/runner/metrics.ts';
import { perf_stat_b_stats } from '../src/monitors/perf_stat.ts';

const FP = BPF_REG_FP;
type Prog = readonly (BpfInsn | readonly BpfInsn[])[];

function boot(preset = 'v6.8', sets: string[] = [], nr_cpus = 1): void {
  start_kernel({ nr_cpus, mem_mb: 128, config: resolve_config(preset, sets), clock: 'manual' });
  set_current(kernel_clone(0));
}

function load(prog: Prog, type = BPF_PROG_TYPE_SOCKET_FILTER) {
  return bpf_prog_load({ prog_type: type, insns: bpf_insns_encode(prog), license: 'GPL', log_level: 1 });
}

/** Load and run a program: R0 as the u32 a test run returns. */
function run(prog: Prog): number {
  const r = load(prog);
  if (r.fd < 0) throw new Error(`load failed (${r.fd}): ${r.log}`);
  return ___bpf_prog_run(fget(r.fd, FILE_BPF_PROG), 4096) >>> 0;
}

describe('the interpreter', () => {
  it('ALU64: carries and borrows cross the halves, shifts and arithmetic shifts move bits between them', () => {
    boot();
    expect(run([BPF_MOV32_IMM(0, -1), BPF_ALU64_IMM(BPF_ADD, 0, 1), BPF_ALU64_IMM(BPF_RSH, 0, 32), BPF_EXIT_INSN()])).toBe(1);
    expect(run([BPF_MOV64_IMM(0, 0), BPF_ALU64_IMM(BPF_SUB, 0, 1), BPF_ALU64_IMM(BPF_RSH, 0, 32), BPF_EXIT_INSN()])).toBe(0xffffffff);
    expect(run([BPF_MOV64_IMM(0, -8), BPF_ALU64_IMM(BPF_ARSH, 0, 1), BPF_EXIT_INSN()])).toBe(0xfffffffc);
    // 0x8000000000000000 s>> 36 = 0xfffffffff8000000
    expect(run([BPF_LD_IMM64(0, 0, 0x80000000), BPF_ALU64_IMM(BPF_ARSH, 0, 36), BPF_EXIT_INSN()])).toBe(0xf8000000);
    expect(run([BPF_MOV64_IMM(0, 1), BPF_ALU64_IMM(BPF_LSH, 0, 40), BPF_ALU64_IMM(BPF_RSH, 0, 39), BPF_EXIT_INSN()])).toBe(2);
    expect(run([BPF_MOV64_IMM(0, 5), BPF_ALU64_IMM(BPF_NEG, 0, 0), BPF_EXIT_INSN()])).toBe(0xfffffffb);
  });

  it('MUL, DIV and MOD in 64 and 32 bits; division by zero gives 0, modulo by zero leaves dst', () => {
    boot();
    expect(run([BPF_MOV64_IMM(0, 0x10000), BPF_MOV64_REG(1, 0), BPF_ALU64_REG(BPF_MUL, 0, 1), BPF_ALU64_IMM(BPF_RSH, 0, 32), BPF_EXIT_INSN()])).toBe(1);
    expect(run([BPF_MOV32_IMM(0, 0x10000), BPF_ALU32_IMM(BPF_MUL, 0, 0x10000), BPF_EXIT_INSN()])).toBe(0);
    expect(run([BPF_MOV64_IMM(0, 100), BPF_ALU64_IMM(BPF_DIV, 0, 7), BPF_EXIT_INSN()])).toBe(14);
    expect(run([BPF_MOV64_IMM(0, 100), BPF_ALU64_IMM(BPF_MOD, 0, 7), BPF_EXIT_INSN()])).toBe(2);
    expect(run([BPF_MOV64_IMM(0, 100), BPF_MOV64_IMM(1, 0), BPF_ALU64_REG(BPF_DIV, 0, 1), BPF_EXIT_INSN()])).toBe(0);
    expect(run([BPF_MOV64_IMM(0, 100), BPF_MOV64_IMM(1, 0), BPF_ALU64_REG(BPF_MOD, 0, 1), BPF_EXIT_INSN()])).toBe(100);
  });

  it('ALU32 zero-extends; byte swaps to big-endian of 16, 32 and 64 bits', () => {
    boot();
    expect(run([BPF_MOV64_IMM(0, -1), BPF_ALU32_IMM(BPF_ADD, 0, 0), BPF_ALU64_IMM(BPF_RSH, 0, 32), BPF_EXIT_INSN()])).toBe(0);
    expect(run([BPF_MOV64_IMM(0, 0x1234), BPF_ENDIAN(BPF_TO_BE, 0, 16), BPF_EXIT_INSN()])).toBe(0x3412);
    expect(run([BPF_MOV64_IMM(0, 0x11223344), BPF_ENDIAN(BPF_TO_BE, 0, 32), BPF_EXIT_INSN()])).toBe(0x44332211);
    expect(run([BPF_LD_IMM64(0, 0x05060708, 0x01020304), BPF_ENDIAN(BPF_TO_BE, 0, 64), BPF_EXIT_INSN()])).toBe(0x04030201);
    // the high half of 0x0807060504030201
    expect(run([BPF_LD_IMM64(0, 0x05060708, 0x01020304), BPF_ENDIAN(BPF_TO_BE, 0, 64), BPF_ALU64_IMM(BPF_RSH, 0, 32), BPF_EXIT_INSN()])).toBe(0x08070605);
  });

  it('JMP compares unsigned or signed 64-bit values, JMP32 the low halves', () => {
    boot();
    // -1 > 1 unsigned (taken), -1 s> 1 (not taken): 1 + 2
    expect(run([
      BPF_MOV64_IMM(0, 0), BPF_MOV64_IMM(1, -1), BPF_JMP_IMM(BPF_JGT, 1, 1, 1), BPF_EXIT_INSN(),
      BPF_ALU64_IMM(BPF_ADD, 0, 1), BPF_JMP_IMM(BPF_JSGT, 1, 1, 1), BPF_ALU64_IMM(BPF_ADD, 0, 2), BPF_EXIT_INSN(),
    ])).toBe(3);
    // r1 = 0x0000000100000001: w1 == 1 (taken), r1 == 1 (not taken)
    expect(run([
      BPF_MOV64_IMM(0, 0), BPF_LD_IMM64(1, 1, 1), BPF_JMP32_IMM(BPF_JEQ, 1, 1, 1), BPF_EXIT_INSN(),
      BPF_ALU64_IMM(BPF_ADD, 0, 1), BPF_JMP_IMM(BPF_JEQ, 1, 1, 1), BPF_ALU64_IMM(BPF_ADD, 0, 2), BPF_EXIT_INSN(),
    ])).toBe(3);
    // r1 = 0x00000000ffffffff: w1 s< 0 (taken), r1 s< 0 (not taken)
    expect(run([
      BPF_MOV64_IMM(0, 0), BPF_MOV32_IMM(1, -1), BPF_JMP32_IMM(BPF_JSLT, 1, 0, 1), BPF_EXIT_INSN(),
      BPF_ALU64_IMM(BPF_ADD, 0, 1), BPF_JMP_IMM(BPF_JSLT, 1, 0, 1), BPF_ALU64_IMM(BPF_ADD, 0, 2), BPF_EXIT_INSN(),
    ])).toBe(3);
  });

  it('LDX, STX and ST of every size on the stack, little-endian', () => {
    boot();
    // 0x44 + 0x1122 + 0x55667788 + 7
    expect(run([
      BPF_LD_IMM64(1, 0x11223344, 0x55667788), BPF_STX_MEM(BPF_DW, FP, 1, -8),
      BPF_LDX_MEM(BPF_B, 0, FP, -8), BPF_LDX_MEM(BPF_H, 2, FP, -6), BPF_LDX_MEM(BPF_W, 3, FP, -4),
      BPF_ST_MEM(BPF_W, FP, -12, 7), BPF_LDX_MEM(BPF_W, 4, FP, -12),
      BPF_ALU64_REG(BPF_ADD, 0, 2), BPF_ALU64_REG(BPF_ADD, 0, 3), BPF_ALU64_REG(BPF_ADD, 0, 4), BPF_EXIT_INSN(),
    ])).toBe(0x44 + 0x1122 + 0x55667788 + 7);
  });

  it('LD_IMM64 of a map fd and a helper CALL: the program writes the value user space reads', () => {
    boot();
    const map = bpf_map_create({ map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 8, max_entries: 1 });
    expect(run([
      BPF_ST_MEM(BPF_W, FP, -4, 0), BPF_MOV64_REG(2, FP), BPF_ALU64_IMM(BPF_ADD, 2, -4), BPF_LD_MAP_FD(1, map),
      BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem), BPF_JMP_IMM(BPF_JEQ, 0, 0, 4),
      BPF_MOV64_IMM(1, 41), BPF_STX_MEM(BPF_DW, 0, 1, 0), BPF_LDX_MEM(BPF_DW, 0, 0, 0), BPF_ALU64_IMM(BPF_ADD, 0, 1), BPF_EXIT_INSN(),
    ])).toBe(42);
    expect([...(bpf_map_lookup_elem(map, 0) as Uint8Array)]).toEqual([41, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('the verifier', () => {
  const rejects = (prog: Prog, message: string, errno: number, type = BPF_PROG_TYPE_SOCKET_FILTER) => {
    const r = load(prog, type);
    expect(r.fd).toBe(-errno);
    expect(r.log.split('\n')[0]).toBe(message);
    expect(r.log).toMatch(/\nprocessed \d+ insns \(limit 1000000\) max_states_per_insn \d+ total_states \d+ peak_states \d+ mark_read 0\n$/);
  };
  it('rejects jumps out of the program, back-edges, a missing exit and unreachable code (EINVAL)', () => {
    boot();
    rejects([BPF_JMP_A(5), BPF_EXIT_INSN()], 'jump out of range from insn 0 to 6', 22);
    rejects([BPF_MOV64_IMM(0, 0), BPF_JMP_A(-2)], 'back-edge from insn 1 to 0', 22);
    rejects([BPF_MOV64_IMM(0, 0)], 'last insn is not an exit or jmp', 22);
    rejects([BPF_MOV64_IMM(0, 0), BPF_EXIT_INSN(), BPF_MOV64_IMM(0, 1), BPF_EXIT_INSN()], 'unreachable insn 2', 22);
  });

  it('rejects reads of uninitialized registers and stack, and writes to the frame pointer (EACCES)', () => {
    boot();
    rejects([BPF_MOV64_REG(0, 2), BPF_EXIT_INSN()], 'R2 !read_ok', 13);
    rejects([BPF_EXIT_INSN()], 'R0 !read_ok', 13);
    // a path that skips the initialization still reaches the read
    rejects([BPF_MOV64_IMM(0, 0), BPF_JMP_IMM(BPF_JEQ, 1, 0, 1), BPF_MOV64_IMM(3, 1), BPF_MOV64_REG(0, 3), BPF_EXIT_INSN()], 'R3 !read_ok', 13);
    rejects([BPF_LDX_MEM(BPF_DW, 0, FP, -8), BPF_EXIT_INSN()], 'invalid read from stack off -8+0 size 8', 13);
    rejects([BPF_MOV64_IMM(10, 0), BPF_MOV64_IMM(0, 0), BPF_EXIT_INSN()], 'frame pointer is read only', 13);
  });

  it('rejects register numbers past R10 and a jump into the middle of an LD_IMM64 (EINVAL)', () => {
    boot();
    rejects([BPF_MOV64_IMM(12, 0), BPF_MOV64_IMM(0, 0), BPF_EXIT_INSN()], 'R12 is invalid', 22);
    rejects([BPF_MOV64_IMM(0, 0), BPF_JMP_IMM(BPF_JEQ, 1, 0, 1), BPF_LD_IMM64(2, 1, 2), BPF_EXIT_INSN()], 'invalid BPF_LD_IMM insn', 22);
  });

  it('a helper\'s memory size must be a constant on every path to the call', () => {
    boot();
    const map = bpf_map_create({ map_type: 4, key_size: 4, value_size: 4, max_entries: 1 });
    // r4 = 1000 on the path that jumps, 24 on the other: not one constant
    const r = bpf_prog_load({
      prog_type: 26, expected_attach_type: 24, license: 'GPL', log_level: 1, attach_btf_id: 1,
      insns: bpf_insns_encode([
        BPF_MOV64_IMM(4, 1000), BPF_JMP_IMM(BPF_JEQ, 1, 0, 1), BPF_MOV64_IMM(4, 24), BPF_LD_MAP_FD(1, map), BPF_MOV64_IMM(2, 0),
        BPF_MOV64_REG(3, FP), BPF_ALU64_IMM(BPF_ADD, 3, -24), BPF_EMIT_CALL(BPF_FUNC_perf_event_read_value), BPF_MOV64_IMM(0, 0), BPF_EXIT_INSN(),
      ]),
    });
    expect(r.fd).toBe(-13);
    expect(r.log.split('\n')[0]).toBe('invalid stack off=-24 size=1000');
  });

  it('rejects a helper the program type may not call: XDP and bpf_perf_event_read_value', () => {
    boot();
    rejects([BPF_EMIT_CALL(BPF_FUNC_perf_event_read_value), BPF_EXIT_INSN()], 'unknown func bpf_perf_event_read_value#55', 22, BPF_PROG_TYPE_XDP);
  });

  it('accepts the shipped programs, counting what it walked', () => {
    boot();
    const io = capture_stdio();
    for (const name of Object.keys(TARGETS) as TargetName[]) expect(bpf_object__load(bpf_object__open(TARGETS[name].object, io))).toBe(0);
    expect(io.lines).toEqual([]);
  });
});

/** Load a target and make perf stat -b's counters for it; the perf session is returned started. */
function profile(target: TargetName, events: string, ids?: string) {
  const io = capture_stdio();
  const obj = bpf_object__open(TARGETS[target].object, io);
  expect(bpf_object__load(obj)).toBe(0);
  expect(bpf_object__attach(obj)).toBe(0);
  const target_fd = obj.progs[0].fd;
  const id = (bpf_obj_get_info_by_fd(target_fd) as { id: number }).id;
  const perf = new PerfStatBpf(['stat', '-e', events, '-b', ids ?? String(id), '-I', '1000', '--log-fd', '1'], { io, sleep_until: () => false });
  expect(perf.parse()).toBeNull();
  return { io, perf, target_fd, id };
}

const SEED_RECURSIVE = [
  'libbpf: load bpf program failed: Invalid argument',
  'libbpf: -- BEGIN DUMP LOG ---',
  'libbpf: ',
  'Cannot recursively attach',
  'processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
  '',
  'libbpf: -- END LOG --',
  "libbpf: failed to load program 'fentry_XXX'",
  "libbpf: failed to load object 'bpf_prog_profiler_bpf'",
  "libbpf: failed to load BPF skeleton 'bpf_prog_profiler_bpf': -4007",
  'bpf_prog_profiler_bpf__load failed',
];

describe('tracing attach rules', () => {
  it('5.11: perf stat -b of a tracing program fails as in the seed (the verifier log through libbpf)', () => {
    boot('v5.11');
    const { io, perf } = profile('tracing', 'cycles');
    expect(perf.start()).toBe(-1);
    expect(io.lines.map((l) => l.line)).toEqual(SEED_RECURSIVE);
    expect(io.lines.every((l) => l.stream === 'stderr')).toBe(true);
  });

  it('6.8: it counts; profiling the profiler of a tracing program is one level too deep', () => {
    boot('v6.8');
    const first = profile('tracing', 'instructions');
    expect(first.perf.start()).toBe(0);
    // the monitors are programs too: the newest fentry_XXX is the first perf's
    const monitor = Math.max(...bpf_prog_get_ids());
    const io = capture_stdio();
    expect(cmd_stat(['stat', '-e', 'cycles', '-b', String(monitor), '-I', '1000'], { io, sleep_until: () => false })).toBe(255);
    expect(io.lines.map((l) => l.line)).toEqual(SEED_RECURSIVE.map((l) => (l === 'Cannot recursively attach' ? 'Cannot nest tracing program attach more than once' : l)));
  });

  it('6.8 with bpf.tracing_prog_nesting off is 6.7: Cannot recursively attach', () => {
    boot('v6.8', ['bpf.tracing_prog_nesting=false']);
    const { io, perf } = profile('tracing', 'cycles');
    expect(perf.start()).toBe(-1);
    expect(io.lines.map((l) => l.line)).toContain('Cannot recursively attach');
  });

  it('a target that is not JITed cannot be attached to', () => {
    boot('v6.8', ['bpf.jit_enable=false']);
    const { io, perf } = profile('xdp', 'cycles');
    expect(perf.start()).toBe(-1);
    expect(io.lines.map((l) => l.line)).toContain('Can attach to only JITed progs');
  });
});

describe('perf stat -b', () => {
  const runs = (fd: number, n: number) => {
    const pkt = udp_packet();
    for (let i = 0; i < n; i++) expect(bpf_prog_test_run(fd, 1, pkt).err).toBe(0);
  };

  it('instructions: runs × (the target + what the monitors run between their reads), exactly', () => {
    // One event: its fentry after the read (2), the target, its fexit up to its read (7).
    // Three events: the monitors run newest first, so instructions' fentry reads first and its
    // fexit reads first: the two other fentry programs run whole inside its window.
    const between_one = PROFILER_INSNS.fentry_after_read + PROFILER_INSNS.fexit_to_read;
    const between_three = between_one + 2 * PROFILER_INSNS.fentry;
    expect(between_one).toBe(9);
    expect(between_three).toBe(39);
    for (const target of ['xdp', 'socket_filter', 'tracing'] as const) {
      for (const [events, between] of [['instructions', between_one], ['cycles,ref-cycles,instructions', between_three]] as const) {
        boot('v6.8');
        const { perf, target_fd } = profile(target, events);
        expect(perf.start()).toBe(0);
        runs(target_fd, 1000);
        const ev = perf.evsels.find((e) => e.name === 'instructions')!;
        bpf_program_profiler__read(ev);
        expect(ev.counts[0].val).toBe(1000 * (TARGETS[target].insns_per_run + between));
        // every run ran each event's two monitors
        expect(read_counter_by_name('sim.bpf.tracing_runs_on_prog')).toBe(1000 * 2 * perf.evsels.length);
      }
    }
  });

  it('a fexit with no fentry reading adds nothing; then fentry and fexit bracket the instructions between them', () => {
    boot('v6.8');
    const { perf } = profile('xdp', 'instructions');
    expect(perf.start()).toBe(0);
    const ev = perf.evsels[0];
    const skel = ev.bpf_counter_list[0];
    const fentry = fget(skel.progs[0].fd, FILE_BPF_PROG);
    const fexit = fget(skel.progs[1].fd, FILE_BPF_PROG);
    ___bpf_prog_run(fexit, 4096);
    bpf_program_profiler__read(ev);
    expect(ev.counts[0]).toEqual({ val: 0, ena: 0, run: 0 });
    ___bpf_prog_run(fentry, 4096);
    ___bpf_prog_run(fexit, 4096);
    bpf_program_profiler__read(ev);
    expect(ev.counts[0].val).toBe(PROFILER_INSNS.fentry_after_read + PROFILER_INSNS.fexit_to_read);
  });

  it('a map slot holds its perf event: closed by perf first, it is still read, and freed with the map', () => {
    boot('v6.8');
    const { perf, target_fd } = profile('xdp', 'instructions');
    expect(perf.start()).toBe(0);
    const ev = perf.evsels[0];
    for (const fd of ev.fds) close(fd);
    ev.fds = [];
    expect(read_counter_by_name('sim.perf.events_freed')).toBe(0);
    runs(target_fd, 10);
    bpf_program_profiler__read(ev);
    expect(ev.counts[0].val).toBe(10 * (TARGETS.xdp.insns_per_run + 9));
    perf.teardown();
    expect(read_counter_by_name('sim.perf.events_freed')).toBe(1);
  });

  it('sums the per-CPU readings', () => {
    boot('v6.8', [], 2);
    const { perf, target_fd, id } = profile('xdp', 'instructions');
    expect(perf.start()).toBe(0);
    runs(target_fd, 300);
    // the same program from another process on CPU 1, then perf reads on CPU 0
    const perf_task = get_current();
    const other = kernel_clone(0);
    cpu_exit();
    cpu_enter(1);
    set_current(other);
    runs(bpf_prog_get_fd_by_id(id), 200);
    cpu_exit();
    cpu_enter(0);
    set_current(perf_task);
    const ev = perf.evsels[0];
    bpf_program_profiler__read(ev);
    const per_run = TARGETS.xdp.insns_per_run + 9;
    expect(ev.counts.map((c) => c.val)).toEqual([300 * per_run, 200 * per_run]);
    const total = ev.counts.reduce((a, c) => a + c.val, 0);
    expect(total).toBe(500 * per_run);
  });

  it('a program without BTF: the seed\'s two lines with -v, one without; perf exits 255', () => {
    boot('v6.8');
    const io = capture_stdio();
    const obj = bpf_object__open(TARGETS.cgroup_skb.object, io);
    expect(bpf_object__load(obj)).toBe(0);
    const id = Math.max(...bpf_prog_get_ids());
    // perf is a process of its own: the program's fd is its first, 3
    set_current(kernel_clone(0));
    expect(cmd_stat(['stat', '-vvv', '-e', 'cycles', '-b', String(id)], { io, sleep_until: () => false })).toBe(255);
    expect(io.lines.map((l) => l.line)).toEqual([
      'Control descriptor is not initialized',
      'prog FD 3 doesn\'t have valid btf',
      `Failed to get program name for bpf prog ${id}. Does it have BTF?`,
    ]);
    const quiet = capture_stdio();
    expect(cmd_stat(['stat', '-e', 'cycles', '-b', String(id)], { io: quiet, sleep_until: () => false })).toBe(255);
    expect(quiet.lines.map((l) => l.line)).toEqual([`Failed to get program name for bpf prog ${id}. Does it have BTF?`]);
  });

  it('bad ids: perf\'s messages', () => {
    boot('v6.8');
    for (const [ids, message] of [['0', 'Failed to parse bpf prog ids 0'], ['abc', 'Failed to parse bpf prog ids abc'], ['12x', 'Failed to parse bpf prog ids 12x'], ['999', 'Failed to open fd for bpf prog 999']]) {
      const io = capture_stdio();
      expect(cmd_stat(['stat', '-e', 'cycles', '-b', ids], { io, sleep_until: () => false })).toBe(255);
      expect(io.lines.map((l) => l.line)).toEqual([message]);
    }
  });

  it('prints counts as perf 5.12 does: the seed\'s interval lines, and insn per cycle', () => {
    const stamp = '     1.487903822 ';
    expect((stamp + format_counter({ val: 115200, ena: 1, run: 1 }, 'ref-cycles', null)).trimEnd()).toBe('     1.487903822            115,200      ref-cycles');
    expect((stamp + format_counter({ val: 86012, ena: 1, run: 1 }, 'cycles', null)).trimEnd()).toBe('     1.487903822             86,012      cycles');
    // perf-stat.txt's example (its first column is the doc's indent): 28,982 instructions over 85,967 cycles
    const ipc = format_counter({ val: 28982, ena: 1, run: 1 }, 'instructions', ' #    0.34  insn per cycle         ');
    expect(ipc.trimEnd()).toBe('            28,982      instructions              #    0.34  insn per cycle');
  });
});

describe('stats from perf\'s output', () => {
  it('stderr lines as lkp\'s programs/stderr/parse makes them (the real parser\'s output for these lines)', () => {
    expect(common_error_id('Failed to get program name for bpf prog 92. Does it have BTF?')).toBe('Failed_to_get_program_name_for_bpf_prog#Does_it_have_BTF?');
    expect(common_error_id("libbpf: failed to load program 'fentry_XXX'")).toBe("libbpf:failed_to_load_program'fentry_XXX'");
    expect(common_error_id('bpf_prog_profiler_bpf__load failed')).toBe('bpf_prog_profiler_bpf__load_failed');
    expect(stderr_stats(['Failed to parse bpf prog ids abc', '', 'Failed to parse bpf prog ids abc'])).toEqual({
      'stderr.Failed_to_parse_bpf_prog_ids_abc': 1,
      'stderr.has_stderr': 1,
    });
  });

  it('perf-stat.b.<event>: the complete intervals\' counts over the seconds they cover', () => {
    const lines = [
      'perf stat -e ref-cycles,cycles -b 254 -I 1000 --log-fd 1',
      '     1.487903822            115,200      ref-cycles',
      '     1.487903822             86,012      cycles',
      '     2.489147029             80,560      ref-cycles',
      '     2.489147029             73,784      cycles',
      '     2.700000000             10,000      ref-cycles',
      '     2.700000000              9,000      cycles',
    ];
    const s = perf_stat_b_stats(lines);
    expect(s['perf-stat.b.ref-cycles']).toBeCloseTo((115200 + 80560) / 2.489147029, 9);
    expect(s['perf-stat.b.cycles']).toBeCloseTo((86012 + 73784) / 2.489147029, 9);
    expect(Object.keys(s)).toHaveLength(2);
  });
});
