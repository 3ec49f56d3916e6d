// `--format text` (the default): the headline, lkp's header and rows with a note after each key,
// then the footnotes.

import type { CompareModel } from '../model.ts';
import { lkp_blocks, lkp_header } from './lkp.ts';
import { row_note } from './notes.ts';

export function format_text(m: CompareModel): string {
  let s = m.headlines.join('\n') + '\n\n';
  if (m.rows.length) {
    s += lkp_header(m);
    s += lkp_blocks(m, 'true', (cells, r) => {
      const note = row_note(r);
      return `${cells}  ${r.metric}${note ? `  ${note}` : ''}\n`;
    });
    s += '\n';
  }
  return s + m.footnotes.map((f) => `* ${f}\n`).join('');
}
