/** `torch.matmul` for 1-D, 2-D and batched (broadcast) operands. */
import { record } from "../autograd.ts";
import { allocate, type DType } from "../dtype.ts";
import { lazyProduct, mmStridedBatched, type Operand } from "../fused/matmul.ts";
import { broadcastShapes, fmtShape, numel, ShapeError } from "../shape.ts";
import { readPending } from "../simd/lazy.ts";
import { Tensor } from "../tensor.ts";
import { traceOp } from "../trace.ts";
import { VJP } from "../vjp.ts";
import { cast } from "./elementwise.ts";
import { broadcastTo } from "./kernels.ts";
import { squeeze, sumToShape, unsqueeze } from "./layout.ts";

function operands(
  A: ArrayLike<number>,
  aTransposed: boolean,
  B: ArrayLike<number>,
  bTransposed: boolean,
  b: number,
  m: number,
  k: number,
  n: number,
): [Operand, Operand] {
  return [
    { data: A, offset: b * m * k, rowStride: aTransposed ? 1 : k, colStride: aTransposed ? m : 1 },
    { data: B, offset: b * k * n, rowStride: bTransposed ? 1 : n, colStride: bTransposed ? k : 1 },
  ];
}

/**
 * C[b] = L[b] @ R[b] for `batch` products of (m x k) and (k x n); each operand is contiguous per batch,
 * stored either as written or transposed (then read through swapped strides, never copied). A single large
 * float32 product comes back lazy (fused/matmul.ts's lazyProduct): a fused pass that reads it computes it
 * in module memory, so a linear layer's output or a gradient that only feeds elementwise work is never
 * copied out to an array.
 */
function bmm(
  A: ArrayLike<number>,
  aTransposed: boolean,
  B: ArrayLike<number>,
  bTransposed: boolean,
  batch: number,
  m: number,
  k: number,
  n: number,
  dtype: DType,
  shape: number[],
  steps: readonly [number, number] = [m * k, k * n],
): Tensor {
  if (batch === 1 && dtype === "float32") {
    const lazy = lazyProduct(...operands(A, aTransposed, B, bTransposed, 0, m, k, n), m, k, n);
    if (lazy) return new Tensor(null, shape, dtype, lazy);
  }
  const out = allocate(dtype, batch * m * n);
  mmStridedBatched(
    ...operands(A, aTransposed, B, bTransposed, 0, m, k, n),
    m,
    k,
    n,
    batch,
    steps[0],
    steps[1],
    out,
  );
  return new Tensor(out, shape, dtype);
}

/**
 * The gradient table's products (runtime/vjp.ts) on tensors of equal batch dims: g @ B^T and A^T @ g through
 * the strided kernel, with no transpose materialised.
 */
const CPU = {
  sumTo: sumToShape,
  mmNT(g: Tensor, B: Tensor): Tensor {
    const [m, n] = g.shape.slice(-2);
    const k = B.shape[B.ndim - 2];
    const batchShape = g.shape.slice(0, -2);
    const batch = numel(batchShape);
    const shape = [...batchShape, m, k];
    // B's values first: reading them may run a kernel, which would end a view of g's.
    const b = B.data;
    // A pending batched gradient (relu's backward into a conv's weight) is read where its fused pass leaves it,
    // not copied out to an array of its own and back into the kernels' memory (productInto reads it in place).
    const inPlace =
      batch > 1 &&
      readPending(g, (gv) => {
        const out = allocate(g.dtype, batch * m * k);
        mmStridedBatched(...operands(gv, false, b, true, 0, m, n, k), m, n, k, batch, m * n, n * k, out);
        // A view detached by the memory growing (length 0) may have been read as such: compute from an array.
        return gv.length > 0 ? new Tensor(out, shape, g.dtype) : null;
      });
    return inPlace || bmm(g.data, false, b, true, batch, m, n, k, g.dtype, shape);
  },
  mmTN(A: Tensor, g: Tensor): Tensor {
    const [m, k] = A.shape.slice(-2);
    const n = g.shape[g.ndim - 1];
    const batchShape = g.shape.slice(0, -2);
    return bmm(A.data, true, g.data, false, numel(batchShape), k, m, n, g.dtype, [...batchShape, k, n]);
  },
};

/** Matrix product of operands with at least 2 dims, broadcasting batch dims. */
function matmulNd(a: Tensor, b: Tensor): Tensor {
  const m = a.shape[a.ndim - 2];
  const k = a.shape[a.ndim - 1];
  const k2 = b.shape[b.ndim - 2];
  const n = b.shape[b.ndim - 1];
  if (k !== k2)
    throw new ShapeError(
      `matmul: mat1 and mat2 shapes cannot be multiplied (${m}x${k} and ${k2}x${n}; input shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)})`,
    );
  const batchShape = broadcastShapes("matmul", a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = numel(batchShape);
  // One matrix against a batch (a conv's weight against its images' columns) is read with a batch step of 0,
  // not copied per batch; the gradients, which take operands of the full batch shape, copy it if they need it.
  const single = (t: Tensor) => batch > 1 && t.numel === t.shape[t.ndim - 2] * t.shape[t.ndim - 1];
  const full = (t: Tensor, rows: number, cols: number) =>
    broadcastTo(t.detach(), [...batchShape, rows, cols]);
  const A = single(a) ? a.detach() : full(a, m, k);
  const B = single(b) ? b.detach() : full(b, k, n);
  const dtype = a.dtype;
  const steps = [single(a) ? 0 : m * k, single(b) ? 0 : k * n] as const;
  const result = bmm(A.data, false, B.data, false, batch, m, k, n, dtype, [...batchShape, m, n], steps);
  return record(result, "MmBackward0", [a, b], (g) => {
    const gc = g.dtype === dtype ? g : cast(g, dtype);
    const want = [a.requiresGrad, b.requiresGrad] as const;
    // a's gradient reads B, b's reads A.
    const Af = want[1] ? full(A, m, k) : A;
    const Bf = want[0] ? full(B, k, n) : B;
    return VJP.matmul(CPU, gc, Af, Bf, [a.shape, b.shape], want);
  });
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0)
    throw new ShapeError(
      `matmul: both arguments need at least 1 dimension (got ${fmtShape(a.shape)} and ${fmtShape(b.shape)})`,
    );
  if (a.dtype !== b.dtype)
    throw new TypeError(
      `matmul: expected both operands to have the same dtype, but got ${a.dtype} and ${b.dtype}`,
    );
  const k1 = a.shape[a.ndim - 1];
  const k2 = b.shape[b.ndim === 1 ? 0 : b.ndim - 2];
  if (k1 !== k2)
    throw new ShapeError(
      `matmul: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be multiplied (inner dimensions ${k1} and ${k2} differ)`,
    );
  const a2 = a.ndim === 1 ? unsqueeze(a, 0) : a;
  const b2 = b.ndim === 1 ? unsqueeze(b, -1) : b;
  let out = matmulNd(a2, b2);
  if (a.ndim === 1) out = squeeze(out, -2);
  if (b.ndim === 1) out = squeeze(out, -1);
  return traceOp("matmul", [a, b], {}, out);
}
