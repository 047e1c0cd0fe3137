/**
 * The float32 log and sincos that PyTorch's AVX2 build uses for `randn` of 16 or more float32 values
 * (aten/src/ATen/native/cpu/avx_mathfun.h: Cephes polynomials by Julien Pommier and Giovanni Garberoglio,
 * zlib licence). Reproduced operation by operation in float32 so the results agree with torch bit for bit;
 * they are not correctly rounded, which is why Math.log and Math.cos cannot stand in for them. GCC contracts a
 * product and the addition that consumes it into one FMA (which pairs it chose was found by comparing every
 * choice with torch's output: it fuses the most recent product into the sum).
 */
import { fmaf } from "./fma.ts";

const f = Math.fround;
const bits = new DataView(new ArrayBuffer(4));

function floatBits(x: number): number {
  bits.setFloat32(0, x);
  return bits.getUint32(0);
}

function bitsFloat(u: number): number {
  bits.setUint32(0, u >>> 0);
  return bits.getFloat32(0);
}

const MIN_NORM_POS = bitsFloat(0x00800000);
const SQRTHF = f(Math.SQRT1_2);
const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f);
const LOG_Q1 = f(-2.1219444e-4);
const LOG_Q2 = f(0.693359375);

/** log256_ps for one lane: NaN for x <= 0 (torch only passes (0, 1]). */
export function logf(x: number): number {
  if (!(x > 0)) return Number.NaN;
  const xb = floatBits(Math.max(x, MIN_NORM_POS));
  let e = f(f((xb >>> 23) - 0x7f) + 1);
  let m = bitsFloat((xb & ~0x7f800000) | floatBits(0.5));
  const small = m < SQRTHF;
  const tmp = small ? m : 0;
  m = f(m - 1);
  if (small) e = f(e - 1);
  m = f(m + tmp);
  const z = f(m * m);
  let y = LOG_P[0];
  for (let k = 1; k < LOG_P.length; k++) y = fmaf(y, m, LOG_P[k]);
  y = f(y * m);
  y = fmaf(y, z, f(e * LOG_Q1));
  y = fmaf(-z, 0.5, y);
  return fmaf(e, LOG_Q2, f(m + y));
}

const FOPI = f(1.27323954473516);
// avx_mathfun's extended-precision pi/4 (DP1 + DP2 + DP3), each stored as a float.
const DP = [-0.78515625, -2.418756484985352e-4, -3.774894977445941e-8].map(f);
const SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f);
const COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f);

/** sincos256_ps for one lane: [sin x, cos x]. */
export function sincosf(x: number): [number, number] {
  let signSin = x < 0 || Object.is(x, -0);
  x = Math.abs(x);
  let j = Math.trunc(f(x * FOPI)) | 0;
  j = (j + 1) & ~1;
  const y = f(j);
  if (j & 4) signSin = !signSin;
  const sinPoly = (j & 2) === 0;
  const signCos = (~(j - 2) & 4) !== 0;
  for (const d of DP) x = fmaf(y, d, x);
  const z = f(x * x);
  let c = COS_P[0];
  c = fmaf(c, z, COS_P[1]);
  c = fmaf(c, z, COS_P[2]);
  c = f(fmaf(f(c * z), z, -f(z * 0.5)) + 1);
  let s = SIN_P[0];
  s = fmaf(s, z, SIN_P[1]);
  s = fmaf(s, z, SIN_P[2]);
  s = fmaf(f(s * z), x, x);
  // Both polynomials are computed; the lane's octant picks which is the sine and which the cosine.
  const sinV = sinPoly ? s : c;
  const cosV = sinPoly ? c : s;
  return [signSin ? -sinV : sinV, signCos ? -cosV : cosV];
}
