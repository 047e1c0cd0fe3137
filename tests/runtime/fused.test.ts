// The runtime's fast paths (src/runtime/fused) against straightforward reference implementations written here
// from the ops' own declarations (UNARY/BINARY fn, df, da, db): every fused result must equal the unfused one
// bit for bit, except tanhF32, whose error bound is checked instead.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mmStrided } from "../../src/runtime/fused/matmul.ts";
import { sumProductTo, sumTo } from "../../src/runtime/fused/reduce.ts";
import { forEachRow, readStrides } from "../../src/runtime/fused/strided.ts";
import {
  allocate,
  type DType,
  fromFlat,
  mseLoss,
  numel,
  ops as O,
  Rng,
  type Shape,
  type Storage,
  stridesOf,
  type Tensor,
} from "../../src/runtime/index.ts";
import { BINARY, unaryKernels } from "../../src/runtime/ops/elementwise.ts";
import { tanhF32 } from "../../src/runtime/simd/breakdown.ts";

const SPECIALS = [0, -0, 1, -1, 0.5, -0.5, 2, -3, 1e-30, -1e-30, 40, -40, 1e30, Infinity, -Infinity, NaN];

function randomValues(n: number, seed: number, scale = 4): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => (rng.next() - 0.5) * 2 * scale);
}

/** Bitwise equality of two stores, NaNs equal to NaNs (their payloads are not observable in JS). */
function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    if (!Object.is(actual[i], expected[i]))
      throw new Error(`${what}: element ${i} is ${actual[i]}, the unfused path gives ${expected[i]}`);
}

/** Flat index into a tensor of `shape` broadcast to `target`, for the reference loops. */
function broadcastIndex(o: number, target: Shape, shape: Shape): number {
  const ts = stridesOf(target);
  const ss = stridesOf(shape);
  let rem = o;
  let idx = 0;
  for (let d = 0; d < target.length; d++) {
    const c = Math.floor(rem / ts[d]);
    rem -= c * ts[d];
    const sd = d - (target.length - shape.length);
    if (sd >= 0 && shape[sd] !== 1) idx += c * ss[sd];
  }
  return idx;
}

function broadcast(...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) =>
    Math.max(...shapes.map((s) => s[i - (rank - s.length)] ?? 1)),
  );
}

/** sum(src broadcast as `shape`) down to `target` the unfused way: float64 per element, row-major order. */
function referenceSumTo(src: ArrayLike<number>, shape: Shape, target: Shape, dtype: DType): Storage {
  const acc = new Float64Array(numel(target));
  for (let o = 0; o < numel(shape); o++) acc[broadcastIndex(o, shape, target)] += src[o];
  const out = allocate(dtype, acc.length);
  out.set(acc);
  return out;
}

describe("forEachRow", () => {
  it("visits every output in order, each operand at its broadcast element, however it joins dims into rows", () => {
    const rng = new Rng(5);
    for (let t = 0; t < 300; t++) {
      const shape = Array.from(
        { length: 1 + Math.floor(rng.next() * 4) },
        () => 1 + Math.floor(rng.next() * 4),
      );
      // Operands broadcast from shape: each dim kept or 1, leading dims sometimes dropped (a conv bias: C, 1, 1).
      const operands = [0, 1].map(() =>
        shape.slice(Math.floor(rng.next() * (shape.length + 1))).map((d) => (rng.next() < 0.5 ? 1 : d)),
      );
      const strides = operands.map((s) => readStrides(s, shape));
      const seen: number[][] = [];
      forEachRow(shape, strides, (o, offs, n) => {
        for (let k = 0; k < n; k++)
          seen.push([o + k, ...strides.map((s, j) => offs[j] + k * s[shape.length - 1])]);
      });
      const want = Array.from({ length: numel(shape) }, (_, o) => [
        o,
        ...operands.map((s) => broadcastIndex(o, shape, s)),
      ]);
      expect(seen, `${shape} from ${operands.join(" and ")}`).toEqual(want);
    }
  });
});

describe("generated unary loops equal the generated scalar functions", () => {
  const values = [...SPECIALS, ...randomValues(200, 1)];
  for (const [name, attrs] of [
    ["neg", {}],
    ["exp", {}],
    ["log", {}],
    ["sqrt", {}],
    ["sigmoid", {}],
    ["relu", {}],
    ["pow_scalar", { exponent: 2 }],
    ["tanh", {}],
    ["softplus", { beta: 2, threshold: 5 }],
    ["gelu", { approximate: "tanh" }],
  ] as const) {
    it(`${name}: forward and gradient in float64`, () => {
      const { js } = unaryKernels(name, attrs);
      const X = Float64Array.from(values);
      const Y = new Float64Array(X.length);
      js.fwdLoop("f64")(X, Y, X.length);
      const f = js.fn();
      expectSame(
        Y,
        Array.from(X, (x) => f(x)),
        `${name} forward`,
      );
      const G = Float64Array.from(randomValues(X.length, 2));
      const gx = new Float64Array(X.length);
      js.gradLoop("f64")(G, X, Y, gx, X.length);
      const df = js.gradFn();
      expectSame(
        gx,
        Array.from(X, (x, i) => df(G[i], x, Y[i])),
        `${name} gradient`,
      );
    });
  }

  it("relu's gradient is torch's threshold_backward: x <= 0 gives +0 even for an infinite gradient", () => {
    const df = unaryKernels("relu").js.gradFn();
    expect([df(Number.POSITIVE_INFINITY, -1, 0), df(-2, 0, 0), df(3, Number.NaN, Number.NaN)]).toEqual([
      0, 0, 3,
    ]);
  });

  it("ops route through the loops with autograd intact (tanh, exp, square in float32)", () => {
    const x = fromFlat(randomValues(64, 3, 2), [8, 8], "float32", { requiresGrad: true });
    const y = O.sum(O.mul(O.tanh(x), O.pow(O.exp(O.neg(x)), 2)));
    y.backward();
    const xs = Array.from(x.data);
    const t = xs.map((v) => tanhF32(v));
    const e = xs.map((v) => Math.fround(Math.exp(Math.fround(-v))));
    const e2 = e.map((v) => Math.fround(v * v));
    // d/dx [tanh(x) * exp(-x)^2], following the graph's own rounding at each stored intermediate.
    const expected = xs.map((_, i) => {
      const gT = Math.fround(e2[i]); // mul backward: g * exp(-x)^2
      const gE2 = Math.fround(t[i]); // mul backward: g * tanh(x)
      const gE = Math.fround(gE2 * (2 * e[i])); // pow backward
      const gNeg = Math.fround(gE * e[i]); // exp backward
      const fromTanh = Math.fround(gT * Math.fround(1 - t[i] * t[i]));
      return Math.fround(fromTanh + Math.fround(gNeg * -1));
    });
    expectSame(x.grad?.data ?? [], expected, "gradient of x");
  });
});

describe("tanhF32", () => {
  const ulp = (v: number) => Math.max(2 ** -149, 2 ** (Math.floor(Math.log2(Math.abs(v))) - 23));

  it("is within 2 float32 ulps of the correctly rounded tanh, and exact on most inputs", () => {
    const rng = new Rng(7);
    let worst = 0;
    let exact = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const x = Math.fround(
        i % 2 ? (rng.next() - 0.5) * 50 : (rng.next() - 0.5) * 2 ** (rng.next() * 30 - 28),
      );
      const want = Math.fround(Math.tanh(x));
      const got = tanhF32(x);
      worst = Math.max(worst, Math.abs(got - want) / ulp(want));
      if (got === want) exact++;
    }
    expect(worst).toBeLessThanOrEqual(2);
    expect(exact / n).toBeGreaterThan(0.9);
  });

  it("keeps the special values: signed zeros, infinities, NaN, saturation, the branch edges", () => {
    for (const x of [0, -0, Infinity, -Infinity, NaN, 9, -9, 10, -10, 22, -22, 100, -100])
      expect(tanhF32(x)).toBe(Math.fround(Math.tanh(x)));
    for (const x of [
      0.55,
      -0.55,
      Math.fround(0.5499999),
      1e-8,
      Math.fround(8.999999),
      2 ** -126,
      2 ** -149,
    ]) {
      const want = Math.fround(Math.tanh(Math.fround(x)));
      expect(Math.abs(tanhF32(Math.fround(x)) - want)).toBeLessThanOrEqual(2 * ulp(want));
    }
    expect(Object.is(tanhF32(-0), -0)).toBe(true);
  });
});

describe("binary ops and their gradients equal the declared functions, broadcasting included", () => {
  const shapesArb = fc
    .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }))
    .chain(([a, b, c]) => {
      const full = [a, b, c];
      const variant = fc
        .array(fc.boolean(), { minLength: 3, maxLength: 3 })
        .chain((ones) =>
          fc.integer({ min: 0, max: 3 }).map((drop) => full.map((d, i) => (ones[i] ? 1 : d)).slice(drop)),
        );
      return fc.tuple(variant, variant);
    });

  for (const name of ["add", "sub", "mul", "div"]) {
    for (const dtype of ["float32", "float64"] as const) {
      it(`${name} in ${dtype}`, () => {
        const d = O.BINARY[name];
        const da = d.da;
        const db = d.db;
        if (!da || !db) throw new Error(`${name} has no derivatives`);
        fc.assert(
          fc.property(shapesArb, fc.integer({ min: 1, max: 1000 }), ([sa, sb], seed) => {
            const a = fromFlat(randomValues(numel(sa), seed), sa, dtype, { requiresGrad: true });
            const b = fromFlat(randomValues(numel(sb), seed + 1), sb, dtype, { requiresGrad: true });
            const y = O.binaryOp(name, a, b);
            const shape = broadcast(sa, sb);
            expect(y.shape).toEqual(shape);
            const n = numel(shape);
            const A = (o: number) => a.data[broadcastIndex(o, shape, sa)];
            const B = (o: number) => b.data[broadcastIndex(o, shape, sb)];
            const want = allocate(dtype, n);
            for (let o = 0; o < n; o++) want[o] = d.fn(A(o), B(o));
            expectSame(y.data, want, `${name} forward ${sa} ${sb}`);
            const g = fromFlat(randomValues(n, seed + 2), shape, dtype);
            y.backward(g);
            // Unfused: the full-size g * da (rounded when stored), then summed down to the operand's shape.
            for (const [t, df, s] of [
              [a, da, sa],
              [b, db, sb],
            ] as const) {
              const full = allocate(dtype, n);
              for (let o = 0; o < n; o++) full[o] = g.data[o] * df(A(o), B(o), d.fn(A(o), B(o)));
              expectSame(
                t.grad?.data ?? [],
                referenceSumTo(full, shape, s, dtype),
                `${name} grad ${sa} ${sb} -> ${s}`,
              );
            }
          }),
          { numRuns: 40 },
        );
      });
    }
  }
});

describe("binary gradient plans come from the declared derivatives", () => {
  it("plans only the gradients that read g and at most the other operand", () => {
    const plan = (name: string, side: 0 | 1) => {
      const p = BINARY[name].gradPlans[side];
      return p && { other: p.other, identity: p.identity, product: p.product, simd: p.simd };
    };
    expect([plan("add", 0), plan("add", 1)]).toEqual([
      { other: null, identity: true, product: false, simd: true },
      { other: null, identity: true, product: false, simd: true },
    ]);
    // g * -1: one rounding, so the SIMD path may run it.
    expect(plan("sub", 1)).toEqual({ other: null, identity: false, product: false, simd: true });
    expect([plan("mul", 0), plan("mul", 1)]).toEqual([
      { other: "b", identity: false, product: true, simd: true },
      { other: "a", identity: false, product: true, simd: true },
    ]);
    // g * (1 / b) rounds twice in float32 but once in the float64 loop: no SIMD; d/db reads a and b: no plan.
    expect([plan("div", 0), plan("div", 1)]).toEqual([
      { other: "b", identity: false, product: false, simd: false },
      null,
    ]);
    for (const name of ["pow", "xlogy", "maximum", "minimum"])
      expect([plan(name, 0), plan(name, 1)], name).toEqual([null, null]);
  });
});

describe("sumTo and sumProductTo (gradient reductions) equal product-then-sum", () => {
  it("over random broadcast pairs", () => {
    const rng = new Rng(11);
    const cases: [Shape, Shape][] = [
      [[6, 5], [5]],
      [
        [6, 5],
        [6, 1],
      ],
      [[6, 5], [1]],
      [
        [3, 4, 5],
        [4, 1],
      ],
      [
        [3, 4, 5],
        [3, 1, 5],
      ],
      [[1000], [1]],
      [[2, 3], []],
      // Conv biases: runs of the trailing dims landing on different sums, four at a time and the rest.
      [
        [5, 7, 3, 4],
        [7, 1, 1],
      ],
      [
        [2, 8, 8, 8],
        [8, 1, 1],
      ],
      [
        [3, 9, 16],
        [1, 9, 1],
      ],
    ];
    for (const [shape, target] of cases) {
      for (const dtype of ["float32", "float64"] as const) {
        const n = numel(shape);
        const G = allocate(dtype, n);
        const Bf = allocate(dtype, n);
        for (let i = 0; i < n; i++) {
          // Magnitudes over 2^-20 .. 2^20, so a sum in another order would round differently.
          G[i] = (rng.next() - 0.5) * 10 * 2 ** Math.floor(rng.next() * 40 - 20);
          Bf[i] = (rng.next() - 0.5) * 10;
        }
        expectSame(sumTo(G, shape, target, dtype), referenceSumTo(G, shape, target, dtype), `sumTo ${shape}`);
        const prod = allocate(dtype, n);
        for (let i = 0; i < n; i++) prod[i] = G[i] * Bf[i];
        expectSame(
          sumProductTo(G, Bf, shape, shape, target, dtype),
          referenceSumTo(prod, shape, target, dtype),
          `sumProductTo ${shape} -> ${target}`,
        );
      }
    }
  });
});

/**
 * Reference product: terms in increasing r, a zero left factor's term skipped; float32 operands accumulate
 * in float32 (each product and each sum rounded), others in float64.
 */
function referenceMatmul(
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
  f32 = A instanceof Float32Array,
): Float64Array {
  const r32 = f32 ? Math.fround : (v: number) => v;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let q = 0; q < n; q++) {
      let s = 0;
      for (let r = 0; r < k; r++) {
        const a = A[i * k + r];
        if (a !== 0) s = r32(s + r32(a * B[r * n + q]));
      }
      out[i * n + q] = s;
    }
  return out;
}

function transposed(X: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = X[i * cols + j];
  return out;
}

describe("strided matmul", () => {
  it("row and dot loop orders, plain and transposed operands, equal the reference product", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 1000 }),
        (m, k, n, seed) => {
          const A = Float32Array.from(randomValues(m * k, seed).map((v, i) => (i % 5 === 0 ? 0 : v)));
          const B = Float32Array.from(randomValues(k * n, seed + 1));
          const want = Float32Array.from(referenceMatmul(A, B, m, k, n, true));
          const At = transposed(A, m, k);
          const Bt = transposed(B, k, n);
          const variants: [string, Parameters<typeof mmStrided>[0], Parameters<typeof mmStrided>[1]][] = [
            [
              "A B",
              { data: A, offset: 0, rowStride: k, colStride: 1 },
              { data: B, offset: 0, rowStride: n, colStride: 1 },
            ],
            [
              "A^T B",
              { data: At, offset: 0, rowStride: 1, colStride: m },
              { data: B, offset: 0, rowStride: n, colStride: 1 },
            ],
            [
              "A B^T",
              { data: A, offset: 0, rowStride: k, colStride: 1 },
              { data: Bt, offset: 0, rowStride: 1, colStride: k },
            ],
          ];
          for (const [what, L, R] of variants) {
            const out = new Float32Array(m * n);
            mmStrided(L, R, m, k, n, out, 0);
            expectSame(out, want, `${what} (${m}x${k} @ ${k}x${n})`);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("matmul's gradients equal g @ B^T and A^T @ g computed by the reference product", () => {
    for (const [m, k, n] of [
      [7, 3, 12],
      [16, 9, 2],
      [3, 1, 1],
    ]) {
      const a = fromFlat(randomValues(m * k, m), [m, k], "float32", { requiresGrad: true });
      const b = fromFlat(randomValues(k * n, n), [k, n], "float32", { requiresGrad: true });
      const y = O.matmul(a, b);
      expectSame(y.data, Float32Array.from(referenceMatmul(a.data, b.data, m, k, n, true)), "forward");
      const g = fromFlat(randomValues(m * n, 5), [m, n], "float32");
      y.backward(g);
      const bT = transposed(b.data, k, n);
      const aT = transposed(a.data, m, k);
      expectSame(a.grad?.data ?? [], Float32Array.from(referenceMatmul(g.data, bT, m, n, k, true)), "dA");
      expectSame(b.grad?.data ?? [], Float32Array.from(referenceMatmul(aT, g.data, k, m, n, true)), "dB");
    }
  });

  it("batched matmul with a broadcast batch sums the broadcast operand's gradient", () => {
    const a = fromFlat(randomValues(3 * 4 * 5, 1), [3, 4, 5], "float64", { requiresGrad: true });
    const b = fromFlat(randomValues(5 * 2, 2), [5, 2], "float64", { requiresGrad: true });
    const y = O.matmul(a, b);
    O.sum(y).backward();
    const gB = new Float64Array(10);
    for (let bt = 0; bt < 3; bt++) {
      const slice = a.data.subarray(bt * 20, bt * 20 + 20);
      const part = referenceMatmul(transposed(slice, 4, 5), new Float64Array(8).fill(1), 5, 4, 2);
      for (let i = 0; i < 10; i++) gB[i] += part[i];
    }
    const got = b.grad?.data ?? [];
    for (let i = 0; i < 10; i++) expect(got[i]).toBeCloseTo(gB[i], 12);
  });
});

describe("gradient accumulation in float64", () => {
  it("a broadcast scalar's gradient over a million elements is the float64 sum rounded once", () => {
    const n = 1_000_000;
    const w = fromFlat([1], [1], "float32", { requiresGrad: true });
    const x = fromFlat(
      Float32Array.from({ length: n }, (_, i) => 0.1 + (i % 7) * 0.3),
      [n],
      "float32",
    );
    const y: Tensor = O.mul(w, x);
    y.backward(fromFlat(new Float32Array(n).fill(1), [n], "float32"));
    let s = 0;
    for (let i = 0; i < n; i++) s += x.data[i];
    expect(w.grad?.item()).toBe(Math.fround(s));
  });
});

describe("fused mse_loss equals sub -> pow -> mean/sum composed, values and gradients", () => {
  for (const dtype of ["float32", "float64"] as const)
    for (const reduction of ["mean", "sum", "none"] as const)
      it(`${dtype}, reduction ${reduction}`, () => {
        for (const [shape, seed] of [
          [[7], 1],
          [[3, 5], 2],
          [[1000], 3],
          [[], 4],
        ] as const) {
          const n = numel(shape);
          const make = () => ({
            input: fromFlat(randomValues(n, seed, 3), shape, dtype, { requiresGrad: true }),
            target: fromFlat(randomValues(n, seed + 10, 3), shape, dtype, { requiresGrad: true }),
          });
          const fused = make();
          const lf = mseLoss(fused.input, fused.target, { reduction });
          expect(lf.gradFn?.name).toBe("MseLossBackward0");
          const plain = make();
          const d = O.sub(plain.input, plain.target);
          const sq = O.pow(d, 2);
          const lp = reduction === "none" ? sq : reduction === "sum" ? O.sum(sq) : O.mean(sq);
          expectSame(lf.data, lp.data, `loss ${shape}`);
          const g = reduction === "none" ? fromFlat(randomValues(n, seed + 20), shape, dtype) : undefined;
          lf.backward(g);
          lp.backward(g);
          expectSame(fused.input.grad?.data ?? [], plain.input.grad?.data ?? [], `input grad ${shape}`);
          expectSame(fused.target.grad?.data ?? [], plain.target.grad?.data ?? [], `target grad ${shape}`);
        }
      });

  it("falls back to the composition where it cannot fuse (broadcast target, float16)", () => {
    const x = fromFlat([1, 2, 3, 4], [2, 2], "float32", { requiresGrad: true });
    expect(mseLoss(x, fromFlat([1, 0], [2], "float32")).gradFn?.name).toBe("MeanBackward1");
    const h = fromFlat([1, 2], [2], "float16", { requiresGrad: true });
    expect(mseLoss(h, fromFlat([0, 0], [2], "float16")).gradFn?.name).toBe("MeanBackward1");
  });
});
