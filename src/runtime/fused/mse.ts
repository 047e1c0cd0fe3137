/**
 * mse_loss as one op, as torch has it (grad_fn MseLossBackward0), instead of sub -> pow -> mean: the forward
 * computes each (input - target)^2 in one pass and reduces it with the same sum/mean; the backward computes
 * each input's gradient in one pass, without materialising the spread loss gradient or the difference.
 *
 * Every value equals the composition's bit for bit: the difference is rounded to the dtype before squaring
 * (as storing sub's result does), the square is rounded on store, the mean's gradient is g / n rounded, and
 * the input's gradient is that times 2 * difference, rounded once; the target's is its negation.
 */
import { isGradEnabled, noGrad, record } from "../autograd.ts";
import { allocate } from "../dtype.ts";
import { mean, sum } from "../ops/reduce.ts";
import { sameShape } from "../shape.ts";
import { deferredTorchSum, E, exprOf, fusable, lazyTensor } from "../simd/lazy.ts";
import { Tensor } from "../tensor.ts";
import { isTracing } from "../trace.ts";

/** The fused loss, or null where the composition must run (tracing, broadcasting, mixed or other dtypes). */
export function fusedMseLoss(input: Tensor, target: Tensor, reduction: string): Tensor | null {
  const dtype = input.dtype;
  if (isTracing() || dtype !== target.dtype || (dtype !== "float32" && dtype !== "float64")) return null;
  if (!sameShape(input.shape, target.shape)) return null;
  if (reduction !== "none" && reduction !== "sum" && reduction !== "mean") return null;
  if (dtype === "float32" && fusable(dtype, input.numel)) return simdMseLoss(input, target, reduction);
  const f32 = dtype === "float32";
  const I = input.data;
  const T = target.data;
  const n = I.length;
  const S = allocate(dtype, n);
  if (f32)
    for (let i = 0; i < n; i++) {
      const d = Math.fround(I[i] - T[i]);
      S[i] = d * d;
    }
  else
    for (let i = 0; i < n; i++) {
      const d = I[i] - T[i];
      S[i] = d * d;
    }
  const squares = new Tensor(S, input.shape, dtype);
  const out =
    reduction === "none" ? squares : noGrad(() => (reduction === "sum" ? sum(squares) : mean(squares)));
  if (!isGradEnabled() || !(input.requiresGrad || target.requiresGrad)) return out;
  return record(out, "MseLossBackward0", [input, target], (g) => {
    const G = g.data;
    const gx = allocate(dtype, n);
    // The loss gradient each element sees: g / n for mean (rounded, as mean's backward stores it), g for sum.
    const scalar = reduction === "mean" ? (f32 ? Math.fround(G[0] / n) : G[0] / n) : G[0];
    if (f32) {
      if (reduction === "none") for (let i = 0; i < n; i++) gx[i] = G[i] * (2 * Math.fround(I[i] - T[i]));
      else for (let i = 0; i < n; i++) gx[i] = scalar * (2 * Math.fround(I[i] - T[i]));
    } else if (reduction === "none") for (let i = 0; i < n; i++) gx[i] = G[i] * (2 * (I[i] - T[i]));
    else for (let i = 0; i < n; i++) gx[i] = scalar * (2 * (I[i] - T[i]));
    let gt: Tensor | null = null;
    if (target.requiresGrad) {
      const neg = allocate(dtype, n);
      for (let i = 0; i < n; i++) neg[i] = gx[i] * -1;
      gt = new Tensor(neg, target.shape, dtype);
    }
    return [input.requiresGrad ? new Tensor(gx, input.shape, dtype) : null, gt];
  });
}

/**
 * The same loss on the SIMD vector machine: the forward is one fused pass (the differences, their squares and
 * torch's float32 sum) and the gradients are lazy expressions, so a lazy input (w * x + b) is never written
 * out in full. Float32 ops round exactly as the loops above store, so every value is the same.
 */
function simdMseLoss(input: Tensor, target: Tensor, reduction: "none" | "sum" | "mean"): Tensor {
  const n = input.numel;
  const diff = E.binary("sub", exprOf(input), exprOf(target));
  const squares = E.binary("mul", diff, diff);
  let out: Tensor;
  if (reduction === "none") out = lazyTensor(squares, input.shape);
  // Computed with the parameters' gradients in one pass when those are fused too (deferred.ts).
  else out = deferredTorchSum(squares, n, [], (s) => (reduction === "mean" ? s / n : s));
  if (!isGradEnabled() || !(input.requiresGrad || target.requiresGrad)) return out;
  return record(out, "MseLossBackward0", [input, target], (g) => {
    // g / n rounded for mean (as mean's backward stores it), g for sum, the spread gradient for none; times
    // 2 * difference (exact in float32), rounded once.
    const scale =
      reduction === "none"
        ? exprOf(g)
        : E.constant(reduction === "mean" ? Math.fround(g.data[0] / n) : g.data[0]);
    const gx = E.binary("mul", scale, E.binary("mul", E.constant(2), diff));
    return [
      input.requiresGrad ? lazyTensor(gx, input.shape) : null,
      target.requiresGrad ? lazyTensor(E.binary("mul", gx, E.constant(-1)), target.shape) : null,
    ];
  });
}
