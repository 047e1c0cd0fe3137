/**
 * Strided matrix product: out[i][q] = sum_r L[i][r] * R[r][q], with each operand read through strides so
 * transposed operands (the backward pass's g @ B^T and A^T @ g) need no transposed copy.
 *
 * Every output accumulates its terms one at a time in increasing r, skipping terms whose left factor is
 * zero, in the output's precision: a float32 output (float32 and float16 tensors) rounds each product and
 * each sum to float32, as torch's sgemm accumulates in float32 (torch's blocking and fused multiply-adds
 * round differently, within an ulp or so per term); a float64 output in float64. The loop orders below and
 * the SIMD kernels all compute exactly that chain per output, so the choice between them (made for speed
 * from the shapes and strides) never changes a result.
 */
import type { Storage } from "../dtype.ts";
import type { ProductExpr } from "../simd/expr.ts";
import { captureArray, fusable } from "../simd/fusable.ts";
import { type Arena, type KernelExports, sharedArena, simdKernels } from "../simd/module.ts";

export interface Operand {
  data: ArrayLike<number>;
  offset: number;
  /** Stride between rows (first index) and columns (second index). */
  rowStride: number;
  colStride: number;
}

/** C (m x n, contiguous from `co`) = L (m x k) @ R (k x n). */
export function mmStrided(
  L: Operand,
  R: Operand,
  m: number,
  k: number,
  n: number,
  out: Storage,
  co: number,
): void {
  if (m * k * n >= SIMD_MIN_TERMS && simdForm(L, R, m, k, n, out, co)) return;
  jsForm(L, R, m, k, n, out, co);
}

/** The plain JavaScript product (any dtype); the SIMD kernels' fallback. Exported for tests. */
export function jsForm(
  L: Operand,
  R: Operand,
  m: number,
  k: number,
  n: number,
  out: Storage,
  co: number,
): void {
  if (n < 8) dotForm(L, R, m, k, n, out, co);
  else if (L.rowStride === 1 && L.colStride !== 1 && m * n <= OUTER_MAX) outerForm(L, R, m, k, n, out, co);
  else rowForm(L, R, m, k, n, out, co);
}

/** Largest output (elements) that outerForm accumulates whole: 512 KiB of float64, cache-resident. */
const OUTER_MAX = 65536;

/**
 * r, i, q order for a transposed left operand (A^T @ g in backward): each r reads a contiguous row of the
 * stored A and a row of R, adding into the whole float64 output.
 */
function outerForm(L: Operand, R: Operand, m: number, k: number, n: number, out: Storage, co: number): void {
  const A = L.data;
  const B = R.data;
  const sAr = L.colStride;
  const sBr = R.rowStride;
  const sBq = R.colStride;
  // A float32 accumulator rounds each sum when stored; the product is rounded explicitly.
  const f32 = out instanceof Float32Array;
  const acc = f32 ? new Float32Array(m * n) : new Float64Array(m * n);
  for (let r = 0; r < k; r++) {
    const ar = L.offset + r * sAr;
    const br = R.offset + r * sBr;
    for (let i = 0; i < m; i++) {
      const a = A[ar + i];
      if (a === 0) continue;
      const o = i * n;
      if (f32) for (let q = 0, ib = br; q < n; q++, ib += sBq) acc[o + q] += Math.fround(a * B[ib]);
      else for (let q = 0, ib = br; q < n; q++, ib += sBq) acc[o + q] += a * B[ib];
    }
  }
  for (let i = 0; i < m * n; i++) out[co + i] = acc[i];
}

/** i, r, q order: rows of R scaled by L[i][r] stream into an accumulator row of C. */
function rowForm(L: Operand, R: Operand, m: number, k: number, n: number, out: Storage, co: number): void {
  const A = L.data;
  const B = R.data;
  const sAi = L.rowStride;
  const sAr = L.colStride;
  const sBr = R.rowStride;
  const sBq = R.colStride;
  const f32 = out instanceof Float32Array;
  const row = f32 ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    const ia = L.offset + i * sAi;
    for (let r = 0; r < k; r++) {
      const a = A[ia + r * sAr];
      if (a === 0) continue;
      const b0 = R.offset + r * sBr;
      if (f32) for (let q = 0, j = b0; q < n; q++, j += sBq) row[q] += Math.fround(a * B[j]);
      else for (let q = 0, j = b0; q < n; q++, j += sBq) row[q] += a * B[j];
    }
    const o = co + i * n;
    for (let q = 0; q < n; q++) out[o + q] = row[q];
  }
}

/** i, q, r order: dot products, two output columns at a time so two accumulations overlap. */
function dotForm(L: Operand, R: Operand, m: number, k: number, n: number, out: Storage, co: number): void {
  const A = L.data;
  const B = R.data;
  const sAi = L.rowStride;
  const sAr = L.colStride;
  const sBr = R.rowStride;
  const sBq = R.colStride;
  // Rounds each product and each sum in the output's precision.
  const fr = out instanceof Float32Array ? Math.fround : (v: number) => v;
  for (let i = 0; i < m; i++) {
    const a0 = L.offset + i * sAi;
    const o = co + i * n;
    let q = 0;
    for (; q + 1 < n; q += 2) {
      let s0 = 0;
      let s1 = 0;
      for (let r = 0, ia = a0, ib = R.offset + q * sBq; r < k; r++, ia += sAr, ib += sBr) {
        const a = A[ia];
        if (a === 0) continue;
        s0 = fr(s0 + fr(a * B[ib]));
        s1 = fr(s1 + fr(a * B[ib + sBq]));
      }
      out[o + q] = s0;
      out[o + q + 1] = s1;
    }
    if (q < n) {
      let s = 0;
      for (let r = 0, ia = a0, ib = R.offset + q * sBq; r < k; r++, ia += sAr, ib += sBr) {
        const a = A[ia];
        if (a !== 0) s = fr(s + fr(a * B[ib]));
      }
      out[o + q] = s;
    }
  }
}

/** Smallest product (m * k * n terms) the SIMD kernels take; below it the copies in and out cost more. */
let SIMD_MIN_TERMS = 1024;

/** For tests: the smallest product the SIMD kernels take (0: every float32 product). Returns the old value. */
export function setSimdMinTerms(terms: number): number {
  const old = SIMD_MIN_TERMS;
  SIMD_MIN_TERMS = terms;
  return old;
}

/** Most module memory one SIMD product may take (operands, packed R, output); larger ones run in JS. */
const SIMD_MAX_BYTES = 512 * 1024 * 1024;

/** First and one-past-last element an operand's m x k view reads (strides are never negative here). */
function span(X: Operand, rows: number, cols: number): [number, number] {
  return [X.offset, X.offset + (rows - 1) * X.rowStride + (cols - 1) * X.colStride + 1];
}

/**
 * The product in the WebAssembly kernels (assembly/matmul.ts), for float32 operands and output, copied into
 * `out`. False (the JS forms run) where the kernels are unavailable, the types differ, the product is empty,
 * or it needs more module memory than SIMD_MAX_BYTES or can be had.
 */
function simdForm(
  L: Operand,
  R: Operand,
  m: number,
  k: number,
  n: number,
  out: Storage,
  co: number,
): boolean {
  if (!(L.data instanceof Float32Array && R.data instanceof Float32Array && out instanceof Float32Array))
    return false;
  const K = simdKernels();
  if (!K) return false;
  const arena = sharedArena(K);
  const pO = productInto(K, arena, L as F32Operand, R as F32Operand, m, k, n);
  if (pO === null) return false;
  out.set(arena.f32(pO, m * n), co);
  return true;
}

type F32Operand = Operand & { readonly data: Float32Array };

/**
 * How the kernels take L @ R: the spans of both operands, whether vectors run across rows (L's rows adjacent
 * and the output too narrow for column vectors), how many floats R takes packed into contiguous rows (0 when
 * its rows are read in place). Null where they cannot: an empty product, negative strides, or more module
 * memory than SIMD_MAX_BYTES.
 */
function kernelPlan(L: Operand, R: Operand, m: number, k: number, n: number) {
  if (m === 0 || k === 0 || n === 0) return null;
  if (L.rowStride < 0 || L.colStride < 0 || R.rowStride < 0 || R.colStride < 0) return null;
  const [l0, l1] = span(L, m, k);
  const [r0, r1] = span(R, k, n);
  const byRows = L.rowStride === 1 && n < 4;
  const packed = !byRows && R.colStride !== 1 ? k * ((n + 3) & ~3) : 0;
  if ((l1 - l0 + r1 - r0 + packed + m * n) * 4 > SIMD_MAX_BYTES) return null;
  return { l0, l1, r0, r1, byRows, packed };
}

/**
 * Compute L @ R (float32) into memory allocated from `arena` and return where the m x n result starts, or
 * null where the kernels cannot take it (kernelPlan). The spans of both operands are copied into the arena
 * first.
 *
 * Zero left factors need masking only when a right factor is infinite or NaN. Whichever of R and the output
 * is smaller is checked: a finite R needs no mask; a finite unmasked output had no 0 * inf term (that would
 * have made it NaN), so it is the masked result too; otherwise the product runs again masked.
 *
 * With `batch` > 1, `batch` such products: product b reads L and R shifted by b * lStep and b * rStep elements,
 * and its m x n result follows product b - 1's. Both operands' spans over every batch are copied in once, so a
 * batched product (a convolution's) pays the copies and allocations once, not per batch.
 */
export function productInto(
  K: KernelExports,
  arena: Arena,
  L: F32Operand,
  R: F32Operand,
  m: number,
  k: number,
  n: number,
  batch = 1,
  lStep = 0,
  rStep = 0,
): number | null {
  const plan = kernelPlan(L, R, m, k, n);
  if (!plan) return null;
  const { l0, byRows, packed } = plan;
  const r0 = plan.r0;
  const l1 = plan.l1 + (batch - 1) * lStep;
  const r1 = plan.r1 + (batch - 1) * rStep;
  const rSpan = plan.r1 - plan.r0;
  // An operand already in module memory (values a fused pass left there, read through readPending) is read
  // where it lies: allocations go past it, and it is not copied. Its place is taken before any allocation,
  // which may grow the memory and detach the view.
  const lIn = inModule(K, L.data);
  const rIn = inModule(K, R.data);
  if (lIn >= 0) arena.keep(lIn + L.data.byteLength);
  if (rIn >= 0) arena.keep(rIn + R.data.byteLength);
  let pL: number;
  let pR: number;
  let pP: number;
  let pO: number;
  try {
    pL = lIn >= 0 ? lIn + l0 * 4 : arena.alloc((l1 - l0) * 4);
    pR = rIn >= 0 ? rIn + r0 * 4 : arena.alloc((r1 - r0) * 4);
    pP = packed ? arena.alloc(packed * 4) : 0;
    pO = arena.alloc(batch * m * n * 4);
  } catch {
    return null; // the module's memory could not grow that far
  }
  // Views only after every allocation: growing the memory detaches earlier ones.
  if (lIn < 0) arena.f32(pL, l1 - l0).set(L.data.subarray(l0, l1));
  if (rIn < 0) arena.f32(pR, r1 - r0).set(R.data.subarray(r0, r1));
  for (let b = 0; b < batch; b++) {
    const pLb = pL + b * lStep * 4;
    const pRb = pR + b * rStep * 4;
    const pOb = pO + b * m * n * 4;
    if (packed) K.mmPack(pRb, R.rowStride, R.colStride, k, n, pP);
    if (rSpan <= m * n)
      runKernel(K, L, R, m, k, n, byRows, packed, pLb, pRb, pP, pOb, K.mmFinite(pRb, rSpan) ? 0 : 1);
    else {
      runKernel(K, L, R, m, k, n, byRows, packed, pLb, pRb, pP, pOb, 0);
      if (!K.mmFinite(pOb, m * n)) runKernel(K, L, R, m, k, n, byRows, packed, pLb, pRb, pP, pOb, 1);
    }
  }
  return pO;
}

/** Where `data` starts in the kernels' memory (a view of it), or -1 for an array of its own. */
function inModule(K: KernelExports, data: Float32Array): number {
  return data.buffer === K.memory.buffer ? data.byteOffset : -1;
}

/** One kernel call as kernelPlan chose it (a plain function: a closure per product costs more than the call). */
function runKernel(
  K: KernelExports,
  L: Operand,
  R: Operand,
  m: number,
  k: number,
  n: number,
  byRows: boolean,
  packed: number,
  pL: number,
  pR: number,
  pP: number,
  pO: number,
  masked: number,
): void {
  if (byRows) K.mmRows(pL, L.colStride, pR, R.rowStride, R.colStride, m, k, n, pO, masked);
  else if (packed) K.mmCols(pL, L.rowStride, L.colStride, pP, (n + 3) & ~3, m, k, n, pO, masked);
  else K.mmCols(pL, L.rowStride, L.colStride, pR, R.rowStride, m, k, n, pO, masked);
}

/**
 * C[b] (m x n, contiguous from b * m * n) = L[b] @ R[b] for b < batch, operand b shifted by b * lStep and
 * b * rStep elements from L and R: each product exactly as mmStrided computes it, the SIMD kernels taking all
 * of them in one call where they take one.
 */
export function mmStridedBatched(
  L: Operand,
  R: Operand,
  m: number,
  k: number,
  n: number,
  batch: number,
  lStep: number,
  rStep: number,
  out: Storage,
): void {
  const simd = batch > 1 && m * k * n >= SIMD_MIN_TERMS && simdKernels();
  // Batches a few MiB at a time: the module's memory grows to what one call takes and is never given back.
  const chunk = Math.max(1, Math.floor(BATCH_BYTES / ((lStep + rStep + m * n) * 4)));
  for (let b = 0; b < batch; ) {
    const count = Math.min(chunk, batch - b);
    const Lb = { ...L, offset: L.offset + b * lStep };
    const Rb = { ...R, offset: R.offset + b * rStep };
    if (
      !simd ||
      !(L.data instanceof Float32Array && R.data instanceof Float32Array && out instanceof Float32Array) ||
      !batchInto(simd, Lb as F32Operand, Rb as F32Operand, m, k, n, count, lStep, rStep, out, b * m * n)
    )
      for (let c = 0; c < count; c++)
        mmStrided(
          { ...L, offset: L.offset + (b + c) * lStep },
          { ...R, offset: R.offset + (b + c) * rStep },
          m,
          k,
          n,
          out,
          (b + c) * m * n,
        );
    b += count;
  }
}

/** Most operand and output bytes one batched SIMD call copies into module memory. */
const BATCH_BYTES = 8 * 1024 * 1024;

/** `count` products by productInto, copied to out from `co`; false where the kernels cannot take them. */
function batchInto(
  K: KernelExports,
  L: F32Operand,
  R: F32Operand,
  m: number,
  k: number,
  n: number,
  count: number,
  lStep: number,
  rStep: number,
  out: Float32Array,
  co: number,
): boolean {
  const arena = sharedArena(K);
  const pO = productInto(K, arena, L, R, m, k, n, count, lStep, rStep);
  if (pO === null) return false;
  out.set(arena.f32(pO, count * m * n), co);
  return true;
}

/**
 * L @ R as a lazy product leaf (simd/expr.ts) where its result would be a large float32 array that a fused
 * pass can read straight from module memory; null where the product must run now. Operands are captured as
 * lazy leaves are (simd/lazy.ts's capture): arrays an optimizer updates in place are copied.
 */
export function lazyProduct(L: Operand, R: Operand, m: number, k: number, n: number): ProductExpr | null {
  if (!(L.data instanceof Float32Array && R.data instanceof Float32Array)) return null;
  if (m * k * n < SIMD_MIN_TERMS || !fusable("float32", m * n) || !kernelPlan(L, R, m, k, n)) return null;
  return {
    k: "product",
    L: { ...L, data: captureArray(L.data) },
    R: { ...R, data: captureArray(R.data) },
    m,
    inner: k,
    n,
  };
}
