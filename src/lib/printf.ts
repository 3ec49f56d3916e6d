// printf as C and Ruby do it, for the conversions lkp's tables use: %d %f %e %g %s %%, with the
// flags - + space 0 #, a width and a precision.
//
// JavaScript's toFixed/toExponential round an exact tie away from zero; C rounds the exact binary
// value half to even (printf("%.2f", 0.125) is "0.12"). Ties are rare, so the fast path asks
// JavaScript and only a possible tie takes the exact BigInt path. Ruby's %d of a Float truncates
// toward zero, and Ruby prints NaN and infinities as "NaN" and "Inf".

interface Spec {
  left: boolean;
  plus: boolean;
  space: boolean;
  zero: boolean;
  alt: boolean;
  width: number;
  precision: number; // -1: none given
  conv: string;
}

const SPEC = /%([-+ 0#]*)(\d*)(?:\.(\d*))?([dfeEgGs%])/g;
const parsed = new Map<string, (string | Spec)[]>();

function parse(fmt: string): (string | Spec)[] {
  let parts = parsed.get(fmt);
  if (parts) return parts;
  parts = [];
  let last = 0;
  for (const m of fmt.matchAll(SPEC)) {
    if (m.index > last) parts.push(fmt.slice(last, m.index));
    const flags = m[1];
    parts.push({
      left: flags.includes('-'),
      plus: flags.includes('+'),
      space: flags.includes(' '),
      zero: flags.includes('0'),
      alt: flags.includes('#'),
      width: m[2] ? Number(m[2]) : 0,
      precision: m[3] === undefined ? -1 : Number(m[3] || '0'),
      conv: m[4],
    });
    last = m.index + m[0].length;
  }
  if (last < fmt.length) parts.push(fmt.slice(last));
  parsed.set(fmt, parts);
  return parts;
}

/** sprintf with C's conversions and Ruby's treatment of Floats under %d. */
export function sprintf(fmt: string, ...args: (number | string)[]): string {
  let out = '';
  let next = 0;
  for (const part of parse(fmt)) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    if (part.conv === '%') {
      out += '%';
      continue;
    }
    if (next >= args.length) throw new Error(`sprintf: too few arguments for '${fmt}'`);
    out += convert(part, args[next++]);
  }
  return out;
}

function convert(s: Spec, arg: number | string): string {
  if (s.conv === 's') {
    const str = String(arg);
    return pad(s, '', s.precision >= 0 ? str.slice(0, s.precision) : str, false);
  }
  const x = Number(arg);
  const negative = x < 0 || Object.is(x, -0);
  const sign = negative ? '-' : s.plus ? '+' : s.space ? ' ' : '';
  if (!Number.isFinite(x)) return pad(s, sign, Number.isNaN(x) ? 'NaN' : 'Inf', false);
  const a = Math.abs(x);
  let body: string;
  switch (s.conv) {
    case 'd': {
      const t = Math.trunc(x);
      return pad(s, t < 0 ? '-' : s.plus ? '+' : s.space ? ' ' : '', integer_digits(Math.abs(t)), true);
    }
    case 'f':
      body = fixed(a, s.precision < 0 ? 6 : s.precision, s.alt);
      break;
    case 'e':
    case 'E':
      body = exponential(a, s.precision < 0 ? 6 : s.precision, s.alt);
      break;
    default:
      body = general(a, s.precision < 0 ? 6 : s.precision === 0 ? 1 : s.precision, s.alt);
  }
  if (s.conv === 'E' || s.conv === 'G') body = body.toUpperCase();
  return pad(s, sign, body, true);
}

function pad(s: Spec, sign: string, body: string, numeric: boolean): string {
  const len = sign.length + body.length;
  if (len >= s.width) return sign + body;
  const fill = s.width - len;
  if (s.left) return sign + body + ' '.repeat(fill);
  if (s.zero && numeric) return sign + '0'.repeat(fill) + body;
  return ' '.repeat(fill) + sign + body;
}

function integer_digits(a: number): string {
  return a < 1e21 ? a.toFixed(0) : BigInt(a).toString();
}

/** %.<p>f of a non-negative finite number. */
function fixed(a: number, p: number, alt: boolean): string {
  let digits: string;
  const fast = a < 1e21 && p <= 100 ? a.toFixed(p) : null;
  if (fast !== null && !maybe_tie_fixed(a, p)) digits = fast;
  else {
    const q = scaled_round(a, p).toString().padStart(p + 1, '0');
    digits = p === 0 ? q : q.slice(0, q.length - p) + '.' + q.slice(q.length - p);
  }
  return alt && p === 0 ? digits + '.' : digits;
}

/** %.<p>e of a non-negative finite number. */
function exponential(a: number, p: number, alt: boolean): string {
  const [mantissa, exp] = round_significant(a, p + 1);
  let m = mantissa.length > 1 ? mantissa[0] + '.' + mantissa.slice(1) : mantissa;
  if (alt && p === 0) m += '.';
  return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** %.<P>g: %e when the exponent X < -4 or X >= P, else %f with P-1-X decimals; trailing zeros dropped unless #. */
function general(a: number, P: number, alt: boolean): string {
  const [, X] = round_significant(a, P);
  let body = X < -4 || X >= P ? exponential(a, P - 1, alt) : fixed(a, P - 1 - X, alt);
  if (!alt) {
    const e = body.indexOf('e');
    let mant = e < 0 ? body : body.slice(0, e);
    const tail = e < 0 ? '' : body.slice(e);
    if (mant.includes('.')) mant = mant.replace(/0+$/, '').replace(/\.$/, '');
    body = mant + tail;
  }
  return body;
}

/** The first `digits` significant digits of a (rounded half to even) and the decimal exponent. */
function round_significant(a: number, digits: number): [string, number] {
  if (a === 0) return ['0'.repeat(digits), 0];
  const fast = digits <= 100 ? a.toExponential(digits - 1) : null;
  if (fast !== null) {
    const e = fast.indexOf('e');
    const exp = Number(fast.slice(e + 1));
    if (!maybe_tie_exponential(a, digits, exp)) return [fast.slice(0, e).replace('.', ''), exp];
  }
  let exp = Math.floor(Math.log10(a));
  for (;;) {
    const q = scaled_round(a, digits - 1 - exp);
    const s = q.toString();
    if (s.length > digits) exp++;
    else if (s.length < digits) exp--;
    else return [s, exp];
  }
}

// A tie at p decimals means a·10^p is exactly k + 1/2. When a·10^p is small enough for the
// product to be accurate to far better than 1e-6, a fraction away from one half rules a tie out
// at once; otherwise asking for 20 more digits shows whether the digit after the last one kept is
// a 5 with nothing non-zero after it.
function far_from_half(t: number): boolean {
  return t < 1e8 && Math.abs(t - Math.floor(t) - 0.5) > 1e-6;
}

function maybe_tie_fixed(a: number, p: number): boolean {
  if (p <= 20 && far_from_half(a * 10 ** p)) return false;
  if (p + 20 > 100) return true;
  return /50{19}$/.test(a.toFixed(p + 20));
}

function maybe_tie_exponential(a: number, digits: number, exp: number): boolean {
  if (digits <= 8 && Math.abs(digits - 1 - exp) <= 300 && far_from_half(a * 10 ** (digits - 1 - exp))) return false;
  if (digits + 20 > 100) return true;
  return /50{19}e/.test(a.toExponential(digits + 19));
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** round(a · 10^scale), half to even, computed exactly from a's binary value. */
function scaled_round(a: number, scale: number): bigint {
  f64[0] = a;
  const bits = u64[0];
  const biased = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mant = biased === 0 ? frac : frac | (1n << 52n);
  const e2 = (biased === 0 ? 1 : biased) - 1075;
  let num = mant;
  let den = 1n;
  if (e2 >= 0) num <<= BigInt(e2);
  else den <<= BigInt(-e2);
  if (scale >= 0) num *= 10n ** BigInt(scale);
  else den *= 10n ** BigInt(-scale);
  const q = num / den;
  const r2 = (num % den) * 2n;
  if (r2 > den || (r2 === den && (q & 1n) === 1n)) return q + 1n;
  return q;
}
