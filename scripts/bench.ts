// npm run bench -- <workload> [options]: parse the flags, run, print. See src/runner/bench.ts.

import { exit_quietly_on_epipe } from '../src/lib/cli.ts';
import { bench, list_text } from '../src/runner/bench.ts';
import { PROJECT_ROOT } from '../src/runner/build.ts';
import { tool_version } from '../src/results/manifest.ts';
import { USAGE, UsageError, parse_bench_args } from '../src/runner/options.ts';
import type { StopSignal } from '../src/runner/point.ts';

exit_quietly_on_epipe();

// Ctrl-C, and SIGTERM (timeout, CI, systemd): finish or abandon the point, keep what was measured.
// A signal to the process group reaches bench once from the sender and again relayed by npm/npx
// and tsx: a repeat within REPEAT_MS is that copy; a later one quits at once.
const REPEAT_MS = 2000;
const signal: StopSignal = { stopped: false };
let first_signal_at = 0;
for (const [name, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(name, () => {
    if (signal.stopped) {
      if (Date.now() - first_signal_at < REPEAT_MS) return;
      process.exit(signal.exit_code ?? code);
    }
    signal.stopped = true;
    signal.exit_code = code;
    first_signal_at = Date.now();
    process.stderr.write(`\nstopping on ${name}: finishing the current point (again to quit at once)\n`);
  });
}

try {
  const cmd = parse_bench_args(process.argv.slice(2));
  if (cmd.kind === 'help') process.stdout.write(`${USAGE}\n`);
  else if (cmd.kind === 'version') process.stdout.write(`scalelab ${tool_version(PROJECT_ROOT)}\n`);
  else if (cmd.kind === 'list') process.stdout.write(await list_text((line) => process.stderr.write(`bench: ${line}\n`)));
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
