/**
 * max_pool2d's common window (2 x 2, stride 2, no padding or dilation) on the SIMD kernels (assembly/pool.ts):
 * the same rule, order and bits as the plain loop in ops/conv.ts, four windows per vector with no branches.
 * An input the fused pass left in the kernels' memory (a pending relu read through readPending) is pooled
 * where it lies; any other float32 input is copied in first.
 */
import { fusable } from "../simd/fusable.ts";
import { sharedArena, simdKernels } from "../simd/module.ts";

/**
 * Pool `src` (planes of H x W) into `vals` and `idx` (planes of Ho x Wo); false where the kernels are
 * unavailable (the caller runs the plain loop).
 */
export function maxPool2x2Simd(
  src: ArrayLike<number>,
  planes: number,
  H: number,
  W: number,
  Ho: number,
  Wo: number,
  vals: ArrayLike<number>,
  idx: Float64Array,
): boolean {
  const k = simdKernels();
  if (!k || !(src instanceof Float32Array && vals instanceof Float32Array)) return false;
  // Small planes are not worth the copies in and out.
  if (src.buffer !== k.memory.buffer && !fusable("float32", src.length)) return false;
  const count = planes * Ho * Wo;
  let pSrc: number;
  let a: ReturnType<typeof sharedArena>;
  try {
    if (src.buffer === k.memory.buffer) {
      // In place: allocations must not reach the view (a reset arena starts below it).
      pSrc = src.byteOffset;
      a = sharedArena(k);
      a.keep(pSrc + src.byteLength);
    } else {
      a = sharedArena(k);
      pSrc = a.alloc(src.byteLength);
      a.f32(pSrc, src.length).set(src);
    }
    const pVals = a.alloc(count * 4);
    const pIdx = a.alloc(count * 8);
    k.maxPool2x2(pSrc, planes, H, W, Ho, Wo, pVals, pIdx);
    // Views only after every allocation: growing the memory detaches earlier ones.
    vals.set(a.f32(pVals, count));
    idx.set(a.f64(pIdx, count));
  } catch {
    return false; // the module's memory could not grow that far
  }
  return true;
}
