// `--format json`: the comparison model for scripts (documented in the README), on one line (pipe
// it through `jq` to read it). Numbers that JSON cannot hold (NaN, ±Infinity) become null, as
// JSON.stringify does.

import type { CompareModel } from '../model.ts';

export function format_json(m: CompareModel): string {
  const out = {
    headlines: m.headlines,
    settings: m.settings,
    groups: m.groups.map((g) => ({ id: g.id, selector: g.selector, path: g.path, axes: Object.fromEntries(g.axes), workload: g.workload, runs: g.complete, failed: g.failed, incomplete: g.incomplete })),
    common_axes: Object.fromEntries(m.common_axes),
    compared_axes: m.compare_keys,
    metrics: m.metrics_total,
    tested: m.tested,
    rows: m.rows.map((r) => ({
      metric: r.metric,
      absolute: r.absolute,
      exact: r.exact,
      failure: r.failure,
      direction: r.direction,
      stats: r.stats.map((s) => ({ n: s.n, mean: s.mean, stddev: s.stddev, median: s.median, cv: s.cv, values: s.values, outliers: s.outliers, ...(r.failure ? { fails: s.fails, runs: s.runs } : {}) })),
      changes: r.changes.map((c) => ({ change: c.change, appeared: c.appeared, relative: c.relative, p: c.p, q: c.q, ci: c.ci, test: c.test, significant: c.significant, verdict: c.verdict })),
    })),
    footnotes: m.footnotes,
  };
  return JSON.stringify(out) + '\n';
}
