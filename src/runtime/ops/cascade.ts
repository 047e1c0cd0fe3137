/**
 * torch's CPU sum, reproduced in its order of additions so float32 sums and means come out bit-identical to
 * PyTorch's, not merely close: the tutorials print losses like `float(loss)` to 16 digits.
 *
 * torch 1.13's SumKernel (cascade_sum) accumulates in the tensor's own dtype, in AVX2 vectors of 8 floats or 4
 * doubles, with 4 interleaved accumulators (row_sum) and a 4-level cascade every 16+ rows (multi_row_sum).
 * Vector lanes are independent, so lanes become columns here: a block of 4 vectors is 4W columns summed down
 * the rows together, which is also the cache-friendly order. This follows the single-threaded path (what
 * torch takes below 32768 elements, or with one thread).
 */
import type { Storage } from "../dtype.ts";

const LEVELS = 4;
const ILP = 4;

/** torch's utils::CeilLog2. */
function ceilLog2(x: number): number {
  return x <= 2 ? 1 : 32 - Math.clz32(x - 1);
}

/**
 * multi_row_sum: `width` independent columns, element (i, t) at off + i * rowStride + t * colStride for
 * i < rows; sequential within a level, levels folded every 2^power rows.
 */
function multiRowSum(
  src: Storage,
  off: number,
  rowStride: number,
  colStride: number,
  rows: number,
  width: number,
  f32: boolean,
): number[] {
  const power = Math.max(4, Math.floor(ceilLog2(rows) / LEVELS));
  const step = 2 ** power;
  const mask = step - 1;
  // Plain arrays of doubles: typed arrays this size live off the heap and cost more to make and collect.
  const zeros = (): number[] => new Array<number>(width).fill(0);
  const a0 = zeros();
  // The upper levels exist only once a cascade step folds into them (never for fewer than 2^power rows).
  let acc: number[][] | null = null;
  const addRow = (i: number): void => {
    const base = off + i * rowStride;
    if (f32) for (let t = 0; t < width; t++) a0[t] = Math.fround(a0[t] + src[base + t * colStride]);
    else for (let t = 0; t < width; t++) a0[t] += src[base + t * colStride];
  };
  const fold = (into: number[], from: number[]): void => {
    if (f32) for (let t = 0; t < width; t++) into[t] = Math.fround(into[t] + from[t]);
    else for (let t = 0; t < width; t++) into[t] += from[t];
  };
  let i = 0;
  while (i + step <= rows) {
    for (let j = 0; j < step; j++, i++) addRow(i);
    acc ??= [a0, zeros(), zeros(), zeros()];
    for (let j = 1; j < LEVELS; j++) {
      fold(acc[j], acc[j - 1]);
      acc[j - 1].fill(0);
      if ((i & (mask * 2 ** (j * power))) !== 0) break;
    }
  }
  for (; i < rows; i++) addRow(i);
  if (acc) for (let j = 1; j < LEVELS; j++) fold(a0, acc[j]);
  // Folding in all-zero levels adds +0, which turns a -0 into +0; once is the same as three times.
  else for (let t = 0; t < width; t++) a0[t] += 0;
  return a0;
}

/** row_sum of `size` scalars at off + i * stride: read as (-1, 4), four cascades, the tail into the first. */
function rowSum(src: Storage, off: number, stride: number, size: number, f32: boolean): number {
  const rows = Math.floor(size / ILP);
  const p = multiRowSum(src, off, stride * ILP, stride, rows, ILP, f32);
  const R = f32 ? Math.fround : (x: number) => x;
  let s = p[0];
  for (let i = rows * ILP; i < size; i++) s = R(s + src[off + i * stride]);
  for (let k = 1; k < ILP; k++) s = R(s + p[k]);
  return s;
}

/** vectorized_inner_sum (scalar_inner_sum below one vector) of `n` contiguous values. */
function innerSum(src: Storage, off: number, n: number, W: number, f32: boolean): number {
  if (n < W) return rowSum(src, off, 1, n, f32);
  const R = f32 ? Math.fround : (x: number) => x;
  const vecs = Math.floor(n / W);
  const rows = Math.floor(vecs / ILP);
  if (rows === 0) return shortInnerSum(src, off, n, W, vecs, R);
  // Columns k * W + lane: the four interleaved vector accumulators of row_sum, all lanes at once.
  const p = multiRowSum(src, off, ILP * W, 1, rows, ILP * W, f32);
  for (let v = rows * ILP; v < vecs; v++)
    for (let lane = 0; lane < W; lane++) p[lane] = R(p[lane] + src[off + v * W + lane]);
  for (let k = 1; k < ILP; k++) for (let lane = 0; lane < W; lane++) p[lane] = R(p[lane] + p[k * W + lane]);
  let total = 0;
  for (let e = vecs * W; e < n; e++) total = R(total + src[off + e]);
  for (let lane = 0; lane < W; lane++) total = R(total + p[lane]);
  return total;
}

/**
 * innerSum below one cascade row (fewer than 4 vectors, a tiny graph's loss): the same additions without the
 * cascade's bookkeeping. Its all-zero accumulators contribute only `+ 0` (which turns a -0 lane into +0).
 */
function shortInnerSum(
  src: Storage,
  off: number,
  n: number,
  W: number,
  vecs: number,
  R: (x: number) => number,
): number {
  let total = 0;
  for (let e = vecs * W; e < n; e++) total = R(total + src[off + e]);
  for (let lane = 0; lane < W; lane++) {
    let p = 0;
    for (let v = 0; v < vecs; v++) p = R(p + src[off + v * W + lane]);
    total = R(total + (p + 0));
  }
  return total;
}

/**
 * vectorized_outer_sum / scalar_outer_sum: `cols` contiguous columns each summed over `rows` rows. Columns in
 * whole blocks of 4 vectors (or of 4 scalars) share one cascade; the rest each take row_sum's order.
 */
function outerSum(
  src: Storage,
  off: number,
  rows: number,
  cols: number,
  W: number,
  f32: boolean,
): Float64Array {
  const blocked = cols >= W ? Math.floor(cols / (ILP * W)) * ILP * W : Math.floor(cols / ILP) * ILP;
  const out = new Float64Array(cols);
  if (blocked > 0) out.set(multiRowSum(src, off, cols, 1, rows, blocked, f32));
  for (let c = blocked; c < cols; c++) out[c] = rowSum(src, off + c, cols, rows, f32);
  return out;
}

/**
 * torch.sum over all dims, or over one dim, in torch's order; null for reductions it does not reproduce
 * (several dims but not all), which then take an exactly rounded float64 sum instead.
 * Results are in keepdim row-major order, rounded as the dtype stores them.
 */
export function torchOrderSum(
  src: Storage,
  shape: readonly number[],
  dims: readonly number[],
  dtype: "float32" | "float64",
): Float64Array | null {
  const f32 = dtype === "float32";
  const W = f32 ? 8 : 4;
  // Size-1 dims change nothing in torch's iteration; drop them before deciding the layout.
  const live = dims.filter((d) => shape[d] !== 1);
  if (live.length === 0) return Float64Array.from(src);
  if (live.length === shape.filter((s) => s !== 1).length)
    return Float64Array.of(innerSum(src, 0, src.length, W, f32));
  if (live.length !== 1) return null;
  const d = live[0];
  const outer = shape.slice(0, d).reduce((p, s) => p * s, 1);
  const n = shape[d];
  const inner = shape.slice(d + 1).reduce((p, s) => p * s, 1);
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    if (inner === 1) out[o] = innerSum(src, base, n, W, f32);
    else out.set(outerSum(src, base, n, inner, W, f32), o * inner);
  }
  return out;
}
