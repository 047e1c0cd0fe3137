// The batched replay of a traced forward (src/engine/batched.ts): a forward that uses every kind of traced op,
// replayed on a batch of parameter values, gives each row exactly what the forward gives at that row's values,
// in float32 and float64; an op the tracer cannot see makes the forward unbatchable.
import { describe, expect, it } from "vitest";
import { traceBatched, Unbatchable } from "../../src/engine/batched.ts";
import { noGrad } from "../../src/runtime/autograd.ts";
import type { DType } from "../../src/runtime/dtype.ts";
import { crossEntropy, huberLoss, nllLoss } from "../../src/runtime/losses.ts";
import * as O from "../../src/runtime/ops/index.ts";
import { fromFlat, type Tensor } from "../../src/runtime/tensor.ts";

/** A scalar from a parameter vector p (4 numbers) through every traced op, with data that does not vary. */
function forward(p: Tensor, dtype: DType): Tensor {
  const data = fromFlat([0.5, -1, 2, 0.25, 1.5, -0.75], [2, 3], dtype);
  const classes = fromFlat([2, 0], [2], "int64");
  const e = O.exp(O.mul(O.narrow(p, 0, 0, 3), 0.5)); // unary, binary with a number, narrow: (3)
  const h = O.tanh(O.add(data, e)); // broadcasting against data: (2, 3)
  const w = O.where(O.gt(h, 0), h, O.mul(h, 0.1)); // where with a condition from p
  const m = O.matmul(w, O.narrow(p, 0, 1, 3)); // matrix @ vector: (2)
  const v = O.matmul(O.narrow(p, 0, 0, 2), w); // vector @ matrix: (3)
  const t = O.permute(O.reshape(O.cat([w, data], 0), [2, 2, 3]), [2, 0, 1]); // cat with data, reshape, permute
  const g = O.gather(w, 1, fromFlat([2, 0, 1, 1], [2, 2], "int64"));
  const sel = O.indexSelect(w, 1, fromFlat([0, 2], [2], "int64"));
  const ex = O.expand(O.reshape(m, [2, 1]), [2, 3]);
  // A sum over all of a 3-d value large enough that its order of additions shows in float32.
  const scale = fromFlat(
    Array.from({ length: 300 }, (_, i) => Math.sin(i) * 1000 + i / 7),
    [50, 2, 3],
    dtype,
  );
  const big = O.mul(O.expand(O.reshape(w, [1, 2, 3]), [50, 2, 3]), scale);
  // Overlapping windows over padding: values and the indices the batched replay must pick the same.
  const pool = O.maxPool2d(O.reshape(t, [1, 2, 2, 3]), 2, { stride: 1, padding: 1 });
  const parts = [
    O.sum(t, [0, 2]), // several dims, not all
    O.mean(t), // all dims
    O.sum(big),
    O.max(v),
    O.maxDim(w, 1).values,
    O.minDim(t, 2, true).values,
    O.norm(w),
    O.norm(w, 1, 0),
    O.logsumexp(w, 1),
    O.softmax(w, 0),
    O.logSoftmax(t, 1),
    O.sumToShape(ex, [3]),
    g,
    sel,
    huberLoss(w, data),
    nllLoss(O.logSoftmax(w, 1), classes),
    crossEntropy(w, classes, { reduction: "sum" }),
    O.cast(O.sum(O.gt(w, 0)), dtype),
    O.mul(O.narrow(p, 0, 3, 1), O.sum(m)),
    pool.values,
    O.cast(pool.indices, dtype),
    O.avgPool2d(O.reshape(t, [1, 2, 2, 3]), 2, { stride: 1, padding: 1, countIncludePad: false }),
    // A convolution (im2col then matmul) with varied input and weight; col2im with overlapping windows.
    O.conv2d(O.reshape(t, [1, 2, 2, 3]), O.reshape(p, [1, 2, 1, 2]), null, { padding: 1, stride: [1, 2] }),
    O.fold(O.reshape(w, [1, 2, 3]), [4, 1], [2, 1]),
  ];
  return O.sum(
    O.cat(
      parts.map((x) => O.reshape(x, [-1])),
      0,
    ),
  );
}

describe("a forward replayed on a batch of parameter values", () => {
  for (const dtype of ["float32", "float64"] as const)
    it(`gives each row what the forward gives at that row's values (${dtype})`, () => {
      const rows = [
        [0.3, -0.2, 1.1, 0.7],
        [-1.5, 0.4, 0.05, -0.3],
        [2.5, 1.5, -2, 0.9],
      ];
      const p = fromFlat(rows[0], [4], dtype);
      const fwd = traceBatched(() => [forward(p, dtype)], [p]);
      expect(fwd.outputs[0].item()).toBe(forward(fromFlat(rows[0], [4], dtype), dtype).item());
      const [out] = noGrad(() => fwd.run(rows.length, new Map([[p, fromFlat(rows.flat(), [3, 4], dtype)]])));
      expect(out.shape).toEqual([3]);
      rows.forEach((r, k) => {
        expect(out.data[k]).toBe(forward(fromFlat(r, [4], dtype), dtype).item());
      });
    });

  it("refuses a forward whose value passes through an op the tracer does not see", () => {
    const p = fromFlat([1, 2], [2], "float32");
    // A copy of 2p made outside any traced op, carrying its gradient function: what an op that does not
    // report itself to the tracer leaves behind.
    const untraced = () => {
      const y = O.mul(p, 2);
      const copy = fromFlat(Array.from(y.data), y.shape, y.dtype);
      copy.gradFn = y.gradFn;
      return [O.sum(copy)];
    };
    expect(() => traceBatched(untraced, [p])).toThrow(Unbatchable);
  });
});
