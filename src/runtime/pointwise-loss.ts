/**
 * Losses computed element by element whose gradient PyTorch computes with its own formula (not that of a
 * composition of primitive ops): each is declared once here, as formulas for the loss and for g times its
 * derivatives, op for op as torch's kernels compute them, in the one formula language of the elementwise ops
 * (ops/formula.ts). From the one declaration come the CPU forward and backward (generated loops in the
 * input's dtype, each op rounded as torch stores it), the fused SIMD expressions (simdOf) and, through the trace event "pointwise_loss" and the GPU IR's typed `pointwise_loss` op, the
 * WebGPU kernels and their gradients (src/gpu renders the same formulas as WGSL).
 */
import { record } from "./autograd.ts";
import { allocate, type DType, roundHalf } from "./dtype.ts";
import { logSigmoidOf } from "./ops/elementwise.ts";
import * as F from "./ops/formula.ts";
import { Tensor } from "./tensor.ts";
import { traceOp } from "./trace.ts";
import type { GradOps } from "./vjp.ts";

/**
 * The loss's operands, as formula variables: x (input), t (target), w (weight, 1 when absent) and, in
 * gradients, g (the gradient reaching the element's loss); the number param (beta, delta) is attribute p.
 */
const { x, g } = F;
const t = F.v("t");
const w = F.v("w");
/** binary_cross_entropy_with_logits's pos_weight (1 when absent). */
const pw = F.v("pw");
const p = F.attr("p");
/** The variables a loss part reads, in the order of its operands (loss: x, t, w, pw; gradients: g first). */
export const LOSS_VARS = ["x", "t", "w", "pw"] as const;
export const GRAD_VARS = ["g", "x", "t", "w", "pw"] as const;

export interface PointwiseLoss {
  /** torch's name, also the trace event's and the GPU op's key. */
  readonly name: PointwiseLossName;
  /** torch's grad_fn name. */
  readonly gradName: string;
  readonly loss: F.F;
  /** g * d(loss)/d(input). */
  readonly dInput: F.F;
  /** g * d(loss)/d(target). */
  readonly dTarget: F.F;
}

export type PointwiseLossName =
  | "mse_loss"
  | "binary_cross_entropy"
  | "binary_cross_entropy_with_logits"
  | "binary_cross_entropy_with_logits_pos_weight"
  | "smooth_l1_loss"
  | "huber_loss"
  | "nll_loss";
export type LossPart = "loss" | "dInput" | "dTarget";

const diff = F.sub(x, t);
const rdiff = F.sub(t, x);
const absDiff = F.abs(diff);
const half = 0.5;

/**
 * smooth_l1_loss's and huber_loss's backward as torch's kernel computes it, for the input with d = x - t and
 * for the target with d = t - x: `below` where d <= -p, `above` where d >= p, `inner` in between.
 */
function piecewiseGrad(d: F.F, below: F.F, above: F.F, inner: F.F): F.F {
  return F.sel(F.le(d, F.neg(p)), below, F.sel(F.le(p, d), above, inner));
}
const mseGrad = F.mul(g, F.mul(2, diff));

/** torch's EPSILON in the binary_cross_entropy gradient is 1e-12 as a float32 (9.99999996e-13), in every dtype. */
const BCE_EPSILON = Math.fround(1e-12);
const oneMinusX = F.sub(1, x);

/**
 * binary_cross_entropy_with_logits's pieces as torch 1.13's kernel (Loss.cpp) computes them: max_val =
 * (-x).clamp_min(0) and log(exp(-max_val) + exp(-x - max_val)), which never exponentiates a large number.
 */
const maxVal = F.max(F.neg(x), 0);
const logSumExp = F.log(F.add(F.exp(F.neg(maxVal)), F.exp(F.sub(F.neg(x), maxVal))));
const oneMinusT = F.sub(1, t);
const posT = F.mul(pw, t);

export const POINTWISE_LOSSES: { readonly [K in PointwiseLossName]: PointwiseLoss & { name: K } } = {
  /** (x - t)^2; the gradient g * 2 (x - t), the target's its negation (MseLossBackward0). */
  mse_loss: {
    name: "mse_loss",
    gradName: "MseLossBackward0",
    loss: F.mul(diff, diff),
    dInput: mseGrad,
    dTarget: F.mul(mseGrad, -1),
  },
  /** torch's kernels: 0.5 z z / beta below beta, z - 0.5 beta above (z = |x - t|); the gradient d / beta g. */
  smooth_l1_loss: {
    name: "smooth_l1_loss",
    gradName: "SmoothL1LossBackward0",
    loss: F.sel(
      F.lt(absDiff, p),
      F.div(F.mul(F.mul(half, absDiff), absDiff), p),
      F.sub(absDiff, F.mul(half, p)),
    ),
    dInput: piecewiseGrad(diff, F.neg(g), g, F.mul(F.div(diff, p), g)),
    dTarget: piecewiseGrad(rdiff, F.neg(g), g, F.mul(F.div(rdiff, p), g)),
  },
  /** torch's kernels: 0.5 z z below delta, delta (z - 0.5 delta) above (z = |x - t|); the gradient d g. */
  huber_loss: {
    name: "huber_loss",
    gradName: "HuberLossBackward0",
    loss: F.sel(
      F.lt(absDiff, p),
      F.mul(F.mul(half, absDiff), absDiff),
      F.mul(p, F.sub(absDiff, F.mul(half, p))),
    ),
    dInput: piecewiseGrad(diff, F.mul(F.neg(g), p), F.mul(g, p), F.mul(diff, g)),
    dTarget: piecewiseGrad(rdiff, F.mul(F.neg(g), p), F.mul(g, p), F.mul(rdiff, g)),
  },
  /**
   * torch's kernel: ((t - 1) max(log(1 - x), -100) - t max(log(x), -100)) w, in the input's dtype. log(1 - x),
   * not log1p(-x): for x below float32's epsilon torch's loss is exactly 0. The gradient is torch's
   * g (x - t) / max((1 - x) x, 1e-12) w, the target's -logit(x) g w (unclamped: infinite at x = 0 or 1).
   */
  binary_cross_entropy: {
    name: "binary_cross_entropy",
    gradName: "BinaryCrossEntropyBackward0",
    loss: F.mul(F.sub(F.mul(F.sub(t, 1), F.max(F.log(oneMinusX), -100)), F.mul(t, F.max(F.log(x), -100))), w),
    dInput: F.mul(F.div(F.mul(g, F.sub(x, t)), F.max(F.mul(oneMinusX, x), BCE_EPSILON)), w),
    dTarget: F.mul(F.mul(F.neg(F.log(F.div(x, oneMinusX))), g), w),
  },
  /**
   * torch's kernel without pos_weight: ((1 - t) x + max_val + log(exp(-max_val) + exp(-x - max_val))) w; the
   * gradient (sigmoid(x) - t) g w, the target's -x g w (binary_cross_entropy_with_logits_backward and
   * _target_backward).
   */
  binary_cross_entropy_with_logits: {
    name: "binary_cross_entropy_with_logits",
    gradName: "BinaryCrossEntropyWithLogitsBackward0",
    loss: F.mul(F.add(F.add(F.mul(oneMinusT, x), maxVal), logSumExp), w),
    dInput: F.mul(F.mul(F.sub(F.sigmoidF(x), t), g), w),
    dTarget: F.mul(F.mul(F.neg(x), g), w),
  },
  /**
   * The same loss with pos_weight, which torch computes in another order: (1 - t) x + lw (log(...) + max_val)
   * with lw = (pw - 1) t + 1; the gradient ((pw t + 1 - t) sigmoid(x) - pw t) g w, the target's
   * (log_sigmoid(-x) - log_sigmoid(x) pw) g w, log_sigmoid as declared (ops/elementwise.ts).
   */
  /**
   * nll_loss per target, over the score x its target picks (losses.ts's nllPicks, shared with the GPU) and the
   * class weight w: -(x w); the gradient -g w, g being g / total_weight for the mean (each step rounded as
   * torch's nll_loss_backward). The target holds class indices and has no gradient.
   */
  nll_loss: {
    name: "nll_loss",
    gradName: "NllLossBackward0",
    loss: F.neg(F.mul(x, w)),
    dInput: F.mul(w, F.neg(g)),
    dTarget: F.num(0),
  },
  binary_cross_entropy_with_logits_pos_weight: {
    name: "binary_cross_entropy_with_logits_pos_weight",
    gradName: "BinaryCrossEntropyWithLogitsBackward0",
    loss: F.mul(
      F.add(F.mul(oneMinusT, x), F.mul(F.add(F.mul(F.sub(pw, 1), t), 1), F.add(logSumExp, maxVal))),
      w,
    ),
    dInput: F.mul(F.mul(F.sub(F.mul(F.sub(F.add(posT, 1), t), F.sigmoidF(x)), posT), g), w),
    dTarget: F.mul(F.mul(F.sub(logSigmoidOf(F.neg(x)), F.mul(logSigmoidOf(x), pw)), g), w),
  },
};

const exact = (x: number): number => x;

export function storeRounding(dtype: DType): (x: number) => number {
  if (dtype === "float32") return Math.fround;
  if (dtype === "float16") return roundHalf;
  return exact;
}

/**
 * The gradient table's operations (vjp.ts) on the one number a reduced loss's gradient is, for its rules
 * (VJP.mean, VJP.sum, VJP.weightedMean): reshaping and spreading it are left to the loops, which read it at
 * every element; a quotient is rounded as storing it in the dtype rounds it.
 */
export function scalarGradOps(dtype: DType): Pick<GradOps<number>, "reshape" | "expand" | "divScalar"> {
  let o = scalarOps.get(dtype);
  if (!o) {
    const R = storeRounding(dtype);
    o = { reshape: (t) => t, expand: (t) => t, divScalar: (t, v) => R(t / v) };
    scalarOps.set(dtype, o);
  }
  return o;
}
const scalarOps = new Map<DType, Pick<GradOps<number>, "reshape" | "expand" | "divScalar">>();

/** The formula's loop mode for a dtype: each step rounded as torch stores it in that dtype. */
export function stepMode(dtype: DType): F.JsMode {
  if (dtype === "float32") return "step32";
  if (dtype === "float16") return "step16";
  return "f64";
}

/**
 * A pointwise loss, unreduced: input, target, weight and pos_weight (null: 1) of the input's shape (the
 * caller expands them). The backward evaluates the same declaration's gradients in the gradient's dtype.
 */
export function pointwiseLoss(
  spec: PointwiseLoss,
  input: Tensor,
  target: Tensor,
  weight: Tensor | null,
  p = 0,
  posWeight: Tensor | null = null,
): Tensor {
  const operands = [input.data, target.data, weight ? weight.data : 1, posWeight ? posWeight.data : 1];
  const scalar = [false, false, !weight, !posWeight];
  /** The formula at every element, in `dtype`, with g read from `g` (the forward: none). */
  const run = (f: F.F, dtype: DType, g: Tensor | null): Tensor => {
    const out = allocate(dtype, input.numel);
    const mode = stepMode(dtype);
    if (g)
      F.formulaLoop(f, GRAD_VARS, [false, ...scalar], mode, { p })([g.data, ...operands], out, out.length);
    else F.formulaLoop(f, LOSS_VARS, scalar, mode, { p })(operands, out, out.length);
    return new Tensor(out, input.shape, dtype);
  };
  const result = record(run(spec.loss, input.dtype, null), spec.gradName, [input, target], (g) => [
    input.requiresGrad ? run(spec.dInput, g.dtype, g) : null,
    target.requiresGrad ? run(spec.dTarget, g.dtype, g) : null,
  ]);
  return traceOp("pointwise_loss", [input, target, weight, posWeight], { loss: spec.name, p }, result);
}
