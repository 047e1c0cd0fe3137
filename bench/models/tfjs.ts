/**
 * Every benchmark workload as a TensorFlow.js model: its variables (from the workload's initial values) and a
 * loss function for `optimizer.minimize`. bench/cpu (Node: cpu, wasm) and bench/gpu (the browser page: cpu,
 * wasm, webgpu) both train these, so every TensorFlow.js peer trains the model gradwire trains.
 */
import * as tf from "@tensorflow/tfjs";
import { ADAM } from "../cpu/workloads.ts";
import { type AnyWorkload, denseLayers } from "./gradwire.ts";

export interface TfjsModel {
  loss: () => tf.Scalar;
  /** Data and variables, disposed with the model. */
  keep: tf.Tensor[];
}

export function tfjsModel(w: AnyWorkload): TfjsModel {
  if (w.kind === "linear") {
    const x = tf.tensor1d(w.x);
    const y = tf.tensor1d(w.y);
    const weight = tf.variable(tf.tensor1d([w.w0]));
    const bias = tf.variable(tf.tensor1d([w.b0]));
    return {
      loss: () => tf.losses.meanSquaredError(y, weight.mul(x).add(bias)) as tf.Scalar,
      keep: [x, y, weight, bias],
    };
  }
  const onehot = tf.tidy(() => tf.oneHot(tf.tensor1d(w.labels, "int32"), w.classes));
  if (w.kind === "cnn") {
    // tfjs convolves NHWC images with (kH, kW, in, out) filters: both laid out once, outside the timed loop.
    const x = tf.tidy(() => tf.tensor4d(w.x, [w.n, 1, 8, 8]).transpose([0, 2, 3, 1]) as tf.Tensor4D);
    const convW = tf.variable(
      tf.tidy(() => tf.tensor4d(w.convW, [w.channels, 1, 3, 3]).transpose([2, 3, 1, 0]) as tf.Tensor4D),
    );
    const convB = tf.variable(tf.tensor1d(w.convB));
    const fcW = tf.variable(tf.tidy(() => tf.tensor2d(w.fcW, [w.classes, w.channels * 16]).transpose()));
    const fcB = tf.variable(tf.tensor1d(w.fcB));
    return {
      loss: () => {
        const conv = tf.relu(tf.conv2d(x, convW as tf.Tensor4D, 1, "same").add(convB)) as tf.Tensor4D;
        // Flattened in torch's (C, H, W) order, so the linear layer sees the same features.
        const pooled = tf
          .maxPool(conv, 2, 2, "valid")
          .transpose([0, 3, 1, 2])
          .reshape([w.n, w.channels * 16]);
        return tf.losses.softmaxCrossEntropy(onehot, tf.matMul(pooled, fcW).add(fcB)) as tf.Scalar;
      },
      keep: [x, onehot, convW, convB, fcW, fcB],
    };
  }
  const x = tf.tensor2d(w.x, [w.n, 2]);
  // tfjs's dense layout is (in, out): torch's (out, in) weights transposed once, outside the timed loop.
  const vars = denseLayers(w).map((l) => ({
    w: tf.variable(tf.tidy(() => tf.tensor2d(l.weight, [l.out, l.in]).transpose())),
    b: tf.variable(tf.tensor1d(l.bias)),
  }));
  return {
    loss: () => {
      let h: tf.Tensor = x;
      vars.forEach((v, i) => {
        h = tf.matMul(h, v.w).add(v.b);
        if (i < vars.length - 1) h = tf.tanh(h);
      });
      return tf.losses.softmaxCrossEntropy(onehot, h) as tf.Scalar;
    },
    keep: [x, onehot, ...vars.flatMap((v) => [v.w, v.b])],
  };
}

/**
 * A TensorFlow.js backend that lacks a kernel the model needs (tfjs-backend-wasm has no Conv2DBackpropFilter,
 * so it cannot train a convolution) throws this error: what the benchmarks report, never hide. Null for any
 * other error, which is a broken benchmark.
 */
export function missingKernel(e: unknown): string | null {
  const m = /^Kernel '(\w+)' not registered for backend '(\w+)'/.exec(e instanceof Error ? e.message : "");
  return m ? `missing kernel ${m[1]} on the ${m[2]} backend` : null;
}

export function tfjsOptimizer(w: AnyWorkload): tf.Optimizer {
  return w.optimizer === "sgd" ? tf.train.sgd(w.lr) : tf.train.adam(w.lr, ADAM.beta1, ADAM.beta2, ADAM.eps);
}
