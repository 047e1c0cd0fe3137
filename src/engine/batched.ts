/**
 * A forward pass evaluated at many points at once (vmap over a traced forward): the forward runs once under
 * the runtime's op tracer, then its ops are replayed with some leaf tensors replaced by a batch of values along
 * a new leading dimension. Every replayed op sees that leading dim: elementwise ops broadcast the values that do
 * not depend on the batch, dims shift by one, and a reduction over all of a point's dims becomes a reduction of
 * each row ([rows, numel]) in the order the single point's takes, so each row equals the single evaluation bit
 * for bit. The loss landscape and its slices (landscape.ts) evaluate the whole grid this way.
 *
 * Ops that depend on the batch but were not traced (no rule can see them) make the forward unbatchable: the
 * caller then evaluates point by point.
 */
import { isGradEnabled } from "../runtime/autograd.ts";
import { allocate } from "../runtime/dtype.ts";
import { nllLoss } from "../runtime/losses.ts";
import * as O from "../runtime/ops/index.ts";
import { POINTWISE_LOSSES, type PointwiseLossName, pointwiseLoss } from "../runtime/pointwise-loss.ts";
import { numel } from "../runtime/shape.ts";
import { Tensor, zeros } from "../runtime/tensor.ts";
import { isTracing, type TraceEvent, withTracer } from "../runtime/trace.ts";
import type { PoolWindow } from "../runtime/vjp.ts";

type Producer = { event: TraceEvent; index: number };

/** The batched forward: `run(rows, values)` gives each traced output with a leading dim of `rows`. */
export interface BatchedForward {
  /** The traced outputs at the point traced (the forward's own result). */
  readonly outputs: readonly Tensor[];
  /** Elements one point's replay holds (its ops' outputs), for sizing chunks of rows. */
  readonly elementsPerRow: number;
  /**
   * Replay with each varied leaf replaced by `values.get(leaf)`, of shape [rows, ...leaf.shape]; an output
   * that does not depend on them is repeated `rows` times.
   */
  run(rows: number, values: ReadonlyMap<Tensor, Tensor>): Tensor[];
}

/** Why a forward cannot be batched: an op on the varied values that the tracer did not see, or has no rule. */
export class Unbatchable extends Error {
  override name = "Unbatchable";
}

/**
 * Trace `forward` (which must read the `varied` leaf tensors) once and prepare its batched replay. Throws
 * Unbatchable when the replay could not equal the forward.
 */
export function traceBatched(forward: () => readonly Tensor[], varied: readonly Tensor[]): BatchedForward {
  if (!isGradEnabled()) throw new Unbatchable("the forward must be traced with gradients enabled");
  const events: TraceEvent[] = [];
  // With gradients recorded from the varied leaves, a value that depends on them through an untraced op
  // shows up as a tensor with a gradFn but no producer.
  const saved = varied.map((t) => t.requiresGrad);
  for (const t of varied) t.requiresGrad = true;
  let outputs: readonly Tensor[];
  try {
    outputs = withTracer((e) => events.push(e), forward);
  } finally {
    varied.forEach((t, i) => {
      t.requiresGrad = saved[i];
    });
  }
  const producers = new Map<Tensor, Producer>();
  /** Storage → the traced tensor that made it, so a detached view of a batched value is batched too. */
  const owners = new Map<unknown, Tensor>();
  for (const t of varied) owners.set(t.data, t);
  events.forEach((e) => {
    // A custom function's value is what its forward's ops made (traced before it): replay those.
    if (e.op === "custom_function") return;
    e.outputs.forEach((t, index) => {
      producers.set(t, { event: e, index });
      if (!e.inputs.some((i) => i?.data === t.data) && !owners.has(t.data)) owners.set(t.data, t);
    });
  });
  const isVaried = new Set(varied);
  // The events the outputs need, in the order they ran; leaves that stand for traced values.
  const needed = new Set<TraceEvent>();
  const aliases = new Map<Tensor, Tensor>();
  const seen = new Set<Tensor>();
  const stack = [...outputs];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const p = producers.get(t);
    if (p) {
      needed.add(p.event);
      for (const i of p.event.inputs) if (i) stack.push(i);
      continue;
    }
    if (isVaried.has(t)) continue;
    const owner = owners.get(t.data);
    if (owner && owner !== t) {
      aliases.set(t, owner);
      stack.push(owner);
    } else if (t.gradFn !== null)
      throw new Unbatchable(
        `an op the tracer did not see (${t.gradFn.name}) made a value the loss depends on`,
      );
  }
  const order = events.filter((e) => needed.has(e));
  const elementsPerRow =
    order.reduce((n, e) => n + e.outputs.reduce((m, o) => m + o.numel, 0), 0) + varied.length;

  return {
    outputs,
    elementsPerRow,
    run(rows, values) {
      const batched = new Map<Tensor, Tensor>(values);
      const batchedOf = (t: Tensor): Tensor | undefined => {
        const own = batched.get(t);
        if (own) return own;
        const owner = aliases.get(t);
        const b = owner && batched.get(owner);
        if (!b) return undefined;
        const v = O.reshape(b, [rows, ...t.shape]);
        batched.set(t, v);
        return v;
      };
      for (const e of order) {
        const ins = e.inputs.map((x) => (x ? batchedOf(x) : undefined));
        if (!ins.some((x) => x !== undefined)) continue;
        const outs = replay(e, ins, rows);
        e.outputs.forEach((o, k) => {
          const want = [rows, ...o.shape];
          let v = outs[k];
          if (v.numel !== numel(want))
            throw new Unbatchable(`internal: the batched ${e.op} has the wrong size`);
          if (v.dtype !== o.dtype) v = O.cast(v, o.dtype);
          batched.set(o, O.reshape(v, want));
        });
      }
      return outputs.map((o) => batchedOf(o) ?? O.expand(O.reshape(o, [1, ...o.shape]), [rows, ...o.shape]));
    },
  };
}

/** A batched value [rows, ...s] with size-1 dims inserted after the batch dim, to `rank` dims besides it. */
function lift(x: Tensor, rank: number): Tensor {
  const inner = x.shape.slice(1);
  if (inner.length >= rank) return x;
  return O.reshape(x, [x.shape[0], ...new Array<number>(rank - inner.length).fill(1), ...inner]);
}

/** A value that does not depend on the batch, repeated along a new leading dim of `rows`. */
function repeat(t: Tensor, rows: number): Tensor {
  return O.expand(O.reshape(t, [1, ...t.shape]), [rows, ...t.shape]);
}

/** [rows, ...s] as [rows, numel(s)]: one row per point, in the point's own element order. */
function rowsOf(x: Tensor): Tensor {
  return O.reshape(x, [x.shape[0], numel(x.shape.slice(1))]);
}

/** Whether `dims` (normalised, of a `rank`-dim value) are all of its dims. */
function allDims(dims: readonly number[], rank: number): boolean {
  return rank > 0 && dims.length === rank;
}

/**
 * One traced op on batched inputs (`ins[k]` the batched value of input k, undefined where it does not depend
 * on the batch: then the traced input is used as it was).
 */
function replay(e: TraceEvent, ins: (Tensor | undefined)[], rows: number): Tensor[] {
  const a = e.attrs;
  // The traced values, without their autograd history (a device's capture takes them as constants).
  const orig = e.inputs.map((t) => (t?.gradFn ? t.detach() : t));
  const out = e.outputs[0];
  const rank = out.ndim;
  /** Input k: batched and lifted to the output's rank, or the traced value (which broadcasts). */
  const aligned = (k: number): Tensor => {
    const b = ins[k];
    return b ? lift(b, rank) : (orig[k] as Tensor);
  };
  const x = ins[0];
  const x0 = orig[0] as Tensor;
  switch (e.op) {
    case "unary": {
      const { name, ...attrs } = a;
      return [O.unaryOp(String(name), x!, attrs as O.Attrs)];
    }
    case "binary":
      return [O.binaryOp(String(a.name), aligned(0), aligned(1))];
    case "where":
      return [O.where(aligned(0), aligned(1), aligned(2))];
    case "cast":
      return [O.cast(x!, a.dtype as Tensor["dtype"])];
    case "reshape":
      return [O.reshape(x!, [rows, ...out.shape])];
    case "permute":
      return [O.permute(x!, [0, ...(a.dims as number[]).map((d) => d + 1)])];
    case "expand":
      return [O.expand(lift(x!, rank), [rows, ...out.shape])];
    case "sum_to_shape": {
      const target = out.shape;
      const lifted = lift(x!, x0.ndim);
      const padded = [...new Array<number>(x0.ndim - target.length).fill(1), ...target];
      return [O.sumToShape(lifted, [rows, ...padded])];
    }
    case "narrow":
      return [O.narrow(x!, (a.dim as number) + 1, a.start as number, a.length as number)];
    case "cat":
      return [
        O.cat(
          orig.map((t, k) => ins[k] ?? repeat(t as Tensor, rows)),
          (a.dim as number) + 1,
        ),
      ];
    case "gather": {
      if (ins[1]) throw new Unbatchable("gather's indices depend on the varied values");
      const index = orig[1] as Tensor;
      return [O.gather(x!, (a.dim as number) + 1, repeat(index, rows))];
    }
    case "index_select":
      if (ins[1]) throw new Unbatchable("index_select's indices depend on the varied values");
      return [O.indexSelect(x!, (a.dim as number) + 1, orig[1] as Tensor)];
    case "sum":
    case "mean": {
      const dims = a.dims as number[];
      if (x0.ndim === 0) return [x!];
      const f = e.op === "sum" ? O.sum : O.mean;
      // Over all of a point's dims: each row reduced as the whole point is (torch's order for a full sum).
      if (allDims(dims, x0.ndim)) return [f(rowsOf(x!), 1)];
      return [
        f(
          x!,
          dims.map((d) => d + 1),
        ),
      ];
    }
    case "extreme_all": {
      if (x0.ndim === 0) return [x!];
      const f = a.kind === "max" ? O.maxDim : O.minDim;
      return [f(rowsOf(x!), 1).values];
    }
    case "extreme_dim": {
      if (x0.ndim === 0) return [x!, zeros([rows], "int64")];
      const f = a.kind === "min" || a.kind === "argmin" ? O.minDim : O.maxDim;
      const r = f(x!, (a.dim as number) + 1, a.keepdim as boolean);
      return [r.values, r.indices];
    }
    case "max_pool2d": {
      // Each point's (N, C, H, W) planes pooled side by side: rows * N planes of the same windows.
      const [n, ...rest] = x0.shape;
      const r = O.maxPoolWindows(O.reshape(x!, [rows * n, ...rest]), a.win as PoolWindow, a.out as number[]);
      return [r.values, r.indices].map((t, k) => O.reshape(t, [rows, ...e.outputs[k].shape]));
    }
    case "unfold":
    case "fold": {
      // Each point's N images side by side: rows * N images of the same windows.
      const [n, ...rest] = x0.shape;
      const x2 = O.reshape(x!, [rows * n, ...rest]);
      const [win, grid] = [a.win as PoolWindow, a.out as number[]];
      const r =
        e.op === "unfold"
          ? O.unfoldWindows(x2, win, grid)
          : O.foldWindows(x2, win, grid, [rows * n, ...out.shape.slice(1)]);
      return [O.reshape(r, [rows, ...out.shape])];
    }
    case "avg_pool2d": {
      if (ins[1]) throw new Unbatchable("avg_pool2d's divisors depend on the varied values");
      const [n, ...rest] = x0.shape;
      const r = O.avgPoolWindows(O.reshape(x!, [rows * n, ...rest]), orig[1] as Tensor, a.win as PoolWindow);
      return [O.reshape(r, [rows, ...out.shape])];
    }
    case "norm": {
      const dims = a.dims as number[];
      if (x0.ndim === 0) return [O.abs(x!)];
      const p = a.p as number;
      if (allDims(dims, x0.ndim)) return [O.norm(rowsOf(x!), p, 1)];
      return [
        O.norm(
          x!,
          p,
          dims.map((d) => d + 1),
        ),
      ];
    }
    case "logsumexp": {
      const dims = a.dims as number[];
      if (x0.ndim === 0) return [x!];
      if (allDims(dims, x0.ndim)) return [O.logsumexp(rowsOf(x!), 1)];
      return [
        O.logsumexp(
          x!,
          dims.map((d) => d + 1),
        ),
      ];
    }
    case "softmax":
      return [O.softmax(x!, (a.dim as number) + 1)];
    case "log_softmax":
      return [O.logSoftmax(x!, (a.dim as number) + 1)];
    case "matmul":
      return [matmul(orig[0] as Tensor, orig[1] as Tensor, ins[0], ins[1], rows, out)];
    case "pointwise_loss": {
      const shape = [rows, ...out.shape];
      const full = (k: number) => (ins[k] ? (ins[k] as Tensor) : O.expand(orig[k] as Tensor, shape));
      const weight = orig[2] ? full(2) : null;
      const spec = POINTWISE_LOSSES[a.loss as PointwiseLossName];
      return [pointwiseLoss(spec, full(0), full(1), weight, a.p as number)];
    }
    case "nll_loss": {
      if (ins[1] || ins[2])
        throw new Unbatchable("nll_loss's targets or weights depend on the varied values");
      if (isTracing()) return [tracedNll(e, x!, rows)];
      // Row by row: the loss's own cascade of partial sums over each point's targets.
      const input = x!;
      const each = numel(x0.shape);
      const data = input.data;
      const per = out.numel;
      const values = allocate(out.dtype, rows * per);
      const opts = {
        weight: (orig[2] as Tensor | null) ?? undefined,
        ignore_index: a.ignore_index as number,
        reduction: a.reduction as string,
      };
      for (let r = 0; r < rows; r++) {
        const row = new Tensor(data.subarray(r * each, (r + 1) * each), x0.shape, x0.dtype);
        values.set(nllLoss(row, orig[1] as Tensor, opts).data, r * per);
      }
      return [new Tensor(values, [rows, ...out.shape], out.dtype)];
    }
    case "custom_function":
      throw new Unbatchable("internal: custom functions replay their forward's ops");
    case "bernoulli":
      // A draw has no inputs, so it never depends on the batch (the loop above skips it).
      return [out];
    case "state_update":
      // Running statistics written in place: one write per point cannot be one batched write.
      throw new Unbatchable("the graph updates state in place (running statistics)");
  }
}

/** torch.matmul of a batched and/or a plain operand, as matrices with the batch dim in front. */
function matmul(
  a0: Tensor,
  b0: Tensor,
  a: Tensor | undefined,
  b: Tensor | undefined,
  rows: number,
  out: Tensor,
): Tensor {
  const k = a0.shape[a0.ndim - 1];
  // Vectors as matrices: a as (1, k), b as (k, 1), as matmul itself reads them.
  const aMat = a0.ndim === 1 ? [1, k] : a0.shape;
  const bMat = b0.ndim === 1 ? [k, 1] : b0.shape;
  const batchRank = Math.max(aMat.length, bMat.length) - 2;
  const form = (t: Tensor | undefined, plain: Tensor, mat: readonly number[]): Tensor => {
    if (!t) return mat === plain.shape ? plain : O.reshape(plain, [...mat]);
    return lift(O.reshape(t, [rows, ...mat]), batchRank + 2);
  };
  const r = O.matmul(form(a, a0, aMat), form(b, b0, bMat));
  return O.reshape(r, [rows, ...out.shape]);
}

/**
 * nll_loss of every row at once, for a replay traced for a device: the unreduced loss of all rows' targets
 * (one op, not one per row), summed per row and divided by the row's total weight for the mean. The sum's order
 * is not the CPU cascade's, so float32 results agree to rounding, not bit for bit (the device computes its own
 * order anyway).
 */
function tracedNll(e: TraceEvent, x: Tensor, rows: number): Tensor {
  const [x0, target, weight] = e.inputs as [Tensor, Tensor, Tensor | null];
  const ignore = e.attrs.ignore_index as number;
  const reduction = e.attrs.reduction as string;
  const point = x0.ndim === 1 ? [1, ...x0.shape] : x0.shape;
  const input = O.reshape(x, [rows * point[0], ...point.slice(1)]);
  const t = O.reshape(repeat(target, rows), [rows * point[0], ...point.slice(2)]);
  const each = nllLoss(input, t, { weight: weight ?? undefined, ignore_index: ignore, reduction: "none" });
  if (reduction === "none") return each;
  const sums = O.sum(O.reshape(each, [rows, target.numel]), 1);
  if (reduction === "sum") return sums;
  let total = 0;
  for (const c of target.data) if (c !== ignore) total += weight ? weight.data[c] : 1;
  return O.binaryOp("div", sums, total);
}
