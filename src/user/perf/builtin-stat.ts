// perf stat -b (tools/perf/builtin-stat.c and util/stat-display.c, 5.12): count hardware events
// for BPF programs. __run_perf_stat loads the BPF counters of every event, opens the per-CPU
// events and installs them, enables (attaches), then dispatch_events sleeps an interval at a time
// and prints each interval's counts; a signal ends the loop after one last (partial) interval.
// Without -I the counts print once, with the header and the elapsed time, at the end.

import { parseArgs } from 'node:util';
import { nr_cpu_ids } from '../../machine/percpu.ts';
import { ktime_get_ns } from '../../machine/clock.ts';
import { close, perf_event_open } from '../libc.ts';
import {
  PERF_COUNT_HW_CPU_CYCLES, PERF_COUNT_HW_INSTRUCTIONS, PERF_COUNT_HW_REF_CPU_CYCLES, PERF_TYPE_HARDWARE,
} from '../../kernel/kernel/events/core.ts';
import {
  bpf_program_profiler__destroy, bpf_program_profiler__enable, bpf_program_profiler__install_pe, bpf_program_profiler__load,
  bpf_program_profiler__read, type CountsValues, type Evsel,
} from './bpf_counter.ts';
import type { Stdio } from '../stdio.ts';
import { sprintf } from '../../lib/printf.ts';

/** perf's exit status when cmd_stat returns -1 (run_builtin: status & 0xff). */
export const PERF_EXIT_FAILURE = 255;
/** parse_options' exit status for a bad option (PARSE_OPT_HELP → usage_with_options: 129). */
export const PERF_EXIT_USAGE = 129;

// tools/perf/util/parse-events.c event_symbols_hw: the hardware events this PMU has
const HW_EVENTS: Record<string, number> = {
  'cpu-cycles': PERF_COUNT_HW_CPU_CYCLES,
  cycles: PERF_COUNT_HW_CPU_CYCLES,
  instructions: PERF_COUNT_HW_INSTRUCTIONS,
  'ref-cycles': PERF_COUNT_HW_REF_CPU_CYCLES,
};

/** What perf needs from its process: its streams, and a sleep that a signal can cut short. */
export interface PerfEnv {
  io: Stdio;
  /** Sleep until the machine clock reaches `deadline_ns`; false if a signal (the harness's stop) came first. */
  sleep_until(deadline_ns: number): boolean;
}

// util/stat-display.c: the count column is "%'18.0f" (the seed's en_US locale groups thousands)
function big_num(v: number): string {
  return Math.round(v).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** METRIC_LEN (stat-display.c): the width print_metric_std pads a line's metric to. */
const METRIC_LEN = 35;

/** One count line as perf prints it, without the interval's timestamp. */
export function format_counter(v: CountsValues, name: string, metric: string | null): string {
  const unit = `${''.padEnd(4)} `; // evsel->unit "" in unit_width 4, then the separator
  if (v.run === 0 || v.ena === 0) return `${'<not counted>'.padStart(18)} ${unit}${name.padEnd(25)}${''.padEnd(METRIC_LEN)}`;
  let line = `${big_num(v.val).padStart(18)} ${unit}${name.padEnd(25)}`;
  if (metric === null) line += ''.padEnd(METRIC_LEN);
  else line += metric;
  if (v.run !== v.ena) line += sprintf('  (%.2f%%)', (100 * v.run) / v.ena);
  return line;
}

// util/stat-shadow.c: instructions get "insn per cycle" when cycles counted in the same run
function ipc_metric(instructions: number, cycles: number): string | null {
  if (cycles === 0) return null;
  const head = ` # ${sprintf('%7.2f ', instructions / cycles)}`;
  return `${head} ${'insn per cycle'.padEnd(METRIC_LEN - head.length - 1)}`;
}

export class PerfStatBpf {
  readonly evsels: Evsel[] = [];
  private prev: CountsValues[] = [];
  private ref_time = 0;
  private verbose = 0;
  private log: (line: string) => void;
  interval_ms = 0;
  bpf_str = '';
  /** The arguments as perf was run (lkp's monitors echo them first). */
  readonly cmdline: string;

  constructor(readonly argv: readonly string[], readonly env: PerfEnv) {
    this.cmdline = ['perf', ...argv].join(' ');
    this.log = env.io.err;
  }

  /** Parse the options; an exit status for bad ones, or null. */
  parse(): number | null {
    let values;
    try {
      ({ values } = parseArgs({
        args: this.argv.slice(1) as string[],
        options: {
          event: { type: 'string', short: 'e', multiple: true },
          'bpf-prog': { type: 'string', short: 'b' },
          'interval-print': { type: 'string', short: 'I' },
          'log-fd': { type: 'string' },
          verbose: { type: 'boolean', short: 'v', multiple: true },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (e) {
      this.env.io.err(` Error: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      return PERF_EXIT_USAGE;
    }
    if (this.argv[0] !== 'stat') {
      this.env.io.err(`perf: '${this.argv[0]}' is not a perf-command. See 'perf --help'.`);
      return 1;
    }
    this.verbose = values.verbose?.length ?? 0;
    if (values['log-fd'] === '1') this.log = this.env.io.out;
    const names = (values.event ?? ['cycles']).flatMap((e) => e.split(','));
    for (const name of names) {
      if (!(name in HW_EVENTS)) {
        this.env.io.err(`event syntax error: '${name}'`);
        this.env.io.err("Run 'perf list' for a list of valid events");
        return PERF_EXIT_USAGE;
      }
      this.evsels.push({ name, config: HW_EVENTS[name], fds: [], bpf_counter_list: [], counts: [] });
    }
    if (values['interval-print'] !== undefined) {
      const ms = Number(values['interval-print']);
      // builtin-stat.c: "print interval must be >= 10ms"
      if (!Number.isInteger(ms) || ms < 10) {
        this.env.io.err('print interval must be >= 10ms');
        return PERF_EXIT_USAGE;
      }
      this.interval_ms = ms;
    }
    if (values['bpf-prog'] === undefined) {
      this.env.io.err('perf stat -b: this perf counts BPF programs only (give -b <prog id>)');
      return PERF_EXIT_USAGE;
    }
    this.bpf_str = values['bpf-prog'];
    return null;
  }

  // builtin-stat.c __run_perf_stat, up to the counting: -1 on failure (perf then exits 255)
  start(): number {
    if (this.verbose > 0) this.env.io.err('Control descriptor is not initialized');
    for (const evsel of this.evsels) if (bpf_program_profiler__load(evsel, this.bpf_str, { io: this.env.io, verbose: this.verbose }) !== 0) return -1;
    // evsel__open_cpu: one event per CPU, the target's events not inherited (attr.inherit is off for BPF counters)
    for (const evsel of this.evsels) {
      for (let cpu = 0; cpu < nr_cpu_ids(); cpu++) {
        const fd = perf_event_open({ type: PERF_TYPE_HARDWARE, config: evsel.config }, 0, cpu, -1, 0);
        if (fd < 0) {
          this.env.io.err(`Error: failed to open the ${evsel.name} event on CPU ${cpu}`);
          return -1;
        }
        evsel.fds.push(fd);
        bpf_program_profiler__install_pe(evsel, cpu, fd);
      }
    }
    this.ref_time = ktime_get_ns();
    // enable_counters → bpf_counter__enable: attach the skeletons
    for (const evsel of this.evsels) if (bpf_program_profiler__enable(evsel) !== 0) return -1;
    this.prev = this.evsels.map(() => ({ val: 0, ena: 0, run: 0 }));
    return 0;
  }

  /** read_bpf_map_counters, then the counts of each event summed over CPUs (perf's AGGR_GLOBAL). */
  private read(): CountsValues[] {
    return this.evsels.map((evsel) => {
      bpf_program_profiler__read(evsel);
      return evsel.counts.reduce((a, c) => ({ val: a.val + c.val, ena: a.ena + c.ena, run: a.run + c.run }), { val: 0, ena: 0, run: 0 });
    });
  }

  /** Each event's count line; instructions get their insn per cycle against the cycles counted with them. */
  private counter_lines(values: CountsValues[]): string[] {
    const cycles = values[this.evsels.findIndex((e) => e.config === PERF_COUNT_HW_CPU_CYCLES)]?.val ?? 0;
    return this.evsels.map((e, i) => format_counter(values[i], e.name, e.config === PERF_COUNT_HW_INSTRUCTIONS ? ipc_metric(values[i].val, cycles) : null));
  }

  private num_print_interval = 0;

  // builtin-stat.c process_interval: the counts since the previous interval, stamped with the time
  // since the start; stat-display.c print_interval puts its header first, and again every 25 intervals
  process_interval(): string[] {
    const now = ktime_get_ns() - this.ref_time;
    const total = this.read();
    const delta = total.map((t, i) => ({ val: t.val - this.prev[i].val, ena: t.ena - this.prev[i].ena, run: t.run - this.prev[i].run }));
    this.prev = total;
    const stamp = sprintf('%6d.%09d ', Math.floor(now / 1e9), Math.floor(now % 1e9));
    const lines = this.counter_lines(delta).map((l) => stamp + l);
    if (this.num_print_interval === 0) this.log('#           time             counts unit events');
    this.num_print_interval = (this.num_print_interval + 1) % 25;
    for (const l of lines) this.log(l);
    return lines;
  }

  // builtin-stat.c print_counters without -I: the header, the counts, the elapsed time
  print_summary(): void {
    this.log('');
    this.log(` Performance counter stats for 'BPF program(s) ${this.bpf_str}':`);
    this.log('');
    for (const l of this.counter_lines(this.read())) this.log(l);
    this.log('');
    this.log(sprintf(' %17.9f seconds time elapsed', (ktime_get_ns() - this.ref_time) / 1e9));
    this.log('');
  }

  // builtin-stat.c dispatch_events (no workload: until a signal), then the summary when not in interval mode
  run(): void {
    const step = (this.interval_ms || 1000) * 1e6;
    for (;;) {
      // a nanosleep of one interval from when perf last woke, so the stamps drift by the wake-ups
      const slept = this.env.sleep_until(ktime_get_ns() + step);
      if (this.interval_ms > 0) this.process_interval();
      if (!slept) break;
    }
    if (this.interval_ms === 0) this.print_summary();
  }

  /** evlist__close and bpf_counter__destroy: the events closed, the monitors detached and unloaded. */
  teardown(): void {
    for (const evsel of this.evsels) {
      bpf_program_profiler__destroy(evsel);
      for (const fd of evsel.fds) close(fd);
      evsel.fds = [];
    }
  }
}

// builtin-stat.c cmd_stat for `perf stat -b`: the exit status
export function cmd_stat(argv: readonly string[], env: PerfEnv): number {
  const perf = new PerfStatBpf(argv, env);
  const bad = perf.parse();
  if (bad !== null) return bad;
  try {
    if (perf.start() !== 0) return PERF_EXIT_FAILURE;
    perf.run();
    return 0;
  } finally {
    perf.teardown();
  }
}
