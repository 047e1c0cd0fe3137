/** Ops that move data without arithmetic: reshape, transpose, permute, expand, cat, stack, gather, index_select. */
import { record } from "../autograd.ts";
import { allocate, isIntegral, type Storage } from "../dtype.ts";
import { sumTo } from "../fused/reduce.ts";
import {
  fmtShape,
  inferShape,
  normDim,
  numel,
  type Shape,
  ShapeError,
  sameShape,
  stridesOf,
} from "../shape.ts";
import { fusedSumTo, readPending } from "../simd/lazy.ts";
import { Tensor, zeros } from "../tensor.ts";
import { traceOp } from "../trace.ts";
import { VJP } from "../vjp.ts";
import { around, broadcastTo } from "./kernels.ts";

/** `reshape`/`view`: shares the data (tensors are always contiguous here), so it costs nothing. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const target = inferShape(shape, x.numel);
  if (sameShape(target, x.shape)) return x;
  const out = x.withShape(target);
  traceOp("reshape", [x], { shape: target }, out);
  return record(out, "ViewBackward0", [x], (g) => [VJP.reshape(CPU, g, x.shape)]);
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normDim(startDim, x.ndim, "flatten");
  const e = normDim(endDim, x.ndim, "flatten");
  return reshape(x, [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim(dim, x.ndim + 1, "unsqueeze");
  return reshape(x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
}

export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  const d = normDim(dim, x.ndim, "squeeze");
  return x.shape[d] === 1 ? reshape(x, [...x.shape.slice(0, d), ...x.shape.slice(d + 1)]) : x;
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim)
    throw new ShapeError(`permute: number of dims don't match (input has ${x.ndim}, got ${dims.length})`);
  const p = dims.map((d) => normDim(d, x.ndim, "permute"));
  if (new Set(p).size !== p.length) throw new ShapeError(`permute: repeated dim in ${fmtShape(dims)}`);
  const shape = p.map((d) => x.shape[d]);
  const out = allocate(x.dtype, x.numel);
  const r = x.ndim;
  if (r >= 2 && p[r - 2] === r - 1 && p[r - 1] === r - 2 && p.every((d, i) => i >= r - 2 || d === i))
    transposeLast(
      x.data,
      out,
      x.numel / (x.shape[r - 2] * x.shape[r - 1] || 1),
      x.shape[r - 2],
      x.shape[r - 1],
    );
  else {
    const inStrides = stridesOf(x.shape);
    permuteInto(
      x.data,
      out,
      shape,
      p.map((d) => inStrides[d]),
    );
  }
  const result = record(new Tensor(out, shape, x.dtype), "PermuteBackward0", [x], (g) => [
    VJP.permute(CPU, g, p),
  ]);
  return traceOp("permute", [x], { dims: p }, result);
}

/** out = src read through `readStrides` in the row-major order of `shape` (any permutation). */
function permuteInto(src: Storage, out: Storage, shape: readonly number[], readStrides: number[]): void {
  const idx = new Array<number>(shape.length).fill(0);
  let off = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = src[off];
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]++;
      off += readStrides[d];
      if (idx[d] < shape[d]) break;
      off -= readStrides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/**
 * The last two dims swapped, `batch` matrices of rows x cols (linear's weight.T every step, and its gradient
 * back): the same elements as permuteInto, without its per-element walk over every dim.
 */
function transposeLast(src: Storage, out: Storage, batch: number, rows: number, cols: number): void {
  for (let b = 0, base = 0; b < batch; b++, base += rows * cols)
    for (let j = 0, o = base; j < cols; j++)
      for (let i = 0, at = base + j; i < rows; i++, o++, at += cols) out[o] = src[at];
}

export function transpose(x: Tensor, dim0 = 0, dim1 = 1): Tensor {
  const a = normDim(dim0, x.ndim, "transpose");
  const b = normDim(dim1, x.ndim, "transpose");
  if (x.ndim < 2) return x;
  const p = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, p);
}

/** Sum a gradient down to `shape`, undoing broadcasting (leading dims and size-1 dims). */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  // Accumulated in float64 and rounded once, like sum(): a float32 running sum over a large broadcast drifts.
  const fused = g.dtype === "float32" ? fusedSumTo(g, shape) : null;
  if (fused) return traceOp("sum_to_shape", [g], { shape }, fused);
  // A pending gradient (a conv bias's, summed over middle dims) is summed where its fused pass leaves it: no
  // array is made for values the next reader (the conv weight's product) reads in place again.
  const out =
    readPending(g, (v) => sumTo(v, g.shape, shape, g.dtype)) ?? sumTo(g.data, g.shape, shape, g.dtype);
  return traceOp("sum_to_shape", [g], { shape }, new Tensor(out, shape, g.dtype));
}

/** `expand`/`broadcast_to`, materialised; the gradient is summed back. */
export function expand(x: Tensor, shape: Shape): Tensor {
  const lead = shape.length - x.ndim;
  if (lead < 0)
    throw new ShapeError(
      `expand: the number of sizes provided (${shape.length}) must be greater or equal to the number of dimensions in the tensor (${x.ndim})`,
    );
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead] : d));
  target.forEach((d, i) => {
    const have = i >= lead ? x.shape[i - lead] : 1;
    if (d < 0 || (have !== 1 && have !== d))
      throw new ShapeError(
        `expand: the expanded size of the tensor (${d}) must match the existing size (${have}) at non-singleton dimension ${i}; target sizes ${fmtShape(shape)}, tensor sizes ${fmtShape(x.shape)}`,
      );
  });
  const out = broadcastTo(x, target);
  if (out === x) return x;
  traceOp("expand", [x], { shape: target }, out);
  return record(out, "ExpandBackward0", [x], (g) => [VJP.expand(CPU, g, x.shape)]);
}

export function cat(xs: Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new ShapeError("cat: expected a non-empty list of tensors");
  const first = xs[0];
  const zeroDim = xs.findIndex((t) => t.ndim === 0);
  if (zeroDim >= 0)
    throw new ShapeError(`cat: zero-dimensional tensor (at position ${zeroDim}) cannot be concatenated`);
  const d = normDim(dim, first.ndim, "cat");
  for (const [k, t] of xs.entries())
    if (t.ndim !== first.ndim || t.shape.some((s, i) => i !== d && s !== first.shape[i]))
      throw new ShapeError(
        `cat: sizes of tensors must match except in dimension ${d} (tensor 0 has shape ${fmtShape(first.shape)}, tensor ${k} has ${fmtShape(t.shape)})`,
      );
  const shape = [...first.shape];
  shape[d] = xs.reduce((s, t) => s + t.shape[d], 0);
  const out = allocate(first.dtype, numel(shape));
  const [outer, , inner] = around(shape, d);
  let col = 0;
  for (const t of xs) {
    const n = t.shape[d] * inner;
    for (let o = 0; o < outer; o++)
      out.set(t.data.subarray(o * n, (o + 1) * n), o * shape[d] * inner + col * inner);
    col += t.shape[d];
  }
  const result = record(new Tensor(out, shape, first.dtype), "CatBackward0", xs, (g) =>
    VJP.cat(
      CPU,
      g,
      d,
      xs.map((t) => t.shape[d]),
    ),
  );
  return traceOp("cat", xs, { dim: d }, result);
}

export function stack(xs: Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new ShapeError("stack: expected a non-empty list of tensors");
  const d = normDim(dim, xs[0].ndim + 1, "stack");
  return cat(
    xs.map((t) => unsqueeze(t, d)),
    d,
  );
}

/** narrow's adjoint: t at [start, start + t.shape[dim]) along dim of zeros of `shape`. */
function pad(t: Tensor, dim: number, start: number, shape: Shape): Tensor {
  const [outer, n, inner] = around(shape, dim);
  const length = t.shape[dim];
  const full = zeros(shape, t.dtype);
  for (let o = 0; o < outer; o++)
    full.data.set(t.data.subarray(o * length * inner, (o + 1) * length * inner), (o * n + start) * inner);
  return full;
}

export function scatterAdd(g: Tensor, offsets: Int32Array, shape: Shape): Tensor {
  const out = allocate(g.dtype, numel(shape));
  addAt(out, g.data, offsets);
  return new Tensor(out, shape, g.dtype);
}

/** out[offsets[i]] += from[i] in order of i (a negative offset adds nothing); the arrays read once, not per element. */
function addAt(out: Storage, from: Storage, offsets: Int32Array): void {
  for (let i = 0; i < offsets.length; i++) {
    const at = offsets[i];
    if (at >= 0) out[at] += from[i];
  }
}

/** The gradient table's operations (runtime/vjp.ts) that layout's rules use, on tensors. */
const CPU = { reshape, permute, sumTo: sumToShape, narrow, pad, scatterAdd };

export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim(dim, x.ndim, "narrow");
  // A negative start counts from the end, as in torch.narrow.
  if (start < 0 && start >= -x.shape[d]) start += x.shape[d];
  if (start < 0 || length < 0 || start + length > x.shape[d])
    throw new ShapeError(
      `narrow: start (${start}) + length (${length}) exceeds dimension size (${x.shape[d]})`,
    );
  const shape = [...x.shape];
  shape[d] = length;
  const [outer, n, inner] = around(x.shape, d);
  const out = allocate(x.dtype, numel(shape));
  for (let o = 0; o < outer; o++)
    out.set(x.data.subarray((o * n + start) * inner, (o * n + start + length) * inner), o * length * inner);
  const result = record(new Tensor(out, shape, x.dtype), "NarrowBackward0", [x], (g) => [
    VJP.narrow(CPU, g, x.shape, d, start),
  ]);
  return traceOp("narrow", [x], { dim: d, start, length }, result);
}

function checkIndex(index: Tensor, what: string): void {
  if (!isIntegral(index.dtype))
    throw new TypeError(`${what}: index must be an integer tensor (int64 or int32), got ${index.dtype}`);
}

/** `torch.gather(input, dim, index)`; the gradient scatters back with addition. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndex(index, "gather");
  const d = normDim(dim, x.ndim, "gather");
  if (index.ndim !== x.ndim)
    throw new ShapeError(
      `gather: index ${fmtShape(index.shape)} and input ${fmtShape(x.shape)} must have the same number of dimensions`,
    );
  const xs = stridesOf(x.shape);
  const is = stridesOf(index.shape);
  const size = x.shape[d];
  const offsets = new Int32Array(index.numel);
  const picks = index.data;
  for (let i = 0; i < index.numel; i++) {
    let rem = i;
    let off = 0;
    for (let k = 0; k < index.ndim; k++) {
      const c = Math.floor(rem / is[k]);
      rem -= c * is[k];
      let v = c;
      if (k === d) {
        v = picks[i];
        // torch.gather does not wrap negative indices: they are out of bounds like any other.
        if (v < 0 || v >= size)
          throw new RangeError(`gather: index ${v} is out of bounds for dimension ${d} with size ${size}`);
      } else if (c >= x.shape[k])
        throw new ShapeError(
          `gather: index ${fmtShape(index.shape)} is larger than input ${fmtShape(x.shape)} at dimension ${k}`,
        );
      off += v * xs[k];
    }
    offsets[i] = off;
  }
  const out = allocate(x.dtype, index.numel);
  const src = x.data;
  for (let i = 0; i < out.length; i++) out[i] = src[offsets[i]];
  const result = record(new Tensor(out, index.shape, x.dtype), "GatherBackward0", [x], (g) => [
    VJP.take(CPU, g, offsets, x.shape),
  ]);
  return traceOp("gather", [x, index], { dim: d }, result);
}

/** `torch.index_select(input, dim, index)` with a 1-D index. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndex(index, "index_select");
  if (index.ndim > 1) throw new ShapeError(`index_select: index must be 1-D, got ${fmtShape(index.shape)}`);
  const d = normDim(dim, x.ndim, "index_select");
  const [outer, n, inner] = around(x.shape, d);
  const m = index.numel;
  const idx = checkedIndex(index.data, n, d);
  const shape = [...x.shape];
  if (x.ndim > 0) shape[d] = m;
  const out = allocate(x.dtype, outer * m * inner);
  if (inner === 1) gatherRows(x.data, idx, out, outer, n);
  else {
    const src = x.data;
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < m; j++)
        out.set(src.subarray((o * n + idx[j]) * inner, (o * n + idx[j] + 1) * inner), (o * m + j) * inner);
  }
  const result = record(new Tensor(out, shape, x.dtype), "IndexSelectBackward0", [x], (g) => [
    VJP.take(CPU, g, selectOffsets(idx, outer, n, inner), x.shape),
  ]);
  return traceOp("index_select", [x, index], { dim: d }, result);
}

function checkedIndex(values: Storage, n: number, dim: number): Int32Array {
  const idx = new Int32Array(values.length);
  for (let j = 0; j < values.length; j++) {
    const v = values[j];
    if (!(v >= 0 && v < n))
      throw new RangeError(`index_select: index ${v} is out of range for dimension ${dim} with size ${n}`);
    idx[j] = v;
  }
  return idx;
}

/**
 * One element per index (im2col gathers a plane's pixels): out row o is src row o (of n) read at idx. Its own
 * small function so the loop stays monomorphic and optimised whatever else index_select is called with.
 */
function gatherRows(src: Storage, idx: Int32Array, out: Storage, outer: number, n: number): void {
  const m = idx.length;
  for (let o = 0; o < outer; o++) {
    const from = o * n;
    const to = o * m;
    for (let j = 0; j < m; j++) out[to + j] = src[from + idx[j]];
  }
}

/**
 * The flat input offset of each element index_select read, for its gradient (VJP.take). A model selects with
 * the same table every step (im2col's, a pooling's windows), so the last few tables' offsets are kept and
 * shared (VJP.take only reads them).
 */
function selectOffsets(idx: Int32Array, outer: number, n: number, inner: number): Int32Array {
  const m = idx.length;
  for (const e of recentOffsets)
    if (e.outer === outer && e.n === n && e.inner === inner && sameValues(e.idx, idx)) return e.offsets;
  const offsets = new Int32Array(outer * m * inner);
  let k = 0;
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < m; j++) {
      const base = (o * n + idx[j]) * inner;
      for (let i = 0; i < inner; i++) offsets[k++] = base + i;
    }
  if (offsets.length <= MEMO_MAX_OFFSETS) {
    recentOffsets.unshift({ idx, outer, n, inner, offsets });
    if (recentOffsets.length > 4) recentOffsets.pop();
  }
  return offsets;
}

/** Largest offsets table kept (4 MiB of Int32). */
const MEMO_MAX_OFFSETS = 1 << 20;
const recentOffsets: { idx: Int32Array; outer: number; n: number; inner: number; offsets: Int32Array }[] = [];

function sameValues(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
