// The gradient table (src/runtime/vjp.ts) over a GradOps that writes each operation down: the composition a
// rule builds is what both the CPU backward (on tensors) and the GPU autodiff (on IR nodes) build from it.
import { describe, expect, it } from "vitest";
import { type GradOps, VJP } from "../../src/runtime/vjp.ts";

const text: GradOps<string> = {
  reshape: (t, s) => `reshape(${t}, [${s}])`,
  permute: (t, d) => `permute(${t}, [${d}])`,
  expand: (t, s) => `expand(${t}, [${s}])`,
  sumTo: (t, s) => `sumTo(${t}, [${s}])`,
  narrow: (t, d, s, n) => `narrow(${t}, ${d}, ${s}, ${n})`,
  pad: (t, d, s, shape) => `pad(${t}, ${d}, ${s}, [${shape}])`,
  divScalar: (t, v) => `div(${t}, ${v})`,
  mmNT: (g, b) => `mmNT(${g}, ${b})`,
  mmTN: (a, g) => `mmTN(${a}, ${g})`,
  laneGrad: (fn, g, y, d) => `${fn}_grad(${g}, ${y}, ${d})`,
  scatterAdd: (g, offsets, shape) => `scatterAdd(${g}, [${offsets}], [${shape}])`,
  mask: (c, g, keep) => `mask(${c}, ${g}, ${keep})`,
  castTo: (g, dtype) => `cast(${g}, ${dtype})`,
  pointwise: (fn, args, shape, dtype, attrs) =>
    `${fn.name}(${args.join(", ")}${attrs ? `; p=${attrs.p}` : ""}) as ${dtype}[${shape}]`,
  placeAt: (g, idx, dim, shape) => `placeAt(${g}, ${idx}, ${dim}, [${shape}])`,
  unpool: (g, idx, win, shape) => `unpool(${g}, ${idx}, k=[${win.k}], [${shape}])`,
  windowShare: (g, d, win, shape) => `windowShare(${g}, ${d}, k=[${win.k}], [${shape}])`,
  unfold: (x, win, out) => `unfold(${x}, k=[${win.k}], [${out}])`,
  fold: (g, win, out, shape) => `fold(${g}, k=[${win.k}], [${out}], [${shape}])`,
};

describe("the gradient table", () => {
  it("mean divides the gradient by the reduced count once, then spreads it like sum", () => {
    expect(VJP.mean(text, "g", [2, 3, 4], [0, 2])).toBe("expand(reshape(div(g, 8), [1,3,1]), [2,3,4])");
    expect(VJP.sum(text, "g", [2, 3], [1])).toBe("expand(reshape(g, [2,1]), [2,3])");
  });
  it("permute applies the inverse permutation; cat slices the gradient in input order", () => {
    expect(VJP.permute(text, "g", [2, 0, 1])).toBe("permute(g, [1,2,0])");
    expect(VJP.cat(text, "g", 1, [2, 3])).toEqual(["narrow(g, 1, 0, 2)", "narrow(g, 1, 2, 3)"]);
    expect(VJP.narrow(text, "g", [5, 4], 0, 1)).toBe("pad(g, 0, 1, [5,4])");
    expect(VJP.pad(text, "g", 0, 1, 3)).toBe("narrow(g, 0, 1, 3)");
  });
  it("matmul: g b^T and a^T g summed back to each operand's shape, skipping a side without a gradient", () => {
    expect(
      VJP.matmul(text, "g", "A", "B", [
        [3, 4],
        [2, 4, 5],
      ]),
    ).toEqual(["sumTo(mmNT(g, B), [3,4])", "sumTo(mmTN(A, g), [2,4,5])"]);
    expect(
      VJP.matmul(
        text,
        "g",
        "A",
        "B",
        [
          [3, 4],
          [4, 5],
        ],
        [false, true],
      )[0],
    ).toBeNull();
  });
  it("a pick by offsets (gather, index_select, nll_loss's picks) scatters the gradient back", () => {
    expect(VJP.take(text, "g", Int32Array.of(2, -1, 2), [4])).toBe("scatterAdd(g, [2,-1,2], [4])");
  });
  it("im2col (unfold) and col2im (fold) are each other's gradient", () => {
    const win = { k: [3, 2], s: [1, 2], p: [1, 0], d: [1, 1] };
    expect(VJP.unfold(text, "g", win, [4, 2], [2, 3, 4, 5])).toBe("fold(g, k=[3,2], [4,2], [2,3,4,5])");
    expect(VJP.fold(text, "g", win, [4, 2])).toBe("unfold(g, k=[3,2], [4,2])");
  });
  it("where sends the gradient to a where cond holds and to b elsewhere; a cast casts it back to a float input", () => {
    expect(VJP.where(text, "g", "c", [[3], [2, 3]])).toEqual([
      "sumTo(mask(c, g, true), [3])",
      "sumTo(mask(c, g, false), [2,3])",
    ]);
    expect(VJP.cast(text, "g", "float64")).toBe("cast(g, float64)");
    expect(VJP.cast(text, "g", "int64")).toBeNull();
  });
  it("softmax and log_softmax read only the output", () => {
    expect(VJP.softmax(text, "log_softmax", "g", "y", 1)).toBe("log_softmax_grad(g, y, 1)");
  });
  it("max()/min() share the gradient among the ties they count; max(dim) sends it to the returned index", () => {
    const y = "reshape(y, [1,1])";
    expect(
      VJP.extremeShared(text, { g: "g", x: "x", y: "y", xShape: [2, 3], dims: [0, 1], dtype: "float32" }),
    ).toBe(`share(reshape(g, [1,1]), x, ${y}, sumTo(tie(x, ${y}) as float32[2,3], [1,1])) as float32[2,3]`);
    expect(VJP.extremeDim(text, "g", "i", [2, 3], 1)).toBe(
      "placeAt(reshape(g, [2,1]), reshape(i, [2,1]), 1, [2,3])",
    );
  });
  const r = (dims: number[], dtype: "float32" | "float64" = "float32") =>
    ({ g: "g", x: "x", y: "y", xShape: [2, 3], dims, dtype }) as const;
  it("norm: the infinity norm shares among the elements it picked; a p-norm reads p", () => {
    const [g, y] = ["reshape(g, [2,1])", "reshape(y, [2,1])"];
    expect(VJP.norm(text, r([1], "float64"), Number.POSITIVE_INFINITY)).toBe(
      `normInf(${g}, x, ${y}, sumTo(normInfTie(x, ${y}) as float64[2,3], [2,1])) as float64[2,3]`,
    );
    expect(VJP.norm(text, r([1]), 3)).toBe(`normP(${g}, x, ${y}; p=3) as float32[2,3]`);
    expect(VJP.norm(text, r([1]), 2)).toBe(`norm2(${g}, x, ${y}; p=2) as float32[2,3]`);
  });
  it("logsumexp reads its own value: g exp(x - y)", () => {
    expect(VJP.logsumexp(text, r([0]))).toBe(
      "logsumexp(reshape(g, [1,3]), x, reshape(y, [1,3])) as float32[2,3]",
    );
  });
});
