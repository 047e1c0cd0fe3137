/**
 * The page bench/gpu.ts drives in headless Chromium: the same workloads trained by gradwire on WebGPU (its
 * training session: fused kernels, batched epochs, loss read back every epoch), gradwire on the CPU (the
 * runtime's ops, torch's loop) and TensorFlow.js on its WebGPU backend (optimizer.minimize per epoch).
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import { chooseBackend } from "../../src/engine/auto-backend.ts";
import type { TrainingProgram } from "../../src/engine/scheduler-backend.ts";
import { cpuBackend } from "../../src/engine/scheduler-backend.ts";
import { webgpuBackend } from "../../src/gpu/backend.ts";
import { acquireDevice, type GpuDevice } from "../../src/gpu/device.ts";
import { GpuTrainingSession } from "../../src/gpu/session.ts";
import { readParams, registry } from "../../src/nodes/index.ts";
import type { ParamValue } from "../../src/nodes/types.ts";
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
import { ADAM, type LinearWorkload, linreg1m, mlp, thermometer } from "../cpu/workloads.ts";
import { type DeepMlpWorkload, deepMlp } from "./workloads.ts";

export type Peer = "gradwire-webgpu" | "gradwire-cpu" | "gradwire-auto" | "tfjs-webgpu";
export type WorkloadId = "thermometer" | "linreg1m" | "mlp" | "mlp-large" | "linreg10m";
type AnyWorkload = LinearWorkload | ReturnType<typeof mlp> | DeepMlpWorkload;

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
  }
}

/** A stepping loop: `epochs(n)` trains n more epochs and resolves with the last one's loss. */
interface Loop {
  epochs(n: number): Promise<number>;
  dispose(): void;
  choice?: PeerResult["choice"];
}

function param(values: ArrayLike<number>, shape: number[]): Tensor {
  return fromFlat(values, shape, "float32", { requiresGrad: true });
}

/** The workload as runtime tensors: its parameters and a function computing its loss. */
function gradwireModel(w: AnyWorkload): { params: Tensor[]; loss: () => Tensor } {
  if (w.kind === "linear") {
    const x = fromFlat(w.x, [w.x.length]);
    const y = fromFlat(w.y, [w.y.length]);
    const params = [param([w.w0], [1]), param([w.b0], [1])];
    return { params, loss: () => mseLoss(O.add(O.mul(params[0], x), params[1]), y) };
  }
  const x = fromFlat(w.x, [w.n, 2]);
  const labels = fromFlat(w.labels, [w.n], "int64");
  if (w.kind === "mlp") {
    const params = [
      param(w.w1, [w.hidden, 2]),
      param(w.b1, [w.hidden]),
      param(w.w2, [w.classes, w.hidden]),
      param(w.b2, [w.classes]),
    ];
    const [w1, b1, w2, b2] = params;
    return { params, loss: () => crossEntropy(O.linear(O.tanh(O.linear(x, w1, b1)), w2, b2), labels) };
  }
  const params = w.layers.flatMap((l) => [param(l.weight, [l.out, l.in]), param(l.bias, [l.out])]);
  return {
    params,
    loss: () => {
      let h = x;
      for (let i = 0; i < w.layers.length; i++) {
        h = O.linear(h, params[2 * i], params[2 * i + 1]);
        if (i < w.layers.length - 1) h = O.tanh(h);
      }
      return crossEntropy(h, labels);
    },
  };
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
  const opt: Optimizer =
    w.optimizer === "sgd"
      ? new SGD(params, { lr: w.lr })
      : new Adam(params, { lr: w.lr, betas: [ADAM.beta1, ADAM.beta2], eps: ADAM.eps });
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

async function tfjsWebGpu(w: AnyWorkload): Promise<Loop> {
  if (tf.getBackend() !== "webgpu") {
    if (!(await tf.setBackend("webgpu"))) throw new Error("TensorFlow.js's WebGPU backend failed to start");
    await tf.ready();
  }
  const opt =
    w.optimizer === "sgd" ? tf.train.sgd(w.lr) : tf.train.adam(w.lr, ADAM.beta1, ADAM.beta2, ADAM.eps);
  const keep: tf.Tensor[] = [];
  let lossFn: () => tf.Scalar;
  if (w.kind === "linear") {
    const x = tf.tensor1d(w.x);
    const y = tf.tensor1d(w.y);
    const weight = tf.variable(tf.tensor1d([w.w0]));
    const bias = tf.variable(tf.tensor1d([w.b0]));
    keep.push(x, y, weight, bias);
    lossFn = () => tf.losses.meanSquaredError(y, weight.mul(x).add(bias)) as tf.Scalar;
  } else {
    const x = tf.tensor2d(w.x, [w.n, 2]);
    const onehot = tf.oneHot(tf.tensor1d(w.labels, "int32"), w.classes);
    // tfjs's dense layout is (in, out): torch's (out, in) weights transposed once, outside the timed loop.
    const layers =
      w.kind === "mlp"
        ? [
            { weight: w.w1, bias: w.b1, in: 2, out: w.hidden },
            { weight: w.w2, bias: w.b2, in: w.hidden, out: w.classes },
          ]
        : w.layers;
    const vars = layers.map((l) => ({
      w: tf.variable(tf.tensor2d(l.weight, [l.out, l.in]).transpose()),
      b: tf.variable(tf.tensor1d(l.bias)),
    }));
    keep.push(x, onehot, ...vars.flatMap((v) => [v.w, v.b]));
    lossFn = () => {
      let h: tf.Tensor = x;
      vars.forEach((v, i) => {
        h = tf.matMul(h, v.w).add(v.b);
        if (i < vars.length - 1) h = tf.tanh(h);
      });
      return tf.losses.softmaxCrossEntropy(onehot, h) as tf.Scalar;
    };
  }
  return {
    async epochs(n) {
      let last = Number.NaN;
      for (let e = 0; e < n; e++) {
        const cost = opt.minimize(lossFn, e === n - 1);
        if (cost) {
          last = (await cost.data())[0];
          cost.dispose();
        }
      }
      return last;
    },
    dispose: () => {
      tf.dispose(keep);
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
  "tfjs-webgpu": tfjsWebGpu,
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
    const warmLoss = await loop.epochs(warm);
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
