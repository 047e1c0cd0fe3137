// The tutorials' own printed values (../shared/sources), reproduced by the runtime directly.
import { describe, expect, it } from "vitest";
import { l1Loss, mseLoss, nllLoss, ops as O, SGD, tensor } from "../../src/runtime/index.ts";

describe("values printed by the source tutorials", () => {
  it("L1 of 5 vs 2 in float16 is 3, in float16", () => {
    const loss = l1Loss(tensor(5, { dtype: "float16" }), tensor(2, { dtype: "float16" }));
    expect(loss.dtype).toBe("float16");
    expect(loss.item()).toBe(3);
  });

  it("thermometer regression: loss 2.2775, gradient [18.1550, 2.9833], ends at w=0.8820, b=0.4269", () => {
    const t_c = tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], { dtype: "float32" });
    const t_u = tensor([0.4, 1.2, 2.5, 3.9, 4.3, 5.7, 6.2, 7.9, 8.3, 9.5, 10.5, 11.5]);
    const w = tensor([1], { dtype: "float32", requiresGrad: true });
    const b = tensor([1], { dtype: "float32", requiresGrad: true });
    const opt = new SGD([w, b], { lr: 1e-2 });
    for (let epoch = 0; epoch < 100; epoch++) {
      opt.zeroGrad();
      const loss = mseLoss(O.add(O.mul(w, t_u), b), t_c);
      loss.backward();
      if (epoch === 0) {
        expect(loss.item()).toBeCloseTo(2.2775, 4);
        expect(w.grad?.item()).toBeCloseTo(18.155, 3);
        expect(b.grad?.item()).toBeCloseTo(2.9833, 4);
      }
      opt.step();
    }
    expect(w.item()).toBeCloseTo(0.882, 4);
    expect(b.item()).toBeCloseTo(0.4269, 4);
  });

  it("nll_loss(log_softmax(y)) is 1.6554, and -0.4325 without the log_softmax", () => {
    const y = tensor([
      [0.5153, 0.7051, 0.4947, 0.3446, 0.5288],
      [0.3464, 0.2458, 0.8569, 0.4821, 0.3244],
      [0.4474, 0.6615, 0.0062, 0.6603, 0.2461],
    ]);
    const target = tensor([1, 0, 4]);
    expect(nllLoss(O.logSoftmax(y, 1), target).item()).toBeCloseTo(1.6554, 4);
    expect(nllLoss(y, target).item()).toBeCloseTo(-0.4325, 4);
  });
});
