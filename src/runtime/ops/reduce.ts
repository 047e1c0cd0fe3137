/** Reductions (sum, mean, max/min, argmax, norm, logsumexp) and softmax/log_softmax along a dimension. */
import { record } from "../autograd.ts";
import { allocate, type DType, finishStorage, isFloating } from "../dtype.ts";
import { normDim, numel, type Shape, ShapeError } from "../shape.ts";
import { fusedTorchSum } from "../simd/lazy.ts";
import { fromFlat, Tensor } from "../tensor.ts";
import { traceOp } from "../trace.ts";
import { keptShape as keptShapeOf, VJP } from "../vjp.ts";
import { torchOrderSum } from "./cascade.ts";
import { type Attrs, type F, formulaLoop } from "./formula.ts";
import { around, broadcastTo, mapBinary, mapFormula, reduceDim } from "./kernels.ts";
import { runLanes } from "./lanes.ts";
import { reshape, sumToShape } from "./layout.ts";
import { LOGSUMEXP, normSpec } from "./reductions.ts";

export type Dims = number | readonly number[] | null | undefined;

/** Normalised, sorted, de-duplicated reduction dims; all dims when none are given. */
export function reductionDims(x: Tensor, dims: Dims, what: string): number[] {
  if (dims === null || dims === undefined) return x.shape.map((_, i) => i);
  const list = typeof dims === "number" ? [dims] : [...dims];
  if (list.length === 0) return x.shape.map((_, i) => i);
  const out = [...new Set(list.map((d) => normDim(d, x.ndim, what)))].sort((a, b) => a - b);
  return x.ndim === 0 ? [] : out;
}

function keptShape(x: Tensor, dims: number[]): number[] {
  return keptShapeOf(x.shape, dims);
}

function finalShape(x: Tensor, dims: number[], keepdim: boolean): number[] {
  return keepdim ? keptShape(x, dims) : x.shape.filter((_, i) => !dims.includes(i));
}

function sumDTypeOf(d: DType): DType {
  return isFloating(d) ? d : "int64";
}

/** Raw sum over dims (keepdim shape), accumulating in float64. */
function sumRaw(x: Tensor, dims: number[], dtype: DType): Tensor {
  if (dims.length === x.ndim) {
    let s = 0;
    const src = x.data;
    for (let i = 0; i < src.length; i++) s += src[i];
    return fromFlat([s], keptShape(x, dims), dtype);
  }
  let cur = x.data;
  const shape = [...x.shape];
  for (const d of [...dims].reverse()) {
    cur = reduceDim(
      cur,
      shape,
      d,
      (lane, n) => {
        let s = 0;
        for (let k = 0; k < n; k++) s += lane(k);
        return s;
      },
      "float64",
    );
    shape[d] = 1;
  }
  return fromFlat(cur, keptShape(x, dims), dtype);
}

/** The gradient table's operations (runtime/vjp.ts) that the reductions' rules use, on tensors. */
const CPU = {
  reshape,
  expand: broadcastTo,
  sumTo: sumToShape,
  divScalar: (g: Tensor, n: number) => mapBinary(g, g, g.shape, (v) => v / n, g.dtype),
  laneGrad,
  pointwise: mapFormula,
  placeAt,
};

function allDims(x: Tensor): number[] {
  return x.shape.map((_, i) => i);
}

/** Zeros of `shape` with each g added at its index idx along dim (max(dim)'s gradient). */
function placeAt(g: Tensor, idx: Tensor, dim: number, shape: Shape): Tensor {
  const [outer, n, inner] = around(shape, dim);
  const gx = allocate(g.dtype, numel(shape));
  const gd = g.data;
  const id = idx.data;
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) gx[o * n * inner + id[o * inner + i] * inner + i] += gd[o * inner + i];
  return new Tensor(gx, shape, g.dtype);
}

/** Sums of a float32 or float64 tensor in torch's order of additions (see cascade.ts), else null. */
function torchSum(x: Tensor, dims: number[]): Float64Array | null {
  if (x.dtype !== "float32" && x.dtype !== "float64") return null;
  // A lazy expression summed whole: one fused pass in the same order, no full-size array.
  if (x.shape.every((s, d) => s === 1 || dims.includes(d))) {
    const s = fusedTorchSum(x);
    if (s !== null) return Float64Array.of(s);
  }
  return torchOrderSum(x.data, x.shape, dims, x.dtype);
}

export function sum(x: Tensor, dims?: Dims, keepdim = false): Tensor {
  const ds = reductionDims(x, dims, "sum");
  const exact = torchSum(x, ds);
  const raw = exact ? fromFlat(exact, keptShape(x, ds), x.dtype) : sumRaw(x, ds, sumDTypeOf(x.dtype));
  const out = reshape(raw, finalShape(x, ds, keepdim));
  traceOp("sum", [x], { dims: ds, keepdim }, out);
  return record(out, "SumBackward1", [x], (g) => [VJP.sum(CPU, g, x.shape, ds)]);
}

export function mean(x: Tensor, dims?: Dims, keepdim = false): Tensor {
  if (!isFloating(x.dtype))
    throw new TypeError(
      `mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: ${x.dtype}`,
    );
  const ds = reductionDims(x, dims, "mean");
  const n = ds.reduce((p, d) => p * x.shape[d], 1);
  // torch: the sum in the tensor's dtype (its own order of additions), then one division by the count.
  const s = torchSum(x, ds) ?? sumRaw(x, ds, "float64").data;
  // Each quotient rounded by the store, as fromFlat would round it (halves by finishStorage).
  const q = allocate(x.dtype, s.length);
  for (let i = 0; i < s.length; i++) q[i] = s[i] / n;
  const out = new Tensor(finishStorage(x.dtype, q), finalShape(x, ds, keepdim), x.dtype);
  traceOp("mean", [x], { dims: ds, keepdim }, out);
  return record(out, "MeanBackward1", [x], (g) => [VJP.mean(CPU, g, x.shape, ds)]);
}

/** Full max/min: a 0-d tensor; ties share the gradient evenly, as torch's max() does. */
function extremeAll(x: Tensor, better: (a: number, b: number) => boolean, name: string): Tensor {
  if (x.numel === 0) throw new ShapeError(`${name}(): expected a non-empty tensor`);
  let best = x.data[0];
  for (let i = 1; i < x.numel; i++) {
    const v = x.data[i];
    if (Number.isNaN(v)) {
      best = v;
      break;
    }
    if (better(v, best)) best = v;
  }
  const out = fromFlat([best], [], x.dtype);
  traceOp("extreme_all", [x], { kind: name }, out);
  return record(out, name === "max" ? "MaxBackward1" : "MinBackward1", [x], (g) => [
    VJP.extremeShared(CPU, { g, x, y: out.detach(), xShape: x.shape, dims: allDims(x), dtype: g.dtype }),
  ]);
}

export interface ValuesIndices {
  values: Tensor;
  indices: Tensor;
}

/** max/min along a dim: values and (first) indices; the gradient flows to the chosen index. */
function extremeDim(
  x: Tensor,
  dim: number,
  keepdim: boolean,
  better: (a: number, b: number) => boolean,
  name: string,
): ValuesIndices {
  const d = normDim(dim, x.ndim, name);
  if (x.ndim > 0 && x.shape[d] === 0)
    throw new ShapeError(`${name}(): cannot reduce over a zero-size dimension ${d}`);
  const [outer, n, inner] = around(x.shape, d);
  const vals = allocate(x.dtype, outer * inner);
  const idx = new Float64Array(outer * inner);
  // `data` is a getter (it may materialise a lazy tensor) and `better` a closure: both read once, out of the loop.
  const src = x.data;
  const isMax = better === gt;
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let bi = 0;
      let bv = src[base];
      for (let k = 1; k < n && !Number.isNaN(bv); k++) {
        const v = src[base + k * inner];
        if (Number.isNaN(v) || (isMax ? v > bv : better(v, bv))) {
          bv = v;
          bi = k;
        }
      }
      vals[o * inner + i] = bv;
      idx[o * inner + i] = bi;
    }
  const shape = finalShape(x, x.ndim ? [d] : [], keepdim);
  const indices = new Tensor(idx, shape, "int64");
  const values = record(
    new Tensor(vals, shape, x.dtype),
    name === "max" ? "MaxBackward0" : "MinBackward0",
    [x],
    (g) => [VJP.extremeDim(CPU, g, indices, x.shape, d)],
  );
  return traceOp(
    "extreme_dim",
    [x],
    { dim: d, keepdim, kind: better === gt ? "max" : "min" },
    { values, indices },
  );
}

const gt = (a: number, b: number) => a > b;
const lt = (a: number, b: number) => a < b;

export function max(x: Tensor): Tensor {
  return extremeAll(x, gt, "max");
}
export function min(x: Tensor): Tensor {
  return extremeAll(x, lt, "min");
}
export function maxDim(x: Tensor, dim: number, keepdim = false): ValuesIndices {
  return extremeDim(x, dim, keepdim, gt, "max");
}
export function minDim(x: Tensor, dim: number, keepdim = false): ValuesIndices {
  return extremeDim(x, dim, keepdim, lt, "min");
}

/** `torch.argmax(input, dim=None, keepdim=False)`: over the flattened tensor when dim is null. */
export function argmax(x: Tensor, dim?: number | null, keepdim = false): Tensor {
  if (dim === null || dim === undefined) return extremeDim(reshape(x, [-1]), 0, false, gt, "argmax").indices;
  return extremeDim(x, dim, keepdim, gt, "argmax").indices;
}
export function argmin(x: Tensor, dim?: number | null, keepdim = false): Tensor {
  if (dim === null || dim === undefined) return extremeDim(reshape(x, [-1]), 0, false, lt, "argmin").indices;
  return extremeDim(x, dim, keepdim, lt, "argmin").indices;
}

// The variable lists of the declared reduction formulas (ops/reductions.ts); generated loops are cached per
// list object, so each is made once.
const X_VAR = ["x"] as const;
const S_VAR = ["s"] as const;
const XM_VARS = ["x", "m"] as const;
const SM_VARS = ["s", "m"] as const;
/** Every operand an array (formulaLoop reads the flag of each variable by position). */
const ARRAYS = [false, false] as const;

/** A declared formula over arrays of equal length, in float64. */
function run(f: F, vars: readonly string[], operands: ArrayLike<number>[], attrs: Attrs = {}): Float64Array {
  const out = new Float64Array(operands[0].length);
  formulaLoop(f, vars, ARRAYS, "f64", attrs)(operands, out, out.length);
  return out;
}

/**
 * `torch.norm(input, p, dim, keepdim)` / `torch.linalg.vector_norm`: p-norm for p > 0 and p = inf.
 * The gradient at a zero norm is zero, as torch masks it.
 */
export function norm(x: Tensor, p = 2, dims?: Dims, keepdim = false): Tensor {
  if (!isFloating(x.dtype))
    throw new TypeError(`norm(): input dtype should be floating point, got ${x.dtype}`);
  if (!(p > 0)) throw new RangeError(`norm: p must be positive (got ${p})`);
  const ds = reductionDims(x, dims, "norm");
  const spec = normSpec(p);
  const pre = fromFlat(run(spec.pre, X_VAR, [x.data], { p }), x.shape, "float64");
  let acc: Tensor;
  if (spec.combine === "max") {
    acc = pre;
    for (const d of [...ds].reverse()) acc = extremeDim(acc, d, true, gt, "norm").values;
  } else acc = sumRaw(pre, ds, "float64");
  const out = fromFlat(run(spec.finish, S_VAR, [acc.data], { p }), finalShape(x, ds, keepdim), x.dtype);
  traceOp("norm", [x], { p, dims: ds, keepdim }, out);
  return record(out, "NormBackward1", [x], (g) => [
    VJP.norm(CPU, { g, x, y: out.detach(), xShape: x.shape, dims: ds, dtype: g.dtype }, p),
  ]);
}

/** Numerically stable log(sum(exp(x))) along dims. */
export function logsumexp(x: Tensor, dims: Dims, keepdim = false): Tensor {
  const ds = reductionDims(x, dims, "logsumexp");
  let m: Tensor = x.detach();
  for (const d of [...ds].reverse()) m = extremeDim(m, d, true, gt, "logsumexp").values;
  const e = fromFlat(
    run(LOGSUMEXP.shift, XM_VARS, [x.data, broadcastTo(m, x.shape).data]),
    x.shape,
    "float64",
  );
  const s = sumRaw(e, ds, "float64");
  const r = run(LOGSUMEXP.finish, SM_VARS, [s.data, m.data]);
  const out = fromFlat(r, finalShape(x, ds, keepdim), isFloating(x.dtype) ? x.dtype : "float32");
  traceOp("logsumexp", [x], { dims: ds, keepdim }, out);
  return record(out, "LogsumexpBackward0", [x], (g) => [
    VJP.logsumexp(CPU, { g, x, y: out.detach(), xShape: x.shape, dims: ds, dtype: g.dtype }),
  ]);
}

function softmaxDim(x: Tensor, dim: number | undefined, what: string): number {
  if (!isFloating(x.dtype))
    throw new TypeError(
      `${what}: not implemented for ${x.dtype} tensors (PyTorch computes it for floating point only); cast the input to float32 first`,
    );
  if (dim === undefined || dim === null)
    throw new ShapeError(`${what}: dim is required (torch's implicit dim choice is deprecated)`);
  return normDim(dim, x.ndim, what);
}

/** `F.softmax(input, dim)`: shifted by the max, so large logits do not overflow. */
export function softmax(x: Tensor, dim: number): Tensor {
  const d = softmaxDim(x, dim, "softmax");
  const dtype = isFloating(x.dtype) ? x.dtype : "float32";
  const out = new Tensor(runLanes("softmax", [x.data], around(x.shape, d), dtype), x.shape, dtype);
  traceOp("softmax", [x], { dim: d }, out);
  return record(out, "SoftmaxBackward0", [x], (g) => [VJP.softmax(CPU, "softmax", g, out, d)]);
}

/** `F.log_softmax(input, dim)`: x - max - log(sum(exp(x - max))). */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  const d = softmaxDim(x, dim, "log_softmax");
  const dtype = isFloating(x.dtype) ? x.dtype : "float32";
  const out = new Tensor(runLanes("log_softmax", [x.data], around(x.shape, d), dtype), x.shape, dtype);
  traceOp("log_softmax", [x], { dim: d }, out);
  return record(out, "LogSoftmaxBackward0", [x], (g) => [VJP.softmax(CPU, "log_softmax", g, out, d)]);
}

/** softmax's and log_softmax's lane gradients from their output y, as declared in ops/lanes.ts. */
function laneGrad(fn: "softmax" | "log_softmax", g: Tensor, y: Tensor, dim: number): Tensor {
  const lanes = around(y.shape, dim);
  return new Tensor(runLanes(`${fn}_grad`, [g.data, y.data], lanes, g.dtype), y.shape, g.dtype);
}
