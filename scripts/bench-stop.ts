// npm run bench:stop — what one stop_machine, one on_each_cpu and one key update cost the calling
// CPU on a simulated machine of 2, 4, 16 and 64 CPUs, with every other CPU idle, in µs: the
// protocol's software cost (tinybench, median; every state acknowledged by every CPU, idle ones
// through the caller), and after the slash the modeled hardware it waits out on a real machine
// clock (IPI, idle-state exits, cache-line transfers: sim.*.modeled_ns per call). The manual
// clock here lets the modeled part pass without waiting, so the two are measured apart. Back to
// back, the idle CPUs learn to expect short idles and sleep in C1 (3 µs exit); after a long
// idle they are in C6, and the modeled part is 197 µs more.

import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { resolve_config } from '../src/kernel/config.ts';
import { start_kernel } from '../src/kernel/init/main.ts';
import { on_each_cpu } from '../src/kernel/kernel/smp.ts';
import { stop_machine } from '../src/kernel/kernel/stop_machine.ts';
import { static_key_slow_dec, static_key_slow_inc } from '../src/kernel/kernel/jump_label.ts';
import { define_static_key } from '../src/kernel/include/linux/jump_label.ts';
import { define_function } from '../src/machine/symbols.ts';
import { read_counter_by_name } from '../src/machine/counters.ts';

const { values } = parseArgs({ options: { time: { type: 'string', default: '300' }, cpus: { type: 'string', default: '2,4,16,64' } } });
const nop = define_function('bench:stop_nop', () => {});
// perf_sched_events in 3.2: two sites.
const key = define_static_key('bench:perf_sched_events', 2);
const toggle = () => {
  static_key_slow_inc(key);
  static_key_slow_dec(key);
};

const titles = ['cpus', 'stop_machine', 'on_each_cpu', 'inc+dec 3.2', 'inc+dec 3.12', 'inc+dec 5.3'];
console.log(titles.map((t) => t.padStart(15)).join(''), '  (µs: software median / modeled mean)');
const modeled_ns = () => read_counter_by_name('sim.stop_machine.modeled_ns') + read_counter_by_name('sim.smp.modeled_ns');
for (const nr_cpus of values.cpus.split(',').map(Number)) {
  const row = [String(nr_cpus).padStart(15)];
  const cases: Array<[string, string, () => void]> = [
    ['stop_machine', 'int3_batch', () => stop_machine(nop, 0)],
    ['on_each_cpu', 'int3_batch', () => on_each_cpu(nop, 0)],
    ['3.2', 'stop_machine', toggle],
    ['3.12', 'int3', toggle],
    ['5.3', 'int3_batch', toggle],
  ];
  for (const [name, text_poke, fn] of cases) {
    start_kernel({ nr_cpus, mem_mb: 64, config: resolve_config(undefined, [`arch.text_poke=${text_poke}`]), clock: 'manual' });
    let calls = 0;
    const bench = new Bench({ time: Number(values.time), warmupTime: 50 });
    bench.add(name, () => {
      calls++;
      fn();
    });
    bench.runSync();
    const r = bench.getTask(name)!.result!;
    if (r.state !== 'completed') throw new Error(`${name}: ${r.state}`);
    row.push(`${(r.latency.p50 * 1000).toFixed(1)} / ${(modeled_ns() / calls / 1000).toFixed(1)}`.padStart(15));
  }
  console.log(row.join(''));
}
