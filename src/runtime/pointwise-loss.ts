/**
 * Losses computed element by element whose gradient PyTorch computes with its own formula (not that of a
 * composition of primitive ops): each is declared once here, as formulas for the loss and for g times its
 * derivatives, op for op as torch's kernels compute them. From the one declaration come the CPU forward and
 * backward (evaluated in the input's dtype, each op rounded as torch stores it), the fused SIMD expressions
 * (toSimd) and, through the trace event "pointwise_loss" and the GPU IR's typed `pointwise_loss` op, the
 * WebGPU kernels and their gradients (src/gpu renders the same formulas as WGSL).
 */
import { record } from "./autograd.ts";
import { allocate, type DType, roundHalf } from "./dtype.ts";
import * as E from "./simd/expr.ts";
import { Tensor } from "./tensor.ts";
import { traceOp } from "./trace.ts";

/**
 * One element's formula over the loss's operands: x (input), t (target), w (weight, 1 when absent), p (the
 * loss's number param: beta, delta) and, in gradients, g (the gradient reaching the element's loss). A node
 * object used twice is computed once.
 */
export type Formula =
  | { readonly k: FormulaOperand }
  | { readonly k: "num"; readonly v: number }
  | { readonly k: "neg" | "log" | "abs"; readonly a: Formula }
  | { readonly k: "add" | "sub" | "mul" | "div" | "max"; readonly a: Formula; readonly b: Formula }
  /** a < b (lt) or a <= b (le) ? yes : no; a NaN comparison takes `no`. */
  | {
      readonly k: "cond";
      readonly cmp: "lt" | "le";
      readonly a: Formula;
      readonly b: Formula;
      readonly yes: Formula;
      readonly no: Formula;
    };

export type FormulaOperand = "x" | "t" | "w" | "g" | "p";

type Arg = Formula | number;
const lift = (v: Arg): Formula => (typeof v === "number" ? { k: "num", v } : v);
const op2 =
  (k: "add" | "sub" | "mul" | "div" | "max") =>
  (a: Arg, b: Arg): Formula => ({ k, a: lift(a), b: lift(b) });
export const F = {
  x: { k: "x" } as Formula,
  t: { k: "t" } as Formula,
  w: { k: "w" } as Formula,
  g: { k: "g" } as Formula,
  p: { k: "p" } as Formula,
  add: op2("add"),
  sub: op2("sub"),
  mul: op2("mul"),
  div: op2("div"),
  max: op2("max"),
  neg: (a: Arg): Formula => ({ k: "neg", a: lift(a) }),
  log: (a: Arg): Formula => ({ k: "log", a: lift(a) }),
  abs: (a: Arg): Formula => ({ k: "abs", a: lift(a) }),
  ifLess: (a: Arg, b: Arg, yes: Arg, no: Arg): Formula => ({
    k: "cond",
    cmp: "lt",
    a: lift(a),
    b: lift(b),
    yes: lift(yes),
    no: lift(no),
  }),
  ifLessEq: (a: Arg, b: Arg, yes: Arg, no: Arg): Formula => ({
    k: "cond",
    cmp: "le",
    a: lift(a),
    b: lift(b),
    yes: lift(yes),
    no: lift(no),
  }),
};

export interface PointwiseLoss {
  /** torch's name, also the trace event's and the GPU op's key. */
  readonly name: PointwiseLossName;
  /** torch's grad_fn name. */
  readonly gradName: string;
  readonly loss: Formula;
  /** g * d(loss)/d(input). */
  readonly dInput: Formula;
  /** g * d(loss)/d(target). */
  readonly dTarget: Formula;
}

export type PointwiseLossName = "mse_loss" | "binary_cross_entropy" | "smooth_l1_loss" | "huber_loss";
export type LossPart = "loss" | "dInput" | "dTarget";

const diff = F.sub(F.x, F.t);
const rdiff = F.sub(F.t, F.x);
const absDiff = F.abs(diff);
const half = 0.5;

/**
 * smooth_l1_loss's and huber_loss's backward as torch's kernel computes it, for the input with d = x - t and
 * for the target with d = t - x: `below` where d <= -p, `above` where d >= p, `inner` in between.
 */
function piecewiseGrad(d: Formula, below: Formula, above: Formula, inner: Formula): Formula {
  return F.ifLessEq(d, F.neg(F.p), below, F.ifLessEq(F.p, d, above, inner));
}
const mseGrad = F.mul(F.g, F.mul(2, diff));

/** torch's EPSILON in the binary_cross_entropy gradient is 1e-12 as a float32 (9.99999996e-13), in every dtype. */
const BCE_EPSILON = Math.fround(1e-12);
const oneMinusX = F.sub(1, F.x);

export const POINTWISE_LOSSES: { readonly [K in PointwiseLossName]: PointwiseLoss & { name: K } } = {
  /** (x - t)^2; the gradient g * 2 (x - t), the target's its negation (MseLossBackward0). */
  mse_loss: {
    name: "mse_loss",
    gradName: "MseLossBackward0",
    loss: F.mul(diff, diff),
    dInput: mseGrad,
    dTarget: F.mul(mseGrad, -1),
  },
  /**
   * torch's kernel: ((t - 1) max(log(1 - x), -100) - t max(log(x), -100)) w, in the input's dtype. log(1 - x),
   * not log1p(-x): for x below float32's epsilon torch's loss is exactly 0. The gradient is torch's
   * g (x - t) / max((1 - x) x, 1e-12) w, the target's -logit(x) g w (unclamped: infinite at x = 0 or 1).
   */
  /** torch's kernels: 0.5 z z / beta below beta, z - 0.5 beta above (z = |x - t|); the gradient d / beta g. */
  smooth_l1_loss: {
    name: "smooth_l1_loss",
    gradName: "SmoothL1LossBackward0",
    loss: F.ifLess(
      absDiff,
      F.p,
      F.div(F.mul(F.mul(half, absDiff), absDiff), F.p),
      F.sub(absDiff, F.mul(half, F.p)),
    ),
    dInput: piecewiseGrad(diff, F.neg(F.g), F.g, F.mul(F.div(diff, F.p), F.g)),
    dTarget: piecewiseGrad(rdiff, F.neg(F.g), F.g, F.mul(F.div(rdiff, F.p), F.g)),
  },
  /** torch's kernels: 0.5 z z below delta, delta (z - 0.5 delta) above (z = |x - t|); the gradient d g. */
  huber_loss: {
    name: "huber_loss",
    gradName: "HuberLossBackward0",
    loss: F.ifLess(
      absDiff,
      F.p,
      F.mul(F.mul(half, absDiff), absDiff),
      F.mul(F.p, F.sub(absDiff, F.mul(half, F.p))),
    ),
    dInput: piecewiseGrad(diff, F.mul(F.neg(F.g), F.p), F.mul(F.g, F.p), F.mul(diff, F.g)),
    dTarget: piecewiseGrad(rdiff, F.mul(F.neg(F.g), F.p), F.mul(F.g, F.p), F.mul(rdiff, F.g)),
  },
  binary_cross_entropy: {
    name: "binary_cross_entropy",
    gradName: "BinaryCrossEntropyBackward0",
    loss: F.mul(
      F.sub(F.mul(F.sub(F.t, 1), F.max(F.log(oneMinusX), -100)), F.mul(F.t, F.max(F.log(F.x), -100))),
      F.w,
    ),
    dInput: F.mul(F.div(F.mul(F.g, F.sub(F.x, F.t)), F.max(F.mul(oneMinusX, F.x), BCE_EPSILON)), F.w),
    dTarget: F.mul(F.mul(F.neg(F.log(F.div(F.x, oneMinusX))), F.g), F.w),
  },
};

/** Whether a formula reads an operand (a loss without a weight never loads one). */
export function formulaReads(f: Formula, v: FormulaOperand): boolean {
  switch (f.k) {
    case "x":
    case "t":
    case "w":
    case "g":
    case "p":
      return f.k === v;
    case "num":
      return false;
    case "neg":
    case "log":
    case "abs":
      return formulaReads(f.a, v);
    case "cond":
      return [f.a, f.b, f.yes, f.no].some((n) => formulaReads(n, v));
    default:
      return formulaReads(f.a, v) || formulaReads(f.b, v);
  }
}

const exact = (x: number): number => x;

export function storeRounding(dtype: DType): (x: number) => number {
  if (dtype === "float32") return Math.fround;
  if (dtype === "float16") return roundHalf;
  return exact;
}

const compiled = new WeakMap<Formula, Map<(v: number) => number, (e: Env) => number>>();

/** compileFormula, once per formula and rounding (a 12-point loss runs its formulas every few microseconds). */
export function formulaFn(f: Formula, R: (v: number) => number): (e: Env) => number {
  let byR = compiled.get(f);
  if (!byR) {
    byR = new Map();
    compiled.set(f, byR);
  }
  let fn = byR.get(R);
  if (!fn) {
    fn = compileFormula(f, R);
    byR.set(R, fn);
  }
  return fn;
}

export type Env = { x: number; t: number; w: number; g: number; p: number };

/** The formula as a function of one element's operands, each op rounded by R (as storing it in the dtype). */
export function compileFormula(f: Formula, R: (v: number) => number): (e: Env) => number {
  switch (f.k) {
    case "x":
      return (e) => e.x;
    case "t":
      return (e) => e.t;
    case "w":
      return (e) => e.w;
    case "g":
      return (e) => e.g;
    case "p":
      // The param in the dtype, as torch converts beta and delta to the tensor's scalar type.
      return (e) => R(e.p);
    case "abs": {
      const a = compileFormula(f.a, R);
      return (e) => Math.abs(a(e));
    }
    case "cond": {
      const [a, b, yes, no] = [f.a, f.b, f.yes, f.no].map((n) => compileFormula(n, R));
      return f.cmp === "lt" ? (e) => (a(e) < b(e) ? yes(e) : no(e)) : (e) => (a(e) <= b(e) ? yes(e) : no(e));
    }
    case "num": {
      const v = R(f.v);
      return () => v;
    }
    case "neg": {
      const a = compileFormula(f.a, R);
      return (e) => -a(e);
    }
    case "log": {
      const a = compileFormula(f.a, R);
      return (e) => R(Math.log(a(e)));
    }
    case "max": {
      const [a, b] = [compileFormula(f.a, R), compileFormula(f.b, R)];
      // A NaN operand gives NaN, as torch's std::max(log(x), -100) keeps a NaN log.
      return (e) => Math.max(a(e), b(e));
    }
    default: {
      const [a, b] = [compileFormula(f.a, R), compileFormula(f.b, R)];
      switch (f.k) {
        case "add":
          return (e) => R(a(e) + b(e));
        case "sub":
          return (e) => R(a(e) - b(e));
        case "mul":
          return (e) => R(a(e) * b(e));
        case "div":
          return (e) => R(a(e) / b(e));
      }
    }
  }
}

/**
 * The formula as a lazy float32 SIMD expression, or null when it uses an op the vector machine lacks (log,
 * max). A node used twice becomes one shared expression node.
 */
export function toSimd(f: Formula, operands: Partial<Record<FormulaOperand, E.Expr>>): E.Expr | null {
  const memo = new Map<Formula, E.Expr | null>();
  const go = (n: Formula): E.Expr | null => {
    const hit = memo.get(n);
    if (hit !== undefined) return hit;
    let r: E.Expr | null;
    switch (n.k) {
      case "x":
      case "t":
      case "w":
      case "g":
        r = operands[n.k] ?? null;
        break;
      case "num":
        r = E.constant(n.v);
        break;
      case "neg":
      case "abs": {
        const a = go(n.a);
        r = a && E.unary(n.k, a);
        break;
      }
      case "add":
      case "sub":
      case "mul":
      case "div": {
        const a = go(n.a);
        const b = go(n.b);
        r = a && b && E.binary(n.k, a, b);
        break;
      }
      default:
        r = null;
    }
    memo.set(n, r);
    return r;
  };
  return go(f);
}

/**
 * A pointwise loss, unreduced: input, target and weight (null: 1) of the input's shape (the caller expands
 * them). The backward evaluates the same declaration's gradients in the gradient's dtype.
 */
export function pointwiseLoss(
  spec: PointwiseLoss,
  input: Tensor,
  target: Tensor,
  weight: Tensor | null,
  p = 0,
): Tensor {
  /** The formula at every element, in `dtype`, with g read from `g` (1 when null). */
  const run = (f: Formula, dtype: DType, g: Tensor | null): Tensor => {
    const fn = formulaFn(f, storeRounding(dtype));
    const out = allocate(dtype, input.numel);
    const e: Env = { x: 0, t: 0, w: 1, g: 1, p };
    for (let i = 0; i < out.length; i++) {
      e.x = input.data[i];
      e.t = target.data[i];
      if (weight) e.w = weight.data[i];
      if (g) e.g = g.data[i];
      out[i] = fn(e);
    }
    return new Tensor(out, input.shape, dtype);
  };
  const result = record(run(spec.loss, input.dtype, null), spec.gradName, [input, target], (g) => [
    input.requiresGrad ? run(spec.dInput, g.dtype, g) : null,
    target.requiresGrad ? run(spec.dTarget, g.dtype, g) : null,
  ]);
  return traceOp("pointwise_loss", [input, target, weight], { loss: spec.name, p }, result);
}
