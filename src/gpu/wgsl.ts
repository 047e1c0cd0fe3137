/**
 * WGSL text shared by every kernel: the prelude of helper functions the op formulas call (gw_erf, gw_pow,
 * gw_sigmoid), the expressions of the backend's own elementwise functions (logsumexp's and norms' pieces and
 * gradients that have no runtime declaration), each mirroring the CPU runtime's formula for the same value.
 */

import { wgslOf } from "../runtime/ops/formula.ts";
import { LOGSUMEXP } from "../runtime/ops/reductions.ts";
import { EXP, TANH, wgslFunction } from "../runtime/simd/breakdown.ts";
import type { ExprName } from "./ir.ts";

/** Whether a declaration's WGSL expression reads the identifier `name` (x, y, a, b, or a helper's name). */
export function reads(expr: string, name: string): boolean {
  return new RegExp(`\\b${name}\\b`).test(expr);
}

/**
 * The prelude pieces `code` uses (and what they use), so a kernel compiles only what it calls: shader
 * compilation is most of a small program's start-up time.
 */
export function preludeFor(code: string): string {
  const chunks = preludeChunks();
  const wanted = new Set<string>();
  const scan = (text: string) => {
    for (const c of chunks)
      if (!wanted.has(c.name) && c.names.some((n) => reads(text, n))) {
        wanted.add(c.name);
        scan(c.text);
      }
  };
  scan(code);
  return chunks
    .filter((c) => wanted.has(c.name))
    .map((c) => c.text)
    .join("\n");
}

interface Chunk {
  name: string;
  /** Identifiers the chunk defines. */
  names: string[];
  text: string;
}

let cachedChunks: Chunk[] | null = null;
function preludeChunks(): Chunk[] {
  if (cachedChunks) return cachedChunks;
  // Top-level declarations start at column 0 (fn, var); comments attach to the declaration after them.
  const out: Chunk[] = [];
  let pending: string[] = [];
  for (const line of PRELUDE_TEXT.split("\n")) {
    const m = /^(?:fn|var<private>)\s+([a-z_0-9]+)/.exec(line);
    if (m) {
      out.push({ name: m[1], names: [m[1]], text: [...pending, line].join("\n") });
      pending = [];
    } else if (line.startsWith("//")) pending.push(line);
    else if (out.length && line.length) out[out.length - 1].text += `\n${line}`;
  }
  cachedChunks = out;
  return out;
}

const PRELUDE_TEXT = /* wgsl */ `
// Infinity and NaN from variables: as constant expressions they would be compile errors.
var<private> gw_inf_bits: u32 = 0x7f800000u;
var<private> gw_nan_bits: u32 = 0x7fc00000u;
fn gw_bits_inf() -> f32 { return bitcast<f32>(gw_inf_bits); }
fn gw_nan() -> f32 { return bitcast<f32>(gw_nan_bits); }
// Bit tests, so no compiler assumption about NaN or infinity can fold them away.
fn gw_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
fn gw_isnan(x: f32) -> bool {
  let u = bitcast<u32>(x);
  return (u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu) != 0u;
}
// WGSL leaves log and sqrt outside their domain indeterminate (SwiftShader's log(0) is -88): C's answers.
// Near 1, where log is near 0, a series in u = (x - 1) / (x + 1) keeps the relative accuracy builtins lose.
fn gw_log(x: f32) -> f32 {
  if (x == 0.0) { return -gw_bits_inf(); }
  if (x < 0.0 || gw_isnan(x)) { return gw_nan(); }
  if (!gw_finite(x)) { return x; }
  if (abs(x - 1.0) < 0.125) {
    let u = (x - 1.0) / (x + 1.0);
    let v = u * u;
    return 2.0 * u * (1.0 + v * (0.33333333 + v * (0.2 + v * (0.14285714 + v * 0.11111111))));
  }
  return log(x);
}
// exp: generated from the float32 breakdown (runtime/simd/breakdown.ts) as every call here uses it: the builtin
// is up to 16 ulps off on SwiftShader, this within 1 of the correctly rounded value.
${wgslFunction(EXP, "gw_exp")}
// tanh: generated from the CPU's float32 breakdown (runtime/simd/breakdown.ts), so it equals the CPU's.
${wgslFunction(TANH, "gw_tanh")}
fn gw_sqrt(x: f32) -> f32 {
  if (x < 0.0 || gw_isnan(x)) { return gw_nan(); }
  if (!gw_finite(x)) { return x; }
  return sqrt(x);
}
fn gw_max(a: f32, b: f32) -> f32 { if (gw_isnan(a) || gw_isnan(b)) { return gw_nan(); } return max(a, b); }
fn gw_min(a: f32, b: f32) -> f32 { if (gw_isnan(a) || gw_isnan(b)) { return gw_nan(); } return min(a, b); }
fn gw_log1p(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0 || !gw_finite(u)) { return select(gw_log(u), x, u == 1.0); }
  return gw_log(u) * x / (u - 1.0);
}
// C's pow: exact repeated products for small integer exponents, the sign of odd powers of negatives, NaN
// for a negative base with a fractional exponent, and pow(x, 0) = 1 even for NaN.
fn gw_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (gw_isnan(x) || gw_isnan(y)) { return gw_nan(); }
  let integral = floor(y) == y && abs(y) < 16777216.0;
  let negative = (bitcast<u32>(x) >> 31u) == 1u;
  if (negative && !integral) { return gw_nan(); }
  let odd = integral && (u32(abs(y)) & 1u) == 1u;
  let ax = abs(x);
  var r: f32;
  if (ax == 0.0) {
    r = select(0.0, gw_bits_inf(), y < 0.0);
  } else if (integral && abs(y) <= 64.0) {
    var n = u32(abs(y));
    var base = ax;
    r = 1.0;
    loop {
      if ((n & 1u) == 1u) { r = r * base; }
      n = n >> 1u;
      if (n == 0u) { break; }
      base = base * base;
    }
    if (y < 0.0) { r = 1.0 / r; }
  } else if (!gw_finite(ax)) {
    r = select(0.0, gw_bits_inf(), y > 0.0);
  } else {
    r = pow(ax, y);
  }
  if (negative && odd) { return -r; }
  return r;
}
// erf with float32 accuracy: a Taylor series near 0 (relative accuracy where erf is small), Numerical
// Recipes' erfc Chebyshev fit (fractional error below 1.2e-7) elsewhere.
fn gw_erf(x: f32) -> f32 {
  if (gw_isnan(x)) { return x; }
  let a = abs(x);
  if (a < 0.5) {
    let z = a * a;
    let s = a * (1.1283791671 + z * (-0.3761263890 + z * (0.1128379167 + z * (-0.0268661706 +
      z * (0.0052239776 + z * (-0.0008548327 + z * 0.0001205533))))));
    return select(s, -s, x < 0.0);
  }
  let t = 1.0 / (1.0 + 0.5 * a);
  let erfc = t * gw_exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  let r = 1.0 - erfc;
  return select(r, -r, x < 0.0);
}
// Both branches avoid exp overflow, so sigmoid(+-1000) is exactly 1 or 0 rather than NaN.
fn gw_sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + gw_exp(-x)); }
  let e = gw_exp(x);
  return e / (1.0 + e);
}
`;

/**
 * An op declaration's WGSL with the builtins WGSL leaves imprecise or undefined at edges (log, sqrt, tanh)
 * routed through the prelude's versions, which give C's and torch's answers.
 */
export function withSafeBuiltins(expr: string): string {
  return expr.replace(/(?<![\w.])(log|sqrt|tanh)\(/g, "gw_$1(");
}

/** The WGSL expression of an internal elementwise function, from its argument expressions. */
export function exprWgsl(name: ExprName, a: string[]): string {
  return withSafeBuiltins(rawExpr(name, a));
}

function rawExpr(name: ExprName, a: string[]): string {
  switch (name) {
    case "lse_shift":
      return wgslOf(LOGSUMEXP.shift, {}, { x: a[0], m: a[1] });
    case "lse_finish":
      return wgslOf(LOGSUMEXP.finish, {}, { s: a[0], m: a[1] });
  }
}
