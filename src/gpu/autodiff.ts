/**
 * Reverse-mode autodiff on the IR: the backward pass becomes more IR, so it is fused and compiled like the
 * forward. Layout ops, take, where, cast, sum/mean, matmul and softmax/log_softmax take their rule from the
 * gradient table the CPU runtime uses too (runtime/vjp.ts, over the builder's GradOps); elementwise ops and
 * declared losses from their formulas' derivatives; the rest (max/min ties, masked norms, logsumexp) are written
 * here, each giving the gradient the CPU runtime's backward computes for the same op.
 */
import { isFloating } from "../runtime/dtype.ts";
import { BINARY, UNARY } from "../runtime/ops/elementwise.ts";
import { numel, sameShape } from "../runtime/shape.ts";
import { type GradOps, VJP } from "../runtime/vjp.ts";
import type { Builder } from "./builder.ts";
import { GpuError, nodeRef } from "./errors.ts";
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

/** The gradient table's operations (runtime/vjp.ts) on IR nodes. */
function gradOps(b: Builder): GradOps<Node> {
  return {
    reshape: (t, shape) => b.reshape(t, shape),
    permute: (t, dims) => b.permute(t, dims),
    expand: (t, shape) => b.expand(t, shape),
    sumTo: (t, shape) => b.sumTo(t, shape),
    narrow: (t, dim, start, length) => b.narrow(t, dim, start, length),
    pad: (t, dim, start, shape) => b.map({ k: "pad", dim, start }, [t], shape, t.dtype),
    divScalar: (t, v) => b.binary("div", t, b.fill(v), t.shape),
    mmNT: (g, y) => b.matmul(g, b.transposeLast(y)),
    mmTN: (x, g) => b.matmul(b.transposeLast(x), g),
    scatterAdd: (g, offsets, shape) => segsum(b, g, offsets, shape),
    mask: (cond, g, keep) => {
      const zero = b.fill(0);
      return b.map({ k: "where" }, keep ? [cond, g, zero] : [cond, zero, g], g.shape);
    },
    // Kernels compute in float32 whatever the tensor's dtype: nothing to convert.
    castTo: (g) => g,
    laneGrad: (fn, g, y, dim) =>
      b.node(
        { k: "lane", fn: fn === "softmax" ? "softmax_grad" : "log_softmax_grad", dim },
        [g, y],
        y.shape,
        y.dtype,
      ),
  };
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
    case "expr":
      switch (op.name) {
        case "lse_shift":
          return [b.binary("mul", g, n, n.shape), null];
        case "lse_finish":
          return [b.expr("lse_finish_grad", [g, I[1]], n.shape), null];
        default:
          return unsupported(n);
      }
    case "take":
      if (I[1].op.k !== "iconst") throw new Error("internal: take without constant offsets");
      return [VJP.take(gradOps(b), g, I[1].op.data, I[0].shape), null];
    case "pad":
      return [b.narrow(g, op.dim, op.start, I[0].shape[op.dim])];
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

/**
 * scatterAdd: every target element sums the gradients that read it, in order (a CSR list per element). When
 * no element is read more than once (a permutation, pooling windows that do not overlap), the one source per
 * element instead (-1 for none): one read and a branch per element, not two offsets and a loop.
 */
function segsum(b: Builder, g: Node, offsets: Int32Array, shape: readonly number[]): Node {
  const size = numel(shape);
  const counts = new Int32Array(size + 1);
  for (const off of offsets) if (off >= 0) counts[off + 1]++;
  if (size > 0 && counts.every((c) => c <= 1)) {
    const source = new Int32Array(size).fill(-1);
    offsets.forEach((off, o) => {
      if (off >= 0) source[off] = o;
    });
    return b.node({ k: "segsum" }, [g, b.iconst(source, [size])], shape, g.dtype);
  }
  for (let i = 0; i < size; i++) counts[i + 1] += counts[i];
  const cols = new Int32Array(Math.max(1, counts[size]));
  const fillPos = counts.slice(0, size);
  offsets.forEach((off, o) => {
    if (off >= 0) cols[fillPos[off]++] = o;
  });
  return b.node(
    { k: "segsum" },
    [g, b.iconst(counts, [size + 1]), b.iconst(cols, [cols.length])],
    shape,
    g.dtype,
  );
}

function reduceGrad(b: Builder, n: Node, g: Node): Node {
  if (n.op.k !== "reduce") throw new Error("internal");
  const op = n.op;
  const x = n.inputs[0];
  const spread = (v: Node) => b.expand(v, x.shape);
  switch (op.fn) {
    case "sum":
      return VJP.sum(gradOps(b), g, x.shape, op.dims);
    case "mean":
      return VJP.mean(gradOps(b), g, x.shape, op.dims);
    case "max":
    case "min": {
      if (op.first) {
        const dim = op.dims[0];
        const idx = b.node({ k: "argreduce", fn: op.fn, dim }, [x], n.shape, "int64");
        return b.map({ k: "onehot", dim }, [spread(idx), spread(g)], x.shape);
      }
      // Ties share the gradient evenly, as the CPU's max()/min() over all elements.
      const mask = b.expr("eq_mask", [x, spread(n)], x.shape);
      const count = b.reduce("sum", mask, op.dims);
      return b.expr("mul_div", [mask, spread(g), spread(count)], x.shape);
    }
    case "norm": {
      const p = op.p ?? 2;
      if (p === Number.POSITIVE_INFINITY) {
        const mask = b.expr("norminf_mask", [x, spread(n)], x.shape);
        const count = b.reduce("sum", mask, op.dims);
        return b.expr("norminf_grad", [x, mask, spread(g), spread(count)], x.shape);
      }
      const name = p === 2 ? "norm2_grad" : p === 1 ? "norm1_grad" : "normp_grad";
      return b.expr(name, [x, spread(n), spread(g)], x.shape, p);
    }
  }
}
