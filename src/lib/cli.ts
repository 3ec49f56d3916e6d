// What every command line of the project shares: the error that means "bad input" (one line on
// stderr, exit 2), where the result root is, and quiet exits when a reader goes away.

import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

/** The result root: --results, else $SCALELAB_RESULTS, else ./results; an empty one is a mistake, not the current directory. */
export function result_root(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag !== undefined && flag.trim() === '') throw new UsageError('--results: empty path');
  if (flag === undefined && env.SCALELAB_RESULTS !== undefined && env.SCALELAB_RESULTS.trim() === '') throw new UsageError('SCALELAB_RESULTS is set but empty');
  return flag ?? env.SCALELAB_RESULTS ?? 'results';
}

/**
 * node:util parseArgs, as every command of the project uses it: a value flag followed by a
 * negative number takes it (`--alpha -0.1` is a value to judge, not a missing one), and a bad
 * flag is one UsageError line in one style (Node's hints about `--` dropped).
 */
export function parse_flags<T extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: T) {
  const takes_value = new Set(Object.entries(options).filter(([, o]) => o.type === 'string').map(([k]) => `--${k}`));
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (takes_value.has(argv[i]) && /^-[0-9.]/.test(argv[i + 1] ?? '')) args.push(`${argv[i]}=${argv[++i]}`);
    else args.push(argv[i]);
  }
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    const unknown = /^Unknown option '([^']+)'/.exec(err.message);
    if (unknown) throw new UsageError(`unknown option '${unknown[1]}' (see --help)`);
    throw new UsageError(err.message.split('\n')[0].replace(/\. To specify.*$/, ''));
  }
}

/** A reader that goes away (`| head`) is not an error worth a stack trace. */
export function exit_quietly_on_epipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
}
