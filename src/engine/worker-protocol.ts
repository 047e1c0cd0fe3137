/**
 * The messages between the page and the scheduler's Web Worker. The page sends the graph (whole, then as
 * immer patches) and run commands; the worker answers with validation, node values, gradients, batched epoch
 * records and the training state. Everything is structured-clone friendly; tensor data and epoch records travel
 * as typed arrays.
 */
import type { Patch } from "immer";
import type { GraphDoc } from "../graph/types.ts";
import type { Issue } from "../graph/validate.ts";
import type { TensorMeta } from "../nodes/types.ts";
import type { DType, Storage } from "../runtime/dtype.ts";
import { stridesOf } from "../runtime/shape.ts";
import type { Tensor } from "../runtime/tensor.ts";
import type { BoundaryResult, LossSlice, ParamCoord } from "./landscape.ts";
import type { RecordColumns } from "./record-columns.ts";
import type { BackendName, BackendRequest } from "./scheduler-backend.ts";
import type { TrainState } from "./train.ts";

export interface WorkerOptions {
  /**
   * Tensors up to this many elements are sent whole with values and gradients; larger ones send only the corners
   * PyTorch prints (see `corners`) and their stats. Default 4096.
   */
  previewLimit?: number;
  /** Record parameter values and gradients per epoch only for tensors up to this size. Default 4096. */
  recordLimit?: number;
  /** Compute gradients of the objective after each edit (for gradient previews). Default true. */
  gradients?: boolean;
  /** While training, refresh node values at most this often (ms). Default 100. */
  valuesIntervalMs?: number;
}

export type ToWorker =
  | { type: "load"; doc: GraphDoc }
  | { type: "patches"; patches: Patch[] }
  | { type: "run"; epochs?: number }
  | { type: "pause" }
  | { type: "resume" }
  | { type: "step" }
  | { type: "stop" }
  | { type: "reset" }
  | { type: "backend"; backend: BackendRequest }
  /** Send every node's value again (after the page lost its copy). */
  | { type: "refresh" }
  | { type: "options"; options: WorkerOptions }
  /** The model's output over a grid of inputs and at the data (the decision boundary), at the last record's
   * parameters. `id` comes back with the answer. */
  | { type: "boundary"; id: number; n?: number }
  /** The objective over a grid of values of two parameter elements (the loss landscape). */
  | { type: "landscape"; id: number; a: ParamCoord; b: ParamCoord; xs: number[]; ys: number[] }
  /** The objective along the negative gradient and random filter-normalised directions. */
  | { type: "slices"; id: number; alphas: number[]; random?: number }
  /**
   * A CSV file for csv nodes naming it by one of `keys` (sha256, path): see src/nodes/csv/store.ts. Its text,
   * or for a large file read in the page's CSV worker its UTF-8 bytes, handed over rather than copied.
   */
  | { type: "csv"; keys: string[]; text: string }
  | { type: "csv"; keys: string[]; bytes: ArrayBuffer };

export interface TensorStats {
  min: number;
  max: number;
  mean: number;
  /** How many elements are NaN or infinite. */
  nonFinite: number;
  /** L2 norm of the finite elements (the gradient magnitude drawn on wires). */
  norm: number;
}

/** Elements kept at each end of a long dimension when a tensor is summarised, as PyTorch prints it. */
export const EDGE_ITEMS = 3;

export interface TensorSnapshot {
  shape: number[];
  dtype: DType;
  numel: number;
  /**
   * Every element, row-major, in the tensor's storage type; when `truncated`, only the summarised corners: each
   * dimension longer than 2 × EDGE_ITEMS cut to its first and last EDGE_ITEMS (what PyTorch prints), so the page
   * never shows a value it was not sent.
   */
  data: Storage;
  truncated: boolean;
  /** Of the whole tensor, not of what `data` holds. */
  stats: TensorStats;
  /** A tensor that requires grad: a parameter, counted as torch counts `sum(p.numel() for p in params)`. */
  requiresGrad?: boolean;
}

export interface NodeValue {
  /** Bumps whenever the node is recomputed. */
  version: number;
  outputs: Record<string, TensorSnapshot>;
  /** The tensors the node owns and trains (a model's weight and bias), as they are now, by leaf name. */
  leaves?: Record<string, TensorSnapshot>;
  /** Why the node has no value (a runtime error, or an error upstream). */
  error?: string;
}

export type FromWorker =
  | { type: "ready"; backends: BackendName[] }
  | {
      type: "validation";
      ok: boolean;
      issues: Issue[];
      /** Inferred output metas: node id → port → { shape, dtype } (edge labels). */
      metas: Record<string, Record<string, TensorMeta>>;
    }
  /** Values of the nodes that changed since the last message; `removed` lists deleted nodes. */
  | { type: "values"; nodes: Record<string, NodeValue>; removed: string[] }
  | {
      type: "grads";
      /** The node backpropagated from, or null when the graph has no objective. */
      objective: string | null;
      /** d objective / d each trained tensor, by trainable id (`w`, `model.weight`). */
      params: Record<string, TensorSnapshot>;
      /** d objective / d each node output that depends on a trained tensor, by node id (edge magnitudes). */
      nodes: Record<string, TensorSnapshot>;
      error?: string;
    }
  /**
   * A batch of epoch records (one per epoch), as typed-array columns whose buffers are transferred: usually one
   * batch, more where the records' shape changes within it (record-columns.ts).
   */
  | { type: "records"; batches: RecordColumns[] }
  | { type: "state"; state: TrainState }
  | { type: "error"; message: string }
  | { type: "boundary"; id: number; result?: BoundaryResult; error?: string }
  | {
      type: "landscape";
      id: number;
      xs: number[];
      ys: number[];
      /** Row-major: ys.length rows of xs.length losses (NaN where not finite). */
      loss?: Float64Array;
      /** Whether the surface depends on trained values other than a and b (then it moves as they train). */
      others: boolean;
      /** The trained tensors at the start of the run (before its first step), by trainable id: the path's start. */
      start?: Record<string, number[]>;
      error?: string;
    }
  | { type: "slices"; id: number; alphas: number[]; slices?: LossSlice[]; error?: string };

export function statsOf(data: ArrayLike<number>): TensorStats {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  let sq = 0;
  let n = 0;
  let nonFinite = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (!Number.isFinite(x)) {
      nonFinite++;
      continue;
    }
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
    sq += x * x;
    n++;
  }
  return n === 0
    ? { min: Number.NaN, max: Number.NaN, mean: Number.NaN, nonFinite, norm: 0 }
    : { min, max, mean: sum / n, nonFinite, norm: Math.sqrt(sq) };
}

/** The elements PyTorch prints of a summarised tensor, row-major (torch's get_summarized_data). */
export function corners(data: ArrayLike<number>, shape: readonly number[], out: number[] = []): number[] {
  const strides = stridesOf(shape);
  const walk = (dim: number, offset: number) => {
    if (dim === shape.length) {
      out.push(data[offset]);
      return;
    }
    const n = shape[dim];
    const long = n > 2 * EDGE_ITEMS;
    for (let i = 0; i < n; i++) {
      if (long && i === EDGE_ITEMS) i = n - EDGE_ITEMS;
      walk(dim + 1, offset + i * strides[dim]);
    }
  };
  walk(0, 0);
  return out;
}

/** A copy of a tensor (or of its printed corners, when it has more than `limit` elements) for posting. */
export function snapshot(t: Tensor, limit = 4096): TensorSnapshot {
  const truncated = t.numel > limit;
  const data = t.data;
  return {
    shape: [...t.shape],
    dtype: t.dtype,
    numel: t.numel,
    data: truncated ? storageLike(data, corners(data, t.shape)) : data.slice(),
    truncated,
    stats: statsOf(data),
    ...(t.requiresGrad ? { requiresGrad: true } : {}),
  };
}

/** `values` in a typed array of the same kind as `like`. */
function storageLike(like: Storage, values: number[]): Storage {
  const Ctor = like.constructor as new (v: number[]) => Storage;
  return new Ctor(values);
}
