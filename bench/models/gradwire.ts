/**
 * Every benchmark workload as gradwire runtime tensors: its parameters (fresh, from the workload's initial
 * values) and a function computing its loss. bench/cpu (Node) and bench/gpu (the browser page) both train
 * these, so every gradwire peer trains the same model.
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
import { ADAM, type MlpWorkload, type Workload } from "../cpu/workloads.ts";
import type { DeepMlpWorkload, Layer } from "../gpu/workloads.ts";

export type AnyWorkload = Workload | DeepMlpWorkload;

export interface GradwireModel {
  params: Tensor[];
  loss: () => Tensor;
}

function param(values: ArrayLike<number>, shape: number[]): Tensor {
  return fromFlat(values, shape, "float32", { requiresGrad: true });
}

export function gradwireModel(w: AnyWorkload): GradwireModel {
  if (w.kind === "linear") {
    const x = fromFlat(w.x, [w.x.length]);
    const y = fromFlat(w.y, [w.y.length]);
    const params = [param([w.w0], [1]), param([w.b0], [1])];
    return { params, loss: () => mseLoss(O.add(O.mul(params[0], x), params[1]), y) };
  }
  const labels = fromFlat(w.labels, [w.n], "int64");
  if (w.kind === "cnn") {
    const x = fromFlat(w.x, [w.n, 1, 8, 8]);
    const params = [
      param(w.convW, [w.channels, 1, 3, 3]),
      param(w.convB, [w.channels]),
      param(w.fcW, [w.classes, w.channels * 16]),
      param(w.fcB, [w.classes]),
    ];
    const [convW, convB, fcW, fcB] = params;
    return {
      params,
      loss: () => {
        const h = O.maxPool2d(O.relu(O.conv2d(x, convW, convB, { padding: 1 })), 2).values;
        return crossEntropy(O.linear(O.flatten(h, 1), fcW, fcB), labels);
      },
    };
  }
  const x = fromFlat(w.x, [w.n, 2]);
  const layers = denseLayers(w);
  const params = layers.flatMap((l) => [param(l.weight, [l.out, l.in]), param(l.bias, [l.out])]);
  return {
    params,
    loss: () => {
      let h = x;
      for (let i = 0; i < layers.length; i++) {
        h = O.linear(h, params[2 * i], params[2 * i + 1]);
        if (i < layers.length - 1) h = O.tanh(h);
      }
      return crossEntropy(h, labels);
    },
  };
}

/** The dense layers of an MLP workload, in torch.nn.Linear's layout. */
export function denseLayers(w: MlpWorkload | DeepMlpWorkload): Layer[] {
  return w.kind === "mlp"
    ? [
        { weight: w.w1, bias: w.b1, in: 2, out: w.hidden },
        { weight: w.w2, bias: w.b2, in: w.hidden, out: w.classes },
      ]
    : w.layers;
}

export function gradwireOptimizer(w: AnyWorkload, params: Tensor[]): Optimizer {
  return w.optimizer === "sgd"
    ? new SGD(params, { lr: w.lr })
    : new Adam(params, { lr: w.lr, betas: [ADAM.beta1, ADAM.beta2], eps: ADAM.eps });
}
