// Static keys and text patching (issue 10, first part): key transitions, the sites' bytes, how
// many stops, IPI rounds and sites each update costs under each arch.text_poke, and the deferred
// decrement of b202952075f6. Manual clock, one thread, 2 CPUs (the second idle: the stops and IPI
// rounds claim it). Expected values are Linux's rules worked by hand.

import { describe, expect, it } from 'vitest';
import { start_kernel } from '../src/kernel/init/main.ts';
import { resolve_config } from '../src/kernel/config.ts';
import { clock_advance } from '../src/machine/clock.ts';
import { do_safe_point } from '../src/machine/cpu.ts';
import { read_counter_by_name, read_counter_on } from '../src/machine/counters.ts';
import { jump_label_rate_limit, static_key_slow_dec, static_key_slow_dec_deferred, static_key_slow_inc } from '../src/kernel/kernel/jump_label.ts';
import { define_static_key, jump_entry_text, static_branch, static_key_count } from '../src/kernel/include/linux/jump_label.ts';

// Defined before boot, as kernel code is: two sites, like perf_sched_events in 3.2.
const key = define_static_key('test:perf_sched_events', 2);
const NOP5 = [0x0f, 0x1f, 0x44, 0x00, 0x00];
const JMP = [0xe9, 0x00, 0x01, 0x00, 0x00]; // jmp rel32 +0x100, the out-of-line block

function boot(text_poke: string, hz = 1000) {
  start_kernel({ nr_cpus: 2, mem_mb: 32, config: resolve_config('v6.8', [`arch.text_poke=${text_poke}`, `kernel.hz=${hz}`]), clock: 'manual' });
}

const counter = (name: string) => read_counter_by_name(name);
const counts = () => ({
  enable: counter('sim.jump_label.enable'),
  disable: counter('sim.jump_label.disable'),
  stops: counter('sim.text_poke.stop_machine'),
  rounds: counter('sim.text_poke.int3_rounds'),
  sites: counter('sim.text_poke.sites'),
});

describe('static keys', () => {
  it('the first user turns every site into the JMP, the last back into the NOP; users between patch nothing', () => {
    boot('int3_batch');
    expect([jump_entry_text(key, 0), jump_entry_text(key, 1)]).toEqual([NOP5, NOP5]);
    expect(static_branch(key, 0)).toBe(false);
    static_key_slow_inc(key);
    expect([jump_entry_text(key, 0), jump_entry_text(key, 1)]).toEqual([JMP, JMP]);
    expect([static_branch(key, 0), static_branch(key, 1)]).toEqual([true, true]);
    static_key_slow_inc(key);
    static_key_slow_dec(key);
    expect(static_key_count(key)).toBe(1);
    expect(counts()).toMatchObject({ enable: 1, disable: 0 });
    static_key_slow_dec(key);
    expect(static_key_count(key)).toBe(0);
    expect(jump_entry_text(key, 1)).toEqual(NOP5);
    expect(static_branch(key, 1)).toBe(false);
    expect(counts()).toMatchObject({ enable: 1, disable: 1 });
    expect(counter('sim.jump_label.inc')).toBe(2);
    expect(counter('sim.jump_label.dec')).toBe(2);
  });

  // One perf stat without the rate limit: an inc (0 → 1) and a dec (1 → 0), each rewriting both sites.
  // stop_machine (3.2): one stop per site; int3 (3.12): three sync rounds per site; int3_batch (5.3): three per key update.
  for (const [text_poke, stops, rounds] of [['stop_machine', 4, 0], ['int3', 0, 12], ['int3_batch', 0, 6]] as const) {
    it(`${text_poke}: an inc/dec pair with 2 sites costs ${stops} stops and ${rounds} sync rounds`, () => {
      boot(text_poke);
      static_key_slow_inc(key);
      static_key_slow_dec(key);
      expect(counts()).toEqual({ enable: 1, disable: 1, stops, rounds, sites: 4 });
      expect(counter('sim.stop_machine.calls')).toBe(stops);
      // Each stop: both CPUs (the idle one through the caller) acknowledge its four states once.
      expect([0, 1].map((cpu) => read_counter_on('sim.stop_machine.acks', cpu))).toEqual([4 * stops, 4 * stops]);
    });
  }

  it('the deferred decrement (b202952075f6): 100 toggles per simulated second patch about twice a second', () => {
    boot('stop_machine');
    jump_label_rate_limit(key, 1000); // HZ jiffies at HZ=1000: one second, as perf_event_init sets it
    // Each 10 ms: inc, 5 ms, dec (deferred), 5 ms, a safe point (the tick runs timers; queued work runs at the next).
    for (let i = 0; i < 300; i++) {
      static_key_slow_inc(key);
      clock_advance(5e6);
      static_key_slow_dec_deferred(key);
      clock_advance(5e6);
      do_safe_point();
    }
    // By hand: on at t=0; the first dec (t=5 ms, jiffy 5) keeps the key at 1 and arms the work for
    // jiffy 1005. The tick at t=1010 ms queues it, the safe point at 1020 ms runs it: 1 → 0, off.
    // The next inc turns it on and the next dec arms the work again (jiffy 1025 + 1000 = 2025):
    // off at 2040 ms, on again. Three seconds: 3 enables, 2 disables, 3 arms, 2 firings.
    expect(counts()).toMatchObject({ enable: 3, disable: 2, stops: 10 });
    expect(counter('sim.jump_label.deferred_scheduled')).toBe(3);
    expect(counter('sim.jump_label.deferred_fired')).toBe(2);
    expect(static_key_count(key)).toBe(1);
  });

  it('without the rate limit the same loop patches at every toggle', () => {
    boot('stop_machine');
    for (let i = 0; i < 300; i++) {
      static_key_slow_inc(key);
      clock_advance(5e6);
      static_key_slow_dec(key);
      clock_advance(5e6);
      do_safe_point();
    }
    expect(counts()).toMatchObject({ enable: 300, disable: 300, stops: 1200 });
  });
});
