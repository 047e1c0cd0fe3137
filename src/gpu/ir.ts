/**
 * The GPU program's intermediate representation: a DAG of tensor values, each made by one op. It is built from
 * a traced forward pass (capture.ts), extended with its backward pass (autodiff.ts), then fused into kernels
 * (plan.ts) and turned into WGSL (codegen.ts).
 *
 * Every value lives on the GPU as f32, whatever its logical dtype: integer and bool tensors are exact there
 * while they stay below 2^24 in magnitude, which class indices and counts do.
 */
import type { DType } from "../runtime/dtype.ts";
import type { Attrs } from "../runtime/ops/elementwise.ts";
import type { LaneFn } from "../runtime/ops/lanes.ts";
import type { LossPart, PointwiseLossName } from "../runtime/pointwise-loss.ts";
import { numel, stridesOf } from "../runtime/shape.ts";
import type { Pointwise, PoolWindow } from "../runtime/vjp.ts";
import type { Builder } from "./builder.ts";

/** Internal elementwise functions that have no runtime declaration of their own (see exprs.ts). */
export type ExprName = "lse_shift" | "lse_finish";

/** Ops computed independently per output element: they fuse with one another. */
export type MapOp =
  | { k: "unary"; name: string; attrs: Attrs }
  /** g * d(unary)/dx, from inputs [g, x]. */
  | { k: "unary_grad"; name: string; attrs: Attrs }
  | { k: "binary"; name: string }
  /** g * d(binary)/d(a or b), from inputs [g, a, b]. */
  | { k: "binary_grad"; name: string; side: 0 | 1 }
  /** inputs [cond, a, b] */
  | { k: "where" }
  | { k: "cast"; to: DType }
  | { k: "fill"; value: number }
  | { k: "expr"; name: ExprName }
  /**
   * A pointwise loss's declared formula (runtime/pointwise-loss.ts) with its number param p: the loss from
   * inputs [x, t, w], or g times a derivative from inputs [g, x, t, w].
   */
  | { k: "pointwise_loss"; loss: PointwiseLossName; part: LossPart; p: number }
  /** out[o] = x[idx[o]] (x read in its logical row-major order), 0 where idx[o] < 0; inputs [x, idx]. */
  | { k: "take" }
  /** The input placed at `start` along `dim` of a larger zero tensor (narrow's gradient). */
  | { k: "pad"; dim: number; start: number }
  | { k: "cat"; dim: number }
  /** A gradient rule's formula (runtime/vjp.ts); inputs in the order of fn.vars, of the output's shape. */
  | { k: "pointwise"; fn: Pointwise; attrs: Attrs }
  /** g where the coordinate along `dim` equals idx, else 0; inputs [idx, g] (max_dim's gradient). */
  | { k: "onehot"; dim: number }
  /**
   * max_pool2d of input [x (N, C, H, W)] at each output element: the window's max (torch's rule: first of equal
   * maxima, last NaN) or the plane index it picked.
   */
  | { k: "maxpool"; part: "value" | "index"; win: PoolWindow }
  /**
   * GradOps' unpool from inputs [g, idx] (N, C, Ho, Wo): each input element sums, in output order, the g of the
   * outputs whose window covers it and whose idx is it.
   */
  | { k: "unpool"; win: PoolWindow }
  /** avg_pool2d from inputs [x (N, C, H, W), divisors (Ho, Wo)]: each window's taps inside x summed in order. */
  | { k: "avgpool"; win: PoolWindow }
  /** GradOps' windowShare from inputs [g (N, C, Ho, Wo), divisors (Ho, Wo)]. */
  | { k: "unavg"; win: PoolWindow }
  /** im2col (GradOps' unfold) of input [x (N, C, H, W)] over `out` = [Ho, Wo] window positions. */
  | { k: "unfold"; win: PoolWindow; out: readonly number[] }
  /** col2im (GradOps' fold) of input [g (N, C * kH * kW, Ho * Wo)] to (N, C, H, W). */
  | { k: "fold"; win: PoolWindow; out: readonly number[] }
  | { k: "copy" }
  /** The same value with no gradient flowing back (a detached tensor). */
  | { k: "detach" }
  /**
   * A value whose gradient comes from a rule rather than from its forward's ops: the value of input 0 (the
   * forward's ops), with inputs 1.. the inputs whose gradients `vjp` gives. A user-defined autograd function
   * (its backward replayed), or an op whose forward is lowered in pieces (logsumexp: the gradient table's rule).
   */
  | { k: "custom"; name: string; vjp: (b: Builder, g: Node) => (Node | null)[] };

export type ReduceFn = "sum" | "mean" | "max" | "min" | "norm";

/** Ops that need more than their own output element: each becomes the core of a kernel. */
export type ProducerOp =
  /** Over `dims` of the input; the output keeps those dims with size 1. */
  | {
      k: "reduce";
      fn: ReduceFn;
      dims: number[];
      p?: number;
      /** max/min along a dim: the gradient goes to the first extreme element (else ties share it). */
      first?: boolean;
    }
  | { k: "argreduce"; fn: "max" | "min"; dim: number }
  /** inputs [a (..., m, k), b (..., k, n)], batch dims broadcast. */
  | { k: "matmul" }
  | { k: "lane"; fn: LaneFn; dim: number }
  /**
   * out[i] = sum of g[cols[j]] for j in rowptr[i]..rowptr[i+1] (gather's gradient); inputs [g, rowptr, cols], or
   * [g, source] when no i has more than one entry (out[i] = 0.0 + g[source[i]], 0 where source[i] is -1).
   */
  | { k: "segsum" };

/** Ops that reinterpret their input's memory: no kernel of their own. */
export type ViewOp =
  | { k: "reshape" }
  | { k: "permute"; dims: number[] }
  | { k: "expand" }
  | { k: "narrow"; dim: number; start: number };

export type LeafOp =
  | { k: "const"; data: Float32Array }
  /** Integer metadata (gather offsets), stored as i32 bits. */
  | { k: "iconst"; data: Int32Array }
  /** A trained or differentiated leaf tensor, kept on the GPU across epochs. */
  | { k: "param"; slot: number }
  /** The gradient buffer of a param, as it stands before this epoch's backward (for accumulation). */
  | { k: "grad"; slot: number };

export type Op = MapOp | ProducerOp | ViewOp | LeafOp;

const MAP_KINDS = new Set([
  "unary",
  "unary_grad",
  "binary",
  "binary_grad",
  "where",
  "cast",
  "fill",
  "expr",
  "pointwise_loss",
  "take",
  "pad",
  "cat",
  "pointwise",
  "onehot",
  "maxpool",
  "unpool",
  "avgpool",
  "unavg",
  "unfold",
  "fold",
  "copy",
  "detach",
  "custom",
]);
const PRODUCER_KINDS = new Set(["reduce", "argreduce", "matmul", "lane", "segsum"]);
const VIEW_KINDS = new Set(["reshape", "permute", "expand", "narrow"]);

let nextId = 0;

export class Node {
  readonly id = nextId++;
  constructor(
    readonly op: Op,
    readonly inputs: Node[],
    readonly shape: readonly number[],
    readonly dtype: DType,
    /** The graph node whose evaluation made this value, for messages. */
    readonly scope: string | null,
    /** The runtime op it came from (l1_loss's parts say "sub", "abs", "mean"), for messages. */
    readonly what: string,
  ) {}

  get numel(): number {
    return numel(this.shape);
  }
  get isMap(): boolean {
    return MAP_KINDS.has(this.op.k);
  }
  get isProducer(): boolean {
    return PRODUCER_KINDS.has(this.op.k);
  }
  get isView(): boolean {
    return VIEW_KINDS.has(this.op.k);
  }
  get isLeaf(): boolean {
    const k = this.op.k;
    return k === "const" || k === "iconst" || k === "param" || k === "grad";
  }
}

/** How a kernel reads a materialized value: element offset = offset + sum(coord[d] * strides[d]). */
export interface Access {
  base: Node;
  offset: number;
  strides: number[];
}

/** Resolve a chain of views down to the value that owns memory, as a strided access over `node.shape`. */
export function accessOf(node: Node): Access | null {
  if (!node.isView) return { base: node, offset: 0, strides: stridesOf(node.shape) };
  const inner = accessOf(node.inputs[0]);
  if (!inner) return null;
  const op = node.op as ViewOp;
  const src = node.inputs[0];
  switch (op.k) {
    case "permute":
      return { base: inner.base, offset: inner.offset, strides: op.dims.map((d) => inner.strides[d]) };
    case "expand": {
      const lead = node.shape.length - src.shape.length;
      return {
        base: inner.base,
        offset: inner.offset,
        strides: node.shape.map((d, i) =>
          i < lead || (src.shape[i - lead] === 1 && d !== 1) ? 0 : inner.strides[i - lead],
        ),
      };
    }
    case "narrow":
      return {
        base: inner.base,
        offset: inner.offset + op.start * inner.strides[op.dim],
        strides: inner.strides,
      };
    case "reshape":
      return reshapeAccess(inner, src.shape, node.shape);
  }
}

/**
 * A reshape keeps a strided access when each group of output dims maps onto a group of input dims that is
 * itself laid out contiguously relative to its own strides (always true for a contiguous input).
 */
function reshapeAccess(inner: Access, from: readonly number[], to: readonly number[]): Access | null {
  // Drop size-1 dims of the source: their strides never matter.
  const dims: { size: number; stride: number }[] = [];
  from.forEach((s, i) => {
    if (s !== 1) dims.push({ size: s, stride: inner.strides[i] });
  });
  // Merge runs of source dims that are contiguous with one another.
  const merged: { size: number; stride: number }[] = [];
  for (const d of dims) {
    const last = merged[merged.length - 1];
    if (last && last.stride === d.size * d.stride) {
      last.size *= d.size;
      last.stride = d.stride;
    } else merged.push({ ...d });
  }
  const strides = new Array<number>(to.length).fill(0);
  let m = 0;
  let left = merged.length ? merged[0].size : 1;
  for (let i = 0; i < to.length; i++) {
    const s = to[i];
    if (s === 1) continue;
    if (m >= merged.length) return null;
    if (left % s !== 0) return null;
    left /= s;
    strides[i] = merged[m].stride * left;
    if (left === 1) {
      m++;
      left = m < merged.length ? merged[m].size : 1;
    }
  }
  return { base: inner.base, offset: inner.offset, strides };
}

/** All nodes reachable from `roots`, inputs before users. */
export function topoOrder(roots: Node[]): Node[] {
  const out: Node[] = [];
  const seen = new Set<Node>();
  const stack: [Node, number][] = [];
  for (const r of roots) {
    if (seen.has(r)) continue;
    seen.add(r);
    stack.push([r, 0]);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [n, i] = top;
      if (i < n.inputs.length) {
        top[1]++;
        const c = n.inputs[i];
        if (!seen.has(c)) {
          seen.add(c);
          stack.push([c, 0]);
        }
      } else {
        out.push(n);
        stack.pop();
      }
    }
  }
  return out;
}
