// perf events (kernel/events/core.c, 3.2; the inline hooks of include/linux/perf_event.h): per-task
// counters, inherited by the task's children, per-CPU counters (pid -1, cpu N: what perf stat -a
// and perf stat -b open), and the context-switch hooks behind the static key perf_sched_events.
// The first task event that has no parent takes the key from 0 to 1 (perf_event_alloc →
// static_key_slow_inc); freeing it takes it back, at once in 3.2 and a second later from 3.3
// (b202952075f6: jump_label_rate_limit(&perf_sched_events, HZ)). Inherited child events have a
// parent and are not accounted; CPU events never take the key (they need no context switch hook).
//
// An event is a record in the arena; a task's events are a list from task_struct.perf_event_ctxp.
// perf_event_open returns a file descriptor (fs/file.ts). The hardware PMU counts three events:
// cycles at machine.cpu_mhz and ref-cycles at machine.ref_mhz of the machine clock, and
// instructions as the CPU's instructions-retired count (sim.pmu.instructions: the instructions
// the BPF interpreter executes; the rest of the simulated kernel and user code is JavaScript with
// no instruction count, and retires none).

import { mem32, memf64 } from '../../../machine/memory.ts';
import { get_current } from '../../../machine/cpu.ts';
import { ktime_get_ns } from '../../../machine/clock.ts';
import { define_counter, this_cpu_inc } from '../../../machine/counters.ts';
import { kconfig, knob_index } from '../../config.ts';
import { define_kmem_cache, kmem_cache_free, kmem_cache_zalloc } from '../../mm/slab.ts';
import { define_static_key, static_branch, type StaticKey } from '../../include/linux/jump_label.ts';
import { jump_label_rate_limit, static_key_slow_dec_deferred, static_key_slow_inc } from '../jump_label.ts';
import { HZ } from '../time/timer.ts';
import { nr_cpu_ids } from '../../../machine/percpu.ts';
import { T_PERF_EVENTS } from '../fork.ts';
import { per_cpu_count, this_cpu_read } from '../../../machine/counters.ts';
import { smp_processor_id } from '../../../machine/cpu.ts';
import { FILE_PERF_EVENT, fd_install_new, fget, register_file_release } from '../../fs/file.ts';
import { ENOENT, EINVAL, EOPNOTSUPP } from '../../include/uapi/asm-generic/errno-base.ts';

// include/uapi/linux/perf_event.h
export const PERF_TYPE_HARDWARE = 0;
export const PERF_COUNT_HW_CPU_CYCLES = 0;
export const PERF_COUNT_HW_INSTRUCTIONS = 1;
export const PERF_COUNT_HW_REF_CPU_CYCLES = 9;

/** The instructions the simulated CPU retired: what the instructions PMU event counts. */
export const nr_instructions_retired = define_counter('sim.pmu.instructions');

export interface PerfEventAttr {
  type: number;
  config: number;
  /** Children the task forks after the open get an inherited event. */
  inherit?: boolean;
  /** Start disabled (perf stat opens its counters disabled, with enable_on_exec). */
  disabled?: boolean;
  enable_on_exec?: boolean;
}

/** The most sites perf_sched_events may have (the knob perf.sched_events_sites chooses). */
const PERF_SCHED_EVENTS_MAX_SITES = 64;
// kernel/events/core.c: "perf_sched_events : >0 events exist"; sites 0 and 1 are the hooks below
export const perf_sched_events: StaticKey = define_static_key('perf_sched_events', PERF_SCHED_EVENTS_MAX_SITES);
const SITE_SCHED_OUT = 0;
const SITE_SCHED_IN = 1;

// struct perf_event: words 0-7, f64s 4-11 (bytes 32-95), words 24-27, f64 14 (bytes 112-119), word 30
const PE_ATTR_TYPE = 0;
const PE_ATTR_CONFIG = 1;
const PE_ATTR_FLAGS = 2;
const PE_PARENT = 3;
const PE_TASK = 4;
const PE_STATE = 5;
const PE_ATTACH_STATE = 6;
const PE_NEXT = 7; // next event of the task's context
const PE_CPU = 26; // word: the CPU of a CPU event, -1 for a task event
const PE_MAP_REFS = 27; // word: PERF_EVENT_ARRAY slots holding its file
const PE_CLOSED = 30; // word: 1 once its fd was closed while a map still held the file
const PE_CHILDREN = 24; // word: inherited copies alive (each holds the parent, as its filp reference in 3.2)
const PE_RELEASED = 25; // word: 1 once its owner closed it
const PE_COUNT = 4; // f64 index: cycles counted by this event
const PE_CHILD_COUNT = 5; // f64: what exited children's inherited events added
const PE_TIME_ENABLED = 6; // f64: total_time_enabled, ns
const PE_TIME_RUNNING = 7; // f64: total_time_running, ns
const PE_TSTAMP = 8; // f64: when the event last became active
const PE_TSTAMP_ENABLED = 9; // f64: when it was last enabled
const PE_CHILD_ENABLED = 10; // f64: child_total_time_enabled
const PE_CHILD_RUNNING = 11; // f64: child_total_time_running
const PE_TSTAMP_INSNS = 14; // f64 (bytes 112-119): instructions retired when the event last became active
const PERF_EVENT_SIZE = 128;

const ATTR_INHERIT = 1;
const ATTR_ENABLE_ON_EXEC = 2;
const PERF_ATTACH_TASK = 1;

// enum perf_event_active_state (3.2 values, kept apart from 0 so a zeroed record is not valid)
const STATE_EXIT = 1; // off its exited task's context, still readable (3.2 sets it OFF as it unlinks it)
const STATE_OFF = 2;
const STATE_INACTIVE = 3;
const STATE_ACTIVE = 4;

const perf_event_cache = define_kmem_cache('perf_event', PERF_EVENT_SIZE);
const K_CPU_MHZ = knob_index('machine.cpu_mhz');
const K_REF_MHZ = knob_index('machine.ref_mhz');
const K_RATE_LIMIT_MS = knob_index('perf.sched_events_rate_limit_ms');
const K_SITES = knob_index('perf.sched_events_sites');

const nr_opened = define_counter('sim.perf.events_opened');
const nr_inherited = define_counter('sim.perf.events_inherited');
const nr_freed = define_counter('sim.perf.events_freed');
const nr_sched_in = define_counter('sim.perf.sched_in');
const nr_sched_out = define_counter('sim.perf.sched_out');

const w = (ev: number, f: number) => (ev >> 2) + f;
const d = (ev: number, f: number) => (ev >> 3) + f;

/** The number of sites perf_sched_events has in this kernel (jump_label_init asks). */
export function perf_sched_events_sites(): number {
  return kconfig(K_SITES);
}

// kernel/events/core.c perf_event_init: "do not patch jump label more than once per second"
export function perf_event_init(): void {
  jump_label_rate_limit(perf_sched_events, Math.round((kconfig(K_RATE_LIMIT_MS) * HZ()) / 1000));
}

/** The instructions retired so far by the CPU an event counts on (a task event: this CPU). */
function insns_retired(ev: number): number {
  const cpu = mem32[w(ev, PE_CPU)];
  return cpu < 0 ? this_cpu_read(nr_instructions_retired) : per_cpu_count(nr_instructions_retired, cpu);
}

/** What the event's PMU counted while it was active from its last sched-in until `now`. */
function pmu_delta(ev: number, now: number): number {
  const ran = now - memf64[d(ev, PE_TSTAMP)];
  switch (mem32[w(ev, PE_ATTR_CONFIG)]) {
    case PERF_COUNT_HW_INSTRUCTIONS: return insns_retired(ev) - memf64[d(ev, PE_TSTAMP_INSNS)];
    case PERF_COUNT_HW_REF_CPU_CYCLES: return Math.round((ran * kconfig(K_REF_MHZ)) / 1000);
    default: return Math.round((ran * kconfig(K_CPU_MHZ)) / 1000);
  }
}

// kernel/events/core.c event_sched_in / event_sched_out: the PMU counts while the event is active
function event_sched_in(ev: number, now: number): void {
  mem32[w(ev, PE_STATE)] = STATE_ACTIVE;
  memf64[d(ev, PE_TSTAMP)] = now;
  memf64[d(ev, PE_TSTAMP_INSNS)] = insns_retired(ev);
}

function event_sched_out(ev: number, now: number): void {
  memf64[d(ev, PE_COUNT)] += pmu_delta(ev, now);
  memf64[d(ev, PE_TIME_RUNNING)] += now - memf64[d(ev, PE_TSTAMP)];
  mem32[w(ev, PE_STATE)] = STATE_INACTIVE;
}

function event_enable(ev: number, now: number, running: boolean): void {
  memf64[d(ev, PE_TSTAMP_ENABLED)] = now;
  if (running) event_sched_in(ev, now);
  else mem32[w(ev, PE_STATE)] = STATE_INACTIVE;
}

/** Stop an event's clocks for good (its task exited, or it is closed). */
function event_freeze(ev: number, now: number): void {
  const st = mem32[w(ev, PE_STATE)];
  if (st === STATE_ACTIVE) event_sched_out(ev, now);
  if (st === STATE_ACTIVE || st === STATE_INACTIVE) memf64[d(ev, PE_TIME_ENABLED)] += now - memf64[d(ev, PE_TSTAMP_ENABLED)];
}

function ctx_add(task: number, ev: number): void {
  mem32[w(ev, PE_NEXT)] = mem32[(task >> 2) + T_PERF_EVENTS];
  mem32[(task >> 2) + T_PERF_EVENTS] = ev;
}

function ctx_remove(task: number, ev: number): void {
  let link = (task >> 2) + T_PERF_EVENTS;
  while (mem32[link] !== 0 && mem32[link] !== ev) link = w(mem32[link], PE_NEXT);
  if (mem32[link] === ev) mem32[link] = mem32[w(ev, PE_NEXT)];
}

// kernel/events/core.c perf_event_alloc (3.2): a task event without a parent takes perf_sched_events
function perf_event_alloc(attr_type: number, attr_config: number, flags: number, task: number, parent: number, cpu = -1): number {
  const ev = kmem_cache_zalloc(perf_event_cache);
  if (ev === 0) throw new Error('perf_event_alloc: out of memory');
  mem32[w(ev, PE_CPU)] = cpu;
  mem32[w(ev, PE_ATTR_TYPE)] = attr_type;
  mem32[w(ev, PE_ATTR_CONFIG)] = attr_config;
  mem32[w(ev, PE_ATTR_FLAGS)] = flags;
  mem32[w(ev, PE_PARENT)] = parent;
  mem32[w(ev, PE_TASK)] = task;
  mem32[w(ev, PE_ATTACH_STATE)] = task !== 0 ? PERF_ATTACH_TASK : 0;
  mem32[w(ev, PE_STATE)] = STATE_OFF;
  if (parent === 0) {
    this_cpu_inc(nr_opened);
    if (mem32[w(ev, PE_ATTACH_STATE)] & PERF_ATTACH_TASK) static_key_slow_inc(perf_sched_events);
  } else this_cpu_inc(nr_inherited);
  return ev;
}

// kernel/events/core.c free_event (3.3: jump_label_dec_deferred)
function free_event(ev: number): void {
  if (mem32[w(ev, PE_PARENT)] === 0) {
    this_cpu_inc(nr_freed);
    if (mem32[w(ev, PE_ATTACH_STATE)] & PERF_ATTACH_TASK) static_key_slow_dec_deferred(perf_sched_events);
  }
  kmem_cache_free(perf_event_cache, ev);
}

const HW_EVENTS = [PERF_COUNT_HW_CPU_CYCLES, PERF_COUNT_HW_INSTRUCTIONS, PERF_COUNT_HW_REF_CPU_CYCLES];

// kernel/events/core.c sys_perf_event_open, without groups or flags: a counter of one task (cpu
// -1) or of one CPU (task 0, standing in for pid -1); its fd, or -errno. A task event bound to one
// CPU is not modeled (-EINVAL).
export function sys_perf_event_open(attr: PerfEventAttr, task: number, cpu: number, group_fd: number, flags: number): number {
  if (group_fd !== -1 || flags !== 0 || (task === 0) === (cpu === -1)) return -EINVAL;
  if (cpu !== -1 && (!Number.isInteger(cpu) || cpu < 0 || cpu >= nr_cpu_ids())) return -EINVAL;
  if (attr.type !== PERF_TYPE_HARDWARE || !HW_EVENTS.includes(attr.config)) return -ENOENT;
  const f = (attr.inherit ? ATTR_INHERIT : 0) | (attr.enable_on_exec ? ATTR_ENABLE_ON_EXEC : 0);
  const ev = perf_event_alloc(attr.type, attr.config, f, task, 0, cpu);
  // A CPU context is always scheduled in: its events count whenever they are enabled.
  if (task !== 0) ctx_add(task, ev);
  if (!attr.disabled) event_enable(ev, ktime_get_ns(), task === 0 || task === get_current());
  const fd = fd_install_new(FILE_PERF_EVENT, ev);
  if (fd < 0) perf_event_release(ev);
  return fd;
}

/** The event behind a perf event fd, or 0. */
export function perf_event_get(fd: number): number {
  return fget(fd, FILE_PERF_EVENT);
}

/** What read(2) of a counter gives (PERF_FORMAT_TOTAL_TIME_ENABLED | _RUNNING). */
export interface PerfReadValue {
  count: number;
  time_enabled: number;
  time_running: number;
}

/** The event's count, time enabled and time running now, with its children's, into out[0..2]. */
function perf_event_count(ev: number, out: Float64Array): void {
  const now = ktime_get_ns();
  const st = mem32[w(ev, PE_STATE)];
  const running_now = st === STATE_ACTIVE ? now - memf64[d(ev, PE_TSTAMP)] : 0;
  const enabled_now = st === STATE_ACTIVE || st === STATE_INACTIVE ? now - memf64[d(ev, PE_TSTAMP_ENABLED)] : 0;
  out[0] = memf64[d(ev, PE_COUNT)] + memf64[d(ev, PE_CHILD_COUNT)] + (st === STATE_ACTIVE ? pmu_delta(ev, now) : 0);
  out[1] = memf64[d(ev, PE_TIME_ENABLED)] + memf64[d(ev, PE_CHILD_ENABLED)] + enabled_now;
  out[2] = memf64[d(ev, PE_TIME_RUNNING)] + memf64[d(ev, PE_CHILD_RUNNING)] + running_now;
}

const read_value = new Float64Array(3);

// kernel/events/core.c perf_event_read_value: the event's count with its children's
export function perf_event_read_value(ev: number): PerfReadValue {
  perf_event_count(ev, read_value);
  return { count: read_value[0], time_enabled: read_value[1], time_running: read_value[2] };
}

// kernel/events/core.c perf_release → perf_event_release_kernel → free_event: close(2). An
// inherited copy still alive holds the event (3.2: a reference on its file), so the event, and
// the key's decrement, go with the last of them.
export function perf_event_release(ev: number): void {
  // A PERF_EVENT_ARRAY slot holds the file: the release waits for the last of them.
  if (Atomics.load(mem32, w(ev, PE_MAP_REFS)) > 0) {
    mem32[w(ev, PE_CLOSED)] = 1;
    return;
  }
  if (mem32[w(ev, PE_STATE)] !== STATE_EXIT) {
    event_freeze(ev, ktime_get_ns());
    if (mem32[w(ev, PE_TASK)] !== 0) ctx_remove(mem32[w(ev, PE_TASK)], ev);
    mem32[w(ev, PE_STATE)] = STATE_EXIT;
  }
  mem32[w(ev, PE_RELEASED)] = 1;
  if (mem32[w(ev, PE_CHILDREN)] === 0) free_event(ev);
}

register_file_release(FILE_PERF_EVENT, perf_event_release);

// kernel/bpf/arraymap.c perf_event_fd_array_get_ptr: a map slot takes the event (0), unless it is
// inherited (-EOPNOTSUPP: perf_event_read_local could not read it)
export function perf_event_map_get(ev: number): number {
  if (mem32[w(ev, PE_ATTR_FLAGS)] & ATTR_INHERIT) return -EOPNOTSUPP;
  Atomics.add(mem32, w(ev, PE_MAP_REFS), 1);
  return 0;
}

// kernel/bpf/arraymap.c perf_event_fd_array_put_ptr: the slot lets go of the file; if its fd was
// closed meanwhile, this was the last reference and the event is released now
export function perf_event_map_put(ev: number): void {
  if (Atomics.sub(mem32, w(ev, PE_MAP_REFS), 1) === 1 && mem32[w(ev, PE_CLOSED)] === 1) perf_event_release(ev);
}

// kernel/events/core.c perf_event_read_local (4.13+): what a BPF program reads, on the CPU it runs
// on. An inherited event cannot be read so (-EOPNOTSUPP); a CPU event must be this CPU's and a task
// event the current task's (-EINVAL otherwise).
export function perf_event_read_local(ev: number, out: Float64Array): number {
  if (mem32[w(ev, PE_ATTR_FLAGS)] & ATTR_INHERIT) return -EOPNOTSUPP;
  const cpu = mem32[w(ev, PE_CPU)];
  if (cpu >= 0 ? cpu !== smp_processor_id() : mem32[w(ev, PE_TASK)] !== get_current()) return -EINVAL;
  perf_event_count(ev, out);
  return 0;
}

// kernel/events/core.c perf_event_init_task → inherit_event: the child of a counted task gets a
// copy of each inheritable event, with the original as parent (not accounted)
export function perf_event_init_task(child: number, parent_task: number): void {
  const now = ktime_get_ns();
  for (let ev = mem32[(parent_task >> 2) + T_PERF_EVENTS]; ev !== 0; ev = mem32[w(ev, PE_NEXT)]) {
    if (!(mem32[w(ev, PE_ATTR_FLAGS)] & ATTR_INHERIT)) continue;
    const top = mem32[w(ev, PE_PARENT)] || ev;
    const c = perf_event_alloc(mem32[w(ev, PE_ATTR_TYPE)], mem32[w(ev, PE_ATTR_CONFIG)], mem32[w(ev, PE_ATTR_FLAGS)], child, top);
    mem32[w(top, PE_CHILDREN)]++;
    ctx_add(child, c);
    if (mem32[w(ev, PE_STATE)] !== STATE_OFF) event_enable(c, now, false);
  }
}

// kernel/events/core.c perf_event_enable_on_exec: exec turns on the events waiting for it
export function perf_event_enable_on_exec(task: number): void {
  const now = ktime_get_ns();
  for (let ev = mem32[(task >> 2) + T_PERF_EVENTS]; ev !== 0; ev = mem32[w(ev, PE_NEXT)]) {
    if (mem32[w(ev, PE_ATTR_FLAGS)] & ATTR_ENABLE_ON_EXEC && mem32[w(ev, PE_STATE)] === STATE_OFF) event_enable(ev, now, task === get_current());
  }
}

// kernel/events/core.c perf_event_exit_task: an inherited event gives its count to its parent and
// goes; a top-level event stays for its owner to read and close
export function perf_event_exit_task(task: number): void {
  const now = ktime_get_ns();
  let ev = mem32[(task >> 2) + T_PERF_EVENTS];
  mem32[(task >> 2) + T_PERF_EVENTS] = 0;
  while (ev !== 0) {
    const next = mem32[w(ev, PE_NEXT)];
    event_freeze(ev, now);
    const parent = mem32[w(ev, PE_PARENT)];
    if (parent !== 0) {
      // kernel/events/core.c sync_child_event: the count and times go to the parent
      memf64[d(parent, PE_CHILD_COUNT)] += memf64[d(ev, PE_COUNT)];
      memf64[d(parent, PE_CHILD_ENABLED)] += memf64[d(ev, PE_TIME_ENABLED)];
      memf64[d(parent, PE_CHILD_RUNNING)] += memf64[d(ev, PE_TIME_RUNNING)];
      free_event(ev);
      if (--mem32[w(parent, PE_CHILDREN)] === 0 && mem32[w(parent, PE_RELEASED)] === 1) free_event(parent);
    } else mem32[w(ev, PE_STATE)] = STATE_EXIT;
    ev = next;
  }
}

// kernel/events/core.c __perf_event_task_sched_out: stop the outgoing task's counters
function __perf_event_task_sched_out(prev: number): void {
  this_cpu_inc(nr_sched_out);
  const now = ktime_get_ns();
  for (let ev = mem32[(prev >> 2) + T_PERF_EVENTS]; ev !== 0; ev = mem32[w(ev, PE_NEXT)]) if (mem32[w(ev, PE_STATE)] === STATE_ACTIVE) event_sched_out(ev, now);
}

// kernel/events/core.c __perf_event_task_sched_in: start the incoming task's counters
function __perf_event_task_sched_in(task: number): void {
  this_cpu_inc(nr_sched_in);
  const now = ktime_get_ns();
  for (let ev = mem32[(task >> 2) + T_PERF_EVENTS]; ev !== 0; ev = mem32[w(ev, PE_NEXT)]) if (mem32[w(ev, PE_STATE)] === STATE_INACTIVE) event_sched_in(ev, now);
}

// include/linux/perf_event.h perf_event_task_sched_out (prepare_task_switch)
export function perf_event_task_sched_out(prev: number): void {
  if (static_branch(perf_sched_events, SITE_SCHED_OUT)) __perf_event_task_sched_out(prev);
}

// include/linux/perf_event.h perf_event_task_sched_in (finish_task_switch)
export function perf_event_task_sched_in(task: number): void {
  if (static_branch(perf_sched_events, SITE_SCHED_IN)) __perf_event_task_sched_in(task);
}
