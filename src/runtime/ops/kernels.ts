/**
 * CPU loops shared by the ops: elementwise maps with broadcasting and reductions along one dimension.
 * Values are computed in float64 (JS numbers) and rounded once when stored into the output's typed array.
 */
import { allocate, type DType, finishStorage, type Storage } from "../dtype.ts";
import { broadcastStrides, numel, type Shape, sameShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";

export function mapUnary(x: Tensor, f: (v: number) => number, dtype: DType): Tensor {
  const src = x.data;
  const out = allocate(dtype, src.length);
  for (let i = 0; i < src.length; i++) out[i] = f(src[i]);
  return new Tensor(finishStorage(dtype, out), x.shape, dtype);
}

/** Visit every output index of `shape`, giving the flat offsets into inputs read with the given strides. */
function forEachBroadcast(
  shape: Shape,
  strides: number[][],
  body: (o: number, offsets: Int32Array | number[]) => void,
): void {
  const rank = shape.length;
  const n = numel(shape);
  const k = strides.length;
  const offs = new Array<number>(k).fill(0);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < n; o++) {
    body(o, offs);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      for (let j = 0; j < k; j++) offs[j] += strides[j][d];
      if (idx[d] < shape[d]) break;
      for (let j = 0; j < k; j++) offs[j] -= strides[j][d] * shape[d];
      idx[d] = 0;
    }
  }
}

export function mapBinary(
  a: Tensor,
  b: Tensor,
  outShape: Shape,
  f: (x: number, y: number) => number,
  dtype: DType,
): Tensor {
  const n = numel(outShape);
  const out = allocate(dtype, n);
  const A = a.data;
  const B = b.data;
  if (sameShape(a.shape, outShape) && sameShape(b.shape, outShape)) {
    for (let i = 0; i < n; i++) out[i] = f(A[i], B[i]);
  } else if (B.length === 1 && sameShape(a.shape, outShape)) {
    const y = B[0];
    for (let i = 0; i < n; i++) out[i] = f(A[i], y);
  } else if (A.length === 1 && sameShape(b.shape, outShape)) {
    const x = A[0];
    for (let i = 0; i < n; i++) out[i] = f(x, B[i]);
  } else {
    const sa = broadcastStrides(a.shape, outShape);
    const sb = broadcastStrides(b.shape, outShape);
    forEachBroadcast(outShape, [sa, sb], (o, offs) => {
      out[o] = f(A[offs[0]], B[offs[1]]);
    });
  }
  return new Tensor(finishStorage(dtype, out), outShape, dtype);
}

export function mapTernary(
  a: Tensor,
  b: Tensor,
  c: Tensor,
  outShape: Shape,
  f: (x: number, y: number, z: number) => number,
  dtype: DType,
): Tensor {
  const out = allocate(dtype, numel(outShape));
  const A = a.data;
  const B = b.data;
  const C = c.data;
  const strides = [a, b, c].map((t) => broadcastStrides(t.shape, outShape));
  forEachBroadcast(outShape, strides, (o, offs) => {
    out[o] = f(A[offs[0]], B[offs[1]], C[offs[2]]);
  });
  return new Tensor(finishStorage(dtype, out), outShape, dtype);
}

/** Materialise `t` broadcast to `shape` (torch's `expand(...).contiguous()`). */
export function broadcastTo(t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const out = allocate(t.dtype, numel(shape));
  const src = t.data;
  forEachBroadcast(shape, [broadcastStrides(t.shape, shape)], (o, offs) => {
    out[o] = src[offs[0]];
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
