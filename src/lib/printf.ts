// printf as Ruby's Kernel#printf does it (lkp's tables are printed by Ruby), for the conversions
// those tables use: %d %f %e %g %s %%, with the flags - + space 0 #, a width and a precision.
//
// Ruby formats a Float's digits with its own copy of David Gay's dtoa (missing/dtoa.c, modes 2
// and 3), whose floating-point fast path takes a value within its error bound of a rounding tie
// for an exact tie and rounds it half to even: printf("%.2f", 85.175) is "85.18" although the
// double is 85.17499999999999716, where C prints "85.17". ruby_dtoa follows that fast path
// operation for operation and falls back, as dtoa does, to exact arithmetic (BigInt here). Ruby's
// %d of a Float truncates toward zero, and Ruby prints NaN and infinities as "NaN" and "Inf".

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
export function sprintf(fmt: string, ...args: (number | string | bigint)[]): string {
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

function convert(s: Spec, arg: number | string | bigint): string {
  if (s.conv === 's') {
    const str = String(arg);
    return pad(s, '', s.precision >= 0 ? str.slice(0, s.precision) : str, false);
  }
  // An Integer of any size prints all its digits under %d.
  if (typeof arg === 'bigint' && s.conv === 'd') return pad(s, arg < 0n ? '-' : s.plus ? '+' : s.space ? ' ' : '', (arg < 0n ? -arg : arg).toString(), true);
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
  const [ds, decpt] = ruby_dtoa(a, 3, p);
  const int = decpt > 0 ? ds.slice(0, decpt).padEnd(decpt, '0') : '0';
  const frac = (decpt > 0 ? ds.slice(decpt) : '0'.repeat(-decpt) + ds).padEnd(p, '0').slice(0, p);
  return p > 0 ? `${int}.${frac}` : alt ? `${int}.` : int;
}

/** %.<p>e of a non-negative finite number. */
function exponential(a: number, p: number, alt: boolean): string {
  const [ds, decpt] = ruby_dtoa(a, 2, p + 1);
  return mantissa_and_exponent(ds.padEnd(p + 1, '0'), a === 0 ? 0 : decpt - 1, alt);
}

function mantissa_and_exponent(digits: string, exp: number, alt: boolean): string {
  const m = digits.length > 1 || alt ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** %.<P>g: %e style when the exponent is below -4 or at least P, else %f style; trailing zeros dropped unless #. */
function general(a: number, P: number, alt: boolean): string {
  // The digits as dtoa returns them: it drops trailing zeros on some of its paths only, and Ruby prints what it gets.
  const [raw, decpt] = ruby_dtoa(a, 2, P);
  const ds = alt ? raw.padEnd(P, '0') : raw;
  if (a !== 0 && (decpt <= -4 || (decpt > P && decpt > 1))) return mantissa_and_exponent(ds, decpt - 1, alt);
  const point = a === 0 ? 1 : decpt;
  if (point <= 0) return `0.${'0'.repeat(-point)}${ds}`;
  if (ds.length <= point) return ds.padEnd(point, '0') + (alt ? '.' : '');
  return `${ds.slice(0, point)}.${ds.slice(point)}`;
}

// dtoa's tables: the exact powers of ten up to 1e22, and 1e16·2^i for scaling by larger powers.
const TENS = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
const BIGTENS = [1e16, 1e32, 1e64, 1e128, 1e256];
const QUICK_MAX = 14;
const INT_MAX = 14;

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const u32 = new Uint32Array(f64.buffer); // little-endian: u32[1] holds the sign, the exponent and the top of the fraction

/** A positive finite double as mant · 2^e2, for the exact path. */
function decompose(a: number): { mant: bigint; e2: number } {
  f64[0] = a;
  const bits = u64[0];
  const biased = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  return { mant: biased === 0 ? frac : frac | (1n << 52n), e2: (biased === 0 ? 1 : biased) - 1075 };
}

/**
 * Ruby's dtoa of a >= 0: mode 2 gives `ndigits` significant digits, mode 3 the digits up to
 * `ndigits` after the point; the digits (no trailing zeros needed) and where the point goes.
 */
function ruby_dtoa(a: number, mode: 2 | 3, ndigits: number): [string, number] {
  if (a === 0) return ['0', 1];
  f64[0] = a;
  const biased = (u32[1] >>> 20) & 0x7ff;
  // k, dtoa's estimate of floor(log10(a)), from the binary exponent; k_check when it may be one too high.
  let k: number;
  let k_check = true;
  if (biased !== 0) {
    u32[1] = (u32[1] & 0x000fffff) | (1023 << 20); // the fraction, scaled to [1, 2)
    const d2 = f64[0];
    const ds = (d2 - 1.5) * 0.289529654602168 + 0.1760912590558 + (biased - 1023) * 0.301029995663981;
    k = Math.trunc(ds);
    if (ds < 0 && ds !== k) k--;
    if (k >= 0 && k <= 22) {
      if (a < TENS[k]) k--;
      k_check = false;
    }
  } else {
    k = Math.floor(Math.log10(a)); // subnormals: no fast path below, the exact path finds k itself
  }
  let ilim = mode === 2 ? Math.max(ndigits, 1) : ndigits + k + 1;
  let ilim1 = mode === 2 ? ilim : ilim - 1;
  let half = false;

  if (biased !== 0 && ilim >= 0 && ilim <= QUICK_MAX) {
    // "Try to get by with floating-point arithmetic."
    let d = a;
    let kq = k;
    let ieps = 2;
    let i = 0;
    if (kq > 0) {
      let ds = TENS[kq & 0xf];
      let j = kq >> 4;
      if (j & 0x10) {
        j &= 0x0f;
        d /= BIGTENS[BIGTENS.length - 1];
        ieps++;
      }
      for (; j; j >>= 1, i++) {
        if (j & 1) {
          ieps++;
          ds *= BIGTENS[i];
        }
      }
      d /= ds;
    } else if (-kq !== 0) {
      const j1 = -kq;
      d *= TENS[j1 & 0xf];
      for (let j = j1 >> 4; j; j >>= 1, i++) {
        if (j & 1) {
          ieps++;
          d *= BIGTENS[i];
        }
      }
    }
    let failed = false;
    let il = ilim;
    if (k_check && d < 1 && il > 0) {
      if (ilim1 <= 0) failed = true;
      else {
        il = ilim1;
        kq--;
        d *= 10;
        ieps++;
      }
    }
    if (!failed) {
      let eps = (ieps * d + 7) * 2 ** -52;
      if (il === 0) {
        d -= 5;
        if (d > eps) return ['1', kq + 2];
        if (d < -eps) return ['', -ndigits];
      } else {
        eps *= TENS[il - 1];
        let s = '';
        for (let n = 1; ; n++, d *= 10) {
          const L = Math.trunc(d);
          d -= L;
          if (d === 0) il = n;
          s += String(L);
          if (n === il) {
            if (d > 0.5 + eps) return bump_up(s, kq);
            if (d < 0.5 - eps) return [s.replace(/0+$/, ''), kq + 1];
            // Within the error bound of a tie: taken for one, half to even.
            half = true;
            if (L & 1) return bump_up(s, kq);
            break;
          }
        }
      }
    }
  }
  // The exact path (dtoa's "small integer" and Bigint paths).
  // A whole number of at most 15 digits takes dtoa's small-integer path, which knows no `half` and keeps its digits as they come.
  const small_int = Number.isInteger(a) && k <= INT_MAX;
  const { mant, e2 } = decompose(a);
  return exact_dtoa(mant, e2, mode, ndigits, half && !small_int, small_int);
}

/** dtoa's bump_up: add one to the last digit, carrying; all nines become 1 at the next power of ten. */
function bump_up(s: string, k: number): [string, number] {
  let i = s.length - 1;
  while (i >= 0 && s[i] === '9') i--;
  if (i < 0) return ['1', k + 2];
  return [s.slice(0, i) + String(Number(s[i]) + 1), k + 1];
}

/**
 * The digits of mant·2^e2 by exact arithmetic; `half`: the fast path saw a tie, so an even last
 * digit stays; `small_int`: dtoa's small-integer path, which does not drop the zeros of digits it
 * rounds down.
 */
function exact_dtoa(mant: bigint, e2: number, mode: 2 | 3, ndigits: number, half: boolean, small_int: boolean): [string, number] {
  let num = mant;
  let den = 1n;
  if (e2 >= 0) num <<= BigInt(e2);
  else den <<= BigInt(-e2);
  // K = floor(log10(value)), exactly.
  let K = num.toString().length - den.toString().length;
  const pow10 = (n: number) => 10n ** BigInt(n);
  const at_least = (n: number) => (n >= 0 ? num >= den * pow10(n) : num * pow10(-n) >= den);
  while (!at_least(K)) K--;
  while (at_least(K + 1)) K++;
  const N = mode === 2 ? Math.max(ndigits, 1) : ndigits + K + 1;
  if (N < 0) return ['', -ndigits];
  if (N === 0) {
    // Rounding to one unit at 10^(K+1): 1 above half of it, nothing at or below.
    const twice = 2n * (K + 1 >= 0 ? num : num * pow10(-(K + 1)));
    const unit = K + 1 >= 0 ? den * pow10(K + 1) : den;
    return twice > unit ? ['1', K + 2] : ['', -ndigits];
  }
  // q = floor(value · 10^(N-1-K)), the first N digits.
  const scale = N - 1 - K;
  let n2 = num;
  let d2 = den;
  if (scale >= 0) n2 *= pow10(scale);
  else d2 *= pow10(-scale);
  const q = n2 / d2;
  const r = n2 % d2;
  const digits = q.toString();
  if (r === 0n) return [digits.replace(/0+$/, ''), K + 1];
  const c = 2n * r - d2;
  const last_odd = (q & 1n) === 1n;
  if (c > 0n || (c === 0n && last_odd)) {
    if (half && !last_odd) return [digits, K + 1];
    return bump_up(digits, K);
  }
  return [small_int ? digits : digits.replace(/0+$/, ''), K + 1];
}
