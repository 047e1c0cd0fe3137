/**
 * Convolution and pooling (F.conv1d, F.conv2d, F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d). Convolution
 * is the im2col primitive (unfold.ts) then matmul; max_pool2d and avg_pool2d are primitives of their own (one
 * strided pass, a rule in the gradient table); adaptive_avg_pool2d gathers its windows by a windowed
 * index_select and sums and divides them. Nothing here writes a derivative: the gradients come from the table.
 */
import { record } from "../autograd.ts";
import { allocate, coerce, type DType } from "../dtype.ts";
import { maxPool2x2Simd } from "../fused/pool.ts";
import { fmtShape, numel, type Shape, ShapeError } from "../shape.ts";
import { captureArray, fusable, lazyTensor, readPending } from "../simd/lazy.ts";
import { Tensor, zeros } from "../tensor.ts";
import { traceOp } from "../trace.ts";
import { type PoolWindow, VJP } from "../vjp.ts";
import { applyBinary } from "./elementwise.ts";
import { cat, indexSelect, reshape, squeeze, unsqueeze } from "./layout.ts";
import { matmul } from "./matmul.ts";
import { sum } from "./reduce.ts";
import { expandArg, type Pair, unfoldWindows } from "./unfold.ts";

/** Where the taps of each output position fall along one spatial dimension: an input index, or -1 outside. */
interface Axis {
  size: number;
  out: number;
  kernel: number;
  /** taps[o * kernel + k]: the input index of tap k of output o, -1 where it falls in padding. */
  taps: Int32Array;
}

/** Adaptive pooling's windows: [floor(o * size / out), ceil((o + 1) * size / out)), padded to the widest. */
function adaptive(size: number, out: number): Axis {
  const start = (o: number) => Math.floor((o * size) / out);
  const end = (o: number) => Math.ceil(((o + 1) * size) / out);
  let kernel = 0;
  for (let o = 0; o < out; o++) kernel = Math.max(kernel, end(o) - start(o));
  const taps = new Int32Array(out * kernel).fill(-1);
  for (let o = 0; o < out; o++) for (let i = start(o); i < end(o); i++) taps[o * kernel + i - start(o)] = i;
  return { size, out, kernel, taps };
}

/**
 * The im2col table over a (H, W) plane: for tap (kh, kw) of output (oh, ow), at [(kh * kW + kw) * L + oh * Wo + ow],
 * the flat input index it reads. A tap in padding reads `fill`: H * W (a zero appended to the plane) for
 * convolution and average pooling; for max pooling, the window's first valid element (see maxPool2d).
 */
function table(h: Axis, w: Axis, fill: "zero" | "first"): { index: Tensor; padded: boolean } {
  const K = h.kernel * w.kernel;
  const L = h.out * w.out;
  const idx = allocate("int64", K * L);
  let padded = false;
  for (let kh = 0; kh < h.kernel; kh++)
    for (let kw = 0; kw < w.kernel; kw++)
      for (let oh = 0; oh < h.out; oh++)
        for (let ow = 0; ow < w.out; ow++) {
          const ih = h.taps[oh * h.kernel + kh];
          const iw = w.taps[ow * w.kernel + kw];
          let at: number;
          if (ih >= 0 && iw >= 0) at = ih * w.size + iw;
          else if (fill === "zero") {
            at = h.size * w.size;
            padded = true;
          } else at = firstValid(h, oh) * w.size + firstValid(w, ow);
          idx[(kh * w.kernel + kw) * L + oh * w.out + ow] = at;
        }
  return { index: new Tensor(idx, [K * L], "int64"), padded };
}

function firstValid(a: Axis, o: number): number {
  for (let k = 0; k < a.kernel; k++) if (a.taps[o * a.kernel + k] >= 0) return a.taps[o * a.kernel + k];
  return 0;
}

/** (N, C, H, W) -> (N, C, K, L): every window's taps, gathered by one index_select over the flattened plane. */
function windows(x: Tensor, t: { index: Tensor; padded: boolean }, K: number, L: number): Tensor {
  const [n, c, hh, ww] = x.shape;
  let plane = reshape(x, [n, c, hh * ww]);
  if (t.padded) plane = cat([plane, zeros([n, c, 1], x.dtype)], 2);
  return reshape(indexSelect(plane, 2, t.index), [n, c, K, L]);
}

function checkRank(shape: readonly number[], spatial: number, what: string): void {
  if (shape.length !== spatial + 1 && shape.length !== spatial + 2)
    throw new ShapeError(
      `${what}: expected ${spatial + 1}D (unbatched) or ${spatial + 2}D (batched) input, but got input of size: ${fmtShape(shape)}`,
    );
}

/** Run `fn` on a batched (N, C, *spatial) tensor, adding and removing the batch dim of an unbatched input. */
function batched(x: Tensor, spatial: number, fn: (x: Tensor) => Tensor): Tensor {
  if (x.ndim === spatial + 2) return fn(x);
  return squeeze(fn(unsqueeze(x, 0)), 0);
}

export interface ConvOptions {
  stride?: Pair;
  /** An int, a tuple, or 'same' / 'valid' as torch takes them. */
  padding?: Pair | "same" | "valid";
  dilation?: Pair;
  groups?: number;
}

/** Left and right padding per dim: 'same' puts the odd one on the right, as torch does. */
function convPadding(
  o: ConvOptions,
  k: number[],
  d: number[],
  s: number[],
  what: string,
): [number[], number[]] {
  const p = o.padding ?? 0;
  if (p === "valid") return [k.map(() => 0), k.map(() => 0)];
  if (p === "same") {
    if (s.some((x) => x !== 1))
      throw new ShapeError(`${what}: padding='same' is not supported for strided convolutions`);
    const total = k.map((kk, i) => d[i] * (kk - 1));
    const left = total.map((t) => Math.floor(t / 2));
    return [left, total.map((t, i) => t - left[i])];
  }
  if (typeof p === "string")
    throw new ShapeError(`${what}: Invalid padding string '${p}', should be one of ['valid', 'same']`);
  const both = expandArg(p, k.length, "padding", what);
  if (both.some((x) => x < 0)) throw new ShapeError(`${what}: negative padding is not supported`);
  return [both, both];
}

interface ConvGeometry {
  k: number[];
  s: number[];
  d: number[];
  /** Padding before each spatial dim (after it, the rest of 'same''s total). */
  left: number[];
  /** The output's spatial sizes. */
  out: number[];
  /** The output's full shape (unbatched when the input is). */
  shape: number[];
}

/** Checks conv's arguments as torch does and works out its output, from shapes alone (shape inference uses it). */
export function convGeometry(
  xShape: readonly number[],
  wShape: readonly number[],
  biasShape: readonly number[] | null,
  o: ConvOptions,
  dims: 1 | 2,
): ConvGeometry {
  const what = `conv${dims}d`;
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1)
    throw new ShapeError(`${what}: non-positive groups is not supported`);
  checkRank(xShape, dims, what);
  if (wShape.length !== dims + 2)
    throw new ShapeError(
      `${what}: expected weight to be ${dims + 2}-dimensional (out_channels, in_channels / groups, ${dims === 2 ? "kH, kW" : "kW"}), but got weight of size ${fmtShape(wShape)}`,
    );
  const [outC, inPerGroup] = wShape;
  const k = wShape.slice(2);
  const s = expandArg(o.stride ?? 1, dims, "stride", what);
  const d = expandArg(o.dilation ?? 1, dims, "dilation", what);
  if (s.some((x) => x < 1)) throw new ShapeError(`${what}: non-positive stride is not supported`);
  if (d.some((x) => x < 1)) throw new ShapeError(`${what}: dilation should be greater than zero`);
  const [left, right] = convPadding(o, k, d, s, what);
  if (outC % groups !== 0)
    throw new ShapeError(`${what}: out_channels (${outC}) must be divisible by groups (${groups})`);
  if (biasShape && (biasShape.length !== 1 || biasShape[0] !== outC))
    throw new ShapeError(
      `${what}: expected bias to be 1-dimensional with ${outC} elements, but got bias of size ${fmtShape(biasShape)}`,
    );
  const inC = xShape[xShape.length - dims - 1];
  if (inC !== inPerGroup * groups)
    throw new ShapeError(
      `${what}: Given groups=${groups}, weight of size ${fmtShape(wShape)}, expected input${fmtShape(xShape)} to have ${inPerGroup * groups} channels, but got ${inC} channels instead`,
    );
  const sizes = xShape.slice(-dims);
  const padded = sizes.map((n, i) => n + left[i] + right[i]);
  const span = k.map((kk, i) => d[i] * (kk - 1) + 1);
  if (padded.some((p, i) => p < span[i]))
    throw new ShapeError(
      `${what}: Calculated padded input size per channel: (${padded.join(" x ")}). Kernel size: (${span.join(" x ")}). Kernel size can't be greater than actual input size`,
    );
  const out = padded.map((p, i) => Math.floor((p - span[i]) / s[i]) + 1);
  return { k, s, d, left, out, shape: [...xShape.slice(0, -dims - 1), outC, ...out] };
}

function convNd(input: Tensor, weight: Tensor, bias: Tensor | null, o: ConvOptions, dims: 1 | 2): Tensor {
  const what = `conv${dims}d`;
  if (input.dtype !== weight.dtype || (bias && bias.dtype !== input.dtype))
    throw new TypeError(
      `${what}: input (${input.dtype}), weight (${weight.dtype})${bias ? ` and bias (${bias.dtype})` : ""} must have the same dtype`,
    );
  const { k, s, d, left, out } = convGeometry(input.shape, weight.shape, bias?.shape ?? null, o, dims);
  const groups = o.groups ?? 1;
  const [outC, inPerGroup] = weight.shape;
  return batched(input, dims, (x) => {
    // conv1d is conv2d over a plane of height 1.
    const x4 = dims === 2 ? x : unsqueeze(x, 2);
    const plane = (v: number[], one: number) => (dims === 2 ? v : [one, v[0]]);
    const win: PoolWindow = { k: plane(k, 1), s: plane(s, 1), p: plane(left, 0), d: plane(d, 1) };
    const grid = plane(out, 1);
    const K = win.k[0] * win.k[1];
    const cols = unfoldWindows(x4, win, grid);
    const w = reshape(weight, [groups, outC / groups, inPerGroup * K]);
    const y = matmul(w, reshape(cols, [x.shape[0], groups, inPerGroup * K, grid[0] * grid[1]]));
    return bias
      ? addBias(reshape(y, [x.shape[0], outC, ...out]), bias, dims)
      : reshape(y, [x.shape[0], outC, ...out]);
  });
}

function addBias(y: Tensor, bias: Tensor, dims: number): Tensor {
  return applyBinary("add", y, reshape(bias, [bias.shape[0], ...Array(dims).fill(1)]));
}

/** `F.conv2d(input, weight, bias, stride, padding, dilation, groups)`. */
export const conv2d = (x: Tensor, weight: Tensor, bias: Tensor | null = null, o: ConvOptions = {}) =>
  convNd(x, weight, bias, o, 2);

/** `F.conv1d(input, weight, bias, stride, padding, dilation, groups)`. */
export const conv1d = (x: Tensor, weight: Tensor, bias: Tensor | null = null, o: ConvOptions = {}) =>
  convNd(x, weight, bias, o, 1);

/** torch's pooling_output_shape: floor or ceil, and a last window that starts in the right padding is dropped. */
function poolOut(size: number, k: number, pad: number, s: number, d: number, ceil: boolean): number {
  const num = size + 2 * pad - d * (k - 1) - 1 + (ceil ? s - 1 : 0);
  let out = Math.floor(num / s) + 1;
  if (ceil && (out - 1) * s >= size + pad) out--;
  return out;
}

interface PoolGeometry {
  k: number[];
  s: number[];
  p: number[];
  d: number[];
  out: number[];
  shape: number[];
}

function poolGeometry(
  shape: readonly number[],
  kernel: Pair,
  stride: Pair | null | undefined,
  padding: Pair,
  dilation: Pair,
  ceil: boolean,
  what: string,
): PoolGeometry {
  checkRank(shape, 2, what);
  const k = expandArg(kernel, 2, "kernel_size", what);
  const s =
    stride === null || stride === undefined || (Array.isArray(stride) && stride.length === 0)
      ? k
      : expandArg(stride, 2, "stride", what);
  const p = expandArg(padding, 2, "padding", what);
  const d = expandArg(dilation, 2, "dilation", what);
  if (k.some((v) => v < 1)) throw new ShapeError(`${what}: kernel size should be greater than zero`);
  if (s.some((v) => v < 1)) throw new ShapeError(`${what}: stride should be greater than zero`);
  if (d.some((v) => v < 1)) throw new ShapeError(`${what}: dilation should be greater than zero`);
  if (p.some((v, i) => v < 0 || v > Math.floor(k[i] / 2)))
    throw new ShapeError(
      `${what}: pad should be at most half of kernel size, but got pad=${p[p[0] > k[0] / 2 ? 0 : 1]} and kernel_size=${k[p[0] > k[0] / 2 ? 0 : 1]}`,
    );
  const sizes = shape.slice(-2);
  const out = sizes.map((n, i) => poolOut(n, k[i], p[i], s[i], d[i], ceil));
  if (out.some((o) => o < 1))
    throw new ShapeError(
      `${what}: Given input size: (${shape.slice(-3).join("x")}). Calculated output size: (${shape.at(-3)}x${out.join("x")}). Output size is too small`,
    );
  return { k, s, p, d, out, shape: [...shape.slice(0, -2), ...out] };
}

const maxGeometry = (shape: readonly number[], kernel: Pair, o: MaxPoolOptions) =>
  poolGeometry(shape, kernel, o.stride, o.padding ?? 0, o.dilation ?? 1, o.ceilMode ?? false, "max_pool2d");

function avgGeometry(shape: readonly number[], kernel: Pair, o: AvgPoolOptions): PoolGeometry {
  const g = poolGeometry(shape, kernel, o.stride, o.padding ?? 0, 1, o.ceilMode ?? false, "avg_pool2d");
  if (o.divisorOverride === 0) throw new ShapeError("avg_pool2d: divisor must be not zero");
  return g;
}

/** max_pool2d's output shape (its indices have the same), checked as torch checks its arguments. */
export const maxPool2dShape = (shape: readonly number[], kernel: Pair, o: MaxPoolOptions = {}) =>
  maxGeometry(shape, kernel, o).shape;

/** avg_pool2d's output shape, checked as torch checks its arguments. */
export const avgPool2dShape = (shape: readonly number[], kernel: Pair, o: AvgPoolOptions = {}) =>
  avgGeometry(shape, kernel, o).shape;

export interface MaxPoolOptions {
  stride?: Pair | null;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

/** `F.max_pool2d(..., return_indices=True)`: values and flat indices into each input plane. */
export function maxPool2d(
  x: Tensor,
  kernel: Pair,
  o: MaxPoolOptions = {},
): { values: Tensor; indices: Tensor } {
  const g = maxGeometry(x.shape, kernel, o);
  const win: PoolWindow = { k: g.k, s: g.s, p: g.p, d: g.d };
  if (x.ndim === 4) return maxPoolWindows(x, win, g.out);
  const r = maxPoolWindows(unsqueeze(x, 0), win, g.out);
  return { values: squeeze(r.values, 0), indices: squeeze(r.indices, 0) };
}

/**
 * Along one axis of `size` input elements: for each of `outSize` windows (kernel k, stride s, padding p,
 * dilation d), the first tap inside the input and the end of its taps.
 */
function tapRanges(
  outSize: number,
  size: number,
  k: number,
  s: number,
  p: number,
  d: number,
): [Int32Array, Int32Array] {
  const from = new Int32Array(outSize);
  const to = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let first = o * s - p;
    to[o] = Math.min(first + (k - 1) * d + 1, size);
    while (first < 0) first += d;
    from[o] = first;
  }
  return [from, to];
}

/**
 * max_pool2d over (N, C, H, W) to (N, C, ...out) in one pass, as torch's CPU kernel (cpu_max_pool): per window the taps in
 * row-major order from -inf, `val > max || isnan(val)` (so the first of equal maxima, the LAST NaN), the index
 * starting at the first valid tap (an all -inf window picks it). Taps in padding are skipped. The gradient goes
 * to each output's saved index, added in output order as torch's backward does (VJP.take's scatter).
 */
export function maxPoolWindows(
  x: Tensor,
  win: PoolWindow,
  out: readonly number[],
): { values: Tensor; indices: Tensor } {
  const [n, c, H, W] = x.shape;
  const [Ho, Wo] = out;
  const vals = allocate(x.dtype, n * c * Ho * Wo);
  const idx = new Float64Array(n * c * Ho * Wo);
  const is = (v: readonly number[], e: number) => v[0] === e && v[1] === e;
  // ceil_mode's last window may run past the input: only whole windows take the unrolled loop.
  const unrolled = is(win.k, 2) && is(win.s, 2) && is(win.p, 0) && is(win.d, 1) && 2 * Ho <= H && 2 * Wo <= W;
  const run = (src: ArrayLike<number>) => {
    const pass: PoolPass = { src, vals, idx, planes: n * c, H, W, Ho, Wo };
    if (!unrolled) maxPoolGeneral(pass, win);
    else if (!(x.dtype === "float32" && maxPool2x2Simd(src, n * c, H, W, Ho, Wo, vals, idx)))
      maxPool2x2(pass);
  };
  // A pending activation (relu's) is read where the SIMD pass leaves it, never copied to an array of its own.
  if (readPending(x, run) === null) run(x.data);
  const shape = [n, c, Ho, Wo];
  const indices = new Tensor(idx, shape, "int64");
  const values = record(new Tensor(vals, shape, x.dtype), "MaxPool2DWithIndicesBackward0", [x], (grad) => [
    VJP.maxPool2d({ unpool }, grad, indices, win, x.shape),
  ]);
  return traceOp("max_pool2d", [x], { win, out: [Ho, Wo] }, { values, indices });
}

/** One max_pool2d pass: planes of (H, W) input read into (Ho, Wo) values and their indices. */
interface PoolPass {
  src: ArrayLike<number>;
  vals: { [i: number]: number };
  idx: Float64Array;
  planes: number;
  H: number;
  W: number;
  Ho: number;
  Wo: number;
}

/**
 * The common window (2 x 2, stride 2, no padding or dilation) with the taps unrolled: the same rule and order as
 * maxPoolGeneral (the first tap starts the window, as -inf would; later taps in row-major order take it when
 * larger or NaN).
 */
function maxPool2x2(pass: PoolPass): void {
  const { src, vals, idx, planes, H, W, Ho, Wo } = pass;
  let o = 0;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * H * W;
    for (let oh = 0; oh < Ho; oh++) {
      const r0 = 2 * oh * W;
      const r1 = r0 + W;
      for (let ow = 0; ow < Wo; ow++, o++) {
        const w0 = 2 * ow;
        let bv = src[base + r0 + w0];
        let bi = r0 + w0;
        const b = src[base + r0 + w0 + 1];
        if (b > bv || Number.isNaN(b)) {
          bv = b;
          bi = r0 + w0 + 1;
        }
        const c = src[base + r1 + w0];
        if (c > bv || Number.isNaN(c)) {
          bv = c;
          bi = r1 + w0;
        }
        const d = src[base + r1 + w0 + 1];
        if (d > bv || Number.isNaN(d)) {
          bv = d;
          bi = r1 + w0 + 1;
        }
        vals[o] = bv;
        idx[o] = bi;
      }
    }
  }
}

/** Any window: each one's taps inside the input, from -inf. */
function maxPoolGeneral(pass: PoolPass, win: PoolWindow): void {
  const { src, vals, idx, planes, H, W, Ho, Wo } = pass;
  const [kH, kW] = win.k;
  const [sH, sW] = win.s;
  const [pH, pW] = win.p;
  const [dH, dW] = win.d;
  // Each window's first tap inside the input and its end, per output row and column, computed once for all planes.
  const [hFrom, hTo] = tapRanges(Ho, H, kH, sH, pH, dH);
  const [wFrom, wTo] = tapRanges(Wo, W, kW, sW, pW, dW);
  let o = 0;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * H * W;
    for (let oh = 0; oh < Ho; oh++) {
      const h0 = hFrom[oh];
      const h1 = hTo[oh];
      for (let ow = 0; ow < Wo; ow++, o++) {
        const w0 = wFrom[ow];
        const w1 = wTo[ow];
        let bi = h0 * W + w0;
        let bv = Number.NEGATIVE_INFINITY;
        for (let ih = h0; ih < h1; ih += dH) {
          const row = ih * W;
          for (let iw = w0; iw < w1; iw += dW) {
            const v = src[base + row + iw];
            // torch's rule: a larger value or a NaN takes the place, so the last NaN wins.
            if (v > bv || Number.isNaN(v)) {
              bv = v;
              bi = row + iw;
            }
          }
        }
        vals[o] = bv;
        idx[o] = bi;
      }
    }
  }
}

/**
 * GradOps' unpool on tensors: each g added at its plane's index, in output order (scatterAdd's order and sums),
 * plane by plane with no table of offsets.
 */
function unpool(g: Tensor, indices: Tensor, win: PoolWindow, shape: Shape): Tensor {
  const lazy = unpoolLazy(g, indices, win, shape);
  if (lazy) return lazy;
  const idx = indices.data;
  const from = g.data;
  const L = g.shape[2] * g.shape[3];
  const plane = shape[2] * shape[3];
  const out = allocate(g.dtype, shape[0] * shape[1] * plane);
  for (let base = 0, i = 0; i < idx.length; base += plane)
    for (const end = i + L; i < end; i++) out[base + idx[i]] += from[i];
  return new Tensor(out, shape, g.dtype);
}

/**
 * unpool of 2 x 2 windows that tile the planes exactly (each input element in one window, so it receives at
 * most one g) as a lazy SIMD expression gathered where it is read (relu's backward): no full-size array.
 * Null where the plain scatter runs.
 */
function unpoolLazy(g: Tensor, indices: Tensor, win: PoolWindow, shape: Shape): Tensor | null {
  const two = (v: readonly number[], e: number) => v[0] === e && v[1] === e;
  const tiled = two(win.k, 2) && two(win.s, 2) && two(win.p, 0) && two(win.d, 1);
  if (!tiled || g.dtype !== "float32" || !fusable("float32", numel(shape))) return null;
  if (shape[2] !== 2 * g.shape[2] || shape[3] !== 2 * g.shape[3]) return null;
  const idx = indices.data;
  if (!(idx instanceof Float64Array)) return null;
  const expr = {
    k: "unpool",
    g: captureArray(g.data as Float32Array),
    idx,
    h: shape[2],
    w: shape[3],
  } as const;
  return lazyTensor(expr, shape);
}

export interface AvgPoolOptions {
  stride?: Pair | null;
  padding?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

/** The sum of each window's taps divided by a per-window constant (its size, or divisor_override). */
function windowMean(x4: Tensor, h: Axis, w: Axis, divisors: ArrayLike<number>): Tensor {
  const K = h.kernel * w.kernel;
  const L = h.out * w.out;
  const sums = sum(windows(x4, table(h, w, "zero"), K, L), 2);
  const store = allocate(x4.dtype, L);
  for (let i = 0; i < L; i++) store[i] = divisors[i];
  const div = new Tensor(store, [L], x4.dtype);
  return reshape(applyBinary("div", sums, div), [x4.shape[0], x4.shape[1], h.out, w.out]);
}

/** `F.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)`. */
export function avgPool2d(x: Tensor, kernel: Pair, o: AvgPoolOptions = {}): Tensor {
  const g = avgGeometry(x.shape, kernel, o);
  return batched(x, 2, (x4) => {
    const sizes = x4.shape.slice(2);
    // torch's divide_factor: the window clipped to the padded input (count_include_pad) or to the input.
    const span = (i: number, o2: number): [number, number] => {
      const start = o2 * g.s[i] - g.p[i];
      const end = Math.min(start + g.k[i], sizes[i] + g.p[i]);
      const inside = Math.max(0, Math.min(end, sizes[i]) - Math.max(start, 0));
      return [end - start, inside];
    };
    const divisors: number[] = [];
    for (let oh = 0; oh < g.out[0]; oh++)
      for (let ow = 0; ow < g.out[1]; ow++) {
        const [ph, ih] = span(0, oh);
        const [pw, iw] = span(1, ow);
        const override = o.divisorOverride;
        // An empty window averages to 0 in torch; any non-zero divisor of its zero sum does.
        divisors.push(
          override !== null && override !== undefined
            ? override
            : ih * iw === 0
              ? 1
              : (o.countIncludePad ?? true)
                ? ph * pw
                : ih * iw,
        );
      }
    const div = allocate(x4.dtype, divisors.length);
    for (let i = 0; i < divisors.length; i++) div[i] = divisors[i];
    return avgPoolWindows(x4, new Tensor(div, g.out, x4.dtype), { k: g.k, s: g.s, p: g.p, d: [1, 1] });
  });
}

/**
 * avg_pool2d over (N, C, H, W) to (N, C, Ho, Wo) in one pass, as torch's CPU kernel (cpu_avg_pool): each
 * window's taps inside the input summed in row-major order in the tensor's dtype, then one division by its
 * divisor (a (Ho, Wo) tensor). The gradient is the gradient table's rule (windowShare).
 */
export function avgPoolWindows(x: Tensor, divisors: Tensor, win: PoolWindow): Tensor {
  const { planes, plane, L, K, taps, div } = averaging(x.shape, divisors, win);
  const src = x.data;
  const out = allocate(x.dtype, planes * L);
  const round = roundTo(x.dtype);
  for (let pl = 0; pl < planes; pl++)
    for (let l = 0; l < L; l++) {
      let sum = 0;
      for (let k = 0; k < K; k++) {
        const at = taps[l * K + k];
        if (at >= 0) sum = round(sum + src[pl * plane + at]);
      }
      out[pl * L + l] = round(sum / div[l]);
    }
  const y = record(
    new Tensor(out, [...x.shape.slice(0, 2), ...divisors.shape], x.dtype),
    "AvgPool2DBackward0",
    [x],
    (g) => [VJP.avgPool2d({ windowShare }, g, divisors, win, x.shape)],
  );
  return traceOp("avg_pool2d", [x, divisors], { win }, y);
}

/** Rounding to what a tensor of `dtype` stores, after each addition (torch accumulates in the dtype). */
const roundTo = (dtype: DType) => (dtype === "float64" ? (v: number) => v : (v: number) => coerce(dtype, v));

/** Average pooling's layout over an (N, C, H, W) input: its planes, each window's K taps, the divisors. */
function averaging(shape: Shape, divisors: Tensor, win: PoolWindow) {
  const [n, c, H, W] = shape;
  const [Ho, Wo] = divisors.shape;
  const L = Ho * Wo;
  const taps = windowTaps(win, H, W, Ho, Wo);
  return { planes: n * c, plane: H * W, L, K: taps.length / L, taps, div: divisors.data };
}

/** Each output's taps (plane offsets, -1 outside the input), in torch's row-major order. */
function windowTaps(win: PoolWindow, H: number, W: number, Ho: number, Wo: number): Int32Array {
  const [kH, kW] = win.k;
  const taps = new Int32Array(Ho * Wo * kH * kW);
  for (let oh = 0, t = 0; oh < Ho; oh++)
    for (let ow = 0; ow < Wo; ow++)
      for (let kh = 0; kh < kH; kh++)
        for (let kw = 0; kw < kW; kw++, t++) {
          const ih = oh * win.s[0] - win.p[0] + kh * win.d[0];
          const iw = ow * win.s[1] - win.p[1] + kw * win.d[1];
          taps[t] = ih >= 0 && ih < H && iw >= 0 && iw < W ? ih * W + iw : -1;
        }
  return taps;
}

/** GradOps' windowShare on tensors: g / divisor added at each window tap, output by output. */
function windowShare(g: Tensor, divisors: Tensor, win: PoolWindow, shape: Shape): Tensor {
  const { planes, plane, L, K, taps, div } = averaging(shape, divisors, win);
  const gd = g.data;
  const round = roundTo(g.dtype);
  const gx = allocate(g.dtype, planes * plane);
  for (let pl = 0; pl < planes; pl++)
    for (let l = 0; l < L; l++) {
      const delta = round(gd[pl * L + l] / div[l]);
      for (let k = 0; k < K; k++) {
        const at = taps[l * K + k];
        if (at >= 0) gx[pl * plane + at] = round(gx[pl * plane + at] + delta);
      }
    }
  return new Tensor(gx, shape, g.dtype);
}

/** adaptive_avg_pool2d's output sizes (a null entry keeps that input size), checked as torch checks them. */
function adaptiveOut(shape: readonly number[], outputSize: number | readonly (number | null)[]): number[] {
  const what = "adaptive_avg_pool2d";
  checkRank(shape, 2, what);
  const sizes = shape.slice(-2);
  const list = typeof outputSize === "number" ? [outputSize, outputSize] : [...outputSize];
  if (list.length === 1) list.push(list[0]);
  if (list.length !== 2) throw new ShapeError(`${what}: output_size must be 2, got ${list.length} sizes`);
  const out = list.map((v, i) => v ?? sizes[i]);
  if (out.some((v) => !Number.isInteger(v) || v < 0))
    throw new ShapeError(`${what}: output_size must be non-negative integers, got ${fmtShape(out)}`);
  if (sizes.some((v) => v === 0))
    throw new ShapeError(
      `${what}: expected input to have non-zero size for non-batch dimensions, but input has sizes ${fmtShape(shape)}`,
    );
  return out;
}

export const adaptiveAvgPool2dShape = (
  shape: readonly number[],
  outputSize: number | readonly (number | null)[],
) => [...shape.slice(0, -2), ...adaptiveOut(shape, outputSize)];

/** `F.adaptive_avg_pool2d(input, output_size)`; a null entry keeps that input size. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly (number | null)[]): Tensor {
  const out = adaptiveOut(x.shape, outputSize);
  return batched(x, 2, (x4) => {
    const sizes = x4.shape.slice(2);
    const [h, w] = [0, 1].map((i) => adaptive(sizes[i], out[i]));
    const count = (a: Axis, o2: number) => {
      let n = 0;
      for (let k = 0; k < a.kernel; k++) if (a.taps[o2 * a.kernel + k] >= 0) n++;
      return n;
    };
    const divisors: number[] = [];
    for (let oh = 0; oh < h.out; oh++)
      for (let ow = 0; ow < w.out; ow++) divisors.push(count(h, oh) * count(w, ow));
    return windowMean(x4, h, w, divisors);
  });
}

/** `torch.unflatten`'s output shape, checked as torch checks its arguments. */
export function unflattenShape(shape: readonly number[], dim: number, sizes: readonly number[]): number[] {
  const n = shape.length;
  if (n === 0) throw new ShapeError("unflatten: Dimension specified as 0 but tensor has no dimensions");
  const d = dim < 0 ? dim + n : dim;
  if (d < 0 || d >= n)
    throw new ShapeError(
      `unflatten: Dimension out of range (expected to be in range of [${-n}, ${n - 1}], but got ${dim})`,
    );
  if (sizes.length === 0) throw new ShapeError("unflatten: sizes must be non-empty");
  const free = sizes.filter((s) => s === -1).length;
  if (free > 1) throw new ShapeError("unflatten: only one dimension can be inferred");
  const known = sizes.reduce((p, s) => (s === -1 ? p : p * s), 1);
  const fill = free ? shape[d] / known : null;
  if ((free && (known === 0 || !Number.isInteger(fill))) || (!free && known !== shape[d]))
    throw new ShapeError(
      `unflatten: Provided sizes ${fmtShape(sizes)} don't multiply up to the size of dim ${dim} (${shape[d]}) in the input tensor`,
    );
  const full = sizes.map((s) => (s === -1 ? (fill as number) : s));
  return [...shape.slice(0, d), ...full, ...shape.slice(d + 1)];
}

/** `torch.unflatten(input, dim, sizes)`: one dimension split into several (one size may be -1). */
export const unflatten = (x: Tensor, dim: number, sizes: readonly number[]) =>
  reshape(x, unflattenShape(x.shape, dim, sizes));
