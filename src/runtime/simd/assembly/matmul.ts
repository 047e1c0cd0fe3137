// AssemblyScript (compiled to WebAssembly by scripts/build-simd.mjs, not by tsc).
//
// Float32 matrix products with the runtime's numerics (src/runtime/fused/matmul.ts): every output sums its
// terms L[i][r] * R[r][q] in float64 in increasing r, skipping terms whose left factor is zero, and is
// rounded to float32 once when stored. Vectors run across output columns (f64x2: two outputs per vector), so
// each output's sum is still one float64 chain in r order and the results equal the JavaScript forms bit
// for bit. Products of float32 values are exact in float64.
//
// Skipping a zero term is the same as adding its product when that product is +0 or -0 (accumulators start
// at +0 and never become -0), which holds unless the right factor is infinite or NaN; only then are the
// products of zero left factors masked out (mmPackB reports whether that is needed).
//
// Memory layout is the caller's (src/runtime/fused/matmul.ts): the left operand as float32 at any strides,
// the right operand packed by mmPackB into float64 rows of whole vectors, the output contiguous float32.

/**
 * Pack R (k x n float32 at `src`, element strides sr between rows and sq between columns) into `dst` as k
 * rows of ceil(n / 2) f64x2 vectors, the odd column's partner lane zero. Returns 1 when every value is
 * finite (zero left factors then need no masking), else 0.
 */
export function mmPackB(src: usize, sr: i32, sq: i32, k: i32, n: i32, dst: usize): i32 {
  const nv = (n + 1) >> 1;
  const rowBytes = <usize>nv << 4;
  const srB = <usize>sr << 2;
  const sqB = <usize>sq << 2;
  let bad: f64 = 0;
  for (let r = 0; r < k; r++) {
    const s = src + <usize>r * srB;
    const d = dst + <usize>r * rowBytes;
    let q = 0;
    if (sq == 1) {
      // Contiguous rows: four floats a step, widened into two vectors.
      let badv = f32x4.splat(0);
      for (; q + 3 < n; q += 4) {
        const x = v128.load(s + (<usize>q << 2));
        badv = f32x4.add(badv, f32x4.sub(x, x));
        v128.store(d + (<usize>q << 3), f64x2.promote_low_f32x4(x));
        v128.store(d + (<usize>q << 3), f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1)), 16);
      }
      bad += <f64>(f32x4.extract_lane(badv, 0) + f32x4.extract_lane(badv, 1) + f32x4.extract_lane(badv, 2) + f32x4.extract_lane(badv, 3));
    }
    for (; q < n; q++) {
      const x = <f64>load<f32>(s + <usize>q * sqB);
      bad += x - x; // 0 for finite values, NaN for infinities and NaN
      store<f64>(d + (<usize>q << 3), x);
    }
    if (n & 1) store<f64>(d + (<usize>n << 3), 0);
  }
  return bad == 0 ? 1 : 0;
}

@inline function term(a: v128, b: v128, masked: bool): v128 {
  const p = f64x2.mul(a, b);
  return masked ? v128.andnot(p, f64x2.eq(a, f64x2.splat(0))) : p;
}

@inline function splatAt(p: usize): v128 {
  return f64x2.splat(<f64>load<f32>(p));
}

/** Store the vector's two outputs at p (or only the first where `full` is false, the odd last column). */
@inline function put(p: usize, acc: v128, full: bool): void {
  const f = f32x4.demote_f64x2_zero(acc);
  if (full) v128.store64_lane(p, f, 0);
  else v128.store32_lane(p, f, 0);
}

/**
 * out (m x n float32, contiguous) = L @ B, with L float32 at `pL` (element strides sAi between rows, sAr
 * between columns) and B packed by mmPackB. `masked` is 1 where mmPackB found an infinity or NaN.
 */
export function mm(pL: usize, sAi: i32, sAr: i32, pB: usize, m: i32, k: i32, n: i32, pO: usize, masked: i32): void {
  if (masked) body(pL, sAi, sAr, pB, m, k, n, pO, true);
  else body(pL, sAi, sAr, pB, m, k, n, pO, false);
}

@inline function body(pL: usize, sAi: i32, sAr: i32, pB: usize, m: i32, k: i32, n: i32, pO: usize, M: bool): void {
  const nv = (n + 1) >> 1;
  const rowB = <usize>nv << 4;
  const aiB = <usize>sAi << 2;
  const arB = <usize>sAr << 2;
  const oRow = <usize>n << 2;
  const z = f64x2.splat(0);
  let i = 0;
  // Four rows at a time: two vectors (four columns) per step, then a last single vector.
  for (; i + 3 < m; i += 4) {
    const a0 = pL + <usize>i * aiB;
    const o0 = pO + <usize>i * oRow;
    let v = 0;
    for (; v + 1 < nv; v += 2) {
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
        c00 = f64x2.add(c00, term(x0, b0, M));
        c01 = f64x2.add(c01, term(x0, b1, M));
        c10 = f64x2.add(c10, term(x1, b0, M));
        c11 = f64x2.add(c11, term(x1, b1, M));
        c20 = f64x2.add(c20, term(x2, b0, M));
        c21 = f64x2.add(c21, term(x2, b1, M));
        c30 = f64x2.add(c30, term(x3, b0, M));
        c31 = f64x2.add(c31, term(x3, b1, M));
        pa += arB;
        pb += rowB;
      }
      const full = v + 2 < nv || (n & 1) == 0;
      const o = o0 + (<usize>v << 3);
      put(o, c00, true);
      put(o + 8, c01, full);
      put(o + oRow, c10, true);
      put(o + oRow + 8, c11, full);
      put(o + 2 * oRow, c20, true);
      put(o + 2 * oRow + 8, c21, full);
      put(o + 3 * oRow, c30, true);
      put(o + 3 * oRow + 8, c31, full);
    }
    if (v < nv) {
      let c0 = z, c1 = z, c2 = z, c3 = z;
      let pa = a0;
      let pb = pB + (<usize>v << 4);
      for (let r = 0; r < k; r++) {
        const b0 = v128.load(pb);
        c0 = f64x2.add(c0, term(splatAt(pa), b0, M));
        c1 = f64x2.add(c1, term(splatAt(pa + aiB), b0, M));
        c2 = f64x2.add(c2, term(splatAt(pa + 2 * aiB), b0, M));
        c3 = f64x2.add(c3, term(splatAt(pa + 3 * aiB), b0, M));
        pa += arB;
        pb += rowB;
      }
      const full = (n & 1) == 0;
      const o = o0 + (<usize>v << 3);
      put(o, c0, full);
      put(o + oRow, c1, full);
      put(o + 2 * oRow, c2, full);
      put(o + 3 * oRow, c3, full);
    }
  }
  // Two rows: four vectors per step, then single vectors.
  if (i + 1 < m) {
    const a0 = pL + <usize>i * aiB;
    const o0 = pO + <usize>i * oRow;
    let v = 0;
    for (; v + 3 < nv; v += 4) {
      let c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
      let pa = a0;
      let pb = pB + (<usize>v << 4);
      for (let r = 0; r < k; r++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        const b2 = v128.load(pb, 32);
        const b3 = v128.load(pb, 48);
        const x0 = splatAt(pa);
        const x1 = splatAt(pa + aiB);
        c00 = f64x2.add(c00, term(x0, b0, M));
        c01 = f64x2.add(c01, term(x0, b1, M));
        c02 = f64x2.add(c02, term(x0, b2, M));
        c03 = f64x2.add(c03, term(x0, b3, M));
        c10 = f64x2.add(c10, term(x1, b0, M));
        c11 = f64x2.add(c11, term(x1, b1, M));
        c12 = f64x2.add(c12, term(x1, b2, M));
        c13 = f64x2.add(c13, term(x1, b3, M));
        pa += arB;
        pb += rowB;
      }
      const full = v + 4 < nv || (n & 1) == 0;
      const o = o0 + (<usize>v << 3);
      put(o, c00, true);
      put(o + 8, c01, true);
      put(o + 16, c02, true);
      put(o + 24, c03, full);
      put(o + oRow, c10, true);
      put(o + oRow + 8, c11, true);
      put(o + oRow + 16, c12, true);
      put(o + oRow + 24, c13, full);
    }
    for (; v < nv; v++) {
      let c0 = z, c1 = z;
      let pa = a0;
      let pb = pB + (<usize>v << 4);
      for (let r = 0; r < k; r++) {
        const b0 = v128.load(pb);
        c0 = f64x2.add(c0, term(splatAt(pa), b0, M));
        c1 = f64x2.add(c1, term(splatAt(pa + aiB), b0, M));
        pa += arB;
        pb += rowB;
      }
      const full = v + 1 < nv || (n & 1) == 0;
      const o = o0 + (<usize>v << 3);
      put(o, c0, full);
      put(o + oRow, c1, full);
    }
    i += 2;
  }
  // A last row: four vectors (eight columns) per step, then single vectors.
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
        c0 = f64x2.add(c0, term(x, v128.load(pb), M));
        c1 = f64x2.add(c1, term(x, v128.load(pb, 16), M));
        c2 = f64x2.add(c2, term(x, v128.load(pb, 32), M));
        c3 = f64x2.add(c3, term(x, v128.load(pb, 48), M));
        pa += arB;
        pb += rowB;
      }
      const o = o0 + (<usize>v << 3);
      put(o, c0, true);
      put(o + 8, c1, true);
      put(o + 16, c2, true);
      put(o + 24, c3, v + 4 < nv || (n & 1) == 0);
    }
    for (; v < nv; v++) {
      let c0 = z;
      let pa = a0;
      let pb = pB + (<usize>v << 4);
      for (let r = 0; r < k; r++) {
        c0 = f64x2.add(c0, term(splatAt(pa), v128.load(pb), M));
        pa += arB;
        pb += rowB;
      }
      put(o0 + (<usize>v << 3), c0, v + 1 < nv || (n & 1) == 0);
    }
  }
}
