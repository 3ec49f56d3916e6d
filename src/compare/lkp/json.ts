// Ruby's JSON tells an Integer from a Float by the literal (`7` against `7.0` or `7e0`), and lkp's
// rules care: an all-zero stat is dropped only when its zeros are Integers, and a perf-profile
// median is judged by its class. JavaScript reads both as 7, so this finds the literals that are
// whole numbers written as Floats: per top-level key, `true` for a number, or the indices within
// its array (stats.json is {stat: number}, matrix.json {stat: [number per run]}). Ruby also keeps
// an Integer of any size exact, where JavaScript rounds one beyond 2^53: those are found too.

type WholeFloats = Map<string, true | number[]>;
/** Integers beyond 2^53, exact: per top-level key, the value, or the values by array index. */
export type BigIntegers = Map<string, bigint | Map<number, bigint>>;

const QUOTE = 34;
const BACKSLASH = 92;

function is_number_char(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 101 || c === 69; // 0-9 - + . e E
}

/** The whole-number Float literals (and the Integers beyond 2^53) of a JSON text that JSON.parse has accepted. */
export function whole_float_literals(text: string, bigs?: BigIntegers): WholeFloats {
  const out: WholeFloats = new Map();
  const stack: number[] = []; // 123 `{` or 91 `[`
  let key_start = -1;
  let key_end = -1;
  let index = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      for (i++; text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
      if (stack.length === 1) {
        key_start = start;
        key_end = i + 1;
      }
    } else if (c === 123 || c === 91) {
      stack.push(c);
      if (stack.length === 2) index = 0;
    } else if (c === 125 || c === 93) {
      stack.pop();
    } else if (c === 44 && stack.length === 2) {
      index++;
    } else if ((c >= 48 && c <= 57) || c === 45) {
      const start = i;
      let float = false;
      while (i + 1 < text.length && is_number_char(text.charCodeAt(i + 1))) i++;
      for (let j = start; j <= i; j++) {
        const d = text.charCodeAt(j);
        if (d === 46 || d === 101 || d === 69) float = true;
      }
      const literal = text.slice(start, i + 1);
      if (!float) {
        if (bigs && i + 1 - start > 15 && !Number.isSafeInteger(Number(literal))) {
          const key = JSON.parse(text.slice(key_start, key_end)) as string;
          if (stack.length === 1) bigs.set(key, BigInt(literal));
          else if (stack.length === 2 && stack[1] === 91) {
            const m = bigs.get(key);
            if (m instanceof Map) m.set(index, BigInt(literal));
            else bigs.set(key, new Map([[index, BigInt(literal)]]));
          }
        }
        continue;
      }
      if (!Number.isInteger(Number(literal))) continue;
      const key = JSON.parse(text.slice(key_start, key_end)) as string;
      if (stack.length === 1) out.set(key, true);
      else if (stack.length === 2 && stack[1] === 91) {
        const list = out.get(key);
        if (Array.isArray(list)) list.push(index);
        else out.set(key, [index]);
      }
    }
  }
  return out;
}
