/**
 * The gradient table: each primitive's vector-Jacobian product written once, over an abstract set of
 * operations (GradOps) that both the CPU runtime (ops/*.ts, on tensors) and the WebGPU autodiff
 * (gpu/autodiff.ts, on IR nodes) implement. A rule reads only shapes and attributes and calls GradOps, so
 * the CPU backward and the GPU's backward IR are the same composition; adding a primitive means adding its
 * rule here (and the GradOps it needs, once per backend). Elementwise ops' derivatives come from their
 * formulas (ops/formula.ts), losses' from their declarations (pointwise-loss.ts).
 *
 * Each rule takes only the operations it uses (Pick<GradOps<T>, ...>), so an op's module can pass the few
 * functions it already has without importing the whole runtime.
 */
import { type DType, isFloating } from "./dtype.ts";
import * as F from "./ops/formula.ts";
import type { Shape } from "./shape.ts";

/**
 * An elementwise formula of a gradient rule (ops/formula.ts) and the variables it reads, in the order the rule
 * passes their values: the CPU compiles it to a float64 loop, the GPU to a WGSL expression.
 */
export interface Pointwise {
  readonly name: string;
  readonly f: F.F;
  readonly vars: readonly string[];
}

export interface GradOps<T> {
  reshape(t: T, shape: Shape): T;
  permute(t: T, dims: number[]): T;
  /** Broadcast t (of the same rank, size-1 dims spread) to `shape`. */
  expand(t: T, shape: Shape): T;
  /** Sum t down to `shape`, undoing broadcasting. */
  sumTo(t: T, shape: Shape): T;
  narrow(t: T, dim: number, start: number, length: number): T;
  /** t placed at [start, start + length) along dim of zeros of `shape` (narrow's adjoint). */
  pad(t: T, dim: number, start: number, shape: Shape): T;
  /** t / v, each quotient rounded to t's dtype. */
  divScalar(t: T, v: number): T;
  /** g @ b^T over equal leading (batch) dims. */
  mmNT(g: T, b: T): T;
  /** a^T @ g over equal leading (batch) dims. */
  mmTN(a: T, g: T): T;
  /** g where cond is `keep` (true or false), 0 elsewhere; cond broadcasts to g's shape. */
  mask(cond: T, g: T, keep: boolean): T;
  /** g in another float dtype. */
  castTo(g: T, dtype: DType): T;
  /** Zeros of `shape` with each g[i] added at flat offsets[i], in order of i (a negative offset adds nothing). */
  scatterAdd(g: T, offsets: Int32Array, shape: Shape): T;
  /** softmax's (y (g - sum(g y))) or log_softmax's (g - exp(y) sum(g)) lane gradient along dim, from y. */
  laneGrad(fn: "softmax" | "log_softmax", g: T, y: T, dim: number): T;
  /**
   * fn at each element of `shape`, its variable vars[k] read from args[k] (of shape's rank; size-1 dims
   * spread), computed in float64 and rounded once to `dtype`; `attrs` binds the formula's attributes.
   */
  pointwise(fn: Pointwise, args: readonly T[], shape: Shape, dtype: DType, attrs?: F.Attrs): T;
  /** Zeros of `shape` with g (shape with dim of size 1) placed along dim at the positions idx (of g's shape). */
  placeAt(g: T, idx: T, dim: number, shape: Shape): T;
  /**
   * Zeros of `shape` (N, C, H, W) with each g[n, c, oh, ow] added at the flat index idx[n, c, oh, ow] of its
   * (H, W) plane, in output order; `win` is the pooling window that picked idx (a GPU gathers through it).
   */
  unpool(g: T, idx: T, win: PoolWindow, shape: Shape): T;
  /**
   * Zeros of `shape` (N, C, H, W) with each g[n, c, oh, ow] / divisors[oh, ow] (rounded to g's dtype) added at
   * each tap of its window inside the input, output by output (average pooling's spread).
   */
  windowShare(g: T, divisors: T, win: PoolWindow, shape: Shape): T;
  /**
   * im2col (F.unfold's layout): (N, C, H, W) to (N, C * kH * kW, out[0] * out[1]), tap (kh, kw) of channel c for
   * each window position in row c * kH * kW + kh * kW + kw, 0 where it falls in padding (win.p pads before).
   */
  unfold(x: T, win: PoolWindow, out: Shape): T;
  /**
   * col2im, unfold's adjoint: zeros of `shape` (N, C, H, W) with each column entry of g added at the element its
   * tap reads, in g's row-major order.
   */
  fold(g: T, win: PoolWindow, out: Shape, shape: Shape): T;
}

/** A 2-d sliding window per spatial dim (pooling, im2col): kernel size, stride, padding before, dilation. */
export interface PoolWindow {
  k: readonly number[];
  s: readonly number[];
  p: readonly number[];
  d: readonly number[];
}

const { x, y, g } = F;
const c = F.v("c");
const zeroNorm = F.eq(y, 0);
/** |x| is the infinity norm y (and y is not 0): the elements max(|x|) picked. */
const infTie = F.and(F.eq(F.abs(x), y), F.ne(y, 0));
const pm1 = F.sub(F.attr("p"), 1);
/** x is the max/min y, where a NaN y is matched by every NaN x (torch's evenly_distribute_backward). */
const extremeTie = F.or(F.eq(x, y), F.and(F.isnan(x), F.isnan(y)));
/**
 * The formulas of the reductions' rules: x the input, y the reduction's value and g its gradient (both spread
 * over the reduced dims), c the number of tied elements.
 */
const FORMULAS = {
  /** 1 where x is the reduction's value (a tie of max/min, or a NaN when the value is NaN), else 0. */
  tie: { name: "tie", f: F.sel(extremeTie, 1, 0), vars: ["x", "y"] },
  /** g shared evenly among the c ties. */
  share: { name: "share", f: F.sel(extremeTie, F.div(g, c), 0), vars: ["g", "x", "y", "c"] },
  /** d||x||_2: g x / y; 0 where the norm is 0 (torch's masked subgradient). */
  norm2: { name: "norm2", f: F.sel(zeroNorm, 0, F.div(F.mul(g, x), y)), vars: ["g", "x", "y"] },
  norm1: { name: "norm1", f: F.sel(zeroNorm, 0, F.mul(g, F.sign(x))), vars: ["g", "x", "y"] },
  /** g sign(x) |x|^(p-1) / y^(p-1), rather than x |x|^(p-2), which is 0 * inf = nan at x = 0 for p < 2. */
  normP: {
    name: "normP",
    f: F.sel(F.or(zeroNorm, F.eq(x, 0)), 0, F.div(F.prod(g, F.sign(x), F.pow(F.abs(x), pm1)), F.pow(y, pm1))),
    vars: ["g", "x", "y"],
  },
  normInfTie: { name: "normInfTie", f: F.sel(infTie, 1, 0), vars: ["x", "y"] },
  /** g sign(x) shared evenly among the c elements whose |x| is the norm, as torch's amax backward. */
  normInf: {
    name: "normInf",
    f: F.sel(infTie, F.div(F.mul(g, F.sign(x)), c), 0),
    vars: ["g", "x", "y", "c"],
  },
  /** g exp(x - y) with y the logsumexp itself, as torch's logsumexp backward. */
  logsumexp: { name: "logsumexp", f: F.mul(g, F.exp(F.sub(x, y))), vars: ["g", "x", "y"] },
} satisfies Record<string, Pointwise>;

/** The shape a reduction over `dims` keeps (those dims as size 1). */
export function keptShape(shape: Shape, dims: readonly number[]): number[] {
  return shape.map((s, i) => (dims.includes(i) ? 1 : s));
}

export function inversePermutation(dims: readonly number[]): number[] {
  const inverse = new Array<number>(dims.length);
  dims.forEach((d, i) => {
    inverse[d] = i;
  });
  return inverse;
}

type Ops<T, K extends keyof GradOps<T>> = Pick<GradOps<T>, K>;

export const VJP = {
  /** view/reshape/flatten/squeeze/unsqueeze: the gradient reshaped back. */
  reshape<T>(o: Ops<T, "reshape">, g: T, xShape: Shape): T {
    return o.reshape(g, xShape);
  },
  permute<T>(o: Ops<T, "permute">, g: T, dims: readonly number[]): T {
    return o.permute(g, inversePermutation(dims));
  },
  /** expand (and implicit broadcasting): summed back over the spread dims. */
  expand<T>(o: Ops<T, "sumTo">, g: T, xShape: Shape): T {
    return o.sumTo(g, xShape);
  },
  narrow<T>(o: Ops<T, "pad">, g: T, xShape: Shape, dim: number, start: number): T {
    return o.pad(g, dim, start, xShape);
  },
  /** pad (narrow's adjoint, in a GPU backward differentiated again): the gradient narrowed back. */
  pad<T>(o: Ops<T, "narrow">, g: T, dim: number, start: number, length: number): T {
    return o.narrow(g, dim, start, length);
  },
  /** cat: each input's slice of the gradient. */
  cat<T>(o: Ops<T, "narrow">, g: T, dim: number, sizes: readonly number[]): T[] {
    let start = 0;
    return sizes.map((size) => {
      const piece = o.narrow(g, dim, start, size);
      start += size;
      return piece;
    });
  },
  /** sum over dims: the gradient (reduced dims kept or not) spread back over them. */
  sum<T>(o: Ops<T, "reshape" | "expand">, g: T, xShape: Shape, dims: readonly number[]): T {
    return o.expand(o.reshape(g, keptShape(xShape, dims)), xShape);
  },
  /** mean over dims: g / count, rounded, then spread as sum's. */
  mean<T>(o: Ops<T, "reshape" | "expand" | "divScalar">, g: T, xShape: Shape, dims: readonly number[]): T {
    const count = dims.reduce((p, d) => p * xShape[d], 1);
    return VJP.sum(o, o.divScalar(g, count), xShape, dims);
  },
  /**
   * A mean over weights (nll_loss's 'mean': the weighted sum divided by the total weight of the kept targets):
   * g / total, rounded, as torch's nll_loss_backward divides it once before spreading.
   */
  weightedMean<T>(o: Ops<T, "divScalar">, g: T, total: number): T {
    return o.divScalar(g, total);
  },
  /**
   * The batched product y = a @ b (a, b broadcast to equal batch dims): g @ b^T and a^T @ g, summed back to
   * the operands' own shapes; `want` skips a side that needs no gradient.
   */
  matmul<T>(
    o: Ops<T, "mmNT" | "mmTN" | "sumTo">,
    g: T,
    a: T,
    b: T,
    shapes: readonly [Shape, Shape],
    want: readonly [boolean, boolean] = [true, true],
  ): [T | null, T | null] {
    return [
      want[0] ? o.sumTo(o.mmNT(g, b), shapes[0]) : null,
      want[1] ? o.sumTo(o.mmTN(a, g), shapes[1]) : null,
    ];
  },
  /** where(cond, a, b): the gradient where cond holds to a, elsewhere to b, each summed back to its shape. */
  where<T>(
    o: Ops<T, "mask" | "sumTo">,
    g: T,
    cond: T,
    shapes: readonly [Shape, Shape],
    want: readonly [boolean, boolean] = [true, true],
  ): [T | null, T | null] {
    return [
      want[0] ? o.sumTo(o.mask(cond, g, true), shapes[0]) : null,
      want[1] ? o.sumTo(o.mask(cond, g, false), shapes[1]) : null,
    ];
  },
  /** A cast: the gradient cast back to a float input's dtype (an integer input has none). */
  cast<T>(o: Ops<T, "castTo">, g: T, xDtype: DType): T | null {
    return isFloating(xDtype) ? o.castTo(g, xDtype) : null;
  },
  /** gather, index_select and every pick by flat offsets (out[i] = x[offsets[i]]): the gradient scattered back. */
  take<T>(o: Ops<T, "scatterAdd">, g: T, offsets: Int32Array, xShape: Shape): T {
    return o.scatterAdd(g, offsets, xShape);
  },
  /** softmax and log_softmax along dim: from the output y alone. */
  softmax<T>(o: Ops<T, "laneGrad">, fn: "softmax" | "log_softmax", g: T, y: T, dim: number): T {
    return o.laneGrad(fn, g, y, dim);
  },
  /**
   * max()/min() over all dims: ties share the gradient evenly, as torch's max(); a NaN result is shared
   * among the NaN elements, as torch does.
   */
  extremeShared<T>(o: Ops<T, "reshape" | "sumTo" | "pointwise">, r: Reduced<T>): T {
    return sharedAmongTies(o, r, FORMULAS.tie, FORMULAS.share);
  },
  /** max/min along dim with its indices: the gradient goes to the returned index only, as torch's max(dim). */
  extremeDim<T>(o: Ops<T, "reshape" | "placeAt">, g: T, indices: T, xShape: Shape, dim: number): T {
    const kept = keptShape(xShape, [dim]);
    return o.placeAt(o.reshape(g, kept), o.reshape(indices, kept), dim, xShape);
  },
  /** max_pool2d with its indices: each output's gradient added at the input element it picked, as torch's. */
  maxPool2d<T>(o: Ops<T, "unpool">, g: T, indices: T, win: PoolWindow, xShape: Shape): T {
    return o.unpool(g, indices, win, xShape);
  },
  /** im2col: each column entry's gradient added back where its tap read (col2im). */
  unfold<T>(o: Ops<T, "fold">, g: T, win: PoolWindow, out: Shape, xShape: Shape): T {
    return o.fold(g, win, out, xShape);
  },
  /** col2im: each column entry reads the gradient of the element it was added to (im2col). */
  fold<T>(o: Ops<T, "unfold">, g: T, win: PoolWindow, out: Shape): T {
    return o.unfold(g, win, out);
  },
  /** avg_pool2d: each output's gradient over its divisor, added to every tap of its window, as torch's. */
  avgPool2d<T>(o: Ops<T, "windowShare">, g: T, divisors: T, win: PoolWindow, xShape: Shape): T {
    return o.windowShare(g, divisors, win, xShape);
  },
  /** The p-norm (p > 0 or inf); 0 where the norm is 0. */
  norm<T>(o: Ops<T, "reshape" | "sumTo" | "pointwise">, r: Reduced<T>, p: number): T {
    if (p === Number.POSITIVE_INFINITY) return sharedAmongTies(o, r, FORMULAS.normInfTie, FORMULAS.normInf);
    return spread(o, r, p === 2 ? FORMULAS.norm2 : p === 1 ? FORMULAS.norm1 : FORMULAS.normP, { p });
  },
  logsumexp<T>(o: Ops<T, "reshape" | "pointwise">, r: Reduced<T>): T {
    return spread(o, r, FORMULAS.logsumexp);
  },
};

/** A reduction's backward: its input x, its value y and their gradient g (reduced dims kept or dropped). */
export interface Reduced<T> {
  g: T;
  x: T;
  y: T;
  xShape: Shape;
  dims: readonly number[];
  /** The gradient's dtype. */
  dtype: DType;
}

/** fn(g, x, y, ...) at each element of x, g and y spread over the reduced dims. */
function spread<T>(
  o: Ops<T, "reshape" | "pointwise">,
  r: Reduced<T>,
  fn: Pointwise,
  attrs?: F.Attrs,
  more: T[] = [],
): T {
  const kept = keptShape(r.xShape, r.dims);
  return o.pointwise(
    fn,
    [o.reshape(r.g, kept), r.x, o.reshape(r.y, kept), ...more],
    r.xShape,
    r.dtype,
    attrs,
  );
}

/** share(g, x, y, c) with c the number of elements of each reduced lane for which tie(x, y) is 1. */
function sharedAmongTies<T>(
  o: Ops<T, "reshape" | "sumTo" | "pointwise">,
  r: Reduced<T>,
  tie: Pointwise,
  share: Pointwise,
): T {
  const kept = keptShape(r.xShape, r.dims);
  const count = o.sumTo(o.pointwise(tie, [r.x, o.reshape(r.y, kept)], r.xShape, r.dtype), kept);
  return spread(o, r, share, undefined, [count]);
}
