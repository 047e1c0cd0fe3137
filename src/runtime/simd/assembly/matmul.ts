// AssemblyScript (compiled to WebAssembly by scripts/build-simd.mjs, not by tsc).
//
// Float32 matrix products with the runtime's numerics (src/runtime/fused/matmul.ts): every output sums its
// terms L[i][r] * R[r][q] in float32 in increasing r (each product rounded to float32, then each sum, as
// torch's sgemm accumulates in float32; no fused multiply-add), skipping terms whose left factor is zero.
// Each vector lane holds one output's chain, so the lanes equal the JavaScript forms bit for bit.
//
// Skipping a zero term is the same as adding its product when that product is +0 or -0 (accumulators start
// at +0 and never become -0), which holds unless the right factor is infinite or NaN; only then are the
// products of zero left factors masked out (the caller decides, see mmFinite).
//
// Two shapes of loop:
// - mmCols runs vectors across four output columns, for a right operand whose rows are contiguous (as
//   stored, or packed by mmPack);
// - mmRows runs vectors across four output rows, for a left operand whose rows are adjacent in memory (a
//   transposed left operand, A^T @ g in backward) and an output only a column or two wide, where column
//   vectors would be mostly empty lanes.
// Memory layout is the caller's; every operand has at least one vector of slack after it, so a last vector
// may read lanes past the end (they are never stored).

/** Copy R (k x n at `src`, element strides sr and sq) into `dst` as k rows of ceil(n / 4) * 4 floats. */
export function mmPack(src: usize, sr: i32, sq: i32, k: i32, n: i32, dst: usize): void {
  const row = <usize>((n + 3) & ~3) << 2;
  for (let r = 0; r < k; r++) {
    const s = src + ((<usize>r * <usize>sr) << 2);
    const d = dst + <usize>r * row;
    for (let q = 0; q < n; q++) store<f32>(d + (<usize>q << 2), load<f32>(s + ((<usize>q * <usize>sq) << 2)));
    for (let q = n; q < ((n + 3) & ~3); q++) store<f32>(d + (<usize>q << 2), 0);
  }
}

/** 1 when all `count` floats at p are finite, else 0. */
export function mmFinite(p: usize, count: i32): i32 {
  let bad = f32x4.splat(0);
  let i = 0;
  for (; i + 3 < count; i += 4) {
    const x = v128.load(p + (<usize>i << 2));
    bad = f32x4.add(bad, f32x4.sub(x, x)); // 0 for finite values, NaN for infinities and NaN
  }
  let s: f32 = f32x4.extract_lane(bad, 0) + f32x4.extract_lane(bad, 1);
  s += f32x4.extract_lane(bad, 2) + f32x4.extract_lane(bad, 3);
  for (; i < count; i++) {
    const x = load<f32>(p + (<usize>i << 2));
    s += x - x;
  }
  return s == 0 ? 1 : 0;
}

/** acc + a * b, with the product dropped where a lane of `a` is zero when `masked`. */
@inline function madd(acc: v128, a: v128, b: v128, masked: bool): v128 {
  const p = f32x4.mul(a, b);
  return f32x4.add(acc, masked ? v128.andnot(p, f32x4.eq(a, f32x4.splat(0))) : p);
}

@inline function splatAt(p: usize): v128 {
  return v128.load32_splat(p);
}

/** Store the first `lanes` (1 to 4) lanes of v at p. */
@inline function putCols(p: usize, v: v128, lanes: i32): void {
  if (lanes >= 4) v128.store(p, v);
  else {
    v128.store32_lane(p, v, 0);
    if (lanes > 1) v128.store32_lane(p, v, 1, 4);
    if (lanes > 2) v128.store32_lane(p, v, 2, 8);
  }
}

/**
 * out (m x n float32, contiguous at pO) = L @ B, with L at pL (element strides sAi between rows, sAr between
 * columns) and B's k rows at pB, sB elements apart, each with its n columns contiguous.
 */
export function mmCols(
  pL: usize, sAi: i32, sAr: i32, pB: usize, sB: i32, m: i32, k: i32, n: i32, pO: usize, masked: i32,
): void {
  if (masked) colsBody(pL, sAi, sAr, pB, sB, m, k, n, pO, true);
  else colsBody(pL, sAi, sAr, pB, sB, m, k, n, pO, false);
}

@inline function colsBody(
  pL: usize, sAi: i32, sAr: i32, pB: usize, sB: i32, m: i32, k: i32, n: i32, pO: usize, M: bool,
): void {
  const nv = (n + 3) >> 2;
  const bRow = <usize>sB << 2;
  const aiB = <usize>sAi << 2;
  const arB = <usize>sAr << 2;
  const oRow = <usize>n << 2;
  const z = f32x4.splat(0);
  let i = 0;
  if (nv == 1) {
    // One vector of columns: eight rows at a time, so eight chains overlap.
    for (; i + 7 < m; i += 8) {
      let c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z;
      let pa = pL + <usize>i * aiB;
      let pb = pB;
      for (let r = 0; r < k; r++) {
        const b = v128.load(pb);
        c0 = madd(c0, splatAt(pa), b, M);
        c1 = madd(c1, splatAt(pa + aiB), b, M);
        c2 = madd(c2, splatAt(pa + 2 * aiB), b, M);
        c3 = madd(c3, splatAt(pa + 3 * aiB), b, M);
        c4 = madd(c4, splatAt(pa + 4 * aiB), b, M);
        c5 = madd(c5, splatAt(pa + 5 * aiB), b, M);
        c6 = madd(c6, splatAt(pa + 6 * aiB), b, M);
        c7 = madd(c7, splatAt(pa + 7 * aiB), b, M);
        pa += arB;
        pb += bRow;
      }
      const o = pO + <usize>i * oRow;
      putCols(o, c0, n);
      putCols(o + oRow, c1, n);
      putCols(o + 2 * oRow, c2, n);
      putCols(o + 3 * oRow, c3, n);
      putCols(o + 4 * oRow, c4, n);
      putCols(o + 5 * oRow, c5, n);
      putCols(o + 6 * oRow, c6, n);
      putCols(o + 7 * oRow, c7, n);
    }
  } else {
    // Four rows by two vectors (eight columns) at a time.
    for (; i + 3 < m; i += 4) {
      const a0 = pL + <usize>i * aiB;
      const o0 = pO + <usize>i * oRow;
      for (let v = 0; v < nv; v += 2) {
        const two = v + 1 < nv;
        let c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        let pa = a0;
        let pb = pB + (<usize>v << 4);
        for (let r = 0; r < k; r++) {
          const b0 = v128.load(pb);
          const b1 = v128.load(pb, 16);
          const x0 = splatAt(pa);
          const x1 = splatAt(pa + aiB);
          const x2 = splatAt(pa + 2 * aiB);
          const x3 = splatAt(pa + 3 * aiB);
          c00 = madd(c00, x0, b0, M);
          c01 = madd(c01, x0, b1, M);
          c10 = madd(c10, x1, b0, M);
          c11 = madd(c11, x1, b1, M);
          c20 = madd(c20, x2, b0, M);
          c21 = madd(c21, x2, b1, M);
          c30 = madd(c30, x3, b0, M);
          c31 = madd(c31, x3, b1, M);
          pa += arB;
          pb += bRow;
        }
        const q = v << 2;
        const l0 = n - q;
        const l1 = n - q - 4;
        const o = o0 + (<usize>q << 2);
        putCols(o, c00, l0);
        putCols(o + oRow, c10, l0);
        putCols(o + 2 * oRow, c20, l0);
        putCols(o + 3 * oRow, c30, l0);
        if (two) {
          putCols(o + 16, c01, l1);
          putCols(o + oRow + 16, c11, l1);
          putCols(o + 2 * oRow + 16, c21, l1);
          putCols(o + 3 * oRow + 16, c31, l1);
        }
      }
    }
  }
  // The last rows one at a time: four vectors per step, then single vectors.
  for (; i < m; i++) {
    const a0 = pL + <usize>i * aiB;
    const o0 = pO + <usize>i * oRow;
    let v = 0;
    for (; v + 3 < nv; v += 4) {
      let c0 = z, c1 = z, c2 = z, c3 = z;
      let pa = a0;
      let pb = pB + (<usize>v << 4);
      for (let r = 0; r < k; r++) {
        const x = splatAt(pa);
        c0 = madd(c0, x, v128.load(pb), M);
        c1 = madd(c1, x, v128.load(pb, 16), M);
        c2 = madd(c2, x, v128.load(pb, 32), M);
        c3 = madd(c3, x, v128.load(pb, 48), M);
        pa += arB;
        pb += bRow;
      }
      const q = v << 2;
      const o = o0 + (<usize>q << 2);
      v128.store(o, c0);
      v128.store(o, c1, 16);
      v128.store(o, c2, 32);
      putCols(o + 48, c3, n - q - 12);
    }
    for (; v < nv; v++) {
      let c0 = z;
      let pa = a0;
      let pb = pB + (<usize>v << 4);
      for (let r = 0; r < k; r++) {
        c0 = madd(c0, splatAt(pa), v128.load(pb), M);
        pa += arB;
        pb += bRow;
      }
      const q = v << 2;
      putCols(o0 + (<usize>q << 2), c0, n - q);
    }
  }
}

/** Store lanes of v (rows i .. i+3 of one output column) at p, oRow bytes apart: the first `lanes` of them. */
@inline function putRows(p: usize, oRow: usize, v: v128, lanes: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (lanes > 1) store<f32>(p + oRow, f32x4.extract_lane(v, 1));
  if (lanes > 2) store<f32>(p + 2 * oRow, f32x4.extract_lane(v, 2));
  if (lanes > 3) store<f32>(p + 3 * oRow, f32x4.extract_lane(v, 3));
}

/**
 * out (m x n float32, contiguous at pO) = L @ R, with L's rows adjacent at pL (element stride 1 between
 * rows, sAr between columns) and R at pR (element strides sBr between rows, sBq between columns).
 */
export function mmRows(
  pL: usize, sAr: i32, pR: usize, sBr: i32, sBq: i32, m: i32, k: i32, n: i32, pO: usize, masked: i32,
): void {
  if (masked) rowsBody(pL, sAr, pR, sBr, sBq, m, k, n, pO, true);
  else rowsBody(pL, sAr, pR, sBr, sBq, m, k, n, pO, false);
}

@inline function rowsBody(
  pL: usize, sAr: i32, pR: usize, sBr: i32, sBq: i32, m: i32, k: i32, n: i32, pO: usize, M: bool,
): void {
  const arB = <usize>sAr << 2;
  const brB = <usize>sBr << 2;
  const bqB = <usize>sBq << 2;
  const oRow = <usize>n << 2;
  const z = f32x4.splat(0);
  let q = 0;
  // Two columns at a time: sixteen rows (four vectors) per step, then single vectors of rows.
  for (; q + 1 < n; q += 2) {
    const r0 = pR + <usize>q * bqB;
    let i = 0;
    for (; i + 15 < m; i += 16) {
      let c00 = z, c10 = z, c20 = z, c30 = z, c01 = z, c11 = z, c21 = z, c31 = z;
      let pa = pL + (<usize>i << 2);
      let pb = r0;
      for (let r = 0; r < k; r++) {
        const a0 = v128.load(pa);
        const a1 = v128.load(pa, 16);
        const a2 = v128.load(pa, 32);
        const a3 = v128.load(pa, 48);
        const b0 = splatAt(pb);
        const b1 = splatAt(pb + bqB);
        c00 = madd(c00, a0, b0, M);
        c10 = madd(c10, a1, b0, M);
        c20 = madd(c20, a2, b0, M);
        c30 = madd(c30, a3, b0, M);
        c01 = madd(c01, a0, b1, M);
        c11 = madd(c11, a1, b1, M);
        c21 = madd(c21, a2, b1, M);
        c31 = madd(c31, a3, b1, M);
        pa += arB;
        pb += brB;
      }
      const o = pO + <usize>i * oRow + (<usize>q << 2);
      putRows(o, oRow, c00, 4);
      putRows(o + 4 * oRow, oRow, c10, 4);
      putRows(o + 8 * oRow, oRow, c20, 4);
      putRows(o + 12 * oRow, oRow, c30, 4);
      putRows(o + 4, oRow, c01, 4);
      putRows(o + 4 * oRow + 4, oRow, c11, 4);
      putRows(o + 8 * oRow + 4, oRow, c21, 4);
      putRows(o + 12 * oRow + 4, oRow, c31, 4);
    }
    for (; i < m; i += 4) {
      let c0 = z, c1 = z;
      let pa = pL + (<usize>i << 2);
      let pb = r0;
      for (let r = 0; r < k; r++) {
        const a = v128.load(pa);
        c0 = madd(c0, a, splatAt(pb), M);
        c1 = madd(c1, a, splatAt(pb + bqB), M);
        pa += arB;
        pb += brB;
      }
      const o = pO + <usize>i * oRow + (<usize>q << 2);
      putRows(o, oRow, c0, m - i);
      putRows(o + 4, oRow, c1, m - i);
    }
  }
  // An odd last column.
  if (q < n) {
    const r0 = pR + <usize>q * bqB;
    let i = 0;
    for (; i + 15 < m; i += 16) {
      let c0 = z, c1 = z, c2 = z, c3 = z;
      let pa = pL + (<usize>i << 2);
      let pb = r0;
      for (let r = 0; r < k; r++) {
        const b = splatAt(pb);
        c0 = madd(c0, v128.load(pa), b, M);
        c1 = madd(c1, v128.load(pa, 16), b, M);
        c2 = madd(c2, v128.load(pa, 32), b, M);
        c3 = madd(c3, v128.load(pa, 48), b, M);
        pa += arB;
        pb += brB;
      }
      const o = pO + <usize>i * oRow + (<usize>q << 2);
      putRows(o, oRow, c0, 4);
      putRows(o + 4 * oRow, oRow, c1, 4);
      putRows(o + 8 * oRow, oRow, c2, 4);
      putRows(o + 12 * oRow, oRow, c3, 4);
    }
    for (; i < m; i += 4) {
      let c0 = z;
      let pa = pL + (<usize>i << 2);
      let pb = r0;
      for (let r = 0; r < k; r++) {
        c0 = madd(c0, v128.load(pa), splatAt(pb), M);
        pa += arB;
        pb += brB;
      }
      putRows(pO + <usize>i * oRow + (<usize>q << 2), oRow, c0, m - i);
    }
  }
}
