/**
 * The formulas of the reductions that transform before or after they accumulate: the p-norm and logsumexp.
 * Declared once here in the formula language (formula.ts); the CPU (ops/reduce.ts, float64 accumulation) and
 * the WebGPU reduction kernels (gpu/codegen.ts, gpu/wgsl.ts) both generate their code from these.
 */

import type { F } from "./formula.ts";
import * as f from "./formula.ts";

export interface NormSpec {
  /** "max" for p = inf (the NaN-propagating maximum), else a sum. */
  readonly combine: "sum" | "max";
  /** Each element's contribution, from x; attribute p. */
  readonly pre: F;
  /** The norm from the accumulated s; attribute p. */
  readonly finish: F;
}

const s = f.v("s");
const p = f.attr("p");

/** torch.linalg.vector_norm's p-norm: sum(|x|^p)^(1/p), with p = 1, 2 and inf without the powers. */
export function normSpec(order: number): NormSpec {
  if (order === Number.POSITIVE_INFINITY) return { combine: "max", pre: f.abs(f.x), finish: s };
  if (order === 2) return { combine: "sum", pre: f.mul(f.x, f.x), finish: f.sqrt(s) };
  if (order === 1) return { combine: "sum", pre: f.abs(f.x), finish: s };
  return { combine: "sum", pre: f.pow(f.abs(f.x), p), finish: f.pow(s, f.div(1, p)) };
}

const m = f.v("m");
/**
 * logsumexp = log(sum(exp(x - m))) + m with m the max over the reduced dims. Where m is infinite the shift
 * would give NaN: an element equal to m counts 1 (so a lane of +inf gives +inf, of -inf gives -inf).
 */
export const LOGSUMEXP = {
  /** Each element's term, from x and m. */
  shift: f.sel(f.isfinite(m), f.exp(f.sub(f.x, m)), f.sel(f.eq(f.x, m), 1, 0)),
  /** The result from the sum s and m. */
  finish: f.sel(f.isfinite(m), f.add(f.log(s), m), m),
} as const;
