/**
 * The SIMD vector machine against the JavaScript runtime's own kernels: float32 elementwise values and tanh
 * bit for bit, torch-order sums bit for bit (cascade.ts), float64 sums and per-column sums to float64 rounding.
 * Sizes straddle the machine's chunk (2048) and the cascade's rows (32) and levels.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tanhF32 } from "../../src/runtime/fused/tanh.ts";
import { torchOrderSum } from "../../src/runtime/ops/cascade.ts";
import * as E from "../../src/runtime/simd/expr.ts";
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
