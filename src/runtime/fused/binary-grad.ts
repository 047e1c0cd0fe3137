/**
 * Gradients of the arithmetic binary ops without the generic path's per-element closures: add and sub pass
 * the incoming gradient through (g * 1 is g exactly, g * -1 is -g), mul multiplies by the other operand, and
 * an operand that was broadcast gets its product summed straight into its own shape (fused/reduce.ts), never
 * materialising the full-size product. Every value equals the generic `g * da(a, b, y)` path's.
 */
import { allocate, finishStorage } from "../dtype.ts";
import { numel, type Shape } from "../shape.ts";
import { E, exprOf, fusable, fusedSumTo, lazyTensor, operandExpr } from "../simd/lazy.ts";
import { Tensor } from "../tensor.ts";
import { BINARY_LOOPS, GRAD_A_LOOPS, type RowLoop, runBinary } from "./binary.ts";
import { canFuseProduct, sumProductTo } from "./reduce.ts";

function negated(g: Tensor): Tensor {
  if (g.dtype === "float32" && fusable("float32", g.numel))
    return lazyTensor(E.binary("mul", exprOf(g), E.constant(-1)), g.shape);
  const out = allocate(g.dtype, g.data.length);
  const G = g.data;
  for (let i = 0; i < G.length; i++) out[i] = G[i] * -1;
  return new Tensor(out, g.shape, g.dtype);
}

/** loop(g, other) over the output shape; summed into `target`'s shape when that operand was broadcast. */
function gradOf(loop: RowLoop, g: Tensor, other: Tensor, shape: Shape, target: Tensor): Tensor {
  if (loop === BINARY_LOOPS.mul && g.dtype === "float32" && other.dtype === "float32") {
    // Fused: the product as a lazy expression, or summed straight to a broadcast operand's shape.
    if (target.numel !== g.numel) {
      const sums = fusedSumTo(g, other, target.shape);
      if (sums) return sums;
    } else if (fusable("float32", g.numel)) {
      const o = operandExpr(other, shape);
      if (o) return lazyTensor(E.binary("mul", exprOf(g), o), shape);
    }
  }
  if (loop === BINARY_LOOPS.mul && target.numel !== g.numel && canFuseProduct(g.dtype))
    return new Tensor(
      sumProductTo(g.data, other.data, other.shape, shape, target.shape, g.dtype),
      target.shape,
      g.dtype,
    );
  const out = allocate(g.dtype, g.numel);
  runBinary(loop, g.data, shape, other.data, other.shape, shape, out);
  return new Tensor(finishStorage(g.dtype, out), shape, g.dtype);
}

/**
 * Gradients for [A, B] of `A name B`, or null where the op has no fast path here (the caller then runs the
 * declared derivatives).
 */
export function binaryGrads(
  name: string,
  A: Tensor,
  B: Tensor,
  g: Tensor,
  shape: Shape,
): (Tensor | null)[] | null {
  if (g.numel !== numel(shape)) return null;
  const ga = A.requiresGrad;
  const gb = B.requiresGrad;
  switch (name) {
    case "add":
      return [ga ? g : null, gb ? g : null];
    case "sub":
      return [ga ? g : null, gb ? negated(g) : null];
    case "mul":
      return [
        ga ? gradOf(BINARY_LOOPS.mul, g, B, shape, A) : null,
        gb ? gradOf(BINARY_LOOPS.mul, g, A, shape, B) : null,
      ];
    case "div":
      if (gb) return null;
      return [ga ? gradOf(GRAD_A_LOOPS.div, g, B, shape, A) : null, null];
    default:
      return null;
  }
}
