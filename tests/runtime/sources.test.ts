// The tutorials' own printed values, copied into these tests (they read no file outside the clone), reproduced
// by the runtime directly.
import { describe, expect, it } from "vitest";
import {
  binaryCrossEntropy,
  l1Loss,
  mseLoss,
  nllLoss,
  ops as O,
  SGD,
  type Tensor,
  tensor,
} from "../../src/runtime/index.ts";

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

  it("thermometer: the hand-written gradient loop prints PyTorch's float(loss) digit for digit", () => {
    // The tutorial's `print(f'Epoch {epoch}: Loss {float(loss)}')`, epochs 0-9, float32.
    const printed = [
      2.2774999141693115, 0.5418065786361694, 0.5359362959861755, 0.5311182141304016, 0.5263487100601196,
      0.5216265320777893, 0.5169512629508972, 0.5123223662376404, 0.5077394843101501, 0.5032020807266235,
    ];
    const t_c = tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], { dtype: "float32" });
    const t_u = tensor([0.4, 1.2, 2.5, 3.9, 4.3, 5.7, 6.2, 7.9, 8.3, 9.5, 10.5, 11.5]);
    const model = (w: Tensor, b: Tensor) => O.add(O.mul(w, t_u), b);
    const lossFn = (t_p: Tensor) => O.mean(O.pow(O.sub(t_p, t_c), 2));
    let params = tensor([1.0, 1.0], { dtype: "float32" });
    for (let epoch = 0; epoch < 100; epoch++) {
      const w = O.reshape(O.narrow(params, 0, 0, 1), []);
      const b = O.reshape(O.narrow(params, 0, 1, 1), []);
      const t_p = model(w, b);
      if (epoch < printed.length) expect(lossFn(t_p).item()).toBe(printed[epoch]);
      const dsq = O.mul(O.sub(t_p, t_c), 2);
      const grad = O.stack([O.mean(O.mul(dsq, t_u)), O.mean(dsq)]);
      if (epoch === 0) expect(Array.from(grad.data, (v) => v.toFixed(4))).toEqual(["18.1550", "2.9833"]);
      params = O.sub(params, O.mul(grad, 1e-2));
    }
    expect(Array.from(params.data, (v) => v.toFixed(4))).toEqual(["0.8820", "0.4269"]);
  });

  it("thermometer: loss 0.2942 at w=1, b=0, and the finite-difference steps land at w=0.9379, b=-0.0024", () => {
    const t_c = tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], { dtype: "float32" });
    const t_u = tensor([0.4, 1.2, 2.5, 3.9, 4.3, 5.7, 6.2, 7.9, 8.3, 9.5, 10.5, 11.5]);
    const lossAt = (w: Tensor, b: Tensor) => O.mean(O.pow(O.sub(O.add(O.mul(w, t_u), b), t_c), 2));
    let w = tensor([1], { dtype: "float32" });
    let b = tensor([0], { dtype: "float32" });
    expect(lossAt(w, b).item().toFixed(4)).toBe("0.2942");
    const delta = 0.1;
    const rate = O.sub(lossAt(O.add(w, delta), b), lossAt(w, b));
    expect(rate.item().toFixed(4)).toBe("1.0976");
    w = O.sub(w, O.mul(rate, 1e-2));
    const dw = O.div(O.sub(lossAt(O.add(w, delta), b), lossAt(O.sub(w, delta), b)), 2.0 * delta);
    w = O.sub(w, O.mul(dw, 1e-2));
    const db = O.div(O.sub(lossAt(w, O.add(b, delta)), lossAt(w, O.sub(b, delta))), 2.0 * delta);
    b = O.sub(b, O.mul(db, 1e-2));
    expect([w.item().toFixed(4), b.item().toFixed(4)]).toEqual(["0.9379", "-0.0024"]);
  });

  it("exploring loss functions: L1 0.3500 (float64 against int32), L1 0.8750, MSE 1.3125, argmax [1, 2, 2, 1]", () => {
    const l1 = l1Loss(
      tensor([0.1, 0.3, 0.5, 0.9], { dtype: "float64" }),
      tensor([0, 1, 1, 1], { dtype: "int32" }),
    );
    expect(l1.dtype).toBe("float64");
    expect(l1.item()).toBeCloseTo(0.35, 15);
    const pred = tensor([1, 2.5, 4, 0.5]);
    const truth = tensor([2, 2.5, 2, 1]);
    expect(l1Loss(pred, truth).item()).toBe(0.875);
    expect(mseLoss(pred, truth).item()).toBe(1.3125);
    const probs = tensor([
      [0.1, 0.5, 0.4],
      [0.1, 0.2, 0.7],
      [0.3, 0.25, 0.55],
      [0.3, 0.4, 0.1],
    ]);
    expect(O.argmax(probs, 1).toList()).toEqual([1, 2, 2, 1]);
  });

  it("loss functions maths: MAE 0.049999999999999996, MSE 0.004166666666666667, BCE 0.4500959171713839", () => {
    const f64 = (v: number[]) => tensor(v, { dtype: "float64" });
    expect(l1Loss(f64([0, 0.1, 0.2]), f64([0, 0.2, 0.25])).item()).toBe(0.049999999999999996);
    expect(mseLoss(f64([0, 0.1, 0.2]), f64([0, 0.2, 0.25])).item()).toBe(0.004166666666666667);
    expect(binaryCrossEntropy(f64([0.188, 0.4137, 0.2285]), f64([0, 1, 0])).item()).toBe(0.4500959171713839);
  });

  it("forward-backward: norms and log losses of the flower predictions", () => {
    const y = tensor([0, 1, 0, 0], { dtype: "float32" });
    const large = tensor([0.001, 0.5, 0.1, 0.1]);
    const small = tensor([0.001, 0.9, 0.1, 0.1]);
    // Printed by an old PyTorch whose norm() returned a double; today's float32 norm agrees to 1e-7.
    expect(O.norm(O.sub(y, large)).item()).toBeCloseTo(0.5196162050938572, 6);
    expect(O.norm(O.sub(y, large)).item() ** 2).toBeCloseTo(0.27000100059614146, 6);
    expect(O.norm(O.sub(y, small)).item()).toBeCloseTo(0.17320798296993586, 6);
    expect(O.sum(O.mul(O.neg(y), O.log(large))).item()).toBe(0.6931471824645996);
    expect(O.sum(O.mul(O.neg(y), O.log(small))).item()).toBe(0.10536054521799088);
  });
});
