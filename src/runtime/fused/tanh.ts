/**
 * tanh for float32 results, in float32 arithmetic, generated from its breakdown (simd/breakdown.ts), exactly
 * the operations the SIMD kernels compute four lanes at a time, so the plain loops and the SIMD path give the
 * same values bit for bit. Math.tanh is a call into C++ that costs about 20 ns; this inlines into the calling
 * loop. Float64 results keep Math.tanh.
 */
import { scalarOf, TANH } from "../simd/breakdown.ts";

export const tanhF32: (x: number) => number = scalarOf(TANH);
