/**
 * Where the runtime's ops meet the fused SIMD path: which float32 ops become lazy expressions instead of
 * full-size arrays, how a tensor operand enters an expression, and the fused reductions the gradients use.
 * Every function returns null where the plain path must run (no SIMD kernels, another dtype, a small tensor,
 * a layout the vector machine does not read, or WebGPU tracing, which must see every op).
 */
import type { DType } from "../dtype.ts";
import { numel, type Shape, sameShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { defer, evaluateView } from "./deferred.ts";
import type { Output } from "./expr.ts";
import * as E from "./expr.ts";
import { captureArray, fusable } from "./fusable.ts";
import { loadedKernels, simdKernels } from "./module.ts";
import { runOutputs } from "./program.ts";

/** A tensor's data for an expression: copied for parameters (leaves that require grad) and their views. */
function captured(t: Tensor): Float32Array {
  const d = t.data as Float32Array;
  return t.isLeaf && t.requiresGrad ? d.slice() : captureArray(d);
}

/** The expression of a float32 tensor's own values (its pending expression, or its data). */
export function exprOf(t: Tensor): E.Expr {
  if (!t.isMaterialized && t.lazy) return t.lazy;
  return t.numel === 1 ? E.constant(t.data[0]) : E.full(captured(t));
}

/**
 * `t` as an operand of an elementwise op whose result has `shape`: same shape, one element (a constant),
 * shaped like the trailing dims (a row leaf) or like the leading dims (a column leaf); else null.
 */
export function operandExpr(t: Tensor, shape: Shape): E.Expr | null {
  if (t.dtype !== "float32") return null;
  if (t.numel === 1) return E.constant(t.data[0]);
  if (sameShape(t.shape, shape)) {
    const e = exprOf(t);
    // A long expression is materialised here so every program fits the machine's registers.
    return E.sizeOf(e) > E.MAX_NODES ? E.full(t.data as Float32Array) : e;
  }
  const dims = t.shape.slice(t.shape.findIndex((d) => d !== 1));
  if (dims.length > shape.length) return null;
  const tail = shape.slice(shape.length - dims.length);
  if (dims.every((d, i) => d === tail[i])) return { k: "leaf", data: captured(t), mode: "row", len: t.numel };
  // Leading dims: t's shape aligned to the right of `shape` is shape[0..j) followed by ones.
  const aligned = [...new Array<number>(shape.length - t.ndim).fill(1), ...t.shape];
  const j = aligned.length - [...aligned].reverse().findIndex((d) => d !== 1);
  if (aligned.slice(0, j).every((d, i) => d === shape[i]))
    return { k: "leaf", data: captured(t), mode: "col", len: numel(shape.slice(j)) };
  // Middle dims (a conv bias shaped (C, 1, 1) against (N, C, H, W)): each value repeated over the trailing dims
  // it broadcasts along is a row leaf of one leading index's elements (C * H * W, at most half of the result).
  const i0 = aligned.findIndex((d) => d !== 1);
  if (aligned.slice(i0, j).every((d, i) => d === shape[i0 + i])) {
    const inner = numel(shape.slice(j));
    const src = t.data;
    const row = new Float32Array(src.length * inner);
    for (let k = 0; k < src.length; k++) row.fill(src[k], k * inner, (k + 1) * inner);
    return { k: "leaf", data: row, mode: "row", len: row.length };
  }
  return null;
}

/**
 * `use` of a pending float32 expression's values read straight from the kernels' memory, so no array is made
 * for values only this reader needs (max_pool2d over a relu); null where `t` is not a pending expression. `use`
 * must not keep the array nor call any kernel (the view is valid until the next call) except through a
 * function that reads it in place (fused/matmul.ts's productInto, fused/pool.ts); `t` stays pending.
 */
export function readPending<T>(t: Tensor, use: (values: Float32Array) => T): T | null {
  if (t.isMaterialized || !t.lazy || t.numel < 8 || !loadedKernels()) return null;
  return use(evaluateView(t.numel, t.lazy));
}

/** A lazy float32 tensor of `shape` standing for `expr`. */
export function lazyTensor(expr: E.Expr, shape: Shape): Tensor {
  return new Tensor(null, shape, "float32", expr);
}

/** `a op b` as a lazy tensor of `shape`, or null. */
export function lazyBinary(op: E.BinaryOpName, a: Tensor, b: Tensor, shape: Shape): Tensor | null {
  if (!fusable(a.dtype, numel(shape)) || b.dtype !== "float32") return null;
  const ea = operandExpr(a, shape);
  const eb = ea && operandExpr(b, shape);
  if (!ea || !eb) return null;
  return lazyTensor(E.binary(op, ea, eb), shape);
}

/**
 * `of(x)` as a lazy tensor with result dtype `dtype`, or null: `of` builds the op's expression from x's (a
 * declared formula, ops/formula.ts's simdOf), or gives null where the vector machine cannot compute it.
 */
export function lazyUnary(x: Tensor, dtype: DType, of: (x: E.Expr) => E.Expr | null): Tensor | null {
  if (dtype !== "float32" || !fusable(x.dtype, x.numel)) return null;
  const ex = operandExpr(x, x.shape);
  const e = ex && of(ex);
  return e && lazyTensor(e, x.shape);
}

/** A full-size tensor of one value (a reduction's gradient spread back), as a constant expression. */
export function lazyFill(value: number, shape: Shape): Tensor | null {
  return fusable("float32", numel(shape)) ? lazyTensor(E.constant(value), shape) : null;
}

/**
 * sum(g) reduced to `target`, which must broadcast to g's shape: float64 sums of the float32 values, rounded
 * once, as fused/reduce.ts computes them, as a deferred tensor (deferred.ts). Null where the target is neither
 * one element nor shaped like g's trailing dims.
 */
export function fusedSumTo(g: Tensor, target: Shape): Tensor | null {
  if (g.dtype !== "float32" || !fusable("float32", g.numel)) return null;
  return fusedExprSumTo(exprOf(g), g.shape, target);
}

/** fusedSumTo of an elementwise expression over `shape` (a gradient's g * other), never written out in full. */
export function fusedExprSumTo(e: E.Expr, shape: Shape, target: Shape): Tensor | null {
  const m = numel(target);
  let out: Output;
  if (m === 1) out = { kind: "sum64", expr: e };
  else {
    const dims = target.slice(target.findIndex((d) => d !== 1));
    if (dims.length > shape.length) return null;
    // Trailing ones (a conv bias (C, 1, 1) against (N, C, H, W)) broadcast over the trailing dims: each run of
    // those elements lands on one sum.
    let core = dims.length;
    while (dims[core - 1] === 1) core--;
    const from = shape.length - dims.length;
    if (!dims.slice(0, core).every((d, i) => d === shape[from + i])) return null;
    out = { kind: "colSum64", expr: e, len: m, inner: numel(shape.slice(from + core)) };
  }
  const d = defer(numel(shape), out, (r) =>
    typeof r === "number" ? Float32Array.of(r) : Float32Array.from(r),
  );
  return new Tensor(null, target, "float32", null, d);
}

/** torch's float32 sum of an expression over n elements, deferred; `finish` maps the sum to the values. */
export function deferredTorchSum(
  expr: E.Expr,
  n: number,
  shape: Shape,
  finish: (s: number) => number,
): Tensor {
  const d = defer(n, { kind: "torchSum", expr }, (s) => Float32Array.of(finish(s as number)));
  return new Tensor(null, shape, "float32", null, d);
}

/** torch's float32 sum of every element of `x` (cascade.ts order), fused; null where not applicable. */
export function fusedTorchSum(x: Tensor): number | null {
  if (x.isMaterialized || !x.lazy || x.numel < 8 || simdKernels() === null) return null;
  const [s] = runOutputs(x.numel, [{ kind: "torchSum", expr: x.lazy }]);
  return s as number;
}

// Where ops ask whether to fuse (a leaf module, so fused/matmul.ts can ask without importing this one).
export { captureArray, fusable, markWrittenInPlace } from "./fusable.ts";
export { E };
