/**
 * Elementwise ops, one declaration each: the forward and gradient written once as formulas (ops/formula.ts),
 * from which the CPU loops, the SIMD expressions and the WebGPU kernels are generated, and the PyTorch code the
 * op stands for. A unary op may also declare itself a node kind (UnaryDecl.kind: description, torch arguments,
 * parity samples), which nodes/activations.ts builds: adding an activation is one declaration here.
 */
import { record } from "../autograd.ts";
import { type DType, isFloating, resultType, scalarDType } from "../dtype.ts";
import { registerBinaryLoops } from "../fused/binary.ts";
import { binaryGrad, binaryGradPlan, type GradPlan } from "../fused/binary-grad.ts";
import { runUnary, runUnaryGrad } from "../fused/unary.ts";
import { broadcastShapes, sameShape } from "../shape.ts";
import type { BinaryOpName, Expr } from "../simd/expr.ts";
import { exprOf, fusable, lazyBinary, lazyTensor, lazyUnary } from "../simd/lazy.ts";
import { full, type Tensor } from "../tensor.ts";
import { isTracing, traceOp } from "../trace.ts";
import { VJP } from "../vjp.ts";
import * as F from "./formula.ts";
import { type Attrs, JsKernels, simdOf, wgslOf } from "./formula.ts";
import { mapBinary, mapTernary, mapUnary } from "./kernels.ts";
import { sumToShape } from "./layout.ts";
import { INV_SQRT_2, INV_SQRT_2PI, SQRT_2_OVER_PI } from "./special.ts";

export type { Attrs } from "./formula.ts";
export { wgslFloat } from "./formula.ts";

export interface UnaryDecl {
  /** The PyTorch name (torch.* or torch.nn.functional.*). */
  name: string;
  /** torch's grad_fn name. */
  gradName: string;
  /** The output as a formula of x. */
  forward(a: Attrs): F.F;
  /** The input's gradient as a formula of g (the output's gradient), x and y; omitted for no gradient. */
  backward?(a: Attrs): F.F;
  /**
   * Integer inputs: keep the dtype ("same"), compute in the default float ("float"), or refuse them ("refuse":
   * torch has no integer kernel for gelu, leaky_relu, softplus, logsigmoid), as torch does.
   */
  ints: "same" | "float" | "refuse";
  torch(x: string, a: Attrs): string;
  /**
   * Large float32 tensors run on the SIMD path (simd/expr.ts): the forward ("forward"), or the gradient too
   * ("both"). Only where the vector machine's float32 operations give the plain loop's values bit for bit: one
   * correctly rounded operation, a float32 breakdown (tanh), or a comparison's select (relu: no arithmetic).
   */
  simd?: "forward" | "both";
  /**
   * Declares the op as a node kind of the Activations family (nodes/activations.ts builds it): what it
   * computes, and its torch arguments besides the input, with torch's defaults.
   */
  kind?: { description: string; args?: readonly UnaryArg[]; samples: readonly UnarySample[] };
  /** Why torch refuses these attributes (its message), or null. */
  check?(a: Attrs): string | null;
}

/** Nested arrays of numbers, like torch.tensor's first argument. */
export type NestedValues = number | NestedValues[];

/**
 * A parity sample of an op declared as a kind: an input and argument values, which the registry's completeness
 * test runs on every backend against live PyTorch (no ties, zeros or kinks a gradient check would straddle).
 */
export interface UnarySample {
  name?: string;
  input: NestedValues;
  args?: Record<string, number>;
}

/** A (2, 3) input with both signs, no zeros and no kinks of the activations here. */
const SAMPLE: NestedValues = [
  [0.5, -1.25, 2.0],
  [-0.75, 1.5, 0.25],
];
/** SAMPLE, away from the shrink functions' default band edges at +-0.5. */
const SHRINK_SAMPLE: NestedValues = [
  [0.3, -1.25, 2.0],
  [-0.75, 1.5, 0.1],
];

/** A numeric torch argument of a unary op (alpha, lambd, min_val...). */
export interface UnaryArg {
  name: string;
  default: number;
  help: string;
  /** The smallest value torch accepts. */
  min?: number;
}

export const UNARY: Record<string, UnaryDecl> = {};
function unary(d: UnaryDecl): void {
  UNARY[d.name] = d;
}

const { x, y, g, attr, add, sub, mul, div, min, max, sel, bind, prod } = F;
/** g * df: most gradients are the incoming gradient times the derivative. */
const times = (df: F.F | number): F.F => mul(g, df);

unary({
  name: "neg",
  gradName: "NegBackward0",
  forward: () => F.neg(x),
  backward: () => times(-1),
  ints: "same",
  torch: (x) => `-${x}`,
  simd: "both",
});
unary({
  name: "abs",
  gradName: "AbsBackward0",
  forward: () => F.abs(x),
  backward: () => times(F.sign(x)),
  ints: "same",
  torch: (x) => `torch.abs(${x})`,
  simd: "forward",
});
unary({
  name: "sign",
  gradName: "SignBackward0",
  // torch.sign(nan) is 0 here, and never -0.
  forward: () => sel(F.isnan(x), 0, add(F.sign(x), 0)),
  backward: () => times(0),
  ints: "same",
  torch: (x) => `torch.sign(${x})`,
});
unary({
  name: "exp",
  gradName: "ExpBackward0",
  forward: () => F.exp(x),
  backward: () => times(y),
  ints: "float",
  torch: (x) => `torch.exp(${x})`,
});
unary({
  name: "log",
  gradName: "LogBackward0",
  forward: () => F.log(x),
  backward: () => times(div(1, x)),
  ints: "float",
  torch: (x) => `torch.log(${x})`,
});
unary({
  name: "log1p",
  gradName: "Log1PBackward0",
  forward: () => F.log1p(x),
  backward: () => times(div(1, add(1, x))),
  ints: "float",
  torch: (x) => `torch.log1p(${x})`,
});
unary({
  name: "sqrt",
  gradName: "SqrtBackward0",
  forward: () => F.sqrt(x),
  backward: () => times(div(1, mul(2, y))),
  ints: "float",
  torch: (x) => `torch.sqrt(${x})`,
  simd: "forward",
});
unary({
  name: "sigmoid",
  gradName: "SigmoidBackward0",
  forward: () => F.sigmoidF(x),
  backward: () => times(mul(y, sub(1, y))),
  ints: "float",
  torch: (x) => `torch.sigmoid(${x})`,
});
/**
 * log_sigmoid(v) as torch computes it, min(v, 0) - log1p(exp(-|v|)): no overflow and no log(0). A formula of
 * any v, so the losses that need it (pointwise-loss.ts) read this declaration rather than writing it again.
 */
export const logSigmoidOf = (v: F.F): F.F => sub(min(v, 0), F.log1p(F.exp(F.neg(F.abs(v)))));
unary({
  name: "log_sigmoid",
  gradName: "LogSigmoidBackward0",
  forward: () => logSigmoidOf(x),
  backward: () => times(F.sigmoidF(F.neg(x))),
  ints: "refuse",
  torch: (x) => `F.logsigmoid(${x})`,
});
unary({
  name: "tanh",
  gradName: "TanhBackward0",
  forward: () => F.tanh(x),
  // torch's kernel: g * (1 - y * y) with 1 - y * y from a fused multiply-add, i.e. rounded once.
  backward: () => times(F.dtanh(y)),
  ints: "float",
  torch: (x) => `torch.tanh(${x})`,
  simd: "both",
});
unary({
  name: "relu",
  gradName: "ReluBackward0",
  // torch's clamp_min(x, 0): x < 0 ? 0 : x, which keeps -0 (relu(-0.) prints -0.) and passes a NaN through
  // unchanged; max(x, 0) would give +0. A select, so the SIMD path passes the same bits.
  forward: () => sel(F.lt(x, 0), 0, x),
  // torch's threshold_backward: 0 where x <= 0 whatever the gradient (an infinite one included), else g; so a
  // NaN input passes the gradient.
  backward: () => sel(F.le(x, 0), 0, g),
  ints: "same",
  torch: (x) => `F.relu(${x})`,
  simd: "both",
});
unary({
  name: "leaky_relu",
  gradName: "LeakyReluBackward0",
  forward: () => sel(F.gt(x, 0), x, mul(x, attr("negative_slope"))),
  backward: () => times(sel(F.gt(x, 0), 1, attr("negative_slope"))),
  ints: "refuse",
  torch: (x, a) => `F.leaky_relu(${x}, negative_slope=${a.negative_slope})`,
});
/** tanh-approximate gelu's tanh argument, sqrt(2/pi) * (x + 0.044715 x^3). */
const geluInner = () => mul(SQRT_2_OVER_PI, add(x, prod(0.044715, x, x, x)));
unary({
  name: "gelu",
  gradName: "GeluBackward0",
  forward: (a) =>
    a.approximate === "tanh"
      ? prod(0.5, x, add(1, F.tanh(geluInner())))
      : prod(0.5, x, add(1, F.erfF(mul(x, INV_SQRT_2)))),
  backward: (a) =>
    times(
      a.approximate === "tanh"
        ? bind(F.tanh(geluInner()), (t) =>
            add(
              mul(0.5, add(1, t)),
              prod(0.5, x, F.dtanh(t), SQRT_2_OVER_PI, add(1, prod(3 * 0.044715, x, x))),
            ),
          )
        : add(mul(0.5, add(1, F.erfF(mul(x, INV_SQRT_2)))), prod(x, INV_SQRT_2PI, F.exp(prod(-0.5, x, x)))),
    ),
  ints: "refuse",
  torch: (x, a) => (a.approximate === "tanh" ? `F.gelu(${x}, approximate="tanh")` : `F.gelu(${x})`),
});
unary({
  name: "softplus",
  gradName: "SoftplusBackward0",
  forward: () =>
    sel(
      F.gt(mul(x, attr("beta")), attr("threshold")),
      x,
      div(F.log1p(F.exp(mul(attr("beta"), x))), attr("beta")),
    ),
  backward: () =>
    times(sel(F.gt(mul(x, attr("beta")), attr("threshold")), 1, F.sigmoidF(mul(attr("beta"), x)))),
  ints: "refuse",
  torch: (x, a) => `F.softplus(${x}, beta=${a.beta}, threshold=${a.threshold})`,
});
/** clamp's bounds: None is no bound. */
const lo = () => attr("min", Number.NEGATIVE_INFINITY);
const hi = () => attr("max", Number.POSITIVE_INFINITY);
unary({
  name: "clamp",
  gradName: "ClampBackward1",
  // torch.clamp propagates NaN and applies min then max, so min > max gives max.
  forward: () => sel(F.isnan(x), x, min(max(x, lo()), hi())),
  backward: () => times(sel(F.and(F.ge(x, lo()), F.le(x, hi())), 1, 0)),
  ints: "same",
  torch: (x, a) => `torch.clamp(${x}, min=${a.min ?? "None"}, max=${a.max ?? "None"})`,
});
unary({
  name: "pow_scalar",
  gradName: "PowBackward0",
  // x ** 2 is one multiply (exactly what pow computes), and its gradient 2 * x ** 1 is 2 * x.
  forward: (a) => (a.exponent === 2 ? mul(x, x) : F.pow(x, attr("exponent"))),
  backward: (a) =>
    times(
      a.exponent === 0
        ? 0
        : a.exponent === 2
          ? mul(2, x)
          : mul(attr("exponent"), F.pow(x, sub(attr("exponent"), 1))),
    ),
  ints: "same",
  torch: (x, a) => `${x} ** ${a.exponent}`,
});

// ---- activations of torch.nn.functional, as torch 1.13's CPU kernels compute them ------------------------------
/**
 * elu's family (elu, selu, celu): x * scale above 0, else (exp(x * input_scale) - 1) * alpha * scale; the
 * gradient below 0 is g * input_scale * (alpha * scale) * exp(x * input_scale), torch's elu_backward on x
 * (celu's backward reads its input scale from alpha rounded to float32, as torch's derivatives.yaml does).
 */
function eluLike(alpha: F.F | number, scale: number, inputScale: F.F | number, gradInputScale = inputScale) {
  const negcoef = mul(alpha, scale);
  return {
    forward: () => sel(F.le(x, 0), mul(sub(F.exp(mul(x, inputScale)), 1), negcoef), mul(x, scale)),
    backward: () =>
      sel(F.le(x, 0), prod(g, gradInputScale, negcoef, F.exp(mul(x, gradInputScale))), mul(g, scale)),
  };
}
unary({
  name: "elu",
  gradName: "EluBackward0",
  ...eluLike(attr("alpha"), 1, 1),
  ints: "refuse",
  torch: (x, a) => `F.elu(${x}, alpha=${a.alpha})`,
  kind: {
    description: "alpha * (exp(x) - 1) below 0, x above, like F.elu",
    args: [{ name: "alpha", default: 1.0, help: "the value approached for large negative inputs is -alpha" }],
    samples: [{ input: SAMPLE }, { name: "alpha 0.5", input: SAMPLE, args: { alpha: 0.5 } }],
  },
});
unary({
  name: "selu",
  gradName: "EluBackward0",
  ...eluLike(1.6732632423543772, 1.0507009873554805, 1),
  ints: "refuse",
  torch: (x) => `F.selu(${x})`,
  kind: {
    description: "Scaled elu with the self-normalising constants, like F.selu",
    samples: [{ input: SAMPLE }],
  },
});
unary({
  name: "celu",
  gradName: "CeluBackward0",
  ...eluLike(attr("alpha"), 1, div(1, attr("alpha")), div(1, F.fround(attr("alpha")))),
  ints: "refuse",
  torch: (x, a) => `F.celu(${x}, alpha=${a.alpha})`,
  check: (a) => (a.alpha === 0 ? "ZeroDivisionError: alpha cannot be 0 for CELU" : null),
  kind: {
    description: "alpha * (exp(x / alpha) - 1) below 0, x above, like F.celu",
    args: [{ name: "alpha", default: 1.0, help: "the value approached for large negative inputs is -alpha" }],
    samples: [{ input: SAMPLE }, { name: "alpha 0.7", input: SAMPLE, args: { alpha: 0.7 } }],
  },
});
unary({
  name: "silu",
  gradName: "SiluBackward0",
  forward: () => div(x, add(1, F.exp(F.neg(x)))),
  backward: () => bind(div(1, add(1, F.exp(F.neg(x)))), (s) => prod(g, s, add(1, mul(x, sub(1, s))))),
  ints: "refuse",
  torch: (x) => `F.silu(${x})`,
  kind: { description: "x * sigmoid(x) (swish), like F.silu", samples: [{ input: SAMPLE }] },
});
unary({
  name: "mish",
  gradName: "MishBackward0",
  forward: () => mul(x, F.tanh(F.log1p(F.exp(x)))),
  backward: () =>
    bind(F.tanh(F.log1p(F.exp(x))), (t) =>
      mul(g, add(t, prod(x, div(1, add(1, F.exp(F.neg(x)))), F.dtanh(t)))),
    ),
  ints: "refuse",
  torch: (x) => `F.mish(${x})`,
  kind: { description: "x * tanh(softplus(x)), like F.mish", samples: [{ input: SAMPLE }] },
});
/** hardtanh's clamp: NaN stays NaN; the gradient is 0 at and beyond the bounds (torch's hardtanh_backward). */
function hardtanhOf(lo: F.F | number, hi: F.F | number) {
  return {
    forward: () => min(max(x, lo), hi),
    backward: () => sel(F.or(F.le(x, lo), F.ge(x, hi)), 0, g),
  };
}
unary({
  name: "hardtanh",
  gradName: "HardtanhBackward0",
  ...hardtanhOf(attr("min_val"), attr("max_val")),
  ints: "same",
  torch: (x, a) => `F.hardtanh(${x}, min_val=${a.min_val}, max_val=${a.max_val})`,
  kind: {
    description: "x clamped to [min_val, max_val], like F.hardtanh",
    args: [
      { name: "min_val", default: -1.0, help: "lower bound" },
      { name: "max_val", default: 1.0, help: "upper bound" },
    ],
    samples: [
      { input: SAMPLE },
      { name: "min_val -0.5, max_val 1.75", input: SAMPLE, args: { min_val: -0.5, max_val: 1.75 } },
    ],
  },
});
unary({
  name: "relu6",
  gradName: "HardtanhBackward0",
  ...hardtanhOf(0, 6),
  ints: "same",
  torch: (x) => `F.relu6(${x})`,
  kind: {
    description: "min(max(x, 0), 6), like F.relu6",
    samples: [
      {
        input: [
          [0.5, -1.25, 7.0],
          [-0.75, 5.5, 0.25],
        ],
      },
    ],
  },
});
unary({
  name: "hardsigmoid",
  gradName: "HardsigmoidBackward0",
  forward: () => div(min(max(add(x, 3), 0), 6), 6),
  // torch multiplies by 1/6 as a float literal (1.0f / 6.0f), in float64 too.
  backward: () => sel(F.and(F.gt(x, -3), F.lt(x, 3)), mul(g, Math.fround(1 / 6)), 0),
  ints: "refuse",
  torch: (x) => `F.hardsigmoid(${x})`,
  kind: {
    description: "A piecewise linear sigmoid, min(max(x + 3, 0), 6) / 6, like F.hardsigmoid",
    samples: [
      {
        input: [
          [0.5, -3.5, 2.0],
          [-0.75, 4.0, 0.25],
        ],
      },
    ],
  },
});
unary({
  name: "hardswish",
  gradName: "HardswishBackward0",
  forward: () => div(mul(x, min(max(add(x, 3), 0), 6)), 6),
  backward: () => sel(F.lt(x, -3), 0, sel(F.le(x, 3), mul(g, add(div(x, 3), 0.5)), g)),
  ints: "refuse",
  torch: (x) => `F.hardswish(${x})`,
  kind: {
    description: "x * hardsigmoid(x), like F.hardswish",
    samples: [
      {
        input: [
          [0.5, -3.5, 2.0],
          [-0.75, 4.0, 0.25],
        ],
      },
    ],
  },
});
unary({
  name: "softsign",
  gradName: "DivBackward0",
  // torch composes it, x / (|x| + 1); the gradient is autograd's through div and abs.
  forward: () => div(x, add(F.abs(x), 1)),
  backward: () =>
    bind(add(F.abs(x), 1), (d) => add(div(g, d), mul(div(mul(F.neg(g), x), mul(d, d)), F.sign(x)))),
  ints: "float",
  torch: (x) => `F.softsign(${x})`,
  kind: { description: "x / (1 + |x|), like F.softsign", samples: [{ input: SAMPLE }] },
});
unary({
  name: "tanhshrink",
  gradName: "SubBackward0",
  // torch composes it, x - tanh(x); the gradient is autograd's sum g + (-g) * (1 - tanh(x)^2).
  forward: () => sub(x, F.tanh(x)),
  backward: () => bind(F.tanh(x), (t) => add(g, mul(F.neg(g), F.dtanh(t)))),
  ints: "float",
  torch: (x) => `F.tanhshrink(${x})`,
  kind: { description: "x - tanh(x), like F.tanhshrink", samples: [{ input: SAMPLE }] },
});
/** hardshrink's and softshrink's dead zone [-lambd, lambd]. */
const inDeadZone = () => F.and(F.ge(x, F.neg(attr("lambd"))), F.le(x, attr("lambd")));
unary({
  name: "hardshrink",
  gradName: "HardshrinkBackward0",
  forward: () => sel(inDeadZone(), 0, x),
  backward: () => sel(inDeadZone(), 0, g),
  ints: "refuse",
  torch: (x, a) => `F.hardshrink(${x}, lambd=${a.lambd})`,
  kind: {
    description: "0 on [-lambd, lambd], x elsewhere, like F.hardshrink",
    args: [{ name: "lambd", default: 0.5, help: "half-width of the zeroed band" }],
    samples: [{ input: SHRINK_SAMPLE }, { name: "lambd 1", input: SAMPLE, args: { lambd: 1 } }],
  },
});
unary({
  name: "softshrink",
  gradName: "SoftshrinkBackward0",
  // x * 0 in the dead zone, as torch's kernel: NaN stays NaN.
  forward: () =>
    sel(
      F.gt(x, attr("lambd")),
      sub(x, attr("lambd")),
      sel(F.lt(x, F.neg(attr("lambd"))), add(x, attr("lambd")), mul(x, 0)),
    ),
  backward: () => sel(inDeadZone(), 0, g),
  ints: "refuse",
  torch: (x, a) => `F.softshrink(${x}, lambd=${a.lambd})`,
  check: (a) =>
    (a.lambd as number) < 0 ? `lambda must be greater or equal to 0, but found to be ${a.lambd}.` : null,
  kind: {
    description: "0 on [-lambd, lambd], x shrunk towards 0 by lambd elsewhere, like F.softshrink",
    args: [{ name: "lambd", default: 0.5, min: 0, help: "half-width of the zeroed band, and the shrinkage" }],
    samples: [{ input: SHRINK_SAMPLE }, { name: "lambd 1", input: SAMPLE, args: { lambd: 1 } }],
  },
});

function unaryOutDType(d: UnaryDecl, x: Tensor): DType {
  if (isFloating(x.dtype)) return x.dtype;
  if (d.ints === "refuse")
    throw new TypeError(
      `${d.name}: not implemented for ${x.dtype} tensors (PyTorch computes it for floating point only); cast the input to float32 first`,
    );
  if (d.ints === "float") return "float32";
  return x.dtype === "bool" ? "int64" : x.dtype;
}

/** One op's formulas with one set of attributes, and what is generated from them (made once, cached). */
export interface UnaryKernels {
  decl: UnaryDecl;
  forward: F.F;
  backward: F.F | undefined;
  js: JsKernels;
}

const kernelCache = new Map<UnaryDecl, Map<string, UnaryKernels>>();

/** The generated kernels of a declared unary op for these attributes. */
export function unaryKernels(name: string, attrs: Attrs = {}): UnaryKernels {
  const decl = UNARY[name];
  if (!decl) throw new TypeError(`unknown unary op '${name}'`);
  let byAttrs = kernelCache.get(decl);
  if (!byAttrs) {
    byAttrs = new Map();
    kernelCache.set(decl, byAttrs);
  }
  const key = JSON.stringify(attrs);
  let k = byAttrs.get(key);
  if (!k) {
    const forward = decl.forward(attrs);
    const backward = decl.backward?.(attrs);
    k = { decl, forward, backward, js: new JsKernels(forward, backward, attrs) };
    // A bounded cache: attribute sets are few per graph, but a slider may sweep many.
    if (byAttrs.size > 64) byAttrs.clear();
    byAttrs.set(key, k);
  }
  return k;
}

/** The WGSL of a declared unary op's forward (reads x) and gradient (reads g, x, y; null where it has none). */
export function unaryWgsl(name: string, attrs: Attrs): { forward: string; backward: string | null } {
  const k = unaryKernels(name, attrs);
  return { forward: wgslOf(k.forward, attrs), backward: k.backward ? wgslOf(k.backward, attrs) : null };
}

/** Run a declared unary op on the CPU, recording its gradient. */
export function applyUnary(name: string, x: Tensor, attrs: Attrs = {}): Tensor {
  const k = unaryKernels(name, attrs);
  const d = k.decl;
  const refused = d.check?.(attrs);
  if (refused) throw new RangeError(`${name}: ${refused}`);
  const dtype = unaryOutDType(d, x);
  const out =
    (d.simd && lazyUnary(x, dtype, (e) => simdOf(k.forward, { x: e }, attrs))) || runUnary(k.js, x, dtype);
  if (isTracing()) traceOp("unary", [x], { ...attrs, name }, out);
  const backward = k.backward;
  if (!backward) return out;
  return record(out, d.gradName, [x], (g) => {
    const fused = d.simd === "both" && lazyUnaryGrad(backward, attrs, g, x, out);
    if (fused) return [fused];
    const fast = runUnaryGrad(k.js, g, x, out);
    if (fast) return [fast];
    const grad = k.js.gradFn();
    return [mapTernary(g, x, out, out.shape, grad, g.dtype)];
  });
}

/** A declared gradient as a SIMD lazy expression of g, x and y, where all three are float32 and large. */
function lazyUnaryGrad(backward: F.F, attrs: Attrs, g: Tensor, x: Tensor, y: Tensor): Tensor | null {
  if ([g, x, y].some((t) => t.dtype !== "float32" || t.numel !== g.numel)) return null;
  if (!fusable("float32", g.numel)) return null;
  const e: Expr | null = simdOf(backward, { g: exprOf(g), x: exprOf(x), y: exprOf(y) }, attrs);
  return e && lazyTensor(e, g.shape);
}

/** A binary op as declared: formulas over the operands a and b (derivatives may also read y, the output). */
export interface BinarySpec {
  name: string;
  gradName: string;
  forward: F.F;
  /** d y / d a and d y / d b; omitted for comparisons (no gradient). */
  gradA?: F.F;
  gradB?: F.F;
  /** "promote": torch's result type; "float": true division; "bool": comparisons. */
  out: "promote" | "float" | "bool";
  torch(a: string, b: string): string;
}

/** A declared binary op with what its formulas generate: scalar functions, WGSL, the SIMD instruction. */
export interface BinaryDecl extends Omit<BinarySpec, "gradA" | "gradB"> {
  fn(a: number, b: number): number;
  da?(a: number, b: number, y: number): number;
  db?(a: number, b: number, y: number): number;
  wgsl: string;
  dawgsl?: string;
  dbwgsl?: string;
  /** The vector machine instruction on the SIMD path (simd/expr.ts). */
  simd?: BinaryOpName;
  /** How each operand's gradient runs without per-element closures, where it can (fused/binary-grad.ts). */
  gradPlans: [GradPlan | null, GradPlan | null];
}

export const BINARY: Record<string, BinaryDecl> = {};
function binary(d: BinarySpec): void {
  const grad = (f: F.F | undefined) =>
    f && F.jsFunction<(a: number, b: number, y: number) => number>(f, ["a", "b", "y"]);
  BINARY[d.name] = {
    name: d.name,
    gradName: d.gradName,
    forward: d.forward,
    out: d.out,
    torch: d.torch,
    fn: F.jsFunction(d.forward, ["a", "b"]),
    da: grad(d.gradA),
    db: grad(d.gradB),
    wgsl: wgslOf(d.forward, {}),
    dawgsl: d.gradA && wgslOf(d.gradA, {}),
    dbwgsl: d.gradB && wgslOf(d.gradB, {}),
    simd: F.simdBinaryOp(d.forward) ?? undefined,
    gradPlans: [d.gradA ? binaryGradPlan(d.gradA) : null, d.gradB ? binaryGradPlan(d.gradB) : null],
  };
  registerBinaryLoops(d.name, F.binaryLoops(d.forward));
}

const { a: A_, b: B_ } = F;
binary({
  name: "add",
  gradName: "AddBackward0",
  forward: add(A_, B_),
  gradA: F.num(1),
  gradB: F.num(1),
  out: "promote",
  torch: (a, b) => `${a} + ${b}`,
});
binary({
  name: "sub",
  gradName: "SubBackward0",
  forward: sub(A_, B_),
  gradA: F.num(1),
  gradB: F.num(-1),
  out: "promote",
  torch: (a, b) => `${a} - ${b}`,
});
binary({
  name: "mul",
  gradName: "MulBackward0",
  forward: mul(A_, B_),
  gradA: B_,
  gradB: A_,
  out: "promote",
  torch: (a, b) => `${a} * ${b}`,
});
binary({
  name: "div",
  gradName: "DivBackward0",
  forward: div(A_, B_),
  gradA: div(1, B_),
  gradB: div(F.neg(A_), mul(B_, B_)),
  out: "float",
  torch: (a, b) => `${a} / ${b}`,
});
binary({
  name: "pow",
  gradName: "PowBackward1",
  forward: F.pow(A_, B_),
  // torch masks the exponent's gradient where it would be 0 * log(0).
  gradA: sel(F.eq(B_, 0), 0, mul(B_, F.pow(A_, sub(B_, 1)))),
  // torch masks the exponent's gradient only where a == 0 and b >= 0: 0 ** -1 keeps its -inf (or nan).
  gradB: sel(F.and(F.eq(A_, 0), F.ge(B_, 0)), 0, mul(y, F.log(A_))),
  out: "promote",
  torch: (a, b) => `torch.pow(${a}, ${b})`,
});
binary({
  name: "xlogy",
  gradName: "XlogyBackward0",
  // torch.xlogy: 0 where x == 0 (unless y is nan), so 0 log 0 = 0 in kl_div and entropies.
  forward: sel(F.isnan(B_), B_, sel(F.eq(A_, 0), 0, mul(A_, F.log(B_)))),
  // torch: xlogy(grad, y) masked to 0 only where x == 0 and y <= 0, so x == 0 still gets log(y) for y > 0.
  gradA: sel(F.and(F.eq(A_, 0), F.le(B_, 0)), 0, F.log(B_)),
  gradB: div(A_, B_),
  out: "float",
  torch: (a, b) => `torch.xlogy(${a}, ${b})`,
});
/** NaN when either operand is (torch.maximum and minimum propagate it). */
const nanOr = (v: F.F) => sel(F.or(F.isnan(A_), F.isnan(B_)), Number.NaN, v);
binary({
  name: "maximum",
  gradName: "MaximumBackward0",
  forward: nanOr(max(A_, B_)),
  // Ties split the gradient in half, as torch does.
  gradA: sel(F.gt(A_, B_), 1, sel(F.eq(A_, B_), 0.5, 0)),
  gradB: sel(F.gt(B_, A_), 1, sel(F.eq(A_, B_), 0.5, 0)),
  out: "promote",
  torch: (a, b) => `torch.maximum(${a}, ${b})`,
});
binary({
  name: "minimum",
  gradName: "MinimumBackward0",
  forward: nanOr(min(A_, B_)),
  gradA: sel(F.lt(A_, B_), 1, sel(F.eq(A_, B_), 0.5, 0)),
  gradB: sel(F.lt(B_, A_), 1, sel(F.eq(A_, B_), 0.5, 0)),
  out: "promote",
  torch: (a, b) => `torch.minimum(${a}, ${b})`,
});
for (const [name, cmp, op] of [
  ["eq", F.eq, "=="],
  ["ne", F.ne, "!="],
  ["lt", F.lt, "<"],
  ["le", F.le, "<="],
  ["gt", F.gt, ">"],
  ["ge", F.ge, ">="],
] as const)
  binary({
    name,
    gradName: "",
    forward: sel(cmp(A_, B_), 1, 0),
    out: "bool",
    torch: (a, b) => `(${a} ${op} ${b})`,
  });

export type Operand = Tensor | number;

function promotionKind(t: Tensor): "dimmed" | "zerodim" {
  return t.ndim === 0 ? "zerodim" : "dimmed";
}

/** The dtype of `a op b` under torch's promotion, numbers counting as Python scalars. */
export function promote(...xs: Operand[]): DType {
  // The common cases without building promotion records: tensors of one dtype, or a float tensor and a number.
  if (xs.length === 2) {
    const [a, b] = xs;
    if (typeof a !== "number" && typeof b !== "number" && a.dtype === b.dtype) return a.dtype;
    if (typeof a !== "number" && typeof b === "number" && isFloating(a.dtype)) return a.dtype;
    if (typeof a === "number" && typeof b !== "number" && isFloating(b.dtype)) return b.dtype;
  }
  return resultType(
    xs.map((x) =>
      typeof x === "number"
        ? { dtype: scalarDType(x), kind: "scalar" as const }
        : { dtype: x.dtype, kind: promotionKind(x) },
    ),
  );
}

/**
 * An operand in the dtype the op computes in: torch casts both operands to it first, so float32 * 0.1
 * multiplies by 0.1 rounded to float32, and a float64 0-d tensor joins float16 math as a half.
 */
function operand(x: Operand, dtype: DType): Tensor {
  if (typeof x === "number") return full([], x, dtype);
  return x.dtype === dtype ? x : cast(x, dtype);
}

export function applyBinary(name: string, a: Operand, b: Operand): Tensor {
  const d = BINARY[name];
  if (typeof a === "number" && typeof b === "number")
    throw new TypeError(`${name}: at least one operand must be a tensor`);
  const common = promote(a, b);
  if (name === "sub" && [a, b].some((x) => typeof x !== "number" && x.dtype === "bool"))
    throw new TypeError(
      "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.",
    );
  const dtype = d.out === "bool" ? "bool" : d.out === "float" && !isFloating(common) ? "float32" : common;
  const computeIn = d.out === "bool" ? common : dtype;
  const A = operand(a, computeIn);
  const B = operand(b, computeIn);
  const shape = sameShape(A.shape, B.shape)
    ? A.shape
    : // A one-element operand of no higher rank broadcasts to the other's shape exactly.
      A.numel === 1 && A.ndim <= B.ndim
      ? B.shape
      : B.numel === 1 && B.ndim <= A.ndim
        ? A.shape
        : broadcastShapes(name, A.shape, B.shape);
  const f = d.fn;
  // Large float32 results become lazy expressions, fused into whatever consumes them (simd/lazy.ts).
  const out =
    (dtype === "float32" && d.simd && lazyBinary(d.simd, A, B, shape)) ||
    mapBinary(A, B, shape, f, dtype, name);
  if (isTracing()) traceOp("binary", [A, B], { name }, out);
  if (!d.da || !d.db) return out;
  const da = d.da;
  const db = d.db;
  const plans = d.gradPlans;
  const n = out.numel;
  return record(out, d.gradName, [A, B], (g) => [
    A.requiresGrad
      ? (binaryGrad(plans[0], g, A, B, shape, n, A) ??
        mapTernary(A, B, g, shape, (av, bv, gv) => gv * da(av, bv, f(av, bv)), g.dtype))
      : null,
    B.requiresGrad
      ? (binaryGrad(plans[1], g, A, B, shape, n, B) ??
        mapTernary(A, B, g, shape, (av, bv, gv) => gv * db(av, bv, f(av, bv)), g.dtype))
      : null,
  ]);
}

export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  if (cond.dtype !== "bool")
    throw new TypeError(
      `where expected condition to be a boolean tensor, but got a tensor with dtype ${cond.dtype}`,
    );
  const common = promote(a, b);
  const A = operand(a, common);
  const B = operand(b, common);
  const shape = broadcastShapes("where", cond.shape, A.shape, B.shape);
  const out = mapTernary(cond, A, B, shape, (c, x, y) => (c ? x : y), common);
  traceOp("where", [cond, A, B], {}, out);
  return record(out, "WhereBackward0", [A, B], (g) =>
    VJP.where(CPU, g, cond, [A.shape, B.shape], [A.requiresGrad, B.requiresGrad]),
  );
}

/** Cast to another dtype (torch's `.to(dtype)`); the gradient is cast back. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const out = mapUnary(x, dtype === "bool" ? (v) => (v !== 0 ? 1 : 0) : (v) => v, dtype);
  traceOp("cast", [x], { dtype }, out);
  if (!isFloating(dtype)) return out;
  return record(out, "ToCopyBackward0", [x], (g) => [VJP.cast(CPU, g, x.dtype)]);
}

/** The gradient table's operations (runtime/vjp.ts) that where's and cast's rules use, on tensors. */
const CPU = {
  sumTo: sumToShape,
  mask: (cond: Tensor, g: Tensor, keep: boolean) =>
    mapBinary(cond, g, g.shape, keep ? (c, gv) => (c ? gv : 0) : (c, gv) => (c ? 0 : gv), g.dtype),
  castTo: cast,
};
