// Every elementwise op of the runtime on WebGPU: values and gradients against PyTorch and the CPU runtime.
import { describe, expect, it } from "vitest";
import { type DType, ops as O } from "../../src/runtime/index.ts";
import { ACTIVATION_CASES, runActivation } from "../helpers/activation-cases.ts";
import { CaseList, Inputs } from "../helpers/torch.ts";
import { describeGpuParity, useDevice } from "./harness.ts";

const device = useDevice();
const I = new Inputs(4242);
const dt: DType = "float32";
const t = (o: Parameters<Inputs["t"]>[2] = {}, shape = [2, 3]) => I.t(shape, dt, o);
const vals = (values: number[]) => I.t([values.length], dt, { values });

/** Which declared op each case exercises, so a new declaration without a GPU case fails the coverage test. */
const covered = new Set<string>();
const unary = new CaseList();
const u = (
  op: string,
  name: string,
  fn: string,
  args: Parameters<CaseList["add"]>[2],
  impl: Parameters<CaseList["add"]>[3],
  kwargs?: Record<string, number | string>,
) => {
  covered.add(op);
  unary.add(name, fn, args, impl, kwargs ? { kwargs } : {});
};
u("neg", "neg", "torch.neg", [t()], (x) => O.neg(x));
u("abs", "abs with a zero", "torch.abs", [vals([-2, -0.5, 0, 0.5, 3])], (x) => O.abs(x));
u("sign", "sign", "torch.sign", [vals([-2, -0.5, 0, 0.5, 3])], (x) => O.sign(x));
u("exp", "exp", "torch.exp", [t({ lo: -5, hi: 5 })], (x) => O.exp(x));
u("log", "log", "torch.log", [t({ lo: 0.01, hi: 10 })], (x) => O.log(x));
u("log", "log at 0 and below", "torch.log", [vals([0, -1, 1])], (x) => O.log(x));
u("log1p", "log1p", "torch.log1p", [t({ lo: -0.9, hi: 3 })], (x) => O.log1p(x));
u("log1p", "log1p of tiny values", "torch.log1p", [vals([1e-7, -3e-6, 2e-5])], (x) => O.log1p(x));
u("sqrt", "sqrt", "torch.sqrt", [t({ lo: 0.01, hi: 9 })], (x) => O.sqrt(x));
u("sigmoid", "sigmoid", "torch.sigmoid", [t({ lo: -6, hi: 6 })], (x) => O.sigmoid(x));
u("sigmoid", "sigmoid extremes", "torch.sigmoid", [vals([-800, -50, 0, 50, 800])], (x) => O.sigmoid(x));
u("log_sigmoid", "logsigmoid", "F.logsigmoid", [vals([-200, -5, -0.5, 0, 0.5, 5, 200])], (x) =>
  O.logSigmoid(x),
);
u("tanh", "tanh", "torch.tanh", [t({ lo: -4, hi: 4 })], (x) => O.tanh(x));
u("tanh", "tanh extremes", "torch.tanh", [vals([-50, -20, 20, 50])], (x) => O.tanh(x));
u("relu", "relu", "torch.relu", [vals([-1, -0.25, 0, 0.25, 2])], (x) => O.relu(x));
u("leaky_relu", "leaky_relu default", "F.leaky_relu", [vals([-1, -0.25, 0, 0.25, 2])], (x) => O.leakyRelu(x));
u("leaky_relu", "leaky_relu slope 0.2", "F.leaky_relu", [t(), 0.2], (x) => O.leakyRelu(x, 0.2));
u("gelu", "gelu", "F.gelu", [t({ lo: -5, hi: 5 }, [3, 4])], (x) => O.gelu(x));
u("gelu", "gelu tanh", "F.gelu", [t({ lo: -5, hi: 5 }, [3, 4])], (x) => O.gelu(x, "tanh"), {
  approximate: "tanh",
});
u("gelu", "gelu tails", "F.gelu", [vals([-30, -8, -1e-4, 0, 1e-4, 8, 30])], (x) => O.gelu(x));
u("softplus", "softplus", "F.softplus", [t({ lo: -30, hi: 30 }, [3, 4])], (x) => O.softplus(x));
u(
  "softplus",
  "softplus beta 2 threshold 5",
  "F.softplus",
  [vals([-4, -1, 0, 2.4, 2.5, 2.6, 10])],
  (x) => O.softplus(x, 2, 5),
  {
    beta: 2,
    threshold: 5,
  },
);
u(
  "softplus",
  "softplus with a negative beta",
  "F.softplus",
  [t({ lo: -3, hi: 3 }, [3, 4])],
  (x) => O.softplus(x, -1.5),
  { beta: -1.5 },
);
u("clamp", "clamp min max", "torch.clamp", [vals([-3, -1, -0.5, 0, 0.5, 1, 3]), -1, 1], (x) =>
  O.clamp(x, -1, 1),
);
u("clamp", "clamp min only", "torch.clamp", [t()], (x) => O.clamp(x, 0.1), { min: 0.1 });
u("clamp", "clamp max only", "torch.clamp", [t()], (x) => O.clamp(x, null, -0.2), { max: -0.2 });
for (const e of [2, 3, 0.5, -1, -2, 0, 2.5, 1])
  u("pow_scalar", `pow to ${e}`, "torch.pow", [t({ lo: 0.2, hi: 3 }), e], (x) => O.pow(x, e));
u("pow_scalar", "pow of negatives to integer powers", "torch.pow", [vals([-2, -1.5, -0.5, 0.5, 2]), 3], (x) =>
  O.pow(x, 3),
);
u("pow_scalar", "pow of negatives to even powers", "torch.pow", [vals([-2, -1.5, -0.5, 0.5, 2]), 2], (x) =>
  O.pow(x, 2),
);
u("pow_scalar", "pow of negatives to fractional powers is nan", "torch.pow", [vals([-2, 0.5]), 0.5], (x) =>
  O.pow(x, 0.5),
);
describeGpuParity("unary ops on WebGPU match PyTorch and the CPU", unary, device);

const binary = new CaseList();
const bi = (op: string, ...args: Parameters<CaseList["add"]>) => {
  covered.add(op);
  binary.add(...args);
};
const SHAPES: [number[], number[]][] = [
  [
    [2, 3],
    [2, 3],
  ],
  [[2, 3], [3]],
  [
    [4, 1, 3],
    [2, 1],
  ],
  [[], [2, 3]],
  [[3, 1], []],
  [
    [1, 4],
    [3, 1],
  ],
];
for (const [sa, sb] of SHAPES) {
  const tag = `[${sa}] and [${sb}]`;
  bi("add", `add ${tag}`, "torch.add", [t({}, sa), t({}, sb)], (a, b) => O.add(a, b));
  bi("sub", `sub ${tag}`, "torch.sub", [t({}, sa), t({}, sb)], (a, b) => O.sub(a, b));
  bi("mul", `mul ${tag}`, "torch.mul", [t({}, sa), t({}, sb)], (a, b) => O.mul(a, b));
  bi("div", `div ${tag}`, "torch.div", [t({}, sa), t({ awayFromZero: 0.3 }, sb)], (a, b) => O.div(a, b));
  bi("pow", `pow ${tag}`, "torch.pow", [t({ lo: 0.2, hi: 3 }, sa), t({ lo: -2, hi: 2 }, sb)], (a, b) =>
    O.pow(a, b),
  );
  bi("maximum", `maximum ${tag}`, "torch.maximum", [t({}, sa), t({}, sb)], (a, b) => O.maximum(a, b));
  bi("minimum", `minimum ${tag}`, "torch.minimum", [t({}, sa), t({}, sb)], (a, b) => O.minimum(a, b));
}
bi("add", "add a number", "torch.add", [t(), 2.5], (a) => O.add(a, 2.5));
bi("mul", "mul by a number", "torch.mul", [t(), 0.1], (a) => O.mul(a, 0.1));
bi("sub", "number minus tensor", "method.__rsub__", [t(), 0.3], (a) => O.sub(0.3, a));
bi("div", "number over tensor", "method.__rtruediv__", [I.t([5], dt, { awayFromZero: 0.2 }), 2], (a) =>
  O.div(2, a),
);
// Negative constants inlined into the kernels' expressions (the gradient -a / (b * b) with a = -2).
bi(
  "div",
  "negative number over tensor",
  "method.__rtruediv__",
  [I.t([5], dt, { awayFromZero: 0.2 }), -2],
  (a) => O.div(-2, a),
);
bi("sub", "negative number minus tensor", "method.__rsub__", [t(), -0.3], (a) => O.sub(-0.3, a));
bi("pow", "number to a tensor power", "method.__rpow__", [t(), 2], (a) => O.pow(2, a));
bi("pow", "pow with zero base", "torch.pow", [vals([0, 0, 0, 2]), vals([0, 2, -1, 0])], (a, b) =>
  O.pow(a, b),
);
bi(
  "pow",
  "pow of a negative base to integer exponents",
  "torch.pow",
  [vals([-2, -3, -0.5]), vals([2, 3, -1])],
  (a, b) => O.pow(a, b),
);
bi("xlogy", "xlogy with zeros", "torch.xlogy", [vals([0, 0, 1.5, 2, 0.5]), vals([0, 2, 0.5, 3, 0])], (a, b) =>
  O.xlogy(a, b),
);
bi("maximum", "maximum ties", "torch.maximum", [vals([1, 2, 3]), vals([1, 0, 3])], (a, b) => O.maximum(a, b));
bi("minimum", "minimum ties", "torch.minimum", [vals([1, 2, 3]), vals([1, 0, 3])], (a, b) => O.minimum(a, b));
bi("mul", "x * x accumulates both sides", "torch.square", [I.t([4], dt)], (x) => O.mul(x, x));
const cmp = [
  ["eq", O.eq, "torch.eq"],
  ["ne", O.ne, "torch.ne"],
  ["lt", O.lt, "torch.lt"],
  ["le", O.le, "torch.le"],
  ["gt", O.gt, "torch.gt"],
  ["ge", O.ge, "torch.ge"],
] as const;
for (const [name, f, fn] of cmp) {
  bi(
    name,
    `${name} with ties and broadcasting`,
    fn,
    [vals([1, 2, 3, 2]), I.t([1], dt, { values: [2] })],
    (a, b) => f(a, b),
  );
  bi(name, `${name} against a number`, fn, [vals([1, 2, 3]), 2], (a) => f(a, 2));
}
bi("where", "where", "torch.where", [I.t([2, 3], "bool"), t(), t({}, [3])], (c, a, b) => O.where(c, a, b));
bi("where", "where with a number", "torch.where", [I.t([4], "bool"), I.t([4], dt), 0], (c, a) =>
  O.where(c, a, 0),
);
bi(
  "cast",
  "cast to float32 from int64 then scaled",
  "torch.mul",
  [I.t([4], "int64", { lo: -5, hi: 5 }), 0.5],
  (a) => O.mul(a, 0.5),
);
bi(
  "cast",
  "int64 arithmetic stays exact",
  "torch.add",
  [I.t([4], "int64", { lo: -50, hi: 50 }), I.t([4], "int64", { lo: -50, hi: 50 })],
  (a, b) => O.add(a, b),
);
describeGpuParity("binary ops, comparisons and where on WebGPU match PyTorch and the CPU", binary, device);

// The activations of torch.nn.functional, on their own inputs so the cases above keep theirs.
const activations = new CaseList();
const A = new Inputs(20261205);
for (const c of ACTIVATION_CASES) {
  covered.add(c.op);
  activations.add(
    c.name,
    c.fn,
    [A.t([c.values.length], dt, { values: c.values })],
    (x) => runActivation(c, x),
    {
      kwargs: c.kwargs,
    },
  );
}
describeGpuParity("activations on WebGPU match PyTorch and the CPU", activations, device);

describe("coverage", () => {
  it("every declared unary and binary op has a GPU parity case, here or as its kind's samples", () => {
    // An op declared as a kind brings samples, which the completeness test runs on WebGPU against PyTorch.
    const sampled = Object.values(O.UNARY).filter((d) => d.kind?.samples.length);
    const declared = [...Object.keys(O.UNARY), ...Object.keys(O.BINARY)];
    expect(declared.filter((d) => !covered.has(d) && !sampled.some((s) => s.name === d))).toEqual([]);
  });
});
