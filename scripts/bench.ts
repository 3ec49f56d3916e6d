// npm run bench -- <workload> [options]: parse the flags, run, print. See src/runner/bench.ts.

import { exit_quietly_on_epipe } from '../src/lib/cli.ts';
import { bench, list_text } from '../src/runner/bench.ts';
import { USAGE, UsageError, parse_bench_args } from '../src/runner/options.ts';
import type { StopSignal } from '../src/runner/point.ts';

exit_quietly_on_epipe();

const signal: StopSignal = { stopped: false };
process.on('SIGINT', () => {
  if (signal.stopped) process.exit(130);
  signal.stopped = true;
  process.stderr.write('\nstopping: finishing the current point (Ctrl-C again to quit at once)\n');
});

try {
  const cmd = parse_bench_args(process.argv.slice(2));
  if (cmd.kind === 'help') process.stdout.write(`${USAGE}\n`);
  else if (cmd.kind === 'list') process.stdout.write(await list_text());
  else {
    process.exitCode = await bench(
      cmd.options,
      { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), tty: process.stdout.isTTY ? process.stdout : null },
      signal,
    );
  }
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  process.stderr.write(`bench: ${e.message}\n`);
  process.exitCode = 2;
}
