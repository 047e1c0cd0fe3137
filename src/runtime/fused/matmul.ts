/**
 * Strided matrix product: out[i][q] = sum_r L[i][r] * R[r][q], with each operand read through strides so
 * transposed operands (the backward pass's g @ B^T and A^T @ g) need no transposed copy.
 *
 * Every output accumulates its terms in float64 in increasing r, skipping terms whose left factor is zero,
 * and is rounded once when stored; both loop orders below do exactly that, so the choice between them (made
 * for speed from the shapes) never changes a result.
 */
import type { Storage } from "../dtype.ts";

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
  if (R.colStride === 1 && n >= 8) rowForm(L, R, m, k, n, out, co);
  else dotForm(L, R, m, k, n, out, co);
}

/** i, r, q order: a row of R scaled by L[i][r] streams into a float64 row of C. */
function rowForm(L: Operand, R: Operand, m: number, k: number, n: number, out: Storage, co: number): void {
  const A = L.data;
  const B = R.data;
  const sAi = L.rowStride;
  const sAr = L.colStride;
  const sBr = R.rowStride;
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    let ia = L.offset + i * sAi;
    for (let r = 0; r < k; r++, ia += sAr) {
      const a = A[ia];
      if (a === 0) continue;
      const b0 = R.offset + r * sBr;
      for (let q = 0; q < n; q++) row[q] += a * B[b0 + q];
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
