/**
 * One evaluation on the GPU: the values of some tensors a forward pass computes and, optionally, the
 * gradients of given leaves after backpropagating given output gradients (torch's `out.backward(g)`).
 */
import { fromFlat, type Tensor } from "../runtime/tensor.ts";
import { backward, type Seed } from "./autodiff.ts";
import { Capture, traceForward } from "./capture.ts";
import { compileProgram } from "./compile.ts";
import type { GpuDevice } from "./device.ts";
import { GpuProgram } from "./runner.ts";

export interface EvaluateOptions {
  /** Leaves whose gradients are wanted; they (and what depends on them) are computed on the GPU. */
  wrt?: readonly Tensor[];
  /** The gradient flowing into each output (null: that output takes no part in the backward pass). */
  gradOutputs?: readonly (Tensor | null)[];
  /** Fold what does not depend on `wrt` into constants from the CPU trace (default true). */
  fold?: boolean;
}

export interface Evaluation {
  outputs: Tensor[];
  /** Each of `wrt`'s gradient, null where no gradient reaches it (torch's `.grad is None`). */
  grads: (Tensor | null)[];
  /** Kernels the program ran (after fusion), for tests and tuning. */
  kernels: number;
}

export async function evaluateOnGpu(
  dev: GpuDevice,
  forward: () => readonly Tensor[],
  opts: EvaluateOptions = {},
): Promise<Evaluation> {
  const wrt = opts.wrt ?? [];
  const { result, events } = traceForward(forward);
  const cap = new Capture(events, { leaves: wrt, fold: opts.fold });
  const outputs = result.map((t) => cap.valueOf(t));
  const b = cap.builder;
  const seeds: Seed[] = [];
  (opts.gradOutputs ?? []).forEach((g, k) => {
    if (!g) return;
    const data = g.data instanceof Float32Array ? g.data.slice() : Float32Array.from(g.data);
    seeds.push({ node: outputs[k], grad: b.constant(data, outputs[k].shape) });
  });
  const grads = seeds.length ? backward(b, seeds, cap.leafNodes) : wrt.map(() => null);
  const prog = compileProgram(b, {
    leafShapes: wrt.map((t) => t.shape),
    outputs,
    grads,
    groups: [],
    records: null,
    maxBatch: 1,
  });
  const gp = await GpuProgram.create(dev, prog, 1);
  try {
    wrt.forEach((t, slot) => {
      gp.write(prog.params[slot].offset, t.data instanceof Float32Array ? t.data : Float32Array.from(t.data));
    });
    const gradRegions = grads.flatMap((g, slot) => (g ? [prog.grads[slot]] : []));
    const { regions } = await gp.run([], [...prog.outputs, ...gradRegions]);
    const outs = result.map((t, k) => fromFlat(regions[k], t.shape, t.dtype));
    let next = result.length;
    const gradTensors = grads.map((g, slot) =>
      g ? fromFlat(regions[next++], wrt[slot].shape, wrt[slot].dtype) : null,
    );
    return { outputs: outs, grads: gradTensors, kernels: prog.kernels };
  } finally {
    gp.dispose();
  }
}

/** A forward compiled once and run again with new values of its leaves (a landscape's chunks of grid points). */
export interface GpuEvaluator {
  /** Run with these values of the leaves (in order, each of its leaf's size); each output's values. */
  run(values: readonly ArrayLike<number>[]): Promise<Float32Array[]>;
  dispose(): void;
}

/**
 * Trace `forward` once and compile it with `leaves` as its GPU-resident inputs; what does not depend on them is
 * folded into constants from the CPU trace.
 */
export async function compileEvaluation(
  dev: GpuDevice,
  forward: () => readonly Tensor[],
  leaves: readonly Tensor[],
): Promise<GpuEvaluator> {
  const { result, events } = traceForward(forward);
  const cap = new Capture(events, { leaves });
  const outputs = result.map((t) => cap.valueOf(t));
  const prog = compileProgram(cap.builder, {
    leafShapes: leaves.map((t) => t.shape),
    outputs,
    grads: leaves.map(() => null),
    groups: [],
    records: null,
    maxBatch: 1,
  });
  const gp = await GpuProgram.create(dev, prog, 1);
  return {
    async run(values) {
      values.forEach((v, slot) => {
        gp.write(prog.params[slot].offset, v instanceof Float32Array ? v : Float32Array.from(v));
      });
      return (await gp.run([], prog.outputs)).regions;
    },
    dispose: () => gp.dispose(),
  };
}
