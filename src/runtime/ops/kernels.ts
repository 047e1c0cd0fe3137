/**
 * CPU loops shared by the ops: elementwise maps with broadcasting and reductions along one dimension.
 * Values are computed in float64 (JS numbers) and rounded once when stored into the output's typed array.
 */
import { allocate, type DType, finishStorage, type Storage } from "../dtype.ts";
import { BINARY_LOOPS, type RowLoop, runBinary } from "../fused/binary.ts";
import { forEachRow, readStrides } from "../fused/strided.ts";
import { numel, type Shape, sameShape } from "../shape.ts";
import { lazyFill } from "../simd/lazy.ts";
import { Tensor } from "../tensor.ts";
import type { Pointwise } from "../vjp.ts";
import { type Attrs, formulaLoop } from "./formula.ts";

export function mapUnary(x: Tensor, f: (v: number) => number, dtype: DType): Tensor {
  const src = x.data;
  const out = allocate(dtype, src.length);
  for (let i = 0; i < src.length; i++) out[i] = f(src[i]);
  return new Tensor(finishStorage(dtype, out), x.shape, dtype);
}

export function mapBinary(
  a: Tensor,
  b: Tensor,
  outShape: Shape,
  f: (x: number, y: number) => number,
  dtype: DType,
  /** A BINARY op name: ops with a monomorphic loop (fused/binary.ts) skip the per-element call of `f`. */
  op?: string,
): Tensor {
  const out = allocate(dtype, numel(outShape));
  const loop = op === undefined ? undefined : BINARY_LOOPS[op];
  runBinary(loop ?? genericLoop(f), a.data, a.shape, b.data, b.shape, outShape, out);
  return new Tensor(finishStorage(dtype, out), outShape, dtype);
}

function genericLoop(f: (x: number, y: number) => number): RowLoop {
  return (A, ia, sa, B, ib, sb, out, o, n) => {
    for (let k = 0; k < n; k++, ia += sa, ib += sb) out[o + k] = f(A[ia], B[ib]);
  };
}

export function mapTernary(
  a: Tensor,
  b: Tensor,
  c: Tensor,
  outShape: Shape,
  f: (x: number, y: number, z: number) => number,
  dtype: DType,
): Tensor {
  const n = numel(outShape);
  const out = allocate(dtype, n);
  const A = a.data;
  const B = b.data;
  const C = c.data;
  if (A.length === n && B.length === n && C.length === n) {
    // Same element count as the output means no dimension is broadcast: one flat loop.
    for (let i = 0; i < n; i++) out[i] = f(A[i], B[i], C[i]);
  } else {
    const s = [a, b, c].map((t) => readStrides(t.shape, outShape));
    const last = outShape.length - 1;
    const [sa, sb, sc] = [s[0][last], s[1][last], s[2][last]];
    forEachRow(outShape, s, (o, offs, len) => {
      for (let k = 0, ia = offs[0], ib = offs[1], ic = offs[2]; k < len; k++, ia += sa, ib += sb, ic += sc)
        out[o + k] = f(A[ia], B[ib], C[ic]);
    });
  }
  return new Tensor(finishStorage(dtype, out), outShape, dtype);
}

/**
 * A gradient rule's formula (vjp.ts) at each element of `shape`, each argument spread to it (a one-element
 * argument read as a number), in float64 and rounded once to `dtype`.
 */
export function mapFormula(
  fn: Pointwise,
  args: readonly Tensor[],
  shape: Shape,
  dtype: DType,
  attrs: Attrs = {},
): Tensor {
  const n = numel(shape);
  const scalar = args.map((t) => t.numel === 1);
  const operands = args.map((t, k) => (scalar[k] ? t.data[0] : broadcastTo(t, shape).data));
  const out = allocate(dtype, n);
  formulaLoop(fn.f, fn.vars, scalar, "f64", attrs)(operands, out, n);
  return new Tensor(finishStorage(dtype, out), shape, dtype);
}

/** Materialise `t` broadcast to `shape` (torch's `expand(...).contiguous()`). */
export function broadcastTo(t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  if (t.numel === 1 && t.dtype === "float32") {
    const lazy = lazyFill(t.data[0], shape);
    if (lazy) return lazy;
  }
  const out = allocate(t.dtype, numel(shape));
  const src = t.data;
  if (src.length === 1) {
    // A reduction's gradient spread back over its input: one native fill.
    out.fill(src[0]);
    return new Tensor(out, shape, t.dtype);
  }
  const strides = readStrides(t.shape, shape);
  const step = strides[shape.length - 1];
  forEachRow(shape, [strides], (o, offs, len) => {
    for (let k = 0, i = offs[0]; k < len; k++, i += step) out[o + k] = src[i];
  });
  return new Tensor(out, shape, t.dtype);
}

/** Split a shape around `dim` into (outer, size, inner) for reductions and softmax along one dimension. */
export function around(shape: Shape, dim: number): [number, number, number] {
  return [numel(shape.slice(0, dim)), shape[dim] ?? 1, numel(shape.slice(dim + 1))];
}

/**
 * Reduce along one dimension: `init` and `step` fold each lane; `finish` maps the folded value (and count).
 * Returns flat results of length outer*inner.
 */
export function reduceDim(
  src: Storage,
  shape: Shape,
  dim: number,
  fold: (lane: (i: number) => number, n: number) => number,
  dtype: DType,
): Storage {
  const [outer, n, inner] = around(shape, dim);
  const out = allocate(dtype, outer * inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    for (let i = 0; i < inner; i++) {
      const off = base + i;
      out[o * inner + i] = fold((k) => src[off + k * inner], n);
    }
  }
  return finishStorage(dtype, out);
}
