/**
 * IR clean-up before planning: fold elementwise ops on uniform values (the backward seed's chain of scalars) to
 * literals, so they never cost a kernel, and give every view a strided access by copying where a reshape
 * cannot be expressed as one.
 */
import { coerce } from "../runtime/dtype.ts";
import { BINARY, UNARY, unaryKernels } from "../runtime/ops/elementwise.ts";
import type { Builder } from "./builder.ts";
import { accessOf, type Node, topoOrder } from "./ir.ts";

/** The single value of a node every element of which is the same known number, else null. */
export function uniformValue(n: Node): number | null {
  let cur = n;
  while (cur.isView) cur = cur.inputs[0];
  if (cur.op.k === "fill") return cur.op.value;
  if (cur.op.k === "const" && cur.op.data.length === 1) return cur.op.data[0];
  return null;
}

function foldValue(n: Node, vals: number[]): number | null {
  const op = n.op;
  switch (op.k) {
    case "unary":
      return UNARY[op.name] ? unaryKernels(op.name, op.attrs).js.fn()(vals[0]) : null;
    case "binary":
      return BINARY[op.name] ? BINARY[op.name].fn(vals[0], vals[1]) : null;
    case "where":
      return vals[0] !== 0 ? vals[1] : vals[2];
    case "cast":
      return coerce(op.to, vals[0]);
    case "copy":
    case "detach":
    case "custom":
      return vals[0];
    case "unary_grad": {
      if (!UNARY[op.name]?.backward) return null;
      const { js } = unaryKernels(op.name, op.attrs);
      return js.gradFn()(vals[0], vals[1], js.fn()(vals[1]));
    }
    case "binary_grad": {
      const d = BINARY[op.name];
      const df = op.side === 0 ? d?.da : d?.db;
      if (!d || !df) return null;
      return vals[0] * df(vals[1], vals[2], d.fn(vals[1], vals[2]));
    }
    default:
      return null;
  }
}

/** Rebuild the graph under `roots` with the rules applied; returns the new roots in the same order. */
export function simplify(b: Builder, roots: readonly Node[]): Node[] {
  const map = new Map<Node, Node>();
  const order = topoOrder([...roots]);
  const readers = new Map<Node, number>();
  for (const n of order) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  for (const r of roots) readers.set(r, (readers.get(r) ?? 0) + 1);
  for (const n of order) {
    const inputs = n.inputs.map((i) => map.get(i) ?? i);
    const changed = inputs.some((i, k) => i !== n.inputs[k]);
    let out = changed ? rebuild(b, n, inputs) : n;
    // (A @ B)^T read only transposed is B^T @ A^T: no transposing copy (the weight gradient of linear).
    const mm = inputs[0];
    if (
      out.op.k === "permute" &&
      isLastSwap(out.op.dims) &&
      mm?.op.k === "matmul" &&
      readers.get(n.inputs[0]) === 1
    )
      out = withScope(b, out, () => b.matmul(b.transposeLast(mm.inputs[1]), b.transposeLast(mm.inputs[0])));
    if (out.isMap && inputs.length > 0) {
      const vals = inputs.map(uniformValue);
      if (vals.every((v) => v !== null)) {
        const v = foldValue(out, vals as number[]);
        if (v !== null) out = withScope(b, out, () => b.fill(coerce(out.dtype, v), out.shape, out.dtype));
      }
    }
    if (out.op.k === "reshape" && accessOf(out) === null)
      out = withScope(b, out, () =>
        b.reshape(b.map({ k: "copy" }, [out.inputs[0]], out.inputs[0].shape, out.dtype), out.shape),
      );
    map.set(n, out);
  }
  return roots.map((r) => map.get(r) ?? r);
}

function isLastSwap(dims: readonly number[]): boolean {
  const r = dims.length;
  return (
    r >= 2 && dims[r - 2] === r - 1 && dims[r - 1] === r - 2 && dims.slice(0, -2).every((d, i) => d === i)
  );
}

function withScope(b: Builder, like: Node, make: () => Node): Node {
  b.scope = like.scope;
  b.what = like.what;
  return make();
}

function rebuild(b: Builder, n: Node, inputs: Node[]): Node {
  return withScope(b, n, () => b.node(n.op, inputs, n.shape, n.dtype));
}
