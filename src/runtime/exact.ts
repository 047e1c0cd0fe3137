/**
 * Correctly rounded arithmetic that JavaScript lacks and PyTorch's numbers depend on:
 * - fma(a, b, c) = round(a * b + c) once: torch's CPU kernels compute `add_(x, alpha)` and `addcmul_` as fused
 *   multiply-adds, so an optimizer step that rounds twice drifts from PyTorch's over hundreds of steps;
 * - powInt(x, n) = round(x^n): Python's `beta ** step` (glibc's pow) is correctly rounded, V8's `**` is off by
 *   an ulp for about one step in ten, enough to move Adam's bias correction.
 * Both use error-free transformations: Dekker's exact product and Knuth's TwoSum.
 */
const SPLIT = 134217729; // 2^27 + 1

/** hi + lo = a * b exactly (for |a|, |b| well inside the double range). */
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function safe(x: number): boolean {
  return Number.isFinite(x) && Math.abs(x) < 1e290 && (x === 0 || Math.abs(x) > 1e-290);
}

export function fma(a: number, b: number, c: number): number {
  if (!safe(a) || !safe(b) || !safe(c) || a === 0 || b === 0 || c === 0) return a * b + c;
  const [p, e] = twoProduct(a, b);
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
