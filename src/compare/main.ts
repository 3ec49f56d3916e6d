// compare: selectors → groups → model → format → stdout or an atomically written file.

import { write_file_atomic } from '../results/atomic.ts';
import { UsageError } from '../lib/cli.ts';
import { FORMATS } from './format/index.ts';
import { build_model } from './model.ts';
import type { CompareOptions } from './options.ts';
import { Selector } from './select.ts';

export interface CompareIO {
  out(s: string): void;
  err(s: string): void;
}

export function compare(o: CompareOptions, io: CompareIO): number {
  const selector = new Selector(o.results);
  const groups = o.selectors.map((s) => selector.resolve(s));
  const workloads = [...new Set(groups.map((g) => g.workload ?? '?'))];
  if (workloads.length > 1 && !o.force) throw new UsageError(`the groups are of different workloads (${workloads.join(', ')}); --force compares them anyway`);
  const model = build_model(groups, o.settings);
  const text = FORMATS[o.format](model);
  if (o.output) {
    try {
      write_file_atomic(o.output, text);
    } catch (e) {
      throw new UsageError(`cannot write ${o.output}: ${(e as Error).message}`);
    }
  } else io.out(text);
  // lkp's table and CSV carry no notes: what the notes say goes to stderr.
  if (o.format === 'lkp' || o.format === 'csv') for (const f of model.footnotes) io.err(`compare: ${f}\n`);
  return 0;
}
