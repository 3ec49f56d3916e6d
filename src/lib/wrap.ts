// Word wrap for the reports meant to be read as plain text: pieces laid end to end in lines no
// wider than asked, breaking only between pieces. Columns are counted as string length: the
// reports are made of characters one column wide.

export interface WrapOptions {
  /** What stands between two pieces on a line: ' ' for words, '' for the parts of a dotted name. */
  sep?: string;
  /** The start of the first line, and of every other line (a hanging indent). */
  first?: string;
  rest?: string;
  /** False for a piece that must not begin a line: it stays on the line before, past `width` if need be. */
  may_start_line?: (piece: string) => boolean;
}

/** The lines; a piece wider than a line stands alone on its own. */
export function wrap(pieces: readonly string[], width: number, opts: WrapOptions = {}): string[] {
  const { sep = ' ', first = '', rest = first, may_start_line = () => true } = opts;
  const lines: string[] = [];
  let line = first;
  let started = false;
  for (const piece of pieces) {
    if (!started) {
      line += piece;
      started = true;
    } else if (line.length + sep.length + piece.length <= width || !may_start_line(piece)) {
      line += sep + piece;
    } else {
      lines.push(line);
      line = rest + piece;
    }
  }
  lines.push(line);
  return lines;
}
