/**
 * The runtime's functional API, named as in torch / torch.nn.functional (camelCase where torch uses snake_case).
 * Importing this module also wires autograd's gradient arithmetic.
 */
import { installGradMath } from "../autograd.ts";
import { coerce, type DType, isFloating } from "../dtype.ts";
import { full, Tensor } from "../tensor.ts";
import { type Attrs, applyBinary, applyUnary, cast, type Operand } from "./elementwise.ts";
import { sumToShape, transpose } from "./layout.ts";
import { matmul } from "./matmul.ts";

export * from "./conv.ts";
export type { Attrs, BinaryDecl, Operand, UnaryDecl } from "./elementwise.ts";
export { BINARY, cast, promote, UNARY, wgslFloat, where } from "./elementwise.ts";
export * from "./layout.ts";
export { matmul } from "./matmul.ts";
export * from "./normalization.ts";
export * from "./reduce.ts";
export * from "./unfold.ts";

export const unaryOp = applyUnary;
export const binaryOp = applyBinary;

export const neg = (x: Tensor) => applyUnary("neg", x);
export const abs = (x: Tensor) => applyUnary("abs", x);
export const sign = (x: Tensor) => applyUnary("sign", x);
export const exp = (x: Tensor) => applyUnary("exp", x);
export const log = (x: Tensor) => applyUnary("log", x);
export const log1p = (x: Tensor) => applyUnary("log1p", x);
export const sqrt = (x: Tensor) => applyUnary("sqrt", x);
export const sigmoid = (x: Tensor) => applyUnary("sigmoid", x);
export const logSigmoid = (x: Tensor) => applyUnary("log_sigmoid", x);
export const tanh = (x: Tensor) => applyUnary("tanh", x);
export const relu = (x: Tensor) => applyUnary("relu", x);
export const leakyRelu = (x: Tensor, negative_slope = 0.01) =>
  applyUnary("leaky_relu", x, { negative_slope });
export const gelu = (x: Tensor, approximate: "none" | "tanh" = "none") =>
  applyUnary("gelu", x, { approximate });
export const softplus = (x: Tensor, beta = 1, threshold = 20) =>
  applyUnary("softplus", x, { beta, threshold });
export const clamp = (x: Tensor, min?: number | null, max?: number | null) => {
  if ((min === null || min === undefined) && (max === null || max === undefined))
    throw new TypeError("clamp: at least one of 'min' or 'max' must not be None");
  return applyUnary("clamp", x, { min, max } as Attrs);
};

export const add = (a: Operand, b: Operand) => applyBinary("add", a, b);
export const sub = (a: Operand, b: Operand) => applyBinary("sub", a, b);
export const mul = (a: Operand, b: Operand) => applyBinary("mul", a, b);
export const div = (a: Operand, b: Operand) => applyBinary("div", a, b);
export const xlogy = (a: Operand, b: Operand) => applyBinary("xlogy", a, b);
export const maximum = (a: Tensor, b: Tensor) => applyBinary("maximum", a, b);
export const minimum = (a: Tensor, b: Tensor) => applyBinary("minimum", a, b);
export const eq = (a: Operand, b: Operand) => applyBinary("eq", a, b);
export const ne = (a: Operand, b: Operand) => applyBinary("ne", a, b);
export const lt = (a: Operand, b: Operand) => applyBinary("lt", a, b);
export const le = (a: Operand, b: Operand) => applyBinary("le", a, b);
export const gt = (a: Operand, b: Operand) => applyBinary("gt", a, b);
export const ge = (a: Operand, b: Operand) => applyBinary("ge", a, b);

/** `torch.pow(input, exponent)`: a number exponent uses the scalar-exponent op (one input, as torch does). */
export function pow(a: Operand, b: Operand): Tensor {
  // torch refuses a negative integer number as the power of an integer tensor (a tensor of exponents is fine).
  if (typeof a !== "number" && !isFloating(a.dtype) && typeof b === "number" && Number.isInteger(b) && b < 0)
    throw new RangeError("pow: Integers to negative integer powers are not allowed.");
  if (typeof b === "number" && typeof a !== "number") {
    // An integer tensor to a fractional power computes in the default float dtype, as torch promotes it.
    const base = !isFloating(a.dtype) && !Number.isInteger(b) ? cast(a, "float32") : a;
    return applyUnary("pow_scalar", base, { exponent: isFloating(base.dtype) ? coerce(base.dtype, b) : b });
  }
  return applyBinary("pow", a, b);
}

/** `F.linear(input, weight, bias)`: input @ weight.T + bias, weight shaped (out_features, in_features). */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const y = matmul(input, weight.ndim === 2 ? transpose(weight, 0, 1) : weight);
  return bias ? add(y, bias) : y;
}

export function zerosLike(t: Tensor, dtype: DType = t.dtype): Tensor {
  return full(t.shape, 0, dtype);
}

export function onesLike(t: Tensor, dtype: DType = t.dtype): Tensor {
  return full(t.shape, 1, dtype);
}

installGradMath({
  add: (a, b) => applyBinary("add", a, b),
  onesLike: (t) => onesLike(t),
  // A gradient takes its tensor's shape (summing out broadcast dims) and dtype, as torch's engine ensures.
  fit: (g, to) => {
    let r = g;
    if (r.numel !== to.numel || r.ndim !== to.ndim)
      r = r.numel === to.numel ? new Tensor(r.data, to.shape, r.dtype) : sumToShape(r, to.shape);
    return r.dtype === to.dtype ? r : cast(r.detach(), to.dtype);
  },
});
