// `npm run compare` flags (node:util parseArgs) and their validation; every bad value is a
// UsageError of one line.

import { UsageError, parse_flags, result_root } from '../lib/cli.ts';
import { FORMATS, type FormatName } from './format/index.ts';
import type { CompareSettings } from './model.ts';

export const USAGE = `usage: npm run compare -- <base> <head> [<head2> ...] [options]

Compares result groups with lkp's %stddev/%change table, a Mann-Whitney U test per metric,
a confidence interval for the change and Benjamini-Hochberg q-values.

A selector is a path (a group directory of numbered runs with stats.json, a run directory, a
matrix.json; lkp result roots work), or, in the result root: a commit prefix, a --label, a kernel
preset, or key=value filters over the manifest axes joined by commas (kernel=v6.7,mode=process).

  --format text|lkp|md|csv|json  output format (text); lkp is ncompare's table with lkp's gates
  --output FILE                  write to FILE (atomically) instead of stdout
  --all, -a                      show every metric
  --lkp-gates                    choose rows by lkp's own rule instead of the U test
  --alpha X                      significance level for q-values (0.05)
  --min-change PCT               smallest |change| to show, in % (1 for perf metrics, 5 for others)
  --results DIR                  result root ($SCALELAB_RESULTS or ./results)
  --force                        compare groups of different workloads
  --version                      the scalelab version
  --help                         this text`;

export interface CompareOptions {
  selectors: string[];
  format: FormatName;
  output: string | null;
  settings: CompareSettings;
  results: string;
  force: boolean;
}

export type CompareCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'compare'; options: CompareOptions };

function number_flag(name: string, text: string | undefined, ok: (v: number) => boolean, range: string): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || !ok(v)) throw new UsageError(`--${name}: '${text}' is not ${range}`);
  return v;
}

export function parse_compare_args(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CompareCommand {
  const parsed = parse_flags(argv, {
    format: { type: 'string' },
    output: { type: 'string' },
    all: { type: 'boolean', short: 'a' },
    'lkp-gates': { type: 'boolean' },
    alpha: { type: 'string' },
    'min-change': { type: 'string' },
    results: { type: 'string' },
    force: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
  });
  const v = parsed.values;
  if (v.help) return { kind: 'help' };
  if (v.version) return { kind: 'version' };
  const format = v.format ?? 'text';
  if (!(format in FORMATS)) throw new UsageError(`unknown format '${format}' (formats: ${Object.keys(FORMATS).join(', ')})`);
  if (v.output !== undefined && v.output.trim() === '') throw new UsageError('--output: empty path');
  if (parsed.positionals.length < 2) throw new UsageError('need a base and at least one head to compare (see --help)');
  if (v.all && v['lkp-gates']) throw new UsageError('--all and --lkp-gates choose rows in different ways; give one');
  const alpha = number_flag('alpha', v.alpha, (x) => x > 0 && x < 1, 'a probability between 0 and 1') ?? 0.05;
  const min_change = number_flag('min-change', v['min-change'], (x) => x >= 0, 'a percentage >= 0') ?? null;
  // lkp's format is ncompare's table, so it picks rows as ncompare does unless told otherwise.
  const selection = v.all ? 'all' : v['lkp-gates'] || format === 'lkp' ? 'lkp-gates' : 'significant';
  return {
    kind: 'compare',
    options: {
      selectors: parsed.positionals,
      format: format as FormatName,
      output: v.output ?? null,
      settings: { alpha, min_change, selection, lkp_columns: format === 'lkp' },
      results: result_root(v.results, env),
      force: v.force ?? false,
    },
  };
}
