/**
 * Broadcast iteration by rows: the innermost dimension runs as a tight strided loop, and only the outer
 * dimensions pay for index bookkeeping. Every elementwise kernel visits outputs in row-major order, so results
 * (and the order of any accumulation) are the same as visiting them one by one.
 */
import type { Shape } from "../shape.ts";

/** Strides (in elements) for reading an array of `shape` as `target`: broadcast dimensions get stride 0. */
export function readStrides(shape: Shape, target: Shape): Int32Array {
  const out = new Int32Array(target.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const o = target.length - shape.length + i;
    out[o] = shape[i] === 1 && target[o] !== 1 ? 0 : acc;
    acc *= shape[i];
  }
  return out;
}

/**
 * Call `row(outOffset, offsets, length)` for each innermost row of `shape`, where offsets[j] is where operand
 * j's row starts; operand j then advances by strides[j][rank - 1] per element. `offsets` is reused between
 * calls, so `row` must read it before returning.
 */
export function forEachRow(
  shape: Shape,
  strides: readonly Int32Array[],
  row: (o: number, offsets: Int32Array, n: number) => void,
): void {
  const rank = shape.length;
  const k = strides.length;
  const offs = new Int32Array(k);
  if (rank === 0) {
    row(0, offs, 1);
    return;
  }
  // Outer dims that continue the innermost row for every operand (a bias's H, W under a conv output) join it:
  // the same elements in the same order, in fewer and longer rows.
  let inner = rank - 1;
  let n = shape[inner];
  while (inner > 0 && continuesRow(strides, inner - 1, rank - 1, n)) n *= shape[--inner];
  let rows = 1;
  for (let d = 0; d < inner; d++) rows *= shape[d];
  if (n === 0 || rows === 0) return;
  const idx = new Int32Array(rank);
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    row(o, offs, n);
    for (let d = inner - 1; d >= 0; d--) {
      idx[d]++;
      for (let j = 0; j < k; j++) offs[j] += strides[j][d];
      if (idx[d] < shape[d]) break;
      for (let j = 0; j < k; j++) offs[j] -= strides[j][d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** Whether one step along dim d moves every operand exactly a row of n elements along dim `last`. */
function continuesRow(strides: readonly Int32Array[], d: number, last: number, n: number): boolean {
  for (const s of strides) if (s[d] !== s[last] * n) return false;
  return true;
}

/**
 * Whether an operand of `shape` broadcast to `target` is a row repeated down it: its shape, leading ones
 * dropped, equals `target`'s trailing dims, so element i of the result reads element i % (its size). Such
 * operands (a bias, a per-class weight) take a plain modulo loop instead of one call per short row.
 */
export function isRepeatedRow(shape: Shape, target: Shape): boolean {
  let first = 0;
  while (first < shape.length && shape[first] === 1) first++;
  const dims = shape.length - first;
  if (dims === 0 || dims > target.length) return false;
  for (let i = 0; i < dims; i++) if (shape[first + i] !== target[target.length - dims + i]) return false;
  return true;
}
