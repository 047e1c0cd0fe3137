/**
 * Capture: run a forward pass on the CPU under the op tracer, then lower what it did to IR nodes.
 *
 * Values that do not depend on the GPU-resident leaves (the trained parameters) are folded into constants
 * taken from the CPU run: data preparation, casts of targets, masks... never reach the GPU. Everything that
 * depends on a parameter becomes IR. Index tensors (gather, nll_loss targets) must be such constants.
 */

import { type CustomFunction, type FunctionContext, noGrad } from "../runtime/autograd.ts";
import { type DType, isFloating } from "../runtime/dtype.ts";
import { nllPicks } from "../runtime/losses.ts";
import type { Attrs } from "../runtime/ops/elementwise.ts";
import type { PointwiseLossName } from "../runtime/pointwise-loss.ts";
import { numel, stridesOf } from "../runtime/shape.ts";
import { Tensor } from "../runtime/tensor.ts";
import { type TraceEvent, withTracer } from "../runtime/trace.ts";
import { type PoolWindow, VJP } from "../runtime/vjp.ts";
import { Builder } from "./builder.ts";
import { GpuError, nodeRef } from "./errors.ts";
import { gradOps } from "./grad-ops.ts";
import type { Node, ReduceFn } from "./ir.ts";

export interface CaptureOptions {
  /** Leaf tensors that live on the GPU (trained parameters, or the tensors gradients are wanted for). */
  leaves: readonly Tensor[];
  /** Leaves that hold state the program writes (running statistics): an integer counter among them is fine. */
  state?: ReadonlySet<Tensor>;
  /**
   * Fold values that do not depend on the leaves into constants from the CPU run (default true). Tests turn
   * it off so every op of a case runs on the GPU.
   */
  fold?: boolean;
  /**
   * Per-step inputs the host reads (a mini-batch's class indices): nll_loss takes what it derives from them
   * (`derived`) as leaves rewritten each step; any other use of them is refused, as it would be baked in.
   */
  stepInputs?: readonly Tensor[];
}

/** A leaf the host computes from a per-step input before each step (nll_loss's picks and weights). */
export interface DerivedInput {
  /** Index into CaptureOptions.stepInputs. */
  input: number;
  shape: readonly number[];
  compute: (data: Float64Array) => Float32Array;
}

/** Makes a leaf derived from `t` when it is a per-step input, else undefined. */
type StepLeaf = (t: Tensor, shape: readonly number[], compute: DerivedInput["compute"]) => Node | undefined;

/** Largest integer magnitude f32 holds exactly. */
const F32_EXACT_INT = 2 ** 24;

type Producer = { event: TraceEvent; index: number };

export class Capture {
  readonly builder: Builder;
  private producers = new Map<Tensor, Producer>();
  /** The producer an outer op's report replaced (a custom function's forward ops), by tensor. */
  private shadowed = new Map<Tensor, Producer>();
  /** Owners of storage, so a detached view of a traced tensor is recognised as that value. */
  private owners = new Map<unknown, Tensor>();
  private values = new Map<Tensor, Node>();
  private dynamic: Set<Node>;
  readonly leafNodes: Node[];
  private readonly fold: boolean;
  private readonly stepInputs: readonly Tensor[];
  /** Leaves after leafNodes (slots leaves.length + i), computed by the host from per-step inputs. */
  readonly derived: DerivedInput[] = [];

  /** `parent`: a capture whose values this one may use (a custom function's replayed backward). */
  constructor(
    events: readonly TraceEvent[],
    opts: CaptureOptions,
    private readonly parent: Capture | null = null,
  ) {
    this.fold = opts.fold ?? true;
    this.stepInputs = parent?.stepInputs ?? opts.stepInputs ?? [];
    this.builder = parent?.builder ?? new Builder();
    this.dynamic = parent?.dynamic ?? new Set<Node>();
    for (const e of events)
      e.outputs.forEach((t, index) => {
        const before = this.producers.get(t);
        if (before) this.shadowed.set(t, before);
        this.producers.set(t, { event: e, index });
        // Views (reshape) share their input's storage: only ops that made new storage own it.
        const view = e.inputs.some((i) => i?.data === t.data);
        if (!view && !this.owners.has(t.data)) this.owners.set(t.data, t);
      });
    this.leafNodes = opts.leaves.map((t, slot) => {
      const label = t.name ?? `parameter ${slot}`;
      const counter = opts.state?.has(t) && (t.dtype === "int64" || t.dtype === "int32");
      if (t.dtype !== "float32" && !counter)
        throw new GpuError(
          "unsupported",
          `${t.dtype} tensors cannot be trained on WebGPU, which computes in float32 (parameter '${label}'); use float32 or the CPU backend`,
          label,
        );
      const n = this.builder.node({ k: "param", slot }, [], t.shape, t.dtype);
      this.values.set(t, n);
      this.dynamic.add(n);
      return n;
    });
  }

  /** The IR node for a tensor the forward pass produced or used. */
  valueOf(t: Tensor): Node {
    const known = this.values.get(t);
    if (known) return known;
    const made = this.producers.has(t) || !this.parent ? this.lower(t) : this.parent.valueOf(t);
    this.values.set(t, made);
    return made;
  }

  private bind(t: Tensor, n: Node): void {
    this.values.set(t, n);
    this.dynamic.add(n);
  }

  isDynamic(n: Node): boolean {
    return this.dynamic.has(n);
  }

  private lower(t: Tensor): Node {
    const p = this.producers.get(t);
    if (!p) return this.leaf(t);
    const { event, index } = p;
    const inputs = event.inputs.map((x) => (x ? this.valueOf(x) : null));
    const dynamic = inputs.some((n) => n !== null && this.dynamic.has(n));
    if (!dynamic && this.fold) return this.constant(t, event.scope);
    if (event.op === "custom_function") return this.customFunction(t, event, inputs as Node[]);
    const b = this.builder;
    b.scope = event.scope;
    b.what = opLabel(event);
    const outs = lowerEvent(b, event, inputs, (x) => this.hostData(x, event), this.stepLeaf);
    event.outputs.forEach((o, k) => {
      if (!this.values.has(o)) this.values.set(o, outs[k]);
      if (dynamic) this.dynamic.add(outs[k]);
      checkDType(outs[k]);
    });
    return outs[index];
  }

  /**
   * A user-defined autograd function: its forward's ops compute the value; its gradient is what the user's
   * backward computes, traced (with a stand-in for the incoming gradient) when autodiff asks for it.
   */
  private customFunction(t: Tensor, event: TraceEvent, inputs: Node[]): Node {
    const inner = this.shadowed.get(t);
    const fn = event.attrs.fn as CustomFunction;
    const ctx = event.attrs.ctx as FunctionContext;
    if (!inner)
      throw new GpuError(
        "unsupported",
        `${nodeRef(event.scope)}: the forward of the custom function '${fn.name}' is not made of runtime ops`,
        event.scope,
      );
    const forward = this.lowerWith(inner);
    const b = this.builder;
    b.scope = event.scope;
    b.what = fn.name;
    const xs = event.inputs as Tensor[];
    const vjp = (vb: Builder, g: Node): (Node | null)[] => {
      const stand = new Tensor(new Float32Array(t.numel).fill(1), t.shape, t.dtype);
      const { result, events } = traceForward(() => noGrad(() => fn.backward(ctx, stand)));
      const grads = Array.isArray(result) ? result : [result];
      const child = new Capture(events, { leaves: [], fold: this.fold }, this);
      child.bind(stand, g);
      return xs.map((x, k) => {
        const gr = grads[k];
        if (!gr || !x.requiresGrad) return null;
        const n = child.valueOf(gr);
        vb.scope = event.scope;
        vb.what = `backward of ${fn.name}`;
        // As the CPU engine fits a gradient to its input: same elements reshaped, else summed down.
        return n.numel === x.numel ? vb.reshape(n, x.shape) : vb.sumTo(n, x.shape);
      });
    };
    const out = b.map({ k: "custom", name: fn.name, vjp }, [forward, ...inputs], t.shape, t.dtype);
    this.dynamic.add(out);
    return out;
  }

  /** The value made by `p` (an earlier producer of a tensor than its latest one). */
  private lowerWith(p: Producer): Node {
    const { event, index } = p;
    const inputs = event.inputs.map((x) => (x ? this.valueOf(x) : null));
    const b = this.builder;
    b.scope = event.scope;
    b.what = opLabel(event);
    const out = lowerEvent(b, event, inputs, (x) => this.hostData(x, event))[index];
    if (inputs.some((n) => n !== null && this.dynamic.has(n))) this.dynamic.add(out);
    checkDType(out);
    return out;
  }

  private readonly stepLeaf: StepLeaf = (t, shape, compute) => {
    const input = this.stepInputs.indexOf(t);
    if (input < 0) return undefined;
    const b = this.builder;
    const n = b.node({ k: "param", slot: this.leafNodes.length + this.derived.length }, [], shape, "float32");
    this.derived.push({ input, shape, compute });
    this.dynamic.add(n);
    return n;
  };

  /** Host values of an index or metadata input: it must not depend on a GPU leaf. */
  private hostData(t: Tensor, event: TraceEvent): Float64Array {
    if (this.stepInputs.includes(t))
      throw new GpuError(
        "unsupported",
        `${nodeRef(event.scope)}: ${opLabel(event)} reads the DataLoader's ${t.dtype} batch, which the WebGPU backend takes per step only as nll_loss's or cross_entropy's target; use the CPU backend`,
        event.scope,
      );
    const n = this.valueOf(t);
    if (this.dynamic.has(n))
      throw new GpuError(
        "unsupported",
        `${nodeRef(event.scope)}: ${opLabel(event)} takes indices or targets computed from trained parameters, which the WebGPU backend cannot do; use the CPU backend`,
        event.scope,
      );
    return Float64Array.from(t.data);
  }

  private leaf(t: Tensor): Node {
    if (t.gradFn !== null)
      throw new GpuError(
        "unsupported",
        `an op the WebGPU backend has no kernel for made a value the loss depends on (${t.gradFn.name}${t.name ? ` in '${t.name}'` : ""}); use the CPU backend`,
        t.name ?? null,
      );
    const owner = this.owners.get(t.data);
    if (owner && owner !== t && this.producers.has(owner)) {
      // A detached view of a traced value: the same value, with no gradient flowing back.
      const v = this.valueOf(owner);
      const b = this.builder;
      const d = b.map({ k: "detach" }, [b.reshape(v, t.shape)], t.shape, t.dtype);
      if (this.dynamic.has(v)) this.dynamic.add(d);
      return d;
    }
    const n = this.constant(t, t.name ?? null);
    // A per-step input read as a value (not through stepLeaf) would be this step's batch baked in: the node is
    // dynamic, so nothing folds it away, and refuseStepConstants finds it if the program reads it.
    if (this.stepInputs.includes(t)) {
      this.dynamic.add(n);
      this.stepConstants.add(n);
    }
    return n;
  }

  /** Per-step inputs lowered as constants; a program that reads one cannot run on WebGPU. */
  readonly stepConstants = new Set<Node>();

  private constant(t: Tensor, scope: string | null): Node {
    if (!isFloating(t.dtype))
      for (let i = 0; i < t.data.length; i++)
        if (Math.abs(t.data[i]) > F32_EXACT_INT)
          throw new GpuError(
            "unsupported",
            `${nodeRef(scope)}: the ${t.dtype} value ${t.data[i]} is too large for the GPU, which stores integers in float32 (exact up to 2^24)`,
            scope,
          );
    const data = t.data instanceof Float32Array ? t.data.slice() : Float32Array.from(t.data);
    const b = this.builder;
    b.scope = scope;
    b.what = "constant";
    return b.constant(data, t.shape, t.dtype);
  }
}

function checkDType(n: Node): void {
  if (n.dtype === "float64" || n.dtype === "float16")
    throw new GpuError(
      "unsupported",
      `${nodeRef(n.scope)} computes in ${n.dtype}, but the WebGPU backend computes in float32 only (no silent downcast); set its dtype to float32 or use the CPU backend`,
      n.scope,
    );
}

function opLabel(e: TraceEvent): string {
  if (e.op === "unary" || e.op === "binary") return String(e.attrs.name);
  if (e.op === "extreme_dim" || e.op === "extreme_all") return String(e.attrs.kind);
  return e.op;
}

/** Trace `forward` and return its result with the captured events. */
export function traceForward<T>(forward: () => T): { result: T; events: TraceEvent[] } {
  const events: TraceEvent[] = [];
  const result = withTracer((e) => events.push(e), forward);
  return { result, events };
}

function keptShape(shape: readonly number[], dims: readonly number[]): number[] {
  return shape.map((s, i) => (dims.includes(i) ? 1 : s));
}

type HostData = (t: Tensor) => Float64Array;

/** IR for one traced op, one node per op output. */
function lowerEvent(
  b: Builder,
  e: TraceEvent,
  ins: (Node | null)[],
  host: HostData,
  stepLeaf?: StepLeaf,
): Node[] {
  const out = e.outputs[0];
  const a = e.attrs;
  const x = ins[0] as Node;
  switch (e.op) {
    case "unary": {
      const { name, ...attrs } = a;
      return [b.map({ k: "unary", name: String(name), attrs: attrs as Attrs }, [x], out.shape, out.dtype)];
    }
    case "binary":
      return [b.binary(String(a.name), x, ins[1] as Node, out.shape, out.dtype)];
    case "where":
      return [b.map({ k: "where" }, [x, ins[1] as Node, ins[2] as Node], out.shape, out.dtype)];
    case "cast":
      return [b.map({ k: "cast", to: a.dtype as DType }, [x], out.shape, out.dtype)];
    case "reshape":
      return [b.reshape(x, out.shape)];
    case "permute":
      return [b.permute(x, a.dims as number[])];
    case "expand":
      return [b.expand(x, out.shape)];
    case "sum_to_shape":
      return [b.sumTo(x, out.shape)];
    case "narrow":
      return [b.narrow(x, a.dim as number, a.start as number, a.length as number)];
    case "cat":
      return [b.map({ k: "cat", dim: a.dim as number }, ins as Node[], out.shape, out.dtype)];
    case "gather":
      return [take(b, x, gatherOffsets(e, host), out)];
    case "index_select":
      return [take(b, x, indexSelectOffsets(e, host), out)];
    case "sum":
    case "mean":
      return [reduceTo(b, e.op, x, a.dims as number[], out)];
    case "extreme_all":
      return [
        reduceTo(
          b,
          a.kind as ReduceFn,
          x,
          x.shape.map((_, i) => i),
          out,
        ),
      ];
    case "extreme_dim":
      return extremeDim(b, e, x);
    case "max_pool2d":
      return maxPool2d(b, e, x);
    case "avg_pool2d":
      return [avgPool2d(b, e, x, ins[1] as Node)];
    case "unfold":
    case "fold":
      return [windows(b, e, x)];
    case "norm":
      return [b.reshape(b.reduce("norm", x, a.dims as number[], { p: a.p as number }), out.shape)];
    case "logsumexp":
      return [logsumexp(b, x, a.dims as number[], out)];
    case "softmax":
    case "log_softmax":
      return [b.node({ k: "lane", fn: e.op, dim: a.dim as number }, [x], out.shape, out.dtype)];
    case "matmul":
      return [matmul(b, x, ins[1] as Node, out)];
    case "pointwise_loss": {
      const w = ins[2] ?? b.fill(1);
      const pw = ins[3] ?? b.fill(1);
      const loss = a.loss as PointwiseLossName;
      const op = { k: "pointwise_loss", loss, part: "loss", p: a.p as number } as const;
      return [b.map(op, [x, ins[1] as Node, w, pw], out.shape, out.dtype)];
    }
    case "nll_loss":
      return [nllLoss(b, e, x, host, stepLeaf)];
    case "custom_function":
      throw new Error("internal: custom functions are lowered by Capture.customFunction");
    case "bernoulli":
      // The value this trace drew (a program that draws again each step takes the draw as a leaf instead).
      return [b.constant(Float32Array.from(out.data), out.shape, out.dtype)];
    case "state_update":
      throw new Error(
        "internal: a state update has no value to lower (GpuTrainingSession refuses programs that write state)",
      );
  }
}

function reduceTo(b: Builder, fn: ReduceFn | "sum" | "mean", x: Node, dims: number[], out: Tensor): Node {
  if (x.shape.length === 0) return b.map({ k: "copy" }, [x], [], out.dtype);
  const r = b.reduce(fn, x, dims);
  return b.reshape(r, out.shape);
}

function extremeDim(b: Builder, e: TraceEvent, x: Node): Node[] {
  const [values, indices] = e.outputs;
  if (x.shape.length === 0) return [b.map({ k: "copy" }, [x], [], x.dtype), b.fill(0, [], "int64")];
  const dim = e.attrs.dim as number;
  const fn = e.attrs.kind as "max" | "min";
  const v = b.reduce(fn, x, [dim], { first: true });
  const i = b.node({ k: "argreduce", fn, dim }, [x], keptShape(x.shape, [dim]), "int64");
  return [b.reshape(v, values.shape), b.reshape(i, indices.shape)];
}

/** max_pool2d's values and indices; the values' gradient is the gradient table's rule (unpool at the indices). */
function maxPool2d(b: Builder, e: TraceEvent, x: Node): Node[] {
  const [values, indices] = e.outputs;
  const win = e.attrs.win as PoolWindow;
  const pick = (part: "value" | "index", dtype: DType) =>
    b.map({ k: "maxpool", part, win }, [x], values.shape, dtype);
  const idx = pick("index", "int64");
  const vjp = (vb: Builder, g: Node) => [VJP.maxPool2d(gradOps(vb), g, idx, win, x.shape)];
  const v = b.map(
    { k: "custom", name: "max_pool2d", vjp },
    [pick("value", x.dtype), x],
    values.shape,
    x.dtype,
  );
  return [v, b.reshape(idx, indices.shape)];
}

/** avg_pool2d's window sums over their divisors; its gradient is the gradient table's rule (windowShare). */
function avgPool2d(b: Builder, e: TraceEvent, x: Node, divisors: Node): Node {
  const out = e.outputs[0];
  const win = e.attrs.win as PoolWindow;
  const v = b.map({ k: "avgpool", win }, [x, divisors], out.shape, out.dtype);
  const vjp = (vb: Builder, g: Node) => [VJP.avgPool2d(gradOps(vb), g, divisors, win, x.shape)];
  return b.map({ k: "custom", name: "avg_pool2d", vjp }, [v, x], out.shape, out.dtype);
}

/** im2col (unfold) or col2im (fold) as one kernel; its gradient is the gradient table's rule (the other one). */
function windows(b: Builder, e: TraceEvent, x: Node): Node {
  const y = e.outputs[0];
  const win = e.attrs.win as PoolWindow;
  const grid = e.attrs.out as number[];
  const v = e.op === "unfold" ? gradOps(b).unfold(x, win, grid) : gradOps(b).fold(x, win, grid, y.shape);
  const vjp = (vb: Builder, g: Node) => [
    e.op === "unfold" ? VJP.unfold(gradOps(vb), g, win, grid, x.shape) : VJP.fold(gradOps(vb), g, win, grid),
  ];
  return b.map({ k: "custom", name: e.op, vjp }, [v, x], y.shape, y.dtype);
}

/**
 * log(sum(exp(x - m))) + m with m the max; its gradient is the gradient table's rule (g exp(x - logsumexp), as
 * the CPU's and torch's), not the derivative of these pieces.
 */
function logsumexp(b: Builder, x: Node, dims: number[], out: Tensor): Node {
  let r: Node;
  if (x.shape.length === 0) r = b.map({ k: "detach" }, [x], [], out.dtype);
  else {
    const m = b.map({ k: "detach" }, [b.reduce("max", x, dims)], keptShape(x.shape, dims), x.dtype);
    const shifted = b.expr("lse_shift", [x, b.expand(m, x.shape)], x.shape);
    const s = b.reduce("sum", shifted, dims);
    r = b.expr("lse_finish", [s, m], s.shape);
  }
  const vjp = (vb: Builder, g: Node) => [
    VJP.logsumexp(gradOps(vb), { g, x, y: r, xShape: x.shape, dims, dtype: g.dtype }),
  ];
  return b.reshape(b.map({ k: "custom", name: "logsumexp", vjp }, [r, x], r.shape, out.dtype), out.shape);
}

function matmul(b: Builder, x: Node, y: Node, out: Tensor): Node {
  const a2 = x.shape.length === 1 ? b.reshape(x, [1, x.shape[0]]) : x;
  const b2 = y.shape.length === 1 ? b.reshape(y, [y.shape[0], 1]) : y;
  const batchA = a2.shape.slice(0, -2);
  const batchB = b2.shape.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = batchA[i - (rank - batchA.length)] ?? 1;
    const db = batchB[i - (rank - batchB.length)] ?? 1;
    batch.push(da === 1 ? db : da);
  }
  const [m, k] = a2.shape.slice(-2);
  const n = b2.shape[b2.shape.length - 1];
  const A = b.expand(a2, [...batch, m, k]);
  const B = b.expand(b2, [...batch, k, n]);
  return b.reshape(b.matmul(A, B), out.shape);
}

/** out[o] = x[offsets[o]] with offsets into x's row-major order. */
function take(b: Builder, x: Node, offsets: Int32Array, out: Tensor): Node {
  const idx = b.iconst(offsets, out.shape);
  return b.map({ k: "take" }, [x, idx], out.shape, out.dtype);
}

function gatherOffsets(e: TraceEvent, host: HostData): Int32Array {
  const [xt, it] = e.inputs as Tensor[];
  const index = host(it);
  const d = e.attrs.dim as number;
  const xs = stridesOf(xt.shape);
  const is = stridesOf(it.shape);
  const offsets = new Int32Array(index.length);
  for (let i = 0; i < index.length; i++) {
    let rem = i;
    let off = 0;
    for (let k = 0; k < it.shape.length; k++) {
      const c = Math.floor(rem / is[k]);
      rem -= c * is[k];
      off += (k === d ? index[i] : c) * xs[k];
    }
    offsets[i] = off;
  }
  return offsets;
}

function indexSelectOffsets(e: TraceEvent, host: HostData): Int32Array {
  const [xt, it] = e.inputs as Tensor[];
  const index = host(it);
  const d = e.attrs.dim as number;
  const outer = numel(xt.shape.slice(0, d));
  const n = xt.shape[d] ?? 1;
  const inner = numel(xt.shape.slice(d + 1));
  const m = index.length;
  const offsets = new Int32Array(outer * m * inner);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < m; j++)
      for (let i = 0; i < inner; i++) offsets[(o * m + j) * inner + i] = (o * n + index[j]) * inner + i;
  return offsets;
}

/**
 * nll_loss as the CPU computes it: the declared per-target loss -(x w) (runtime/pointwise-loss.ts) over the
 * picked scores (0 where ignored), then reduced; the mean divides by the summed weights of the kept targets.
 * Its gradient is the declaration's too. Targets and weights are host constants, except a mini-batch's class
 * indices, which change every step: then the host computes a mask of the picked elements and the kept weights
 * before each step (step leaves), and the pick is a masked sum over the classes (exact: one term), which
 * differentiates without the constant offsets `take` needs.
 */
function nllLoss(b: Builder, e: TraceEvent, x: Node, host: HostData, stepLeaf?: StepLeaf): Node {
  const [input, target, weight] = e.inputs as [Tensor, Tensor, Tensor | null];
  const ignore = e.attrs.ignore_index as number;
  const reduction = e.attrs.reduction as string;
  const classWeights = weight ? host(weight) : undefined;
  const keptWeights = (picks: Int32Array | number[], weights: ArrayLike<number>) =>
    Float32Array.from(weights, (wk, k) => (picks[k] < 0 ? 0 : wk));
  const mask = stepLeaf?.(target, input.shape, (t) => {
    const m = new Float32Array(numel(input.shape));
    for (const p of nllPicks(input.shape, t, classWeights, ignore).picks) if (p >= 0) m[p] = 1;
    return m;
  });
  let picked: Node;
  let w: Node;
  let total: Node | undefined;
  if (mask) {
    const classDim = input.shape.length === 1 ? 0 : 1;
    const masked = b.map({ k: "where" }, [mask, x, b.fill(0)], input.shape, input.dtype);
    picked = b.reshape(b.reduce("sum", masked, [classDim]), target.shape);
    w = stepLeaf!(target, target.shape, (t) => {
      const { picks, weights } = nllPicks(input.shape, t, classWeights, ignore);
      return keptWeights(picks, weights);
    })!;
  } else {
    const { picks, weights } = nllPicks(input.shape, host(target), classWeights, ignore);
    let sum = 0;
    picks.forEach((p, k) => {
      if (p >= 0) sum += weights[k];
    });
    total = b.constant(Float32Array.of(sum), []);
    picked = b.map({ k: "take" }, [x, b.iconst(picks, target.shape)], target.shape, input.dtype);
    w = b.constant(keptWeights(picks, weights), target.shape);
  }
  const op = { k: "pointwise_loss", loss: "nll_loss", part: "loss", p: 0 } as const;
  const losses = b.map(op, [picked, b.fill(0), w, b.fill(1)], target.shape, input.dtype);
  if (reduction === "none") return losses;
  const dims = target.shape.map((_, i) => i);
  const sumAll = (n: Node) => b.reshape(dims.length ? b.reduce("sum", n, dims) : n, []);
  const s = sumAll(losses);
  if (reduction === "sum") return s;
  return b.binary("div", s, total ?? sumAll(w), [], input.dtype);
}
