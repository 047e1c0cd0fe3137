// Reductions, the softmax family and matmul on WebGPU against PyTorch and the CPU runtime, including sizes
// that take each reduction strategy (a loop per output, a workgroup per output, split passes) and tiled matmul.
import { type DType, ops as O } from "../../src/runtime/index.ts";
import { CaseList, Inputs } from "../helpers/torch.ts";
import { describeGpuParity, useDevice } from "./harness.ts";

const device = useDevice();
const I = new Inputs(77);
const dt: DType = "float32";
const x = (shape = [2, 3, 4], lo = -2, hi = 2) => I.t(shape, dt, { lo, hi });
const tied = () => I.t([2, 4], dt, { values: [1, 3, 3, 0, -2, -2, 5, 5] });

const red = new CaseList();
red.add("sum all", "torch.sum", [x()], (a) => O.sum(a));
red.add("sum dim 1", "torch.sum", [x(), 1], (a) => O.sum(a, 1));
red.add("sum dim -1 keepdim", "torch.sum", [x(), -1, true], (a) => O.sum(a, -1, true));
red.add("sum dims (0, 2)", "torch.sum", [x(), { tuple: [0, 2] }], (a) => O.sum(a, [0, 2]));
red.add("sum of 0-d", "torch.sum", [I.t([], dt)], (a) => O.sum(a));
red.add("mean all", "torch.mean", [x()], (a) => O.mean(a));
red.add("mean dim 0", "torch.mean", [x(), 0], (a) => O.mean(a, 0));
red.add("mean dims (1, 2)", "torch.mean", [x(), { tuple: [1, 2] }], (a) => O.mean(a, [1, 2]));
red.add("sum of 300 per row (a workgroup per output)", "torch.sum", [x([5, 300]), 1], (a) => O.sum(a, 1));
red.add("sum over dim 0 of 2000 x 3", "torch.sum", [x([2000, 3]), 0], (a) => O.sum(a, 0));
red.add("mean of 100000 (split passes)", "torch.mean", [x([100000], 0, 1)], (a) => O.mean(a), {
  tol: { rtol: 1e-5, atol: 1e-5 },
});
red.add(
  "sum of 40000 per row for 2 rows (split passes)",
  "torch.sum",
  [x([2, 40000], 0, 1), 1],
  (a) => O.sum(a, 1),
  {
    tol: { rtol: 2e-5, atol: 1e-5 },
  },
);
// An infinity (or an overflow) early in a compensated sum stays inf, as in torch, in each strategy.
const withInf = (n: number, at: number[], v = Number.POSITIVE_INFINITY) =>
  Array.from({ length: n }, (_, i) => (at.includes(i) ? v : ((i * 7) % 11) / 11));
red.add("sum with an infinity", "torch.sum", [I.t([7], dt, { values: withInf(7, [1]) })], (a) => O.sum(a));
red.add("sum overflowing to inf", "torch.sum", [I.t([6], dt, { values: withInf(6, [0, 2], 3e38) })], (a) =>
  O.sum(a),
);
red.add(
  "sum of 300 per row with an infinity (a workgroup per output)",
  "torch.sum",
  [I.t([2, 300], dt, { values: withInf(600, [2, 450]) }), 1],
  (a) => O.sum(a, 1),
);
red.add(
  "sum of 40000 per row with an infinity (split passes)",
  "torch.sum",
  [I.t([2, 40000], dt, { values: withInf(80000, [5, 60000]) }), 1],
  (a) => O.sum(a, 1),
  { tol: { rtol: 2e-5, atol: 1e-5 } },
);
red.add("sum int64 stays int64", "torch.sum", [I.t([2, 3], "int64", { lo: -9, hi: 9 })], (a) => O.sum(a));
red.add("max all", "torch.max", [x()], (a) => O.max(a));
red.add("min all", "torch.min", [x()], (a) => O.min(a));
red.add("max all with ties shares the gradient", "torch.max", [tied()], (a) => O.max(a));
red.add("min all with ties shares the gradient", "torch.min", [tied()], (a) => O.min(a));
red.add("max dim 1", "torch.max", [x(), 1], (a) => O.maxDim(a, 1));
red.add("max dim -1 keepdim", "torch.max", [x(), -1, true], (a) => O.maxDim(a, -1, true));
red.add("max dim with ties", "torch.max", [tied(), 1], (a) => O.maxDim(a, 1));
red.add("min dim 0", "torch.min", [x(), 0], (a) => O.minDim(a, 0));
red.add("argmax", "torch.argmax", [x()], (a) => O.argmax(a));
red.add("argmax dim 2", "torch.argmax", [x(), 2], (a) => O.argmax(a, 2));
red.add("argmax with ties", "torch.argmax", [tied(), 1], (a) => O.argmax(a, 1));
red.add("argmin with ties", "torch.argmin", [tied()], (a) => O.argmin(a));
red.add(
  "max with nan",
  "torch.max",
  [I.t([4], dt, { values: [1, Number.NaN, 3, 2], requiresGrad: false })],
  (a) => O.max(a),
);
// torch shares a NaN max/min's gradient among the NaN elements (evenly_distribute_backward).
for (const fn of ["max", "min"] as const)
  red.add(
    `${fn} with two nans shares the gradient among them`,
    `torch.${fn}`,
    [I.t([4], dt, { values: [1, Number.NaN, 3, Number.NaN] })],
    (a) => O[fn](a),
  );
red.add(
  "argmax with nan",
  "torch.argmax",
  [I.t([4], dt, { values: [1, 3, Number.NaN, 2], requiresGrad: false })],
  (a) => O.argmax(a),
);
red.add("norm 2", "torch.norm", [x()], (a) => O.norm(a));
for (const p of [1, 3, 1.5, 0.5])
  red.add(`norm p=${p}`, "torch.norm", [x([3, 4]), p], (a) => O.norm(a, p), {
    tol: { rtol: 2e-5, atol: 1e-6 },
  });
red.add("norm p=inf", "torch.norm", [x([3, 4]), { num: "inf" }], (a) => O.norm(a, Number.POSITIVE_INFINITY));
red.add("norm 2 dim 1", "torch.norm", [x([3, 4]), 2, 1], (a) => O.norm(a, 2, 1));
red.add("norm inf dim 1", "torch.norm", [x([3, 4]), { num: "inf" }, 1], (a) =>
  O.norm(a, Number.POSITIVE_INFINITY, 1),
);
red.add(
  "norm inf with tied maxima",
  "torch.norm",
  [I.t([4], dt, { values: [-2, 2, 1, 0] }), { num: "inf" }],
  (a) => O.norm(a, Number.POSITIVE_INFINITY),
);
for (const p of [2, 1, 3])
  red.add(
    `norm p=${p} with zero rows`,
    "torch.norm",
    [I.t([2, 3], dt, { values: [0, 0, 0, 1, 0, -2] }), p, 1],
    (a) => O.norm(a, p, 1),
  );
red.add("logsumexp dim 1", "torch.logsumexp", [x([3, 5]), 1], (a) => O.logsumexp(a, 1));
red.add("logsumexp keepdim large", "torch.logsumexp", [x([2, 3], 500, 900), 0, true], (a) =>
  O.logsumexp(a, 0, true),
);
red.add(
  "logsumexp with -inf entries",
  "torch.logsumexp",
  [I.t([2, 3], dt, { values: [0, Number.NEGATIVE_INFINITY, 1, Number.NEGATIVE_INFINITY, 2, 2] }), 1],
  (a) => O.logsumexp(a, 1),
);
describeGpuParity("reductions on WebGPU match PyTorch and the CPU", red, device);

const sm = new CaseList();
for (const [name, fn, impl] of [
  ["softmax", "F.softmax", O.softmax],
  ["log_softmax", "F.log_softmax", O.logSoftmax],
] as const) {
  const s = (shape = [3, 5], lo = -3, hi = 3) => I.t(shape, dt, { lo, hi });
  sm.add(`${name} dim 1`, fn, [s()], (a) => impl(a, 1), { kwargs: { dim: 1 } });
  sm.add(`${name} dim 0`, fn, [s()], (a) => impl(a, 0), { kwargs: { dim: 0 } });
  sm.add(`${name} dim 1 of 3-D`, fn, [s([2, 3, 4])], (a) => impl(a, 1), { kwargs: { dim: 1 } });
  sm.add(`${name} 1-D`, fn, [s([6])], (a) => impl(a, 0), { kwargs: { dim: 0 } });
  sm.add(`${name} large logits`, fn, [s([2, 4], -1000, 1000)], (a) => impl(a, 1), { kwargs: { dim: 1 } });
  sm.add(
    `${name} with -inf entries`,
    fn,
    [I.t([2, 3], dt, { values: [0, Number.NEGATIVE_INFINITY, 1, 2, 2, Number.NEGATIVE_INFINITY] })],
    (a) => impl(a, 1),
    { kwargs: { dim: 1 } },
  );
  sm.add(`${name} over 1000 classes`, fn, [s([2, 1000])], (a) => impl(a, 1), { kwargs: { dim: 1 } });
}
describeGpuParity("softmax and log_softmax on WebGPU match PyTorch and the CPU", sm, device);

const mm = new CaseList();
const m = (shape: number[]) => I.t(shape, dt, { lo: -1, hi: 1 });
mm.add("matmul 2-D", "torch.matmul", [m([3, 4]), m([4, 5])], (a, b) => O.matmul(a, b));
mm.add("matmul 1-D . 1-D", "torch.matmul", [m([4]), m([4])], (a, b) => O.matmul(a, b));
mm.add("matmul 1-D @ 2-D", "torch.matmul", [m([4]), m([4, 3])], (a, b) => O.matmul(a, b));
mm.add("matmul 2-D @ 1-D", "torch.matmul", [m([3, 4]), m([4])], (a, b) => O.matmul(a, b));
mm.add("matmul batched", "torch.matmul", [m([2, 3, 4]), m([2, 4, 5])], (a, b) => O.matmul(a, b));
mm.add("matmul batch broadcast", "torch.matmul", [m([2, 1, 3, 4]), m([3, 4, 2])], (a, b) => O.matmul(a, b));
// Small matrices are packed several to a workgroup: 40 of 3 x 5 are 160 threads, three workgroups, edge blocks.
mm.add("matmul batch of 40 small matrices", "torch.matmul", [m([40, 3, 5]), m([40, 5, 7])], (a, b) =>
  O.matmul(a, b),
);
mm.add("matmul 3-D @ 2-D", "torch.matmul", [m([2, 3, 4]), m([4, 5])], (a, b) => O.matmul(a, b));
mm.add("matmul across tiles 37 x 50 @ 50 x 29", "torch.matmul", [m([37, 50]), m([50, 29])], (a, b) =>
  O.matmul(a, b),
);
mm.add(
  "matmul long inner dim 4 x 700 @ 700 x 3",
  "torch.matmul",
  [m([4, 700]), m([700, 3])],
  (a, b) => O.matmul(a, b),
  {
    tol: { rtol: 2e-5, atol: 2e-6 },
  },
);
mm.add("linear with bias", "F.linear", [m([5, 3]), m([4, 3]), m([4])], (a, w, b) => O.linear(a, w, b));
mm.add("linear without bias, 3-D input", "F.linear", [m([2, 5, 3]), m([4, 3])], (a, w) => O.linear(a, w));
describeGpuParity("matmul and linear on WebGPU match PyTorch and the CPU", mm, device);
