/**
 * TensorFlow.js as a peer, on its pure-JS "cpu" backend and its WebAssembly "wasm" backend (the .wasm files
 * come inside the npm package). Each epoch is `optimizer.minimize`: forward, loss, gradients and the update,
 * with no gradient left behind to zero. The models are bench/models/tfjs.ts's.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import type { AnyWorkload } from "../models/gradwire.ts";
import { tfjsModel, tfjsOptimizer } from "../models/tfjs.ts";

export { missingKernel } from "../models/tfjs.ts";

import { type RunResult, startClock } from "./peer.ts";

export type TfBackend = "cpu" | "wasm";

export async function useBackend(name: TfBackend): Promise<void> {
  if (name === "wasm") {
    const pkg = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json");
    setWasmPaths(`${join(dirname(pkg), "dist")}/`);
  }
  if (!(await tf.setBackend(name))) throw new Error(`TensorFlow.js backend ${name} failed to initialise`);
  await tf.ready();
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

export function trainTfjs(w: AnyWorkload, epochs: number): RunResult {
  const model = tfjsModel(w);
  const opt = tfjsOptimizer(w);
  try {
    return loop(epochs, opt, model.loss);
  } finally {
    tf.dispose(model.keep);
    opt.dispose();
  }
}
