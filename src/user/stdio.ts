// A simulated process's standard output and error: the lines it writes, in order, each tagged
// with its stream (the harness keeps them in the run's output; lkp makes stats of stderr).

export interface Stdio {
  out(line: string): void;
  err(line: string): void;
}

export interface StdioLine {
  stream: 'stdout' | 'stderr';
  line: string;
}

/** A Stdio that keeps what is written. */
export function capture_stdio(): Stdio & { lines: StdioLine[] } {
  const lines: StdioLine[] = [];
  return {
    lines,
    out: (line) => lines.push({ stream: 'stdout', line }),
    err: (line) => lines.push({ stream: 'stderr', line }),
  };
}
