/**
 * TensorFlow.js as a peer, on its pure-JS "cpu" backend and its WebAssembly "wasm" backend (the .wasm files
 * come inside the npm package). Each epoch is `optimizer.minimize`: forward, loss, gradients and the update,
 * with no gradient left behind to zero.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { type RunResult, startClock } from "./peer.ts";
import { ADAM, type CnnWorkload, type LinearWorkload, type MlpWorkload, type Workload } from "./workloads.ts";

export type TfBackend = "cpu" | "wasm";

export async function useBackend(name: TfBackend): Promise<void> {
  if (name === "wasm") {
    const pkg = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json");
    setWasmPaths(`${join(dirname(pkg), "dist")}/`);
  }
  if (!(await tf.setBackend(name))) throw new Error(`TensorFlow.js backend ${name} failed to initialise`);
  await tf.ready();
}

function optimizerFor(w: Workload): tf.Optimizer {
  return w.optimizer === "sgd" ? tf.train.sgd(w.lr) : tf.train.adam(w.lr, ADAM.beta1, ADAM.beta2, ADAM.eps);
}

/** Runs `step` for every epoch inside a tidy scope; returns the last epoch's loss. */
function loop(epochs: number, opt: tf.Optimizer, lossFn: () => tf.Scalar): RunResult {
  let last = Number.NaN;
  const stop = startClock();
  for (let e = 0; e < epochs; e++) {
    const cost = opt.minimize(lossFn, e === epochs - 1);
    if (cost) {
      last = cost.dataSync()[0];
      cost.dispose();
    }
  }
  const clock = stop();
  return { ...clock, finalLoss: last };
}

function trainLinear(w: LinearWorkload, epochs: number): RunResult {
  const x = tf.tensor1d(w.x);
  const y = tf.tensor1d(w.y);
  const weight = tf.variable(tf.tensor1d([w.w0]));
  const bias = tf.variable(tf.tensor1d([w.b0]));
  const opt = optimizerFor(w);
  try {
    return loop(epochs, opt, () => tf.losses.meanSquaredError(y, weight.mul(x).add(bias)) as tf.Scalar);
  } finally {
    tf.dispose([x, y, weight, bias]);
    opt.dispose();
  }
}

function trainMlp(w: MlpWorkload, epochs: number): RunResult {
  const x = tf.tensor2d(w.x, [w.n, 2]);
  const onehot = tf.oneHot(tf.tensor1d(w.labels, "int32"), w.classes);
  // tfjs's dense layout is (in, out): transpose torch's (out, in) weights once, outside the timed loop.
  const w1 = tf.variable(tf.tensor2d(w.w1, [w.hidden, 2]).transpose());
  const b1 = tf.variable(tf.tensor1d(w.b1));
  const w2 = tf.variable(tf.tensor2d(w.w2, [w.classes, w.hidden]).transpose());
  const b2 = tf.variable(tf.tensor1d(w.b2));
  const opt = optimizerFor(w);
  try {
    return loop(epochs, opt, () => {
      const h = tf.tanh(tf.matMul(x, w1).add(b1));
      return tf.losses.softmaxCrossEntropy(onehot, tf.matMul(h, w2).add(b2)) as tf.Scalar;
    });
  } finally {
    tf.dispose([x, onehot, w1, b1, w2, b2]);
    opt.dispose();
  }
}

function trainCnn(w: CnnWorkload, epochs: number): RunResult {
  // tfjs convolves NHWC images with (kH, kW, in, out) filters: both laid out once, outside the timed loop.
  const x = tf.tensor4d(w.x, [w.n, 1, 8, 8]).transpose([0, 2, 3, 1]) as tf.Tensor4D;
  const onehot = tf.oneHot(tf.tensor1d(w.labels, "int32"), w.classes);
  const convW = tf.variable(
    tf.tensor4d(w.convW, [w.channels, 1, 3, 3]).transpose([2, 3, 1, 0]) as tf.Tensor4D,
  );
  const convB = tf.variable(tf.tensor1d(w.convB));
  const fcW = tf.variable(tf.tensor2d(w.fcW, [w.classes, w.channels * 16]).transpose());
  const fcB = tf.variable(tf.tensor1d(w.fcB));
  const opt = optimizerFor(w);
  try {
    return loop(epochs, opt, () => {
      const conv = tf.relu(tf.conv2d(x, convW as tf.Tensor4D, 1, "same").add(convB)) as tf.Tensor4D;
      // Flattened in torch's (C, H, W) order, so the linear layer sees the same features.
      const pooled = tf
        .maxPool(conv, 2, 2, "valid")
        .transpose([0, 3, 1, 2])
        .reshape([w.n, w.channels * 16]);
      return tf.losses.softmaxCrossEntropy(onehot, tf.matMul(pooled, fcW).add(fcB)) as tf.Scalar;
    });
  } finally {
    tf.dispose([x, onehot, convW, convB, fcW, fcB]);
    opt.dispose();
  }
}

export function trainTfjs(w: Workload, epochs: number): RunResult {
  if (w.kind === "cnn") return trainCnn(w, epochs);
  return w.kind === "linear" ? trainLinear(w, epochs) : trainMlp(w, epochs);
}
