/**
 * Reverse-mode autodiff on the IR: the backward pass becomes more IR, so it is fused and compiled like the
 * forward. Layout ops (pad too), take, where, cast, the reductions, matmul and softmax/log_softmax take their rule from
 * the gradient table the CPU runtime uses too (runtime/vjp.ts, over the builder's GradOps in grad-ops.ts);
 * elementwise ops and declared losses from their formulas' derivatives; logsumexp and users' autograd functions
 * from the rule their lowering attaches (a "custom" node).
 */
import { isFloating } from "../runtime/dtype.ts";
import { BINARY, UNARY } from "../runtime/ops/elementwise.ts";
import { sameShape } from "../runtime/shape.ts";
import { VJP } from "../runtime/vjp.ts";
import type { Builder } from "./builder.ts";
import { GpuError, nodeRef } from "./errors.ts";
import { gradOps } from "./grad-ops.ts";
import { type Node, topoOrder } from "./ir.ts";
import { reads } from "./wgsl.ts";

export interface Seed {
  node: Node;
  /** d(objective)/d(node); a node of node's shape. */
  grad: Node;
}

/** Gradients of the seeds' objective with respect to each of `wrt` (null where no gradient flows). */
export function backward(b: Builder, seeds: readonly Seed[], wrt: readonly Node[]): (Node | null)[] {
  const order = topoOrder(seeds.map((s) => s.node));
  const targets = new Set(wrt);
  const needs = new Set<Node>();
  for (const n of order)
    if (targets.has(n) || (differentiable(n) && n.inputs.some((i) => needs.has(i)))) needs.add(n);

  const grads = new Map<Node, Node>();
  const accumulate = (n: Node, g: Node) => {
    if (!sameShape(n.shape, g.shape))
      throw new Error(`internal: gradient of shape ${g.shape} for a value of shape ${n.shape} (${n.what})`);
    const prev = grads.get(n);
    grads.set(n, prev ? b.add(prev, g) : g);
  };
  for (const s of seeds) if (needs.has(s.node)) accumulate(s.node, s.grad);

  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i];
    const g = grads.get(n);
    if (!g || n.isLeaf || !needs.has(n)) continue;
    b.scope = n.scope;
    b.what = `gradient of ${n.what}`;
    const gs = vjp(b, n, g);
    n.inputs.forEach((input, k) => {
      const gi = gs[k];
      if (gi && needs.has(input)) accumulate(input, gi);
    });
  }
  return wrt.map((w) => grads.get(w) ?? null);
}

function differentiable(n: Node): boolean {
  const k = n.op.k;
  if (k === "detach" || k === "argreduce" || k === "fill" || k === "const" || k === "iconst") return false;
  if (k === "cast") return isFloating(n.dtype);
  return isFloating(n.dtype);
}

function unsupported(n: Node): never {
  throw new GpuError(
    "unsupported",
    `${nodeRef(n.scope)}: the WebGPU backend cannot differentiate ${n.what} (${n.op.k}) a second time; use the CPU backend`,
    n.scope,
  );
}

/** Gradients for each input of `n`, given the gradient `g` of its output. */
function vjp(b: Builder, n: Node, g: Node): (Node | null)[] {
  const I = n.inputs;
  const op = n.op;
  switch (op.k) {
    case "unary": {
      const d = UNARY[op.name];
      if (!d?.backward) return [null];
      return [b.map({ k: "unary_grad", name: op.name, attrs: op.attrs }, [g, I[0]], n.shape)];
    }
    case "binary": {
      const d = BINARY[op.name];
      if (!d?.dawgsl || !d.dbwgsl) return [null, null];
      return [d.dawgsl, d.dbwgsl].map((expr, side) => {
        // An operand the derivative does not read (add's 1.0) is not loaded: a zero literal stands in.
        const uses = (v: "a" | "b") => reads(expr, v) || reads(expr, "y");
        const a = uses("a") ? I[0] : b.fill(0);
        const bb = uses("b") ? I[1] : b.fill(0);
        return b.sumTo(
          b.map({ k: "binary_grad", name: op.name, side: side as 0 | 1 }, [g, a, bb], n.shape),
          I[side].shape,
        );
      });
    }
    case "where":
      return [null, ...VJP.where(gradOps(b), g, I[0], [I[1].shape, I[2].shape])];
    case "cast":
      return [VJP.cast(gradOps(b), g, I[0].dtype)];
    case "copy":
      return [g];
    case "custom":
      return [null, ...op.vjp(b, g)];
    case "detach":
    case "fill":
      return I.map(() => null);
    case "pointwise_loss": {
      // The loss's declared gradients, the same formulas the CPU backward evaluates.
      if (op.part !== "loss") return unsupported(n);
      const part = (p: "dInput" | "dTarget") => b.map({ ...op, part: p }, [g, ...I], n.shape);
      return [part("dInput"), part("dTarget"), null, null];
    }
    case "take":
      if (I[1].op.k !== "iconst") throw new Error("internal: take without constant offsets");
      return [VJP.take(gradOps(b), g, I[1].op.data, I[0].shape), null];
    case "pad":
      return [VJP.pad(gradOps(b), g, op.dim, op.start, I[0].shape[op.dim])];
    case "cat":
      return VJP.cat(
        gradOps(b),
        g,
        op.dim,
        I.map((x) => x.shape[op.dim]),
      );
    case "reduce":
      return [reduceGrad(b, n, g)];
    case "argreduce":
      return [null];
    case "matmul":
      return VJP.matmul(gradOps(b), g, I[0], I[1], [I[0].shape, I[1].shape]);
    case "lane":
      if (op.fn === "softmax" || op.fn === "log_softmax")
        return [VJP.softmax(gradOps(b), op.fn, g, n, op.dim)];
      return unsupported(n);
    case "reshape":
      return [VJP.reshape(gradOps(b), g, I[0].shape)];
    case "permute":
      return [VJP.permute(gradOps(b), g, op.dims)];
    case "expand":
      return [VJP.expand(gradOps(b), g, I[0].shape)];
    case "narrow":
      return [VJP.narrow(gradOps(b), g, I[0].shape, op.dim, op.start)];
    default:
      return unsupported(n);
  }
}

function reduceGrad(b: Builder, n: Node, g: Node): Node {
  if (n.op.k !== "reduce") throw new Error("internal");
  const op = n.op;
  const x = n.inputs[0];
  const ops = gradOps(b);
  switch (op.fn) {
    case "sum":
      return VJP.sum(ops, g, x.shape, op.dims);
    case "mean":
      return VJP.mean(ops, g, x.shape, op.dims);
    case "max":
    case "min": {
      if (!op.first)
        return VJP.extremeShared(ops, { g, x, y: n, xShape: x.shape, dims: op.dims, dtype: g.dtype });
      const dim = op.dims[0];
      const idx = b.node({ k: "argreduce", fn: op.fn, dim }, [x], n.shape, "int64");
      return VJP.extremeDim(ops, g, idx, x.shape, dim);
    }
    case "norm":
      return VJP.norm(ops, { g, x, y: n, xShape: x.shape, dims: op.dims, dtype: g.dtype }, op.p ?? 2);
  }
}
