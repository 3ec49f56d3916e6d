// One reading of a boolean on the command line, for `--set` knobs and `--param` workload
// parameters alike: the words Linux's kstrtobool takes (1/0, y/n, on/off), spelled out too.

const TRUE = new Set(['1', 'y', 'yes', 'true', 'on']);
const FALSE = new Set(['0', 'n', 'no', 'false', 'off']);

/** The boolean `text` means, or null when it is not one. */
export function parse_bool(text: string): boolean | null {
  const t = text.trim().toLowerCase();
  return TRUE.has(t) ? true : FALSE.has(t) ? false : null;
}

export const BOOL_WORDS = '1/0, y/n, yes/no, true/false, on/off';
