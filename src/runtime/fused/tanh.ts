/**
 * tanh for float32 results. Math.tanh is a call into C++ that costs about 20 ns here, more than the rest of a
 * tanh layer's forward and backward together. This is plain arithmetic that inlines into the calling loop:
 * below |x| = 0.55 a polynomial, above 1 - 2 / (exp(2|x|) + 1) with a table-driven exp.
 *
 * Its relative error is below 3e-15 (tests/runtime/fused.test.ts measures it), so once the result is rounded to
 * float32 it equals fround(Math.tanh(x)) except for inputs whose tanh lies within 3e-15 of a float32
 * rounding boundary, where the two differ by one float32 ulp (6e-8 relative, PyTorch's own tanh is no closer).
 * Float64 results keep Math.tanh.
 */

// tanh(x) = x + x^3 P(x^2) on |x| < 0.55: a Chebyshev fit of (tanh(x)/x - 1)/x^2 made against 40-digit values.
const P0 = -0.3333333333333364;
const P1 = 0.13333333333305902;
const P2 = -0.05396825393915064;
const P3 = 0.021869487346023404;
const P4 = -0.00886321085753791;
const P5 = 0.0035918340216260026;
const P6 = -0.001453693253040107;
const P7 = 0.0005802865584754968;
const P8 = -0.00021175224002058633;
const P9 = 5.1732235707851626e-5;

// exp(y) = 2^(k/64) exp(r) with r = y - k ln2/64, |r| <= ln2/128: a table of 2^(j/64) and a degree-5 Taylor
// polynomial (remainder below 4e-17). ln2/64 is split (fdlibm's split of ln2, scaled) so k * LN2_64_HI is exact.
const LN2_64_HI = 0.6931471803691238 / 64;
const LN2_64_LO = 1.9082149292705877e-10 / 64;
const INV_LN2_64 = 64 * Math.LOG2E;
const EXP2_J64 = Float64Array.from({ length: 64 }, (_, j) => 2 ** (j / 64));
const POW2 = Float64Array.from({ length: 70 }, (_, m) => 2 ** m);

/** exp(y) for 1 <= y < 44, to about 2e-16 relative: a few multiplies instead of a call into C++. */
function expAbove1(y: number): number {
  // y > 0, so truncating y / (ln2/64) + 0.5 rounds to nearest; Math.round is a slow call on some machines.
  const k = (y * INV_LN2_64 + 0.5) | 0;
  const r = y - k * LN2_64_HI - k * LN2_64_LO;
  const r2 = r * r;
  const p = 1 + r + r2 * (0.5 + r * (1 / 6) + r2 * (1 / 24 + r * (1 / 120)));
  return POW2[k >> 6] * EXP2_J64[k & 63] * p;
}

export function tanhF32(x: number): number {
  const ax = Math.abs(x);
  if (ax < 0.55) {
    if (ax === 0) return x;
    // Estrin's scheme: independent partial products overlap instead of a 10-deep chain of multiply-adds.
    const t = x * x;
    const t2 = t * t;
    const t4 = t2 * t2;
    const t8 = t4 * t4;
    const p = P0 + P1 * t + (P2 + P3 * t) * t2 + (P4 + P5 * t + (P6 + P7 * t) * t2) * t4 + (P8 + P9 * t) * t8;
    return x + x * t * p;
  }
  if (!(ax < 22)) return Number.isNaN(x) ? x : x > 0 ? 1 : -1;
  const z = 1 - 2 / (expAbove1(2 * ax) + 1);
  return x > 0 ? z : -z;
}
