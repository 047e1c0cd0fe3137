/**
 * Elementwise ops, one declaration each: the scalar forward, its derivative, the same two as WGSL expressions
 * (the WebGPU backend builds and fuses kernels from them), and the PyTorch code the op stands for.
 *
 * WGSL expressions read `x` (input), `y` (output) and, for binary ops, `a` and `b`; attributes are spliced in
 * as f32 literals by `wgslFloat`.
 */
import { record } from "../autograd.ts";
import { type DType, isFloating, resultType, scalarDType } from "../dtype.ts";
import { binaryGrads } from "../fused/binary-grad.ts";
import { runUnary, runUnaryGrad, unaryLoops } from "../fused/unary.ts";
import { broadcastShapes, sameShape } from "../shape.ts";
import type { BinaryOpName, Expr, UnaryOpName } from "../simd/expr.ts";
import { E, exprOf, fusable, lazyBinary, lazyTensor, lazyUnary } from "../simd/lazy.ts";
import { full, type Tensor } from "../tensor.ts";
import { isTracing, traceOp } from "../trace.ts";
import { mapBinary, mapTernary, mapUnary } from "./kernels.ts";
import { erf, INV_SQRT_2, INV_SQRT_2PI, logSigmoid, SQRT_2_OVER_PI, sigmoid } from "./special.ts";

export type Attrs = Record<string, number | string | null | undefined>;

/** A float literal WGSL accepts (always with a decimal point or exponent). */
export function wgslFloat(v: number): string {
  if (Number.isNaN(v)) return "(0.0 / 0.0)";
  if (!Number.isFinite(v)) return v > 0 ? "3.4028235e38" : "-3.4028235e38";
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

export interface UnaryDecl {
  /** The PyTorch name (torch.* or torch.nn.functional.*). */
  name: string;
  /** torch's grad_fn name. */
  gradName: string;
  fn(a: Attrs): (x: number) => number;
  /** d out / d x from input x and output y; omitted for ops with no gradient (sign). */
  df?(a: Attrs): (x: number, y: number) => number;
  wgsl(a: Attrs): string;
  dwgsl?(a: Attrs): string;
  /**
   * Integer inputs: keep the dtype ("same"), compute in the default float ("float"), or refuse them ("refuse":
   * torch has no integer kernel for gelu, leaky_relu, softplus, logsigmoid), as torch does.
   */
  ints: "same" | "float" | "refuse";
  torch(x: string, a: Attrs): string;
  /**
   * The op on the SIMD path (simd/expr.ts) for large float32 tensors: its vector machine instruction and,
   * where the gradient is fused too, g * df as an expression of g, x and y (the same float32 operations as
   * the plain loop in fused/unary.ts).
   */
  simd?: { op: UnaryOpName; grad?: (g: Expr, x: Expr, y: Expr) => Expr };
}

const num = (a: Attrs, k: string): number => a[k] as number;

export const UNARY: Record<string, UnaryDecl> = {};
function unary(d: UnaryDecl): void {
  UNARY[d.name] = d;
}

unary({
  name: "neg",
  gradName: "NegBackward0",
  fn: () => (x) => -x,
  df: () => () => -1,
  wgsl: () => "-x",
  dwgsl: () => "-1.0",
  ints: "same",
  torch: (x) => `-${x}`,
  simd: { op: "neg", grad: (g) => E.binary("mul", g, E.constant(-1)) },
});
unary({
  name: "abs",
  gradName: "AbsBackward0",
  fn: () => Math.abs,
  df: () => (x) => Math.sign(x),
  wgsl: () => "abs(x)",
  dwgsl: () => "sign(x)",
  ints: "same",
  torch: (x) => `torch.abs(${x})`,
  simd: { op: "abs" },
});
unary({
  name: "sign",
  gradName: "SignBackward0",
  fn: () => (x) => (Number.isNaN(x) ? 0 : Math.sign(x) + 0),
  df: () => () => 0,
  wgsl: () => "sign(x)",
  dwgsl: () => "0.0",
  ints: "same",
  torch: (x) => `torch.sign(${x})`,
});
unary({
  name: "exp",
  gradName: "ExpBackward0",
  fn: () => Math.exp,
  df: () => (_x, y) => y,
  wgsl: () => "exp(x)",
  dwgsl: () => "y",
  ints: "float",
  torch: (x) => `torch.exp(${x})`,
});
unary({
  name: "log",
  gradName: "LogBackward0",
  fn: () => Math.log,
  df: () => (x) => 1 / x,
  wgsl: () => "log(x)",
  dwgsl: () => "1.0 / x",
  ints: "float",
  torch: (x) => `torch.log(${x})`,
});
unary({
  name: "log1p",
  gradName: "Log1PBackward0",
  fn: () => Math.log1p,
  df: () => (x) => 1 / (1 + x),
  // WGSL has no log1p; this form keeps full precision for small x (Kahan's trick).
  wgsl: () => "select(x, log(1.0 + x) * x / ((1.0 + x) - 1.0), (1.0 + x) != 1.0)",
  dwgsl: () => "1.0 / (1.0 + x)",
  ints: "float",
  torch: (x) => `torch.log1p(${x})`,
});
unary({
  name: "sqrt",
  gradName: "SqrtBackward0",
  fn: () => Math.sqrt,
  df: () => (_x, y) => 1 / (2 * y),
  wgsl: () => "sqrt(x)",
  dwgsl: () => "0.5 / y",
  ints: "float",
  torch: (x) => `torch.sqrt(${x})`,
  simd: { op: "sqrt" },
});
unary({
  name: "sigmoid",
  gradName: "SigmoidBackward0",
  fn: () => sigmoid,
  df: () => (_x, y) => y * (1 - y),
  wgsl: () => "select(exp(x) / (1.0 + exp(x)), 1.0 / (1.0 + exp(-x)), x >= 0.0)",
  dwgsl: () => "y * (1.0 - y)",
  ints: "float",
  torch: (x) => `torch.sigmoid(${x})`,
});
unary({
  name: "log_sigmoid",
  gradName: "LogSigmoidBackward0",
  fn: () => logSigmoid,
  df: () => (x) => sigmoid(-x),
  wgsl: () => "min(x, 0.0) - log(1.0 + exp(-abs(x)))",
  dwgsl: () => "select(exp(-x) / (1.0 + exp(-x)), 1.0 / (1.0 + exp(x)), x <= 0.0)",
  ints: "refuse",
  torch: (x) => `F.logsigmoid(${x})`,
});
unary({
  name: "tanh",
  gradName: "TanhBackward0",
  fn: () => Math.tanh,
  df: () => (_x, y) => 1 - y * y,
  // WGSL's tanh overflows to NaN for |x| > ~44 on some drivers; tanh is +-1 there anyway.
  wgsl: () => "tanh(clamp(x, -20.0, 20.0))",
  // (1 - y)(1 + y) rather than 1 - y * y: near saturation the float32 square cancels away digits.
  dwgsl: () => "(1.0 - y) * (1.0 + y)",
  ints: "float",
  torch: (x) => `torch.tanh(${x})`,
  // torch's kernel: g * (1 - y * y) with 1 - y * y from a fused multiply-add, i.e. rounded once.
  simd: { op: "tanh", grad: (g, _x, y) => E.binary("mul", g, E.unary("dtanh", y)) },
});
unary({
  name: "relu",
  gradName: "ReluBackward0",
  fn: () => (x) => Math.max(x, 0),
  // torch's threshold_backward passes the gradient unless x <= 0 (so a NaN input passes it).
  df: () => (x) => (x <= 0 ? 0 : 1),
  wgsl: () => "max(x, 0.0)",
  dwgsl: () => "select(1.0, 0.0, x <= 0.0)",
  ints: "same",
  torch: (x) => `F.relu(${x})`,
});
unary({
  name: "leaky_relu",
  gradName: "LeakyReluBackward0",
  fn: (a) => {
    const s = num(a, "negative_slope");
    return (x) => (x > 0 ? x : x * s);
  },
  df: (a) => {
    const s = num(a, "negative_slope");
    return (x) => (x > 0 ? 1 : s);
  },
  wgsl: (a) => `select(x * ${wgslFloat(num(a, "negative_slope"))}, x, x > 0.0)`,
  dwgsl: (a) => `select(${wgslFloat(num(a, "negative_slope"))}, 1.0, x > 0.0)`,
  ints: "refuse",
  torch: (x, a) => `F.leaky_relu(${x}, negative_slope=${a.negative_slope})`,
});
unary({
  name: "gelu",
  gradName: "GeluBackward0",
  fn: (a) =>
    a.approximate === "tanh"
      ? (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
      : (x) => 0.5 * x * (1 + erf(x * INV_SQRT_2)),
  df: (a) =>
    a.approximate === "tanh"
      ? (x) => {
          const inner = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
          const t = Math.tanh(inner);
          return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
        }
      : (x) => 0.5 * (1 + erf(x * INV_SQRT_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
  // WGSL has no erf: the GPU backend supplies gw_erf() in its prelude.
  wgsl: (a) =>
    a.approximate === "tanh"
      ? `0.5 * x * (1.0 + tanh(clamp(${SQRT_2_OVER_PI} * (x + 0.044715 * x * x * x), -20.0, 20.0)))`
      : `0.5 * x * (1.0 + gw_erf(x * ${INV_SQRT_2}))`,
  dwgsl: (a) =>
    a.approximate === "tanh"
      ? `gw_gelu_tanh_grad(x)`
      : `0.5 * (1.0 + gw_erf(x * ${INV_SQRT_2})) + x * ${INV_SQRT_2PI} * exp(-0.5 * x * x)`,
  ints: "refuse",
  torch: (x, a) => (a.approximate === "tanh" ? `F.gelu(${x}, approximate="tanh")` : `F.gelu(${x})`),
});
unary({
  name: "softplus",
  gradName: "SoftplusBackward0",
  fn: (a) => {
    const beta = num(a, "beta");
    const th = num(a, "threshold");
    return (x) => (x * beta > th ? x : Math.log1p(Math.exp(beta * x)) / beta);
  },
  df: (a) => {
    const beta = num(a, "beta");
    const th = num(a, "threshold");
    return (x) => (x * beta > th ? 1 : sigmoid(beta * x));
  },
  wgsl: (a) => {
    const beta = wgslFloat(num(a, "beta"));
    return `select(log(1.0 + exp(${beta} * x)) / ${beta}, x, x * ${beta} > ${wgslFloat(num(a, "threshold"))})`;
  },
  dwgsl: (a) => {
    const beta = wgslFloat(num(a, "beta"));
    // -(beta), not -beta: a negative beta would make WGSL's `--` token.
    return `select(1.0 / (1.0 + exp(-(${beta}) * x)), 1.0, x * ${beta} > ${wgslFloat(num(a, "threshold"))})`;
  },
  ints: "refuse",
  torch: (x, a) => `F.softplus(${x}, beta=${a.beta}, threshold=${a.threshold})`,
});
unary({
  name: "clamp",
  gradName: "ClampBackward1",
  fn: (a) => {
    const lo = (a.min ?? Number.NEGATIVE_INFINITY) as number;
    const hi = (a.max ?? Number.POSITIVE_INFINITY) as number;
    // torch.clamp propagates NaN and applies min then max, so min > max gives max.
    return (x) => (Number.isNaN(x) ? x : Math.min(Math.max(x, lo), hi));
  },
  df: (a) => {
    const lo = (a.min ?? Number.NEGATIVE_INFINITY) as number;
    const hi = (a.max ?? Number.POSITIVE_INFINITY) as number;
    return (x) => (x >= lo && x <= hi ? 1 : 0);
  },
  wgsl: (a) =>
    `min(max(x, ${wgslFloat((a.min ?? -3.4e38) as number)}), ${wgslFloat((a.max ?? 3.4e38) as number)})`,
  dwgsl: (a) =>
    `select(0.0, 1.0, x >= ${wgslFloat((a.min ?? -3.4e38) as number)} && x <= ${wgslFloat((a.max ?? 3.4e38) as number)})`,
  ints: "same",
  torch: (x, a) => `torch.clamp(${x}, min=${a.min ?? "None"}, max=${a.max ?? "None"})`,
});
unary({
  name: "pow_scalar",
  gradName: "PowBackward0",
  fn: (a) => {
    const e = num(a, "exponent");
    return e === 2 ? (x) => x * x : (x) => x ** e;
  },
  df: (a) => {
    const e = num(a, "exponent");
    return (x) => (e === 0 ? 0 : e * x ** (e - 1));
  },
  wgsl: (a) => {
    const e = num(a, "exponent");
    return e === 2 ? "x * x" : `gw_pow(x, ${wgslFloat(e)})`;
  },
  dwgsl: (a) => {
    const e = num(a, "exponent");
    return e === 0 ? "0.0" : `${wgslFloat(e)} * gw_pow(x, ${wgslFloat(e - 1)})`;
  },
  ints: "same",
  torch: (x, a) => `${x} ** ${a.exponent}`,
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

/** Run a declared unary op on the CPU, recording its gradient g * df(x, y). */
export function applyUnary(name: string, x: Tensor, attrs: Attrs = {}): Tensor {
  const d = UNARY[name];
  const loops = unaryLoops(name, attrs);
  const dtype = unaryOutDType(d, x);
  const out =
    (d.simd && lazyUnary(d.simd.op, x, dtype)) ??
    (loops ? runUnary(loops.fwd, x, dtype) : mapUnary(x, d.fn(attrs), dtype));
  if (isTracing()) traceOp("unary", [x], { ...attrs, name }, out);
  const mkDf = d.df;
  if (!mkDf) return out;
  return record(out, d.gradName, [x], (g) => {
    const fused = d.simd?.grad && lazyUnaryGrad(d.simd.grad, g, x, out);
    if (fused) return [fused];
    const fast = loops && runUnaryGrad(loops.grad, g, x, out);
    if (fast) return [fast];
    const df = mkDf(attrs);
    return [mapTernary(g, x, out, out.shape, (gv, xv, yv) => gv * df(xv, yv), g.dtype)];
  });
}

/** A declared SIMD gradient g * df(x, y) as a lazy expression, where all three are float32 and large. */
function lazyUnaryGrad(
  grad: (g: Expr, x: Expr, y: Expr) => Expr,
  g: Tensor,
  x: Tensor,
  y: Tensor,
): Tensor | null {
  if ([g, x, y].some((t) => t.dtype !== "float32" || t.numel !== g.numel)) return null;
  if (!fusable("float32", g.numel)) return null;
  return lazyTensor(grad(exprOf(g), exprOf(x), exprOf(y)), g.shape);
}

export interface BinaryDecl {
  name: string;
  gradName: string;
  fn(a: number, b: number): number;
  /** Partial derivatives from a, b and the output y; omitted for comparisons (no gradient). */
  da?(a: number, b: number, y: number): number;
  db?(a: number, b: number, y: number): number;
  wgsl: string;
  dawgsl?: string;
  dbwgsl?: string;
  /** "promote": torch's result type; "float": true division; "bool": comparisons. */
  out: "promote" | "float" | "bool";
  torch(a: string, b: string): string;
  /** The vector machine instruction for this op on the SIMD path (simd/expr.ts); its gradients are in fused/binary-grad.ts. */
  simd?: BinaryOpName;
}

export const BINARY: Record<string, BinaryDecl> = {};
function binary(d: BinaryDecl): void {
  BINARY[d.name] = d;
}

binary({
  name: "add",
  gradName: "AddBackward0",
  fn: (a, b) => a + b,
  da: () => 1,
  db: () => 1,
  wgsl: "a + b",
  dawgsl: "1.0",
  dbwgsl: "1.0",
  out: "promote",
  torch: (a, b) => `${a} + ${b}`,
  simd: "add",
});
binary({
  name: "sub",
  gradName: "SubBackward0",
  fn: (a, b) => a - b,
  da: () => 1,
  db: () => -1,
  wgsl: "a - b",
  dawgsl: "1.0",
  dbwgsl: "-1.0",
  out: "promote",
  torch: (a, b) => `${a} - ${b}`,
  simd: "sub",
});
binary({
  name: "mul",
  gradName: "MulBackward0",
  fn: (a, b) => a * b,
  da: (_a, b) => b,
  db: (a) => a,
  wgsl: "a * b",
  dawgsl: "b",
  dbwgsl: "a",
  out: "promote",
  torch: (a, b) => `${a} * ${b}`,
  simd: "mul",
});
binary({
  name: "div",
  gradName: "DivBackward0",
  fn: (a, b) => a / b,
  da: (_a, b) => 1 / b,
  db: (a, b) => -a / (b * b),
  wgsl: "a / b",
  dawgsl: "1.0 / b",
  dbwgsl: "-a / (b * b)",
  out: "float",
  torch: (a, b) => `${a} / ${b}`,
  simd: "div",
});
binary({
  name: "pow",
  gradName: "PowBackward1",
  fn: (a, b) => a ** b,
  // torch masks the exponent's gradient where it would be 0 * log(0).
  da: (a, b) => (b === 0 ? 0 : b * a ** (b - 1)),
  // torch masks the exponent's gradient only where a == 0 and b >= 0: 0 ** -1 keeps its -inf (or nan).
  db: (a, b, y) => (a === 0 && b >= 0 ? 0 : y * Math.log(a)),
  wgsl: "gw_pow(a, b)",
  dawgsl: "select(b * gw_pow(a, b - 1.0), 0.0, b == 0.0)",
  dbwgsl: "select(y * log(a), 0.0, a == 0.0 && b >= 0.0)",
  out: "promote",
  torch: (a, b) => `torch.pow(${a}, ${b})`,
});
binary({
  name: "xlogy",
  gradName: "XlogyBackward0",
  // torch.xlogy: 0 where x == 0 (unless y is nan), so 0 log 0 = 0 in kl_div and entropies.
  fn: (a, b) => (Number.isNaN(b) ? b : a === 0 ? 0 : a * Math.log(b)),
  // torch: xlogy(grad, y) masked to 0 only where x == 0 and y <= 0, so x == 0 still gets log(y) for y > 0.
  da: (a, b) => (a === 0 && b <= 0 ? 0 : Math.log(b)),
  db: (a, b) => a / b,
  wgsl: "select(a * log(b), 0.0, a == 0.0)",
  dawgsl: "select(log(b), 0.0, a == 0.0 && b <= 0.0)",
  dbwgsl: "a / b",
  out: "float",
  torch: (a, b) => `torch.xlogy(${a}, ${b})`,
});
binary({
  name: "maximum",
  gradName: "MaximumBackward0",
  fn: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b)),
  // Ties split the gradient in half, as torch does.
  da: (a, b) => (a > b ? 1 : a === b ? 0.5 : 0),
  db: (a, b) => (b > a ? 1 : a === b ? 0.5 : 0),
  wgsl: "max(a, b)",
  dawgsl: "select(select(0.0, 0.5, a == b), 1.0, a > b)",
  dbwgsl: "select(select(0.0, 0.5, a == b), 1.0, b > a)",
  out: "promote",
  torch: (a, b) => `torch.maximum(${a}, ${b})`,
});
binary({
  name: "minimum",
  gradName: "MinimumBackward0",
  fn: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b)),
  da: (a, b) => (a < b ? 1 : a === b ? 0.5 : 0),
  db: (a, b) => (b < a ? 1 : a === b ? 0.5 : 0),
  wgsl: "min(a, b)",
  dawgsl: "select(select(0.0, 0.5, a == b), 1.0, a < b)",
  dbwgsl: "select(select(0.0, 0.5, a == b), 1.0, b < a)",
  out: "promote",
  torch: (a, b) => `torch.minimum(${a}, ${b})`,
});
const comparisons: [string, (a: number, b: number) => boolean, string, string][] = [
  ["eq", (a, b) => a === b, "==", "eq"],
  ["ne", (a, b) => a !== b, "!=", "ne"],
  ["lt", (a, b) => a < b, "<", "lt"],
  ["le", (a, b) => a <= b, "<=", "le"],
  ["gt", (a, b) => a > b, ">", "gt"],
  ["ge", (a, b) => a >= b, ">=", "ge"],
];
for (const [name, f, op] of comparisons)
  binary({
    name,
    gradName: "",
    fn: (a, b) => (f(a, b) ? 1 : 0),
    wgsl: `select(0.0, 1.0, a ${op} b)`,
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
  return record(
    out,
    d.gradName,
    [A, B],
    (g) =>
      binaryGrads(name, A, B, g, shape) ?? [
        A.requiresGrad
          ? mapTernary(A, B, g, shape, (av, bv, gv) => gv * da(av, bv, f(av, bv)), g.dtype)
          : null,
        B.requiresGrad
          ? mapTernary(A, B, g, shape, (av, bv, gv) => gv * db(av, bv, f(av, bv)), g.dtype)
          : null,
      ],
  );
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
  return record(out, "WhereBackward0", [A, B], (g) => [
    A.requiresGrad ? mapBinary(cond, g, shape, (c, gv) => (c ? gv : 0), g.dtype) : null,
    B.requiresGrad ? mapBinary(cond, g, shape, (c, gv) => (c ? 0 : gv), g.dtype) : null,
  ]);
}

/** Cast to another dtype (torch's `.to(dtype)`); the gradient is cast back. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const out = mapUnary(x, dtype === "bool" ? (v) => (v !== 0 ? 1 : 0) : (v) => v, dtype);
  traceOp("cast", [x], { dtype }, out);
  if (!isFloating(dtype)) return out;
  return record(out, "ToCopyBackward0", [x], (g) => [cast(g, x.dtype)]);
}
