/**
 * Whether an op takes the fused SIMD path, and which arrays an expression must copy rather than reference.
 * A leaf module (no tensors): fused/matmul.ts, which the fused passes call, asks it without importing lazy.ts.
 */
import type { DType } from "../dtype.ts";
import { isTracing } from "../trace.ts";
import { lazyMinElements } from "./expr.ts";
import { simdKernels } from "./module.ts";

/** Whether an op producing n elements of `dtype` takes the fused path. */
export function fusable(dtype: DType, n: number): boolean {
  return dtype === "float32" && n >= lazyMinElements() && n >= 8 && !isTracing() && simdKernels() !== null;
}

/** Arrays that optimizers update in place (parameters' storage, shared by every view of a parameter). */
const writtenInPlace = new WeakSet<Float32Array>();

/** Optimizers register the arrays they will write in place, so pending expressions copy them. */
export function markWrittenInPlace(data: unknown): void {
  if (data instanceof Float32Array) writtenInPlace.add(data);
}

/** An array an expression may keep referring to: a copy where an optimizer could update it in place later. */
export function captureArray(d: Float32Array): Float32Array {
  return writtenInPlace.has(d) ? d.slice() : d;
}
