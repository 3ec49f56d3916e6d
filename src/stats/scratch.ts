// Reusable sort buffers and small-sample ordering. A typed array of more than 64 bytes gets an
// off-heap backing store, which costs about a microsecond to allocate and free, and the native
// typed-array sort costs several microseconds even for 100 values; compare orders tens of
// thousands of small samples, so each caller works in a buffer of its own that lives as long as
// the module, small samples are insertion-sorted, and order statistics come from quickselect.

const buffers: Float64Array[] = [];

/** A view of buffer `slot` holding `n` slots to fill; valid until the next call for that slot. */
export function scratch(slot: number, n: number): Float64Array {
  let buf = buffers[slot];
  if (!buf || buf.length < n) buf = buffers[slot] = new Float64Array(Math.max(64, 2 * n));
  return buf.subarray(0, n);
}

const INSERTION_MAX = 32;

/** Sort in place, ascending. */
export function sort_numbers(v: Float64Array): Float64Array {
  if (v.length > INSERTION_MAX) return v.sort();
  for (let i = 1; i < v.length; i++) {
    const x = v[i];
    let j = i - 1;
    while (j >= 0 && v[j] > x) {
      v[j + 1] = v[j];
      j--;
    }
    v[j + 1] = x;
  }
  return v;
}

/** `values` sorted ascending in buffer `slot`. */
export function sorted_in(slot: number, values: ArrayLike<number>): Float64Array {
  const v = scratch(slot, values.length);
  v.set(values);
  return sort_numbers(v);
}

/** The k-th smallest value (0-based) of v, which it partially reorders (Hoare's quickselect). */
export function select(v: Float64Array, k: number): number {
  let lo = 0;
  let hi = v.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    // Median of three as the pivot keeps sorted input linear.
    const a = v[lo], b = v[mid], c = v[hi];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        const t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return v[k];
  }
  return v[k];
}

/** Which buffer each caller owns. */
export const SLOT = { median: 0, deviations: 1, rank_x: 2, rank_y: 3, pair_diffs: 4, lkp_summary: 5 } as const;
