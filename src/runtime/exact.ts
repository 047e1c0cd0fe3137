/**
 * Correctly rounded arithmetic that JavaScript lacks and PyTorch's numbers depend on:
 * - fma(a, b, c) = round(a * b + c) once: torch's CPU kernels compute `add_(x, alpha)` and `addcmul_` as fused
 *   multiply-adds, so an optimizer step that rounds twice drifts from PyTorch's over hundreds of steps;
 * - powInt(x, n) = round(x^n): Python's `beta ** step` (glibc's pow) is correctly rounded, V8's `**` is off by
 *   an ulp for about one step in ten, enough to move Adam's bias correction;
 * - powPositive(x, y) = round(x^y) for x > 0 and any y (NAdam's `0.96 ** (step * momentum_decay)`): V8's `**`
 *   misses by an ulp one time in ten, this (from double-double logarithm and exponential) only where glibc
 *   itself is not correctly rounded (about one case in two thousand).
 * Both use error-free transformations: Dekker's exact product and Knuth's TwoSum.
 */
const SPLIT = 134217729; // 2^27 + 1

/** hi + lo = a * b exactly (for |a|, |b| well inside the double range). */
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  return [p, productError(a, b, p)];
}

/** a * b - p exactly, for p = a * b rounded (Dekker's split); a number, not a pair, for per-element callers. */
function productError(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

function safe(x: number): boolean {
  return Number.isFinite(x) && Math.abs(x) < 1e290 && (x === 0 || Math.abs(x) > 1e-290);
}

export function fma(a: number, b: number, c: number): number {
  if (!safe(a) || !safe(b) || !safe(c) || a === 0 || b === 0 || c === 0) return a * b + c;
  // Not twoProduct: optimizers call this per element, and the pair it returns is an allocation there.
  const p = a * b;
  const e = productError(a, b, p);
  const s = p + c;
  const v = s - p;
  const r = p - (s - v) + (c - v);
  return s + (r + e);
}

/** x to a non-negative integer power, as a double-double by repeated squaring, rounded once at the end. */
export function powInt(x: number, n: number): number {
  if (!Number.isInteger(n) || n < 0 || !safe(x) || x === 0) return x ** n;
  let rh = 1;
  let rl = 0;
  let bh = x;
  let bl = 0;
  for (let k = n; k > 0; k = Math.floor(k / 2)) {
    if (k % 2 === 1) [rh, rl] = ddMul(rh, rl, bh, bl);
    if (k > 1) [bh, bl] = ddMul(bh, bl, bh, bl);
    if (!safe(rh) || !safe(bh)) return x ** n;
  }
  return rh + rl;
}

function ddMul(ah: number, al: number, bh: number, bl: number): [number, number] {
  const [p, e] = twoProduct(ah, bh);
  const lo = e + (ah * bl + al * bh);
  const hi = p + lo;
  return [hi, lo - (hi - p)];
}

/** a + b for double-doubles. */
function ddAdd(ah: number, al: number, bh: number, bl: number): [number, number] {
  const s = ah + bh;
  const v = s - ah;
  const e = ah - (s - v) + (bh - v) + al + bl;
  const hi = s + e;
  return [hi, e - (hi - s)];
}

const LN2_HI = Math.LN2;
/** ln 2 - Math.LN2: the low part of ln 2 as a double-double. */
const LN2_LO = 2.3190468138462996e-17;

/** e^(ah + al) as a double-double, for |ah| < 700: e^r with r = a - k ln 2, as (e^(r/256))^256 by series. */
function ddExp(ah: number, al: number): [number, number] {
  const k = Math.round(ah / LN2_HI);
  const [p, e] = twoProduct(k, LN2_HI);
  let [rh, rl] = ddAdd(ah, al, -p, -e);
  [rh, rl] = ddAdd(rh, rl, -k * LN2_LO, 0);
  rh /= 256;
  rl /= 256;
  let sh = 1;
  let sl = 0;
  for (let n = 12; n >= 1; n--) {
    // s = 1 + r s / n, with the quotient's remainder carried into its low part
    [sh, sl] = ddMul(sh, sl, rh, rl);
    const qh = sh / n;
    const [m, me] = twoProduct(qh, n);
    [sh, sl] = ddAdd(1, 0, qh, (sh - m - me + sl) / n);
  }
  for (let i = 0; i < 8; i++) [sh, sl] = ddMul(sh, sl, sh, sl);
  const scale = 2 ** k;
  return [sh * scale, sl * scale];
}

/** ln x as a double-double: Math.log's value and one Newton step, ln x = l + ln(x e^-l) ~ l + (x e^-l - 1). */
function ddLog(x: number): [number, number] {
  const l = Math.log(x);
  const [eh, el] = ddExp(-l, 0);
  const [th, tl] = ddMul(x, 0, eh, el);
  const [dh, dl] = ddAdd(th, tl, -1, 0);
  return ddAdd(l, 0, dh, dl);
}

/** x to any power, for x > 0, rounded once from a double-double (other x, or an overflow: JavaScript's `**`). */
export function powPositive(x: number, y: number): number {
  if (!(x > 0) || !safe(x) || !Number.isFinite(y)) return x ** y;
  const [lh, ll] = ddLog(x);
  const [th, tl] = ddMul(lh, ll, y, 0);
  if (!(Math.abs(th) < 700)) return x ** y;
  const [h, l] = ddExp(th, tl);
  return h + l;
}
