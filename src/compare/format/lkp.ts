// lkp ncompare's table (lib/compare.rb show_group_header, show_failure_change, show_perf_change),
// character for character: the header block, the fail:runs block, the %stddev/%change block.
// `--format lkp` prints lkp's changes; the other formats lay out the same table with true ones
// (no 1e-100 base, no %reproduction index quirk).

import { sprintf } from '../../lib/printf.ts';
import type { CompareModel, GroupStat, Row } from '../model.ts';

const ABS_WIDTH = 10;
const REL_WIDTH = 10;
const ERR_WIDTH = 6;
const FIRST_WIDTH = ABS_WIDTH + ERR_WIDTH;
const WIDTH = FIRST_WIDTH + REL_WIDTH + 1;

/** The group header: common axes, the compared values, the column titles and their dashes. */
export function lkp_header(m: CompareModel): string {
  const keys = m.compare_keys.length ? m.compare_keys : ['group'];
  let s = '='.repeat(89) + '\n';
  if (m.common_axes.length === 0) {
    for (const g of m.groups) s += `${g.axes.map(([k]) => k).join('/')}:\n  ${g.axes.map(([, v]) => v).join('/')}\n\n`;
  } else {
    s += `${m.common_axes.map(([k]) => k).join('/')}:\n  ${m.common_axes.map(([, v]) => v).join('/')}\n\n`;
  }
  s += `${keys.join('/')}: \n`;
  for (const g of m.groups) s += `  ${g.id}\n`;
  s += '\n';
  s += sprintf(`%${FIRST_WIDTH}s `, m.groups[0].id.slice(0, FIRST_WIDTH));
  for (const g of m.groups.slice(1)) s += sprintf(`%${WIDTH}s `, g.id.slice(0, WIDTH));
  s += '\n' + '-'.repeat(FIRST_WIDTH) + ' ' + `${'-'.repeat(WIDTH)} `.repeat(m.groups.length - 1) + '\n';
  return s;
}

function lkp_failure_header(heads: number): string {
  return `       fail:runs${'  %reproduction    fail:runs'.repeat(heads)}\n           |    ${'         |             |    '.repeat(heads)}\n`;
}

function lkp_perf_header(heads: number): string {
  return `         %stddev${'     %change         %stddev'.repeat(heads)}\n             \\  ${'        |                \\  '.repeat(heads)}\n`;
}

/** A failure row's cells, without the key: lkp's %reproduction (its quirk kept) or the true one. */
function lkp_failure_cells(r: Row, lkp: boolean): string {
  let s = '';
  r.stats.forEach((st, i) => {
    if (i > 0) s += sprintf(`%${REL_WIDTH}.0f%% `, lkp ? r.changes[i - 1].lkp_change : r.changes[i - 1].change!);
    s += st.fails === 0 ? sprintf(`%${ABS_WIDTH + 1}s`, ' ') : sprintf(`%${ABS_WIDTH + 1}d`, st.fails_exact ?? st.fails);
    s += sprintf(`:%-${ERR_WIDTH - 2}d`, st.runs);
  });
  return s;
}

/** lkp's format for a mean: two decimals below 1000, four significant digits above 1e8, else an integer. */
function lkp_value_format(avg: number): string {
  return Math.abs(avg) < 1000 ? '.2f' : Math.abs(avg) > 100_000_000 ? '.4g' : 'd';
}

/** lkp's ±%stddev: 100·stddev/avg (the stddev itself when avg is 0), shown above 2%, truncated; null when lkp shows none. */
function lkp_stddev_percent(st: GroupStat): number | null {
  return st.lkp_err > 2 ? Math.trunc(st.lkp_err) : null;
}

/** A perf row's cells, without the key: lkp's change, or (outside lkp's format) `new`/`gone` where the base or head is 0. */
function lkp_perf_cells(r: Row, lkp: boolean): string {
  let s = '';
  r.stats.forEach((st, i) => {
    if (i > 0) {
      const c = r.changes[i - 1];
      const p = lkp ? c.lkp_change : c.change!;
      if (!lkp && c.appeared) s += sprintf(`%${REL_WIDTH + 1}s `, c.appeared);
      else {
        const fmt = Math.abs(p) < 100_000 ? '.1f' : '.2g';
        s += r.absolute ? sprintf(`%+${REL_WIDTH}${fmt}  `, p) : sprintf(`%+${REL_WIDTH}${fmt}%% `, p);
      }
    }
    const avg = st.mean;
    s += sprintf(`%${ABS_WIDTH}${lkp_value_format(avg)}`, avg);
    const pct = lkp_stddev_percent(st);
    s += pct !== null ? sprintf(` ±%${ERR_WIDTH - 3}d%%`, pct) : ' '.repeat(ERR_WIDTH);
  });
  return s;
}

/** Which changes the table prints: lkp's own (its format), or the true ones (the other formats). */
export type TableChanges = 'lkp' | 'true';

/** The two blocks, each row through `line` (cells, row) so other formats can annotate it. */
export function lkp_blocks(m: CompareModel, changes: TableChanges, line: (cells: string, r: Row) => string): string {
  const heads = m.groups.length - 1;
  const failure = m.rows.filter((r) => r.failure);
  const perf = m.rows.filter((r) => !r.failure);
  let s = '';
  const lkp = changes === 'lkp';
  if (failure.length) s += lkp_failure_header(heads) + failure.map((r) => line(lkp_failure_cells(r, lkp), r)).join('');
  if (perf.length) s += lkp_perf_header(heads) + perf.map((r) => line(lkp_perf_cells(r, lkp), r)).join('');
  return s;
}

/** The header and both blocks, each row its cells and key. */
export function lkp_table(m: CompareModel, changes: TableChanges): string {
  return lkp_header(m) + lkp_blocks(m, changes, (cells, r) => `${cells}  ${r.metric}\n`);
}

/** `--format lkp`: ncompare's output for the shown rows, nothing added (nothing at all when no row is shown). */
export function format_lkp(m: CompareModel): string {
  return m.rows.length === 0 ? '' : lkp_table(m, 'lkp') + '\n';
}
