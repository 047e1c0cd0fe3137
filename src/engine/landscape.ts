/**
 * What the model learned, evaluated on the side of the scheduler (nothing cached changes):
 *  - the decision boundary: the model's output over a grid of inputs (the graph's input tensor replaced by the
 *    grid plus the data, evaluated as one batched pass), as class probabilities, a probability or a regression
 *    curve;
 *  - the loss landscape: the objective over a grid of values of two parameter elements, every other parameter
 *    held at its value;
 *  - 1-D slices of the loss along the gradient and along random filter-normalised directions ("Visualizing
 *    the Loss Landscape of Neural Nets", Li et al. 2018), for models with more than two parameters.
 * All of it runs the graph's own nodes through `Scheduler.evaluateWith`, the mechanism tool nodes use to
 * recompute part of the graph with one value replaced; the landscape and the slices batch their points
 * (batched.ts).
 */
import { ancestors } from "../graph/topo.ts";
import { inputEdge } from "../graph/validate.ts";
import { noGrad } from "../runtime/autograd.ts";
import { allocate, coerce, type DType } from "../runtime/dtype.ts";
import * as O from "../runtime/ops/index.ts";
import { normalValues, TorchGenerator } from "../runtime/random/index.ts";
import { Tensor } from "../runtime/tensor.ts";
import { traceBatched } from "./batched.ts";
import { type Scheduler, SchedulerError } from "./scheduler.ts";
import type { Backend } from "./scheduler-backend.ts";

/** How the model's output reads: class scores, log-probabilities, one logit, one probability, or a value. */
export type ModelTask = "scores" | "logprobs" | "logit" | "probability" | "regression";

export interface PortRef {
  nodeId: string;
  port: string;
}

/** Where the model's input comes in and its prediction goes out, found from the objective's loss node. */
export interface ModelIO {
  input: PortRef;
  output: PortRef;
  target?: PortRef;
  loss: PortRef;
  task: ModelTask;
  /** Input features per sample: 1 (a curve) or 2 (a plane). */
  dims: 1 | 2;
  /** Samples in the data (the input's first dimension). */
  samples: number;
}

/** Which loss reads its input as what: every other loss is a regression's. */
const TASK_OF_LOSS: Record<string, ModelTask> = {
  cross_entropy: "scores",
  nll_loss: "logprobs",
  binary_cross_entropy_with_logits: "logit",
  binary_cross_entropy: "probability",
};

/** The trained nodes' ids (a parameter tensor, or a model node holding weight and bias). */
function trainedNodes(s: Scheduler): Set<string> {
  return new Set(s.trainables().map((t) => t.nodeId));
}

/**
 * The model's input and output: the output is what reaches the objective loss's `input` port; the input is the
 * tensor upstream of it that depends on no trained value and holds one row (or one number) per sample, one or
 * two features wide. Undefined when the graph has no such shape (then there is no boundary to draw).
 */
export function modelIO(s: Scheduler): ModelIO | undefined {
  const obj = s.objective();
  if (!obj) return undefined;
  const adj = s.validation.adjacency;
  const lossNode = s.graph.nodes[obj.nodeId];
  const outEdge = inputEdge(adj, obj.nodeId, "input");
  if (!lossNode || !outEdge) return undefined;
  const output = { nodeId: outEdge.source, port: outEdge.sourcePort };
  const out = s.value(output.nodeId, output.port);
  if (!out || out.ndim < 1 || out.ndim > 2) return undefined;
  const samples = out.shape[0];
  const trained = trainedNodes(s);
  const up = ancestors(adj, [output.nodeId]);
  let best: { ref: PortRef; dims: 1 | 2; depth: number } | undefined;
  for (const id of s.validation.order) {
    if (!up.has(id) || trained.has(id)) continue;
    const before = ancestors(adj, [id]);
    if ([...before].some((a) => trained.has(a))) continue;
    for (const [port, t] of Object.entries(s.outputs(id) ?? {})) {
      if (t.shape[0] !== samples || samples < 2 || t.ndim < 1 || t.ndim > 2) continue;
      const dims = t.ndim === 1 ? 1 : t.shape[1];
      if (dims !== 1 && dims !== 2) continue;
      if (t.dtype === "bool" || t.dtype === "int32" || t.dtype === "int64") continue;
      // The data nearest the source: the fewest nodes before it.
      if (!best || before.size < best.depth) best = { ref: { nodeId: id, port }, dims, depth: before.size };
    }
  }
  if (!best) return undefined;
  const tEdge = inputEdge(adj, obj.nodeId, "target");
  let task = TASK_OF_LOSS[lossNode.type] ?? "regression";
  // A single score column under cross_entropy is not a classifier worth drawing as classes; keep it honest.
  if (task === "scores" && (out.ndim !== 2 || out.shape[1] < 2)) task = "regression";
  return {
    input: best.ref,
    output,
    target: tEdge ? { nodeId: tEdge.source, port: tEdge.sourcePort } : undefined,
    loss: obj,
    task,
    dims: best.dims as 1 | 2,
    samples,
  };
}

/** A tensor of `dtype` from numbers (rounded as the dtype stores them). */
function tensorOf(values: ArrayLike<number>, shape: number[], dtype: DType): Tensor {
  const store = allocate(dtype, values.length);
  for (let i = 0; i < values.length; i++) store[i] = coerce(dtype, values[i]);
  return new Tensor(store, shape, dtype);
}

/**
 * Leaf replacements that put every trained tensor at the given values (by trainable id, flat; a record's
 * `params`). Values of the wrong size are ignored: that tensor keeps its current value.
 */
export function leavesAt(
  s: Scheduler,
  values: Readonly<Record<string, ArrayLike<number>>> | undefined,
): Map<string, Record<string, Tensor>> {
  const out = new Map<string, Record<string, Tensor>>();
  if (!values) return out;
  for (const t of s.trainables()) {
    const v = values[t.id];
    if (!v || v.length !== t.tensor.numel) continue;
    const own = out.get(t.nodeId) ?? {};
    own[t.leaf] = tensorOf(v, [...t.tensor.shape], t.tensor.dtype);
    out.set(t.nodeId, own);
  }
  return out;
}

export interface BoundaryResult {
  task: ModelTask;
  dims: 1 | 2;
  /** Grid points per axis. */
  n: number;
  /** [x0, x1] for a curve; [x0, x1, y0, y1] for a plane (cell centres at the ends). */
  extent: number[];
  /** Per grid point (row-major, y outer, x inner for a plane), `channels` numbers: class probabilities
   * (scores, logprobs), the probability of class 1 (logit, probability), or the prediction (regression). */
  grid: Float32Array;
  channels: number;
  /** The data: `dims` numbers per sample. */
  points: Float32Array;
  /** The target per sample (a class index, a probability or a value), when the loss has one. */
  targets?: Float32Array;
  /** The model's prediction per sample, as `grid`: `channels` numbers each. */
  predicted: Float32Array;
  /** Samples in the data; `points` holds an even sample of at most `maxSamples` of them. */
  samples: number;
}

/** Data rows drawn and scored at most (an even sample of a larger data set). */
export const MAX_SAMPLES = 4096;

/**
 * Softmax, exp or sigmoid: the output read as probabilities, as the loss reads it, by the runtime's own ops
 * (rows of one channel each, so a 1-D output is never normalised across rows).
 */
function probabilities(task: ModelTask, out: Tensor): { data: Float32Array; channels: number } {
  const channels = out.ndim === 2 ? out.shape[1] : 1;
  const x = O.reshape(out, [out.shape[0], channels]);
  const p = noGrad(() =>
    task === "scores"
      ? O.softmax(x, 1)
      : task === "logprobs"
        ? O.exp(x)
        : task === "logit"
          ? O.sigmoid(x)
          : x,
  );
  return { data: Float32Array.from(p.data), channels };
}

/** Data bounds per feature, padded by a tenth of the span on each side (a flat feature gets ±1). */
function extentOf(points: ArrayLike<number>, dims: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < dims; k++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = k; i < points.length; i += dims)
      if (Number.isFinite(points[i])) {
        lo = Math.min(lo, points[i]);
        hi = Math.max(hi, points[i]);
      }
    if (!Number.isFinite(lo)) [lo, hi] = [-1, 1];
    const pad = hi > lo ? (hi - lo) * 0.1 : 1;
    out.push(lo - pad, hi + pad);
  }
  return out;
}

/** `n` evenly spaced values from a to b, ends included. */
export function span(a: number, b: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (n === 1 ? (a + b) / 2 : a + ((b - a) * i) / (n - 1)));
}

/**
 * The model's output over an n-point (curve) or n×n (plane) grid spanning the data, and at the data itself:
 * the input tensor is replaced by the grid followed by the data, and the nodes between input and output run
 * once on that batch. `leaves`: trained values to use (`leavesAt`), else the current ones.
 */
export function decisionBoundary(
  s: Scheduler,
  io: ModelIO,
  opts: { n?: number; leaves?: Map<string, Record<string, Tensor>>; maxSamples?: number } = {},
): BoundaryResult {
  const n = opts.n ?? (io.dims === 2 ? 96 : 200);
  const x = s.value(io.input.nodeId, io.input.port);
  if (!x) throw new SchedulerError(`the input '${s.label(io.input.nodeId)}' has no value`, io.input.nodeId);
  // A large data set is drawn (and scored) by an even sample of its rows: enough to see, cheap to send.
  const limit = opts.maxSamples ?? MAX_SAMPLES;
  const step = Math.max(1, Math.ceil(io.samples / limit));
  const rows = Array.from({ length: Math.ceil(io.samples / step) }, (_, k) => k * step);
  const points = new Float32Array(rows.length * io.dims);
  rows.forEach((r, k) => {
    for (let d = 0; d < io.dims; d++) points[k * io.dims + d] = x.data[r * io.dims + d];
  });
  const extent = extentOf(points, io.dims);
  const gx = span(extent[0], extent[1], n);
  const cells = io.dims === 2 ? n * n : n;
  const batch = new Float64Array((cells + rows.length) * io.dims);
  if (io.dims === 2) {
    const gy = span(extent[2], extent[3], n);
    for (let j = 0; j < n; j++)
      for (let i = 0; i < n; i++) {
        batch[(j * n + i) * 2] = gx[i];
        batch[(j * n + i) * 2 + 1] = gy[j];
      }
  } else batch.set(gx);
  batch.set(points, cells * io.dims);
  const shape = x.ndim === 1 ? [cells + rows.length] : [cells + rows.length, io.dims];
  const grid = tensorOf(batch, shape, x.dtype);
  const [out] = noGrad(() =>
    s.evaluateWith(
      { outputs: new Map([[io.input.nodeId, { [io.input.port]: grid }]]), leaves: opts.leaves },
      [io.output],
    ),
  );
  if (out.shape[0] !== cells + rows.length)
    throw new SchedulerError(
      `the model's output '${s.label(io.output.nodeId)}' does not keep one row per input row`,
      io.output.nodeId,
    );
  const { data, channels } = probabilities(io.task, out);
  const t = io.target ? s.value(io.target.nodeId, io.target.port) : undefined;
  return {
    task: io.task,
    dims: io.dims,
    n,
    extent,
    grid: data.slice(0, cells * channels),
    channels,
    points,
    targets: t && t.numel === io.samples ? Float32Array.from(rows, (r) => t.data[r]) : undefined,
    samples: io.samples,
    predicted: data.slice(cells * channels),
  };
}

/** One element of one trained tensor: `params[0]` is { param: "params", index: 0 }. */
export interface ParamCoord {
  param: string;
  index: number;
}

export interface LandscapeRequest {
  a: ParamCoord;
  b: ParamCoord;
  /** Values of a (columns) and of b (rows). */
  xs: readonly number[];
  ys: readonly number[];
  /** Trained values to hold the other parameters at (by trainable id); else their current values. */
  at?: Readonly<Record<string, ArrayLike<number>>>;
  mode?: GridMode;
}

/** The trained values now: `at` where it has them, else the leaves'. */
function currentValues(
  s: Scheduler,
  at: Readonly<Record<string, ArrayLike<number>>> | undefined,
): Map<string, { nodeId: string; leaf: string; shape: number[]; dtype: DType; values: Float64Array }> {
  const out = new Map();
  for (const t of s.trainables()) {
    const v = at?.[t.id];
    const values = Float64Array.from(v && v.length === t.tensor.numel ? v : t.tensor.data);
    out.set(t.id, {
      nodeId: t.nodeId,
      leaf: t.leaf,
      shape: [...t.tensor.shape],
      dtype: t.tensor.dtype,
      values,
    });
  }
  return out;
}

/** A batched pass holds at most about this many elements at once; a larger grid runs in chunks of rows. */
const BATCH_ELEMENTS = 1 << 22;

/** How a grid is evaluated: one batched pass (falling back to points where the graph cannot be batched). */
export type GridMode = "auto" | "batched" | "pointwise";

/** What `objectiveAt` evaluates: `count` points, point r putting the `varied` tensors at `fill`'s values. */
interface Points {
  s: Scheduler;
  obj: PortRef;
  values: ReturnType<typeof currentValues>;
  /** Trained tensors replaced (by id): the varied ones and those held at given values. */
  changed: readonly string[];
  varied: readonly string[];
  count: number;
  /** Write point r's values of tensor `id` into `into` (which holds its values at the current point). */
  fill: (id: string, r: number, into: Float64Array) => void;
}

/** The replaced leaves of `changed` as the scheduler takes them (node id → leaf → tensor). */
function leavesOf(p: Points, tensors: ReadonlyMap<string, Tensor>): Map<string, Record<string, Tensor>> {
  const leaves = new Map<string, Record<string, Tensor>>();
  for (const [id, t] of tensors) {
    const v = p.values.get(id)!;
    const own = leaves.get(v.nodeId) ?? {};
    own[v.leaf] = t;
    leaves.set(v.nodeId, own);
  }
  return leaves;
}

function single(p: Points, loss: Tensor): number {
  if (loss.numel !== 1)
    throw new SchedulerError(
      `the objective '${p.s.label(p.obj.nodeId)}' is not a single number`,
      p.obj.nodeId,
    );
  return loss.item();
}

function runFor(p: Points) {
  return p.s.prepareWith({ leaves: [...new Set(p.changed.map((id) => p.values.get(id)!.nodeId))] }, [p.obj]);
}

/**
 * The batched pass over the points (batched.ts): traced once at the current point, then run on chunks of
 * rows that fit BATCH_ELEMENTS. `batch(start, rows)` makes the varied tensors' values for points start...
 * (past the last point, the last point again). Throws Unbatchable for a graph the replay cannot follow.
 */
function batchedPass(p: Points) {
  const run = runFor(p);
  const at = new Map(
    p.changed.map((id) => {
      const v = p.values.get(id)!;
      return [id, tensorOf(v.values, v.shape, v.dtype)];
    }),
  );
  const leaves = leavesOf(p, at);
  const fwd = traceBatched(
    () => run({ leaves }),
    p.varied.map((id) => at.get(id)!),
  );
  single(p, fwd.outputs[0]);
  const chunk = Math.max(1, Math.min(p.count, Math.floor(BATCH_ELEMENTS / Math.max(1, fwd.elementsPerRow))));
  const batch = (start: number, rows: number): Map<Tensor, Tensor> => {
    const out = new Map<Tensor, Tensor>();
    for (const id of p.varied) {
      const v = p.values.get(id)!;
      const n = v.values.length;
      const flat = new Float64Array(rows * n);
      const row = new Float64Array(n);
      for (let r = 0; r < rows; r++) {
        row.set(v.values);
        p.fill(id, Math.min(start + r, p.count - 1), row);
        flat.set(row, r * n);
      }
      out.set(at.get(id)!, tensorOf(flat, [rows, ...v.shape], v.dtype));
    }
    return out;
  };
  return { fwd, chunk, batch };
}

const finite = (v: number) => (Number.isFinite(v) ? v : Number.NaN);

/**
 * The objective at each of the points, every other value as cached, under no_grad. One batched pass
 * (`batchedPass`); point by point (the nodes between the tensors and the loss run once per point) when `mode`
 * says so, or, in "auto", when the graph cannot be batched. NaN where the loss is not finite.
 */
function objectiveAt(p: Points, mode: GridMode): Float64Array {
  const out = new Float64Array(p.count);
  if (mode !== "pointwise") {
    try {
      const { fwd, chunk, batch } = batchedPass(p);
      noGrad(() => {
        for (let start = 0; start < p.count; start += chunk) {
          const rows = Math.min(chunk, p.count - start);
          const d = fwd.run(rows, batch(start, rows))[0].data;
          for (let r = 0; r < rows; r++) out[start + r] = finite(d[r]);
        }
      });
      return out;
    } catch (e) {
      if (mode === "batched" || e instanceof SchedulerError) throw e;
      // A graph the batched replay cannot follow: evaluate point by point below.
    }
  }
  const run = runFor(p);
  noGrad(() => {
    for (let r = 0; r < p.count; r++) {
      const at = new Map<string, Tensor>();
      for (const id of p.changed) {
        const v = p.values.get(id)!;
        const own = Float64Array.from(v.values);
        if (p.varied.includes(id)) p.fill(id, r, own);
        at.set(id, tensorOf(own, v.shape, v.dtype));
      }
      out[r] = finite(single(p, run({ leaves: leavesOf(p, at) })[0]));
    }
  });
  return out;
}

/**
 * `objectiveAt` on a device backend (WebGPU): the batched pass is traced and compiled once for a chunk of
 * rows, then each chunk runs on the device with its parameter values written to it. Float32 graphs only;
 * anything the device cannot run (or the replay cannot follow) is evaluated on the CPU instead, unless `mode`
 * is "batched".
 */
async function objectiveOn(backend: Backend, p: Points, mode: GridMode): Promise<Float64Array> {
  if (mode === "pointwise" || !backend.evaluator) return objectiveAt(p, mode);
  let compiled: { run: (values: ArrayLike<number>[]) => Promise<ArrayLike<number>[]>; dispose(): void };
  let pass: ReturnType<typeof batchedPass>;
  try {
    pass = batchedPass(p);
    const first = pass.batch(0, pass.chunk);
    compiled = await backend.evaluator(
      () => noGrad(() => pass.fwd.run(pass.chunk, first)),
      [...first.values()],
    );
  } catch (e) {
    if (mode === "batched" || e instanceof SchedulerError) throw e;
    return objectiveAt(p, mode);
  }
  try {
    const out = new Float64Array(p.count);
    for (let start = 0; start < p.count; start += pass.chunk) {
      const values = [...pass.batch(start, pass.chunk).values()].map((t) => t.data);
      const [d] = await compiled.run(values);
      for (let r = 0; r < Math.min(pass.chunk, p.count - start); r++) out[start + r] = finite(d[r]);
    }
    return out;
  } finally {
    compiled.dispose();
  }
}

/** The objective (the loss training reports) and its node, or an error saying there is none. */
function objectiveOf(s: Scheduler): PortRef {
  const obj = s.objective();
  if (!obj) throw new SchedulerError("there is no objective: add an optimizer fed by a loss");
  return obj;
}

/**
 * The objective over a grid of values of two parameter elements: row j, column i holds the loss with a at
 * xs[i] and b at ys[j], every other trained value at `at` (or its current value). The grid is one batched
 * evaluation of the nodes between the parameters and the loss (the ones that do not depend on them stay
 * cached), under no_grad; each point equals its own evaluation. NaN where the loss is not finite.
 */
export function lossLandscape(s: Scheduler, req: LandscapeRequest): Float64Array {
  return objectiveAt(landscapePoints(s, req), req.mode ?? "auto");
}

/** `lossLandscape` evaluated on a device backend (WebGPU), as one batched program run on chunks of the grid. */
export function lossLandscapeOn(
  backend: Backend,
  s: Scheduler,
  req: LandscapeRequest,
): Promise<Float64Array> {
  return objectiveOn(backend, landscapePoints(s, req), req.mode ?? "auto");
}

function landscapePoints(s: Scheduler, req: LandscapeRequest): Points {
  const obj = objectiveOf(s);
  const values = currentValues(s, req.at);
  for (const c of [req.a, req.b]) {
    const p = values.get(c.param);
    if (!p) throw new SchedulerError(`'${c.param}' is not a trained tensor`);
    if (!Number.isInteger(c.index) || c.index < 0 || c.index >= p.values.length)
      throw new SchedulerError(`'${c.param}' has no element ${c.index}`);
  }
  // The two coordinates' tensors, and every tensor held at given values (their cached leaves may be behind a
  // GPU run's: only the record is current).
  const varied = [...new Set([req.a.param, req.b.param])];
  const changed = [...new Set([...varied, ...Object.keys(req.at ?? {}).filter((k) => values.has(k))])];
  const nx = req.xs.length;
  return {
    s,
    obj,
    values,
    changed,
    varied,
    count: nx * req.ys.length,
    fill: (id, r, into) => {
      if (id === req.a.param) into[req.a.index] = req.xs[r % nx];
      if (id === req.b.param) into[req.b.index] = req.ys[Math.floor(r / nx)];
    },
  };
}

/** mulberry32: a small seeded generator, so a slice's random directions are the same every time. */
/**
 * Filter normalisation (Li et al. 2018): each filter of the direction (a row of a matrix, dim 0 of a higher
 * tensor; the whole tensor for a vector or a number) is scaled to the norm of the same filter of the
 * parameter, so a step of 1 along it is as large as the weights it moves, whatever their scale.
 */
export function filterNormalize(d: Float64Array, theta: ArrayLike<number>, shape: readonly number[]): void {
  const rows = shape.length >= 2 ? shape[0] : 1;
  const width = rows === 0 ? 0 : d.length / rows;
  for (let r = 0; r < rows; r++) {
    let nd = 0;
    let nt = 0;
    for (let k = r * width; k < (r + 1) * width; k++) {
      nd += d[k] * d[k];
      nt += theta[k] * theta[k];
    }
    const scale = nd > 0 ? Math.sqrt(nt) / Math.sqrt(nd) : 0;
    for (let k = r * width; k < (r + 1) * width; k++) d[k] *= scale;
  }
}

export interface SliceRequest {
  /** Step sizes along each direction (0 is the current point). */
  alphas: readonly number[];
  /** Random directions besides the gradient's (default 2). */
  random?: number;
  seed?: number;
  at?: Readonly<Record<string, ArrayLike<number>>>;
  /** The gradient at `at`, by trainable id; computed here (one backward pass) when absent. */
  grads?: Readonly<Record<string, ArrayLike<number>>>;
  mode?: GridMode;
}

export interface LossSlice {
  /** "−gradient", "random 1"... */
  label: string;
  losses: Float64Array;
}

/**
 * The loss along straight lines through the current point: θ + α·d for each α, along the negative gradient
 * (scaled so that α = 1 moves by |θ|) and along `random` Gaussian directions, filter-normalised.
 */
export function lossSlices(s: Scheduler, req: SliceRequest): LossSlice[] {
  const { points, labels } = slicePoints(s, req);
  return slicesOf(labels, objectiveAt(points, req.mode ?? "auto"), req.alphas.length);
}

/** `lossSlices` evaluated on a device backend (WebGPU), as one batched program. */
export async function lossSlicesOn(backend: Backend, s: Scheduler, req: SliceRequest): Promise<LossSlice[]> {
  const { points, labels } = slicePoints(s, req);
  return slicesOf(labels, await objectiveOn(backend, points, req.mode ?? "auto"), req.alphas.length);
}

function slicesOf(labels: string[], losses: Float64Array, na: number): LossSlice[] {
  return labels.map((label, k) => ({ label, losses: losses.slice(k * na, (k + 1) * na) }));
}

function slicePoints(s: Scheduler, req: SliceRequest): { points: Points; labels: string[] } {
  const obj = objectiveOf(s);
  const values = currentValues(s, req.at);
  const ids = [...values.keys()];
  let grads = req.grads;
  if (!grads) {
    const g = s.gradients().params;
    grads = Object.fromEntries([...g].map(([k, t]) => [k, t.data]));
  }
  const dirs: { label: string; d: Map<string, Float64Array> }[] = [];
  // −gradient, one norm for the whole model: the direction a small SGD step takes.
  let gn = 0;
  let tn = 0;
  for (const id of ids) {
    const g = grads[id];
    if (g) for (let k = 0; k < g.length; k++) gn += g[k] * g[k];
    for (const v of values.get(id)!.values) tn += v * v;
  }
  if (gn > 0) {
    const scale = Math.sqrt(tn || 1) / Math.sqrt(gn);
    dirs.push({
      label: "−gradient",
      d: new Map(
        ids.map((id) => {
          const g = grads![id];
          const n = values.get(id)!.values.length;
          return [id, Float64Array.from({ length: n }, (_, k) => (g && g.length === n ? -g[k] * scale : 0))];
        }),
      ),
    });
  }
  // torch's generator, so `torch.manual_seed(seed)` then one `torch.randn(n, dtype=torch.float64)` per
  // parameter, in order, draws the same directions.
  const gen = new TorchGenerator(req.seed ?? 1);
  for (let r = 0; r < (req.random ?? 2); r++) {
    const d = new Map<string, Float64Array>();
    for (const id of ids) {
      const p = values.get(id)!;
      const v = Float64Array.from(normalValues(gen, p.values.length, "float64"));
      filterNormalize(v, p.values, p.shape);
      d.set(id, v);
    }
    dirs.push({ label: `random ${r + 1}`, d });
  }
  const na = req.alphas.length;
  const points: Points = {
    s,
    obj,
    values,
    changed: ids,
    varied: ids,
    count: dirs.length * na,
    fill: (id, r, into) => {
      const alpha = req.alphas[r % na];
      const dv = dirs[Math.floor(r / na)].d.get(id)!;
      for (let k = 0; k < into.length; k++) into[k] += alpha * dv[k];
    },
  };
  return { points, labels: dirs.map((d) => d.label) };
}

/** The trained tensors' ids and sizes, for choosing a landscape's two coordinates. */
export function trainedSizes(s: Scheduler): { id: string; numel: number; shape: number[] }[] {
  return s.trainables().map((t) => ({ id: t.id, numel: t.tensor.numel, shape: [...t.tensor.shape] }));
}
