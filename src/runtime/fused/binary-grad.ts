/**
 * Gradients of the binary ops without the generic path's per-element closures, generated from each op's
 * declared derivative (ops/elementwise.ts): an operand's gradient is the formula g * d(a op b)/d(operand),
 * and where that formula reads g and at most the other operand (add, sub, mul, and div's first operand), it
 * runs as a generated loop over (g, other), as a SIMD expression, or summed straight into a broadcast operand's
 * shape (fused/reduce.ts), never materialising the full-size product. Only algebra is known here, no op's
 * math: g * 1 is g exactly (no copy), and a product g * other may be summed as it is made. Every value equals
 * the generic path's `g * da(a, b, y)`, computed in float64 and rounded once.
 */
import { allocate, finishStorage } from "../dtype.ts";
import * as F from "../ops/formula.ts";
import type { Shape } from "../shape.ts";
import type { Expr } from "../simd/expr.ts";
import { exprOf, fusable, fusedExprSumTo, lazyTensor, operandExpr } from "../simd/lazy.ts";
import { Tensor } from "../tensor.ts";
import { type RowLoop, rowLoops, runBinary } from "./binary.ts";
import { canFuseProduct, sumProductTo } from "./reduce.ts";

/** How one operand's gradient formula runs here; made once per declared op (binaryGradPlan). */
export interface GradPlan {
  /** g * d(a op b)/d(operand), reading g and at most `other`. */
  readonly f: F.F;
  /** The operand the formula reads besides g (the other one, for the arithmetic ops), or null. */
  readonly other: "a" | "b" | null;
  /** g * 1: the gradient is g itself. */
  readonly identity: boolean;
  /** g * other: summed into a broadcast operand's shape as the products are made. */
  readonly product: boolean;
  /** One rounding (ops/formula.ts's oneRounding): the SIMD expression's float32 values are the loop's. */
  readonly simd: boolean;
  /** The generated loop over (g, other). */
  readonly row: RowLoop;
}

const isVar = (f: F.F, name: string) => f.k === "var" && f.name === name;

/** The plan of the gradient formula `g * d` (d the declared derivative), or null where the generic path runs. */
export function binaryGradPlan(d: F.F): GradPlan | null {
  const f = F.mul(F.g, d);
  if (F.readsVar(f, "y") || (F.readsVar(f, "a") && F.readsVar(f, "b"))) return null;
  const other = F.readsVar(f, "a") ? "a" : F.readsVar(f, "b") ? "b" : null;
  return {
    f,
    other,
    identity: d.k === "num" && d.v === 1,
    product: other !== null && isVar(d, other),
    simd: F.oneRounding(f),
    // A formula of g alone reads g again as its unused second variable.
    row: rowLoops(F.binaryLoops(f, ["g", other ?? "_"])),
  };
}

/** The plan's formula as a SIMD expression over g and the other operand (float32), or null. */
function simdGrad(plan: GradPlan, g: Tensor, other: Tensor | null, shape: Shape): Expr | null {
  const leaves: Record<string, Expr> = { g: exprOf(g) };
  if (plan.other && other) {
    const o = other.dtype === "float32" ? operandExpr(other, shape) : null;
    if (!o) return null;
    leaves[plan.other] = o;
  }
  return F.simdOf(plan.f, leaves, {});
}

/**
 * The gradient of `target` (one of the op's operands, of A op B over `shape`) by its plan, from g and the
 * other operand: g's shape, or target's own where it was broadcast and the sum could be fused.
 */
function gradOf(plan: GradPlan, g: Tensor, A: Tensor, B: Tensor, shape: Shape, target: Tensor): Tensor {
  if (plan.identity) return g;
  const other = plan.other === "a" ? A : plan.other === "b" ? B : null;
  const broadcast = target.numel !== g.numel;
  const e =
    plan.simd && g.dtype === "float32" && fusable("float32", g.numel)
      ? simdGrad(plan, g, other, shape)
      : null;
  if (e) {
    // Fused: the gradient as a lazy expression, or summed straight to a broadcast operand's shape.
    if (!broadcast) return lazyTensor(e, shape);
    const sums = fusedExprSumTo(e, shape, target.shape);
    if (sums) return sums;
  }
  if (plan.product && other && broadcast && canFuseProduct(g.dtype))
    return new Tensor(
      sumProductTo(g.data, other.data, other.shape, shape, target.shape, g.dtype),
      target.shape,
      g.dtype,
    );
  const out = allocate(g.dtype, g.numel);
  const o = other ?? g;
  runBinary(plan.row, g.data, shape, o.data, o.shape, shape, out);
  return new Tensor(finishStorage(g.dtype, out), shape, g.dtype);
}

/**
 * The gradient of `target` (A or B of `A op B`, of `shape` and n elements) by its plan, or null where it has
 * none (the caller then runs the declared derivative per element).
 */
export function binaryGrad(
  plan: GradPlan | null,
  g: Tensor,
  A: Tensor,
  B: Tensor,
  shape: Shape,
  n: number,
  target: Tensor,
): Tensor | null {
  return plan && g.numel === n ? gradOf(plan, g, A, B, shape, target) : null;
}
