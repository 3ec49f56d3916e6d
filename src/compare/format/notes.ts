// The benchstat-style note after a row's key: `(p=0.003 q=0.010 n=5+5)`, `~ (…)` when the
// change is not significant, `(exact …)` for exact metrics; one per head group. Its p and q, and
// the interval of a change, as md's significance block prints them too.

import { sprintf } from '../../lib/printf.ts';
import type { Change, Row } from '../model.ts';

/** A p or q value: three decimals, `<0.001` below that. */
export function probability(v: number): string {
  return v < 0.001 ? '<0.001' : sprintf('%.3f', v);
}

function prob(name: string, v: number): string {
  return `${name}${v < 0.001 ? '' : '='}${probability(v)}`;
}

function note(c: Change, n: string): string {
  const mark = c.significant ? '' : '~ ';
  switch (c.test) {
    case 'exact-metric':
      return `${mark}(exact n=${n})`;
    case 'none':
      return `(n=${n}, untested)`;
    case 'failure':
      return '';
    default:
      return `${mark}(${prob('p', c.p!)} ${prob('q', c.q!)} n=${n})`;
  }
}

export function row_note(r: Row): string {
  if (r.failure) return '';
  return r.changes.map((c, h) => note(c, `${r.stats[0].n}+${r.stats[h + 1].n}`)).join(' | ');
}

/** A change's interval as text: `[+88.0%, +101.2%]`, a difference for absolute metrics; '' without one. */
export function interval_text(r: Row, c: Change): string {
  if (!c.ci) return '';
  const unit = r.absolute ? '' : '%';
  // lkp's rule for a change: %.1f below 100000, else %.2g.
  const v = (x: number) => `${sprintf(Math.abs(x) < 100_000 ? '%+.1f' : '%+.2g', x)}${unit}`;
  return `[${v(c.ci[0])}, ${v(c.ci[1])}]`;
}
