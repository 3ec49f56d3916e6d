// Lock classes: every lock names its class (as lockdep does), and the class owns the counter
// `sim.lock.<class>.contended`, bumped each time an acquisition has to wait.

import { define_counter, type Counter } from '../../machine/counters.ts';

const classes = new Map<string, Counter>();

/** Counter index of a lock class, defining the class on first use. */
export function lock_class_counter(name: string): number {
  let c = classes.get(name);
  if (c === undefined) {
    c = define_counter(`sim.lock.${name}.contended`);
    classes.set(name, c);
  }
  return c.index;
}
