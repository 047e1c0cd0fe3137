// Reductions and the softmax family against PyTorch: outputs, indices and gradients.
import { type DType, ops as O } from "../../src/runtime/index.ts";
import { CaseList, describeParity, Inputs } from "../helpers/torch.ts";

const FLOATS: DType[] = ["float32", "float64"];
const I = new Inputs(7);

const red = new CaseList();
for (const dt of FLOATS) {
  const x = (shape = [2, 3, 4]) => I.t(shape, dt);
  red.add(`sum all ${dt}`, "torch.sum", [x()], (a) => O.sum(a));
  red.add(`sum dim 1 ${dt}`, "torch.sum", [x(), 1], (a) => O.sum(a, 1));
  red.add(`sum dim -1 keepdim ${dt}`, "torch.sum", [x(), -1, true], (a) => O.sum(a, -1, true));
  red.add(`sum dims (0, 2) ${dt}`, "torch.sum", [x(), { tuple: [0, 2] }], (a) => O.sum(a, [0, 2]));
  red.add(`sum dims (2, 0) keepdim ${dt}`, "torch.sum", [x(), { tuple: [2, 0] }, true], (a) =>
    O.sum(a, [2, 0], true),
  );
  red.add(`sum of 0-d ${dt}`, "torch.sum", [I.t([], dt)], (a) => O.sum(a));
  red.add(`sum of 0-d over dim 0 ${dt}`, "torch.sum", [I.t([], dt), 0], (a) => O.sum(a, 0));
  red.add(`mean all ${dt}`, "torch.mean", [x()], (a) => O.mean(a));
  red.add(`mean dim 0 ${dt}`, "torch.mean", [x(), 0], (a) => O.mean(a, 0));
  red.add(`mean dim -2 keepdim ${dt}`, "torch.mean", [x(), -2, true], (a) => O.mean(a, -2, true));
  red.add(`mean dims (1, 2) ${dt}`, "torch.mean", [x(), { tuple: [1, 2] }], (a) => O.mean(a, [1, 2]));
  red.add(`mean of 0-d ${dt}`, "torch.mean", [I.t([], dt)], (a) => O.mean(a));
  red.add(`max all ${dt}`, "torch.max", [x()], (a) => O.max(a));
  red.add(`min all ${dt}`, "torch.min", [x()], (a) => O.min(a));
  const tied = () => I.t([2, 4], dt, { values: [1, 3, 3, 0, -2, -2, 5, 5] });
  red.add(`max all with ties shares the gradient ${dt}`, "torch.max", [tied()], (a) => O.max(a));
  red.add(`min all with ties shares the gradient ${dt}`, "torch.min", [tied()], (a) => O.min(a));
  red.add(`max dim 1 ${dt}`, "torch.max", [x(), 1], (a) => O.maxDim(a, 1));
  red.add(`max dim -1 keepdim ${dt}`, "torch.max", [x(), -1, true], (a) => O.maxDim(a, -1, true));
  red.add(`max dim with ties ${dt}`, "torch.max", [tied(), 1], (a) => O.maxDim(a, 1));
  red.add(`min dim 0 ${dt}`, "torch.min", [x(), 0], (a) => O.minDim(a, 0));
  red.add(`min dim with ties ${dt}`, "torch.min", [tied(), 1], (a) => O.minDim(a, 1));
  red.add(`max dim of 1-D ${dt}`, "torch.max", [x([5]), 0], (a) => O.maxDim(a, 0));
  red.add(`argmax ${dt}`, "torch.argmax", [x()], (a) => O.argmax(a));
  red.add(`argmax dim 2 ${dt}`, "torch.argmax", [x(), 2], (a) => O.argmax(a, 2));
  red.add(`argmax dim 0 keepdim ${dt}`, "torch.argmax", [x(), 0, true], (a) => O.argmax(a, 0, true));
  red.add(`argmax with ties ${dt}`, "torch.argmax", [tied(), 1], (a) => O.argmax(a, 1));
  red.add(`argmin ${dt}`, "torch.argmin", [x(), 1], (a) => O.argmin(a, 1));
  red.add(`argmin with ties ${dt}`, "torch.argmin", [tied()], (a) => O.argmin(a));
  red.add(
    `max with nan ${dt}`,
    "torch.max",
    [I.t([4], dt, { values: [1, Number.NaN, 3, 2], requiresGrad: false })],
    (a) => O.max(a),
  );
  // torch shares a NaN max/min's gradient among the NaN elements (evenly_distribute_backward).
  for (const fn of ["max", "min"] as const)
    red.add(
      `${fn} with two nans shares the gradient among them ${dt}`,
      `torch.${fn}`,
      [I.t([4], dt, { values: [1, Number.NaN, 3, Number.NaN] })],
      (a) => O[fn](a),
    );
  red.add(
    `argmax with nan ${dt}`,
    "torch.argmax",
    [I.t([4], dt, { values: [1, 3, Number.NaN, 2], requiresGrad: false })],
    (a) => O.argmax(a),
  );

  // norms
  red.add(`norm 2 ${dt}`, "torch.norm", [x()], (a) => O.norm(a));
  for (const p of [1, 2, 3, 1.5, 0.5, 4])
    red.add(`norm p=${p} ${dt}`, "torch.norm", [x([3, 4]), p], (a) => O.norm(a, p));
  red.add(`norm p=inf ${dt}`, "torch.norm", [x([3, 4]), { num: "inf" }], (a) =>
    O.norm(a, Number.POSITIVE_INFINITY),
  );
  red.add(`norm 2 dim 1 ${dt}`, "torch.norm", [x([3, 4]), 2, 1], (a) => O.norm(a, 2, 1));
  red.add(`norm 3 dim 0 keepdim ${dt}`, "torch.norm", [x([3, 4]), 3, 0, true], (a) => O.norm(a, 3, 0, true));
  red.add(`norm inf dim 1 ${dt}`, "torch.norm", [x([3, 4]), { num: "inf" }, 1], (a) =>
    O.norm(a, Number.POSITIVE_INFINITY, 1),
  );
  red.add(
    `norm inf with tied maxima ${dt}`,
    "torch.norm",
    [I.t([4], dt, { values: [-2, 2, 1, 0] }), { num: "inf" }],
    (a) => O.norm(a, Number.POSITIVE_INFINITY),
  );
  const withZeros = () => I.t([2, 3], dt, { values: [0, 0, 0, 1, 0, -2] });
  for (const p of [2, 1, 3, 0.5, 1.5])
    red.add(`norm p=${p} with zero rows and entries ${dt}`, "torch.norm", [withZeros(), p, 1], (a) =>
      O.norm(a, p, 1),
    );
  red.add(`linalg.vector_norm ord 2 ${dt}`, "linalg.vector_norm", [x([5])], (a) => O.norm(a));
  red.add(`linalg.vector_norm ord 3 dim -1 ${dt}`, "linalg.vector_norm", [x([2, 5]), 3, -1], (a) =>
    O.norm(a, 3, -1),
  );
  red.add(`logsumexp dim 1 ${dt}`, "torch.logsumexp", [x([3, 5]), 1], (a) => O.logsumexp(a, 1));
  red.add(
    `logsumexp keepdim large ${dt}`,
    "torch.logsumexp",
    [I.t([2, 3], dt, { lo: 500, hi: 900 }), 0, true],
    (a) => O.logsumexp(a, 0, true),
  );
}
red.add("sum int64 stays int64", "torch.sum", [I.t([2, 3], "int64", { lo: -9, hi: 9 })], (a) => O.sum(a));
red.add("sum int32 gives int64", "torch.sum", [I.t([2, 3], "int32", { lo: -9, hi: 9 }), 1], (a) =>
  O.sum(a, 1),
);
red.add("sum bool gives int64", "torch.sum", [I.t([6], "bool")], (a) => O.sum(a));
red.add("sum float16", "torch.sum", [I.t([8], "float16", { requiresGrad: false })], (a) => O.sum(a));
red.add("mean float16", "torch.mean", [I.t([8], "float16", { requiresGrad: false })], (a) => O.mean(a));
red.add("max int64 dim", "torch.max", [I.t([2, 3], "int64", { lo: -9, hi: 9 }), 1], (a) => O.maxDim(a, 1));
red.add("mean int64 is refused", "torch.mean", [I.t([3], "int64")], (a) => O.mean(a), {
  error: /mean\(\): could not infer output dtype/,
});
describeParity("reductions match PyTorch", red);

const sm = new CaseList();
for (const dt of FLOATS) {
  const x = (shape = [3, 5], lo = -3, hi = 3) => I.t(shape, dt, { lo, hi });
  for (const [name, fn, impl] of [
    ["softmax", "F.softmax", O.softmax],
    ["log_softmax", "F.log_softmax", O.logSoftmax],
  ] as const) {
    sm.add(`${name} dim 1 ${dt}`, fn, [x()], (a) => impl(a, 1), { kwargs: { dim: 1 } });
    sm.add(`${name} dim 0 ${dt}`, fn, [x()], (a) => impl(a, 0), { kwargs: { dim: 0 } });
    sm.add(`${name} dim -1 of 3-D ${dt}`, fn, [x([2, 3, 4])], (a) => impl(a, -1), { kwargs: { dim: -1 } });
    sm.add(`${name} dim 1 of 3-D ${dt}`, fn, [x([2, 3, 4])], (a) => impl(a, 1), { kwargs: { dim: 1 } });
    sm.add(`${name} 1-D ${dt}`, fn, [x([6])], (a) => impl(a, 0), { kwargs: { dim: 0 } });
    sm.add(`${name} large logits ${dt}`, fn, [x([2, 4], -1000, 1000)], (a) => impl(a, 1), {
      kwargs: { dim: 1 },
    });
    sm.add(
      `${name} logits near 1e4 ${dt}`,
      fn,
      [I.t([2, 3], dt, { values: [10000, 10001, 9999, -10000, -10002, -9999] })],
      (a) => impl(a, 1),
      { kwargs: { dim: 1 } },
    );
    sm.add(
      `${name} with -inf entries ${dt}`,
      fn,
      [I.t([2, 3], dt, { values: [0, Number.NEGATIVE_INFINITY, 1, 2, 2, Number.NEGATIVE_INFINITY] })],
      (a) => impl(a, 1),
      { kwargs: { dim: 1 } },
    );
    sm.add(`${name} of 0-d ${dt}`, fn, [I.t([], dt)], (a) => impl(a, 0), { kwargs: { dim: 0 } });
  }
}
describeParity("softmax and log_softmax match PyTorch", sm);

// torch sums in its own order of additions (cascade_sum); gradwire reproduces it, so sums and means are not
// just within tolerance but bit-identical in float32 and float64.
const exact = new CaseList();
const SUMS: [number[], number | null][] = [
  [[5], null],
  [[8], null],
  [[12], null],
  [[17], null],
  [[24], null],
  [[31], null],
  [[32], null],
  [[40], null],
  [[100], null],
  [[1000], null],
  [[5000], null],
  [[3, 4, 5], null],
  [[7, 9], 1],
  [[7, 9], 0],
  [[3, 70], 0],
  [[3, 70], 1],
  [[50, 40], 0],
  [[100, 3], 0],
  [[33, 13], 0],
  [[20, 8, 5], 1],
  [[4, 6, 9], 2],
  [[300, 2, 1], 0],
  [[1, 64], 1],
];
for (const dt of FLOATS)
  for (const [shape, dim] of SUMS) {
    const tag = `${dt} [${shape}]${dim === null ? "" : ` dim ${dim}`}`;
    const x = () => I.t(shape, dt, { lo: -3, hi: 5, requiresGrad: false });
    if (dim === null) {
      exact.add(`sum ${tag}`, "torch.sum", [x()], (a) => O.sum(a), { exact: true });
      exact.add(`mean ${tag}`, "torch.mean", [x()], (a) => O.mean(a), { exact: true });
    } else {
      exact.add(`sum ${tag}`, "torch.sum", [x(), dim], (a) => O.sum(a, dim), { exact: true });
      exact.add(`mean ${tag}`, "torch.mean", [x(), dim], (a) => O.mean(a, dim), { exact: true });
    }
  }
describeParity("sum and mean are bit-identical to PyTorch's", exact);
