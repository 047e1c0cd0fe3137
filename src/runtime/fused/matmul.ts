/**
 * Strided matrix product: out[i][q] = sum_r L[i][r] * R[r][q], with each operand read through strides so
 * transposed operands (the backward pass's g @ B^T and A^T @ g) need no transposed copy.
 *
 * Every output accumulates its terms in float64 in increasing r, skipping terms whose left factor is zero,
 * and is rounded once when stored; the three loop orders below all do exactly that, so the choice between
 * them (made for speed from the shapes and strides) never changes a result.
 */
import type { Storage } from "../dtype.ts";
import { sharedArena, simdKernels } from "../simd/module.ts";

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
  const acc = new Float64Array(m * n);
  for (let r = 0; r < k; r++) {
    const ar = L.offset + r * sAr;
    const br = R.offset + r * sBr;
    for (let i = 0; i < m; i++) {
      const a = A[ar + i];
      if (a === 0) continue;
      const o = i * n;
      for (let q = 0, ib = br; q < n; q++, ib += sBq) acc[o + q] += a * B[ib];
    }
  }
  for (let i = 0; i < m * n; i++) out[co + i] = acc[i];
}

/**
 * i, r, q order: rows of R scaled by L[i][r] stream into a float64 row of C, two r at a time (one pass over
 * the row adds both terms, in order) when neither factor is zero.
 */
function rowForm(L: Operand, R: Operand, m: number, k: number, n: number, out: Storage, co: number): void {
  const A = L.data;
  const B = R.data;
  const sAi = L.rowStride;
  const sAr = L.colStride;
  const sBr = R.rowStride;
  const sBq = R.colStride;
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    const ia = L.offset + i * sAi;
    let r = 0;
    for (; r + 1 < k; r += 2) {
      const a0 = A[ia + r * sAr];
      const a1 = A[ia + (r + 1) * sAr];
      const b0 = R.offset + r * sBr;
      const b1 = b0 + sBr;
      if (a0 !== 0 && a1 !== 0) {
        if (sBq === 1) for (let q = 0; q < n; q++) row[q] = row[q] + a0 * B[b0 + q] + a1 * B[b1 + q];
        else for (let q = 0, j = 0; q < n; q++, j += sBq) row[q] = row[q] + a0 * B[b0 + j] + a1 * B[b1 + j];
      } else {
        if (a0 !== 0) for (let q = 0, j = 0; q < n; q++, j += sBq) row[q] += a0 * B[b0 + j];
        if (a1 !== 0) for (let q = 0, j = 0; q < n; q++, j += sBq) row[q] += a1 * B[b1 + j];
      }
    }
    if (r < k) {
      const a = A[ia + r * sAr];
      const b0 = R.offset + r * sBr;
      if (a !== 0) for (let q = 0, j = 0; q < n; q++, j += sBq) row[q] += a * B[b0 + j];
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
  for (let i = 0; i < m; i++) {
    const a0 = L.offset + i * sAi;
    const o = co + i * n;
    let q = 0;
    for (; q + 1 < n; q += 2) {
      let s0 = 0;
      let s1 = 0;
      let ia = a0;
      let ib = R.offset + q * sBq;
      for (let r = 0; r < k; r++, ia += sAr, ib += sBr) {
        const a = A[ia];
        if (a === 0) continue;
        s0 += a * B[ib];
        s1 += a * B[ib + sBq];
      }
      out[o + q] = s0;
      out[o + q + 1] = s1;
    }
    if (q < n) {
      let s = 0;
      let ia = a0;
      let ib = R.offset + q * sBq;
      for (let r = 0; r < k; r++, ia += sAr, ib += sBr) {
        const a = A[ia];
        if (a !== 0) s += a * B[ib];
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
 * The product in the WebAssembly kernels (assembly/matmul.ts), for float32 operands and output: the spans
 * of both operands are copied into the module's memory, R is packed into float64 vectors, the kernel writes
 * float32 rows that are copied into `out`. False (the JS forms run) where the kernels are unavailable, the
 * types differ, the product is empty, or it needs more module memory than SIMD_MAX_BYTES or can be had.
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
  if (m === 0 || k === 0 || n === 0) return false;
  if (L.rowStride < 0 || L.colStride < 0 || R.rowStride < 0 || R.colStride < 0) return false;
  const K = simdKernels();
  if (!K) return false;
  const [l0, l1] = span(L, m, k);
  const [r0, r1] = span(R, k, n);
  const bytes = (l1 - l0) * 4 + (r1 - r0) * 4 + k * ((n + 1) >> 1) * 16 + m * n * 4;
  if (bytes > SIMD_MAX_BYTES) return false;
  const arena = sharedArena(K);
  let pL: number;
  let pR: number;
  let pB: number;
  let pO: number;
  try {
    pL = arena.alloc((l1 - l0) * 4);
    pR = arena.alloc((r1 - r0) * 4);
    pB = arena.alloc(k * ((n + 1) >> 1) * 16);
    pO = arena.alloc(m * n * 4);
  } catch {
    return false; // the module's memory could not grow that far
  }
  // Views only after every allocation: growing the memory detaches earlier ones.
  arena.f32(pL, l1 - l0).set(L.data.subarray(l0, l1));
  arena.f32(pR, r1 - r0).set(R.data.subarray(r0, r1));
  const finite = K.mmPackB(pR, R.rowStride, R.colStride, k, n, pB);
  K.mm(pL, L.rowStride, L.colStride, pB, m, k, n, pO, finite ? 0 : 1);
  out.set(arena.f32(pO, m * n), co);
  return true;
}
