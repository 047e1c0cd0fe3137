/**
 * The fused SIMD path as the runtime uses it: large float32 elementwise ops become lazy expressions, losses and
 * broadcast gradients become deferred sums computed together. Every training run here is repeated with the SIMD
 * kernels switched off (the plain loops) and must give the same numbers bit for bit; PyTorch checks the
 * formulas the two paths share (tanh's and relu's backward).
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  Adam,
  crossEntropy,
  fromFlat,
  mseLoss,
  ops as O,
  SGD,
  type Tensor,
} from "../../src/runtime/index.ts";
import { unaryKernels } from "../../src/runtime/ops/elementwise.ts";
import { sumToShape } from "../../src/runtime/ops/layout.ts";
import * as E from "../../src/runtime/simd/expr.ts";
import { lazyMinElements, setLazyMinElements } from "../../src/runtime/simd/expr.ts";
import { setSimdEnabled } from "../../src/runtime/simd/module.ts";
import { runOutputs } from "../../src/runtime/simd/program.ts";
import { withTracer } from "../../src/runtime/trace.ts";
import { type CallAnswer, decodeNum, encodeNum, requestTorch } from "../helpers/torch.ts";
import { type Floats, hex, torchBits } from "../helpers/torch-bits.ts";

afterEach(() => setSimdEnabled(true));

function data(n: number, seed: number, scale = 2): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * scale;
  });
}

/** The first index where two arrays differ (Object.is), or -1: a short failure message for long arrays. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

const param = (v: ArrayLike<number>, shape: number[]) =>
  fromFlat(v, shape, "float32", { requiresGrad: true });

/** w * x + b, MSE, Adam: the losses and parameters of every epoch. */
function linearRun(n: number, epochs: number): number[][] {
  const x = fromFlat(data(n, 1), [n]);
  const y = fromFlat(
    data(n, 2, 0.1).map((e, i) => 3 * x.data[i] + 2 + e),
    [n],
  );
  const w = param([1], [1]);
  const b = param([1], [1]);
  const opt = new Adam([w, b], { lr: 0.1 });
  const out: number[][] = [];
  for (let e = 0; e < epochs; e++) {
    const loss = mseLoss(O.add(O.mul(w, x), b), y);
    loss.backward();
    opt.step();
    opt.zeroGrad();
    // Read after the step: the deferred loss keeps the values it was computed from.
    out.push([loss.item(), w.data[0], b.data[0]]);
  }
  return out;
}

/** A 2 -> h -> 2 tanh MLP with cross_entropy and SGD: losses, then every parameter after the last epoch. */
function mlpRun(points: number, hidden: number, epochs: number): number[][] {
  const x = fromFlat(data(points * 2, 3), [points, 2]);
  const labels = fromFlat(
    Array.from({ length: points }, (_, i) => (x.data[2 * i] ** 2 + x.data[2 * i + 1] ** 2 < 0.5 ? 1 : 0)),
    [points],
    "int64",
  );
  const w1 = param(data(hidden * 2, 4), [hidden, 2]);
  const b1 = param(data(hidden, 5), [hidden]);
  const w2 = param(data(2 * hidden, 6, 0.5), [2, hidden]);
  const b2 = param(data(2, 7), [2]);
  const opt = new SGD([w1, b1, w2, b2], { lr: 0.5, momentum: 0.9 });
  const losses: number[] = [];
  for (let e = 0; e < epochs; e++) {
    const h = O.tanh(O.linear(x, w1, b1));
    const loss = crossEntropy(O.linear(h, w2, b2), labels);
    loss.backward();
    opt.step();
    opt.zeroGrad();
    losses.push(loss.item());
  }
  return [losses, ...[w1, b1, w2, b2].map((p) => Array.from(p.data))];
}

/**
 * conv2d (bias broadcast over the middle dims, a row leaf of the SIMD path) -> relu -> max_pool2d -> linear ->
 * cross_entropy, Adam: losses, then every parameter after the last epoch.
 */
function cnnRun(n: number, epochs: number): number[][] {
  const x = fromFlat(data(n * 256, 8), [n, 1, 16, 16]);
  const labels = fromFlat(
    Array.from({ length: n }, (_, i) => i % 4),
    [n],
    "int64",
  );
  const convW = param(data(8 * 9, 9, 0.6), [8, 1, 3, 3]);
  const convB = param(data(8, 10, 0.6), [8]);
  const fcW = param(data(4 * 512, 11, 0.1), [4, 512]);
  const fcB = param(data(4, 12, 0.1), [4]);
  const opt = new Adam([convW, convB, fcW, fcB], { lr: 0.01 });
  const losses: number[] = [];
  for (let e = 0; e < epochs; e++) {
    const h = O.maxPool2d(O.relu(O.conv2d(x, convW, convB, { padding: 1 })), 2).values;
    const loss = crossEntropy(O.linear(O.flatten(h, 1), fcW, fcB), labels);
    loss.backward();
    opt.step();
    opt.zeroGrad();
    losses.push(loss.item());
  }
  return [losses, ...[convW, convB, fcW, fcB].map((p) => Array.from(p.data))];
}

function bothPaths<T>(run: () => T): { simd: T; plain: T } {
  setSimdEnabled(true);
  const simd = run();
  setSimdEnabled(false);
  const plain = run();
  setSimdEnabled(true);
  return { simd, plain };
}

describe("fused SIMD training equals the plain loops", () => {
  it("1M-style linear regression (100,003 points, Adam, 20 epochs): losses and parameters bit for bit", () => {
    const { simd, plain } = bothPaths(() => linearRun(100_003, 20));
    expect(simd).toEqual(plain);
  });

  it("tanh MLP (8192 points, 32 hidden, SGD with momentum, 8 epochs): losses and parameters bit for bit", () => {
    const { simd, plain } = bothPaths(() => mlpRun(8192, 32, 8));
    expect(simd).toEqual(plain);
  });

  it("CNN (conv, relu, max_pool2d, 16 images of 16x16, Adam, 4 epochs): losses and parameters bit for bit", () => {
    const { simd, plain } = bothPaths(() => cnnRun(16, 4));
    expect(simd).toEqual(plain);
  });

  it("an operand broadcast over middle dims (a conv bias) joins the expression, with the eager values", () => {
    const a = fromFlat(data(4 * 8 * 32 * 32, 13), [4, 8, 32, 32]);
    const { simd, plain } = bothPaths(() => {
      const bias = param(data(8, 14), [8, 1, 1]);
      const pre = O.add(a, bias);
      const y = O.relu(pre);
      y.backward(O.mul(a, 0.5));
      return { lazy: !pre.isMaterialized, y: Array.from(y.data), grad: Array.from(bias.grad?.data ?? []) };
    });
    expect(simd.lazy).toBe(true);
    expect(plain.lazy).toBe(false);
    expect({ ...simd, lazy: null }).toEqual({ ...plain, lazy: null });
  });
});

describe("sums over runs of trailing dims (conv biases' gradients)", () => {
  const min = lazyMinElements();
  afterEach(() => setLazyMinElements(min));

  // Values near 100, and each sum's first run starting at 2^60 that its last run's end takes away: whatever
  // is added while 2^60 is in the sum is rounded to its ulp (256), so adding in another order gives other bits.
  const orderVisible = (shape: number[], target: number[]) => {
    const n = shape.reduce((p, d) => p * d, 1);
    const len = target.reduce((p, d) => p * d, 1);
    let t = target.length;
    while (target[t - 1] === 1) t--;
    const inner = shape.slice(shape.length - target.length + t).reduce((p, d) => p * d, 1);
    const blocks = n / (inner * len);
    return data(n, n).map((v, i) => {
      const block = Math.floor(i / inner / len);
      if (block === 0 && i % inner === 0) return 2 ** 60;
      if (block === blocks - 1 && i % inner === inner - 1) return -(2 ** 60);
      return v * 100;
    });
  };
  const cases: [number[], number[]][] = [
    [
      [64, 8, 8, 8],
      [8, 1, 1],
    ],
    [
      [2, 3, 33, 65],
      [3, 1, 1],
    ], // three sums (no four side by side), runs longer than a pass's chunk
    [
      [5, 6, 5, 10],
      [6, 1, 1],
    ], // runs of 50, across chunk boundaries
    [
      [4, 2, 3, 50],
      [2, 3, 1],
    ],
    [
      [3, 7, 1, 9, 11],
      [7, 1, 9, 1],
    ],
    [
      [6, 5, 70],
      [5, 1],
    ],
  ];
  it.each(cases)("%j summed to %j in the fused pass: the plain loop's bits", (shape, target) => {
    setLazyMinElements(8);
    const x = fromFlat(orderVisible(shape, target), shape);
    const { simd, plain } = bothPaths(() => {
      const s = sumToShape(O.mul(x, 1.5), target);
      return { deferred: !s.isMaterialized, bits: hex(s.data as Floats) };
    });
    expect([simd.deferred, plain.deferred]).toEqual([true, false]);
    expect(simd.bits).toBe(plain.bits);
  });
});

describe("lazy tensors and deferred sums", () => {
  it("a lazy result reads as the eager values, through reshape, detach and copy", () => {
    const n = 40_000;
    const a = fromFlat(data(n, 8), [200, 200]);
    const b = fromFlat(data(200, 9), [200]);
    const lazy = O.tanh(O.sub(O.mul(a, 1.5), b));
    expect(lazy.isMaterialized).toBe(false);
    const views = [O.reshape(lazy, [n]), lazy.detach(), lazy.copy()];
    setSimdEnabled(false);
    const eager = O.tanh(O.sub(O.mul(a, 1.5), b));
    setSimdEnabled(true);
    for (const v of [lazy, ...views]) expect(Array.from(v.data)).toEqual(Array.from(eager.data));
    expect(lazy.isMaterialized).toBe(true);
  });

  it("a lazy tensor made with the SIMD kernels on is still read after they are switched off", () => {
    const n = 20_000;
    const a = fromFlat(data(n, 15), [n]);
    const lazy = O.tanh(O.mul(a, 3));
    setSimdEnabled(false);
    const eager = O.tanh(O.mul(a, 3));
    expect(lazy.isMaterialized).toBe(false);
    expect(Array.from(lazy.data)).toEqual(Array.from(eager.data));
  });

  it("a deferred loss keeps its value when the parameters change before it is read", () => {
    const n = 50_000;
    const x = fromFlat(data(n, 10), [n]);
    const y = fromFlat(data(n, 11), [n]);
    const w = param([0.5], [1]);
    const loss = mseLoss(O.mul(w, x), y);
    const grad = (() => {
      loss.backward();
      return w.grad as Tensor;
    })();
    new SGD([w], { lr: 1 }).step();
    setSimdEnabled(false);
    const w0 = param([0.5], [1]);
    const ref = mseLoss(O.mul(w0, x), y);
    ref.backward();
    setSimdEnabled(true);
    expect(loss.item()).toBe(ref.item());
    expect(grad.item()).toBe(w0.grad?.item());
    expect(w.data[0]).not.toBe(0.5);
  });

  it("a large float32 product stays in module memory until read, with the eager values", () => {
    const x = fromFlat(data(3000 * 3, 20), [3000, 3]);
    const w = fromFlat(data(8 * 3, 21), [8, 3]);
    const b = fromFlat(data(8, 22), [8]);
    const pre = O.linear(x, w, b);
    const product = O.matmul(x, O.transpose(w, 0, 1));
    expect(product.isMaterialized).toBe(false);
    expect(product.lazy?.k).toBe("product");
    // A consumer reads the product inside its pass: the activation of a linear layer.
    const h = O.tanh(pre);
    setSimdEnabled(false);
    const eagerPre = O.linear(x, w, b);
    const eagerH = O.tanh(eagerPre);
    const eagerProduct = O.matmul(x, O.transpose(w, 0, 1));
    expect(eagerProduct.isMaterialized).toBe(true);
    setSimdEnabled(true);
    expect(Array.from(h.data)).toEqual(Array.from(eagerH.data));
    expect(Array.from(pre.data)).toEqual(Array.from(eagerPre.data));
    expect(Array.from(product.data)).toEqual(Array.from(eagerProduct.data));
  });

  it("a pending product or expression keeps a parameter's values from before an optimizer step, views too", () => {
    const x = fromFlat(data(4000 * 4, 23), [4000, 4]);
    const w = param(data(4 * 5000, 24), [4, 5000]);
    const before = Float32Array.from(w.data);
    const opt = new SGD([w], { lr: 10 });
    // Detached and reshaped views share w's array, which the step writes in place.
    const product = O.matmul(x, O.reshape(w.detach(), [4, 5000]).detach());
    const scaled = O.mul(O.reshape(w.detach(), [20000]), 2);
    expect(product.lazy?.k).toBe("product");
    expect(scaled.isMaterialized).toBe(false);
    w.grad = fromFlat(new Float32Array(20000).fill(1), [4, 5000]);
    opt.step();
    expect(w.data[0]).not.toBe(before[0]);
    setSimdEnabled(false);
    const w0 = fromFlat(before, [4, 5000]);
    const ref = O.matmul(x, w0);
    const refScaled = O.mul(O.reshape(w0, [20000]), 2);
    setSimdEnabled(true);
    expect(firstDifference(product.data, ref.data)).toBe(-1);
    expect(firstDifference(scaled.data, refScaled.data)).toBe(-1);
  });

  it("many deferred sums nobody reads stay bounded and still compute the right values", () => {
    const n = 20_000;
    const x = fromFlat(data(n, 12), [n]);
    const y = fromFlat(data(n, 13), [n]);
    const losses: Tensor[] = [];
    for (let k = 0; k < 100; k++)
      losses.push(mseLoss(O.mul(x, k / 10), y, { reduction: k % 2 ? "sum" : "mean" }));
    setSimdEnabled(false);
    const ref = losses.map((_, k) =>
      mseLoss(O.mul(x, k / 10), y, { reduction: k % 2 ? "sum" : "mean" }).item(),
    );
    setSimdEnabled(true);
    expect(losses.map((l) => l.item())).toEqual(ref);
  });

  it("WebGPU tracing sees every op: nothing is lazy while tracing", () => {
    const n = 30_000;
    const a = fromFlat(data(n, 14), [n]);
    expect(O.mul(a, 2).isMaterialized).toBe(false);
    const seen: string[] = [];
    const traced = withTracer(
      (e) => seen.push(e.op),
      () => O.tanh(O.mul(a, 2)),
    );
    expect(traced.isMaterialized).toBe(true);
    expect(seen).toEqual(["binary", "unary"]);
  });
});

// tanh's backward and relu's backward against PyTorch bit for bit (both paths use these formulas).
const N = 50_000;
const X = data(N, 20, 8);
const ask = requestTorch<CallAnswer>([
  {
    kind: "call",
    fn: "torch.tanh",
    args: [{ tensor: { data: Array.from(X, encodeNum), shape: [N], dtype: "float32", requires_grad: true } }],
    grad_seed: 5,
  },
  {
    kind: "call",
    fn: "F.relu",
    args: [{ tensor: { data: Array.from(X, encodeNum), shape: [N], dtype: "float32", requires_grad: true } }],
    grad_seed: 6,
  },
]);

describe("backward formulas match PyTorch bit for bit", () => {
  it("tanh: from torch's own outputs, both paths' gradients equal torch's; the forward is within 3 ulps", () => {
    const answer = ask()[0];
    const G = Float32Array.from(answer.grad_outputs[0]?.data.map(decodeNum) ?? []);
    const Y = Float32Array.from(answer.outputs[0].data.map(decodeNum));
    const expected = answer.grads[0]?.data.map(decodeNum);
    const plain = new Float32Array(N);
    unaryKernels("tanh").js.gradLoop("f32")(G, X, Y, plain, N);
    expect(Array.from(plain)).toEqual(expected);
    const [simd] = runOutputs(N, [
      { kind: "values", expr: E.binary("mul", E.full(G), E.unary("dtanh", E.full(Y))) },
    ]);
    expect(Array.from(simd as Float32Array)).toEqual(expected);
    // Neither float32 tanh is correctly rounded: torch's (Sleef) is within 1 ulp, gradwire's within 2.
    const ours = O.tanh(fromFlat(X, [N])).data;
    const ulp = (v: number) => Math.max(2 ** -149, 2 ** (Math.floor(Math.log2(Math.abs(v))) - 23));
    let worst = 0;
    for (let i = 0; i < N; i++) worst = Math.max(worst, Math.abs(ours[i] - Y[i]) / ulp(Y[i]));
    expect(worst).toBeLessThanOrEqual(3);
  });

  for (const [k, name] of [[1, "relu"]] as const)
    it.each([true, false])(`${name}, SIMD %s`, (simd) => {
      const answer = ask()[k];
      const seed = answer.grad_outputs[0];
      if (!seed) throw new Error("torch gave no gradient seed");
      setSimdEnabled(simd);
      const x = param(X, [N]);
      const y = O.relu(x);
      y.backward(fromFlat(seed.data.map(decodeNum), [N]));
      expect(Array.from(y.data)).toEqual(answer.outputs[0].data.map(decodeNum));
      expect(Array.from(x.grad?.data ?? [])).toEqual(answer.grads[0]?.data.map(decodeNum));
    });

  it("relu passes no gradient where x <= 0, even an infinite one (torch's threshold_backward)", () => {
    const x = param([-1, 0, 2], [3]);
    O.relu(x).backward(fromFlat([Infinity, -Infinity, Infinity], [3]));
    expect(Array.from(x.grad?.data ?? [])).toEqual([0, 0, Infinity]);
  });
});

/**
 * relu and its gradient over NaNs (both signs, with payloads), +-0, +-infinity and denormals, in the bits torch
 * gives: JSON would lose -0 and NaN payloads, so values travel as hexadecimal bytes. torch's relu is
 * clamp_min(x, 0), x < 0 ? 0 : x, which keeps -0 and passes a NaN unchanged; its threshold_backward gives +0
 * where x <= 0 (a NaN x passes the gradient).
 */
describe("relu bit for bit with PyTorch over special values, SIMD and plain", () => {
  const n = 40_000;
  const specials = [
    0x7fc00000, 0xffc00000, 0x7fc12345, 0xffc00001, 0, 0x80000000, 0x7f800000, 0xff800000, 1, 0x80000001,
    0x007fffff, 0x807fffff, 0x00800000, 0x80800000, 0x3f800000, 0xbf800000,
  ];
  /** Every third value a special one, the rest random bits (no signalling NaNs: JavaScript's loops quiet them). */
  const bits = (seed: number) => {
    const u = new Uint32Array(n);
    let s = seed;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      u[i] = i % 3 === 0 ? specials[(s >>> 8) % specials.length] : s;
      if ((u[i] & 0x7fc00000) === 0x7f800000 && (u[i] & 0x7fffff) !== 0) u[i] |= 0x400000;
    }
    return new Float32Array(u.buffer);
  };
  const X = bits(1);
  const G = bits(2);
  const torchRelu = (dtype: "float32" | "float64") =>
    torchBits(
      `x = arr("x").requires_grad_()
y = torch.relu(x)
y.backward(arr("g"))
put("y", y)
put("grad", x.grad)`,
      dtype === "float32" ? { x: X, g: G } : { x: Float64Array.from(X), g: Float64Array.from(G) },
    );

  for (const dtype of ["float32", "float64"] as const)
    it.each([true, false])(`${dtype}, SIMD %s`, (simd) => {
      const expected = torchRelu(dtype);
      setSimdEnabled(simd);
      const wide = (a: Float32Array) => (dtype === "float32" ? a : Float64Array.from(a));
      const x = fromFlat(wide(X), [n], dtype, { requiresGrad: true });
      const y = O.relu(x);
      // The SIMD path is taken where it can be: float32 only.
      expect(y.isMaterialized).toBe(!(simd && dtype === "float32"));
      y.backward(fromFlat(wide(G), [n], dtype));
      expect(hex(y.data as Floats)).toBe(expected.y);
      expect(hex(x.grad?.data as Floats)).toBe(expected.grad);
    });
});
