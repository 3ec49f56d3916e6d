import { describe, expect, it } from 'vitest';
import { format_sample, measured_average, take_sample } from '../src/runner/sampler.ts';
import { SLOT_STRIDE } from '../src/runner/workload.ts';

function slots(values: number[]): Float64Array {
  const s = new Float64Array(values.length * SLOT_STRIDE);
  values.forEach((v, i) => { s[i * SLOT_STRIDE] = v; });
  return s;
}

describe('will-it-scale sampler', () => {
  it('takes per-task deltas and reports min, max and total', () => {
    const prev = new Float64Array(3);
    expect(take_sample(slots([10, 30, 20]), prev, 3)).toEqual({ min: 10, max: 30, total: 60 });
    expect(Array.from(prev)).toEqual([10, 30, 20]);
    expect(take_sample(slots([15, 31, 40]), prev, 3)).toEqual({ min: 1, max: 20, total: 26 });
  });

  it('prints the line will-it-scale prints', () => {
    expect(format_sample({ min: 123, max: 130, total: 12345 })).toBe('min:123 max:130 total:12345');
  });

  it('averages only the samples after the warm-up, with integer division', () => {
    const s = [100, 100, 7, 8, 10].map((total) => ({ min: total, max: total, total }));
    expect(measured_average(s, 2, 1)).toBe(8); // (7 + 8 + 10) / 3 = 8.33
    expect(measured_average(s, 0, 1)).toBe(45);
    expect(measured_average(s, 5, 1)).toBe(0);
  });

  it('turns samples into operations per second when the interval is not one second', () => {
    const s = [50, 60].map((total) => ({ min: total, max: total, total }));
    expect(measured_average(s, 0, 0.5)).toBe(110);
    expect(measured_average(s, 0, 2)).toBe(27); // 110 / 4 = 27.5
  });
});
