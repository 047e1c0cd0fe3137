/**
 * torch.nn.functional's batch_norm, layer_norm, group_norm, embedding and dropout, composed of runtime ops so
 * the CPU gradient, the WebGPU kernels and their gradients come from the ops' own declarations (nothing here
 * is written twice). The composition follows torch 1.13's CPU kernels' order of operations: statistics first,
 * then `x * scale + shift` with per-channel scale and shift (batch_norm_kernel.cpp, layer_norm_kernel.cpp,
 * group_norm_kernel.cpp). Where torch's kernels differ from the composition in float32 (they accumulate
 * batch_norm's statistics in double, contract `x * scale + shift` to one FMA, and take layer/group norm's
 * moments by Welford's method), the results differ by rounding only (about one float32 ulp of the terms).
 *
 * State torch updates in place (batch_norm's running statistics, embedding's max_norm renormalisation) is
 * written here too, and reported to the tracer as a "state_update" so a backend that replays the traced ops
 * (WebGPU) knows the program writes state it would not replay.
 */
import { applyFunction, type CustomFunction, noGrad } from "../autograd.ts";
import { allocate, type DType, isFloating, isIntegral } from "../dtype.ts";
import type { TorchGenerator } from "../random/index.ts";
import { fmtShape, ShapeError } from "../shape.ts";
import { fromFlat, type Tensor } from "../tensor.ts";
import { traceOp } from "../trace.ts";
import { applyBinary, applyUnary } from "./elementwise.ts";
import { indexSelect, reshape, transpose } from "./layout.ts";
import { matmul } from "./matmul.ts";
import { mean, norm, sum } from "./reduce.ts";

const add = (a: Tensor | number, b: Tensor | number) => applyBinary("add", a, b);
const sub = (a: Tensor | number, b: Tensor | number) => applyBinary("sub", a, b);
const mul = (a: Tensor | number, b: Tensor | number) => applyBinary("mul", a, b);
const div = (a: Tensor | number, b: Tensor | number) => applyBinary("div", a, b);

/** Rounds a computed value as the dtype stores it. */
function rounder(d: DType): (v: number) => number {
  return d === "float32" ? Math.fround : (v) => v;
}

/** 1 / sqrt(var + eps), in the tensor's dtype. */
function invStd(variance: Tensor, eps: number): Tensor {
  return div(1, applyUnary("sqrt", add(variance, eps)));
}

/** Mean and biased variance over `dims` (kept), as two-pass sums: sum(x) / n, then sum((x - mean)^2) / n. */
function moments(x: Tensor, dims: number[]): { mean: Tensor; varSum: Tensor; n: number } {
  const m = mean(x, dims, true);
  const d = sub(x, m);
  const n = dims.reduce((p, k) => p * x.shape[k], 1);
  return { mean: m, varSum: sum(mul(d, d), dims, true), n };
}

function checkFloat(x: Tensor, what: string, port: string): void {
  if (!isFloating(x.dtype)) throw new TypeError(`${what}: ${port} must be a floating tensor, got ${x.dtype}`);
}

function checkVector(t: Tensor | null | undefined, size: number, what: string, port: string): void {
  if (t && (t.ndim !== 1 || t.shape[0] !== size))
    throw new ShapeError(`${what}: ${port} must have shape [${size}], got ${fmtShape(t.shape)}`);
}

let stateHeld = 0;

/**
 * Run `fn` with in-place state writes skipped (running statistics and counters stay as they are): for
 * evaluations on the side (finite differences, a loss landscape's grid, a decision boundary), which promise to
 * change nothing cached.
 */
export function holdState<T>(fn: () => T): T {
  stateHeld++;
  try {
    return fn();
  } finally {
    stateHeld--;
  }
}

/**
 * The in-place write of state torch updates during the forward (no autograd): `target` takes `value`'s data.
 * Reported to the tracer with the value's producer (a backend that replays the trace computes the new state
 * itself) and the data before the write (so a trace-only forward can be undone).
 */
export function writeState(target: Tensor, value: Tensor, what: string): void {
  if (stateHeld > 0) return;
  const previous = target.data.slice();
  target.data.set(value.data);
  target.version++;
  traceOp("state_update", [target, value], { what, previous }, target.detach());
}

export interface BatchNormOptions {
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  /** A number, or a 0-d tensor (nn.BatchNorm's cumulative average: 1 / num_batches_tracked). */
  momentum?: number | Tensor;
  eps?: number;
}

/**
 * `F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)`. In training mode the
 * batch's statistics normalise (biased variance) and the running statistics, when given, move towards them
 * (unbiased variance), in place, as torch's batch_norm_cpu_update_stats_template does.
 */
export function batchNorm(x: Tensor, o: BatchNormOptions = {}): Tensor {
  const what = "batch_norm";
  const { runningMean = null, runningVar = null, weight = null, bias = null } = o;
  const training = o.training ?? false;
  const momentum = o.momentum ?? 0.1;
  const eps = o.eps ?? 1e-5;
  checkFloat(x, what, "input");
  if (x.ndim < 2)
    throw new ShapeError(`${what}: input must have at least 2 dims (N, C, *), got ${fmtShape(x.shape)}`);
  const c = x.shape[1];
  for (const [t, port] of [
    [runningMean, "running_mean"],
    [runningVar, "running_var"],
    [weight, "weight"],
    [bias, "bias"],
  ] as const) {
    checkVector(t, c, what, port);
    if (t && t.dtype !== x.dtype)
      throw new TypeError(`${what}: ${port} is ${t.dtype} but input is ${x.dtype}; they must match`);
  }
  for (const [t, port] of [
    [runningMean, "running_mean"],
    [runningVar, "running_var"],
  ] as const)
    if (t?.requiresGrad)
      throw new TypeError(
        `${what} is not differentiable with respect to ${port}: it cannot have requires_grad True`,
      );
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const kept = x.shape.map((s, i) => (i === 1 ? s : 1));
  const perChannel = (t: Tensor) => reshape(t, kept);
  let m: Tensor;
  let inv: Tensor;
  if (training) {
    const n = x.numel / c;
    if (n <= 1)
      throw new RangeError(
        `${what}: expected more than 1 value per channel when training, got input size ${fmtShape(x.shape)}`,
      );
    const st = moments(x, dims);
    m = st.mean;
    inv = invStd(div(st.varSum, n), eps);
    if (runningMean || runningVar)
      updateRunningStats(st.mean, st.varSum, n, runningMean, runningVar, momentum);
  } else {
    if (!runningMean || !runningVar)
      throw new TypeError(`${what}: running_mean and running_var must be given in evaluation mode`);
    // Running statistics are buffers: no gradient flows into them.
    m = perChannel(runningMean.detach());
    inv = invStd(perChannel(runningVar.detach()), eps);
  }
  const scale = weight ? mul(inv, perChannel(weight)) : inv;
  const shift = sub(bias ? perChannel(bias) : 0, mul(m, scale));
  return add(mul(x, scale), shift);
}

/**
 * running = momentum * batch + (1 - momentum) * running, in the parameters' dtype, the variance unbiased
 * (var_sum / (n - 1)), composed of runtime ops so every backend replays it. torch 1.13 mixes the variance in
 * double (momentum * unbiased_var is not rounded to float32 first): float32's running_var can differ by one
 * rounding.
 */
function updateRunningStats(
  batchMean: Tensor,
  varSum: Tensor,
  n: number,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  momentum: number | Tensor,
): void {
  noGrad(() => {
    const flat = (t: Tensor) => reshape(t, [t.numel]);
    const keep =
      typeof momentum === "number"
        ? rounder(batchMean.dtype)(1 - rounder(batchMean.dtype)(momentum))
        : sub(1, momentum);
    if (runningMean)
      writeState(
        runningMean,
        add(mul(flat(batchMean), momentum), mul(runningMean, keep)),
        "batch_norm's running_mean",
      );
    if (runningVar)
      writeState(
        runningVar,
        add(mul(div(flat(varSum), n - 1), momentum), mul(runningVar, keep)),
        "batch_norm's running_var",
      );
  });
}

/** `F.layer_norm(input, normalized_shape, weight, bias, eps)`: over the last len(normalized_shape) dims. */
export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const what = "layer_norm";
  checkFloat(x, what, "input");
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.ndim - k);
  if (k === 0 || k > x.ndim || tail.some((s, i) => s !== normalizedShape[i]))
    throw new ShapeError(
      `${what}: given normalized_shape=${fmtShape(normalizedShape)}, expected input with shape [*, ${normalizedShape.join(", ")}], but got input of size ${fmtShape(x.shape)}`,
    );
  for (const [t, port] of [
    [weight, "weight"],
    [bias, "bias"],
  ] as const)
    if (t && (t.ndim !== k || t.shape.some((s, i) => s !== normalizedShape[i])))
      throw new ShapeError(
        `${what}: ${port} must have shape ${fmtShape(normalizedShape)} (normalized_shape), got ${fmtShape(t.shape)}`,
      );
  const dims = normalizedShape.map((_, i) => x.ndim - k + i);
  const st = moments(x, dims);
  const rstd = invStd(div(st.varSum, st.n), eps);
  // torch: (x * rstd + (-rstd * mean)) * weight + bias.
  let y = add(mul(x, rstd), mul(applyUnary("neg", rstd), st.mean));
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return y;
}

/** `F.group_norm(input, num_groups, weight, bias, eps)`: statistics per sample and group of channels. */
export function groupNorm(
  x: Tensor,
  numGroups: number,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const what = "group_norm";
  checkFloat(x, what, "input");
  if (x.ndim < 2)
    throw new ShapeError(`${what}: input must have at least 2 dims (N, C, *), got ${fmtShape(x.shape)}`);
  const [n, c] = x.shape;
  if (!(numGroups > 0) || c % numGroups !== 0)
    throw new ShapeError(
      `${what}: expected the number of channels (${c}) to be divisible by num_groups (${numGroups})`,
    );
  checkVector(weight, c, what, "weight");
  checkVector(bias, c, what, "bias");
  const perGroup = c / numGroups;
  const xg = reshape(x, [n, numGroups, perGroup, x.numel / Math.max(1, n * c)]);
  const st = moments(xg, [2, 3]);
  const rstd = invStd(div(st.varSum, st.n), eps);
  const chan = (t: Tensor) => reshape(t, [1, numGroups, perGroup, 1]);
  // torch: scale = rstd * weight, shift = -scale * mean + bias, y = x * scale + shift.
  const scale = weight ? mul(rstd, chan(weight)) : rstd;
  let shift = mul(applyUnary("neg", scale), st.mean);
  if (bias) shift = add(shift, chan(bias));
  return reshape(add(mul(xg, scale), shift), x.shape);
}

export interface EmbeddingOptions {
  paddingIdx?: number | null;
  maxNorm?: number | null;
  normType?: number;
  scaleGradByFreq?: boolean;
}

/**
 * `F.embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq)`: rows of weight picked
 * by index. max_norm renormalises the picked rows of weight in place first (torch.embedding_renorm_); the
 * padding row gets no gradient and scale_grad_by_freq divides each row's gradient by its count in the batch,
 * as torch's embedding_backward does.
 */
export function embedding(input: Tensor, weight: Tensor, o: EmbeddingOptions = {}): Tensor {
  const what = "embedding";
  if (!isIntegral(input.dtype))
    throw new TypeError(`${what}: input must hold indices (int64 or int32), got ${input.dtype}`);
  if (weight.ndim !== 2)
    throw new ShapeError(
      `${what}: weight must be 2-D (num_embeddings, embedding_dim), got ${fmtShape(weight.shape)}`,
    );
  const [rows, dim] = weight.shape;
  let pad = o.paddingIdx ?? null;
  if (pad !== null) {
    if (pad >= rows || pad < -rows)
      throw new RangeError(`${what}: padding_idx (${pad}) must be within num_embeddings (${rows})`);
    if (pad < 0) pad += rows;
  }
  const idx = Array.from(input.data);
  for (const v of idx)
    if (v < 0 || v >= rows)
      throw new RangeError(`${what}: index ${v} is out of range for a weight with ${rows} rows`);
  if (o.maxNorm !== null && o.maxNorm !== undefined) renorm(weight, idx, o.maxNorm, o.normType ?? 2);
  const flat = fromFlat(idx, [idx.length], "int64");
  const outShape = [...input.shape, dim];
  if (pad === null && !o.scaleGradByFreq) return reshape(indexSelect(weight, 0, flat), outShape);
  // The gradient of each picked row scaled (0 for the padding row, 1/count with scale_grad_by_freq), summed
  // into weight's rows as a one-hot product: plain runtime ops, so every backend replays it.
  const counts = new Map<number, number>();
  for (const v of idx) counts.set(v, (counts.get(v) ?? 0) + 1);
  const r = rounder(weight.dtype);
  const scales = idx.map((v) => (v === pad ? 0 : o.scaleGradByFreq ? r(1 / counts.get(v)!) : 1));
  const fn: CustomFunction = {
    name: "Embedding",
    forward: (_ctx, w) => indexSelect(w, 0, flat),
    backward(_ctx, g) {
      const oneHot = allocate(g.dtype, idx.length * rows);
      idx.forEach((v, i) => {
        oneHot[i * rows + v] = 1;
      });
      const scaled = mul(g, fromFlat(scales, [idx.length, 1], g.dtype));
      return [matmul(transpose(fromFlat(oneHot, [idx.length, rows], g.dtype), 0, 1), scaled)];
    },
  };
  return reshape(applyFunction(fn, weight), outShape);
}

/** torch.embedding_renorm_: each distinct picked row whose norm exceeds max_norm is scaled to it, in place. */
function renorm(weight: Tensor, idx: number[], maxNorm: number, normType: number): void {
  noGrad(() => {
    const [, dim] = weight.shape;
    const data = Array.from(weight.data);
    const r = rounder(weight.dtype);
    let changed = false;
    for (const v of [...new Set(idx)].sort((a, b) => a - b)) {
      const row = fromFlat(data.slice(v * dim, (v + 1) * dim), [dim], weight.dtype);
      const n = norm(row, normType).item();
      if (n > maxNorm) {
        const scale = r(maxNorm / (n + 1e-7));
        for (let j = 0; j < dim; j++) data[v * dim + j] = r(data[v * dim + j] * scale);
        changed = true;
      }
    }
    if (changed)
      writeState(weight, fromFlat(data, weight.shape, weight.dtype), "embedding's max_norm renormalisation");
  });
}

/**
 * torch 1.13's `bernoulli_(p)` on the CPU without MKL (Debian's build): one float64 uniform per element from
 * the generator's 64-bit draws, 1 where it is below p.
 */
export function bernoulliMask(g: TorchGenerator, n: number, p: number): number[] {
  return Array.from({ length: n }, () => (g.uniform01("float64") < p ? 1 : 0));
}

/**
 * Dropout's noise, `torch.empty(n).bernoulli_(keep)` divided by `keep` in the dtype (torch's CPU division by
 * a scalar multiplies by its reciprocal, rounded to the dtype): the values each step's mask takes. The op
 * and a backend drawing the mask again per step (the WebGPU session) both draw through this.
 */
export function drawMask(g: TorchGenerator, n: number, keep: number, dtype: DType): number[] {
  const r = rounder(dtype);
  const scale = r(1 / r(keep));
  return bernoulliMask(g, n, keep).map((b) => b * scale);
}

/**
 * `F.dropout(input, p, training)` on the CPU, drawing from `g` (torch's global generator: a training run's
 * stream, drawn from in forward order, or a generator seeded for this one call): torch draws
 * `noise = empty_like(input).bernoulli_(1 - p)`, divides it by 1 - p and multiplies; the identity (no draw)
 * when not training, p == 0 or the input is empty, and `input * 0` (no draw) when p == 1. The mask is reported
 * to the tracer as a "bernoulli" draw.
 */
export function dropout(x: Tensor, p: number, training: boolean, g: TorchGenerator): Tensor {
  if (!(p >= 0 && p <= 1))
    throw new RangeError(`dropout probability has to be between 0 and 1, but got ${p}`);
  checkFloat(x, "dropout", "input");
  if (p === 0 || !training || x.numel === 0) return x;
  if (p === 1) return mul(x, fromFlat([0], [], x.dtype));
  const keep = 1 - p;
  const mask = fromFlat(drawMask(g, x.numel, keep, x.dtype), x.shape, x.dtype);
  return mul(x, traceOp("bernoulli", [], { keep }, mask));
}
