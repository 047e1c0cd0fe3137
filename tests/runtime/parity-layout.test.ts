// matmul, linear and the data-movement ops (reshape, transpose, gather, index_select, ...) against PyTorch.
import { type DType, ops as O } from "../../src/runtime/index.ts";
import { CaseList, describeParity, Inputs } from "../helpers/torch.ts";

const FLOATS: DType[] = ["float32", "float64"];
const I = new Inputs(99);

const mm = new CaseList();
const MATMUL: [number[], number[]][] = [
  [[4], [4]],
  [[3], [3, 2]],
  [[2, 3], [3]],
  [
    [2, 3],
    [3, 4],
  ],
  [
    [5, 2, 3],
    [5, 3, 4],
  ],
  [
    [2, 1, 3, 4],
    [5, 4, 2],
  ],
  [[4], [2, 4, 3]],
  [[2, 3, 4], [4]],
  [
    [3, 4],
    [2, 4, 5],
  ],
  [
    [1, 3],
    [3, 1],
  ],
  [
    [6, 1],
    [1, 5],
  ],
  // One matrix against a batch (read with a batch step of 0), on either side.
  [
    [1, 1, 3, 4],
    [2, 3, 4, 5],
  ],
  [
    [2, 3, 3, 4],
    [1, 4, 5],
  ],
];
for (const dt of FLOATS)
  for (const [sa, sb] of MATMUL)
    mm.add(`matmul ${dt} [${sa}] @ [${sb}]`, "torch.matmul", [I.t(sa, dt), I.t(sb, dt)], (a, b) =>
      O.matmul(a, b),
    );
mm.add(
  "matmul of a long inner dimension",
  "torch.matmul",
  [I.t([3, 300], "float32"), I.t([300, 2], "float32")],
  (a, b) => O.matmul(a, b),
);
mm.add(
  "matmul with one side not requiring grad",
  "torch.matmul",
  [I.t([2, 3], "float64", { requiresGrad: false }), I.t([3, 2], "float64")],
  (a, b) => O.matmul(a, b),
);
mm.add(
  "matmul int64",
  "torch.matmul",
  [I.t([2, 3], "int64", { lo: -5, hi: 5 }), I.t([3, 2], "int64", { lo: -5, hi: 5 })],
  (a, b) => O.matmul(a, b),
);
mm.add(
  "matmul shape mismatch",
  "torch.matmul",
  [I.t([2, 3], "float32"), I.t([4, 2], "float32")],
  (a, b) => O.matmul(a, b),
  {
    error: /\[2, 3\].*\[4, 2\]/,
  },
);
mm.add(
  "matmul dtype mismatch",
  "torch.matmul",
  [I.t([2, 3], "float32"), I.t([3, 2], "float64")],
  (a, b) => O.matmul(a, b),
  {
    error: /float32 and float64/,
  },
);
mm.add(
  "matmul 0-d refused",
  "torch.matmul",
  [I.t([], "float32"), I.t([3], "float32")],
  (a, b) => O.matmul(a, b),
  {
    error: /at least 1 dimension/,
  },
);
for (const dt of FLOATS) {
  mm.add(`linear with bias ${dt}`, "F.linear", [I.t([4, 3], dt), I.t([2, 3], dt), I.t([2], dt)], (x, w, b) =>
    O.linear(x, w, b),
  );
  mm.add(`linear without bias ${dt}`, "F.linear", [I.t([2, 5, 3], dt), I.t([2, 3], dt)], (x, w) =>
    O.linear(x, w),
  );
  mm.add(
    `linear of a 1-D input ${dt}`,
    "F.linear",
    [I.t([3], dt), I.t([2, 3], dt), I.t([2], dt)],
    (x, w, b) => O.linear(x, w, b),
  );
  mm.add(`linear with a 1-D weight ${dt}`, "F.linear", [I.t([4, 3], dt), I.t([3], dt)], (x, w) =>
    O.linear(x, w),
  );
}
describeParity("matmul and linear match PyTorch", mm);

const lay = new CaseList();
for (const dt of FLOATS) {
  const x = (shape = [2, 3, 4]) => I.t(shape, dt);
  lay.add(`transpose 2-D ${dt}`, "torch.transpose", [x([2, 3]), 0, 1], (a) => O.transpose(a, 0, 1));
  lay.add(`transpose dims 0, 2 ${dt}`, "torch.transpose", [x(), 0, 2], (a) => O.transpose(a, 0, 2));
  lay.add(`transpose dims -1, -2 ${dt}`, "torch.transpose", [x(), -1, -2], (a) => O.transpose(a, -1, -2));
  lay.add(`transpose same dim ${dt}`, "torch.transpose", [x(), 1, 1], (a) => O.transpose(a, 1, 1));
  lay.add(`permute ${dt}`, "torch.permute", [x(), { tuple: [2, 0, 1] }], (a) => O.permute(a, [2, 0, 1]));
  lay.add(`reshape ${dt}`, "torch.reshape", [x(), { tuple: [4, 6] }], (a) => O.reshape(a, [4, 6]));
  lay.add(`reshape with -1 ${dt}`, "torch.reshape", [x(), { tuple: [-1, 2] }], (a) => O.reshape(a, [-1, 2]));
  lay.add(`reshape to 0-d ${dt}`, "torch.reshape", [x([1, 1]), { tuple: [] }], (a) => O.reshape(a, []));
  lay.add(`flatten ${dt}`, "torch.flatten", [x(), 1], (a) => O.flatten(a, 1));
  lay.add(`squeeze ${dt}`, "torch.squeeze", [x([2, 1, 3, 1])], (a) => O.squeeze(a));
  lay.add(`squeeze dim ${dt}`, "torch.squeeze", [x([2, 1, 3]), 1], (a) => O.squeeze(a, 1));
  lay.add(`unsqueeze -1 ${dt}`, "torch.unsqueeze", [x([2, 3]), -1], (a) => O.unsqueeze(a, -1));
  lay.add(`expand ${dt}`, "method.expand", [x([3, 1]), 2, 3, 4], (a) => O.expand(a, [2, 3, 4]));
  lay.add(`expand with -1 ${dt}`, "method.expand", [x([3, 1]), -1, 5], (a) => O.expand(a, [-1, 5]));
  lay.add(`cat dim 0 ${dt}`, "torch.cat", [{ list: [x([2, 3]), x([1, 3])] }, 0], (a, b) => O.cat([a, b], 0));
  lay.add(`cat dim -1 ${dt}`, "torch.cat", [{ list: [x([2, 3]), x([2, 2]), x([2, 1])] }, -1], (a, b, c) =>
    O.cat([a, b, c], -1),
  );
  lay.add(`stack dim 1 ${dt}`, "torch.stack", [{ list: [x([2, 3]), x([2, 3])] }, 1], (a, b) =>
    O.stack([a, b], 1),
  );
  lay.add(`narrow ${dt}`, "torch.narrow", [x(), 2, 1, 2], (a) => O.narrow(a, 2, 1, 2));
  const idx = (shape: number[], values: number[], dtype: DType = "int64") =>
    I.t(shape, dtype, { values, requiresGrad: false });
  lay.add(`gather dim 1 ${dt}`, "torch.gather", [x([3, 4]), 1, idx([3, 2], [0, 3, 1, 1, 2, 0])], (a, i) =>
    O.gather(a, 1, i),
  );
  lay.add(
    `gather dim 0 ${dt}`,
    "torch.gather",
    [x([3, 4]), 0, idx([2, 4], [0, 1, 2, 0, 2, 2, 1, 0])],
    (a, i) => O.gather(a, 0, i),
  );
  lay.add(
    `gather repeated indices accumulate ${dt}`,
    "torch.gather",
    [x([2, 3]), 1, idx([2, 4], [1, 1, 1, 0, 2, 2, 0, 2])],
    (a, i) => O.gather(a, 1, i),
  );
  lay.add(
    `gather smaller index than input ${dt}`,
    "torch.gather",
    [x([3, 4]), 1, idx([2, 1], [3, 0])],
    (a, i) => O.gather(a, 1, i),
  );
  lay.add(`gather with int32 index ${dt}`, "torch.gather", [x([2, 3]), -1, idx([2, 1], [2, 0])], (a, i) =>
    O.gather(a, -1, i),
  );
  lay.add(`index_select dim 0 ${dt}`, "torch.index_select", [x([4, 3]), 0, idx([3], [3, 0, 3])], (a, i) =>
    O.indexSelect(a, 0, i),
  );
  lay.add(`index_select dim 1 ${dt}`, "torch.index_select", [x([2, 4, 3]), 1, idx([2], [1, 2])], (a, i) =>
    O.indexSelect(a, 1, i),
  );
  lay.add(
    `index_select int32 index ${dt}`,
    "torch.index_select",
    [x([4]), 0, idx([2], [1, 1], "int32")],
    (a, i) => O.indexSelect(a, 0, i),
  );
  lay.add(`index_select of 0-d index ${dt}`, "torch.index_select", [x([4, 2]), 0, idx([], [2])], (a, i) =>
    O.indexSelect(a, 0, i),
  );
}
const idx = (shape: number[], values: number[]) => I.t(shape, "int64", { values, requiresGrad: false });
lay.add(
  "gather index out of range",
  "torch.gather",
  [I.t([2, 3]), 1, idx([2, 1], [3, 0])],
  (a, i) => O.gather(a, 1, i),
  {
    error: /index 3 is out of bounds/,
  },
);
lay.add(
  "gather negative index",
  "torch.gather",
  [I.t([2, 3]), 1, idx([2, 1], [-1, 0])],
  (a, i) => O.gather(a, 1, i),
  {
    error: /index -1 is out of bounds/,
  },
);
lay.add(
  "gather float index",
  "torch.gather",
  [I.t([2, 3]), 1, I.t([2, 1], "float32")],
  (a, i) => O.gather(a, 1, i),
  {
    error: /int64/,
  },
);
lay.add(
  "index_select out of range",
  "torch.index_select",
  [I.t([4]), 0, idx([1], [4])],
  (a, i) => O.indexSelect(a, 0, i),
  {
    error: /out of range/,
  },
);
lay.add(
  "index_select negative",
  "torch.index_select",
  [I.t([4]), 0, idx([1], [-1])],
  (a, i) => O.indexSelect(a, 0, i),
  {
    error: /out of range/,
  },
);
lay.add(
  "reshape to a wrong size",
  "torch.reshape",
  [I.t([2, 3]), { tuple: [4, 2] }],
  (a) => O.reshape(a, [4, 2]),
  {
    error: /\[4, 2\] is invalid for input of size 6/,
  },
);
lay.add(
  "cat with mismatched sizes",
  "torch.cat",
  [{ list: [I.t([2, 3]), I.t([2, 2])] }, 0],
  (a, b) => O.cat([a, b], 0),
  {
    error: /\[2, 3\].*\[2, 2\]/,
  },
);
lay.add("transpose of a bad dim", "torch.transpose", [I.t([2, 3]), 0, 2], (a) => O.transpose(a, 0, 2), {
  error: /dimension out of range/,
});
lay.add("expand to an incompatible shape", "method.expand", [I.t([3, 2]), 3, 4], (a) => O.expand(a, [3, 4]), {
  error: /\[3, 4\].*\[3, 2\]/,
});
describeParity("layout ops match PyTorch", lay);

const edges = new CaseList();
edges.add(
  "transpose of a 1-D tensor with an out-of-range dim",
  "torch.transpose",
  [I.t([3]), 0, 1],
  (a) => O.transpose(a, 0, 1),
  {
    error: /dimension out of range/,
  },
);
edges.add("transpose of a 1-D tensor with dims 0, 0", "torch.transpose", [I.t([3]), 0, 0], (a) =>
  O.transpose(a, 0, 0),
);
edges.add("transpose of a 0-d tensor", "torch.transpose", [I.t([]), 0, -1], (a) => O.transpose(a, 0, -1));
edges.add(
  "cat of 0-d tensors is refused",
  "torch.cat",
  [{ list: [I.t([]), I.t([])] }],
  (a, b) => O.cat([a, b]),
  {
    error: /zero-dimensional/,
  },
);
edges.add("narrow with a negative start", "torch.narrow", [I.t([2, 5]), 1, -3, 2], (a) =>
  O.narrow(a, 1, -3, 2),
);
edges.add(
  "reshape with two -1 is refused",
  "torch.reshape",
  [I.t([2, 3]), { tuple: [-1, -1] }],
  (a) => O.reshape(a, [-1, -1]),
  {
    error: /only one dimension can be inferred/,
  },
);
edges.add("matmul with an empty inner dimension", "torch.matmul", [I.t([2, 0]), I.t([0, 3])], (a, b) =>
  O.matmul(a, b),
);
edges.add("sum of an empty tensor", "torch.sum", [I.t([0, 3]), 0], (a) => O.sum(a, 0));
edges.add("mean of an empty tensor is nan", "torch.mean", [I.t([0])], (a) => O.mean(a));
edges.add("stack of 0-d tensors", "torch.stack", [{ list: [I.t([]), I.t([])] }], (a, b) => O.stack([a, b]));
describeParity("edge cases of layout ops follow PyTorch", edges);
