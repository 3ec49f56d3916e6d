// The scheduler tick follows the machine clock at HZ, not the number of safe points a CPU passes
// (issue 9, item 7). Manual clock; every expected value is the rule worked by hand: a CPU that
// runs from t0 to t1 accounts floor(t1·HZ) − floor(t0·HZ) ticks (the jiffy boundaries it was
// running across), and a busy CPU does its per-tick work (timers, RCU) in each of those jiffies.

import { describe, expect, it } from 'vitest';
import { start_kernel } from '../src/kernel/init/main.ts';
import { DEFAULT_PRESET, resolve_config } from '../src/kernel/config.ts';
import { mem32 } from '../src/machine/memory.ts';
import { define_counter, define_function, define_global } from '../src/machine/symbols.ts';
import { clock_advance } from '../src/machine/clock.ts';
import { cpu_enter, cpu_exit, do_safe_point, safe_point } from '../src/machine/cpu.ts';
import { read_counter, read_counter_by_name, this_cpu_inc } from '../src/machine/counters.ts';
import { TIMER_LIST_SIZE, jiffies, mod_timer, timer_pending, timer_setup } from '../src/kernel/kernel/time/timer.ts';
import { call_rcu } from '../src/kernel/kernel/rcu.ts';

// Defined before boot, as kernel.test.ts does.
const scratch = define_global('test:tick', 256);
// Addresses are bound at boot: read them in the tests, not at load.
const timer = (i: number) => scratch.addr + 32 * i; // four struct timer_list
const rcu_head = () => scratch.addr + 192;
const FIRED_AT = 56; // word: the jiffy at which the one-shot timer ran
const CB_DONE = 57; // word: the RCU callback ran, its head is free again
const word = (w: number) => (scratch.addr >> 2) + w;
const fired = define_counter('sim.test.tick_fired');
const one_shot = define_function('test:tick_one_shot', () => {
  this_cpu_inc(fired);
  mem32[word(FIRED_AT)] = jiffies();
});
const periodic = define_function('test:tick_periodic', (timer) => {
  this_cpu_inc(fired);
  mod_timer(timer, jiffies() + 1);
});
const rcu_done = define_function('test:tick_rcu_done', () => {
  mem32[word(CB_DONE)] = 1;
});

function boot(hz = 1000, nr_cpus = 1) {
  start_kernel({ nr_cpus, mem_mb: 32, config: resolve_config(DEFAULT_PRESET, [`kernel.hz=${hz}`]), clock: 'manual' });
}

const ticks = () => read_counter_by_name('sim.timer.ticks');
const gps = () => read_counter_by_name('sim.rcu.grace_periods');

/** A busy CPU: `n` safe points, each after `ns` of work, as a syscall-heavy loop passes them. */
function busy(n: number, ns: number, each: () => void = () => {}) {
  for (let i = 0; i < n; i++) {
    clock_advance(ns);
    safe_point();
    each();
  }
}

describe('the tick follows HZ', () => {
  it('a CPU that passes one safe point while 5 jiffies pass accounts 5 ticks, runs every due timer, and RCU once', () => {
    boot(1000);
    expect(TIMER_LIST_SIZE).toBeLessThanOrEqual(32);
    for (const [i, at] of [1, 3, 5, 7].entries()) {
      timer_setup(timer(i), one_shot, 0);
      mod_timer(timer(i), at);
    }
    call_rcu(rcu_head(), rcu_done); // needs a grace period, which starts at a tick
    const t0 = ticks();
    const g0 = gps();
    clock_advance(5e6); // 5 jiffies at HZ=1000
    do_safe_point();
    expect(ticks() - t0).toBe(5);
    expect(read_counter(fired)).toBe(3); // expiries 1, 3, 5 ≤ 5; 7 is still to come
    expect(timer_pending(timer(3))).toBe(true);
    // The late tick is one rcu_sched_clock_irq (Linux forwards the missed periods): one grace period.
    expect(gps() - g0).toBe(1);
  });

  it('a CPU that passes 250,000 safe points within one jiffy accounts one tick at its boundary', () => {
    boot(1000);
    const t0 = ticks();
    busy(249_999, 4); // up to 999,996 ns: still jiffy 0
    expect(ticks() - t0).toBe(0);
    busy(1, 4); // 1,000,000 ns: jiffy 1 begins
    do_safe_point();
    expect(ticks() - t0).toBe(1);
  });

  it.each([1000, 250])('a busy CPU with slow safe points (2.5 µs each, brk2 on 6.7) gets HZ × 3 s ticks at HZ=%i', (hz) => {
    boot(hz);
    const t0 = ticks();
    busy(1_200_000, 2500); // 3 s
    do_safe_point();
    expect(ticks() - t0).toBe(3 * hz);
  });

  it('a busy CPU runs a timer in the jiffy it falls due, and a periodic one at every tick', () => {
    boot(1000);
    timer_setup(timer(0), one_shot, 0);
    mod_timer(timer(0), jiffies() + 5);
    timer_setup(timer(1), periodic, timer(1));
    mod_timer(timer(1), jiffies() + 1);
    busy(1_200_000, 2500); // 3 s = 3000 jiffies
    do_safe_point();
    expect(mem32[word(FIRED_AT)]).toBe(5);
    // The periodic timer was due at jiffies 1, 2, …, 3000 and re-armed itself each time: 3000
    // runs, and the one-shot's one.
    expect(read_counter(fired)).toBe(3000 + 1);
  });

  it('a busy CPU that always has a callback waiting starts a grace period at every tick', () => {
    boot(1000);
    const g0 = gps();
    mem32[word(CB_DONE)] = 1;
    // As soon as the callback has run, queue it again: it then waits for the next tick's grace
    // period (a grace period starts only at a tick on one CPU whose callbacks arrive one by one).
    busy(1_200_000, 2500, () => {
      if (mem32[word(CB_DONE)] === 1) {
        mem32[word(CB_DONE)] = 0;
        call_rcu(rcu_head(), rcu_done);
      }
    });
    do_safe_point();
    expect(gps() - g0).toBe(3000);
  });

  it('an idle CPU accounts no ticks for the time it was idle (NOHZ) and runs its overdue timers when it leaves idle', () => {
    boot(1000, 2);
    const t0 = ticks();
    clock_advance(3e6);
    do_safe_point();
    expect(ticks() - t0).toBe(3);
    timer_setup(timer(0), one_shot, 0);
    mod_timer(timer(0), jiffies() + 2); // due at jiffy 5, while CPU 0 is idle
    clock_advance(0.5e6);
    cpu_exit(); // at 3.5 jiffies: no boundary since the last tick
    expect(ticks() - t0).toBe(3);
    clock_advance(10e6); // idle until 13.5 jiffies
    cpu_enter(0);
    expect(read_counter(fired)).toBe(1);
    expect(mem32[word(FIRED_AT)]).toBe(13);
    clock_advance(2e6); // running from 13.5 to 15.5: boundaries 14 and 15
    do_safe_point();
    expect(ticks() - t0).toBe(3 + 2);
    // cpu_exit looks at the clock: the ticks up to it are accounted, 16 only.
    clock_advance(0.6e6);
    cpu_exit();
    expect(ticks() - t0).toBe(3 + 2 + 1);
    cpu_enter(0);
  });
});
