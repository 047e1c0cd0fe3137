/**
 * DataLoader: mini-batches of a data set, like `DataLoader(TensorDataset(x, y), batch_size, shuffle=...,
 * generator=torch.Generator().manual_seed(seed), drop_last=...)`. Training iterates its batches, one optimizer
 * step per batch (src/engine/batches.ts); outside training its outputs are the first batch, as
 * `next(iter(loader))` gives. The optional validation tensors (val_x, val_y) mark the graph's validation data:
 * after each epoch they go through the same model in their place, without gradients (docs/minibatches.md).
 */
import { fmtShape, fromFlat, ops, permutation, type Tensor, TorchGenerator } from "../runtime/index.ts";
import { pyArgs } from "./python.ts";
import { seedParam } from "./random.ts";
import { defineKind } from "./registry.ts";
import { meta, req } from "./shapes.ts";
import { InferError, type NodeKind, type ParamReader, type TensorMeta, type TorchContext } from "./types.ts";

/** The ports holding the data set, in TensorDataset's order, and the validation port standing for each. */
export const LOADER_PORTS = ["x", "y"] as const;
export const VALIDATION_PORTS = { x: "val_x", y: "val_y" } as const;

export interface LoaderSettings {
  batchSize: number;
  shuffle: boolean;
  seed: number;
  dropLast: boolean;
}

export function loaderSettings(p: ParamReader): LoaderSettings {
  return {
    batchSize: p.num("batch_size"),
    shuffle: p.bool("shuffle"),
    seed: p.num("seed"),
    dropLast: p.bool("drop_last"),
  };
}

/** How many batches an epoch has: PyTorch's `len(loader)`. */
export function batchCount(n: number, s: LoaderSettings): number {
  return s.dropLast ? Math.floor(n / s.batchSize) : Math.ceil(n / s.batchSize);
}

/**
 * One DataLoader object's epochs, in the order torch 1.13 visits the samples: each `iter(loader)` first draws
 * the workers' base seed from the generator (`torch.empty((), dtype=torch.int64).random_(generator=g)`: one
 * 64-bit draw, even without workers), then RandomSampler yields `torch.randperm(n, generator=g)` and, asked
 * once more at the epoch's end, computes a second permutation of which it yields the first `0` entries: each
 * epoch consumes two permutations' draws. Without shuffle the order is 0..n-1 every epoch.
 */
export class LoaderEpochs {
  private readonly g: TorchGenerator | undefined;

  constructor(
    private readonly n: number,
    private readonly s: LoaderSettings,
  ) {
    this.g = s.shuffle ? new TorchGenerator(s.seed) : undefined;
  }

  /** The next epoch's batches: sample indices, `batch_size` each (the last one shorter unless dropped). */
  next(): number[][] {
    const { n, s, g } = this;
    let order: number[];
    if (g) {
      g.random64();
      order = permutation(g, n);
      permutation(g, n);
    } else order = Array.from({ length: n }, (_, i) => i);
    const out: number[][] = [];
    for (let start = 0; start + (s.dropLast ? s.batchSize : 1) <= n; start += s.batchSize)
      out.push(order.slice(start, Math.min(n, start + s.batchSize)));
    return out;
  }
}

/** How validation is scored, by the objective's loss: accuracy for classifiers, MSE and MAE for regression. */
export type MetricKind = "argmax" | "logits" | "probabilities" | "regression";

/**
 * The validation metric for a loss of this type on an input and target like these, if there is one:
 * accuracy of the argmax for class indices, of a threshold for binary losses, MSE and MAE for regression.
 */
export function metricKind(
  lossType: string,
  input: { shape: readonly number[] },
  target: { shape: readonly number[]; dtype: string },
): MetricKind | undefined {
  const numel = (x: { shape: readonly number[] }) => x.shape.reduce((a, b) => a * b, 1);
  switch (lossType) {
    case "cross_entropy":
    case "nll_loss":
      return input.shape.length === 2 && target.shape.length === 1 && target.dtype === "int64"
        ? "argmax"
        : undefined;
    case "binary_cross_entropy":
      return numel(input) === numel(target) ? "probabilities" : undefined;
    case "binary_cross_entropy_with_logits":
      return numel(input) === numel(target) ? "logits" : undefined;
    case "mse_loss":
    case "l1_loss":
    case "smooth_l1_loss":
    case "huber_loss":
      return numel(input) === numel(target) && input.shape.length === target.shape.length
        ? "regression"
        : undefined;
    default:
      return undefined;
  }
}

/** The rows `index` of `t` (a batch, as TensorDataset's indexing and default_collate's stack give it). */
export function takeRows(t: Tensor, index: readonly number[]): Tensor {
  return ops.indexSelect(t, 0, fromFlat(index, [index.length], "int64"));
}

function rowsOf(m: TensorMeta, port: string, want?: { rows: number; of: string }): number {
  if (m.shape.length === 0)
    throw new InferError(`'${port}' must have a first dimension of samples, got a 0-d tensor`, port);
  if (want && m.shape[0] !== want.rows)
    throw new InferError(
      `'${port}' has ${m.shape[0]} rows (shape ${fmtShape(m.shape)}) but '${want.of}' has ${want.rows}: each sample needs one of each`,
      port,
    );
  return m.shape[0];
}

function sameSample(m: TensorMeta, like: TensorMeta, port: string, of: string): void {
  const a = m.shape.slice(1);
  const b = like.shape.slice(1);
  if (m.dtype !== like.dtype || a.length !== b.length || a.some((d, i) => d !== b[i]))
    throw new InferError(
      `validation samples must look like the training ones: '${port}' is ${m.dtype} ${fmtShape(m.shape)}, '${of}' is ${like.dtype} ${fmtShape(like.shape)}`,
      port,
    );
}

/** `torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=..., ...)`. */
function loaderCode(c: TorchContext): string {
  const s = loaderSettings(c.params);
  return `torch.utils.data.DataLoader(${pyArgs(
    `torch.utils.data.TensorDataset(${c.inputs.x}, ${c.inputs.y})`,
    `batch_size=${s.batchSize}`,
    ...(s.shuffle ? ["shuffle=True", `generator=torch.Generator().manual_seed(${s.seed})`] : []),
    ...(s.dropLast ? ["drop_last=True"] : []),
  )})`;
}

export const dataLoaderKind: NodeKind = defineKind({
  type: "DataLoader",
  family: "Data",
  description: "Mini-batches of x and y, shuffled from a seed, like torch.utils.data.DataLoader",
  inputs: [
    { name: "x", help: "the inputs, one sample per row (TensorDataset's first tensor)" },
    { name: "y", help: "the targets, one per sample (TensorDataset's second tensor)" },
    {
      name: "val_x",
      optional: true,
      help: "validation inputs: after each epoch they take x's place, evaluated without gradients",
    },
    { name: "val_y", optional: true, help: "validation targets, taking y's place" },
  ],
  outputs: [
    { name: "x", help: "a batch of inputs" },
    { name: "y", help: "the batch's targets" },
  ],
  params: [
    { name: "batch_size", type: "number", integer: true, min: 1, default: 1, help: "samples per batch" },
    { name: "shuffle", type: "boolean", default: false, help: "a new random order every epoch" },
    { ...seedParam, help: "the shuffle's generator=torch.Generator().manual_seed(seed)" },
    {
      name: "drop_last",
      type: "boolean",
      default: false,
      help: "drop the last batch when it is smaller than batch_size",
    },
  ],
  infer(ctx) {
    const x = req(ctx, "x");
    const y = req(ctx, "y");
    const n = rowsOf(x, "x");
    rowsOf(y, "y", { rows: n, of: "x" });
    const vx = ctx.inputs.val_x;
    const vy = ctx.inputs.val_y;
    if (!vx !== !vy)
      throw new InferError("validation needs both 'val_x' and 'val_y'", vx ? "val_y" : "val_x");
    if (vx && vy) {
      const m = rowsOf(vx, "val_x");
      rowsOf(vy, "val_y", { rows: m, of: "val_x" });
      sameSample(vx, x, "val_x", "x");
      sameSample(vy, y, "val_y", "y");
    }
    const s = loaderSettings(ctx.params);
    if (batchCount(n, s) === 0)
      throw new InferError(
        `drop_last with batch_size ${s.batchSize} leaves no batch of the ${n} samples: lower batch_size or turn drop_last off`,
      );
    const first = Math.min(n, s.batchSize);
    return { x: meta([first, ...x.shape.slice(1)], x.dtype), y: meta([first, ...y.shape.slice(1)], y.dtype) };
  },
  evaluate({ inputs, params }) {
    const x = inputs.x!;
    const rows = new LoaderEpochs(x.shape[0], loaderSettings(params)).next()[0];
    return { x: takeRows(x, rows), y: takeRows(inputs.y!, rows) };
  },
  dataLoader: { loader: loaderCode },
  torch(c) {
    // Outside a training loop (eval): the first batch. The training loop iterates the loader instead.
    return [`${c.out} = ${loaderCode(c)}`, `${c.outputs.x}, ${c.outputs.y} = next(iter(${c.out}))`];
  },
  samples: [
    {
      name: "first batch",
      inputs: {
        x: [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        y: [1, 0, 1],
      },
      params: { batch_size: 2 },
    },
    {
      name: "shuffled first batch",
      inputs: {
        x: [
          [1, 2],
          [3, 4],
          [5, 6],
          [7, 8],
          [9, 10],
        ],
        y: [0.5, 1, 1.5, 2, 2.5],
      },
      params: { batch_size: 3, shuffle: true, seed: 7 },
    },
  ],
});
