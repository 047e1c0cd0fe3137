/**
 * Shape and dtype rules for inference, mirroring what the runtime ops do at run time, so a graph's mismatches
 * are found before anything runs.
 */
import {
  broadcastShapes,
  type DType,
  fmtShape,
  isFloating,
  resultType,
  ShapeError,
} from "../runtime/index.ts";
import { type InferContext, InferError, type TensorMeta } from "./types.ts";

/** The most elements one tensor may have (400 MB of float32); larger is almost surely a typo. */
export const MAX_ELEMENTS = 100_000_000;

export function meta(shape: readonly number[], dtype: DType): TensorMeta {
  return { shape: [...shape], dtype };
}

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The input on `port`, which validation guarantees is connected for required ports. */
export function req(ctx: InferContext, port: string): TensorMeta {
  const m = ctx.inputs[port];
  if (!m) throw new InferError(`needs an input on '${port}'`, port);
  return m;
}

/** torch's result type of elementwise operands (0-d tensors count as zero-dim operands). */
export function promoteMeta(...ms: TensorMeta[]): DType {
  return resultType(
    ms.map((m) => ({
      dtype: m.dtype,
      kind: m.scalar ? "scalar" : m.shape.length === 0 ? "zerodim" : "dimmed",
    })),
  );
}

/** Broadcast shapes, blaming the second port when they do not fit. */
export function broadcastPorts(what: string, ports: [string, TensorMeta][]): number[] {
  try {
    return broadcastShapes(what, ...ports.map(([, m]) => m.shape));
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    const [first, ...rest] = ports;
    const bad = rest.find(([, m]) => {
      try {
        broadcastShapes(what, first[1].shape, m.shape);
        return false;
      } catch {
        return true;
      }
    });
    const [port, m] = bad ?? rest[rest.length - 1] ?? first;
    throw new InferError(
      `expected a shape that broadcasts with ${first[0]}'s ${fmtShape(first[1].shape)}, got ${fmtShape(m.shape)}`,
      port,
    );
  }
}

/** torch.matmul's result shape: 1-d vectors, 2-d matrices and broadcast batches. */
export function matmulShape(a: TensorMeta, b: TensorMeta, bPort = "other"): number[] {
  const as = a.shape;
  const bs = b.shape;
  if (as.length === 0 || bs.length === 0)
    throw new InferError(
      "matmul needs tensors with at least one dimension (got a 0-d tensor)",
      as.length ? bPort : "input",
    );
  const k1 = as[as.length - 1];
  const k2 = bs.length === 1 ? bs[0] : bs[bs.length - 2];
  if (k1 !== k2)
    throw new InferError(
      `shapes ${fmtShape(as)} and ${fmtShape(bs)} cannot be multiplied (${k1} vs ${k2} in the inner dimension)`,
      bPort,
    );
  if (as.length === 1 && bs.length === 1) return [];
  if (as.length === 1) return [...bs.slice(0, -2), bs[bs.length - 1]];
  if (bs.length === 1) return as.slice(0, -1);
  let batch: number[];
  try {
    batch = broadcastShapes("matmul", as.slice(0, -2), bs.slice(0, -2));
  } catch {
    throw new InferError(`batch dimensions of ${fmtShape(as)} and ${fmtShape(bs)} do not broadcast`, bPort);
  }
  return [...batch, as[as.length - 2], bs[bs.length - 1]];
}

export function normDimOf(dim: number, rank: number, port = "input"): number {
  const r = Math.max(rank, 1);
  if (!Number.isInteger(dim) || dim < -r || dim >= r)
    throw new InferError(
      `dim ${dim} is out of range for a ${rank}-d input (expected ${-r} to ${r - 1})`,
      port,
    );
  return dim < 0 ? dim + r : dim;
}

/** The shape after reducing `dims` (null: all), with or without keepdim. */
export function reducedShape(
  shape: readonly number[],
  dims: number | number[] | null,
  keepdim: boolean,
): number[] {
  const list = dims === null ? [] : typeof dims === "number" ? [dims] : dims;
  const all = list.length === 0;
  const ds = new Set(all ? shape.map((_, i) => i) : list.map((d) => normDimOf(d, shape.length)));
  if (shape.length === 0) return [];
  return keepdim ? shape.map((s, i) => (ds.has(i) ? 1 : s)) : shape.filter((_, i) => !ds.has(i));
}

export function floatOf(d: DType): DType {
  return isFloating(d) ? d : "float32";
}

export function requireFloat(m: TensorMeta, port: string, what: string): void {
  if (!isFloating(m.dtype))
    throw new InferError(`${what} needs a floating point tensor, got ${m.dtype}`, port);
}

/** Same shape required (losses whose torch version refuses different sizes). */
export function sameShapeOr(port: string, expected: TensorMeta, got: TensorMeta, what: string): void {
  const a = expected.shape;
  const b = got.shape;
  if (a.length !== b.length || a.some((d, i) => d !== b[i]))
    throw new InferError(`${what}: expected shape ${fmtShape(a)} (the input's), got ${fmtShape(b)}`, port);
}
