// The output formats by name.

import type { CompareModel } from '../model.ts';
import { format_csv } from './csv.ts';
import { format_json } from './json.ts';
import { format_lkp } from './lkp.ts';
import { format_md } from './md.ts';
import { format_text } from './text.ts';

export const FORMATS = { text: format_text, lkp: format_lkp, md: format_md, csv: format_csv, json: format_json } as const satisfies Record<string, (m: CompareModel) => string>;

export type FormatName = keyof typeof FORMATS;
