// `--format md`: a report to post as it is, to a mailing list (plain text, lines within 80
// columns) or to GitHub and GitLab (markdown): the headline, what was compared, lkp's table in a
// fenced block, per head the significance of each row in a second block, the footnotes. Prose is
// wrapped, and uses no markdown, so it renders as it reads.

import type { Change, CompareModel, GroupSummary, Row } from '../model.ts';
import type { Manifest } from '../../results/manifest.ts';
import { wrap } from '../../lib/wrap.ts';
import { lkp_table } from './lkp.ts';
import { interval_text, probability } from './notes.ts';

const PROSE_WIDTH = 76;
const BLOCK_WIDTH = 80;

// A word that would open a markdown block at the start of a line (a quote, heading, list item,
// rule or setext underline, fence) stays on the line before, so that it renders as plain text.
const OPENS_BLOCK = /^(>|#{1,6}$|[-+*]$|\d{1,9}[.)]$|[-=*_]{2,}$|`{3}|~{3})/;

function paragraph(text: string, first = '', rest = first): string {
  return wrap(text.split(' ').filter(Boolean), PROSE_WIDTH, { first, rest, may_start_line: (w) => !OPENS_BLOCK.test(w) }).join('\n') + '\n';
}

function fenced(text: string): string {
  // lkp ends some of its lines in spaces; a posted report carries none.
  return '```\n' + text.replace(/ +$/gm, '') + '```\n';
}

function described(g: GroupSummary, first: Manifest | null): string {
  const runs = `${g.complete} run${g.complete === 1 ? '' : 's'}${g.failed ? `, ${g.failed} failed` : ''}`;
  const m = g.manifest;
  if (!m) return `${g.id} (${runs} from ${g.path})`;
  const knobs = Object.entries(m.kernel.overrides ?? {}).map(([k, v]) => `${k}=${v}`);
  // A group of another mode or task list than the sentence names (a comparison of modes) says its own.
  const shape = first && (m.mode !== first.mode || m.tasks.join(',') !== first.tasks.join(',')) ? `${m.mode} mode, tasks ${m.tasks.join(',')}; ` : '';
  return `${g.id} (${runs}; ${shape}kernel ${m.kernel.preset}${knobs.length ? ` with ${knobs.join(', ')}` : ''}, scalelab ${m.commit.id})`;
}

function sentence(m: CompareModel): string {
  const [base, ...heads] = m.groups;
  const first = base.manifest ?? heads.find((g) => g.manifest)?.manifest ?? null;
  const what = first ? `will-it-scale style workload ${first.workload} (${first.mode} mode, tasks ${first.tasks.join(',')} on ${first.nr_cpus} simulated CPUs)` : m.common_axes.map(([, v]) => v).join('/') || 'results';
  const host = first ? ` on ${first.host.cpu_model} (${first.host.cpus} CPUs), Node ${first.host.node}` : '';
  return `Compared ${what}: ${heads.map((g) => described(g, first)).join(', ')} against the base ${described(base, first)}${host}.`;
}

// The significance block's sections: what a reader looks for first comes first.
const SECTIONS: [string, string, (c: Change) => boolean][] = [
  ['regression', 'regressions', (c) => c.verdict === 'regression'],
  ['improvement', 'improvements', (c) => c.verdict === 'improvement'],
  ['other significant change (no known better direction)', 'other significant changes (no known better direction)', (c) => c.significant && c.verdict === null],
  ['change not significant', 'changes not significant', (c) => !c.significant],
];

/** Head h's block: per row p, q, runs and the interval of the change, the metric last as in lkp's table, wrapped at its dots. */
function significance(m: CompareModel, h: number): string {
  const rows = m.rows.filter((r) => !r.failure).map((r) => {
    const c = r.changes[h];
    const p = c.test === 'exact-metric' ? 'exact' : c.p === null ? 'untested' : probability(c.p);
    return { r, c, cells: [p, c.q === null ? '' : probability(c.q), `${r.stats[0].n}+${r.stats[h + 1].n}`, interval_text(r, c)] };
  });
  if (rows.length === 0) return '';
  const titles = ['p', 'q', 'n', `${Math.round(100 * (1 - m.settings.alpha))}% CI of the change`];
  const widths = titles.map((t, i) => Math.max(t.length, ...rows.map((x) => x.cells[i].length)));
  const columns = (cells: string[]) => cells.map((s, i) => (i < 3 ? s.padStart(widths[i]) : s.padEnd(widths[i]))).join('  ') + '  ';
  const line = (cells: string[], r: Row) => {
    const start = columns(cells);
    return wrap(r.metric.split(/(?<=\.)/), BLOCK_WIDTH, { sep: '', first: start, rest: ' '.repeat(start.length) }).join('\n') + '\n';
  };
  const sections = SECTIONS.map(([one, many, belongs]) => {
    const in_section = rows.filter((x) => belongs(x.c));
    return in_section.length ? `${in_section.length} ${in_section.length === 1 ? one : many}:\n` + in_section.map((x) => line(x.cells, x.r)).join('') : '';
  });
  const s = columns(titles) + 'metric\n' + sections.filter(Boolean).join('\n');
  return '\n' + paragraph(`${m.groups[h + 1].id} against ${m.groups[0].id}, row by row:`) + '\n' + fenced(s);
}

export function format_md(m: CompareModel): string {
  let s = m.headlines.map((h) => paragraph(h) + '\n').join('') + paragraph(sentence(m));
  if (m.rows.length) {
    s += '\n' + fenced(lkp_table(m, 'true'));
    for (let h = 0; h < m.groups.length - 1; h++) s += significance(m, h);
  }
  return s + (m.footnotes.length ? '\n' : '') + m.footnotes.map((f) => paragraph(f, '- ', '  ')).join('');
}
