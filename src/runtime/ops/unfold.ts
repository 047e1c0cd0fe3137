/**
 * im2col and its adjoint col2im as primitives, in torch's F.unfold / F.fold layout: (N, C, H, W) <-> (N, C * kH * kW,
 * L), row c * K + kh * kW + kw holding tap (kh, kw) of channel c for each of the L = Ho * Wo window positions.
 * Convolution is unfold then matmul (conv.ts). Each is one strided pass (no index table, no zero-padded copy),
 * and each one's gradient is the other (the gradient table's VJP.unfold and VJP.fold), so conv's backward,
 * the WebGPU kernels (gpu/capture.ts) and the batched replay all follow from these two.
 */
import { record } from "../autograd.ts";
import { allocate, type Storage } from "../dtype.ts";
import { fmtShape, numel, type Shape, ShapeError } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { traceOp } from "../trace.ts";
import { type PoolWindow, VJP } from "../vjp.ts";
import { squeeze, unsqueeze } from "./layout.ts";

export type Pair = number | readonly number[];

/** An int or a tuple of `n` ints, as torch's `_pair`/`_single` expand them. */
export function expandArg(v: Pair, n: number, name: string, what: string): number[] {
  const list = typeof v === "number" ? Array(n).fill(v) : [...v];
  if (list.length === 1 && n > 1) return Array(n).fill(list[0]);
  if (list.length !== n)
    throw new ShapeError(`${what}: ${name} must be an int or a tuple of ${n} ints, got ${fmtShape(list)}`);
  if (list.some((x) => !Number.isInteger(x)))
    throw new ShapeError(`${what}: ${name} must be integers, got ${fmtShape(list)}`);
  return list;
}

/** The gradient table's operations the two rules use, on tensors. */
const CPU = { unfold: unfoldWindows, fold: foldWindows };

/**
 * Along axis `a` of `size` input elements, per kernel tap k, three numbers: the window positions [lo, hi) whose
 * tap k falls inside the input (the others read padding), and the input index the tap of position 0 reads.
 */
function axisTaps(win: PoolWindow, a: number, size: number, out: number): Int32Array {
  const [s, p, d] = [win.s[a], win.p[a], win.d[a]];
  const t = new Int32Array(win.k[a] * 3);
  for (let k = 0; k < win.k[a]; k++) {
    const first = k * d - p;
    let lo = 0;
    while (lo < out && first + lo * s < 0) lo++;
    let hi = out;
    while (hi > lo && first + (hi - 1) * s >= size) hi--;
    t[3 * k] = lo;
    t[3 * k + 1] = hi;
    t[3 * k + 2] = first;
  }
  return t;
}

/**
 * Per kernel tap (kh, kw), five numbers: the window rows [oh0, oh1) and columns [ow0, ow1) whose tap falls
 * inside the image, and the plane offset the tap of window (0, 0) would read (ih0 * W + iw0).
 */
function tapTable(win: PoolWindow, H: number, W: number, out: readonly number[]): Int32Array {
  const rows = axisTaps(win, 0, H, out[0]);
  const cols = axisTaps(win, 1, W, out[1]);
  const t = new Int32Array(win.k[0] * win.k[1] * 5);
  for (let kh = 0, j = 0; kh < win.k[0]; kh++)
    for (let kw = 0; kw < win.k[1]; kw++, j += 5) {
      t[j] = rows[3 * kh];
      t[j + 1] = rows[3 * kh + 1];
      t[j + 2] = cols[3 * kw];
      t[j + 3] = cols[3 * kw + 1];
      t[j + 4] = rows[3 * kh + 2] * W + cols[3 * kw + 2];
    }
  return t;
}

/**
 * The one strided pass both primitives make over (N, C, H, W) images and their (N, C * kH * kW, Ho * Wo)
 * columns, in column order (plane, kernel tap, then window position): "gather" copies each tap inside the
 * image into its column entry (the rest stay 0), "scatter" adds each column entry to the image element its
 * tap reads. Rows run as plain loops (unit stride apart), which is what makes this faster than a gather by
 * an index table.
 */
function windowPass(
  dir: "gather" | "scatter",
  image: Storage,
  columns: Storage,
  shape: Shape,
  win: PoolWindow,
  out: readonly number[],
): void {
  const [n, c, H, W] = shape;
  const Wo = out[1];
  const L = out[0] * Wo;
  const K = win.k[0] * win.k[1];
  const t = tapTable(win, H, W, out);
  const rowStep = win.s[0] * W;
  const sW = win.s[1];
  if (dir === "scatter") {
    for (let pl = 0, col = 0; pl < n * c; pl++)
      for (let j = 0; j < 5 * K; j += 5, col += L) {
        const [oh0, oh1, ow0, ow1] = [t[j], t[j + 1], t[j + 2], t[j + 3]];
        const base = pl * H * W + t[j + 4];
        for (let oh = oh0; oh < oh1; oh++) {
          const at = base + oh * rowStep;
          const to = col + oh * Wo;
          for (let ow = ow0; ow < ow1; ow++) image[at + ow * sW] += columns[to + ow];
        }
      }
    return;
  }
  // With unit column stride and equal row pitches (a stride-1 'same' convolution), a tap's rows lie at one
  // offset from their columns, so the block is one run copied in a single loop; the entries between its rows
  // that the tap leaves in padding are then put back to 0. Every value ends up as the row loop writes it.
  const oneRun = sW === 1 && rowStep === Wo;
  for (let pl = 0, col = 0; pl < n * c; pl++)
    for (let j = 0; j < 5 * K; j += 5, col += L) {
      const [oh0, oh1, ow0, ow1] = [t[j], t[j + 1], t[j + 2], t[j + 3]];
      if (oh0 >= oh1 || ow0 >= ow1) continue;
      const base = pl * H * W + t[j + 4];
      if (oneRun) {
        const delta = base - col;
        const from = col + oh0 * Wo + ow0;
        const end = col + (oh1 - 1) * Wo + ow1;
        // One memory copy (the same bits; arrays of one dtype) instead of an element loop.
        columns.set(image.subarray(from + delta, end + delta), from);
        if (ow1 - ow0 < Wo)
          for (let oh = oh0; oh < oh1 - 1; oh++) {
            const to = col + oh * Wo;
            for (let ow = ow1; ow < Wo; ow++) columns[to + ow] = 0;
            for (let ow = 0; ow < ow0; ow++) columns[to + Wo + ow] = 0;
          }
        continue;
      }
      for (let oh = oh0; oh < oh1; oh++) {
        const at = base + oh * rowStep;
        const to = col + oh * Wo;
        if (sW === 1) for (let ow = ow0; ow < ow1; ow++) columns[to + ow] = image[at + ow];
        else for (let ow = ow0; ow < ow1; ow++) columns[to + ow] = image[at + ow * sW];
      }
    }
}

/**
 * im2col: (N, C, H, W) -> (N, C * kH * kW, Ho * Wo), every window's taps (win: kernel, stride, padding before
 * each dim, dilation; `out` the window positions per dim, so the padding after a dim is what they leave), 0
 * where a tap falls in padding. Its gradient is col2im of the gradient.
 */
export function unfoldWindows(x: Tensor, win: PoolWindow, out: readonly number[]): Tensor {
  if (x.ndim !== 4) throw new ShapeError(`im2col: expected an (N, C, H, W) input, got ${fmtShape(x.shape)}`);
  const [n, c] = x.shape;
  const K = win.k[0] * win.k[1];
  const L = out[0] * out[1];
  const columns = allocate(x.dtype, n * c * K * L);
  windowPass("gather", x.data, columns, x.shape, win, out);
  const y = record(new Tensor(columns, [n, c * K, L], x.dtype), "Im2ColBackward0", [x], (g) => [
    VJP.unfold(CPU, g, win, out, x.shape),
  ]);
  return traceOp("unfold", [x], { win, out }, y);
}

/**
 * col2im, im2col's adjoint: zeros of `shape` (N, C, H, W) with each column entry of g (N, C * kH * kW, Ho * Wo)
 * added at the input element its tap reads (taps in padding add nothing), in g's order: row by row, each
 * row's positions in order (torch's col2im order, and the order the gather's scatter took). Its gradient is
 * im2col of the gradient.
 */
export function foldWindows(g: Tensor, win: PoolWindow, out: readonly number[], shape: Shape): Tensor {
  const [n, c] = shape;
  const K = win.k[0] * win.k[1];
  const L = out[0] * out[1];
  if (shape.length !== 4 || g.ndim !== 3 || g.shape[0] !== n || g.shape[1] !== c * K || g.shape[2] !== L)
    throw new ShapeError(
      `col2im: expected (${n}, ${c * K}, ${L}) columns for ${fmtShape(shape)}, got ${fmtShape(g.shape)}`,
    );
  const image = allocate(g.dtype, numel(shape));
  windowPass("scatter", image, g.data, shape, win, out);
  const x = record(new Tensor(image, [...shape], g.dtype), "Col2ImBackward0", [g], (gx) => [
    VJP.fold(CPU, gx, win, out),
  ]);
  return traceOp("fold", [g], { win, out }, x);
}

export interface UnfoldOptions {
  dilation?: Pair;
  padding?: Pair;
  stride?: Pair;
}

/** The window and its positions per dim over an (H, W) plane, checked as torch's im2col/col2im check them. */
function sliding(size: readonly number[], kernel: Pair, o: UnfoldOptions, what: string) {
  const k = expandArg(kernel, 2, "kernel_size", what);
  const d = expandArg(o.dilation ?? 1, 2, "dilation", what);
  const p = expandArg(o.padding ?? 0, 2, "padding", what);
  const s = expandArg(o.stride ?? 1, 2, "stride", what);
  if (k.some((v) => v < 1)) throw new ShapeError(`${what}: kernel size should be greater than zero`);
  if (d.some((v) => v < 1)) throw new ShapeError(`${what}: dilation should be greater than zero`);
  if (p.some((v) => v < 0)) throw new ShapeError(`${what}: padding should be non-negative`);
  if (s.some((v) => v < 1)) throw new ShapeError(`${what}: stride should be greater than zero`);
  const out = size.map((n, i) => Math.floor((n + 2 * p[i] - (d[i] * (k[i] - 1) + 1)) / s[i]) + 1);
  if (out.some((v) => v < 1))
    throw new ShapeError(
      `${what}: Given input with spatial size (${size.join(", ")}), kernel_size=(${k.join(", ")}), dilation=(${d.join(", ")}), padding=(${p.join(", ")}), calculated shape of the array of sliding blocks as (${out.join(", ")}), which is too small (non-positive)`,
    );
  return { win: { k, s, p, d }, out };
}

/** Run `fn` on a batched tensor of rank `rank`, adding and removing the batch dim of an unbatched input. */
function batchedTo(x: Tensor, rank: number, what: string, fn: (x: Tensor) => Tensor): Tensor {
  if (x.ndim === rank) return fn(x);
  if (x.ndim === rank - 1) return squeeze(fn(unsqueeze(x, 0)), 0);
  throw new ShapeError(
    `${what}: expected ${rank - 1}D (unbatched) or ${rank}D (batched) input, but got input of size: ${fmtShape(x.shape)}`,
  );
}

/** `F.unfold(input, kernel_size, dilation, padding, stride)`: (N, C, H, W) -> (N, C * kH * kW, L). */
export function unfold(x: Tensor, kernel: Pair, o: UnfoldOptions = {}): Tensor {
  return batchedTo(x, 4, "unfold", (x4) => {
    const { win, out } = sliding(x4.shape.slice(2), kernel, o, "unfold");
    return unfoldWindows(x4, win, out);
  });
}

/** `F.fold(input, output_size, kernel_size, dilation, padding, stride)`: (N, C * kH * kW, L) -> (N, C, H, W). */
export function fold(x: Tensor, outputSize: Pair, kernel: Pair, o: UnfoldOptions = {}): Tensor {
  return batchedTo(x, 3, "fold", (x3) => {
    const size = expandArg(outputSize, 2, "output_size", "fold");
    const { win, out } = sliding(size, kernel, o, "fold");
    const K = win.k[0] * win.k[1];
    const [n, rows, L] = x3.shape;
    if (rows % K !== 0)
      throw new ShapeError(
        `fold: Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)=${rows} and kernel_size=(${win.k.join(", ")})`,
      );
    if (L !== out[0] * out[1])
      throw new ShapeError(
        `fold: Given output_size=(${size.join(", ")}), kernel_size=(${win.k.join(", ")}), dilation=(${win.d.join(", ")}), padding=(${win.p.join(", ")}), stride=(${win.s.join(", ")}), expected size of input's dimension 2 to match the calculated number of sliding blocks ${out[0]} * ${out[1]} = ${out[0] * out[1]}, but got input.size(2)=${L}.`,
      );
    return foldWindows(x3, win, out, [n, rows / K, ...size]);
  });
}
