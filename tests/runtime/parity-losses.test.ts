// Every loss, with every reduction and option, against torch.nn.functional: values and gradients.

import { describe, expect, it } from "vitest";
import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  type DType,
  huberLoss,
  klDiv,
  l1Loss,
  mseLoss,
  nllLoss,
  smoothL1Loss,
} from "../../src/runtime/index.ts";
import {
  type CallAnswer,
  type CallCase,
  CaseList,
  decodeNum,
  describeParity,
  Inputs,
  requestTorch,
  type TensorSpec,
  toTensor,
} from "../helpers/torch.ts";

const FLOATS: DType[] = ["float32", "float64"];
const REDUCTIONS = ["none", "mean", "sum"] as const;
const I = new Inputs(4242);

// ---- regression losses ----------------------------------------------------------------------------------
const reg = new CaseList();
for (const dt of FLOATS)
  for (const reduction of REDUCTIONS) {
    const tag = `${reduction} ${dt}`;
    const pair = (shape = [4, 3], targetGrad = true) => [
      I.t(shape, dt, { lo: -3, hi: 3 }),
      I.t(shape, dt, { lo: -3, hi: 3, requiresGrad: targetGrad }),
    ];
    reg.add(`l1_loss ${tag}`, "F.l1_loss", pair(), (x, y) => l1Loss(x, y, { reduction }), {
      kwargs: { reduction },
    });
    reg.add(`mse_loss ${tag}`, "F.mse_loss", pair(), (x, y) => mseLoss(x, y, { reduction }), {
      kwargs: { reduction },
    });
    reg.add(`mse_loss 0-d ${tag}`, "F.mse_loss", pair([]), (x, y) => mseLoss(x, y, { reduction }), {
      kwargs: { reduction },
    });
    reg.add(
      `l1_loss with ties (zero difference) ${tag}`,
      "F.l1_loss",
      [I.t([3], dt, { values: [1, 2, 3] }), I.t([3], dt, { values: [1, 0, 3] })],
      (x, y) => l1Loss(x, y, { reduction }),
      { kwargs: { reduction } },
    );
    for (const beta of [1, 0.5, 2, 0]) {
      const kwargs = { reduction, beta };
      reg.add(
        `smooth_l1_loss beta=${beta} ${tag}`,
        "F.smooth_l1_loss",
        pair(),
        (x, y) => smoothL1Loss(x, y, kwargs),
        // torch's own kernel, op for op (pointwise-loss.ts): every unreduced loss is bit-identical.
        { kwargs, exact: reduction === "none" },
      );
    }
    reg.add(
      `smooth_l1_loss default beta at |d| = beta and 0 ${tag}`,
      "F.smooth_l1_loss",
      [I.t([5], dt, { values: [1, -1, 0.5, 0, 3] }), I.t([5], dt, { values: [0, 0, 0, 0, 0] })],
      (x, y) => smoothL1Loss(x, y, { reduction }),
      { kwargs: { reduction } },
    );
    for (const delta of [1, 0.5, 2.5]) {
      const kwargs = { reduction, delta };
      reg.add(`huber_loss delta=${delta} ${tag}`, "F.huber_loss", pair(), (x, y) => huberLoss(x, y, kwargs), {
        kwargs,
        exact: reduction === "none",
      });
    }
    reg.add(
      `huber_loss at |d| = delta ${tag}`,
      "F.huber_loss",
      [I.t([4], dt, { values: [2, -2, 1, 0] }), I.t([4], dt, { values: [0, 0, 0, 0] })],
      (x, y) => huberLoss(x, y, { reduction, delta: 2 }),
      { kwargs: { reduction, delta: 2 } },
    );
  }
reg.add("l1_loss defaults to mean", "F.l1_loss", [I.t([5]), I.t([5])], (x, y) => l1Loss(x, y));
reg.add(
  "l1_loss float16",
  "F.l1_loss",
  [I.t([4], "float16", { requiresGrad: false }), I.t([4], "float16")],
  (x, y) => l1Loss(x, y),
);
reg.add(
  "mse_loss broadcasts the target as torch does",
  "F.mse_loss",
  [I.t([4, 3], "float64"), I.t([3], "float64")],
  (x, y) => mseLoss(x, y),
);
reg.add(
  "mse_loss unknown reduction",
  "F.mse_loss",
  [I.t([3]), I.t([3])],
  (x, y) => mseLoss(x, y, { reduction: "avg" }),
  {
    kwargs: { reduction: "avg" },
    error: /'avg' is not a valid value for reduction/,
  },
);
reg.add(
  "smooth_l1_loss negative beta",
  "F.smooth_l1_loss",
  [I.t([3]), I.t([3])],
  (x, y) => smoothL1Loss(x, y, { beta: -1 }),
  {
    kwargs: { beta: -1 },
    error: /negative values for beta/,
  },
);
describeParity("regression losses match PyTorch", reg);

// ---- binary cross entropy -------------------------------------------------------------------------------
const bce = new CaseList();
for (const dt of FLOATS)
  for (const reduction of REDUCTIONS) {
    const tag = `${reduction} ${dt}`;
    const probs = (shape = [4, 3]) => I.t(shape, dt, { lo: 0.02, hi: 0.98 });
    const targets = (shape = [4, 3], requiresGrad = false) => I.t(shape, dt, { lo: 0, hi: 1, requiresGrad });
    bce.add(
      `binary_cross_entropy ${tag}`,
      "F.binary_cross_entropy",
      [probs(), targets([4, 3], true)],
      (x, y) => binaryCrossEntropy(x, y, { reduction }),
      { kwargs: { reduction } },
    );
    bce.add(
      `binary_cross_entropy with weight ${tag}`,
      "F.binary_cross_entropy",
      [probs(), targets()],
      (x, y, w) => binaryCrossEntropy(x, y, { reduction, weight: w }),
      { kwargs: { reduction, weight: I.t([3], dt, { lo: 0, hi: 2, requiresGrad: false }) } },
    );
    bce.add(
      `binary_cross_entropy at exactly 0 and 1 (log clamped at -100) ${tag}`,
      "F.binary_cross_entropy",
      [I.t([6], dt, { values: [0, 0, 1, 1, 0, 1] }), I.t([6], dt, { values: [0, 1, 0, 1, 0.5, 0.25] })],
      (x, y) => binaryCrossEntropy(x, y, { reduction }),
      { kwargs: { reduction } },
    );
    const logits = (shape = [4, 3]) => I.t(shape, dt, { lo: -6, hi: 6 });
    // Declared as torch's kernel computes it (pointwise-loss.ts): float32 values are bit-identical; float64
    // differs by an ulp where V8's exp and log round differently from glibc's.
    bce.add(
      `binary_cross_entropy_with_logits ${tag}`,
      "F.binary_cross_entropy_with_logits",
      [logits(), targets([4, 3], true)],
      (x, y) => binaryCrossEntropyWithLogits(x, y, { reduction }),
      { kwargs: { reduction }, exact: dt === "float32" },
    );
    bce.add(
      `binary_cross_entropy_with_logits weight ${tag}`,
      "F.binary_cross_entropy_with_logits",
      [logits(), targets()],
      (x, y, w) => binaryCrossEntropyWithLogits(x, y, { reduction, weight: w }),
      {
        kwargs: { reduction, weight: I.t([4, 1], dt, { lo: 0, hi: 2, requiresGrad: false }) },
        exact: dt === "float32",
      },
    );
    bce.add(
      `binary_cross_entropy_with_logits pos_weight ${tag}`,
      "F.binary_cross_entropy_with_logits",
      [logits(), targets()],
      (x, y, pw) => binaryCrossEntropyWithLogits(x, y, { reduction, pos_weight: pw }),
      {
        kwargs: { reduction, pos_weight: I.t([3], dt, { lo: 0.5, hi: 3, requiresGrad: false }) },
        exact: dt === "float32",
      },
    );
    bce.add(
      `binary_cross_entropy_with_logits weight and pos_weight ${tag}`,
      "F.binary_cross_entropy_with_logits",
      [logits(), targets()],
      (x, y, w, pw) => binaryCrossEntropyWithLogits(x, y, { reduction, weight: w, pos_weight: pw }),
      {
        exact: dt === "float32",
        kwargs: {
          reduction,
          weight: I.t([3], dt, { lo: 0, hi: 2, requiresGrad: false }),
          pos_weight: I.t([3], dt, { lo: 0.5, hi: 3, requiresGrad: false }),
        },
      },
    );
    bce.add(
      `binary_cross_entropy_with_logits at logits +-200 ${tag}`,
      "F.binary_cross_entropy_with_logits",
      [
        I.t([6], dt, { values: [200, -200, 200, -200, 100, -100] }),
        I.t([6], dt, { values: [1, 0, 0, 1, 0.5, 0.5], requiresGrad: false }),
      ],
      (x, y, pw) => binaryCrossEntropyWithLogits(x, y, { reduction, pos_weight: pw }),
      {
        kwargs: {
          reduction,
          pos_weight: I.t([6], dt, { values: [1, 1, 2, 2, 3, 0.5], requiresGrad: false }),
        },
        exact: dt === "float32",
      },
    );
  }
bce.add(
  "binary_cross_entropy probability above 1",
  "F.binary_cross_entropy",
  [I.t([2], "float32", { values: [0.5, 1.5] }), I.t([2], "float32", { values: [0, 1], requiresGrad: false })],
  (x, y) => binaryCrossEntropy(x, y),
  { error: /between 0 and 1/ },
);
bce.add(
  "binary_cross_entropy negative probability",
  "F.binary_cross_entropy",
  [
    I.t([2], "float32", { values: [-0.1, 0.5] }),
    I.t([2], "float32", { values: [0, 1], requiresGrad: false }),
  ],
  (x, y) => binaryCrossEntropy(x, y),
  { error: /between 0 and 1/ },
);
bce.add(
  "binary_cross_entropy nan probability",
  "F.binary_cross_entropy",
  [
    I.t([2], "float32", { values: [Number.NaN, 0.5] }),
    I.t([2], "float32", { values: [0, 1], requiresGrad: false }),
  ],
  (x, y) => binaryCrossEntropy(x, y),
  { error: /between 0 and 1/ },
);
bce.add(
  "binary_cross_entropy target of another size",
  "F.binary_cross_entropy",
  [I.t([2, 2], "float32", { lo: 0.1, hi: 0.9 }), I.t([4], "float32", { lo: 0, hi: 1, requiresGrad: false })],
  (x, y) => binaryCrossEntropy(x, y),
  { error: /\[4\].*\[2, 2\]/ },
);
bce.add(
  "binary_cross_entropy_with_logits target of another size",
  "F.binary_cross_entropy_with_logits",
  [I.t([2, 2], "float32"), I.t([4], "float32", { lo: 0, hi: 1, requiresGrad: false })],
  (x, y) => binaryCrossEntropyWithLogits(x, y),
  { error: /\[4\].*\[2, 2\]/ },
);
describeParity("binary cross entropy matches PyTorch", bce);

// ---- nll_loss and cross_entropy -------------------------------------------------------------------------
const cls = new CaseList();
const LAYOUTS: { input: number[]; target: number[] }[] = [
  { input: [5, 4], target: [5] },
  { input: [2, 4, 3, 2], target: [2, 3, 2] },
  { input: [3, 4, 5], target: [3, 5] },
  { input: [4], target: [] },
];
for (const dt of FLOATS)
  for (const reduction of REDUCTIONS)
    for (const { input, target } of LAYOUTS) {
      const tag = `[${input}] ${reduction} ${dt}`;
      const C = input.length === 1 ? input[0] : input[1];
      const logp = () => I.t(input, dt, { lo: -4, hi: 0 });
      const logits = () => I.t(input, dt, { lo: -3, hi: 3 });
      const weight = () => I.t([C], dt, { lo: 0.2, hi: 2, requiresGrad: false });
      // Targets with some entries equal to the ignore index (1) where the layout has room for them.
      const t = () => I.classes(target, C);
      const withIgnored = () => {
        const n = target.reduce((p, d) => p * d, 1);
        return I.t(target, "int64", {
          values: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -100 : (i * 7) % C)),
          requiresGrad: false,
        });
      };
      cls.add(`nll_loss ${tag}`, "F.nll_loss", [logp(), t()], (x, y) => nllLoss(x, y, { reduction }), {
        kwargs: { reduction },
      });
      cls.add(
        `nll_loss weight ${tag}`,
        "F.nll_loss",
        [logp(), t()],
        (x, y, w) => nllLoss(x, y, { reduction, weight: w }),
        {
          kwargs: { reduction, weight: weight() },
        },
      );
      cls.add(
        `nll_loss ignore_index 1 and weight ${tag}`,
        "F.nll_loss",
        [logp(), t()],
        (x, y, w) => nllLoss(x, y, { reduction, weight: w, ignore_index: 1 }),
        { kwargs: { reduction, weight: weight(), ignore_index: 1 } },
      );
      if (input.length > 1)
        cls.add(
          `nll_loss default ignore_index -100 ${tag}`,
          "F.nll_loss",
          [logp(), withIgnored()],
          (x, y) => nllLoss(x, y, { reduction }),
          { kwargs: { reduction } },
        );
      cls.add(
        `cross_entropy ${tag}`,
        "F.cross_entropy",
        [logits(), t()],
        (x, y) => crossEntropy(x, y, { reduction }),
        {
          kwargs: { reduction },
        },
      );
      cls.add(
        `cross_entropy weight ${tag}`,
        "F.cross_entropy",
        [logits(), t()],
        (x, y, w) => crossEntropy(x, y, { reduction, weight: w }),
        { kwargs: { reduction, weight: weight() } },
      );
      for (const ls of [0.1, 0.35]) {
        cls.add(
          `cross_entropy label_smoothing ${ls} ${tag}`,
          "F.cross_entropy",
          [logits(), t()],
          (x, y) => crossEntropy(x, y, { reduction, label_smoothing: ls }),
          { kwargs: { reduction, label_smoothing: ls } },
        );
        cls.add(
          `cross_entropy label_smoothing ${ls} weight ignore_index ${tag}`,
          "F.cross_entropy",
          [logits(), t()],
          (x, y, w) => crossEntropy(x, y, { reduction, weight: w, ignore_index: 2, label_smoothing: ls }),
          { kwargs: { reduction, weight: weight(), ignore_index: 2, label_smoothing: ls } },
        );
        cls.add(
          `cross_entropy probabilities label_smoothing ${ls} ${tag}`,
          "F.cross_entropy",
          [logits(), I.probs(input, input.length === 1 ? 0 : 1, dt, true)],
          (x, y) => crossEntropy(x, y, { reduction, label_smoothing: ls }),
          { kwargs: { reduction, label_smoothing: ls } },
        );
      }
      if (input.length > 1)
        cls.add(
          `cross_entropy default ignore_index with weight ${tag}`,
          "F.cross_entropy",
          [logits(), withIgnored()],
          (x, y, w) => crossEntropy(x, y, { reduction, weight: w }),
          { kwargs: { reduction, weight: weight() } },
        );
      cls.add(
        `cross_entropy class probabilities ${tag}`,
        "F.cross_entropy",
        [logits(), I.probs(input, input.length === 1 ? 0 : 1, dt, true)],
        (x, y) => crossEntropy(x, y, { reduction }),
        { kwargs: { reduction } },
      );
      cls.add(
        `cross_entropy class probabilities weight ${tag}`,
        "F.cross_entropy",
        [logits(), I.probs(input, input.length === 1 ? 0 : 1, dt)],
        (x, y, w) => crossEntropy(x, y, { reduction, weight: w }),
        { kwargs: { reduction, weight: weight() } },
      );
      cls.add(
        `cross_entropy large logits ${tag}`,
        "F.cross_entropy",
        [I.t(input, dt, { lo: -1000, hi: 1000 }), t()],
        (x, y) => crossEntropy(x, y, { reduction }),
        { kwargs: { reduction } },
      );
    }
for (const reduction of REDUCTIONS) {
  const allIgnored = () => I.t([3], "int64", { values: [-100, -100, -100], requiresGrad: false });
  cls.add(
    `nll_loss with every target ignored ${reduction}`,
    "F.nll_loss",
    [I.t([3, 4], "float64"), allIgnored()],
    (x, y) => nllLoss(x, y, { reduction }),
    { kwargs: { reduction } },
  );
  cls.add(
    `cross_entropy label smoothing with every target ignored ${reduction}`,
    "F.cross_entropy",
    [I.t([3, 4], "float64"), allIgnored()],
    (x, y) => crossEntropy(x, y, { reduction, label_smoothing: 0.2 }),
    { kwargs: { reduction, label_smoothing: 0.2 } },
  );
}
cls.add(
  "nll_loss int32 targets are refused as in torch",
  "F.nll_loss",
  [I.t([3, 4], "float64"), I.classes([3], 4, "int32")],
  (x, y) => nllLoss(x, y),
  { error: /int64/ },
);
cls.add(
  "cross_entropy int32 targets are refused as in torch",
  "F.cross_entropy",
  [I.t([3, 4], "float64"), I.classes([3], 4, "int32")],
  (x, y) => crossEntropy(x, y),
  { error: /int64/ },
);
cls.add("cross_entropy defaults", "F.cross_entropy", [I.t([6, 3]), I.classes([6], 3)], (x, y) =>
  crossEntropy(x, y),
);
cls.add(
  "nll_loss class index out of range",
  "F.nll_loss",
  [I.t([2, 3]), I.t([2], "int64", { values: [0, 3], requiresGrad: false })],
  (x, y) => nllLoss(x, y),
  { error: /Target 3 is out of bounds/ },
);
cls.add(
  "cross_entropy negative class index",
  "F.cross_entropy",
  [I.t([2, 3]), I.t([2], "int64", { values: [0, -1], requiresGrad: false })],
  (x, y) => crossEntropy(x, y),
  { error: /Target -1 is out of bounds/ },
);
cls.add(
  "cross_entropy target of the wrong shape",
  "F.cross_entropy",
  [I.t([2, 3]), I.classes([3], 3)],
  (x, y) => crossEntropy(x, y),
  { error: /\[2\].*\[2, 3\].*\[3\]/ },
);
cls.add(
  "nll_loss float targets refused",
  "F.nll_loss",
  [I.t([2, 3]), I.t([2], "float32", { requiresGrad: false })],
  (x, y) => nllLoss(x, y),
  { error: /integer dtype/ },
);
cls.add(
  "cross_entropy unknown reduction",
  "F.cross_entropy",
  [I.t([2, 3]), I.classes([2], 3)],
  (x, y) => crossEntropy(x, y, { reduction: "batchmean" }),
  { kwargs: { reduction: "batchmean" }, error: /'batchmean' is not a valid value for reduction/ },
);
describeParity("nll_loss and cross_entropy match PyTorch", cls);

// ---- kl_div ---------------------------------------------------------------------------------------------
const kl = new CaseList();
for (const dt of FLOATS)
  for (const reduction of ["none", "mean", "sum", "batchmean"] as const) {
    const tag = `${reduction} ${dt}`;
    const logq = () => I.t([3, 4], dt, { lo: -4, hi: -0.1 });
    kl.add(
      `kl_div ${tag}`,
      "F.kl_div",
      [logq(), I.probs([3, 4], 1, dt, true)],
      (x, y) => klDiv(x, y, { reduction }),
      { kwargs: { reduction } },
    );
    kl.add(
      `kl_div log_target ${tag}`,
      "F.kl_div",
      [logq(), I.t([3, 4], dt, { lo: -4, hi: -0.1 })],
      (x, y) => klDiv(x, y, { reduction, log_target: true }),
      { kwargs: { reduction, log_target: true } },
    );
    kl.add(
      `kl_div with zero target probabilities ${tag}`,
      "F.kl_div",
      [logq(), I.t([3, 4], dt, { values: [0, 0.5, 0.5, 0, 0.25, 0.25, 0.25, 0.25, 1, 0, 0, 0] })],
      (x, y) => klDiv(x, y, { reduction }),
      { kwargs: { reduction } },
    );
  }
kl.add(
  "kl_div default reduction",
  "F.kl_div",
  [I.t([2, 3], "float64", { lo: -3, hi: 0 }), I.probs([2, 3], 1, "float64")],
  (x, y) => klDiv(x, y),
);
kl.add(
  "kl_div unknown reduction",
  "F.kl_div",
  [I.t([2, 3]), I.probs([2, 3], 1)],
  (x, y) => klDiv(x, y, { reduction: "max" }),
  {
    kwargs: { reduction: "max" },
    error: /'max' is not a valid value for reduction/,
  },
);
describeParity("kl_div matches PyTorch", kl);

// nll_loss sums in torch's cascaded order, so its value is bit-identical, not merely close.
const nllExact = new CaseList();
for (const dt of FLOATS)
  for (const [input, target] of [
    [[5, 3], [5]],
    [[17, 4], [17]],
    [[40, 6], [40]],
    [[300, 5], [300]],
    [
      [3, 4, 7, 5],
      [3, 7, 5],
    ],
    [
      [2, 3, 50],
      [2, 50],
    ],
  ] as const)
    for (const reduction of ["mean", "sum"] as const) {
      const C = input[1];
      const tag = `[${input}] ${reduction} ${dt}`;
      const n = target.reduce((p: number, d: number) => p * d, 1);
      const t = () =>
        I.t([...target], "int64", {
          values: Array.from({ length: n }, (_, i) => (i % 7 === 3 ? -100 : (i * 5 + 1) % C)),
          requiresGrad: false,
        });
      nllExact.add(
        `nll_loss ${tag}`,
        "F.nll_loss",
        [I.t([...input], dt, { lo: -5, hi: 0 }), t()],
        (x, y) => nllLoss(x, y, { reduction }),
        { kwargs: { reduction }, exact: true },
      );
      nllExact.add(
        `nll_loss weight ${tag}`,
        "F.nll_loss",
        [I.t([...input], dt, { lo: -5, hi: 0 }), t()],
        (x, y, w) => nllLoss(x, y, { reduction, weight: w }),
        { kwargs: { reduction, weight: I.t([C], dt, { lo: 0.1, hi: 3, requiresGrad: false }) }, exact: true },
      );
    }
describeParity("nll_loss is bit-identical to PyTorch's", nllExact);

// binary_cross_entropy follows torch's kernel op for op: float32 values agree to the bit for nearly every input
// (torch's logf and JavaScript's log differ in the last bit for about one input in a thousand), and an input
// below float32's epsilon gives torch's exact 0, not log1p's 1e-8.
const bceExact = new CaseList();
bceExact.add(
  "binary_cross_entropy of tiny probabilities",
  "F.binary_cross_entropy",
  [
    I.t([4], "float32", { values: [1e-8, 3e-8, 0.25, 1 - 2 ** -24] }),
    I.t([4], "float32", { values: [0, 0, 0, 1], requiresGrad: false }),
  ],
  (x, y) => binaryCrossEntropy(x, y, { reduction: "none" }),
  { kwargs: { reduction: "none" }, exact: true },
);
describeParity("binary_cross_entropy follows torch's kernel", bceExact);

// The regression losses are elementwise ops and torch's mean: bit-identical in float32, even over many values.
const regExact = new CaseList();
for (const reduction of ["mean", "sum"] as const) {
  const pair = () => [
    I.t([40, 25], "float32", { lo: -3, hi: 3 }),
    I.t([40, 25], "float32", { lo: -3, hi: 3 }),
  ];
  const opts = { kwargs: { reduction }, exact: true };
  regExact.add(`mse_loss ${reduction}`, "F.mse_loss", pair(), (x, y) => mseLoss(x, y, { reduction }), opts);
  regExact.add(`l1_loss ${reduction}`, "F.l1_loss", pair(), (x, y) => l1Loss(x, y, { reduction }), opts);
  regExact.add(
    `smooth_l1_loss ${reduction}`,
    "F.smooth_l1_loss",
    pair(),
    (x, y) => smoothL1Loss(x, y, { reduction, beta: 0.7 }),
    { kwargs: { reduction, beta: 0.7 }, exact: true },
  );
  regExact.add(
    `huber_loss ${reduction}`,
    "F.huber_loss",
    pair(),
    (x, y) => huberLoss(x, y, { reduction, delta: 1.3 }),
    { kwargs: { reduction, delta: 1.3 }, exact: true },
  );
}
describeParity("regression losses are bit-identical to PyTorch's in float32", regExact);

// nll_loss's gradient is placed, not accumulated, as torch's nll_loss_backward writes it: where -w g is -0 (a zero
// class weight, a positive g) torch's gradient is -0, and +0 where no target picks (grad_seed 5 starts the
// upstream gradients positive, 0 negative). The parity tolerance above
// does not see the sign of a zero; this compares every gradient element's bits with torch's.
const signCases: {
  name: string;
  reduction: string;
  inputs: { tensor: TensorSpec }[];
  call: CallCase;
}[] = [];
for (const dt of FLOATS)
  for (const reduction of REDUCTIONS)
    for (const seed of [0, 5]) {
      const inputs = [
        I.t([6, 3], dt, { lo: -4, hi: 0 }),
        I.t([6], "int64", { values: [1, 0, 1, 2, -100, 1], requiresGrad: false }),
        I.t([3], dt, { values: [0.5, 0, 2], requiresGrad: false }),
      ];
      signCases.push({
        name: `${reduction} ${dt} grad_seed ${seed}`,
        reduction,
        inputs,
        call: {
          kind: "call",
          fn: "F.nll_loss",
          args: [inputs[0], inputs[1]],
          kwargs: { reduction, weight: inputs[2] },
          grad_seed: seed,
        },
      });
    }
const signAnswers = requestTorch<CallAnswer>(signCases.map((c) => c.call));
describe("nll_loss's gradient has torch's signs of zero", () => {
  for (const [i, c] of signCases.entries())
    it(c.name, () => {
      const ans = signAnswers()[i];
      const [x, target, weight] = c.inputs.map((t) => toTensor(t.tensor));
      const loss = nllLoss(x, target, { reduction: c.reduction, weight });
      const g = ans.grad_outputs[0];
      if (!g) throw new Error("torch gave no upstream gradient");
      loss.backward(toTensor(g));
      const want = ans.grads[0]?.data.map(decodeNum) ?? [];
      if (c.call.grad_seed === 5)
        expect(
          want.some((v) => Object.is(v, -0)),
          "a -0 to check",
        ).toBe(true);
      const bitsOf = (v: ArrayLike<number>) => Array.from(v, (e) => (Object.is(e, -0) ? "-0" : String(e)));
      expect(bitsOf(x.grad?.data ?? [])).toEqual(bitsOf(want));
    });
});
