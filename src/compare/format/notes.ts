// The benchstat-style note after a row's key: `(p=0.003 q=0.010 n=5+5)`, `~ (…)` when the
// change is not significant, `(exact …)` for exact metrics; one per head group.

import { sprintf } from '../../lib/printf.ts';
import type { Change, Row } from '../model.ts';

function prob(name: string, v: number): string {
  return v < 0.001 ? `${name}<0.001` : `${name}=${sprintf('%.3f', v)}`;
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

/** A change and its interval as text: `+94.7% [+88.0%, +101.2%]`, or a difference for absolute metrics. */
export function change_text(r: Row, c: Change): string {
  const unit = r.absolute || r.failure ? '' : '%';
  // lkp's rule for a change: %.1f below 100000, else %.2g (a base of 0 gives +1e+102).
  const v = (x: number) => `${sprintf(Math.abs(x) < 100_000 ? '%+.1f' : '%+.2g', x)}${unit}`;
  return c.ci ? `${v(c.change)} [${v(c.ci[0])}, ${v(c.ci[1])}]` : v(c.change);
}
