// What every command line of the project shares: the error that means "bad input" (one line on
// stderr, exit 2), where the result root is, and quiet exits when a reader goes away.

export class UsageError extends Error {}

/** The result root: --results, else $SCALELAB_RESULTS, else ./results. */
export function result_root(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.SCALELAB_RESULTS ?? 'results';
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
