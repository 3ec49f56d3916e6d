// `--format md` is posted as it is: to a mailing list as plain text (lines within 80 columns, no
// trailing whitespace, nothing twice) and to GitHub or GitLab, where it must render as it reads.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FORMATS } from '../src/compare/format/index.ts';
import { lkp_table } from '../src/compare/format/lkp.ts';
import { load_path } from '../src/compare/load.ts';
import { build_model, type CompareModel, type CompareSettings } from '../src/compare/model.ts';
import { describe_group } from '../src/compare/select.ts';
import { wrap } from '../src/lib/wrap.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const SIGNIFICANT: CompareSettings = { alpha: 0.05, min_change: null, selection: 'significant', lkp_columns: false };
const ALL: CompareSettings = { ...SIGNIFICANT, selection: 'all' };

describe('wrap', () => {
  it('fills lines up to the width, breaking between words', () => {
    expect(wrap('the quick brown fox jumps over the lazy dog'.split(' '), 15)).toEqual(['the quick brown', 'fox jumps over', 'the lazy dog']);
  });

  it('a hanging indent: the first line starts with `first`, the others with `rest`, both counted in the width', () => {
    expect(wrap(['aaa', 'bbb', 'ccc', 'ddd'], 12, { first: '- ', rest: '  ' })).toEqual(['- aaa bbb', '  ccc ddd']);
  });

  it('a piece wider than a line stands alone on its own', () => {
    expect(wrap(['ab', 'x'.repeat(20), 'cd'], 10)).toEqual(['ab', 'x'.repeat(20), 'cd']);
  });

  it("a dotted name breaks after its dots, with '' between the pieces", () => {
    const pieces = 'sim.slab.maple_node.free_bulk_calls_per_op'.split(/(?<=\.)/);
    expect(wrap(pieces, 25, { sep: '', first: 'ab ', rest: '   ' })).toEqual(['ab sim.slab.maple_node.', '   free_bulk_calls_per_op']);
  });

  it('a piece that may not start a line stays on the line before', () => {
    expect(wrap(['CV', '>', '10%'], 3, { may_start_line: (w) => w !== '>' })).toEqual(['CV >', '10%']);
  });
});

function groups_of(...paths: string[]) {
  return paths.map((p) => describe_group(load_path(p), p));
}

/** The report's lines, each with whether it is inside a fenced block, and the fenced blocks. */
function parts(md: string): { prose: string[]; fences: string[][] } {
  const prose: string[] = [];
  const fences: string[][] = [];
  let fence: string[] | null = null;
  for (const line of md.replace(/\n$/, '').split('\n')) {
    if (line === '```') {
      if (fence) fences.push(fence);
      fence = fence ? null : [];
    } else if (fence) fence.push(line);
    else prose.push(line);
  }
  expect(fence, 'every fence is closed').toBeNull();
  return { prose, fences };
}

const width = (lines: string[]) => Math.max(...lines.map((l) => l.length));

function expect_postable(m: CompareModel, md: string): void {
  const { prose, fences } = parts(md);
  for (const line of md.split('\n')) expect(line, 'no trailing whitespace').not.toMatch(/\s$/);
  for (const line of prose) {
    // Longer only when it is one token that cannot be broken (a path): then it stands alone.
    if (line.length > 78) expect(line.trim(), 'a line over 78 columns is one token').not.toMatch(/\s/);
    // Nothing GitHub would render as other than it reads: no pipe table, no HTML, and no wrapped
    // line that opens a quote, heading or list (a footnote's own `- ` starts at column 0).
    expect(line).not.toMatch(/^\|/);
    expect(line).not.toMatch(/<[a-z/]/i);
    expect(line).not.toMatch(/^\s*(>|#{1,6} |[+*] |\d+[.)] )|^\s+- /);
  }
  if (m.rows.length === 0) return expect(fences).toEqual([]);
  // The first block is lkp's table, once, without its trailing spaces; the others are no wider.
  const lkp = lkp_table(m, 'true').replace(/\n$/, '').split('\n');
  expect(fences[0]).toEqual(lkp.map((l) => l.trimEnd()));
  for (const r of m.rows) expect(fences[0].filter((l) => l.endsWith(`  ${r.metric}`)), r.metric).toHaveLength(1);
  for (const f of fences.slice(1)) expect(width(f)).toBeLessThanOrEqual(width(lkp));
  // Then per head a significance block with each row once (a wrapped name joined again); failure
  // rows have no test, and a model of failure rows only has no such block.
  const tested = m.rows.filter((r) => !r.failure);
  expect(fences).toHaveLength(1 + (tested.length ? m.groups.length - 1 : 0));
  for (const f of fences.slice(1)) {
    const joined = f.join('\n').replace(/\n {20,}/g, '').split('\n');
    for (const r of tested) expect(joined.filter((l) => l.endsWith(`  ${r.metric}`)), r.metric).toHaveLength(1);
  }
}

describe('md: a real comparison (brk2 on v6.7 against v6.8, 5 runs each, scalelab results)', () => {
  const groups = groups_of(join(FIXTURES, 'compare-brk2', 'v6.7'), join(FIXTURES, 'compare-brk2', 'v6.8'));

  for (const [name, settings] of [['significant rows', SIGNIFICANT], ['--all', ALL]] as const) {
    it(`${name}: postable; the significance block within 80 columns`, () => {
      const m = build_model(groups, settings);
      expect(m.rows.length).toBeGreaterThan(40);
      const md = FORMATS.md(m);
      expect_postable(m, md);
      const { fences } = parts(md);
      expect(width(fences[1])).toBeLessThanOrEqual(80);
    });
  }

  it('reads as the mail a kernel engineer would write', () => {
    const md = FORMATS.md(build_model(groups, SIGNIFICANT));
    // 311737 against 108709 operations per process: +186.8%, higher is better.
    expect(md).toMatch(/^noticed a 186\.8% improvement of will-it-scale\.per_process_ops\n\nCompared will-it-scale style workload brk2 \(both mode, tasks 1,2 on 2\nsimulated CPUs\): v6\.8 \(5 runs; kernel v6\.8, scalelab 5b8e21fcb5cc\) against\n/);
    expect(md).toContain('\nkernel:\n  v6.7\n  v6.8\n');
    expect(md).toContain('\n    108709 ±  5%    +186.8%     311737 ± 20%  will-it-scale.per_process_ops\n');
    // Per row: exact metrics need no test; 5+5 runs apart give the U test's smallest p, 2/252.
    expect(md).toContain('\nv6.8 against v6.7, row by row:\n\n```\n    p      q    n  95% CI of the change  metric\n25 improvements:\n');
    expect(md).toContain('\n0.008  0.017  5+5  [+110.9%, +263.5%]    will-it-scale.per_process_ops\n');
    expect(md).toContain('\nexact         5+5                        sim.maple.store_spanning_per_op\n');
    // A name too long for its line breaks after a dot, under the metric column.
    expect(md).toContain('\nexact         5+5                        sim.slab.maple_node.\n                                         alloc_bulk_calls_per_op\n');
    // The notes: wrapped, a hanging indent, and `> 3.5` kept off the start of a line.
    expect(md).toContain('\n- Outliers (|modified z| > 3.5; kept): will-it-scale.per_process_ops in v6.7\n  run 0 (100867),');
  });
});

describe('md: every lkp golden case (lkp results: long paths, perf-profile names, up to 4 groups)', () => {
  const golden = join(FIXTURES, 'lkp-golden');
  const cases = readdirSync(golden).filter((c) => existsSync(join(golden, c, 'groups'))).sort();
  for (const c of cases) {
    it(c, () => {
      const paths = readFileSync(join(golden, c, 'groups'), 'utf8').split('\n').filter(Boolean).map((g) => join(golden, c, g));
      const groups = groups_of(...paths);
      for (const settings of [SIGNIFICANT, ALL]) {
        const m = build_model(groups, settings);
        expect_postable(m, FORMATS.md(m));
      }
    });
  }
});
