/**
 * gradwire's CPU backend as the scheduler drives it: tensor ops with autograd, a loss, backward, an optimizer
 * step and zero_grad per epoch, exactly the PyTorch loop. The models are bench/models/gradwire.ts's.
 */
import type { Tensor } from "../../src/runtime/index.ts";
import { type AnyWorkload, gradwireModel, gradwireOptimizer } from "../models/gradwire.ts";
import { type RunResult, startClock } from "./peer.ts";

export function trainGradwire(w: AnyWorkload, epochs: number): RunResult {
  const { params, loss: lossOf } = gradwireModel(w);
  const opt = gradwireOptimizer(w, params);
  let loss: Tensor | null = null;
  const stop = startClock();
  for (let e = 0; e < epochs; e++) {
    loss = lossOf();
    loss.backward();
    opt.step();
    opt.zeroGrad();
  }
  const clock = stop();
  return { ...clock, finalLoss: loss ? loss.item() : Number.NaN };
}
