/**
 * gradwire's CPU backend as the scheduler drives it: tensor ops with autograd, a loss, backward, an optimizer
 * step and zero_grad per epoch, exactly the PyTorch loop.
 */
import {
  Adam,
  crossEntropy,
  fromFlat,
  mseLoss,
  ops as O,
  type Optimizer,
  SGD,
  type Tensor,
} from "../../src/runtime/index.ts";
import { type RunResult, startClock } from "./peer.ts";
import { ADAM, type CnnWorkload, type LinearWorkload, type MlpWorkload, type Workload } from "./workloads.ts";

function param(values: ArrayLike<number>, shape: number[]): Tensor {
  return fromFlat(values, shape, "float32", { requiresGrad: true });
}

function optimizerFor(w: Workload, params: Tensor[]): Optimizer {
  return w.optimizer === "sgd"
    ? new SGD(params, { lr: w.lr })
    : new Adam(params, { lr: w.lr, betas: [ADAM.beta1, ADAM.beta2], eps: ADAM.eps });
}

function trainLinear(w: LinearWorkload, epochs: number): RunResult {
  const x = fromFlat(w.x, [w.x.length]);
  const y = fromFlat(w.y, [w.y.length]);
  const weight = param([w.w0], [1]);
  const bias = param([w.b0], [1]);
  const opt = optimizerFor(w, [weight, bias]);
  let loss: Tensor | null = null;
  const stop = startClock();
  for (let e = 0; e < epochs; e++) {
    loss = mseLoss(O.add(O.mul(weight, x), bias), y);
    loss.backward();
    opt.step();
    opt.zeroGrad();
  }
  const clock = stop();
  return { ...clock, finalLoss: loss ? loss.item() : Number.NaN };
}

function trainMlp(w: MlpWorkload, epochs: number): RunResult {
  const x = fromFlat(w.x, [w.n, 2]);
  const labels = fromFlat(w.labels, [w.n], "int64");
  const w1 = param(w.w1, [w.hidden, 2]);
  const b1 = param(w.b1, [w.hidden]);
  const w2 = param(w.w2, [w.classes, w.hidden]);
  const b2 = param(w.b2, [w.classes]);
  const opt = optimizerFor(w, [w1, b1, w2, b2]);
  let loss: Tensor | null = null;
  const stop = startClock();
  for (let e = 0; e < epochs; e++) {
    const h = O.tanh(O.linear(x, w1, b1));
    loss = crossEntropy(O.linear(h, w2, b2), labels);
    loss.backward();
    opt.step();
    opt.zeroGrad();
  }
  const clock = stop();
  return { ...clock, finalLoss: loss ? loss.item() : Number.NaN };
}

function trainCnn(w: CnnWorkload, epochs: number): RunResult {
  const x = fromFlat(w.x, [w.n, 1, 8, 8]);
  const labels = fromFlat(w.labels, [w.n], "int64");
  const convW = param(w.convW, [w.channels, 1, 3, 3]);
  const convB = param(w.convB, [w.channels]);
  const fcW = param(w.fcW, [w.classes, w.channels * 16]);
  const fcB = param(w.fcB, [w.classes]);
  const opt = optimizerFor(w, [convW, convB, fcW, fcB]);
  let loss: Tensor | null = null;
  const stop = startClock();
  for (let e = 0; e < epochs; e++) {
    const h = O.maxPool2d(O.relu(O.conv2d(x, convW, convB, { padding: 1 })), 2).values;
    loss = crossEntropy(O.linear(O.flatten(h, 1), fcW, fcB), labels);
    loss.backward();
    opt.step();
    opt.zeroGrad();
  }
  const clock = stop();
  return { ...clock, finalLoss: loss ? loss.item() : Number.NaN };
}

export function trainGradwire(w: Workload, epochs: number): RunResult {
  if (w.kind === "cnn") return trainCnn(w, epochs);
  return w.kind === "linear" ? trainLinear(w, epochs) : trainMlp(w, epochs);
}
