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
import { ADAM, type LinearWorkload, type MlpWorkload, type Workload } from "./workloads.ts";

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

export function trainTfjs(w: Workload, epochs: number): RunResult {
  return w.kind === "linear" ? trainLinear(w, epochs) : trainMlp(w, epochs);
}
