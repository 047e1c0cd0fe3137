// AssemblyScript (compiled to WebAssembly by scripts/build-simd.mjs, not by tsc).
//
// max_pool2d's common window, 2 x 2 with stride 2 and no padding or dilation, as the runtime's loop computes it
// (src/runtime/ops/conv.ts, maxPool2x2): per window the taps in row-major order, the first starting it, each
// later one taking it when larger or NaN (torch's `val > max || isnan(val)`: the first of equal maxima, the
// last NaN). Four windows per vector, the choice made by a mask and a bitwise select, so the values keep their
// bits. Indices are flat within each (H, W) plane, written as float64 (the runtime's int64 storage).

/**
 * Planes of (H, W) float32 at `src` pooled into (Ho, Wo) float32 values at `vals` and float64 indices at `idx`
 * (2 * Ho <= H and 2 * Wo <= W).
 */
export function maxPool2x2(src: usize, planes: i32, H: i32, W: i32, Ho: i32, Wo: i32, vals: usize, idx: usize): void {
  const lanes = i32x4(0, 2, 4, 6);
  let o = 0;
  for (let pl = 0; pl < planes; pl++) {
    const plane = src + ((<usize>pl * <usize>H * <usize>W) << 2);
    for (let oh = 0; oh < Ho; oh++) {
      const r0 = 2 * oh * W;
      const p0 = plane + (<usize>r0 << 2);
      const p1 = p0 + (<usize>W << 2);
      let ow = 0;
      for (; ow + 4 <= Wo; ow += 4, o += 4) {
        const at = <usize>(2 * ow) << 2;
        const u0 = v128.load(p0 + at);
        const u1 = v128.load(p0 + at, 16);
        const w0 = v128.load(p1 + at);
        const w1 = v128.load(p1 + at, 16);
        const ia = i32x4.add(i32x4.splat(r0 + 2 * ow), lanes);
        let bv = v128.shuffle<f32>(u0, u1, 0, 2, 4, 6);
        let bi = ia;
        const b = v128.shuffle<f32>(u0, u1, 1, 3, 5, 7);
        let take = v128.or(f32x4.gt(b, bv), f32x4.ne(b, b));
        bv = v128.bitselect(b, bv, take);
        bi = v128.bitselect(i32x4.add(ia, i32x4.splat(1)), bi, take);
        const c = v128.shuffle<f32>(w0, w1, 0, 2, 4, 6);
        take = v128.or(f32x4.gt(c, bv), f32x4.ne(c, c));
        bv = v128.bitselect(c, bv, take);
        bi = v128.bitselect(i32x4.add(ia, i32x4.splat(W)), bi, take);
        const d = v128.shuffle<f32>(w0, w1, 1, 3, 5, 7);
        take = v128.or(f32x4.gt(d, bv), f32x4.ne(d, d));
        bv = v128.bitselect(d, bv, take);
        bi = v128.bitselect(i32x4.add(ia, i32x4.splat(W + 1)), bi, take);
        v128.store(vals + (<usize>o << 2), bv);
        v128.store(idx + (<usize>o << 3), f64x2.convert_low_i32x4_s(bi));
        v128.store(idx + (<usize>o << 3), f64x2.convert_low_i32x4_s(v128.shuffle<i32>(bi, bi, 2, 3, 0, 1)), 16);
      }
      for (; ow < Wo; ow++, o++) {
        const w = 2 * ow;
        let bv = load<f32>(p0 + (<usize>w << 2));
        let bi = r0 + w;
        const b = load<f32>(p0 + (<usize>w << 2), 4);
        if (b > bv || b != b) {
          bv = b;
          bi = r0 + w + 1;
        }
        const c = load<f32>(p1 + (<usize>w << 2));
        if (c > bv || c != c) {
          bv = c;
          bi = r0 + W + w;
        }
        const d = load<f32>(p1 + (<usize>w << 2), 4);
        if (d > bv || d != d) {
          bv = d;
          bi = r0 + W + w + 1;
        }
        store<f32>(vals + (<usize>o << 2), bv);
        store<f64>(idx + (<usize>o << 3), <f64>bi);
      }
    }
  }
}
