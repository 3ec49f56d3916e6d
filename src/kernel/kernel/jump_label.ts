// Changing static keys (kernel/jump_label.c; the key and static_branch() are in
// include/linux/jump_label.ts). The first user (0 → 1) and the last (1 → 0) rewrite every site. A deferred key (b202952075f6, v3.3: jump_label_rate_limit) keeps itself on at 1 → 0
// and lets delayed work do the decrement `timeout` jiffies later, so a key toggled in a loop is
// patched about twice per timeout instead of twice per toggle.

import { mem8, mem32 } from '../../machine/memory.ts';
import { define_counter, define_function, define_global } from '../../machine/symbols.ts';
import { this_cpu_inc } from '../../machine/counters.ts';
import {
  KEY_ENABLED, KEY_NR_ENTRIES, KEY_TIMEOUT, KEY_WORK, jump_entry_code, static_key_word as word, static_keys, type StaticKey,
} from '../include/linux/jump_label.ts';
import { MUTEX_SIZE, mutex_init, mutex_lock, mutex_unlock } from '../locking/mutex.ts';
import { init_delayed_work, schedule_delayed_work } from './workqueue.ts';
import { JUMP_LABEL_INITIAL, arch_jump_label_transform_sites } from '../arch/x86/kernel/jump_label.ts';

const nr_inc = define_counter('sim.jump_label.inc');
const nr_dec = define_counter('sim.jump_label.dec');
const nr_enable = define_counter('sim.jump_label.enable');
const nr_disable = define_counter('sim.jump_label.disable');
const nr_deferred_scheduled = define_counter('sim.jump_label.deferred_scheduled');
const nr_deferred_fired = define_counter('sim.jump_label.deferred_fired');

const jump_label_mutex = define_global('jump_label_mutex', MUTEX_SIZE);

// kernel/jump_label.c jump_label_update_timeout: the deferred decrement, due
const jump_label_update_timeout = define_function('jump_label_update_timeout', (key_addr: number) => {
  this_cpu_inc(nr_deferred_fired);
  const k = static_keys().find((x) => x.key.addr === key_addr)!;
  __static_key_slow_dec(k, 0);
});

// kernel/jump_label.c jump_label_init: every site starts as the NOP, every key off, `sites` in use
export function jump_label_init(sites_of: (k: StaticKey) => number = (k) => k.max_sites): void {
  mutex_init(jump_label_mutex.addr, 'jump_label_mutex');
  for (const k of static_keys()) {
    const n = sites_of(k);
    if (n < 0 || n > k.max_sites) throw new Error(`static key ${k.name}: ${n} sites, at most ${k.max_sites}`);
    mem32[word(k, KEY_ENABLED)] = 0;
    mem32[word(k, KEY_NR_ENTRIES)] = n;
    mem32[word(k, KEY_TIMEOUT)] = 0;
    for (let i = 0; i < k.max_sites; i++) mem8.set(JUMP_LABEL_INITIAL, jump_entry_code(k, i));
    init_delayed_work(k.key.addr + KEY_WORK, jump_label_update_timeout, k.key.addr);
  }
}

// kernel/jump_label.c jump_label_rate_limit: decrements of this key happen `rl` jiffies late
export function jump_label_rate_limit(k: StaticKey, rl: number): void {
  mem32[word(k, KEY_TIMEOUT)] = rl;
}

// kernel/jump_label.c jump_label_update: rewrite every site of the key
function jump_label_update(k: StaticKey, enable: boolean): void {
  this_cpu_inc(enable ? nr_enable : nr_disable);
  const n = mem32[word(k, KEY_NR_ENTRIES)];
  const sites: number[] = [];
  for (let i = 0; i < n; i++) sites.push(jump_entry_code(k, i));
  if (sites.length) arch_jump_label_transform_sites(sites, enable);
}

// kernel/jump_label.c static_key_slow_inc: a user; the first one turns the sites on
export function static_key_slow_inc(k: StaticKey): void {
  this_cpu_inc(nr_inc);
  const e = word(k, KEY_ENABLED);
  // atomic_inc_not_zero
  for (let v = Atomics.load(mem32, e); v > 0; v = Atomics.load(mem32, e)) if (Atomics.compareExchange(mem32, e, v, v + 1) === v) return;
  mutex_lock(jump_label_mutex.addr);
  if (Atomics.load(mem32, e) === 0) jump_label_update(k, true);
  Atomics.add(mem32, e, 1);
  mutex_unlock(jump_label_mutex.addr);
}

// kernel/jump_label.c __static_key_slow_dec (3.3): the last user turns the sites off, or, rate
// limited, keeps the key on and schedules the decrement
function __static_key_slow_dec(k: StaticKey, rate_limit: number): void {
  const e = word(k, KEY_ENABLED);
  // atomic_dec_and_mutex_lock: only the 1 → 0 transition takes the mutex
  for (let v = Atomics.load(mem32, e); v > 1; v = Atomics.load(mem32, e)) if (Atomics.compareExchange(mem32, e, v, v - 1) === v) return;
  mutex_lock(jump_label_mutex.addr);
  if (Atomics.sub(mem32, e, 1) !== 1) {
    mutex_unlock(jump_label_mutex.addr);
    return;
  }
  if (rate_limit) {
    Atomics.add(mem32, e, 1);
    if (schedule_delayed_work(k.key.addr + KEY_WORK, rate_limit)) this_cpu_inc(nr_deferred_scheduled);
  } else jump_label_update(k, false);
  mutex_unlock(jump_label_mutex.addr);
}

// kernel/jump_label.c static_key_slow_dec
export function static_key_slow_dec(k: StaticKey): void {
  this_cpu_inc(nr_dec);
  __static_key_slow_dec(k, 0);
}

// kernel/jump_label.c static_key_slow_dec_deferred (b202952075f6, v3.3)
export function static_key_slow_dec_deferred(k: StaticKey): void {
  this_cpu_inc(nr_dec);
  __static_key_slow_dec(k, mem32[word(k, KEY_TIMEOUT)]);
}
