/**
 * Unary ops' CPU loops: the forward and gradient loops generated from the op's formulas (ops/formula.ts),
 * monomorphic, so they skip a per-element closure call. Float32 storage (float32 and float16) runs the float32
 * form, in which tanh is its float32 breakdown (the SIMD kernels' operations); float64 and integers run float64.
 */
import { allocate, type DType, finishStorage } from "../dtype.ts";
import type { JsKernels } from "../ops/formula.ts";
import { Tensor } from "../tensor.ts";

/** Run the forward loop into a fresh tensor of `dtype` shaped like x (halves rounded after, as mapUnary does). */
export function runUnary(k: JsKernels, x: Tensor, dtype: DType): Tensor {
  const src = x.data;
  const out = allocate(dtype, src.length);
  k.fwdLoop(out instanceof Float32Array ? "f32" : "f64")(src, out, src.length);
  return new Tensor(finishStorage(dtype, out), x.shape, dtype);
}

/** The gradient into a tensor of g's dtype, or null when the operands are not all the output's size. */
export function runUnaryGrad(k: JsKernels, g: Tensor, x: Tensor, y: Tensor): Tensor | null {
  const n = y.data.length;
  if (g.data.length !== n || x.data.length !== n) return null;
  const out = allocate(g.dtype, n);
  k.gradLoop(out instanceof Float32Array ? "f32" : "f64")(g.data, x.data, y.data, out, n);
  return new Tensor(finishStorage(g.dtype, out), y.shape, g.dtype);
}
