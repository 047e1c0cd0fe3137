/**
 * The SIMD vector machine against the JavaScript runtime's own kernels: float32 elementwise values and tanh
 * bit for bit, torch-order sums bit for bit (cascade.ts), float64 sums and per-column sums to float64 rounding.
 * Sizes straddle the machine's chunk (2048) and the cascade's rows (32) and levels.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { torchOrderSum } from "../../src/runtime/ops/cascade.ts";
import { tanhF32 } from "../../src/runtime/simd/breakdown.ts";
import * as E from "../../src/runtime/simd/expr.ts";
import { type JitNode, jitBody, jitBytes, setJitEnabled } from "../../src/runtime/simd/jit.ts";
import { simdKernels } from "../../src/runtime/simd/module.ts";
import { runOutputs } from "../../src/runtime/simd/program.ts";

const f = Math.fround;

function randomData(n: number, seed: number, scale = 4): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * scale;
  }
  return out;
}

const CMPS = ["eq", "ne", "lt", "gt", "le", "ge"] as const;
const COMPARE: Record<E.CmpName, (a: number, b: number) => boolean> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  lt: (a, b) => a < b,
  gt: (a, b) => a > b,
  le: (a, b) => a <= b,
  ge: (a, b) => a >= b,
};

const SIZES = [8, 9, 31, 32, 33, 127, 2047, 2048, 2049, 4133, 16 * 32 * 16 + 5, 65613, 1_000_003];

describe("SIMD vector machine", () => {
  it.each(SIZES)(
    "n = %i: affine, difference, square as the JS ops round them; torch-order and float64 sums",
    (n) => {
      const x = randomData(n, n);
      const y = randomData(n, n + 1);
      const d = E.binary(
        "sub",
        E.binary("add", E.binary("mul", E.constant(1.3), E.full(x)), E.constant(0.7)),
        E.full(y),
      );
      const sq = E.binary("mul", d, d);
      const [values, s64, torch] = runOutputs(n, [
        { kind: "values", expr: sq },
        { kind: "sum64", expr: d },
        { kind: "torchSum", expr: sq },
      ]) as [Float32Array, number, number];
      const ref = new Float32Array(n);
      let ref64 = 0;
      for (let i = 0; i < n; i++) {
        const di = f(f(f(f(1.3) * x[i]) + f(0.7)) - y[i]);
        ref[i] = di * di;
        ref64 += di;
      }
      expect(values).toEqual(ref);
      expect(torch).toBe(torchOrderSum(ref, [n], [0], "float32")![0]);
      expect(Math.abs(s64 - ref64)).toBeLessThanOrEqual(1e-12 * n * Math.max(1, Math.abs(ref64)));
    },
  );

  it("tanh equals the JS runtime's float32 tanh bit for bit, with NaN, ±0, ±Infinity and the branch edges", () => {
    const special = [
      0,
      -0,
      Number.NaN,
      Infinity,
      -Infinity,
      0.55,
      -0.55,
      0.5499999,
      22,
      -22,
      21.99,
      1e-30,
      88,
      3e38,
    ];
    const x = Float32Array.from([...special, ...randomData(50_000, 7, 12), ...randomData(20_000, 9, 1.2)]);
    const [t] = runOutputs(x.length, [{ kind: "values", expr: E.unary("tanh", E.full(x)) }]) as [
      Float32Array,
    ];
    const ref = Float32Array.from(x, (v) => tanhF32(v));
    expect(Array.from(t, (v) => (Object.is(v, -0) ? "-0" : v))).toEqual(
      Array.from(ref, (v) => (Object.is(v, -0) ? "-0" : v)),
    );
  });

  it("neg, abs, sqrt, div and broadcast leaves (row and column)", () => {
    const rows = 300;
    const cols = 70;
    const n = rows * cols;
    const x = randomData(n, 3);
    const row = randomData(cols, 4);
    const col = randomData(rows, 5);
    const rowLeaf: E.Expr = { k: "leaf", data: row, mode: "row", len: cols };
    const colLeaf: E.Expr = { k: "leaf", data: col, mode: "col", len: cols };
    const e = E.binary(
      "div",
      E.unary("sqrt", E.unary("abs", E.binary("add", E.full(x), rowLeaf))),
      E.unary("neg", colLeaf),
    );
    const [v, colSums] = runOutputs(n, [
      { kind: "values", expr: e },
      { kind: "colSum64", expr: e, len: cols },
    ]) as [Float32Array, Float64Array];
    const ref = new Float32Array(n);
    const refCols = new Float64Array(cols);
    for (let i = 0; i < n; i++) {
      ref[i] = f(Math.sqrt(Math.abs(f(x[i] + row[i % cols])))) / -col[Math.floor(i / cols)];
      refCols[i % cols] += ref[i];
    }
    expect(v).toEqual(ref);
    expect(colSums).toEqual(refCols);
  });

  it("property: torch-order sums of random lengths and values agree with cascade.ts", () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 20_000 }), fc.integer(), (n, seed) => {
        const x = randomData(n, seed, 1000);
        const [s] = runOutputs(n, [{ kind: "torchSum", expr: E.full(x) }]) as [number];
        return s === torchOrderSum(x, [n], [0], "float32")![0];
      }),
      { numRuns: 60 },
    );
  });
});

describe("compiled elementwise functions (jit.ts)", () => {
  /** A random DAG over full, row and column leaves and constants, and its values computed in JS. */
  function randomProgram(seed: number, rows: number, cols: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
    const n = rows * cols;
    const leaves: { e: E.Expr; at: (i: number) => number }[] = [];
    const x = randomData(n, seed + 1);
    const y = randomData(n, seed + 2, 0.5);
    const row = randomData(cols, seed + 3);
    const col = randomData(rows, seed + 4);
    leaves.push({ e: E.full(x), at: (i) => x[i] });
    leaves.push({ e: E.full(y), at: (i) => y[i] });
    leaves.push({ e: { k: "leaf", data: row, mode: "row", len: cols }, at: (i) => row[i % cols] });
    leaves.push({
      e: { k: "leaf", data: col, mode: "col", len: cols },
      at: (i) => col[Math.floor(i / cols)],
    });
    const c = f(next() * 3 - 1.5);
    leaves.push({ e: E.constant(c), at: () => c });
    const pool = [...leaves];
    const binaries = ["add", "sub", "mul", "div"] as const;
    const unaries = ["neg", "abs", "sqrt", "tanh", "dtanh"] as const;
    for (let k = 0; k < 12; k++) {
      const a = pool[Math.floor(next() * pool.length)];
      const pick = next();
      if (pick < 0.15) {
        const [b, t, e] = [0, 1, 2].map(() => pool[Math.floor(next() * pool.length)]);
        const cmp = CMPS[Math.floor(next() * CMPS.length)];
        pool.push({
          e: E.select(cmp, a.e, b.e, t.e, e.e),
          at: (i) => (COMPARE[cmp](a.at(i), b.at(i)) ? t.at(i) : e.at(i)),
        });
      } else if (pick < 0.6) {
        const b = pool[Math.floor(next() * pool.length)];
        const op = binaries[Math.floor(next() * 4)];
        const fn = {
          add: (p: number, q: number) => p + q,
          sub: (p: number, q: number) => p - q,
          mul: (p: number, q: number) => p * q,
          div: (p: number, q: number) => p / q,
        }[op];
        pool.push({ e: E.binary(op, a.e, b.e), at: (i) => f(fn(a.at(i), b.at(i))) });
      } else {
        const op = unaries[Math.floor(next() * 5)];
        const fn = {
          neg: (p: number) => -p,
          abs: Math.abs,
          sqrt: (p: number) => f(Math.sqrt(p)),
          tanh: tanhF32,
          dtanh: (p: number) => f(1 - p * p),
        }[op];
        pool.push({ e: E.unary(op, a.e), at: (i) => fn(a.at(i)) });
      }
    }
    return { n, pool };
  }

  const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
    expect(Array.from(a, (v) => (Object.is(v, -0) ? "-0" : v))).toEqual(
      Array.from(b, (v) => (Object.is(v, -0) ? "-0" : v)),
    );

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    "random program %i: compiled, interpreted and JS values agree bit for bit",
    (seed) => {
      const { n, pool } = randomProgram(seed, 37, 61);
      const outs = pool.slice(-4).map((p) => ({ kind: "values" as const, expr: p.e }));
      const compiled = runOutputs(n, outs) as Float32Array[];
      setJitEnabled(false);
      const interpreted = runOutputs(n, outs) as Float32Array[];
      setJitEnabled(true);
      pool.slice(-4).forEach((p, k) => {
        same(compiled[k], interpreted[k]);
        same(
          compiled[k],
          Float32Array.from({ length: n }, (_, i) => p.at(i)),
        );
      });
    },
  );

  it("the module is valid WebAssembly for every op", () => {
    const nodes: JitNode[] = [
      { kind: "input", reg: 0 },
      { kind: "const", reg: 1, index: 0 },
      ...(["neg", "abs", "sqrt", "tanh", "dtanh"] as const).map((op, i) => ({
        kind: "unary" as const,
        op,
        reg: 2 + i,
        a: 0,
      })),
      ...(["add", "sub", "mul", "div"] as const).map((op, i) => ({
        kind: "binary" as const,
        op,
        reg: 7 + i,
        a: 0,
        b: 1,
      })),
      ...CMPS.map((cmp, i) => ({ kind: "select" as const, cmp, reg: 11 + i, a: 0, b: 1, t: 2, e: 3 })),
    ];
    expect(WebAssembly.validate(jitBytes(nodes, new Set([10, 16]), 4096))).toBe(true);
    const k = simdKernels();
    expect(k && jitBody(k, nodes, new Set([10, 16]), 4096)).toBeTypeOf("function");
  });

  it.each([true, false])(
    "select (compiled %s): every comparison over NaN, +-0, +-Infinity and denormals, the chosen bits unchanged",
    (jit) => {
      const specials = [
        0x7fc00000, 0xffc00000, 0x7fc12345, 0, 0x80000000, 0x7f800000, 0xff800000, 1, 0x80000001, 0x3f800000,
        0xbf800000,
      ];
      // Every pair of specials as (a, b); t and e are a's and b's bits swapped around, so a wrong choice shows.
      const m = specials.length;
      const n = m * m + 5;
      const [A, B] = [new Uint32Array(n), new Uint32Array(n)];
      for (let i = 0; i < n; i++) {
        A[i] = specials[Math.floor(i / m) % m];
        B[i] = specials[i % m];
      }
      const [a, b] = [new Float32Array(A.buffer), new Float32Array(B.buffer)];
      setJitEnabled(jit);
      const outs = runOutputs(
        n,
        CMPS.map((cmp) => ({
          kind: "values" as const,
          expr: E.select(cmp, E.full(a), E.full(b), E.full(b), E.full(a)),
        })),
      ) as Float32Array[];
      setJitEnabled(true);
      CMPS.forEach((cmp, k) => {
        const want = Uint32Array.from({ length: n }, (_, i) => (COMPARE[cmp](a[i], b[i]) ? B[i] : A[i]));
        expect(Array.from(new Uint32Array(outs[k].buffer, outs[k].byteOffset, n))).toEqual(Array.from(want));
      });
    },
  );
});
