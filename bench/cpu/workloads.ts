/**
 * The three benchmark workloads and their data. Every peer (gradwire, TensorFlow.js, PyTorch) trains exactly
 * these float32 arrays from exactly these initial parameters, so their final losses must agree.
 */
import { Rng } from "../../src/runtime/index.ts";

export type WorkloadId = "thermometer" | "linreg1m" | "mlp" | "cnn";

interface Common {
  id: WorkloadId;
  title: string;
  epochs: number;
  lr: number;
}

/** Thermometer data from the tutorial thermometer-linear-regression.txt (copied here), model w*x+b. */
export interface LinearWorkload extends Common {
  kind: "linear";
  optimizer: "sgd" | "adam";
  x: Float32Array;
  y: Float32Array;
  w0: number;
  b0: number;
}

/** A 2 -> hidden -> classes tanh MLP trained with cross_entropy on class-index targets. */
export interface MlpWorkload extends Common {
  kind: "mlp";
  optimizer: "adam";
  n: number;
  hidden: number;
  classes: number;
  /** (n, 2) row-major inputs. */
  x: Float32Array;
  /** n class indices. */
  labels: Int32Array;
  /** torch.nn.Linear layouts: weight (out, in), bias (out). */
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

/**
 * A small CNN on 8x8 one-channel images: conv2d (3x3, padding 1) -> relu -> max_pool2d 2 -> flatten -> linear ->
 * cross_entropy, trained with Adam on one batch per epoch.
 */
export interface CnnWorkload extends Common {
  kind: "cnn";
  optimizer: "adam";
  /** The batch: (n, 1, 8, 8) row-major images. */
  n: number;
  channels: number;
  classes: number;
  x: Float32Array;
  labels: Int32Array;
  /** torch layouts: conv weight (channels, 1, 3, 3), bias (channels); fc weight (classes, channels * 16), bias. */
  convW: Float32Array;
  convB: Float32Array;
  fcW: Float32Array;
  fcB: Float32Array;
}

export type Workload = LinearWorkload | MlpWorkload | CnnWorkload;

// The tutorial's 12 readings: t_c in Celsius, t_u in the unknown unit.
const T_C = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const T_U = [0.4, 1.2, 2.5, 3.9, 4.3, 5.7, 6.2, 7.9, 8.3, 9.5, 10.5, 11.5];

/** Values uniform in ±1/sqrt(fan_in), as torch bounds a layer's default initial weights. */
function boundedUniform(rng: Rng) {
  return (len: number, fanIn: number) => {
    const bound = 1 / Math.sqrt(fanIn);
    return Float32Array.from({ length: len }, () => (2 * rng.next() - 1) * bound);
  };
}

export function thermometer(epochs = 5000): LinearWorkload {
  return {
    id: "thermometer",
    title: "thermometer, 12 points, SGD",
    kind: "linear",
    optimizer: "sgd",
    epochs,
    lr: 1e-2,
    x: Float32Array.from(T_U),
    y: Float32Array.from(T_C),
    w0: 1,
    b0: 1,
  };
}

/** y = 3x + 2 + noise over x in [-1, 1), from a fixed seed. */
export function linreg1m(n = 1_000_000, epochs = 100): LinearWorkload {
  const rng = new Rng(1234);
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = 2 * rng.next() - 1;
    y[i] = 3 * x[i] + 2 + 0.1 * rng.normal();
  }
  return {
    id: "linreg1m",
    title: `linear w*x+b, ${n.toLocaleString("en")} points, Adam`,
    kind: "linear",
    optimizer: "adam",
    epochs,
    lr: 0.1,
    x,
    y,
    w0: 0,
    b0: 0,
  };
}

/** Points in [-1, 1)^2 labelled by whether they lie inside a circle; weights as torch.nn.Linear draws them. */
export function mlp(n = 4096, hidden = 64, epochs = 200): MlpWorkload {
  const rng = new Rng(42);
  const x = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = 2 * rng.next() - 1;
    const b = 2 * rng.next() - 1;
    x[2 * i] = a;
    x[2 * i + 1] = b;
    labels[i] = a * a + b * b < 0.5 ? 1 : 0;
  }
  const uniform = boundedUniform(rng);
  const classes = 2;
  return {
    id: "mlp",
    title: `MLP 2->${hidden}->${classes} tanh, ${n} points, cross_entropy, Adam`,
    kind: "mlp",
    optimizer: "adam",
    epochs,
    lr: 0.02,
    n,
    hidden,
    classes,
    x,
    labels,
    w1: uniform(hidden * 2, 2),
    b1: uniform(hidden, 2),
    w2: uniform(classes * hidden, hidden),
    b2: uniform(classes, hidden),
  };
}

/** Images of noise plus a bright stripe whose row (0..7) is the class; weights bounded as torch's defaults. */
export function cnn(n = 64, channels = 8, epochs = 200): CnnWorkload {
  const rng = new Rng(7);
  const classes = 8;
  const x = new Float32Array(n * 64);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = Math.floor(rng.next() * classes);
    for (let p = 0; p < 64; p++) x[i * 64 + p] = rng.next() + (Math.floor(p / 8) === labels[i] ? 1 : 0);
  }
  const uniform = boundedUniform(rng);
  const features = channels * 16;
  return {
    id: "cnn",
    title: `CNN conv 1->${channels} 3x3, relu, max_pool 2, linear ${features}->${classes}, batch ${n} of 8x8, Adam`,
    kind: "cnn",
    optimizer: "adam",
    epochs,
    lr: 0.01,
    n,
    channels,
    classes,
    x,
    labels,
    convW: uniform(channels * 9, 9),
    convB: uniform(channels, 9),
    fcW: uniform(classes * features, features),
    fcB: uniform(classes, features),
  };
}

export function allWorkloads(): Workload[] {
  return [thermometer(), linreg1m(), mlp(), cnn()];
}

/** Adam's hyper-parameters everywhere: torch's defaults (tfjs's own default epsilon differs, so it is set). */
export const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;
