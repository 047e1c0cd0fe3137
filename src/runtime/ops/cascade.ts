/**
 * torch's CPU sum, reproduced in its order of additions so float32 sums and means come out bit-identical to
 * PyTorch's, not merely close: the tutorials print losses like `float(loss)` to 16 digits.
 *
 * torch 1.13's SumKernel (cascade_sum) accumulates in the tensor's own dtype, in AVX2 vectors of 8 floats or 4
 * doubles, with 4 interleaved accumulators (row_sum) and a 4-level cascade every 16+ rows (multi_row_sum).
 * Vector lanes are independent, so each lane is computed here as the same cascade over its own elements.
 * This follows the single-threaded path (what torch takes below 32768 elements, or with one thread).
 */
import type { Storage } from "../dtype.ts";

type Round = (x: number) => number;
type Get = (i: number) => number;

const LEVELS = 4;
const ILP = 4;

/** torch's utils::CeilLog2. */
function ceilLog2(x: number): number {
  if (x <= 2) return 1;
  return 32 - Math.clz32(x - 1);
}

/** multi_row_sum for one column: sequential within a level, levels folded every 2^power rows. */
function cascade(get: Get, size: number, R: Round): number {
  const power = Math.max(4, Math.floor(ceilLog2(size) / LEVELS));
  const step = 2 ** power;
  const mask = step - 1;
  const acc = [0, 0, 0, 0];
  let i = 0;
  while (i + step <= size) {
    for (let j = 0; j < step; j++, i++) acc[0] = R(acc[0] + get(i));
    for (let j = 1; j < LEVELS; j++) {
      acc[j] = R(acc[j] + acc[j - 1]);
      acc[j - 1] = 0;
      if ((i & (mask * 2 ** (j * power))) !== 0) break;
    }
  }
  for (; i < size; i++) acc[0] = R(acc[0] + get(i));
  for (let j = 1; j < LEVELS; j++) acc[0] = R(acc[0] + acc[j]);
  return acc[0];
}

/** row_sum: the row read as (-1, 4), four cascaded partial sums, the tail into the first, then folded. */
function rowSum(get: Get, size: number, R: Round): number {
  const rows = Math.floor(size / ILP);
  const partial = [0, 1, 2, 3].map((k) => cascade((i) => get(i * ILP + k), rows, R));
  for (let i = rows * ILP; i < size; i++) partial[0] = R(partial[0] + get(i));
  for (let k = 1; k < ILP; k++) partial[0] = R(partial[0] + partial[k]);
  return partial[0];
}

/** vectorized_inner_sum / scalar_inner_sum for one contiguous run of `n` values. */
function innerSum(get: Get, n: number, W: number, R: Round): number {
  if (n < W) return rowSum(get, n, R);
  const vecs = Math.floor(n / W);
  let total = 0;
  for (let k = vecs * W; k < n; k++) total = R(total + get(k));
  for (let lane = 0; lane < W; lane++) total = R(total + rowSum((i) => get(i * W + lane), vecs, R));
  return total;
}

/**
 * vectorized_outer_sum / scalar_outer_sum: `cols` contiguous columns each summed over `rows` rows. Columns in
 * whole blocks of 4 vectors (or 4 scalars) take one cascade; the rest take row_sum's interleaved order.
 */
function outerSum(
  get: (row: number, col: number) => number,
  rows: number,
  cols: number,
  W: number,
  R: Round,
) {
  const out = new Float64Array(cols);
  const blocked = cols >= W ? Math.floor(cols / (ILP * W)) * ILP * W : Math.floor(cols / ILP) * ILP;
  for (let c = 0; c < cols; c++) {
    const column = (i: number) => get(i, c);
    out[c] = c < blocked ? cascade(column, rows, R) : rowSum(column, rows, R);
  }
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
  const R: Round = dtype === "float32" ? Math.fround : (x) => x;
  const W = dtype === "float32" ? 8 : 4;
  const get = (i: number) => src[i];
  // Size-1 dims change nothing in torch's iteration; drop them before deciding the layout.
  const live = dims.filter((d) => shape[d] !== 1);
  if (live.length === 0) return Float64Array.from(src);
  if (live.length === shape.filter((s) => s !== 1).length)
    return Float64Array.of(innerSum(get, src.length, W, R));
  if (live.length !== 1) return null;
  const d = live[0];
  const outer = shape.slice(0, d).reduce((p, s) => p * s, 1);
  const n = shape[d];
  const inner = shape.slice(d + 1).reduce((p, s) => p * s, 1);
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    if (inner === 1) out[o] = innerSum((i) => src[base + i], n, W, R);
    else
      out.set(
        outerSum((r, c) => src[base + r * inner + c], n, inner, W, R),
        o * inner,
      );
  }
  return out;
}
