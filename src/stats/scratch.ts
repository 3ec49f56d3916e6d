// Reusable sort buffers and small-sample ordering. A typed array of more than 64 bytes gets an
// off-heap backing store, which costs about a microsecond to allocate and free, and the native
// typed-array sort costs several microseconds even for 100 values; compare orders tens of
// thousands of small samples, so each caller works in a buffer of its own that lives as long as
// the module, and small samples are insertion-sorted.

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

/** Which buffer each caller owns. */
export const SLOT = { median: 0, deviations: 1, rank_x: 2, rank_y: 3, hl_x: 4, hl_y: 5, lkp_summary: 6, log_base: 7, log_head: 8 } as const;
