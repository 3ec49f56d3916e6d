// Ruby (Onigmo) regex source as a JavaScript RegExp, for the patterns lkp builds from stat names
// (StatCompare#skip_function_stat? interpolates a stem unescaped). What the two read differently:
// \h and \H (hex digits), {,n} (at most n), possessive quantifiers (X++ X*+ X?+ X{n}+) and atomic
// groups (?>…) (emulated with a lookahead and a named backreference), and an inline (?i)
// (case-insensitive to the end of its group: the letters after it become [xX]). Anything else is
// passed through; a source neither reads is a SyntaxError, as Ruby's is a RegexpError.

const HEX = '[0-9a-fA-F]';

export function ruby_regex(source: string): RegExp {
  let atomic = 0;
  let pos = 0;
  const once = (body: string) => `(?=(?<atomic${++atomic}>${body}))\\k<atomic${atomic}>`;

  /** One atom at pos (an escape, a class, a group, a character), translated. */
  function atom(fold: boolean): string {
    const c = source[pos];
    if (c === '\\') {
      const e = source[pos + 1] ?? '';
      pos += 2;
      if (e === 'h') return HEX;
      if (e === 'H') return '[^0-9a-fA-F]';
      return fold && /[a-zA-Z]/.test(e) && !/[dDwWsSbBnrtfvx0-9uckpPgGAzZ]/.test(e) ? `[${e.toLowerCase()}${e.toUpperCase()}]` : `\\${e}`;
    }
    if (c === '[') {
      let j = pos + 1;
      if (source[j] === '^') j++;
      if (source[j] === ']') j++;
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
      const body = source.slice(pos, j + 1).replace(/\\h/g, '0-9a-fA-F');
      pos = j + 1;
      return body;
    }
    if (c === '(') {
      if (source.startsWith('(?i)', pos)) {
        pos += 4;
        return '';
      }
      const head = /^\((\?[:=!>]|\?<[=!]|\?<[a-zA-Z_]\w*>)?/.exec(source.slice(pos))![0];
      pos += head.length;
      const inner = sequence(fold);
      if (source[pos] !== ')') throw new SyntaxError(`unmatched ( in /${source}/`);
      pos++;
      return head === '(?>' ? once(inner) : `${head}${inner})`;
    }
    pos++;
    return fold && /[a-zA-Z]/.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c;
  }

  /** A quantifier at pos, translated ({,n} → {0,n}), or ''. */
  function quantifier(): string {
    const m = /^(?:[*+?]|\{\d+(?:,\d*)?\}|\{,(\d+)\})/.exec(source.slice(pos));
    if (!m) return '';
    pos += m[0].length;
    return m[1] !== undefined ? `{0,${m[1]}}` : m[0];
  }

  /** Atoms up to the end of the current group; an inline (?i) folds the rest of it. */
  function sequence(fold: boolean): string {
    let out = '';
    while (pos < source.length && source[pos] !== ')') {
      if (source[pos] === '|') {
        out += '|';
        pos++;
        continue;
      }
      if (source.startsWith('(?i)', pos)) {
        pos += 4;
        fold = true;
        continue;
      }
      const a = atom(fold);
      const q = quantifier();
      if (q && source[pos] === '+') {
        // Possessive: match what the greedy quantifier takes, then never give it back.
        pos++;
        out += once(`${a}${q}`);
      } else if (q && source[pos] === '?') {
        pos++;
        out += `${a}${q}?`;
      } else out += a + q;
    }
    return out;
  }

  const translated = sequence(false);
  if (pos < source.length) throw new SyntaxError(`unmatched ) in /${source}/`);
  return new RegExp(translated);
}
