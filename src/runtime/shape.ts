/** Shapes, strides and NumPy broadcasting, with errors that name both shapes as PyTorch users read them. */
export type Shape = readonly number[];

export class ShapeError extends Error {
  override name = "ShapeError";
}

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function fmtShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** The broadcast shape of several shapes, or a ShapeError naming them (as torch does for `a + b`). */
export function broadcastShapes(what: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else
        throw new ShapeError(
          `${what}: shapes ${shapes.map(fmtShape).join(" and ")} cannot be broadcast together (size ${out[o]} vs ${d} at dimension ${o})`,
        );
    }
  }
  return out;
}

/**
 * Strides for reading a tensor of `shape` as if it had `target` shape: broadcast dimensions get stride 0.
 */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const src = stridesOf(shape);
  const out = new Array<number>(target.length).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const o = target.length - shape.length + i;
    out[o] = shape[i] === 1 && target[o] !== 1 ? 0 : src[i];
  }
  return out;
}

/** Normalise a possibly negative dimension index, as torch does, with its error message. */
export function normDim(dim: number, rank: number, what = "dim"): number {
  const r = Math.max(rank, 1);
  if (!Number.isInteger(dim) || dim < -r || dim >= r)
    throw new ShapeError(
      `${what}: dimension out of range (expected to be in range of [${-r}, ${r - 1}], but got ${dim})`,
    );
  return dim < 0 ? dim + r : dim;
}

/** Reshape with one inferred -1 dimension. */
export function inferShape(shape: Shape, total: number): number[] {
  const out = [...shape];
  const free = out.indexOf(-1);
  if (out.lastIndexOf(-1) !== free) throw new ShapeError("reshape: only one dimension can be inferred");
  if (free >= 0) {
    const known = out.reduce((p, d, i) => (i === free ? p : p * d), 1);
    if (known === 0 || total % known !== 0)
      throw new ShapeError(`reshape: shape ${fmtShape(shape)} is invalid for input of size ${total}`);
    out[free] = total / known;
  }
  if (numel(out) !== total)
    throw new ShapeError(`reshape: shape ${fmtShape(shape)} is invalid for input of size ${total}`);
  return out;
}
