/** `torch.matmul` for 1-D, 2-D and batched (broadcast) operands. */
import { record } from "../autograd.ts";
import { allocate, type Storage } from "../dtype.ts";
import { broadcastShapes, fmtShape, numel, ShapeError } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { traceOp } from "../trace.ts";
import { broadcastTo } from "./kernels.ts";
import { squeeze, sumToShape, transpose, unsqueeze } from "./layout.ts";

/** C[b] = A[b] @ B[b] for contiguous (batch, m, k) x (batch, k, n); i-k-j order keeps the inner loop streaming. */
function bmm(
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  batch: number,
  m: number,
  k: number,
  n: number,
  out: Storage,
): void {
  const row = new Float64Array(n);
  for (let b = 0; b < batch; b++) {
    const ao = b * m * k;
    const bo = b * k * n;
    const co = b * m * n;
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let p = 0; p < k; p++) {
        const a = A[ao + i * k + p];
        if (a === 0) continue;
        const bRow = bo + p * n;
        for (let j = 0; j < n; j++) row[j] += a * B[bRow + j];
      }
      for (let j = 0; j < n; j++) out[co + i * n + j] = row[j];
    }
  }
}

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
  const A = broadcastTo(a.detach(), [...batchShape, m, k]);
  const B = broadcastTo(b.detach(), [...batchShape, k, n]);
  const dtype = a.dtype;
  const out = allocate(dtype, batch * m * n);
  bmm(A.data, B.data, batch, m, k, n, out);
  const result = new Tensor(out, [...batchShape, m, n], dtype);
  return record(result, "MmBackward0", [a, b], (g) => [
    a.requiresGrad ? sumToShape(matmulNd(g, transpose(B, -1, -2)), a.shape) : null,
    b.requiresGrad ? sumToShape(matmulNd(transpose(A, -1, -2), g), b.shape) : null,
  ]);
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
  const a2 = a.ndim === 1 ? unsqueeze(a, 0) : a;
  const b2 = b.ndim === 1 ? unsqueeze(b, -1) : b;
  let out = matmulNd(a2, b2);
  if (a.ndim === 1) out = squeeze(out, -2);
  if (b.ndim === 1) out = squeeze(out, -1);
  return traceOp("matmul", [a, b], {}, out);
}
