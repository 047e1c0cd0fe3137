// Losses declared once as pointwise formulas (src/runtime/pointwise-loss.ts) reach the GPU as that one declared
// op, with the declaration's gradients, not as the composition the CPU's fused path stands for (no GPU needed).
import { describe, expect, it } from "vitest";
import { backward } from "../../src/gpu/autodiff.ts";
import { Capture, traceForward } from "../../src/gpu/capture.ts";
import { type Node, topoOrder } from "../../src/gpu/ir.ts";
import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  fromFlat,
  huberLoss,
  mseLoss,
  nllLoss,
  ops as O,
  smoothL1Loss,
  type Tensor,
} from "../../src/runtime/index.ts";

/** The IR of `loss` and its gradient with respect to `x`. */
function irOf(x: Tensor, loss: () => Tensor): Node[] {
  const { result, events } = traceForward(loss);
  const cap = new Capture(events, { leaves: [x] });
  const l = cap.valueOf(result);
  const [g] = backward(cap.builder, [{ node: l, grad: cap.builder.fill(1, []) }], cap.leafNodes);
  return topoOrder([l, g as Node]);
}

describe("pointwise losses on the GPU", () => {
  const y = fromFlat([0.25, 0.75, 0.5, 0.0], [4]);
  const cases: [string, (x: Tensor) => Tensor][] = [
    ["mse_loss", (x) => mseLoss(O.mul(x, 2), y)],
    ["binary_cross_entropy", (x) => binaryCrossEntropy(O.sigmoid(x), y)],
    ["smooth_l1_loss", (x) => smoothL1Loss(O.mul(x, 2), y, { beta: 0.5 })],
    ["huber_loss", (x) => huberLoss(O.mul(x, 2), y, { delta: 0.5 })],
    ["binary_cross_entropy_with_logits", (x) => binaryCrossEntropyWithLogits(x, y)],
    [
      "binary_cross_entropy_with_logits_pos_weight",
      (x) => binaryCrossEntropyWithLogits(x, y, { pos_weight: fromFlat([2, 0.5, 1, 3], [4]) }),
    ],
    ["nll_loss", (x) => nllLoss(O.reshape(x, [2, 2]), fromFlat([1, 0], [2], "int64"))],
  ];
  for (const [name, loss] of cases)
    it(`${name} is its declared op, forward and gradients`, () => {
      const x = fromFlat([0.5, -1.25, 2, 0.1], [4]).requiresGrad_();
      const nodes = irOf(x, () => loss(x));
      const parts = nodes.flatMap((n) => (n.op.k === "pointwise_loss" ? [`${n.op.loss} ${n.op.part}`] : []));
      expect(parts.sort()).toEqual([`${name} dInput`, `${name} loss`]);
      // Nothing of the composition it replaces.
      const unary = nodes.flatMap((n) => (n.op.k === "unary" || n.op.k === "binary" ? [n.op.name] : []));
      expect(unary).not.toContain("pow_scalar");
      expect(unary).not.toContain("abs");
      expect(unary).not.toContain("log_sigmoid");
    });
});
