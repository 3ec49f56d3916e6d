// `--format md` is posted as it is: to a mailing list as plain text (lines within 80 columns, no
// trailing whitespace, nothing twice) and to GitHub or GitLab, where it must render as it reads.

import { describe, expect, it } from 'vitest';
import { wrap } from '../src/lib/wrap.ts';

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
