/**
 * max_pool2d against PyTorch bit for bit where its rules decide: ties (the first of equal maxima, so +0 or -0
 * as it came first), NaNs (a NaN wins and the last NaN's index is kept), -infinity windows, the values and
 * int64 indices and the gradient scattered back. Shapes take the unrolled 2 x 2 window and the general loop.
 */
import { afterEach, describe, expect, it } from "vitest";
import { fromFlat, ops as O, type Tensor } from "../../src/runtime/index.ts";
import { lazyMinElements, setLazyMinElements } from "../../src/runtime/simd/expr.ts";
import { setSimdEnabled } from "../../src/runtime/simd/module.ts";
import { type Floats, hex, torchBits } from "../helpers/torch-bits.ts";

/** Values from a small set, so windows hold ties, NaNs of both signs, zeros of both signs and infinities. */
function values(n: number, seed: number): Float32Array {
  const pool = new Uint32Array([
    0x7fc00000, 0xffc00000, 0x7fc12345, 0, 0x80000000, 0xff800000, 0x7f800000, 0x3f800000, 0x3f800000,
    0xbf800000, 0x40000000, 1, 0x80000001,
  ]);
  const u = new Uint32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    // Runs of -infinity make whole windows of it (the index is then the window's first tap).
    u[i] = (i >> 6) % 5 === 4 ? 0xff800000 : pool[(s >>> 8) % pool.length];
  }
  return new Float32Array(u.buffer);
}

const CASES = [
  { name: "2x2 stride 2 (unrolled)", shape: [3, 4, 8, 10], args: "2" },
  { name: "2x2 stride 2, odd sizes floored (unrolled)", shape: [2, 3, 7, 9], args: "2" },
  { name: "2x2 stride 2, 15 windows a row (unrolled)", shape: [2, 3, 6, 30], args: "2" },
  { name: "2x2 stride 2, ceil_mode past the edge (general)", shape: [2, 3, 7, 9], args: "2, ceil_mode=True" },
  { name: "3x3 stride 2 padding 1 (general)", shape: [2, 3, 7, 9], args: "3, 2, 1" },
];

// Each case on the plain loops, and (float32) on the SIMD kernels, which these small inputs take only with the
// fused path's threshold lowered.
const PATHS = [
  { path: "plain", simd: false, min: lazyMinElements() },
  { path: "SIMD", simd: true, min: 8 },
];

describe("max_pool2d bit for bit with PyTorch", () => {
  const min = lazyMinElements();
  afterEach(() => {
    setSimdEnabled(true);
    setLazyMinElements(min);
  });
  for (const c of CASES)
    for (const dtype of ["float32", "float64"] as const)
      it.each(PATHS)(`${c.name}, ${dtype}, $path`, ({ simd, min }) => {
        setSimdEnabled(simd);
        setLazyMinElements(min);
        const n = c.shape.reduce((p, d) => p * d, 1);
        const x32 = values(n, n);
        const x = dtype === "float32" ? x32 : Float64Array.from(x32);
        const want = torchBits(
          `x = arr("x").reshape(${c.shape.join(", ")}).requires_grad_()
y, i = F.max_pool2d(x, ${c.args}, return_indices=True)
g = torch.arange(1, y.numel() + 1, dtype=y.dtype).reshape(y.shape)
y.backward(g)
put("y", y)
put("i", i)
put("grad", x.grad)`,
          { x },
        );
        const t = fromFlat(x, c.shape, dtype, { requiresGrad: true });
        const a = c.args.split(", ");
        const opts = {
          stride: a[1] && !a[1].includes("=") ? Number(a[1]) : undefined,
          padding: a[2] ? Number(a[2]) : 0,
          ceilMode: c.args.includes("ceil_mode=True"),
        };
        const { values: y, indices } = O.maxPool2d(t, Number(a[0]), opts);
        y.backward(
          fromFlat(
            Float64Array.from({ length: y.numel }, (_, i) => i + 1),
            y.shape,
            dtype,
          ),
        );
        expect(hex(y.data as Floats)).toBe(want.y);
        expect(hex(BigInt64Array.from(indices.data as Float64Array, (v) => BigInt(v)))).toBe(want.i);
        expect(hex(t.grad?.data as Floats)).toBe(want.grad);
      });
});

describe("max_pool2d over a pending activation", () => {
  afterEach(() => setSimdEnabled(true));

  // 16,384 elements (the fused path's threshold), an (8, 8, 16, 16) input requiring grad, on the SIMD path or not.
  const shape = [8, 8, 16, 16];
  const onPath = <T>(simd: boolean, seed: number, run: (x: Tensor) => T): T => {
    setSimdEnabled(simd);
    return run(fromFlat(values(8 * 8 * 16 * 16, seed), shape, "float32", { requiresGrad: true }));
  };

  it("spreads a 2 x 2 gradient back as a lazy gather, equal to the plain scatter: zeros of both signs, NaN, infinities", () => {
    const run = (x: Tensor) => {
      const { values: y } = O.maxPool2d(x, 2);
      y.backward(fromFlat(values(y.numel, 11), y.shape));
      const grad = x.grad;
      if (!grad) throw new Error("no gradient");
      return { pending: !grad.isMaterialized, grad: hex(grad.data as Floats) };
    };
    const simd = onPath(true, 7, run);
    const plain = onPath(false, 7, run);
    expect([simd.pending, plain.pending]).toEqual([true, false]);
    expect(simd.grad).toBe(plain.grad);
  });

  it("reads relu's SIMD values where the pass leaves them: the same values, indices and gradients; relu's output stays readable", () => {
    const run = (x: Tensor) => {
      const r = O.relu(x);
      const pending = !r.isMaterialized;
      const { values: y, indices } = O.maxPool2d(r, 2);
      const stillPending = !r.isMaterialized;
      y.backward(
        fromFlat(
          Float32Array.from({ length: y.numel }, (_, i) => (i % 13) - 6),
          y.shape,
        ),
      );
      return {
        pending,
        stillPending,
        y: hex(y.data as Floats),
        i: Array.from(indices.data),
        grad: hex(x.grad?.data as Floats),
        r: hex(r.data as Floats),
      };
    };
    const simd = onPath(true, 5, run);
    const plain = onPath(false, 5, run);
    expect([simd.pending, simd.stillPending, plain.pending]).toEqual([true, true, false]);
    expect({ ...simd, pending: 0, stillPending: 0 }).toEqual({ ...plain, pending: 0, stillPending: 0 });
  });
});
