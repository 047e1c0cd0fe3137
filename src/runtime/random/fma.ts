/**
 * Fused multiply-adds, which JavaScript lacks: GCC contracts `a * b + c` into one FMA instruction in the torch
 * build gradwire reproduces (-mfma, -ffp-contract=fast), so a product is not rounded before the sum.
 */
import { twoProd, twoSum } from "./libm.ts";

const f = Math.fround;

/** Smallest float32 step at x's magnitude. */
function ulp32(x: number): number {
  const a = Math.abs(x);
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

/** fmaf: a float32 product is exact in float64, so only the sum's two roundings need care. */
export function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const bp = s - c;
  const err = p - bp + (c - (s - bp));
  const r = f(s);
  // When the float64 sum sits exactly halfway between two floats, its own rounding error decides the side.
  if (err === 0 || Math.abs(r - s) * 2 !== ulp32(r)) return r;
  return f(s + (err > 0 ? ulp32(r) / 4 : -ulp32(r) / 4));
}

/** fma in float64: the exact product as a sum of two doubles, added to c with the sum's error kept. */
export function fma(a: number, b: number, c: number): number {
  const [p, pe] = twoProd(a, b);
  if (!Number.isFinite(p) || p === 0) return p + c;
  const [s, se] = twoSum(p, c);
  return s + (se + pe);
}
