// The machine and kernel basics on one thread, with a manual clock: exact outcomes only.

import { describe, expect, it } from 'vitest';
import { start_kernel } from '../src/kernel/init/main.ts';
import { ConfigError, DEFAULT_PRESET, resolve_config, kconfig, knob_index } from '../src/kernel/config.ts';
import { mem32, PAGE_SIZE } from '../src/machine/memory.ts';
import { define_counter, define_global, define_per_cpu } from '../src/machine/symbols.ts';
import { clock_advance } from '../src/machine/clock.ts';
import { cpu_enter, cpu_exit, do_safe_point, set_current } from '../src/machine/cpu.ts';
import { per_cpu_ptr } from '../src/machine/percpu.ts';
import { read_counter, read_counter_by_name, this_cpu_inc } from '../src/machine/counters.ts';
import { alloc_pages, free_pages, page_stats } from '../src/kernel/mm/page_alloc.ts';
import { cpu_cache_limit, define_kmem_cache, kmem_cache_alloc, kmem_cache_alloc_bulk, kmem_cache_free, kmem_cache_free_bulk, slab_stats } from '../src/kernel/mm/slab.ts';
import { define_function } from '../src/machine/symbols.ts';
import { TIMER_LIST_SIZE, jiffies, mod_timer, timer_pending, timer_setup, del_timer } from '../src/kernel/kernel/time/timer.ts';
import { DELAYED_WORK_SIZE, init_delayed_work, schedule_delayed_work } from '../src/kernel/kernel/workqueue.ts';
import { call_rcu, rcu_stats, synchronize_rcu } from '../src/kernel/kernel/rcu.ts';
import { printk, read_kernel_log } from '../src/kernel/kernel/printk/printk.ts';
import { CLONE_THREAD, CLONE_VM, kernel_clone, task_pid, task_tgid, task_mm } from '../src/kernel/kernel/fork.ts';
import { getpid, getppid } from '../src/user/libc.ts';
import { resolve_params, type Workload } from '../src/runner/workload.ts';

// Everything a test defines must exist before boot for kmem_cache_init to set it up.
const probe_cache = define_kmem_cache('probe', 200);
const scratch = define_global('test:scratch', 256);
const fired = define_counter('sim.test.fired');
const fire = define_function('test:fire', (arg) => {
  this_cpu_inc(fired);
  mem32[(scratch.addr >> 2) + 1] = arg;
});
const freed = define_function('test:freed', () => {
  mem32[(scratch.addr >> 2) + 2]++;
});

function boot(nr_cpus = 2, sets: string[] = []) {
  return start_kernel({ nr_cpus, mem_mb: 32, config: resolve_config(DEFAULT_PRESET, sets), clock: 'manual' });
}

/** Pass `n` jiffies of time, with this CPU ticking at each. */
function tick(n: number) {
  for (let i = 0; i < n; i++) {
    clock_advance(1e9 / kconfig(knob_index('kernel.hz')));
    do_safe_point();
  }
}

describe('symbols and per-CPU data', () => {
  it('binds a definition made after boot at once, and the same name to the same place', () => {
    boot();
    const a = define_global('test:late', 64);
    const b = define_global('test:late', 64);
    expect(a.addr).toBeGreaterThan(0);
    expect(b.addr).toBe(a.addr);
    const c1 = define_counter('sim.test.same');
    const c2 = define_counter('sim.test.same');
    expect(c2.index).toBe(c1.index);
  });

  it('puts per-CPU variables on their own cache lines and CPUs in their own units', () => {
    boot(3);
    const v = define_per_cpu('test:pcpu', 4);
    const w = define_per_cpu('test:pcpu2', 4);
    expect(Math.abs(w.off - v.off)).toBeGreaterThanOrEqual(64);
    expect(per_cpu_ptr(v, 1) - per_cpu_ptr(v, 0)).toBeGreaterThanOrEqual(PAGE_SIZE);
  });

  it('sums per-CPU counters over CPUs', () => {
    boot(3);
    const c = define_counter('sim.test.sum');
    this_cpu_inc(c);
    cpu_exit();
    cpu_enter(2);
    this_cpu_inc(c);
    this_cpu_inc(c);
    cpu_exit();
    cpu_enter(0);
    expect(read_counter(c)).toBe(3);
  });
});

describe('page allocator', () => {
  it('accounts pages in use and their peak exactly, and merges buddies back', () => {
    boot();
    const start = page_stats(); // boot's own slabs (tasks, mm) are already in use
    expect(start.in_use).toBe(start.managed - start.free);
    const a = alloc_pages(0);
    const b = alloc_pages(3);
    const c = alloc_pages(1);
    expect(a % PAGE_SIZE).toBe(0);
    expect(b % (8 * PAGE_SIZE)).toBe(0);
    expect(page_stats()).toMatchObject({ in_use: start.in_use + 11, peak: start.in_use + 11, free: start.free - 11 });
    free_pages(b, 3);
    expect(page_stats()).toMatchObject({ in_use: start.in_use + 3, peak: start.in_use + 11 });
    free_pages(a, 0);
    free_pages(c, 1);
    expect(page_stats()).toMatchObject({ in_use: start.in_use, peak: start.in_use + 11, free: start.free });
    // Fully merged again: the largest blocks are allocatable as before.
    const big = alloc_pages(10);
    expect(big).toBeGreaterThan(0);
    free_pages(big, 10);
  });

  it('returns 0 when memory is exhausted', () => {
    boot();
    const got: number[] = [];
    for (let a = alloc_pages(10); a !== 0; a = alloc_pages(10)) got.push(a);
    expect(alloc_pages(10)).toBe(0);
    for (const a of got) free_pages(a, 10);
  });
});

describe('slab', () => {
  it('balances allocations and frees, and refills and flushes the CPU array in batches', () => {
    boot();
    const objs = Array.from({ length: 300 }, () => kmem_cache_alloc(probe_cache));
    expect(new Set(objs).size).toBe(300);
    expect(objs.every((o) => o > 0 && o % 8 === 0)).toBe(true);
    expect(slab_stats(probe_cache).active_objects).toBe(300);
    for (const o of objs) kmem_cache_free(probe_cache, o);
    expect(slab_stats(probe_cache).active_objects).toBe(0);
    expect(read_counter_by_name('sim.slab.probe.alloc')).toBe(300);
    expect(read_counter_by_name('sim.slab.probe.refill')).toBe(Math.ceil(300 / ((cpu_cache_limit(200) + 1) >> 1)));
    // 200-byte objects: a CPU array of 120, batches of 60. Frees 121, 181 and 241 find it full.
    expect(read_counter_by_name('sim.slab.probe.flush')).toBe(3);
  });

  it('bulk-allocates and bulk-frees, counting calls and objects', () => {
    boot();
    const out = new Int32Array(40);
    expect(kmem_cache_alloc_bulk(probe_cache, 37, out, 2)).toBe(37);
    expect(new Set(out.subarray(2, 39)).size).toBe(37);
    kmem_cache_free_bulk(probe_cache, 37, out, 2);
    expect(read_counter_by_name('sim.slab.probe.alloc')).toBe(37);
    expect(read_counter_by_name('sim.slab.probe.free')).toBe(37);
    expect(read_counter_by_name('sim.slab.probe.alloc_bulk_calls')).toBe(1);
    expect(read_counter_by_name('sim.slab.probe.free_bulk_calls')).toBe(1);
  });

  it('gives empty slabs back to the page allocator beyond the few it keeps', () => {
    boot();
    const before = page_stats().in_use;
    const objs = Array.from({ length: 2000 }, () => kmem_cache_alloc(probe_cache));
    const grown = page_stats().in_use;
    expect(grown).toBeGreaterThan(before);
    for (const o of objs) kmem_cache_free(probe_cache, o);
    expect(read_counter_by_name('sim.slab.probe.discard_slab')).toBeGreaterThan(0);
    expect(page_stats().in_use).toBeLessThan(grown);
  });
});

describe('time: jiffies, timers, delayed work', () => {
  it('runs a timer at the first tick at or after its expiry, once', () => {
    boot();
    const t = scratch.addr + 64;
    expect(TIMER_LIST_SIZE).toBeLessThanOrEqual(64);
    timer_setup(t, fire, 42);
    mod_timer(t, jiffies() + 5);
    tick(4);
    expect(read_counter(fired)).toBe(0);
    expect(timer_pending(t)).toBe(true);
    tick(1);
    expect(read_counter(fired)).toBe(1);
    expect(mem32[(scratch.addr >> 2) + 1]).toBe(42);
    tick(10);
    expect(read_counter(fired)).toBe(1);
  });

  it('does not run a deleted timer', () => {
    boot();
    const t = scratch.addr + 64;
    timer_setup(t, fire, 1);
    mod_timer(t, jiffies() + 2);
    expect(del_timer(t)).toBe(true);
    tick(5);
    expect(read_counter(fired)).toBe(0);
  });

  it('follows CONFIG_HZ', () => {
    boot(1, ['kernel.hz=250']);
    const j = jiffies();
    clock_advance(1e9);
    expect(jiffies() - j).toBe(250);
  });

  it('runs delayed work on this CPU after its delay', () => {
    boot();
    const dw = scratch.addr + 128;
    expect(DELAYED_WORK_SIZE).toBeLessThanOrEqual(128);
    init_delayed_work(dw, fire, 7);
    expect(schedule_delayed_work(dw, 3)).toBe(true);
    expect(schedule_delayed_work(dw, 3)).toBe(false); // already pending
    tick(2);
    expect(read_counter(fired)).toBe(0);
    tick(2);
    expect(read_counter(fired)).toBe(1);
    expect(read_counter_by_name('sim.workqueue.executed')).toBe(1);
  });
});

describe('RCU on one CPU', () => {
  it('starts a grace period at a tick, ends it at a quiescent state, then runs the callback', () => {
    boot(2); // CPU 1 idle: extended quiescent state, never waited for
    call_rcu(scratch.addr + 16, freed);
    expect(mem32[(scratch.addr >> 2) + 2]).toBe(0);
    const gp = rcu_stats().gp_seq;
    tick(1); // the tick starts the grace period; this CPU's quiescent state ends it
    tick(1);
    expect(rcu_stats().gp_seq).toBeGreaterThanOrEqual(gp + 2);
    expect(mem32[(scratch.addr >> 2) + 2]).toBe(1);
    expect(read_counter_by_name('sim.rcu.callbacks')).toBe(1);
    expect(rcu_stats().callbacks_waiting).toBe(0);
  });

  it('synchronize_rcu returns after a full grace period', () => {
    boot(2);
    const gp = rcu_stats().gp_seq;
    synchronize_rcu();
    expect(rcu_stats().gp_seq).toBeGreaterThanOrEqual(gp + 2);
  });
});

describe('tasks', () => {
  it('forks processes and clones threads with Linux getppid/getpid semantics', () => {
    const k = boot();
    const parent = kernel_clone(0);
    set_current(parent);
    const child = kernel_clone(0);
    const thread = kernel_clone(CLONE_VM | CLONE_THREAD);
    expect(task_tgid(child)).toBe(task_pid(child));
    expect(task_mm(child)).not.toBe(task_mm(parent));
    expect(task_tgid(thread)).toBe(task_pid(parent));
    expect(task_mm(thread)).toBe(task_mm(parent));
    set_current(child);
    expect(getppid()).toBe(task_pid(parent));
    set_current(thread);
    expect(getppid()).toBe(task_pid(k.init_task)); // a thread's parent is its group's parent
    expect(getpid()).toBe(task_pid(parent));
    expect(read_counter_by_name('sim.syscalls')).toBe(3);
  });
});

describe('printk', () => {
  it('keeps messages in order and counts the ones a full ring overwrote', () => {
    boot();
    printk('first');
    printk('second');
    expect(read_kernel_log()).toEqual({ messages: ['first', 'second'], lost: 0 });
    for (let i = 0; i < 300; i++) printk(`m${i}`);
    const log = read_kernel_log();
    expect(log.messages.length).toBe(256);
    expect(log.messages.at(-1)).toBe('m299');
    expect(log.lost).toBe(46);
  });
});

describe('kernel config', () => {
  it('resolves a preset with overrides, a stable hash and a readable id', () => {
    const a = resolve_config('v6.7', ['kernel.hz=250']);
    expect(a.knobs['kernel.hz']).toBe(250);
    expect(a.id).toBe('v6.7+kernel.hz=250');
    expect(resolve_config('v6.7', ['kernel.hz=250']).hash).toBe(a.hash);
    expect(resolve_config('v6.7').hash).not.toBe(a.hash);
    expect(resolve_config().preset).toBe(DEFAULT_PRESET);
  });

  it('rejects unknown presets, unknown knobs and bad values', () => {
    expect(() => resolve_config('v9.9')).toThrow(ConfigError);
    expect(() => resolve_config(DEFAULT_PRESET, ['no.such=1'])).toThrow(/unknown knob/);
    expect(() => resolve_config(DEFAULT_PRESET, ['kernel.hz=999'])).toThrow(/not one of/);
    expect(() => resolve_config(DEFAULT_PRESET, ['kernel.hz=fast'])).toThrow(/not an integer/);
    expect(() => resolve_config(DEFAULT_PRESET, ['kernel.hz'])).toThrow(/key=value/);
  });
});

describe('booleans on the command line', () => {
  it('reads --set knobs and --param parameters with one vocabulary', () => {
    const w: Workload = { description: 'b', kind: 'throughput', params: { on: { type: 'bool', default: false, description: 'a flag' } }, testcase() {} };
    for (const [text, value] of [['1', true], ['Y', true], ['yes', true], ['on', true], ['true', true], ['0', false], ['n', false], ['NO', false], ['off', false], ['false', false]] as const) {
      expect(resolve_config('v6.8', [`debug.mt_validate=${text}`]).knobs['debug.mt_validate'], text).toBe(value);
      expect(resolve_params(w, { on: text }).on, text).toBe(value);
    }
    expect(() => resolve_config('v6.8', ['debug.mt_validate=maybe'])).toThrow("--set debug.mt_validate: 'maybe' is not a boolean (1/0, y/n, yes/no, true/false, on/off)");
    expect(() => resolve_params(w, { on: 'maybe' })).toThrow("parameter on: 'maybe' is not a boolean (1/0, y/n, yes/no, true/false, on/off)");
  });
});
