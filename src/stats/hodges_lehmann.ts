// The distribution-free confidence interval of the Hodges–Lehmann shift between two samples (the
// median of all pairwise differences y_j − x_i): the order statistics of those differences that
// the Mann–Whitney critical value picks (Bauer 1972).
//
// With both samples sorted, the differences form n1 sorted rows (y_j − x_i over j for each i), so
// the c-th smallest comes from merging the rows with a heap, O(c log n1), without building and
// ordering all n1·n2 of them; the c-th largest is the c-th smallest of x_i − y_j, negated.

import { u_critical } from './mann_whitney.ts';
import { sorted_in, SLOT } from './scratch.ts';

let heap_value = new Float64Array(64);
let heap_row = new Int32Array(64);
let next_col = new Int32Array(64);

/** The k-th smallest (0-based) of b[j] − a[i] over all pairs, a and b sorted ascending. */
function kth_smallest_difference(a: Float64Array, b: Float64Array, k: number): number {
  const rows = a.length;
  if (heap_value.length < rows) {
    heap_value = new Float64Array(2 * rows);
    heap_row = new Int32Array(2 * rows);
    next_col = new Int32Array(2 * rows);
  }
  // Row i starts at its smallest difference, b[0] − a[i]; the largest a gives the smallest, so
  // inserting rows from the last keeps the heap property without sifting.
  for (let h = 0; h < rows; h++) {
    const i = rows - 1 - h;
    heap_value[h] = b[0] - a[i];
    heap_row[h] = i;
    next_col[i] = 1;
  }
  let size = rows;
  for (;;) {
    const value = heap_value[0];
    if (k === 0) return value;
    k--;
    const i = heap_row[0];
    const j = next_col[i]++;
    // Replace the root by the row's next difference, or by the last leaf when the row is done.
    let v: number;
    let r: number;
    if (j < b.length) {
      v = b[j] - a[i];
      r = i;
    } else {
      size--;
      v = heap_value[size];
      r = heap_row[size];
    }
    let p = 0;
    for (;;) {
      const l = 2 * p + 1;
      if (l >= size) break;
      const c = l + 1 < size && heap_value[l + 1] < heap_value[l] ? l + 1 : l;
      if (heap_value[c] >= v) break;
      heap_value[p] = heap_value[c];
      heap_row[p] = heap_row[c];
      p = c;
    }
    heap_value[p] = v;
    heap_row[p] = r;
  }
}

/** [low, high] at confidence 1 − alpha, or null when the samples are too small to bound it. */
export function hodges_lehmann_ci(x: ArrayLike<number>, y: ArrayLike<number>, alpha: number): [number, number] | null {
  const c = u_critical(x.length, y.length, alpha);
  if (c < 0) return null;
  const xs = sorted_in(SLOT.hl_x, x);
  const ys = sorted_in(SLOT.hl_y, y);
  return [kth_smallest_difference(xs, ys, c), -kth_smallest_difference(ys, xs, c)];
}
