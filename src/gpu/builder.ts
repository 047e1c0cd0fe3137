/** Helpers that make IR nodes with checked shapes; lowering (capture.ts) and autodiff share them. */
import type { DType } from "../runtime/dtype.ts";
import type { Attrs } from "../runtime/ops/elementwise.ts";
import { numel, sameShape } from "../runtime/shape.ts";
import { type ExprName, type MapOp, Node, type Op, type ReduceFn } from "./ir.ts";

export class Builder {
  /** Where new nodes come from, for messages: the graph node and the runtime op. */
  scope: string | null = null;
  what = "";

  node(op: Op, inputs: Node[], shape: readonly number[], dtype: DType): Node {
    return new Node(op, inputs, [...shape], dtype, this.scope, this.what);
  }

  map(op: MapOp, inputs: Node[], shape: readonly number[], dtype: DType = "float32"): Node {
    return this.node(op, inputs, shape, dtype);
  }

  fill(value: number, shape: readonly number[] = [], dtype: DType = "float32"): Node {
    return this.map({ k: "fill", value }, [], shape, dtype);
  }

  constant(data: Float32Array, shape: readonly number[], dtype: DType = "float32"): Node {
    return this.node({ k: "const", data }, [], shape, dtype);
  }

  iconst(data: Int32Array, shape: readonly number[]): Node {
    return this.node({ k: "iconst", data }, [], shape, "int32");
  }

  unary(name: string, x: Node, attrs: Attrs = {}, dtype: DType = x.dtype): Node {
    return this.map({ k: "unary", name, attrs }, [x], x.shape, dtype);
  }

  binary(name: string, a: Node, b: Node, shape: readonly number[], dtype: DType = "float32"): Node {
    return this.map({ k: "binary", name }, [a, b], shape, dtype);
  }

  expr(name: ExprName, inputs: Node[], shape: readonly number[]): Node {
    return this.map({ k: "expr", name }, inputs, shape, "float32");
  }

  reshape(x: Node, shape: readonly number[]): Node {
    if (sameShape(x.shape, shape)) return x;
    if (numel(shape) !== x.numel) throw new Error(`internal: reshape ${x.shape} to ${shape}`);
    return this.node({ k: "reshape" }, [x], shape, x.dtype);
  }

  permute(x: Node, dims: number[]): Node {
    if (dims.every((d, i) => d === i)) return x;
    return this.node(
      { k: "permute", dims },
      [x],
      dims.map((d) => x.shape[d]),
      x.dtype,
    );
  }

  /** Swap the last two dims. */
  transposeLast(x: Node): Node {
    const r = x.shape.length;
    return this.permute(
      x,
      x.shape.map((_, i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i)),
    );
  }

  expand(x: Node, shape: readonly number[]): Node {
    if (sameShape(x.shape, shape)) return x;
    return this.node({ k: "expand" }, [x], shape, x.dtype);
  }

  narrow(x: Node, dim: number, start: number, length: number): Node {
    if (start === 0 && length === x.shape[dim]) return x;
    const shape = [...x.shape];
    shape[dim] = length;
    return this.node({ k: "narrow", dim, start }, [x], shape, x.dtype);
  }

  /** A reduction over `dims`, keeping them as size-1 dims. */
  reduce(fn: ReduceFn, x: Node, dims: number[], extra: { p?: number; first?: boolean } = {}): Node {
    const shape = x.shape.map((s, i) => (dims.includes(i) ? 1 : s));
    const dtype = fn === "sum" && (x.dtype === "bool" || x.dtype === "int32") ? "int64" : x.dtype;
    return this.node({ k: "reduce", fn, dims: [...dims], ...extra }, [x], shape, dtype);
  }

  /** Sum `g` down to `shape`, undoing broadcasting (the gradient of an implicit expand). */
  sumTo(g: Node, shape: readonly number[]): Node {
    if (sameShape(g.shape, shape)) return g;
    const lead = g.shape.length - shape.length;
    const dims: number[] = [];
    g.shape.forEach((s, i) => {
      if (i < lead || (shape[i - lead] === 1 && s !== 1)) dims.push(i);
    });
    const r = dims.length ? this.reduce("sum", g, dims) : g;
    return this.reshape(r, shape);
  }

  matmul(a: Node, b: Node): Node {
    const shape = [...a.shape.slice(0, -1), b.shape[b.shape.length - 1]];
    return this.node({ k: "matmul" }, [a, b], shape, a.dtype);
  }

  add(a: Node, b: Node): Node {
    return this.binary("add", a, b, a.shape, a.dtype);
  }
}
