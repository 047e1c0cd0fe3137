// Bad input gets a clear error that says what is wrong: never a crash from deep inside, never a silent NaN.
// (The parity files also check that PyTorch refuses the same inputs.)
import { describe, expect, it } from "vitest";
import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  fromFlat,
  huberLoss,
  klDiv,
  l1Loss,
  mseLoss,
  nllLoss,
  ops as O,
  smoothL1Loss,
  type Tensor,
  tensor,
} from "../../src/runtime/index.ts";

const f32 = (shape: number[], fill = 0.5) =>
  fromFlat(
    Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => fill + i * 0.01),
    shape,
    "float32",
  );
const classes = (values: number[]) => tensor(values, { dtype: "int64" });

/** The call must throw an Error of ours whose message matches, not a TypeError from an undefined read. */
function refuses(fn: () => unknown, message: RegExp): void {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, "expected an error").toBeInstanceOf(Error);
  const msg = (caught as Error).message;
  expect(msg).not.toMatch(/undefined|Cannot read|is not a function/);
  expect(msg).toMatch(message);
}

describe("mismatched shapes name both shapes", () => {
  it("elementwise ops", () => {
    refuses(() => O.add(f32([2, 3]), f32([4])), /add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
    refuses(() => O.mul(f32([5, 1, 2]), f32([3, 3])), /\[5, 1, 2\] and \[3, 3\]/);
    refuses(() => O.where(tensor([true, false]), f32([3]), f32([3])), /\[2\].*\[3\].*\[3\]/);
  });
  it("matmul", () => {
    refuses(
      () => O.matmul(f32([2, 3]), f32([2, 3])),
      /\[2, 3\] and \[2, 3\] cannot be multiplied \(inner dimensions 3 and 2/,
    );
    refuses(() => O.matmul(f32([4]), f32([3])), /\[4\].*\[3\]/);
    refuses(() => O.matmul(f32([2, 2, 3]), f32([3, 3, 1])), /\[2\] and \[3\]/);
  });
  it("losses", () => {
    refuses(() => mseLoss(f32([3]), f32([4])), /\[3\] and \[4\]/);
    refuses(() => l1Loss(f32([2, 3]), f32([3, 2])), /\[2, 3\] and \[3, 2\]/);
    refuses(() => binaryCrossEntropy(f32([2, 2]), f32([4])), /\[4\].*\[2, 2\]/);
    refuses(() => binaryCrossEntropyWithLogits(f32([3]), f32([2])), /\[2\].*\[3\]/);
    refuses(() => crossEntropy(f32([4, 3]), classes([0, 1])), /\[4\].*\[4, 3\].*\[2\]/);
    refuses(() => crossEntropy(f32([4, 3]), f32([4, 2])), /\[4, 3\].*\[4, 2\]/);
    refuses(() => nllLoss(f32([4, 3]), classes([0, 1, 2, 0]), { weight: f32([2]) }), /3 elements.*\[2\]/);
  });
  it("layout ops", () => {
    refuses(() => O.reshape(f32([2, 3]), [4, 2]), /\[4, 2\] is invalid for input of size 6/);
    refuses(() => O.cat([f32([2, 3]), f32([2, 2])], 0), /\[2, 3\].*\[2, 2\]/);
    refuses(() => O.expand(f32([3, 2]), [3, 4]), /\[3, 4\].*\[3, 2\]/);
    refuses(() => O.sum(f32([2, 3]), 2), /dimension out of range.*got 2/);
    refuses(() => O.softmax(f32([2, 3]), -3), /dimension out of range/);
    refuses(() => O.permute(f32([2, 3]), [0, 0]), /repeated dim/);
    refuses(() => O.gather(f32([2, 3]), 1, tensor([0, 1], { dtype: "int64" })), /\[2\].*\[2, 3\]/);
  });
  it("tensor construction", () => {
    refuses(() => tensor([[1, 2], [3]]), /ragged.*data\[1\]/);
    refuses(() => fromFlat([1, 2, 3], [2, 2]), /3 elements but shape \[2, 2\] needs 4/);
  });
});

describe("class indices out of range", () => {
  it("nll_loss and cross_entropy name the index and the class count", () => {
    refuses(
      () => nllLoss(f32([2, 3]), classes([0, 3])),
      /Target 3 is out of bounds \(3 classes, element 1\)/,
    );
    refuses(() => crossEntropy(f32([2, 3]), classes([-1, 0])), /Target -1 is out of bounds/);
    refuses(
      () =>
        crossEntropy(
          f32([2, 3, 2]),
          tensor(
            [
              [0, 1],
              [5, 0],
            ],
            { dtype: "int64" },
          ),
        ),
      /Target 5/,
    );
    refuses(
      () => crossEntropy(f32([2, 3]), classes([4, 0]), { label_smoothing: 0.1 }),
      /Target 4 is out of bounds/,
    );
  });
  it("gather and index_select", () => {
    refuses(
      () => O.gather(f32([2, 3]), 1, tensor([[3], [0]], { dtype: "int64" })),
      /index 3 is out of bounds/,
    );
    refuses(() => O.indexSelect(f32([4]), 0, classes([4])), /index 4 is out of range/);
  });
});

describe("binary_cross_entropy probabilities outside [0, 1]", () => {
  for (const bad of [1.5, -0.1, Number.NaN, Number.POSITIVE_INFINITY])
    it(`refuses ${bad} and points to the fix`, () => {
      refuses(
        () => binaryCrossEntropy(fromFlat([0.5, bad], [2]), fromFlat([0, 1], [2])),
        /between 0 and 1 \(element 1 is .*\).*sigmoid.*with_logits/,
      );
    });
});

describe("unknown reductions", () => {
  const x = f32([2, 3]);
  const LOSSES: [string, (reduction: string) => Tensor][] = [
    ["l1_loss", (reduction) => l1Loss(x, x, { reduction })],
    ["mse_loss", (reduction) => mseLoss(x, x, { reduction })],
    ["smooth_l1_loss", (reduction) => smoothL1Loss(x, x, { reduction })],
    ["huber_loss", (reduction) => huberLoss(x, x, { reduction })],
    ["binary_cross_entropy", (reduction) => binaryCrossEntropy(x, x, { reduction })],
    ["binary_cross_entropy_with_logits", (reduction) => binaryCrossEntropyWithLogits(x, x, { reduction })],
    ["nll_loss", (reduction) => nllLoss(x, classes([0, 1]), { reduction })],
    ["cross_entropy", (reduction) => crossEntropy(x, classes([0, 1]), { reduction })],
    ["cross_entropy with probabilities", (reduction) => crossEntropy(x, x, { reduction })],
    ["kl_div", (reduction) => klDiv(x, x, { reduction })],
  ];
  for (const [name, call] of LOSSES)
    it(name, () => {
      refuses(() => call("average"), /'average' is not a valid value for reduction.*'none', 'mean', 'sum'/);
    });
  it("batchmean belongs to kl_div only", () => {
    refuses(() => mseLoss(x, x, { reduction: "batchmean" }), /'batchmean' is not a valid value/);
    expect(klDiv(x, x, { reduction: "batchmean" }).ndim).toBe(0);
  });
});

describe("wrong dtypes", () => {
  it("class targets must be int64", () => {
    refuses(() => nllLoss(f32([2, 3]), f32([2])), /integer dtype.*int64.*float32/);
    refuses(() => crossEntropy(f32([2, 3]), tensor([0, 1], { dtype: "int32" })), /int64.*int32/);
  });
  it("losses need floating inputs", () => {
    refuses(() => mseLoss(tensor([1, 2]), tensor([1, 2])), /floating point.*int64/);
    refuses(() => binaryCrossEntropy(tensor([0, 1]), tensor([0, 1])), /floating point/);
    refuses(() => crossEntropy(tensor([[1, 2]]), classes([0])), /floating point/);
  });
  it("matmul operands must share a dtype", () => {
    refuses(() => O.matmul(f32([2, 2]), fromFlat([1, 2, 3, 4], [2, 2], "float64")), /float32 and float64/);
  });
  it("indices must be integers, conditions bool", () => {
    refuses(() => O.gather(f32([2, 3]), 1, f32([2, 1])), /integer tensor.*float32/);
    refuses(() => O.indexSelect(f32([4]), 0, f32([1])), /integer tensor/);
    refuses(() => O.where(tensor([1, 0]), f32([2]), f32([2])), /boolean tensor.*int64/);
  });
  it("gradients need floating tensors; mean and norm need floating input", () => {
    refuses(() => tensor([1, 2], { requiresGrad: true }), /floating point.*int64/);
    refuses(() => O.mean(tensor([1, 2])), /floating point.*int64/);
    refuses(() => O.norm(tensor([1, 2])), /floating point/);
  });
  it("subtraction of bool tensors, as torch refuses it", () => {
    refuses(() => O.sub(tensor([true]), tensor([false])), /Subtraction.*bool.*logical_not/);
  });
});

describe("bad option values", () => {
  it("is refused with the option's name", () => {
    refuses(() => smoothL1Loss(f32([2]), f32([2]), { beta: -1 }), /beta/);
    refuses(() => huberLoss(f32([2]), f32([2]), { delta: 0 }), /delta/);
    refuses(
      () => crossEntropy(f32([2, 3]), classes([0, 1]), { label_smoothing: 1.5 }),
      /label_smoothing.*1.5/,
    );
    refuses(() => O.clamp(f32([2])), /at least one of 'min' or 'max'/);
    refuses(() => O.norm(f32([2]), -1), /p must be positive/);
  });
});
