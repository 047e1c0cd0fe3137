// Every loss with every reduction and option on WebGPU: values and gradients against PyTorch and the CPU.
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
import { CaseList, Inputs } from "../helpers/torch.ts";
import { describeGpuParity, useDevice } from "./harness.ts";

const device = useDevice();
const dt: DType = "float32";
const REDUCTIONS = ["none", "mean", "sum"] as const;
const I = new Inputs(2718);

const reg = new CaseList();
for (const reduction of REDUCTIONS) {
  const pair = (shape = [4, 3]) => [I.t(shape, dt, { lo: -3, hi: 3 }), I.t(shape, dt, { lo: -3, hi: 3 })];
  const kw = { kwargs: { reduction } };
  reg.add(`l1_loss ${reduction}`, "F.l1_loss", pair(), (x, y) => l1Loss(x, y, { reduction }), kw);
  reg.add(`mse_loss ${reduction}`, "F.mse_loss", pair(), (x, y) => mseLoss(x, y, { reduction }), kw);
  reg.add(`mse_loss 0-d ${reduction}`, "F.mse_loss", pair([]), (x, y) => mseLoss(x, y, { reduction }), kw);
  reg.add(
    `l1_loss with ties ${reduction}`,
    "F.l1_loss",
    [I.t([3], dt, { values: [1, 2, 3] }), I.t([3], dt, { values: [1, 0, 3] })],
    (x, y) => l1Loss(x, y, { reduction }),
    kw,
  );
  for (const beta of [1, 0.5, 0]) {
    const kwargs = { reduction, beta };
    reg.add(
      `smooth_l1_loss beta=${beta} ${reduction}`,
      "F.smooth_l1_loss",
      pair(),
      (x, y) => smoothL1Loss(x, y, kwargs),
      {
        kwargs,
      },
    );
  }
  for (const delta of [1, 2.5]) {
    const kwargs = { reduction, delta };
    reg.add(
      `huber_loss delta=${delta} ${reduction}`,
      "F.huber_loss",
      pair(),
      (x, y) => huberLoss(x, y, kwargs),
      {
        kwargs,
      },
    );
  }
}
reg.add("mse_loss broadcasts the target", "F.mse_loss", [I.t([4, 3], dt), I.t([3], dt)], (x, y) =>
  mseLoss(x, y),
);
describeGpuParity("regression losses on WebGPU match PyTorch and the CPU", reg, device);

const bce = new CaseList();
for (const reduction of REDUCTIONS) {
  const probs = () => I.t([4, 3], dt, { lo: 0.02, hi: 0.98 });
  const targets = (requiresGrad = false) => I.t([4, 3], dt, { lo: 0, hi: 1, requiresGrad });
  const logits = () => I.t([4, 3], dt, { lo: -6, hi: 6 });
  const w3 = () => I.t([3], dt, { lo: 0, hi: 2, requiresGrad: false });
  const pw3 = () => I.t([3], dt, { lo: 0.5, hi: 3, requiresGrad: false });
  bce.add(
    `binary_cross_entropy ${reduction}`,
    "F.binary_cross_entropy",
    [probs(), targets(true)],
    (x, y) => binaryCrossEntropy(x, y, { reduction }),
    { kwargs: { reduction } },
  );
  bce.add(
    `binary_cross_entropy with weight ${reduction}`,
    "F.binary_cross_entropy",
    [probs(), targets()],
    (x, y, w) => binaryCrossEntropy(x, y, { reduction, weight: w }),
    { kwargs: { reduction, weight: w3() } },
  );
  bce.add(
    `binary_cross_entropy at exactly 0 and 1 ${reduction}`,
    "F.binary_cross_entropy",
    [
      I.t([6], dt, { values: [0, 0, 1, 1, 0, 1] }),
      I.t([6], dt, { values: [0, 1, 0, 1, 0.5, 0.25], requiresGrad: false }),
    ],
    (x, y) => binaryCrossEntropy(x, y, { reduction }),
    { kwargs: { reduction } },
  );
  bce.add(
    `binary_cross_entropy_with_logits ${reduction}`,
    "F.binary_cross_entropy_with_logits",
    [logits(), targets(true)],
    (x, y) => binaryCrossEntropyWithLogits(x, y, { reduction }),
    { kwargs: { reduction } },
  );
  bce.add(
    `binary_cross_entropy_with_logits weight and pos_weight ${reduction}`,
    "F.binary_cross_entropy_with_logits",
    [logits(), targets()],
    (x, y, w, pw) => binaryCrossEntropyWithLogits(x, y, { reduction, weight: w, pos_weight: pw }),
    { kwargs: { reduction, weight: w3(), pos_weight: pw3() } },
  );
  bce.add(
    `binary_cross_entropy_with_logits at logits +-200 ${reduction}`,
    "F.binary_cross_entropy_with_logits",
    [
      I.t([6], dt, { values: [200, -200, 200, -200, 100, -100] }),
      I.t([6], dt, { values: [1, 0, 0, 1, 0.5, 0.5], requiresGrad: false }),
    ],
    (x, y, pw) => binaryCrossEntropyWithLogits(x, y, { reduction, pos_weight: pw }),
    {
      kwargs: { reduction, pos_weight: I.t([6], dt, { values: [1, 1, 2, 2, 3, 0.5], requiresGrad: false }) },
    },
  );
}
describeGpuParity("binary cross entropy on WebGPU matches PyTorch and the CPU", bce, device);

const cls = new CaseList();
const LAYOUTS = [
  { input: [5, 4], target: [5] },
  { input: [2, 4, 3], target: [2, 3] },
  { input: [4], target: [] as number[] },
];
for (const reduction of REDUCTIONS)
  for (const { input, target } of LAYOUTS) {
    const tag = `[${input}] ${reduction}`;
    const C = input.length === 1 ? input[0] : input[1];
    const logp = () => I.t(input, dt, { lo: -4, hi: 0 });
    const logits = () => I.t(input, dt, { lo: -3, hi: 3 });
    const weight = () => I.t([C], dt, { lo: 0.2, hi: 2, requiresGrad: false });
    const t = () => I.classes(target, C);
    const cd = input.length === 1 ? 0 : 1;
    cls.add(`nll_loss ${tag}`, "F.nll_loss", [logp(), t()], (x, y) => nllLoss(x, y, { reduction }), {
      kwargs: { reduction },
    });
    cls.add(
      `nll_loss ignore_index 1 and weight ${tag}`,
      "F.nll_loss",
      [logp(), t()],
      (x, y, w) => nllLoss(x, y, { reduction, weight: w, ignore_index: 1 }),
      { kwargs: { reduction, weight: weight(), ignore_index: 1 } },
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
    cls.add(
      `cross_entropy label_smoothing 0.1 weight ignore_index ${tag}`,
      "F.cross_entropy",
      [logits(), t()],
      (x, y, w) => crossEntropy(x, y, { reduction, weight: w, ignore_index: 2, label_smoothing: 0.1 }),
      { kwargs: { reduction, weight: weight(), ignore_index: 2, label_smoothing: 0.1 } },
    );
    cls.add(
      `cross_entropy class probabilities label_smoothing 0.35 ${tag}`,
      "F.cross_entropy",
      [logits(), I.probs(input, cd, dt, true)],
      (x, y) => crossEntropy(x, y, { reduction, label_smoothing: 0.35 }),
      { kwargs: { reduction, label_smoothing: 0.35 } },
    );
    cls.add(
      `cross_entropy class probabilities weight ${tag}`,
      "F.cross_entropy",
      [logits(), I.probs(input, cd, dt)],
      (x, y, w) => crossEntropy(x, y, { reduction, weight: w }),
      { kwargs: { reduction, weight: weight() } },
    );
    cls.add(
      `cross_entropy large logits ${tag}`,
      "F.cross_entropy",
      [I.t(input, dt, { lo: -1000, hi: 1000 }), t()],
      (x, y) => crossEntropy(x, y, { reduction }),
      { kwargs: { reduction }, tol: { rtol: 1e-5, atol: 1e-4 } },
    );
  }
cls.add(
  "cross_entropy over 512 samples",
  "F.cross_entropy",
  [I.t([512, 3], dt), I.classes([512], 3)],
  (x, y) => crossEntropy(x, y),
);
describeGpuParity("nll_loss and cross_entropy on WebGPU match PyTorch and the CPU", cls, device);

const kl = new CaseList();
for (const reduction of ["none", "mean", "sum", "batchmean"] as const) {
  const logq = () => I.t([3, 4], dt, { lo: -4, hi: -0.1 });
  kl.add(
    `kl_div ${reduction}`,
    "F.kl_div",
    [logq(), I.probs([3, 4], 1, dt, true)],
    (x, y) => klDiv(x, y, { reduction }),
    {
      kwargs: { reduction },
    },
  );
  kl.add(
    `kl_div log_target ${reduction}`,
    "F.kl_div",
    [logq(), I.t([3, 4], dt, { lo: -4, hi: -0.1 })],
    (x, y) => klDiv(x, y, { reduction, log_target: true }),
    { kwargs: { reduction, log_target: true } },
  );
  kl.add(
    `kl_div with zero target probabilities ${reduction}`,
    "F.kl_div",
    [logq(), I.t([3, 4], dt, { values: [0, 0.5, 0.5, 0, 0.25, 0.25, 0.25, 0.25, 1, 0, 0, 0] })],
    (x, y) => klDiv(x, y, { reduction }),
    { kwargs: { reduction } },
  );
}
describeGpuParity("kl_div on WebGPU matches PyTorch and the CPU", kl, device);
