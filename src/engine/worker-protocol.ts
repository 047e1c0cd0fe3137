/**
 * The messages between the page and the scheduler's Web Worker. The page sends the graph (whole, then as
 * immer patches) and run commands; the worker answers with validation, node values, gradients, batched epoch
 * records and the training state. Everything is structured-clone friendly; tensor data travels as typed arrays.
 */
import type { Patch } from "immer";
import type { GraphDoc } from "../graph/types.ts";
import type { Issue } from "../graph/validate.ts";
import type { TensorMeta } from "../nodes/types.ts";
import type { DType, Storage } from "../runtime/dtype.ts";
import type { Tensor } from "../runtime/tensor.ts";
import type { BackendName, BackendRequest } from "./scheduler-backend.ts";
import type { EpochRecord, TrainState } from "./train.ts";

export interface WorkerOptions {
  /** Elements of each tensor sent with values and gradients (the rest is summarised by stats). Default 4096. */
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
  /** A CSV file's text for csv nodes naming it by one of `keys` (sha256, path): see src/nodes/csv/store.ts. */
  | { type: "csv"; keys: string[]; text: string };

export interface TensorStats {
  min: number;
  max: number;
  mean: number;
  /** How many elements are NaN or infinite. */
  nonFinite: number;
}

export interface TensorSnapshot {
  shape: number[];
  dtype: DType;
  numel: number;
  /** The first `previewLimit` elements, row-major, in the tensor's storage type. */
  data: Storage;
  truncated: boolean;
  stats: TensorStats;
}

export interface NodeValue {
  /** Bumps whenever the node is recomputed. */
  version: number;
  outputs: Record<string, TensorSnapshot>;
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
  | { type: "records"; records: EpochRecord[] }
  | { type: "state"; state: TrainState }
  | { type: "error"; message: string };

export function statsOf(data: ArrayLike<number>): TensorStats {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
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
    n++;
  }
  return n === 0
    ? { min: Number.NaN, max: Number.NaN, mean: Number.NaN, nonFinite }
    : { min, max, mean: sum / n, nonFinite };
}

/** A copy of (the start of) a tensor for posting; its buffer can be transferred. */
export function snapshot(t: Tensor, limit = 4096): TensorSnapshot {
  const truncated = t.numel > limit;
  return {
    shape: [...t.shape],
    dtype: t.dtype,
    numel: t.numel,
    data: truncated ? t.data.slice(0, limit) : t.data.slice(),
    truncated,
    stats: statsOf(t.data),
  };
}
