/**
 * Loss functions with torch.nn.functional's names, arguments, defaults and numerics. Most are compositions
 * of primitive ops (so their gradients and GPU kernels come for free); binary_cross_entropy and mse_loss are
 * declared once as pointwise losses (pointwise-loss.ts) and nll_loss is a primitive of its own, because torch's
 * gradients there are not those of the naive composition.
 */
import { record } from "./autograd.ts";
import { allocate, type DType, isFloating } from "./dtype.ts";
import { fusedMseLoss } from "./fused/mse.ts";
import { type F, formulaLoop } from "./ops/formula.ts";
import * as O from "./ops/index.ts";
import {
  GRAD_VARS,
  POINTWISE_LOSSES,
  pointwiseLoss,
  scalarGradOps,
  stepMode,
  storeRounding,
} from "./pointwise-loss.ts";
import { broadcastShapes, fmtShape, numel, ShapeError } from "./shape.ts";
import { fromFlat, Tensor } from "./tensor.ts";
import { traceOp } from "./trace.ts";
import { VJP } from "./vjp.ts";

export type Reduction = "none" | "mean" | "sum";
export const REDUCTIONS: readonly Reduction[] = ["none", "mean", "sum"];

export class LossError extends Error {
  override name = "LossError";
}

function checkReduction(r: string): Reduction {
  if (!(REDUCTIONS as readonly string[]).includes(r))
    throw new LossError(`'${r}' is not a valid value for reduction (expected one of 'none', 'mean', 'sum')`);
  return r as Reduction;
}

function reduce(x: Tensor, reduction: string): Tensor {
  const r = checkReduction(reduction);
  return r === "none" ? x : r === "sum" ? O.sum(x) : O.mean(x);
}

function checkFloatInput(what: string, input: Tensor): void {
  if (!isFloating(input.dtype))
    throw new LossError(`${what}: input must be a floating point tensor, got ${input.dtype}`);
}

export interface ReductionOpts {
  reduction?: Reduction | string;
}

/** `F.l1_loss`: mean |input - target|; the gradient at a tie is 0 (sign(0)), as torch's. */
export function l1Loss(input: Tensor, target: Tensor, opts: ReductionOpts = {}): Tensor {
  return reduce(O.abs(O.sub(input, target)), opts.reduction ?? "mean");
}

/** `F.mse_loss`. */
export function mseLoss(input: Tensor, target: Tensor, opts: ReductionOpts = {}): Tensor {
  const reduction = opts.reduction ?? "mean";
  return fusedMseLoss(input, target, reduction) ?? reduce(O.pow(O.sub(input, target), 2), reduction);
}

/** `F.smooth_l1_loss(beta=1.0)`: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta; beta = 0 is l1. */
export function smoothL1Loss(
  input: Tensor,
  target: Tensor,
  opts: ReductionOpts & { beta?: number } = {},
): Tensor {
  const beta = opts.beta ?? 1;
  if (beta < 0) throw new LossError(`smooth_l1_loss does not support negative values for beta (got ${beta})`);
  // torch: beta = 0 is l1_loss.
  if (beta === 0) return l1Loss(input, target, opts);
  const [x, t] = floatPair("smooth_l1_loss", input, target);
  return reduce(pointwiseLoss(POINTWISE_LOSSES.smooth_l1_loss, x, t, null, beta), opts.reduction ?? "mean");
}

/** Input and target broadcast to one shape in their common floating dtype, as torch's loss kernels read them. */
function floatPair(what: string, input: Tensor, target: Tensor): [Tensor, Tensor] {
  const dtype = O.promote(input, target);
  if (!isFloating(dtype)) throw new LossError(`${what}: not implemented for integer tensors (${dtype})`);
  const shape = broadcastShapes(what, input.shape, target.shape);
  return [O.expand(O.cast(input, dtype), shape), O.expand(O.cast(target, dtype), shape)];
}

/** `F.huber_loss(delta=1.0)`: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta). */
export function huberLoss(
  input: Tensor,
  target: Tensor,
  opts: ReductionOpts & { delta?: number } = {},
): Tensor {
  const delta = opts.delta ?? 1;
  if (!(delta > 0))
    throw new LossError(`huber_loss does not support non-positive values for delta (got ${delta})`);
  const [x, t] = floatPair("huber_loss", input, target);
  return reduce(pointwiseLoss(POINTWISE_LOSSES.huber_loss, x, t, null, delta), opts.reduction ?? "mean");
}

export interface WeightOpts extends ReductionOpts {
  weight?: Tensor | null;
}

/**
 * `F.binary_cross_entropy`: -w (t log x + (1 - t) log(1 - x)), each log clamped at -100 as torch does, so
 * x = 0 or 1 gives a finite loss; the gradient is torch's (declared in pointwise-loss.ts).
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, opts: WeightOpts = {}): Tensor {
  checkFloatInput("binary_cross_entropy", input);
  if (numel(input.shape) !== numel(target.shape) || input.ndim !== target.ndim)
    throw new LossError(
      `binary_cross_entropy: using a target size (${fmtShape(target.shape)}) that is different to the input size (${fmtShape(input.shape)}) is not allowed`,
    );
  for (let i = 0; i < input.numel; i++) {
    const v = input.data[i];
    if (!(v >= 0 && v <= 1))
      throw new LossError(
        `binary_cross_entropy: all elements of input should be between 0 and 1 (element ${i} is ${v}); apply a sigmoid first or use binary_cross_entropy_with_logits`,
      );
  }
  const w = opts.weight ? O.expand(O.cast(opts.weight, input.dtype), input.shape) : null;
  const elementwise = pointwiseLoss(
    POINTWISE_LOSSES.binary_cross_entropy,
    input,
    O.cast(target, input.dtype),
    w,
  );
  return reduce(elementwise, opts.reduction ?? "mean");
}

/**
 * `F.binary_cross_entropy_with_logits`, declared once with torch's numerics (pointwise-loss.ts): the
 * max_val / log(exp(-max_val) + exp(-x - max_val)) form, stable for logits of any size, and torch's gradients.
 */
export function binaryCrossEntropyWithLogits(
  input: Tensor,
  target: Tensor,
  opts: WeightOpts & { pos_weight?: Tensor | null } = {},
): Tensor {
  checkFloatInput("binary_cross_entropy_with_logits", input);
  assertSameShape(input, target, "binary_cross_entropy_with_logits");
  const reduction = checkReduction(opts.reduction ?? "mean");
  const spread = (v: Tensor | null | undefined) => (v ? O.expand(O.cast(v, input.dtype), input.shape) : null);
  const pw = spread(opts.pos_weight);
  const spec = pw
    ? POINTWISE_LOSSES.binary_cross_entropy_with_logits_pos_weight
    : POINTWISE_LOSSES.binary_cross_entropy_with_logits;
  const loss = pointwiseLoss(spec, input, O.cast(target, input.dtype), spread(opts.weight), 0, pw);
  return reduce(loss, reduction);
}

export interface NllOpts extends WeightOpts {
  ignore_index?: number;
}

function classDimOf(input: Tensor): number {
  return input.ndim === 1 ? 0 : 1;
}

/** Checks (N, C, d1...) input against (N, d1...) class-index targets and returns the class count. */
function checkClassTargets(what: string, input: Tensor, target: Tensor, ignoreIndex: number): number {
  // torch takes class indices as int64 only ("expected scalar type Long"), so int32 is refused here too.
  if (target.dtype !== "int64")
    throw new LossError(
      `${what}: expected target of an integer dtype (class indices, int64), got ${target.dtype}`,
    );
  const cd = classDimOf(input);
  const expected = input.shape.filter((_, i) => i !== cd);
  if (target.ndim !== expected.length || target.shape.some((d, i) => d !== expected[i]))
    throw new LossError(
      `${what}: expected target of shape ${fmtShape(expected)} for input of shape ${fmtShape(input.shape)}, got ${fmtShape(target.shape)}`,
    );
  const C = input.shape[cd];
  for (let i = 0; i < target.numel; i++) {
    const c = target.data[i];
    if (c !== ignoreIndex && (c < 0 || c >= C))
      throw new LossError(`${what}: Target ${c} is out of bounds (${C} classes, element ${i})`);
  }
  return C;
}

const NLL = POINTWISE_LOSSES.nll_loss;

/**
 * `F.nll_loss(input, target, weight=None, ignore_index=-100, reduction='mean')` for inputs (C), (N, C) or
 * (N, C, d1, ...). The mean divides by the summed weights of the non-ignored targets, as torch does.
 */
export function nllLoss(input: Tensor, target: Tensor, opts: NllOpts = {}): Tensor {
  checkFloatInput("nll_loss", input);
  const ignore = opts.ignore_index ?? -100;
  const reduction = checkReduction(opts.reduction ?? "mean");
  const C = checkClassTargets("nll_loss", input, target, ignore);
  if (opts.weight && (opts.weight.ndim !== 1 || opts.weight.numel !== C))
    throw new LossError(
      `nll_loss: weight should be a 1-D tensor of ${C} elements (one per class), got ${fmtShape(opts.weight.shape)}`,
    );
  const w = opts.weight?.data;
  const { picks, weights } = nllPicks(input.shape, target.data, w, ignore);
  // The declared per-target loss -(x w) (pointwise-loss.ts), over the picked scores; ignored targets give 0.
  const n = picks.length;
  const picked = allocate(input.dtype, n);
  const scores = input.data;
  for (let k = 0; k < n; k++) picked[k] = picks[k] < 0 ? 0 : scores[picks[k]];
  const perTarget = (f: F, dtype: DType, g: ArrayLike<number> | number) => {
    const out = allocate(dtype, n);
    const loop = formulaLoop(
      f,
      GRAD_VARS,
      [typeof g === "number", false, true, !w, true],
      stepMode(dtype),
      {},
    );
    loop([g, picked, 0, w ? weights : 1, 1], out, n);
    for (let k = 0; k < n; k++) if (picks[k] < 0) out[k] = 0;
    return out;
  };
  const losses = perTarget(NLL.loss, input.dtype, 1);
  let value: Tensor;
  let totalWeight = 1;
  if (reduction === "none") value = new Tensor(losses, target.shape, input.dtype);
  else {
    const [s, tw] = nllCascade(picks, weights, losses, w !== undefined, storeRounding(input.dtype));
    totalWeight = tw;
    // torch: mean over zero total weight (all ignored) is nan.
    value = fromFlat([reduction === "sum" ? s : s / tw], [], input.dtype);
  }
  traceOp("nll_loss", [input, target, opts.weight ?? null], { ignore_index: ignore, reduction }, value);
  return record(value, NLL.gradName, [input], (g) => {
    // The loss's gradient each target sees: its own (none), g (sum), or g / total_weight rounded (mean).
    const gk =
      reduction === "none"
        ? g.data
        : reduction === "mean"
          ? VJP.weightedMean(scalarGradOps(g.dtype), g.data[0], totalWeight)
          : g.data[0];
    const d = perTarget(NLL.dInput, g.dtype, gk);
    // Placed, not added, as torch's nll_loss_backward writes it: a gradient of -0 (a zero class weight, a zero
    // g) stays -0, as torch's does; the other elements are +0.
    const gx = allocate(g.dtype, input.numel);
    for (let k = 0; k < n; k++) if (picks[k] >= 0) gx[picks[k]] = d[k];
    return [new Tensor(gx, input.shape, g.dtype)];
  });
}

/**
 * nll_loss's selection, shared by the CPU and the WebGPU lowering: for each target element (class indices of
 * (N, C, d1...) scores), the flat input offset it picks (-1 where ignored) and its class weight.
 */
export function nllPicks(
  inputShape: readonly number[],
  target: ArrayLike<number>,
  weight: ArrayLike<number> | undefined,
  ignore: number,
): { picks: Int32Array; weights: Float64Array } {
  const cd = inputShape.length === 1 ? 0 : 1;
  const C = inputShape[cd];
  const inner = numel(inputShape.slice(cd + 1));
  const N = inputShape.length === 1 ? 1 : inputShape[0];
  const picks = new Int32Array(target.length);
  const weights = new Float64Array(target.length);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < inner; i++) {
      const k = n * inner + i;
      const c = target[k];
      if (c === ignore) {
        picks[k] = -1;
        continue;
      }
      picks[k] = (n * C + c) * inner + i;
      weights[k] = weight ? weight[c] : 1;
    }
  return { picks, weights };
}

/**
 * nll_loss's sum and total weight in torch's order: the per-target losses summed in the input's dtype, pushed
 * up a cascade of 8 levels every 16 targets (torch's nll_loss_out_frame and nll_loss2d_forward_out_frame), so
 * float32 losses come out bit-identical. Ignored targets add nothing and skip the cascade step.
 */
function nllCascade(
  picks: Int32Array,
  weights: Float64Array,
  losses: ArrayLike<number>,
  weighted: boolean,
  R: (x: number) => number,
): [number, number] {
  const LEVELS = 8;
  const n = picks.length;
  const power = Math.max(4, Math.floor((n <= 2 ? 1 : 32 - Math.clz32(n - 1)) / LEVELS));
  const mask = 2 ** power - 1;
  const loss = new Float64Array(LEVELS);
  const wsum = new Float64Array(LEVELS);
  let ignored = 0;
  for (let k = 0; k < n; k++) {
    if (picks[k] < 0) {
      ignored++;
      continue;
    }
    // torch subtracts x w; adding the declared loss -(x w) rounds the same.
    loss[0] = R(loss[0] + losses[k]);
    if (weighted) wsum[0] = R(wsum[0] + weights[k]);
    for (let j = 0; j + 1 < LEVELS; j++) {
      if ((k & (mask * 2 ** (j * power))) !== 0) break;
      wsum[j + 1] = R(wsum[j + 1] + wsum[j]);
      loss[j + 1] = R(loss[j + 1] + loss[j]);
      wsum[j] = 0;
      loss[j] = 0;
    }
  }
  const fold = (a: Float64Array) => a.reduce((acc, v) => R(acc + v), 0);
  return [fold(loss), weighted ? fold(wsum) : n - ignored];
}

export interface CrossEntropyOpts extends NllOpts {
  label_smoothing?: number;
}

/**
 * `F.cross_entropy`: log_softmax over the class dim, then nll_loss for class-index targets, or
 * -sum(t * log p) for class-probability targets; label smoothing mixes in the uniform distribution.
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOpts = {}): Tensor {
  checkFloatInput("cross_entropy", input);
  const eps = opts.label_smoothing ?? 0;
  if (!(eps >= 0 && eps <= 1))
    throw new LossError(`cross_entropy: label_smoothing must be between 0.0 and 1.0, got ${eps}`);
  const reduction = checkReduction(opts.reduction ?? "mean");
  const cd = classDimOf(input);
  const C = input.shape[cd];
  const logp = O.logSoftmax(input, cd);
  const wShape = input.shape.map((d, i) => (i === cd ? d : 1));
  const w = opts.weight ? O.reshape(O.cast(opts.weight, input.dtype), wShape) : null;

  if (isFloating(target.dtype)) {
    if (target.ndim !== input.ndim || target.shape.some((d, i) => d !== input.shape[i]))
      throw new LossError(
        `cross_entropy: class-probability target must have the input's shape ${fmtShape(input.shape)}, got ${fmtShape(target.shape)}`,
      );
    const t = eps > 0 ? O.add(O.mul(target, 1 - eps), eps / C) : target;
    let prod = O.mul(logp, t);
    if (w) prod = O.mul(prod, w);
    const perSample = O.neg(O.sum(prod, cd));
    if (reduction === "none") return perSample;
    if (reduction === "sum") return O.sum(perSample);
    return O.div(O.sum(perSample), input.ndim === 1 ? 1 : numel(input.shape) / C);
  }

  const ignore = opts.ignore_index ?? -100;
  const nll = nllLoss(logp, target, { weight: opts.weight, ignore_index: ignore, reduction });
  if (eps === 0) return nll;
  checkClassTargets("cross_entropy", input, target, ignore);
  // Smoothing term: -sum_c w_c log p_c / C per sample, zero where the target is ignored.
  // Masked with where, as torch's masked_fill: an infinite mean weight (all ignored) gives 0, not 0 * inf.
  const smoothPer = O.where(O.ne(target, ignore), O.neg(O.sum(w ? O.mul(logp, w) : logp, cd)), 0);
  let smooth: Tensor;
  if (reduction === "none") smooth = smoothPer;
  else if (reduction === "sum") smooth = O.sum(smoothPer);
  else {
    let denom = 0;
    for (let k = 0; k < target.numel; k++) {
      const c = target.data[k];
      if (c !== ignore) denom += opts.weight ? opts.weight.data[c] : 1;
    }
    smooth = O.div(O.sum(smoothPer), denom);
  }
  return O.add(O.mul(nll, 1 - eps), O.mul(smooth, eps / C));
}

export interface KlDivOpts {
  reduction?: Reduction | "batchmean" | string;
  log_target?: boolean;
}

/**
 * `F.kl_div(input, target, reduction='mean', log_target=False)` with input as log-probabilities:
 * t (log t - input), 0 where t = 0; 'batchmean' divides the sum by the batch size as the KL definition needs.
 */
export function klDiv(input: Tensor, target: Tensor, opts: KlDivOpts = {}): Tensor {
  checkFloatInput("kl_div", input);
  const reduction = opts.reduction ?? "mean";
  let pointwise: Tensor;
  if (opts.log_target) pointwise = O.mul(O.exp(target), O.sub(target, input));
  else {
    pointwise = O.sub(O.xlogy(target, target), O.mul(target, input));
  }
  if (reduction === "batchmean")
    return input.ndim === 0 ? O.sum(pointwise) : O.div(O.sum(pointwise), input.shape[0]);
  return reduce(pointwise, reduction);
}

export function assertSameShape(a: Tensor, b: Tensor, what: string): void {
  if (a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i]))
    throw new ShapeError(
      `${what}: target size ${fmtShape(b.shape)} must be the same as input size ${fmtShape(a.shape)}`,
    );
}
