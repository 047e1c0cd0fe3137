/** The gradient table's operations (runtime/vjp.ts) on IR nodes: autodiff and lowering build rules with them. */
import { numel } from "../runtime/shape.ts";
import type { GradOps } from "../runtime/vjp.ts";
import type { Builder } from "./builder.ts";
import type { Node } from "./ir.ts";

export function gradOps(b: Builder): GradOps<Node> {
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
    pointwise: (fn, args, shape, dtype, attrs = {}) =>
      b.map(
        { k: "pointwise", fn, attrs },
        args.map((t) => b.expand(t, shape)),
        shape,
        dtype,
      ),
    placeAt: (g, idx, dim, shape) =>
      b.map({ k: "onehot", dim }, [b.expand(idx, shape), b.expand(g, shape)], shape),
    unpool: (g, idx, win, shape) => b.map({ k: "unpool", win }, [g, idx], shape, g.dtype),
    windowShare: (g, divisors, win, shape) => b.map({ k: "unavg", win }, [g, divisors], shape, g.dtype),
    unfold: (x, win, out) =>
      b.map(
        { k: "unfold", win, out },
        [x],
        [x.shape[0], x.shape[1] * win.k[0] * win.k[1], out[0] * out[1]],
        x.dtype,
      ),
    fold: (g, win, out, shape) => b.map({ k: "fold", win, out }, [g], shape, g.dtype),
  };
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
