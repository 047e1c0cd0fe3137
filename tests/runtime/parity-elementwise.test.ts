// Elementwise ops, broadcasting, 0-d scalars and type promotion against PyTorch: outputs and gradients.
import { type DType, ops as O } from "../../src/runtime/index.ts";
import { ACTIVATION_CASES, runActivation } from "../helpers/activation-cases.ts";
import { CaseList, describeParity, Inputs } from "../helpers/torch.ts";

const FLOATS: DType[] = ["float32", "float64"];
const I = new Inputs(20240601);

// ---- unary ops ------------------------------------------------------------------------------------------
const unary = new CaseList();
for (const dt of FLOATS) {
  const t = (o: Parameters<Inputs["t"]>[2] = {}, shape = [2, 3]) => I.t(shape, dt, o);
  const special = (values: number[]) => I.t([values.length], dt, { values });
  unary.add(`neg ${dt}`, "torch.neg", [t()], (x) => O.neg(x));
  unary.add(`abs ${dt} (with zeros)`, "torch.abs", [special([-2, -0.5, 0, 0.5, 3])], (x) => O.abs(x));
  unary.add(`sign ${dt}`, "torch.sign", [special([-2, -0.5, 0, 0.5, 3])], (x) => O.sign(x));
  unary.add(`exp ${dt}`, "torch.exp", [t({ lo: -5, hi: 5 })], (x) => O.exp(x));
  unary.add(`log ${dt}`, "torch.log", [t({ lo: 0.01, hi: 10 })], (x) => O.log(x));
  unary.add(`log at 0 and negative ${dt}`, "torch.log", [special([0, -1, 1])], (x) => O.log(x));
  unary.add(`log1p ${dt}`, "torch.log1p", [t({ lo: -0.9, hi: 3 })], (x) => O.log1p(x));
  unary.add(`sqrt ${dt}`, "torch.sqrt", [t({ lo: 0.01, hi: 9 })], (x) => O.sqrt(x));
  unary.add(`sigmoid ${dt}`, "torch.sigmoid", [t({ lo: -6, hi: 6 })], (x) => O.sigmoid(x));
  unary.add(`sigmoid extremes ${dt}`, "torch.sigmoid", [special([-800, -50, 0, 50, 800])], (x) =>
    O.sigmoid(x),
  );
  unary.add(`logsigmoid ${dt}`, "F.logsigmoid", [special([-200, -5, -0.5, 0, 0.5, 5, 200])], (x) =>
    O.logSigmoid(x),
  );
  unary.add(`tanh ${dt}`, "torch.tanh", [t({ lo: -4, hi: 4 })], (x) => O.tanh(x));
  unary.add(`tanh extremes ${dt}`, "torch.tanh", [special([-50, -20, 20, 50])], (x) => O.tanh(x));
  unary.add(`relu ${dt}`, "torch.relu", [special([-1, -0.25, 0, 0.25, 2])], (x) => O.relu(x));
  unary.add(`leaky_relu default ${dt}`, "F.leaky_relu", [special([-1, -0.25, 0, 0.25, 2])], (x) =>
    O.leakyRelu(x),
  );
  unary.add(`leaky_relu slope 0.2 ${dt}`, "F.leaky_relu", [t(), 0.2], (x) => O.leakyRelu(x, 0.2));
  unary.add(`gelu ${dt}`, "F.gelu", [t({ lo: -5, hi: 5 }, [3, 4])], (x) => O.gelu(x));
  unary.add(`gelu tanh ${dt}`, "F.gelu", [t({ lo: -5, hi: 5 }, [3, 4])], (x) => O.gelu(x, "tanh"), {
    kwargs: { approximate: "tanh" },
  });
  unary.add(`gelu far tails ${dt}`, "F.gelu", [special([-30, -8, -1e-4, 0, 1e-4, 8, 30])], (x) => O.gelu(x));
  unary.add(`softplus ${dt}`, "F.softplus", [t({ lo: -30, hi: 30 }, [3, 4])], (x) => O.softplus(x));
  unary.add(
    `softplus beta 2 threshold 5 ${dt}`,
    "F.softplus",
    [special([-4, -1, 0, 2.4, 2.5, 2.6, 10])],
    (x) => O.softplus(x, 2, 5),
    { kwargs: { beta: 2, threshold: 5 } },
  );
  unary.add(`clamp min max ${dt}`, "torch.clamp", [special([-3, -1, -0.5, 0, 0.5, 1, 3]), -1, 1], (x) =>
    O.clamp(x, -1, 1),
  );
  unary.add(`clamp min only ${dt}`, "torch.clamp", [t()], (x) => O.clamp(x, 0.1), { kwargs: { min: 0.1 } });
  unary.add(`clamp max only ${dt}`, "torch.clamp", [t()], (x) => O.clamp(x, null, -0.2), {
    kwargs: { max: -0.2 },
  });
  unary.add(`clamp min > max ${dt}`, "torch.clamp", [t(), 1, -1], (x) => O.clamp(x, 1, -1));
  for (const e of [2, 3, 0.5, -1, -2, 0, 2.5, 1])
    unary.add(`pow scalar exponent ${e} ${dt}`, "torch.pow", [t({ lo: 0.2, hi: 3 }), e], (x) => O.pow(x, e));
  unary.add(`pow 2 of negatives ${dt}`, "torch.pow", [special([-3, -0.5, 0, 1.5]), 2], (x) => O.pow(x, 2));
  unary.add(`pow 3 of negatives ${dt}`, "torch.pow", [special([-3, -0.5, 0, 1.5]), 3], (x) => O.pow(x, 3));
  unary.add(`pow 0.5 at 0 ${dt}`, "torch.pow", [special([0, 1, 4]), 0.5], (x) => O.pow(x, 0.5));
  unary.add(`pow 0 at 0 ${dt}`, "torch.pow", [special([0, 1, -2]), 0], (x) => O.pow(x, 0));
  unary.add(`0-d exp ${dt}`, "torch.exp", [I.t([], dt)], (x) => O.exp(x));
  unary.add(`0-d tanh ${dt}`, "torch.tanh", [I.t([], dt)], (x) => O.tanh(x));
}
// Integer inputs: torch computes these in the default float dtype or keeps the integer type.
unary.add("exp int64 gives float32", "torch.exp", [I.t([4], "int64", { lo: -3, hi: 3 })], (x) => O.exp(x));
unary.add("sqrt int32 gives float32", "torch.sqrt", [I.t([4], "int32", { lo: 0, hi: 9 })], (x) => O.sqrt(x));
unary.add("neg int64 stays int64", "torch.neg", [I.t([4], "int64", { lo: -9, hi: 9 })], (x) => O.neg(x));
unary.add("abs int32 stays int32", "torch.abs", [I.t([4], "int32", { lo: -9, hi: 9 })], (x) => O.abs(x));
unary.add("sigmoid int64 gives float32", "torch.sigmoid", [I.t([3], "int64", { lo: -3, hi: 3 })], (x) =>
  O.sigmoid(x),
);
unary.add("relu int64 stays int64", "torch.relu", [I.t([4], "int64", { lo: -9, hi: 9 })], (x) => O.relu(x));
unary.add("clamp int64 stays int64", "torch.clamp", [I.t([5], "int64", { lo: -9, hi: 9 }), -2, 3], (x) =>
  O.clamp(x, -2, 3),
);
unary.add("pow int64 by 2 stays int64", "torch.pow", [I.t([4], "int64", { lo: -9, hi: 9 }), 2], (x) =>
  O.pow(x, 2),
);
unary.add("sign int64 stays int64", "torch.sign", [I.t([4], "int64", { lo: -3, hi: 3 })], (x) => O.sign(x));
// float16 on the CPU: torch 1.13 has only a few half kernels (exp, tanh, sigmoid... are refused there).
for (const [fn, impl] of [
  ["torch.neg", O.neg],
  ["torch.abs", O.abs],
] as const)
  unary.add(
    `${fn} float16`,
    fn,
    [I.t([6], "float16", { lo: -3, hi: 3, requiresGrad: false })],
    (x) => impl(x),
    {
      exact: true,
    },
  );
describeParity("unary ops match PyTorch", unary);

// ---- binary ops with broadcasting and 0-d operands ------------------------------------------------------
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
  [[], []],
  [
    [1, 4],
    [3, 1],
  ],
];
const binary = new CaseList();
const EXACT = { exact: true };
for (const dt of FLOATS)
  for (const [sa, sb] of SHAPES) {
    const tag = `${dt} [${sa}] and [${sb}]`;
    binary.add(`add ${tag}`, "torch.add", [I.t(sa, dt), I.t(sb, dt)], (a, b) => O.add(a, b), EXACT);
    binary.add(`sub ${tag}`, "torch.sub", [I.t(sa, dt), I.t(sb, dt)], (a, b) => O.sub(a, b), EXACT);
    binary.add(`mul ${tag}`, "torch.mul", [I.t(sa, dt), I.t(sb, dt)], (a, b) => O.mul(a, b), EXACT);
    binary.add(
      `div ${tag}`,
      "torch.div",
      [I.t(sa, dt), I.t(sb, dt, { awayFromZero: 0.3 })],
      (a, b) => O.div(a, b),
      EXACT,
    );
    binary.add(
      `pow tensor exponent ${tag}`,
      "torch.pow",
      [I.t(sa, dt, { lo: 0.2, hi: 3 }), I.t(sb, dt, { lo: -2, hi: 2 })],
      (a, b) => O.pow(a, b),
    );
    binary.add(`maximum ${tag}`, "torch.maximum", [I.t(sa, dt), I.t(sb, dt)], (a, b) => O.maximum(a, b));
    binary.add(`minimum ${tag}`, "torch.minimum", [I.t(sa, dt), I.t(sb, dt)], (a, b) => O.minimum(a, b));
  }
for (const dt of FLOATS) {
  const x = () => I.t([2, 3], dt);
  binary.add(`add number ${dt}`, "torch.add", [x(), 2.5], (a) => O.add(a, 2.5));
  binary.add(`mul number ${dt}`, "torch.mul", [x(), 0.1], (a) => O.mul(a, 0.1));
  binary.add(`sub number ${dt}`, "torch.sub", [x(), 0.3], (a) => O.sub(a, 0.3));
  binary.add(`number minus tensor ${dt}`, "method.__rsub__", [x(), 0.3], (a) => O.sub(0.3, a));
  binary.add(`div by number ${dt}`, "torch.div", [x(), 3], (a) => O.div(a, 3));
  binary.add(
    `number over tensor ${dt}`,
    "method.__rtruediv__",
    [I.t([5], dt, { awayFromZero: 0.2 }), 2],
    (a) => O.div(2, a),
  );
  binary.add(`number to a tensor power ${dt}`, "method.__rpow__", [x(), 2], (a) => O.pow(2, a));
  binary.add(
    `xlogy with zeros ${dt}`,
    "torch.xlogy",
    [I.t([5], dt, { values: [0, 0, 1.5, 2, 0.5] }), I.t([5], dt, { values: [0, 2, 0.5, 3, 0] })],
    (a, b) => O.xlogy(a, b),
  );
  binary.add(
    `pow with zero base ${dt}`,
    "torch.pow",
    [I.t([4], dt, { values: [0, 0, 0, 2] }), I.t([4], dt, { values: [0, 2, -1, 0] })],
    (a, b) => O.pow(a, b),
  );
  binary.add(
    `maximum and minimum ties ${dt}`,
    "torch.maximum",
    [I.t([3], dt, { values: [1, 2, 3] }), I.t([3], dt, { values: [1, 0, 3] })],
    (a, b) => O.maximum(a, b),
  );
  binary.add(
    `minimum ties ${dt}`,
    "torch.minimum",
    [I.t([3], dt, { values: [1, 2, 3] }), I.t([3], dt, { values: [1, 0, 3] })],
    (a, b) => O.minimum(a, b),
  );
}
// One tensor on both sides of an op: its gradient collects both contributions.
binary.add("x * x accumulates both sides", "torch.square", [I.t([4], "float64")], (x) => O.mul(x, x));
describeParity("binary ops and broadcasting match PyTorch", binary);

// ---- type promotion -------------------------------------------------------------------------------------
const promo = new CaseList();
const P = (shape: number[], dt: DType, requiresGrad = false) =>
  I.t(shape, dt, { lo: -5, hi: 5, awayFromZero: 0.5, requiresGrad });
const pairs: [DType, DType, number[], number[]][] = [
  ["int64", "float32", [3], [3]],
  ["int32", "float64", [2, 2], [2]],
  ["float32", "float64", [3], [3]],
  ["float16", "float32", [3], [3]],
  ["float16", "float16", [4], [4]],
  ["int32", "int64", [3], [3]],
  ["int32", "int32", [3], [3]],
  ["bool", "int64", [3], [3]],
  ["bool", "float32", [3], [3]],
  ["bool", "bool", [4], [4]],
  ["float32", "float64", [3], []],
  ["int64", "float64", [3], []],
  ["int32", "int64", [3], []],
  ["float16", "float64", [3], []],
  ["float64", "float16", [], [3]],
];
for (const [da, db, sa, sb] of pairs) {
  const tag = `${da}[${sa}] ${db}[${sb}]`;
  const exact = { exact: true };
  promo.add(`add ${tag}`, "torch.add", [P(sa, da), P(sb, db)], (a, b) => O.add(a, b), exact);
  promo.add(`mul ${tag}`, "torch.mul", [P(sa, da), P(sb, db)], (a, b) => O.mul(a, b), exact);
  if (da === "bool" || db === "bool")
    promo.add(`sub ${tag} is refused`, "torch.sub", [P(sa, da), P(sb, db)], (a, b) => O.sub(a, b), {
      error: /Subtraction.*bool/,
    });
  else promo.add(`sub ${tag}`, "torch.sub", [P(sa, da), P(sb, db)], (a, b) => O.sub(a, b), exact);
  promo.add(`div ${tag}`, "torch.div", [P(sa, da), P(sb, db)], (a, b) => O.div(a, b), exact);
  promo.add(`lt ${tag}`, "torch.lt", [P(sa, da), P(sb, db)], (a, b) => O.lt(a, b));
  promo.add(`eq ${tag}`, "torch.eq", [P(sa, da), P(sb, db)], (a, b) => O.eq(a, b));
}
promo.add("int64 + 2.5 is float32", "torch.add", [P([3], "int64"), 2.5], (a) => O.add(a, 2.5));
promo.add("int32 + 3 stays int32", "torch.add", [P([3], "int32"), 3], (a) => O.add(a, 3));
promo.add("int32 * 0.5 is float32", "torch.mul", [P([3], "int32"), 0.5], (a) => O.mul(a, 0.5));
promo.add("bool + 1 is int64", "torch.add", [P([3], "bool"), 1], (a) => O.add(a, 1));
promo.add("float16 * 0.1 stays float16", "torch.mul", [P([3], "float16"), 0.1], (a) => O.mul(a, 0.1), {
  exact: true,
});
promo.add(
  "float32 * 0.1 rounds 0.1 to float32",
  "torch.mul",
  [P([3], "float32"), 0.1],
  (a) => O.mul(a, 0.1),
  {
    exact: true,
  },
);
promo.add(
  "bool + bool is logical or",
  "torch.add",
  [I.t([4], "bool", { values: [1, 1, 0, 0] }), I.t([4], "bool", { values: [1, 0, 1, 0] })],
  (a, b) => O.add(a, b),
);
promo.add(
  "bool * bool is logical and",
  "torch.mul",
  [I.t([4], "bool", { values: [1, 1, 0, 0] }), I.t([4], "bool", { values: [1, 0, 1, 0] })],
  (a, b) => O.mul(a, b),
);
promo.add("int64 / int64 is float32", "torch.div", [P([4], "int64"), P([4], "int64")], (a, b) => O.div(a, b));
promo.add("int32 / 4 is float32", "torch.div", [P([4], "int32"), 4], (a) => O.div(a, 4));
promo.add("int32 overflow wraps", "torch.mul", [I.t([2], "int32", { values: [2147483647, -5] }), 2], (a) =>
  O.mul(a, 2),
);
promo.add(
  "grad flows back in each input's dtype",
  "torch.mul",
  [P([3], "float32", true), P([3], "float64", true)],
  (a, b) => O.mul(a, b),
);
promo.add(
  "float16 grads with float32",
  "torch.add",
  [P([3], "float16", true), P([3], "float32", true)],
  (a, b) => O.add(a, b),
);
promo.add(
  "float32 and float64 0-d grads",
  "torch.mul",
  [P([3], "float32", true), P([], "float64", true)],
  (a, b) => O.mul(a, b),
);
describeParity("type promotion matches PyTorch", promo);

// ---- comparisons and where ------------------------------------------------------------------------------
const cmp = new CaseList();
const ties = (shape: number[], dt: DType) => {
  const n = shape.reduce((p, d) => p * d, 1);
  return I.t(shape, dt, {
    values: Array.from({ length: n }, (_, i) => ((i * 5) % 3) - 1),
    requiresGrad: false,
  });
};
for (const [name, fn, impl] of [
  ["eq", "torch.eq", O.eq],
  ["ne", "torch.ne", O.ne],
  ["lt", "torch.lt", O.lt],
  ["le", "torch.le", O.le],
  ["gt", "torch.gt", O.gt],
  ["ge", "torch.ge", O.ge],
] as const) {
  cmp.add(`${name} with ties`, fn, [ties([2, 3], "float32"), ties([3], "float32")], (a, b) => impl(a, b));
  cmp.add(`${name} int vs float`, fn, [ties([4], "int64"), ties([4], "float64")], (a, b) => impl(a, b));
  cmp.add(`${name} with a number`, fn, [ties([5], "float32"), 0], (a) => impl(a, 0));
  cmp.add(`${name} 0-d`, fn, [ties([], "float64"), ties([3], "float64")], (a, b) => impl(a, b));
}
cmp.add("eq with nan", "torch.eq", [I.t([3], "float32", { values: [Number.NaN, 1, 2] }), 1], (a) =>
  O.eq(a, 1),
);
cmp.add("ne with nan", "torch.ne", [I.t([3], "float32", { values: [Number.NaN, 1, 2] }), 1], (a) =>
  O.ne(a, 1),
);
for (const dt of FLOATS) {
  cmp.add(`where ${dt}`, "torch.where", [I.t([2, 3], "bool"), I.t([2, 3], dt), I.t([2, 3], dt)], (c, a, b) =>
    O.where(c, a, b),
  );
  cmp.add(
    `where broadcast ${dt}`,
    "torch.where",
    [I.t([2, 1], "bool"), I.t([3], dt), I.t([2, 3], dt)],
    (c, a, b) => O.where(c, a, b),
  );
  cmp.add(`where 0-d branch ${dt}`, "torch.where", [I.t([4], "bool"), I.t([], dt), I.t([4], dt)], (c, a, b) =>
    O.where(c, a, b),
  );
  cmp.add(`where with a number ${dt}`, "torch.where", [I.t([4], "bool"), I.t([4], dt), 0.5], (c, a) =>
    O.where(c, a, 0.5),
  );
}
cmp.add(
  "where float32 and float64 promote",
  "torch.where",
  [I.t([3], "bool"), I.t([3], "float32"), I.t([3], "float64")],
  (c, a, b) => O.where(c, a, b),
);
cmp.add(
  "where int and float",
  "torch.where",
  [I.t([3], "bool"), I.t([3], "int64"), I.t([3], "float32")],
  (c, a, b) => O.where(c, a, b),
);
describeParity("comparisons and where match PyTorch", cmp);

// Integer inputs: computed in float32, kept integral, or refused, exactly where torch does each.
const ints = new CaseList();
const iv = () => I.t([3], "int64", { values: [1, 2, -3] });
const refused = /not implemented for int64/;
ints.add("gelu refuses int64", "F.gelu", [iv()], (x) => O.gelu(x), { error: refused });
ints.add("leaky_relu refuses int64", "F.leaky_relu", [iv()], (x) => O.leakyRelu(x), { error: refused });
ints.add("softplus refuses int64", "F.softplus", [iv()], (x) => O.softplus(x), { error: refused });
ints.add("logsigmoid refuses int64", "F.logsigmoid", [iv()], (x) => O.logSigmoid(x), { error: refused });
ints.add("softmax refuses int64", "F.softmax", [iv(), 0], (x) => O.softmax(x, 0), { error: refused });
ints.add("log_softmax refuses int64", "F.log_softmax", [iv(), 0], (x) => O.logSoftmax(x, 0), {
  error: refused,
});
ints.add("logsumexp of int64 is float32", "torch.logsumexp", [iv(), 0], (x) => O.logsumexp(x, 0));
ints.add("log1p of int64 is float32", "torch.log1p", [iv()], (x) => O.log1p(x));
ints.add("xlogy of int64 is float32", "torch.xlogy", [iv(), iv()], (a, b) => O.xlogy(a, b));
ints.add("pow of int64 to int64", "torch.pow", [iv(), I.t([3], "int64", { values: [0, 3, 2] })], (a, b) =>
  O.pow(a, b),
);
ints.add("pow of int64 to -1 is refused", "torch.pow", [iv(), -1], (a) => O.pow(a, -1), {
  error: /negative integer powers/,
});
ints.add(
  "pow of int64 to a negative int64 tensor truncates as torch",
  "torch.pow",
  [I.t([4], "int64", { values: [1, 2, -3, -1] }), I.t([4], "int64", { values: [-2, -1, -1, -3] })],
  (a, b) => O.pow(a, b),
);
ints.add(
  "pow of int64 to 0.5 is float32",
  "torch.pow",
  [I.t([3], "int64", { values: [1, 4, 9] }), 0.5],
  (a) => O.pow(a, 0.5),
);
ints.add(
  "maximum of int64 and float32",
  "torch.maximum",
  [iv(), I.t([3], "float32", { values: [0.5, 1, 1] })],
  (a, b) => O.maximum(a, b),
);
ints.add("matmul of int64", "torch.matmul", [iv(), iv()], (a, b) => O.matmul(a, b));
describeParity("integer inputs follow PyTorch", ints);

// ---- activations of torch.nn.functional (their own inputs, so the cases above keep theirs) ---------------
const activations = new CaseList();
const A = new Inputs(20261205);
for (const dt of FLOATS)
  for (const c of ACTIVATION_CASES)
    activations.add(
      `${c.name} ${dt}`,
      c.fn,
      [A.t([c.values.length], dt, { values: c.values })],
      (x) => runActivation(c, x),
      { kwargs: c.kwargs },
    );
// Integer inputs where torch keeps them (hardtanh is a clamp) or divides in float (softsign).
for (const op of ["hardtanh", "relu6", "softsign", "tanhshrink"])
  activations.add(`${op} int64`, `F.${op}`, [A.t([5], "int64", { lo: -9, hi: 9 })], (x) =>
    O.unaryOp(op, x, { min_val: -1, max_val: 1 }),
  );
// torch has no integer kernel for the rest: both refuse.
activations.add(
  "elu int64 is refused",
  "F.elu",
  [A.t([3], "int64", { lo: -3, hi: 3 })],
  (x) => O.unaryOp("elu", x, { alpha: 1 }),
  { error: /not implemented for int64/ },
);
// Arguments torch refuses: both refuse, with torch's message.
activations.add(
  "celu alpha 0 is refused",
  "F.celu",
  [A.t([3], "float32", { lo: -2, hi: 2 })],
  (x) => O.unaryOp("celu", x, { alpha: 0 }),
  { kwargs: { alpha: 0 }, error: /alpha cannot be 0 for CELU/ },
);
activations.add(
  "softshrink with a negative lambd is refused",
  "F.softshrink",
  [A.t([3], "float32", { lo: -2, hi: 2 })],
  (x) => O.unaryOp("softshrink", x, { lambd: -1 }),
  { kwargs: { lambd: -1 }, error: /lambda must be greater or equal to 0, but found to be -1\./ },
);
describeParity("activations match PyTorch", activations);
