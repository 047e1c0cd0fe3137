/**
 * The page bench/gpu.ts drives in headless Chromium: the same workloads trained by gradwire on WebGPU (its
 * training session: fused kernels, batched epochs, loss read back every epoch), gradwire on the CPU (the
 * runtime's ops, torch's loop) and TensorFlow.js on its WebGPU, wasm and cpu backends (optimizer.minimize per
 * epoch). Every peer trains bench/models' definition of the workload.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import wasmPlain from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url";
import wasmSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url";
import wasmThreaded from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url";
import { chooseBackend } from "../../src/engine/auto-backend.ts";
import type { TrainingProgram } from "../../src/engine/scheduler-backend.ts";
import { cpuBackend } from "../../src/engine/scheduler-backend.ts";
import { webgpuBackend } from "../../src/gpu/backend.ts";
import { acquireDevice, type GpuDevice } from "../../src/gpu/device.ts";
import { GpuTrainingSession } from "../../src/gpu/session.ts";
import { readParams, registry } from "../../src/nodes/index.ts";
import type { ParamValue } from "../../src/nodes/types.ts";
import { ADAM, cnn, linreg1m, mlp, thermometer } from "../cpu/workloads.ts";
import { type AnyWorkload, gradwireModel, gradwireOptimizer } from "../models/gradwire.ts";
import { missingKernel, tfjsModel, tfjsOptimizer } from "../models/tfjs.ts";
import { deepMlp } from "./workloads.ts";

// The wasm backend fetches its binary itself: point it at the copies the build emits. (Without cross-origin
// isolation the page has no SharedArrayBuffer, so it loads the single-threaded SIMD build.)
setWasmPaths({
  "tfjs-backend-wasm.wasm": wasmPlain,
  "tfjs-backend-wasm-simd.wasm": wasmSimd,
  "tfjs-backend-wasm-threaded-simd.wasm": wasmThreaded,
});

export type Peer =
  | "gradwire-webgpu"
  | "gradwire-cpu"
  | "gradwire-auto"
  | "tfjs-webgpu"
  | "tfjs-wasm"
  | "tfjs-cpu";
export type WorkloadId = "thermometer" | "linreg1m" | "mlp" | "mlp-large" | "linreg10m" | "cnn";

export interface PeerResult {
  peer: Peer;
  workload: WorkloadId;
  /** Epochs timed, their seconds, and epochs per second. */
  epochs: number;
  seconds: number;
  epochsPerSecond: number;
  /** One-off cost before the first epoch (tracing, compiling kernels), seconds. */
  setupSeconds: number;
  /** The loss of the last warm-up epoch: every peer trains the same number of them, so these agree. */
  warmEpochs: number;
  warmLoss: number;
  finalLoss: number;
  /** gradwire-auto: the backend it chose, why, and how long its measurement took (in setupSeconds too). */
  choice?: { backend: string; reason: string; seconds: number };
  /** A peer that cannot train the workload at all (TensorFlow.js's own error): no rate, and the reason. */
  cannot?: string;
}

function workload(id: WorkloadId): AnyWorkload {
  switch (id) {
    case "thermometer":
      return thermometer();
    case "linreg1m":
      return linreg1m();
    case "linreg10m":
      return linreg1m(10_000_000, 20);
    case "mlp":
      return mlp();
    case "mlp-large":
      return deepMlp();
    case "cnn":
      return cnn();
  }
}

/** A stepping loop: `epochs(n)` trains n more epochs and resolves with the last one's loss. */
interface Loop {
  epochs(n: number): Promise<number>;
  dispose(): void;
  choice?: PeerResult["choice"];
}

function hyper(w: AnyWorkload): { kind: string; values: Record<string, ParamValue> } {
  return w.optimizer === "sgd"
    ? { kind: "SGD", values: { lr: w.lr } }
    : { kind: "Adam", values: { lr: w.lr, betas: [ADAM.beta1, ADAM.beta2], eps: ADAM.eps } };
}

let device: GpuDevice | null = null;

/** The workload as the trainer hands it to a backend (fresh parameters each call). */
function programOf(w: AnyWorkload): TrainingProgram {
  const { params, loss } = gradwireModel(w);
  const h = hyper(w);
  const kind = registry.get(h.kind);
  if (!kind) throw new Error(`no optimizer ${h.kind}`);
  return {
    groups: [
      {
        nodeId: "opt",
        kind,
        params: params.map((tensor, i) => ({ id: `p${i}`, nodeId: `p${i}`, leaf: "", tensor })),
        hyper: readParams(kind, h.values),
        zeroGrad: true,
        loss: { nodeId: "loss", port: "out" },
      },
    ],
    forward: () => {
      const l = loss();
      return { losses: [l], objective: l };
    },
    labelOf: (id) => id,
  };
}

async function gradwireWebGpu(w: AnyWorkload): Promise<Loop> {
  device ??= await acquireDevice();
  const session = await GpuTrainingSession.start(device, programOf(w));
  return {
    async epochs(n) {
      let last = Number.NaN;
      for (let e = 0; e < n; e++) last = (await session.epoch(n - e)).loss;
      return last;
    },
    dispose: () => session.dispose(),
  };
}

async function gradwireCpu(w: AnyWorkload): Promise<Loop> {
  const { params, loss } = gradwireModel(w);
  const opt = gradwireOptimizer(w, params);
  return {
    async epochs(n) {
      let last = Number.NaN;
      for (let e = 0; e < n; e++) {
        opt.zeroGrad();
        const l = loss();
        l.backward();
        last = l.item();
        opt.step();
      }
      return last;
    },
    dispose: () => {},
  };
}

/** TensorFlow.js on one of its backends: `optimizer.minimize` per epoch, the last epoch's loss read back. */
async function tfjsOn(backend: "webgpu" | "wasm" | "cpu", w: AnyWorkload): Promise<Loop> {
  if (tf.getBackend() !== backend) {
    if (!(await tf.setBackend(backend)))
      throw new Error(`TensorFlow.js's ${backend} backend failed to start`);
    await tf.ready();
  }
  const model = tfjsModel(w);
  const opt = tfjsOptimizer(w);
  return {
    async epochs(n) {
      let last = Number.NaN;
      for (let e = 0; e < n; e++) {
        const cost = opt.minimize(model.loss, e === n - 1);
        if (cost) {
          last = (await cost.data())[0];
          cost.dispose();
        }
      }
      return last;
    },
    dispose: () => {
      tf.dispose(model.keep);
      opt.dispose();
    },
  };
}

/**
 * gradwire's auto backend: its measurement (on probe copies of the workload, for the workload's epochs), then
 * the chosen backend's loop. The measurement counts as set-up.
 */
async function gradwireAuto(w: AnyWorkload): Promise<Loop> {
  const t0 = performance.now();
  const decision = await chooseBackend(
    {
      probe: () => programOf(w),
      cpu: cpuBackend,
      gpu: async () => {
        device ??= await acquireDevice();
        return webgpuBackend(device);
      },
    },
    { epochs: w.epochs },
  );
  const seconds = (performance.now() - t0) / 1000;
  const loop = decision.backend === "webgpu" ? await gradwireWebGpu(w) : await gradwireCpu(w);
  return { ...loop, choice: { backend: decision.backend, reason: decision.reason, seconds } };
}

const PEERS: Record<Peer, (w: AnyWorkload) => Promise<Loop>> = {
  "gradwire-webgpu": gradwireWebGpu,
  "gradwire-cpu": gradwireCpu,
  "gradwire-auto": gradwireAuto,
  "tfjs-webgpu": (w) => tfjsOn("webgpu", w),
  "tfjs-wasm": (w) => tfjsOn("wasm", w),
  "tfjs-cpu": (w) => tfjsOn("cpu", w),
};

/**
 * Set up, warm up (kernels compiled, first batches run), then time as many epochs as fit in about
 * `targetSeconds` (at least `minEpochs`, at most the workload's epochs).
 */
async function bench(
  peer: Peer,
  id: WorkloadId,
  targetSeconds: number,
  minEpochs: number,
): Promise<PeerResult> {
  const w = workload(id);
  const t0 = performance.now();
  const loop = await PEERS[peer](w);
  const setupSeconds = (performance.now() - t0) / 1000;
  try {
    const warm = Math.max(1, Math.min(5, Math.ceil(w.epochs / 50)));
    const tw = performance.now();
    let warmLoss: number;
    try {
      warmLoss = await loop.epochs(warm);
    } catch (e) {
      // A TensorFlow.js backend that cannot train the model is reported as such in the table, not hidden.
      const cannot = peer.startsWith("tfjs-") ? missingKernel(e) : null;
      if (!cannot) throw e;
      const none = { epochs: 0, seconds: 0, epochsPerSecond: Number.NaN, warmLoss: Number.NaN };
      return { peer, workload: id, ...none, setupSeconds, warmEpochs: warm, finalLoss: Number.NaN, cannot };
    }
    const perEpoch = (performance.now() - tw) / 1000 / warm;
    const epochs = Math.max(
      minEpochs,
      Math.min(w.epochs, Math.ceil(targetSeconds / Math.max(perEpoch, 1e-6))),
    );
    const t1 = performance.now();
    const finalLoss = await loop.epochs(epochs);
    const seconds = (performance.now() - t1) / 1000;
    return {
      peer,
      workload: id,
      epochs,
      seconds,
      epochsPerSecond: epochs / seconds,
      setupSeconds,
      warmEpochs: warm,
      warmLoss,
      finalLoss,
      ...(loop.choice ? { choice: loop.choice } : {}),
    };
  } finally {
    loop.dispose();
  }
}

async function adapter(): Promise<string> {
  const a = await navigator.gpu?.requestAdapter();
  if (!a) return "no WebGPU adapter";
  return [a.info.vendor, a.info.architecture, a.info.device, a.info.description].filter(Boolean).join(" ");
}

declare global {
  interface Window {
    gradwireBench: { bench: typeof bench; adapter: typeof adapter; ready: boolean };
  }
}

window.gradwireBench = { bench, adapter, ready: true };
