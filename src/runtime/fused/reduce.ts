/**
 * Reductions of broadcast gradients back to an operand's shape, optionally fused with the elementwise product
 * that produced them (the gradient of `a * b` for a broadcast `a` is sum(g * b) over the broadcast dims).
 * Fusing skips a full-size temporary: each product is rounded to the gradient's dtype exactly as storing it
 * would, then accumulated in float64 in row-major order, the same order and values as the unfused
 * product-then-sum.
 */
import { allocate, type DType, finishStorage, type Storage } from "../dtype.ts";
import { numel, type Shape } from "../shape.ts";
import { forEachRow, isRepeatedRow, readStrides } from "./strided.ts";

/** Rounding of one stored value, or null for dtypes whose storing is not a single rounding of a float64. */
function storeRounding(dtype: DType): ((x: number) => number) | null {
  if (dtype === "float32") return Math.fround;
  if (dtype === "float64") return (x) => x;
  return null;
}

/** Whether sumProductTo can produce `dtype` results (float16 rounds differently: it takes the unfused path). */
export function canFuseProduct(dtype: DType): boolean {
  return storeRounding(dtype) !== null;
}

/**
 * out[target] = sum over the broadcast of G (laid out as `shape`), accumulated in float64 and rounded once.
 * `target` must broadcast to `shape`.
 */
export function sumTo(G: Storage, shape: Shape, target: Shape, dtype: DType): Storage {
  const m = numel(target);
  const acc = new Float64Array(m);
  if (m === 1) {
    let s = 0;
    for (let i = 0; i < G.length; i++) s += G[i];
    acc[0] = s;
  } else if (isRepeatedRow(target, shape)) {
    // A bias's gradient: each column summed down the rows, in row order as below.
    for (let i = 0, j = 0; i < G.length; i++, j = j + 1 === m ? 0 : j + 1) acc[j] += G[i];
  } else {
    const st = readStrides(target, shape);
    // Trailing dims the target broadcasts over (a conv bias's N, C, H, W -> C, 1, 1) are contiguous runs that all
    // land on one sum: add each run in a local, in the same order as the element-wise loop below.
    let p = shape.length;
    while (p > 1 && st[p - 1] === 0) p--;
    const inner = numel(shape.slice(p));
    if (inner > 1) {
      const step = st[p - 1];
      forEachRow(shape.slice(0, p), [st.slice(0, p)], (o, offs, n) => {
        let k = 0;
        // Runs landing on different sums (step > 0) are added four at a time, each in its own order as below:
        // four independent chains of additions, the same values.
        if (step !== 0)
          for (; k + 4 <= n; k += 4) {
            const t = offs[0] + k * step;
            let s0 = acc[t];
            let s1 = acc[t + step];
            let s2 = acc[t + 2 * step];
            let s3 = acc[t + 3 * step];
            for (let i = (o + k) * inner, end = i + inner; i < end; i++) {
              s0 += G[i];
              s1 += G[i + inner];
              s2 += G[i + 2 * inner];
              s3 += G[i + 3 * inner];
            }
            acc[t] = s0;
            acc[t + step] = s1;
            acc[t + 2 * step] = s2;
            acc[t + 3 * step] = s3;
          }
        for (let t = offs[0] + k * step; k < n; k++, t += step) {
          let s = acc[t];
          for (let i = (o + k) * inner, end = i + inner; i < end; i++) s += G[i];
          acc[t] = s;
        }
      });
    } else {
      const step = st[shape.length - 1];
      forEachRow(shape, [st], (o, offs, n) => {
        for (let k = 0, t = offs[0]; k < n; k++, t += step) acc[t] += G[o + k];
      });
    }
  }
  const out = allocate(dtype, m);
  for (let i = 0; i < m; i++) out[i] = acc[i];
  return finishStorage(dtype, out);
}

/**
 * sum(round(G * B)) reduced to `target`: G laid out as `shape`, B broadcast to it. Only for dtypes where
 * canFuseProduct holds.
 */
export function sumProductTo(
  G: Storage,
  B: Storage,
  bShape: Shape,
  shape: Shape,
  target: Shape,
  dtype: DType,
): Storage {
  const round = storeRounding(dtype);
  if (!round) throw new Error(`sumProductTo: ${dtype} results take the unfused path`);
  const m = numel(target);
  const acc = new Float64Array(m);
  const n = G.length;
  if (m === 1 && B.length === n) {
    let s = 0;
    if (dtype === "float32") for (let i = 0; i < n; i++) s += Math.fround(G[i] * B[i]);
    else for (let i = 0; i < n; i++) s += G[i] * B[i];
    acc[0] = s;
  } else {
    const sb = readStrides(bShape, shape);
    const st = readStrides(target, shape);
    const last = shape.length - 1;
    const bStep = sb[last];
    const tStep = st[last];
    forEachRow(shape, [sb, st], (o, offs, len) => {
      for (let k = 0, b = offs[0], t = offs[1]; k < len; k++, b += bStep, t += tStep)
        acc[t] += round(G[o + k] * B[b]);
    });
  }
  const out = allocate(dtype, m);
  for (let i = 0; i < m; i++) out[i] = acc[i];
  return out;
}
