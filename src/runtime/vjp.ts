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
import type { Shape } from "./shape.ts";

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
}

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
};
