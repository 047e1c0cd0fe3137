/**
 * Monomorphic loops for the binary ops, generated from each op's formula (ops/formula.ts). A generic loop
 * calling `f(a, b)` per element cannot be inlined once several ops share it (the call site goes megamorphic),
 * which costs more than the arithmetic; these compute exactly the declared scalar function, so results are
 * bit-for-bit those of the generic path.
 *
 * A loop reads A from ia with stride sa and B from ib with stride sb (stride 0 broadcasts), writing n outputs
 * from o. Values are computed in float64 and rounded by the store, as everywhere in the runtime.
 */
import type { Storage } from "../dtype.ts";
import type { Shape } from "../shape.ts";
import { forEachRow, isRepeatedRow, readStrides } from "./strided.ts";

export type RowLoop = (
  A: Storage,
  ia: number,
  sa: number,
  B: Storage,
  ib: number,
  sb: number,
  out: Storage,
  o: number,
  n: number,
) => void;

/** out[i] = A[i] op R[i % m] (rowLeft: R[i % m] op A[i]) for a repeated-row operand R of m elements. */
export type RepeatedRowLoop = (A: Storage, R: Storage, m: number, out: Storage, rowLeft: boolean) => void;

/** Every declared binary op's loops, generated from its formula (ops/elementwise.ts registers them). */
export const BINARY_LOOPS: Record<string, RowLoop> = {};
/** Each row loop's repeated-row form (the ops' loops and the gradient loops of fused/binary-grad.ts). */
const REPEATED_ROW_LOOPS = new Map<RowLoop, RepeatedRowLoop>();

/** A formula's row loop and its repeated-row form, generated together (ops/formula.ts's binaryLoops). */
export function rowLoops(loops: { row: unknown; repeated: unknown }): RowLoop {
  const row = loops.row as RowLoop;
  REPEATED_ROW_LOOPS.set(row, loops.repeated as RepeatedRowLoop);
  return row;
}

export function registerBinaryLoops(name: string, loops: { row: unknown; repeated: unknown }): void {
  BINARY_LOOPS[name] = rowLoops(loops);
}

/**
 * out = A op B over `shape` with broadcasting, one strided loop per innermost row. Same-shape and scalar
 * operands take a single loop over everything.
 */
export function runBinary(
  loop: RowLoop,
  A: Storage,
  aShape: Shape,
  B: Storage,
  bShape: Shape,
  shape: Shape,
  out: Storage,
): void {
  const n = out.length;
  const aFull = A.length === n;
  const bFull = B.length === n;
  if ((aFull || A.length === 1) && (bFull || B.length === 1) && (aFull || bFull || n <= 1)) {
    loop(A, 0, aFull ? 1 : 0, B, 0, bFull ? 1 : 0, out, 0, n);
    return;
  }
  // A full operand and a repeated row (x + bias): one loop, no per-row calls.
  const repeated = REPEATED_ROW_LOOPS.get(loop);
  if (repeated) {
    if (aFull && B.length > 1 && isRepeatedRow(bShape, shape)) {
      repeated(A, B, B.length, out, false);
      return;
    }
    if (bFull && A.length > 1 && isRepeatedRow(aShape, shape)) {
      repeated(B, A, A.length, out, true);
      return;
    }
  }
  const sa = readStrides(aShape, shape);
  const sb = readStrides(bShape, shape);
  const last = shape.length - 1;
  const saI = sa[last];
  const sbI = sb[last];
  forEachRow(shape, [sa, sb], (o, offs, len) => loop(A, offs[0], saI, B, offs[1], sbI, out, o, len));
}
