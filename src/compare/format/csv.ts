// `--format csv`: one row per shown metric, written by csv-stringify. A text cell that a
// spreadsheet would run as a formula (=, +, -, @, or a tab or carriage return first) gets a
// leading apostrophe.

import { stringify } from 'csv-stringify/sync';
import type { CompareModel } from '../model.ts';

export function neutralise(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

export function format_csv(m: CompareModel): string {
  const heads = m.groups.length - 1;
  const head_name = (h: number) => (heads === 1 ? 'head' : `head${h + 1}`);
  const columns = ['metric', 'absolute', 'exact', 'base_n', 'base_mean', 'base_stddev'];
  for (let h = 0; h < heads; h++) {
    const p = head_name(h);
    columns.push(`${p}_n`, `${p}_mean`, `${p}_stddev`, `${p}_change`, `${p}_appeared`, `${p}_ci_low`, `${p}_ci_high`, `${p}_p`, `${p}_q`, `${p}_significant`);
  }
  const records = m.rows.map((r) => {
    const cells: (string | number | boolean | null)[] = [neutralise(r.metric), r.absolute, r.exact];
    const [base, ...rest] = r.stats;
    cells.push(base.n, base.mean, base.stddev);
    rest.forEach((st, h) => {
      const c = r.changes[h];
      cells.push(st.n, st.mean, st.stddev, c.change, c.appeared, c.ci?.[0] ?? null, c.ci?.[1] ?? null, c.p, c.q, c.significant);
    });
    return cells;
  });
  return stringify(records, { header: true, columns, cast: { boolean: (b) => (b ? 'true' : 'false') } });
}
