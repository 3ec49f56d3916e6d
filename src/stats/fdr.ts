// Benjamini–Hochberg q-values: the smallest false discovery rate at which each test would be
// called significant, q_(i) = min over j ≥ i of p_(j)·m/j, capped at 1.

export function bh_qvalues(p: readonly number[]): number[] {
  const m = p.length;
  const order = Array.from(p.keys()).sort((a, b) => p[a] - p[b]);
  const q = new Array<number>(m);
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    const i = order[r];
    running = Math.min(running, (p[i] * m) / (r + 1));
    q[i] = running;
  }
  return q;
}
