// npm run compare -- <base> <head> [<head2> …] [options]: parse the flags, compare, print.
// See src/compare/main.ts.

import { exit_quietly_on_epipe, UsageError } from './src/lib/cli.ts';
import { compare } from './src/compare/main.ts';
import { parse_compare_args, USAGE } from './src/compare/options.ts';
import { tool_version } from './src/results/manifest.ts';

exit_quietly_on_epipe();
try {
  const cmd = parse_compare_args(process.argv.slice(2));
  if (cmd.kind === 'help') process.stdout.write(`${USAGE}\n`);
  else if (cmd.kind === 'version') process.stdout.write(`scalelab ${tool_version(import.meta.dirname)}\n`);
  else process.exitCode = compare(cmd.options, { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) });
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  process.stderr.write(`compare: ${e.message}\n`);
  process.exitCode = 2;
}
