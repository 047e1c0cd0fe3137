/**
 * Tensor element types, their storage, and PyTorch's type-promotion rules.
 *
 * Storage choices (why): JavaScript has no float16 or exact int64 typed array that arithmetic can use directly,
 * so float16 values live in a Float32Array rounded to the nearest half after every op, and int64 values live in
 * a Float64Array (exact for |n| < 2^53, far past any class index or count a graph holds).
 */
export type DType = "float16" | "float32" | "float64" | "int32" | "int64" | "bool";

export const DTYPES: readonly DType[] = ["float16", "float32", "float64", "int32", "int64", "bool"];

export type Storage = Float32Array | Float64Array | Int32Array | Uint8Array;

export function isFloating(d: DType): boolean {
  return d === "float16" || d === "float32" || d === "float64";
}

export function isIntegral(d: DType): boolean {
  return d === "int32" || d === "int64";
}

export function allocate(dtype: DType, n: number): Storage {
  switch (dtype) {
    case "float16":
    case "float32":
      return new Float32Array(n);
    case "float64":
    case "int64":
      return new Float64Array(n);
    case "int32":
      return new Int32Array(n);
    case "bool":
      return new Uint8Array(n);
  }
}

/** Round a number to the nearest float16 value (ties to even), as PyTorch stores a half. */
export function roundHalf(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  else if (2 ** (e + 1) <= a) e += 1;
  const ulp = 2 ** (Math.max(e, -14) - 10); // below 2^-14 halves are subnormal with a fixed step
  const q = a / ulp;
  const fl = Math.floor(q);
  const frac = q - fl;
  const r = frac > 0.5 || (frac === 0.5 && fl % 2 === 1) ? fl + 1 : fl;
  const v = r * ulp;
  if (v > 65504) return x > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return x < 0 ? -v : v;
}

/** Convert a number to what a tensor of `dtype` stores (truncation toward zero for integers, like PyTorch). */
export function coerce(dtype: DType, x: number): number {
  switch (dtype) {
    case "float16":
      return roundHalf(x);
    case "float32":
      return Math.fround(x);
    case "float64":
      return x;
    case "int32":
      return Math.trunc(x) | 0;
    case "int64":
      return Math.trunc(x);
    case "bool":
      return x !== 0 ? 1 : 0;
  }
}

/**
 * After writing raw float64 results into a typed array, half tensors still need rounding to half, bool
 * tensors need every nonzero to read as 1 (bool + bool is logical or in torch, never 2), and int64 truncation.
 */
export function finishStorage(dtype: DType, data: Storage): Storage {
  if (dtype === "float16") for (let i = 0; i < data.length; i++) data[i] = roundHalf(data[i]);
  else if (dtype === "bool") for (let i = 0; i < data.length; i++) data[i] = data[i] !== 0 ? 1 : 0;
  // int64 lives in a Float64Array, which would keep 2 ** -1 = 0.5; torch's integer result is 0.
  else if (dtype === "int64") for (let i = 0; i < data.length; i++) data[i] = Math.trunc(data[i]);
  return data;
}

const CATEGORY: Record<DType, number> = { bool: 0, int32: 1, int64: 1, float16: 2, float32: 2, float64: 2 };
const RANK: Record<DType, number> = { bool: 0, int32: 1, int64: 2, float16: 3, float32: 4, float64: 5 };

export function category(d: DType): number {
  return CATEGORY[d];
}

function wider(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** An operand as type promotion sees it: a tensor with dimensions, a 0-d tensor, or a plain JS number. */
export interface PromotionOperand {
  dtype: DType;
  kind: "dimmed" | "zerodim" | "scalar";
}

/**
 * torch.result_type: dimensioned tensors decide; 0-d tensors, then plain numbers, only lift the result to a
 * higher category (bool < integer < floating). A float number lifts integers to the default dtype, float32.
 */
export function resultType(ops: PromotionOperand[]): DType {
  const widest = (kind: PromotionOperand["kind"]): DType | null =>
    ops
      .filter((o) => o.kind === kind)
      .reduce<DType | null>((r, o) => (r ? wider(r, o.dtype) : o.dtype), null);
  let r = widest("dimmed");
  for (const kind of ["zerodim", "scalar"] as const) {
    const next = widest(kind);
    if (next !== null && (r === null || CATEGORY[next] > CATEGORY[r])) r = next;
  }
  return r ?? "float32";
}

/** The dtype a JS number stands for as a scalar operand: Python's int is int64, its float the default float32. */
export function scalarDType(x: number | boolean): DType {
  if (typeof x === "boolean") return "bool";
  return Number.isInteger(x) ? "int64" : "float32";
}
