/**
 * tanh for float32 results, in float32 arithmetic, exactly as the SIMD kernel computes it four lanes at a time
 * (simd/assembly/vm.ts, tanh4): every operation below is one float32 operation rounded (Math.fround), so the
 * plain loops and the SIMD path give the same values bit for bit. Math.tanh is a call into C++ that costs
 * about 20 ns; this inlines into the calling loop.
 *
 * Below |x| = 0.55: x + x^3 P(x^2), P a Chebyshev fit of (tanh(x)/x - 1)/x^2 made against 40-digit values.
 * Above: 1 - 2 / (exp(2|x|) + 1), exp(y) = 2^k exp(r) with |r| <= ln2/2 and a degree-7 Taylor polynomial;
 * from |x| = 10 on, tanh(x) rounds to +-1. Within 2 float32 ulps of the correctly rounded tanh, 1 on 94% of
 * inputs (tests/runtime/fused.test.ts measures it); PyTorch's own float32 tanh (Sleef) is within 1.
 * Float64 results keep Math.tanh.
 */

const P0 = Math.fround(-0.3333333333333364);
const P1 = Math.fround(0.13333333333305902);
const P2 = Math.fround(-0.05396825393915064);
const P3 = Math.fround(0.021869487346023404);
const P4 = Math.fround(-0.00886321085753791);
const P5 = Math.fround(0.0035918340216260026);
const P6 = Math.fround(-0.001453693253040107);
const P7 = Math.fround(0.0005802865584754968);
const P8 = Math.fround(-0.00021175224002058633);
const P9 = Math.fround(5.1732235707851626e-5);
const LOG2E = Math.fround(Math.LOG2E);
// ln 2 split so k * LN2_HI is exact for the k < 2^12 here: LN2_HI has 12 significant bits.
const LN2_HI = 0.693145751953125;
const LN2_LO = Math.fround(1.428606765330187e-6);
const E2 = Math.fround(1 / 2);
const E3 = Math.fround(1 / 6);
const E4 = Math.fround(1 / 24);
const E5 = Math.fround(1 / 120);
const E6 = Math.fround(1 / 720);
const E7 = Math.fround(1 / 5040);
/** 2^k for the k < 30 here (exact); `2 ** k` is a slow call on some machines. */
const POW2 = Float64Array.from({ length: 30 }, (_, k) => 2 ** k);

export function tanhF32(x: number): number {
  const a = Math.abs(x);
  if (Number.isNaN(x) || a === 0) return x;
  if (!(a < 10)) return x > 0 ? 1 : -1;
  if (a < 0.55) {
    const z = Math.fround(x * x);
    let p = Math.fround(Math.fround(P9 * z) + P8);
    p = Math.fround(Math.fround(p * z) + P7);
    p = Math.fround(Math.fround(p * z) + P6);
    p = Math.fround(Math.fround(p * z) + P5);
    p = Math.fround(Math.fround(p * z) + P4);
    p = Math.fround(Math.fround(p * z) + P3);
    p = Math.fround(Math.fround(p * z) + P2);
    p = Math.fround(Math.fround(p * z) + P1);
    p = Math.fround(Math.fround(p * z) + P0);
    return Math.fround(x + Math.fround(x * Math.fround(z * p)));
  }
  const t = Math.fround(2 * a);
  // k = round(t / ln2), ties to even, as the SIMD kernel computes it (adding and removing 1.5 * 2^23).
  const k = Math.fround(Math.fround(t * LOG2E) + 12582912) - 12582912;
  const r = Math.fround(Math.fround(t - Math.fround(k * LN2_HI)) - Math.fround(k * LN2_LO));
  let e = Math.fround(Math.fround(E7 * r) + E6);
  e = Math.fround(Math.fround(e * r) + E5);
  e = Math.fround(Math.fround(e * r) + E4);
  e = Math.fround(Math.fround(e * r) + E3);
  e = Math.fround(Math.fround(e * r) + E2);
  e = Math.fround(Math.fround(e * r) + 1);
  e = Math.fround(Math.fround(e * r) + 1);
  const z = Math.fround(1 - Math.fround(2 / Math.fround(Math.fround(e * POW2[k]) + 1)));
  return x > 0 ? z : -z;
}
