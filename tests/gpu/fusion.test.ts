// What the planner makes of real training programs (no GPU needed): how many kernels an epoch dispatches,
// which ops share a kernel, that views cost no copies, and that temporaries share memory.
import { describe, expect, it } from "vitest";
import { backward } from "../../src/gpu/autodiff.ts";
import { Capture, traceForward } from "../../src/gpu/capture.ts";
import { compileProgram, type GroupSpec } from "../../src/gpu/compile.ts";
import { stateNames } from "../../src/gpu/optim.ts";
import { crossEntropy, fromFlat, mseLoss, ops as O, randn, type Tensor } from "../../src/runtime/index.ts";

/** Compile one training epoch (forward, backward, an Adam step) of `loss` over `params`. */
function epochOf(params: Tensor[], loss: () => Tensor) {
  const { result, events } = traceForward(loss);
  const cap = new Capture(events, { leaves: params });
  const b = cap.builder;
  const l = cap.valueOf(result);
  const grads = backward(b, [{ node: l, grad: b.fill(1, []) }], cap.leafNodes);
  const group: GroupSpec = {
    kind: "Adam",
    slots: params.map((_, i) => i),
    states: stateNames("Adam", {}),
    guards: [l],
  };
  return compileProgram(b, {
    leafShapes: params.map((p) => p.shape),
    outputs: [],
    grads,
    groups: [group],
    records: { header: [l], slots: params.map((_, i) => i) },
    maxBatch: 4,
  });
}

const param = (shape: number[], seed: number) => randn(shape, seed).requiresGrad_();

describe("kernel fusion", () => {
  it("the 1M-point regression's loss and both gradients are one pass over x and y", () => {
    const n = 1_000_000;
    const x = randn([n], 1);
    const y = randn([n], 2);
    const w = param([1], 3);
    const b = param([1], 4);
    const prog = epochOf([w, b], () => mseLoss(O.add(O.mul(w, x), b), y));
    // A split reduction (partials, then their sums) with three accumulators, and the Adam step.
    expect(prog.passes).toHaveLength(3);
    expect(prog.passes[0].wgsl.match(/var acc\d+: f32/g)).toHaveLength(3);
    // x and y are read in that one pass only.
    const reads = (p: (typeof prog.passes)[number]) => (p.wgsl.match(/A\[\d+u \+ ifl\]/g) ?? []).length;
    expect(reads(prog.passes[0])).toBe(2);
    expect(prog.passes.slice(1).every((p) => reads(p) === 0)).toBe(true);
  });

  it("negative constants inlined into expressions stay valid WGSL (no `--` decrement token)", () => {
    const x = randn([8], 1);
    const w = param([8], 3);
    // div's gradient for its divisor is -a / (b * b), here with a = -2.
    const prog = epochOf([w], () => O.sum(O.sub(-0.5, O.div(-2, O.mul(w, x)))));
    for (const p of prog.passes) expect(p.wgsl).not.toMatch(/--/);
  });

  it("the thermometer epoch is one kernel and the optimizer step", () => {
    const x = fromFlat([0.4, 1.2, 2.5, 3.9, 4.3, 5.7, 6.2, 7.9, 8.3, 9.5, 10.5, 11.5], [12]);
    const y = fromFlat([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [12]);
    const w = param([1], 5);
    const b = param([1], 6);
    expect(epochOf([w, b], () => mseLoss(O.add(O.mul(w, x), b), y)).passes).toHaveLength(2);
  });

  it("a tanh MLP with cross_entropy: bias and activation in the matmul's kernel, no transposing copies", () => {
    const x = randn([256, 2], 7);
    const labels = fromFlat(
      Array.from({ length: 256 }, (_, i) => i % 2),
      [256],
      "int64",
    );
    const [w1, b1, w2, b2] = [param([16, 2], 8), param([16], 9), param([2, 16], 10), param([2], 11)];
    const prog = epochOf([w1, b1, w2, b2], () =>
      crossEntropy(O.linear(O.tanh(O.linear(x, w1, b1)), w2, b2), labels),
    );
    expect(prog.kernels).toBeLessThanOrEqual(11);
    const matmuls = prog.passes.filter((p) => /c0_0 = c0_0 \+ a0 \* b0/.test(p.wgsl));
    // x @ W1^T and h @ W2^T forward; dZ2 @ W2, and the two weight gradients as W-shaped products (never a
    // transposed product copied into the weight's layout).
    expect(matmuls).toHaveLength(5);
    // The first layer's bias and tanh run in its matmul's kernel.
    expect(matmuls.some((p) => /gw_tanh/.test(p.wgsl))).toBe(true);
  });

  it("temporaries that are not alive at the same time share memory", () => {
    const x = randn([512, 8], 12);
    const params = [param([8, 8], 13), param([8, 8], 14), param([8, 8], 15)];
    const prog = epochOf(params, () => {
      let h = x;
      for (const p of params) h = O.tanh(O.matmul(h, p));
      return O.mean(O.mul(h, h));
    });
    // Each layer stores a 512 x 8 activation for the backward pass, and the backward's temporaries reuse
    // what the forward's no longer need: the arena is far smaller than every temporary side by side.
    const temporaries = prog.size - prog.records!.base - prog.records!.size * 4;
    expect(temporaries).toBeLessThan(10 * 512 * 8);
    expect(prog.passes.length).toBeGreaterThan(5);
  });
});
