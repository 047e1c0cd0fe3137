/**
 * Correctly rounded float64 log, sin and cos, for the float64 normal path: torch calls glibc's, which round
 * correctly in all but rare hard cases, while V8's Math.log and Math.cos (fdlibm) can be one unit off.
 * Each is evaluated in double-double arithmetic (about 106 bits) and rounded once.
 */

type DD = [number, number];

export function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return [s, b - (s - a)];
}

const SPLIT = 134217729; // 2^27 + 1: Dekker's split into two 26-bit halves

export function twoProd(a: number, b: number): DD {
  const p = a * b;
  const ta = SPLIT * a;
  const ah = ta - (ta - a);
  const al = a - ah;
  const tb = SPLIT * b;
  const bh = tb - (tb - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function add(a: DD, b: DD): DD {
  const [s, e] = twoSum(a[0], b[0]);
  return quickTwoSum(s, e + a[1] + b[1]);
}

function mul(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return quickTwoSum(p, e + a[0] * b[1] + a[1] * b[0]);
}

function div(a: DD, b: DD): DD {
  const q1 = a[0] / b[0];
  let r = add(a, neg(mul([q1, 0], b)));
  const q2 = r[0] / b[0];
  r = add(r, neg(mul([q2, 0], b)));
  const q3 = r[0] / b[0];
  return add(quickTwoSum(q1, q2), [q3, 0]);
}

function neg(a: DD): DD {
  return [-a[0], -a[1]];
}

/** Horner's rule in double-double: c[0] + x (c[1] + x (c[2] + ...)). */
function horner(coefs: readonly DD[], x: DD): DD {
  let acc = coefs[coefs.length - 1];
  for (let k = coefs.length - 2; k >= 0; k--) acc = add(mul(acc, x), coefs[k]);
  return acc;
}

const LN2: DD = [Math.LN2, 2.3190468138462996e-17];
const SQRT2 = Math.SQRT2;
/** 1 / (2n + 1): the series of atanh(s) / s in s^2. */
const ATANH = Array.from({ length: 26 }, (_, n): DD => div([1, 0], [2 * n + 1, 0]));
const f64 = new DataView(new ArrayBuffer(8));

/** log(x) for positive finite x. */
export function log(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return Math.log(x);
  if (x === 1) return 0;
  // x = m 2^k with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh((m - 1) / (m + 1)), a fast series there.
  let k = 0;
  let m = x;
  if (m < 2 ** -1000) {
    m *= 2 ** 100;
    k -= 100;
  }
  f64.setFloat64(0, m);
  const e = ((f64.getUint32(0) >>> 20) & 0x7ff) - 1023;
  k += e;
  m *= 2 ** -e;
  if (m > SQRT2) {
    m /= 2;
    k += 1;
  }
  const s = div([m - 1, 0], twoSum(m, 1));
  const series = horner(ATANH, mul(s, s));
  const logM = mul([2 * s[0], 2 * s[1]], series);
  const kLn2 = add(twoProd(k, LN2[0]), [k * LN2[1], 0]);
  const r = add(kLn2, logM);
  return r[0] + r[1];
}

/** (-1)^n / (2n + offset)!: the Taylor series of cos (offset 0) and of sin(x)/x (offset 1) in x^2. */
function taylor(offset: 0 | 1): DD[] {
  const out: DD[] = [];
  let fact: DD = [1, 0];
  // fact is (m - 1)! at step m.
  for (let m = 1; m <= 36 + offset; m++) {
    if ((m - 1 - offset) % 2 === 0) {
      const c = div([1, 0], fact);
      out.push(out.length % 2 === 0 ? c : neg(c));
    }
    fact = mul(fact, [m, 0]);
  }
  return out;
}
const COS = taylor(0);
const SIN = taylor(1);
// pi/2 in three parts: the argument is reduced to [-pi/4, pi/4] with about 160 bits of pi.
const PIO2 = [Math.PI / 2, 6.123233995736766e-17, -1.4973849048591698e-33];

/** [sin x, cos x] for |x| up to a few hundred (torch's argument is 2 pi u, u in [0, 1)). */
export function sincos(x: number): [number, number] {
  if (!Number.isFinite(x)) return [Number.NaN, Number.NaN];
  const q = Math.round(x * (2 / Math.PI));
  let r: DD = twoSum(x, -twoProd(q, PIO2[0])[0]);
  r = add(r, [-twoProd(q, PIO2[0])[1], 0]);
  r = add(r, neg(twoProd(q, PIO2[1])));
  r = add(r, [-q * PIO2[2], 0]);
  const r2 = mul(r, r);
  const s = mul(r, horner(SIN, r2));
  const c = horner(COS, r2);
  const sin = s[0] + s[1];
  const cos = c[0] + c[1];
  switch (((q % 4) + 4) % 4) {
    case 0:
      return [sin, cos];
    case 1:
      return [cos, -sin];
    case 2:
      return [-sin, -cos];
    default:
      return [-cos, sin];
  }
}
