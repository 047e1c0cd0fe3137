// The formula language's generators (src/runtime/ops/formula.ts): attribute values reach generated code as
// values, never as source, and each backend spells the same formula.
import { describe, expect, it } from "vitest";
import { ops as O, tensor } from "../../src/runtime/index.ts";
import { unaryKernels, unaryWgsl } from "../../src/runtime/ops/elementwise.ts";
import * as F from "../../src/runtime/ops/formula.ts";
import * as E from "../../src/runtime/simd/expr.ts";

describe("generated kernels", () => {
  it("an attribute is bound as a value: a string that looks like code is refused, never run", () => {
    const g = globalThis as { injected?: boolean };
    const code = "0; globalThis.injected = true; 0";
    expect(() => unaryKernels("leaky_relu", { negative_slope: code })).toThrow(/must be a number/);
    expect(() => O.unaryOp("leaky_relu", tensor([1, -1]), { negative_slope: code })).toThrow(
      /must be a number/,
    );
    expect(g.injected).toBeUndefined();
  });

  it("attribute values differ per call but share one compiled loop", () => {
    const a = unaryKernels("elu", { alpha: 0.5 }).js.fn();
    const b = unaryKernels("elu", { alpha: 2 }).js.fn();
    expect([a(-1), b(-1)]).toEqual([(Math.exp(-1) - 1) * 0.5, (Math.exp(-1) - 1) * 2]);
  });

  it("WGSL: attributes as f32 literals, a missing bound as the prelude's infinity, negatives parenthesised", () => {
    const clamp = unaryWgsl("clamp", { min: -0.5, max: null });
    expect(clamp.forward).toContain("(-0.5)");
    expect(clamp.forward).toContain("gw_bits_inf()");
    expect(clamp.forward).not.toMatch(/--/);
    expect(unaryWgsl("softplus", { beta: -1.5, threshold: 20 }).backward).not.toMatch(/--/);
  });

  it("float32 storage runs tanh's float32 breakdown; float64 runs Math.tanh", () => {
    const { js } = unaryKernels("tanh");
    const x = [0.3, -1.7, 4.2];
    const f32 = new Float32Array(3);
    const f64 = new Float64Array(3);
    js.fwdLoop("f32")(Float32Array.from(x), f32, 3);
    js.fwdLoop("f64")(Float64Array.from(x), f64, 3);
    expect(Array.from(f64)).toEqual(x.map(Math.tanh));
    x.forEach((v, i) => {
      expect(Math.abs(f32[i] - Math.tanh(Math.fround(v)))).toBeLessThan(3e-7);
    });
  });

  it("a formula a backend cannot run on the SIMD path says so (null), rather than computing it differently", () => {
    expect(F.simdOf(F.exp(F.x), {}, {})).toBeNull();
    const x = E.full(new Float32Array(8));
    expect(F.simdOf(F.neg(F.x), { x }, {})).toEqual(E.unary("neg", x));
    // A select of a comparison is exact (a mask and a bitwise select), so it has a vector form; min has none.
    expect(F.simdOf(F.sel(F.lt(F.x, 0), 0, F.x), { x }, {})).toEqual(
      E.select("lt", x, E.constant(0), E.constant(0), x),
    );
    expect(F.simdOf(F.min(F.x, 0), { x }, {})).toBeNull();
    expect(F.simdBinaryOp(F.add(F.a, F.b))).toBe("add");
    expect(F.simdBinaryOp(F.pow(F.a, F.b))).toBeNull();
  });
});

describe("lane ops (softmax family) from their declarations", () => {
  it("isfinite: JavaScript's Number.isFinite, the prelude's bit test in WGSL", () => {
    const f = F.sel(F.isfinite(F.x), F.x, 0);
    const js = F.jsFunction<(x: number) => number>(f, ["x"]);
    expect([2, Infinity, -Infinity, Number.NaN].map(js)).toEqual([2, 0, 0, 0]);
    expect(F.wgslOf(f, {})).toContain("gw_finite(x)");
  });

  it("the CPU loop computes the declared formulas in float64, rounded once", async () => {
    const { LANES, runLanes } = await import("../../src/runtime/ops/lanes.ts");
    const x = [1, 3, -2, 0.5];
    const out = runLanes("log_softmax", [x], [1, 4, 1], "float64");
    const m = Math.max(...x);
    const ls = Math.log(x.reduce((s, v) => s + Math.exp(v - m), 0));
    expect(Array.from(out)).toEqual(x.map((v) => v - m - ls));
    // A lane of infinities is not shifted by its max (torch gives NaN, not exp(-inf - -inf)).
    expect(Array.from(runLanes("softmax", [[-Infinity, -Infinity]], [1, 2, 1], "float64"))).toEqual([
      Number.NaN,
      Number.NaN,
    ]);
    expect(LANES.softmax.accs.map((a) => a.combine)).toEqual(["max", "sum"]);
  });
});
