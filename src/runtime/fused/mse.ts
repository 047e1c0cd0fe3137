/**
 * mse_loss as one op, as torch has it (grad_fn MseLossBackward0), instead of sub -> pow -> mean: the forward
 * computes each (input - target)^2 in one pass and reduces it with the same sum/mean; the backward computes
 * each input's gradient in one pass, without materialising the spread loss gradient or the difference. The
 * formulas are mse_loss's declaration (POINTWISE_LOSSES.mse_loss), evaluated op for op in the dtype, or as
 * SIMD expressions; while tracing for WebGPU the loss is the declared pointwise op, then a traced reduction.
 *
 * Every value equals the composition's bit for bit: the difference is rounded to the dtype before squaring
 * (as storing sub's result does), the square is rounded on store, the reduction's gradient is the gradient
 * table's (VJP.mean: g / n rounded; VJP.sum: g), and the input's gradient is that times 2 * difference,
 * rounded once; the target's is its negation.
 */
import { isGradEnabled, noGrad, record } from "../autograd.ts";
import { allocate } from "../dtype.ts";
import { formulaLoop, simdOf } from "../ops/formula.ts";
import { mean, sum } from "../ops/reduce.ts";
import {
  GRAD_VARS,
  LOSS_VARS,
  POINTWISE_LOSSES,
  pointwiseLoss,
  scalarGradOps,
  stepMode,
} from "../pointwise-loss.ts";
import { sameShape } from "../shape.ts";
import { deferredTorchSum, E, exprOf, fusable, lazyTensor } from "../simd/lazy.ts";
import { Tensor } from "../tensor.ts";
import { isTracing } from "../trace.ts";
import { VJP } from "../vjp.ts";

const MSE = POINTWISE_LOSSES.mse_loss;

/**
 * The loops of the loss and its gradients in one rounding mode, resolved once: a 12-point loss runs them every
 * few microseconds. `scalar`: the loss gradient is one number (a reduced loss) rather than an array.
 */
const loopsByMode = new Map<string, ReturnType<typeof makeLoops>>();
function makeLoops(mode: ReturnType<typeof stepMode>) {
  const grad = (f: typeof MSE.dInput, scalar: boolean) =>
    formulaLoop(f, GRAD_VARS, [scalar, false, false, true, true], mode, {});
  return {
    loss: formulaLoop(MSE.loss, LOSS_VARS, [false, false, true, true], mode, {}),
    dInput: [grad(MSE.dInput, false), grad(MSE.dInput, true)],
    dTarget: [grad(MSE.dTarget, false), grad(MSE.dTarget, true)],
  };
}
function loopsOf(mode: ReturnType<typeof stepMode>) {
  let l = loopsByMode.get(mode);
  if (!l) {
    l = makeLoops(mode);
    loopsByMode.set(mode, l);
  }
  return l;
}

/** The loss gradient each element sees under `reduction` (sum or mean), by the gradient table's rule. */
function reducedGrad(g: Tensor, input: Tensor, reduction: "sum" | "mean"): number {
  const o = scalarGradOps(input.dtype);
  const dims = allDims(input.shape.length);
  return reduction === "mean"
    ? VJP.mean(o, g.data[0], input.shape, dims)
    : VJP.sum(o, g.data[0], input.shape, dims);
}
/** [0, 1, ..., rank - 1], made once per rank: a 12-point loss runs its backward every few microseconds. */
const ALL_DIMS: number[][] = [];
function allDims(rank: number): readonly number[] {
  ALL_DIMS[rank] ??= Array.from({ length: rank }, (_, i) => i);
  return ALL_DIMS[rank];
}

/** The fused loss, or null where the composition must run (broadcasting, mixed or other dtypes). */
export function fusedMseLoss(input: Tensor, target: Tensor, reduction: string): Tensor | null {
  const dtype = input.dtype;
  if (dtype !== target.dtype || (dtype !== "float32" && dtype !== "float64")) return null;
  if (!sameShape(input.shape, target.shape)) return null;
  if (reduction !== "none" && reduction !== "sum" && reduction !== "mean") return null;
  if (isTracing()) {
    const squares = pointwiseLoss(MSE, input, target, null);
    return reduction === "none" ? squares : reduction === "sum" ? sum(squares) : mean(squares);
  }
  if (dtype === "float32" && fusable(dtype, input.numel)) return simdMseLoss(input, target, reduction);
  const I = input.data;
  const T = target.data;
  const n = I.length;
  const S = allocate(dtype, n);
  const loops = loopsOf(stepMode(dtype));
  loops.loss([I, T, 1, 1], S, n);
  const squares = new Tensor(S, input.shape, dtype);
  const out =
    reduction === "none" ? squares : noGrad(() => (reduction === "sum" ? sum(squares) : mean(squares)));
  if (!isGradEnabled() || !(input.requiresGrad || target.requiresGrad)) return out;
  return record(out, MSE.gradName, [input, target], (g) => {
    const spread = reduction === "none";
    const operands = [spread ? g.data : reducedGrad(g, input, reduction), I, T, 1, 1];
    let gi: Tensor | null = null;
    let gt: Tensor | null = null;
    if (input.requiresGrad) {
      gi = new Tensor(allocate(dtype, n), input.shape, dtype);
      loops.dInput[spread ? 0 : 1](operands, gi.data, n);
    }
    if (target.requiresGrad) {
      gt = new Tensor(allocate(dtype, n), target.shape, dtype);
      loops.dTarget[spread ? 0 : 1](operands, gt.data, n);
    }
    return [gi, gt];
  });
}

/**
 * The same loss on the SIMD vector machine: the forward is one fused pass (the differences, their squares and
 * torch's float32 sum) and the gradients are lazy expressions, so a lazy input (w * x + b) is never written
 * out in full. Float32 ops round exactly as the loops above store, so every value is the same.
 */
function simdMseLoss(input: Tensor, target: Tensor, reduction: "none" | "sum" | "mean"): Tensor {
  const n = input.numel;
  const operands = { x: exprOf(input), t: exprOf(target) };
  const squares = simdOf(MSE.loss, operands, {}) as E.Expr;
  let out: Tensor;
  if (reduction === "none") out = lazyTensor(squares, input.shape);
  // Computed with the parameters' gradients in one pass when those are fused too (deferred.ts).
  else out = deferredTorchSum(squares, n, [], (s) => (reduction === "mean" ? s / n : s));
  if (!isGradEnabled() || !(input.requiresGrad || target.requiresGrad)) return out;
  return record(out, MSE.gradName, [input, target], (g) => {
    const scale = reduction === "none" ? exprOf(g) : E.constant(reducedGrad(g, input, reduction));
    const grad = (f: typeof MSE.dInput) => simdOf(f, { ...operands, g: scale }, {}) as E.Expr;
    return [
      input.requiresGrad ? lazyTensor(grad(MSE.dInput), input.shape) : null,
      target.requiresGrad ? lazyTensor(grad(MSE.dTarget), target.shape) : null,
    ];
  });
}
