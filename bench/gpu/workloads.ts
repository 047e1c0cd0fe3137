/**
 * The large workload of the WebGPU benchmark: a 2 -> 256 -> 256 -> 2 tanh MLP on 65,536 points, cross_entropy,
 * Adam, with data and torch.nn.Linear-style initial weights drawn from a fixed seed like bench/cpu's.
 */
import { Rng } from "../../src/runtime/index.ts";

export interface Layer {
  in: number;
  out: number;
  /** (out, in) row-major, as torch.nn.Linear holds it. */
  weight: Float32Array;
  bias: Float32Array;
}

export interface DeepMlpWorkload {
  id: "mlp-large";
  title: string;
  kind: "deep-mlp";
  optimizer: "adam";
  epochs: number;
  lr: number;
  n: number;
  classes: number;
  x: Float32Array;
  labels: Int32Array;
  layers: Layer[];
}

export function deepMlp(n = 65_536, widths: number[] = [2, 256, 256, 2], epochs = 20): DeepMlpWorkload {
  const rng = new Rng(4242);
  const x = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = 2 * rng.next() - 1;
    const b = 2 * rng.next() - 1;
    x[2 * i] = a;
    x[2 * i + 1] = b;
    labels[i] = a * a + b * b < 0.5 ? 1 : 0;
  }
  const layers = widths.slice(1).map((out, i) => {
    const inn = widths[i];
    const bound = 1 / Math.sqrt(inn);
    const draw = (len: number) => Float32Array.from({ length: len }, () => (2 * rng.next() - 1) * bound);
    return { in: inn, out, weight: draw(out * inn), bias: draw(out) };
  });
  return {
    id: "mlp-large",
    title: `MLP ${widths.join("->")} tanh, ${n.toLocaleString("en")} points, cross_entropy, Adam`,
    kind: "deep-mlp",
    optimizer: "adam",
    epochs,
    lr: 0.02,
    n,
    classes: widths[widths.length - 1],
    x,
    labels,
    layers,
  };
}
