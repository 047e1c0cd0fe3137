/**
 * Lazy float32 elementwise expressions: what a large elementwise op returns instead of a full-size array when
 * the SIMD kernels are available. Consumers that understand expressions (sums, mse_loss, gradients of
 * broadcast operands) evaluate them fused in one chunked pass (program.ts); anything else reading the data
 * materialises it once (Tensor.data).
 *
 * Every node of one expression has the same number of elements, the n of the tensor it belongs to. Leaves are
 * arrays read in full, or broadcast along the rows (`row`: element i reads data[i % len], an operand shaped
 * like the trailing dims) or the columns (`col`: data[floor(i / len)], an operand shaped like the leading
 * dims); constants are float32 values captured when the op ran. A product leaf is a matrix product whose
 * result is only ever needed inside a pass (a linear layer's output feeding its activation, a gradient
 * feeding the activation's backward): the pass computes it into module memory and reads it from there, so it
 * never becomes a JavaScript array.
 *
 * Values are captured when the op runs, as eager evaluation would read them: constants by value, and leaves
 * that an optimizer may update in place (leaf tensors that require grad) by copy. Other tensors' data is never
 * written in place by the runtime, so it is referenced.
 */

/** What to compute from an expression over all n elements. */
export type Output =
  | { readonly kind: "values"; readonly expr: Expr }
  | { readonly kind: "sum64"; readonly expr: Expr }
  | { readonly kind: "torchSum"; readonly expr: Expr }
  | {
      readonly kind: "colSum64";
      readonly expr: Expr;
      readonly len: number;
      /** Runs of this many elements land on one sum (element i on sum floor(i / inner) % len); 1 if absent. */
      readonly inner?: number;
    };

/** values: the n float32 values; sum64: a number; torchSum: the float32 sum; colSum64: `len` float64 sums. */
export type Result = Float32Array | Float64Array | number;

/**
 * A reduction waiting to be computed with the others pending (deferred.ts). Declared here, with the other
 * types, so the Tensor can hold one without importing the code that computes it.
 */
export interface Deferred {
  readonly n: number;
  readonly output: Output;
  /** The tensor's values from the pass's result; called once per tensor that reads them (fresh arrays). */
  readonly finish: (result: Float32Array | Float64Array | number) => Float32Array;
  result: Float32Array | Float64Array | number | null;
}

/** A matrix operand read through strides (fused/matmul.ts's Operand, float32). */
export interface MatOperand {
  readonly data: Float32Array;
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
}

export type BinaryOpName = "add" | "sub" | "mul" | "div";
/** dtanh(y) = 1 - y * y rounded once: tanh's derivative from its output, as torch's kernel computes it. */
export type UnaryOpName = "neg" | "abs" | "sqrt" | "tanh" | "dtanh";
/** A float32 comparison, false wherever an operand is NaN except "ne" (IEEE's, as JavaScript compares). */
export type CmpName = "eq" | "ne" | "lt" | "gt" | "le" | "ge";

export type Expr =
  | {
      readonly k: "leaf";
      readonly data: Float32Array;
      readonly mode: "full" | "row" | "col";
      readonly len: number;
    }
  | {
      /** A float32 matrix product (m x n elements, row-major), computed into module memory when a pass runs. */
      readonly k: "product";
      readonly L: MatOperand;
      readonly R: MatOperand;
      readonly m: number;
      readonly inner: number;
      readonly n: number;
    }
  | {
      /**
       * max_pool2d's gradient (2 x 2 windows tiling planes of h x w) spread back to its input, gathered in the
       * pass: each element takes its window's g where the window's saved index (into the plane) is that element,
       * else 0, never written out as a full array.
       */
      readonly k: "unpool";
      readonly g: Float32Array;
      readonly idx: Float64Array;
      readonly h: number;
      readonly w: number;
    }
  | { readonly k: "const"; readonly v: number }
  | { readonly k: "unary"; readonly op: UnaryOpName; readonly a: Expr; readonly size: number }
  | {
      readonly k: "binary";
      readonly op: BinaryOpName;
      readonly a: Expr;
      readonly b: Expr;
      readonly size: number;
    }
  | {
      /**
       * (a cmp b) ? t : e per element: a comparison mask and a bitwise select, no arithmetic, so t's and e's
       * bits pass through unchanged (a relu keeps -0 and NaN payloads, as torch's clamp_min does).
       */
      readonly k: "select";
      readonly cmp: CmpName;
      readonly a: Expr;
      readonly b: Expr;
      readonly t: Expr;
      readonly e: Expr;
      readonly size: number;
    };

export type ProductExpr = Extract<Expr, { k: "product" }>;

/** Past this many nodes an operand is materialised first, so a program fits its registers. */
export const MAX_NODES = 48;

/**
 * Below this many elements the plain loops win: a fused pass has a fixed cost of a few microseconds.
 * GRADWIRE_LAZY_MIN overrides it (the test suite runs the PyTorch parity tests again with it at 8).
 */
let minElements = Number(
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    ?.GRADWIRE_LAZY_MIN ?? 16384,
);

export function lazyMinElements(): number {
  return minElements;
}

/** Tests lower the threshold to run small tensors through the SIMD path. */
export function setLazyMinElements(n: number): void {
  minElements = n;
}

export function sizeOf(e: Expr): number {
  return e.k === "leaf" || e.k === "const" || e.k === "product" || e.k === "unpool" ? 1 : e.size;
}

export function full(data: Float32Array): Expr {
  return { k: "leaf", data, mode: "full", len: data.length };
}

export function constant(v: number): Expr {
  return { k: "const", v: Math.fround(v) };
}

export function unary(op: UnaryOpName, a: Expr): Expr {
  return { k: "unary", op, a, size: sizeOf(a) + 1 };
}

export function binary(op: BinaryOpName, a: Expr, b: Expr): Expr {
  return { k: "binary", op, a, b, size: sizeOf(a) + sizeOf(b) + 1 };
}

export function select(cmp: CmpName, a: Expr, b: Expr, t: Expr, e: Expr): Expr {
  return { k: "select", cmp, a, b, t, e, size: sizeOf(a) + sizeOf(b) + sizeOf(t) + sizeOf(e) + 1 };
}
