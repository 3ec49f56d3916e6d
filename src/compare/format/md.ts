// `--format md`: a report to paste into a mail or a pull request: the headline, one sentence on
// what was compared, the table in markdown and again as lkp's fenced block, the footnotes.

import { sprintf } from '../../lib/printf.ts';
import type { CompareModel, GroupStat, GroupSummary } from '../model.ts';
import { lkp_stddev_percent, lkp_table, lkp_value_format } from './lkp.ts';
import { change_text } from './notes.ts';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function value(st: GroupStat, failure: boolean): string {
  if (failure) return `${st.fails}:${st.runs}`;
  if (st.n === 0) return '–';
  const v = sprintf(`%${lkp_value_format(st.mean)}`, st.mean);
  const pct = lkp_stddev_percent(st);
  return pct !== null ? `${v} ±${pct}%` : v;
}

function described(g: GroupSummary): string {
  const runs = `${g.complete} run${g.complete === 1 ? '' : 's'}`;
  const m = g.manifest;
  if (!m) return `\`${g.id}\` (${runs} from ${g.path})`;
  const knobs = Object.entries(m.kernel.overrides ?? {}).map(([k, v]) => `${k}=${v}`);
  return `\`${g.id}\` (${runs}; kernel ${m.kernel.preset}${knobs.length ? ` with ${knobs.join(', ')}` : ''}, scalelab ${m.commit.id})`;
}

function sentence(m: CompareModel): string {
  const [base, ...heads] = m.groups;
  const first = base.manifest ?? heads.find((g) => g.manifest)?.manifest ?? null;
  const what = first ? `will-it-scale style workload \`${first.workload}\` (${first.mode} mode, tasks ${first.tasks.join(',')}, ${first.nr_cpus} simulated CPUs)` : `\`${m.common_axes.map(([, v]) => v).join('/') || 'results'}\``;
  const host = first ? ` on ${first.host.cpu_model} (${first.host.cpus} CPUs), Node ${first.host.node}` : '';
  return `Compared ${what}: ${heads.map(described).join(', ')} against the base ${described(base)}${host}.`;
}

export function format_md(m: CompareModel): string {
  const heads = m.groups.slice(1);
  let s = m.headlines.map((h) => `**${h}**\n`).join('\n') + '\n' + sentence(m) + '\n\n';
  if (m.rows.length) {
    const per_head = heads.length > 1;
    s += `| metric | ${m.groups.map((g) => cell(g.id)).join(' | ')} | ${heads.map((g) => `change${per_head ? ` (${cell(g.id)})` : ''} | p | q`).join(' | ')} |\n`;
    s += `|---|${m.groups.map(() => '--:').join('|')}|${heads.map(() => '--:|--:|--:').join('|')}|\n`;
    for (const r of m.rows) {
      const changes = r.changes.map((c) => {
        const mark = c.significant ? (c.verdict ? ` (${c.verdict})` : '') : ' ~';
        const p = c.p === null ? (c.test === 'exact-metric' ? 'exact' : '') : sprintf('%.3f', c.p);
        const q = c.q === null ? '' : sprintf('%.3f', c.q);
        return `${cell(change_text(r, c))}${mark} | ${p} | ${q}`;
      });
      s += `| ${cell(r.metric)} | ${r.stats.map((st) => value(st, r.failure)).join(' | ')} | ${changes.join(' | ')} |\n`;
    }
    s += '\n```\n' + lkp_table(m) + '```\n\n';
  }
  return s + m.footnotes.map((f) => `- ${f}\n`).join('');
}
