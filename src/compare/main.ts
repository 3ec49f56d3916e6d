// compare: selectors → groups → model → format → stdout or an atomically written file.

import { StoreError, write_file_atomic } from '../results/atomic.ts';
import { UsageError } from '../lib/cli.ts';
import { FORMATS } from './format/index.ts';
import { lkp_compare_sets } from './lkp/grouper.ts';
import { build_model, type CompareModel } from './model.ts';
import type { CompareOptions } from './options.ts';
import { Selector } from './select.ts';

export interface CompareIO {
  out(s: string): void;
  err(s: string): void;
}

export function compare(o: CompareOptions, io: CompareIO): number {
  const selector = new Selector(o.results);
  const groups = selector.resolve_all(o.selectors);
  const workloads = [...new Set(groups.map((g) => g.workload ?? '?'))];
  if (workloads.length > 1 && !o.force) throw new UsageError(`the groups are of different workloads (${workloads.join(', ')}); --force compares them anyway`);
  // lkp's table compares as lkp ncompare does: only groups alike in every axis but the commit, each such set on its own.
  const { sets, left_out } = o.format === 'lkp' ? lkp_compare_sets(groups) : { sets: [groups], left_out: [] };
  const models: CompareModel[] = sets.map((set) => build_model(set, o.settings));
  const text = models.map((m) => FORMATS[o.format](m)).join('');
  if (o.output) {
    try {
      write_file_atomic(o.output, text);
    } catch (e) {
      if (e instanceof StoreError) throw new UsageError(e.message);
      throw e;
    }
  } else io.out(text);
  // lkp's table and CSV carry no notes: what the notes say goes to stderr.
  if (o.format === 'lkp' || o.format === 'csv') for (const f of models.flatMap((m) => m.footnotes)) io.err(`compare: ${f}\n`);
  if (left_out.length) io.err(`compare: lkp ncompare compares only groups alike in every axis but the commit; not compared: ${left_out.map((g) => g.selector).join(', ')}\n`);
  return 0;
}
