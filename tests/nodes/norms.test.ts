// Normalisation, embedding and dropout against live PyTorch, beyond the completeness samples: larger random
// inputs in float64 and float32, several training steps of batch_norm's running statistics, dropout's mask bit
// for bit, embedding's in-place max_norm, the modules' initial values and their state across training steps.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { type Backend, cpuBackend } from "../../src/engine/scheduler-backend.ts";
import { webgpuBackend } from "../../src/gpu/backend.ts";
import {
  type EvalContext,
  type NestedNumbers,
  type ParamValues,
  readParams,
  registry,
} from "../../src/nodes/index.ts";
import { type DType, fromFlat, ops, type Tensor, TorchGenerator } from "../../src/runtime/index.ts";
import { useDevice } from "../gpu/harness.ts";
import { exactIn, makeRandom, mismatch, PYTHON, tolerance } from "../helpers/torch.ts";
import { build, type E, type N } from "../scheduler/helpers.ts";

type Floats = "float32" | "float64";
interface Data {
  data: number[];
  shape: number[];
}

const rand = makeRandom(14);
function data(shape: number[], dtype: Floats, lo = -2, hi = 2): Data {
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Array.from({ length: n }, () => exactIn(dtype, lo + (hi - lo) * rand())), shape };
}
const t = (d: Data, dtype: DType, grad = false): Tensor => {
  const x = fromFlat(d.data, d.shape, dtype);
  return grad ? x.requiresGrad_(true) : x;
};
const flat = (x: Tensor | null | undefined): number[] => Array.from(x?.data ?? []);

/** Everything torch computes for this file, in one Python process. */
const PY = `
import json, sys, torch, torch.nn.functional as F
req = json.load(sys.stdin)
def T(v, dt, rg=False):
    return torch.tensor(v["data"], dtype=getattr(torch, dt)).reshape(v["shape"]).requires_grad_(rg)
def L(t):
    return None if t is None else t.detach().flatten().tolist()
out = {"bn": [], "ln": [], "gn": [], "emb": [], "drop": [], "bnmod": [], "embinit": [], "train": []}
for c in req["bn"]:
    dt = c["dtype"]; rm = T(c["rm"], dt); rv = T(c["rv"], dt); w = T(c["w"], dt, True); b = T(c["b"], dt, True)
    steps = []
    for xs in c["xs"]:
        x = T(xs, dt, True)
        y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=c["momentum"], eps=c["eps"])
        (y * T(c["seed"], dt)).sum().backward()
        steps.append(dict(y=L(y), gx=L(x.grad), gw=L(w.grad), gb=L(b.grad), rm=L(rm), rv=L(rv)))
        w.grad = None; b.grad = None
    x = T(c["xs"][0], dt, True)
    y = F.batch_norm(x, rm, rv, w, b, training=False, eps=c["eps"])
    (y * T(c["seed"], dt)).sum().backward()
    out["bn"].append(dict(steps=steps, eval=dict(y=L(y), gx=L(x.grad), gw=L(w.grad), gb=L(b.grad))))
for c in req["ln"]:
    dt = c["dtype"]; x = T(c["x"], dt, True)
    w = T(c["w"], dt, True) if c["w"] else None; b = T(c["b"], dt, True) if c["b"] else None
    y = F.layer_norm(x, c["shape"], w, b, c["eps"]); (y * T(c["seed"], dt)).sum().backward()
    out["ln"].append(dict(y=L(y), gx=L(x.grad), gw=L(w.grad) if w is not None else None, gb=L(b.grad) if b is not None else None))
for c in req["gn"]:
    dt = c["dtype"]; x = T(c["x"], dt, True)
    w = T(c["w"], dt, True) if c["w"] else None; b = T(c["b"], dt, True) if c["b"] else None
    y = F.group_norm(x, c["groups"], w, b, c["eps"]); (y * T(c["seed"], dt)).sum().backward()
    out["gn"].append(dict(y=L(y), gx=L(x.grad), gw=L(w.grad) if w is not None else None, gb=L(b.grad) if b is not None else None))
for c in req["emb"]:
    dt = c["dtype"]; w = T(c["w"], dt, True)
    idx = torch.tensor(c["idx"]["data"], dtype=torch.int64).reshape(c["idx"]["shape"])
    y = F.embedding(idx, w, **c["kw"]); (y * T(c["seed"], dt)).sum().backward()
    g = w.grad.to_dense() if w.grad.is_sparse else w.grad
    out["emb"].append(dict(y=L(y), w=L(w), gw=L(g)))
for c in req["drop"]:
    torch.manual_seed(c["seed"])
    x = torch.arange(1, c["n"] + 1, dtype=getattr(torch, c["dtype"]))
    out["drop"].append(L(F.dropout(x, c["p"], True)))
for c in req["bnmod"]:
    dt = getattr(torch, c["dtype"])
    m = torch.nn.BatchNorm1d(c["C"], momentum=c["momentum"], dtype=dt)
    ys = []
    for xs in c["xs"]:
        ys.append(L(m(T(xs, c["dtype"]))))
    m.eval(); ys.append(L(m(T(c["xs"][0], c["dtype"]))))
    out["bnmod"].append(dict(ys=ys, rm=L(m.running_mean), rv=L(m.running_var), n=int(m.num_batches_tracked)))
for c in req["embinit"]:
    torch.manual_seed(c["seed"])
    m = torch.nn.Embedding(c["n"], c["d"], padding_idx=c["pad"], dtype=getattr(torch, c["dtype"]))
    out["embinit"].append(L(m.weight))
for c in req["train"]:
    x = T(c["x"], "float32"); target = T(c["target"], "float32")
    m = torch.nn.BatchNorm1d(c["C"], momentum=c["momentum"]); opt = torch.optim.SGD(m.parameters(), lr=c["lr"])
    losses = []
    for _ in range(c["epochs"]):
        opt.zero_grad(); loss = F.mse_loss(m(x), target); losses.append(loss.item()); loss.backward(); opt.step()
    out["train"].append(dict(losses=losses, rm=L(m.running_mean), rv=L(m.running_var), w=L(m.weight), b=L(m.bias)))
print(json.dumps(out))
`;

// --- the cases ---------------------------------------------------------------------------------------------

const DTYPES: Floats[] = ["float64", "float32"];

const bnCases = DTYPES.flatMap((dtype) =>
  [
    [16, 5],
    [4, 3, 6],
  ].map((shape) => {
    const c = shape[1];
    return {
      dtype,
      xs: [0, 1, 2].map(() => data(shape, dtype, -3, 3)),
      seed: data(shape, dtype),
      rm: data([c], dtype),
      rv: data([c], dtype, 0.5, 2),
      w: data([c], dtype),
      b: data([c], dtype),
      momentum: 0.3,
      eps: 1e-5,
    };
  }),
);

const lnCases = DTYPES.flatMap((dtype) => [
  { dtype, x: data([6, 7], dtype), shape: [7], w: data([7], dtype), b: data([7], dtype), eps: 1e-5 },
  { dtype, x: data([2, 3, 4], dtype), shape: [3, 4], w: null, b: null, eps: 1e-3 },
]).map((c) => ({ ...c, seed: data(c.x.shape, c.dtype) }));

const gnCases = DTYPES.flatMap((dtype) => [
  { dtype, x: data([3, 6, 5], dtype), groups: 3, w: data([6], dtype), b: data([6], dtype), eps: 1e-5 },
  { dtype, x: data([5, 6], dtype), groups: 2, w: null, b: null, eps: 1e-5 },
]).map((c) => ({ ...c, seed: data(c.x.shape, c.dtype) }));

const IDX = { data: [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], shape: [3, 4] };
interface EmbeddingKw {
  padding_idx?: number;
  max_norm?: number;
  norm_type?: number;
  scale_grad_by_freq?: boolean;
  sparse?: boolean;
}
const embCases = DTYPES.flatMap((dtype) =>
  (
    [
      { padding_idx: -5 },
      { scale_grad_by_freq: true, padding_idx: 1 },
      { max_norm: 1.5, norm_type: 3 },
      { max_norm: 2.0, sparse: true },
    ] as EmbeddingKw[]
  ).map((kw) => ({ dtype, kw, w: data([10, 4], dtype), idx: IDX, seed: data([3, 4, 4], dtype) })),
);

const dropCases = DTYPES.flatMap((dtype) =>
  [
    [0, 1, 0.5],
    [1, 17, 0.1],
    [7, 1000, 0.5],
    [42, 333, 0.9],
  ].map(([seed, n, p]) => ({ dtype, seed, n, p })),
);

const bnModCases = [
  { dtype: "float64" as Floats, C: 3, momentum: null },
  { dtype: "float32" as Floats, C: 3, momentum: 0.25 },
].map((c) => ({ ...c, xs: [0, 1, 2].map(() => data([6, c.C], c.dtype, -3, 3)) }));

const embInitCases = [
  { seed: 5, n: 20, d: 7, pad: 3, dtype: "float32" },
  { seed: 0, n: 3, d: 2, pad: null, dtype: "float32" },
  { seed: 9, n: 9, d: 3, pad: -1, dtype: "float64" },
];

const trainCases = [0.1, null].map((momentum) => ({
  C: 3,
  lr: 0.5,
  epochs: 4,
  momentum,
  x: data([8, 3], "float32", -3, 3),
  target: data([8, 3], "float32"),
}));

interface Answers {
  bn: { steps: Record<string, number[]>[]; eval: Record<string, number[]> }[];
  ln: Record<string, number[] | null>[];
  gn: Record<string, number[] | null>[];
  emb: Record<string, number[]>[];
  drop: number[][];
  bnmod: { ys: number[][]; rm: number[]; rv: number[]; n: number }[];
  embinit: number[][];
  train: { losses: number[]; rm: number[]; rv: number[]; w: number[]; b: number[] }[];
}

let answers: Answers | undefined;
function torch(): Answers {
  if (answers) return answers;
  const run = spawnSync(PYTHON, ["-c", PY], {
    input: JSON.stringify({
      bn: bnCases,
      ln: lnCases,
      gn: gnCases,
      emb: embCases,
      drop: dropCases,
      bnmod: bnModCases,
      embinit: embInitCases,
      train: trainCases,
    }),
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (run.status !== 0) throw new Error(`torch failed:\n${run.stderr}`);
  answers = JSON.parse(run.stdout) as Answers;
  return answers;
}

function close(got: ArrayLike<number>, want: ArrayLike<number> | null, dtype: Floats, what: string): void {
  expect(mismatch(got, want ?? [], tolerance(dtype)), what).toBeNull();
}

// --- the tests -----------------------------------------------------------------------------------------------

describe("F.batch_norm against torch", () => {
  for (const [k, c] of bnCases.entries())
    it(`${c.dtype} [${c.xs[0].shape}]: three training steps (running statistics in place), then eval`, () => {
      const want = torch().bn[k];
      const rm = t(c.rm, c.dtype);
      const rv = t(c.rv, c.dtype);
      const w = t(c.w, c.dtype, true);
      const b = t(c.b, c.dtype, true);
      const step = (xs: Data, training: boolean) => {
        const x = t(xs, c.dtype, true);
        const y = ops.batchNorm(x, { runningMean: rm, runningVar: rv, weight: w, bias: b, training, ...c });
        ops.sum(ops.mul(y, t(c.seed, c.dtype))).backward();
        const r = {
          y: flat(y),
          gx: flat(x.grad),
          gw: flat(w.grad),
          gb: flat(b.grad),
          rm: flat(rm),
          rv: flat(rv),
        };
        w.grad = null;
        b.grad = null;
        return r;
      };
      c.xs.forEach((xs, i) => {
        const got = step(xs, true);
        for (const key of ["y", "gx", "gw", "gb", "rm", "rv"] as const)
          close(got[key], want.steps[i][key], c.dtype, `step ${i + 1} ${key}`);
      });
      const got = step(c.xs[0], false);
      for (const key of ["y", "gx", "gw", "gb"] as const)
        close(got[key], want.eval[key], c.dtype, `eval ${key}`);
    });

  it("refuses what torch refuses, with torch's reasons", () => {
    const x = fromFlat([1, 2, 3], [1, 3], "float32");
    expect(() => ops.batchNorm(x, { training: true })).toThrow(/more than 1 value per channel when training/);
    expect(() => ops.batchNorm(fromFlat([1, 2, 3, 4], [2, 2], "float32"))).toThrow(
      /running_mean and running_var must be given in evaluation mode/,
    );
    const rm = fromFlat([0, 0], [2], "float32").requiresGrad_(true);
    expect(() =>
      ops.batchNorm(fromFlat([1, 2, 3, 4], [2, 2], "float32"), { runningMean: rm, training: true }),
    ).toThrow(/not differentiable with respect to running_mean/);
  });
});

describe("F.layer_norm and F.group_norm against torch", () => {
  for (const [k, c] of lnCases.entries())
    it(`layer_norm ${c.dtype} [${c.x.shape}] over [${c.shape}]`, () => {
      const want = torch().ln[k];
      const x = t(c.x, c.dtype, true);
      const w = c.w ? t(c.w, c.dtype, true) : null;
      const b = c.b ? t(c.b, c.dtype, true) : null;
      const y = ops.layerNorm(x, c.shape, w, b, c.eps);
      ops.sum(ops.mul(y, t(c.seed, c.dtype))).backward();
      close(flat(y), want.y, c.dtype, "out");
      close(flat(x.grad), want.gx, c.dtype, "grad input");
      if (w) close(flat(w.grad), want.gw, c.dtype, "grad weight");
      if (b) close(flat(b.grad), want.gb, c.dtype, "grad bias");
    });
  for (const [k, c] of gnCases.entries())
    it(`group_norm ${c.dtype} [${c.x.shape}] in ${c.groups} groups`, () => {
      const want = torch().gn[k];
      const x = t(c.x, c.dtype, true);
      const w = c.w ? t(c.w, c.dtype, true) : null;
      const b = c.b ? t(c.b, c.dtype, true) : null;
      const y = ops.groupNorm(x, c.groups, w, b, c.eps);
      ops.sum(ops.mul(y, t(c.seed, c.dtype))).backward();
      close(flat(y), want.y, c.dtype, "out");
      close(flat(x.grad), want.gx, c.dtype, "grad input");
      if (w) close(flat(w.grad), want.gw, c.dtype, "grad weight");
      if (b) close(flat(b.grad), want.gb, c.dtype, "grad bias");
    });
});

describe("F.embedding against torch", () => {
  for (const [k, c] of embCases.entries())
    it(`${c.dtype} ${JSON.stringify(c.kw)}`, () => {
      const want = torch().emb[k];
      const w = t(c.w, c.dtype, true);
      const kw: EmbeddingKw = c.kw;
      const y = ops.embedding(fromFlat(c.idx.data, c.idx.shape, "int64"), w, {
        paddingIdx: kw.padding_idx ?? null,
        maxNorm: kw.max_norm ?? null,
        normType: kw.norm_type ?? 2,
        scaleGradByFreq: kw.scale_grad_by_freq === true,
      });
      ops.sum(ops.mul(y, t(c.seed, c.dtype))).backward();
      close(flat(y), want.y, c.dtype, "out");
      // max_norm renormalised the picked rows of weight in place, as torch.embedding_renorm_ does.
      close(flat(w), want.w, c.dtype, "weight after the call");
      close(flat(w.grad), want.gw, c.dtype, "grad weight (torch's sparse gradient made dense)");
    });
});

describe("F.dropout's mask is torch's, bit for bit", () => {
  for (const [k, c] of dropCases.entries())
    it(`${c.dtype} seed ${c.seed}, ${c.n} elements, p = ${c.p}`, () => {
      const x = fromFlat(
        Array.from({ length: c.n }, (_, i) => i + 1),
        [c.n],
        c.dtype,
      );
      expect(flat(ops.dropout(x, c.p, true, new TorchGenerator(c.seed)))).toEqual(torch().drop[k]);
    });

  it("is the identity when not training or p = 0, and zero at p = 1, drawing nothing then", () => {
    const x = fromFlat([1, -2, 3], [3], "float32");
    const g = new TorchGenerator(0);
    expect(ops.dropout(x, 0.5, false, g)).toBe(x);
    expect(ops.dropout(x, 0, true, g)).toBe(x);
    expect(flat(ops.dropout(x, 1, true, g))).toEqual([0, -0, 0]);
    expect(() => ops.dropout(x, 1.5, true, g)).toThrow(/between 0 and 1, but got 1.5/);
    // As torch, which returns before bernoulli_: the generator is where manual_seed(0) left it.
    expect(g.random()).toBe(new TorchGenerator(0).random());
  });
});

/** Evaluate a module node's kind directly, with its leaves kept between calls as the scheduler keeps them. */
function moduleRunner(type: string, params: ParamValues) {
  const kind = registry.get(type)!;
  const p = readParams(kind, params);
  const leaves = kind.leaves!(p, type);
  return {
    leaves,
    run(input: Tensor, training: boolean): Tensor {
      const ctx: EvalContext = {
        nodeId: type,
        label: type,
        inputs: { input },
        arg: () => input,
        params: p,
        leaves,
        training,
        recompute: () => {
          throw new Error("no recompute here");
        },
      };
      return kind.evaluate(ctx) as Tensor;
    },
  };
}

describe("module nodes against torch.nn", () => {
  for (const [k, c] of bnModCases.entries())
    it(`BatchNorm1d ${c.dtype}, momentum ${c.momentum}: three training forwards then eval`, () => {
      const want = torch().bnmod[k];
      const m = moduleRunner("BatchNorm1d", { num_features: c.C, momentum: c.momentum, dtype: c.dtype });
      const ys = [...c.xs.map((x) => m.run(t(x, c.dtype), true)), m.run(t(c.xs[0], c.dtype), false)];
      for (const [i, y] of ys.entries()) close(flat(y), want.ys[i], c.dtype, `forward ${i + 1}`);
      close(flat(m.leaves.running_mean), want.rm, c.dtype, "running_mean");
      close(flat(m.leaves.running_var), want.rv, c.dtype, "running_var");
      expect(m.leaves.num_batches_tracked.item()).toBe(want.n);
    });

  for (const [k, c] of embInitCases.entries())
    it(`Embedding's initial weight is torch.manual_seed(${c.seed}); nn.Embedding(${c.n}, ${c.d}, padding_idx=${c.pad}), exactly (${c.dtype})`, () => {
      const kind = registry.get("Embedding")!;
      const p = readParams(kind, {
        num_embeddings: c.n,
        embedding_dim: c.d,
        padding_idx: c.pad,
        seed: c.seed,
        dtype: c.dtype,
      });
      expect(flat(kind.leaves!(p, "e").weight)).toEqual(torch().embinit[k]);
    });

  it("parameters are what torch counts (buffers are not parameters)", () => {
    const count = (type: string, params: ParamValues) => {
      const kind = registry.get(type)!;
      return Object.values(kind.leaves?.(readParams(kind, params), type) ?? {})
        .filter((l) => l.requiresGrad)
        .reduce((n, l) => n + l.numel, 0);
    };
    expect(count("BatchNorm1d", { num_features: 7 })).toBe(14);
    expect(count("BatchNorm2d", { num_features: 7, affine: false })).toBe(0);
    expect(count("LayerNorm", { normalized_shape: [3, 4] })).toBe(24);
    expect(count("Embedding", { num_embeddings: 10, embedding_dim: 3 })).toBe(30);
    expect(count("Dropout", {})).toBe(0);
  });
});

/** x -> BatchNorm1d -> mse_loss(target) -> SGD, as a scheduler with the graph set (nothing evaluated yet). */
function bnTraining(c: (typeof trainCases)[number]): Scheduler {
  const nest = (d: Data) =>
    Array.from({ length: d.shape[0] }, (_, i) => d.data.slice(i * c.C, (i + 1) * c.C));
  const doc = build(
    [
      ["x", "tensor", { data: nest(c.x), dtype: "float32" }],
      ["target", "tensor", { data: nest(c.target), dtype: "float32" }],
      ["bn", "BatchNorm1d", { num_features: c.C, momentum: c.momentum }],
      ["loss", "mse_loss"],
      ["opt", "SGD", { lr: c.lr }],
    ],
    [
      ["x", "bn", "input"],
      ["bn", "loss", "input"],
      ["target", "loss", "target"],
      ["loss", "opt", "loss"],
    ],
  );
  const s = new Scheduler();
  s.setGraph(doc.state);
  return s;
}

async function trainAndCompare(
  backend: Backend,
  c: (typeof trainCases)[number],
  want: Answers["train"][number],
) {
  const s = bnTraining(c);
  const session = await backend.startTraining(s.program());
  const losses: number[] = [];
  for (let e = 0; e < c.epochs; e++) losses.push((await session.epoch()).loss);
  await session.sync();
  session.dispose();
  close(losses, want.losses, "float32", "losses");
  const leaves = s.leaves("bn");
  close(flat(leaves.weight), want.w, "float32", "weight");
  close(flat(leaves.bias), want.b, "float32", "bias");
  close(flat(leaves.running_mean), want.rm, "float32", "running_mean");
  close(flat(leaves.running_var), want.rv, "float32", "running_var");
  expect(leaves.num_batches_tracked.item()).toBe(c.epochs);
}

describe("BatchNorm1d trained through the scheduler: running statistics persist across steps", () => {
  for (const [k, c] of trainCases.entries())
    it(`CPU backend, momentum ${c.momentum}: losses, weights and running statistics follow torch's loop`, () =>
      trainAndCompare(cpuBackend, c, torch().train[k]));
});

describe("BatchNorm1d trained on WebGPU: the running statistics update on the GPU each epoch", () => {
  const device = useDevice();
  for (const [k, c] of trainCases.entries())
    it(`momentum ${c.momentum}: losses, weights and running statistics follow torch's loop`, () =>
      trainAndCompare(webgpuBackend(device()), c, torch().train[k]));

  it("refuses state it cannot replay (max_norm renormalising a trained weight) and leaves the CPU state as it was", async () => {
    const doc = build(
      [
        ["idx", "tensor", { data: [0, 2, 2], dtype: "int64" }],
        ["emb", "Embedding", { num_embeddings: 4, embedding_dim: 3, max_norm: 0.5, seed: 1 }],
        ["loss", "sum"],
        ["opt", "SGD", { lr: 0.1 }],
      ],
      [
        ["idx", "emb", "input"],
        ["emb", "loss", "input"],
        ["loss", "opt", "loss"],
      ],
    );
    const s = new Scheduler();
    s.setGraph(doc.state);
    const before = flat(s.leaves("emb").weight);
    await expect(webgpuBackend(device()).startTraining(s.program())).rejects.toThrow(
      /node 'emb' updates embedding's max_norm renormalisation in place, a tensor an optimizer trains/,
    );
    expect(flat(s.leaves("emb").weight)).toEqual(before);
  });
});

describe("validation knows that module nodes own trained parameters", () => {
  const warnings = (type: string, params: ParamValues) => {
    const doc = build(
      [
        [
          "x",
          "tensor",
          {
            data: [
              [0.5, -1, 2],
              [1, 0.25, -0.75],
            ],
          },
        ],
        ["m", type, params],
        ["loss", "sum"],
        ["opt", "SGD", { lr: 0.1 }],
      ],
      [
        ["x", "m", "input"],
        ["m", "loss", "input"],
        ["loss", "opt", "loss"],
      ],
    );
    const s = new Scheduler();
    s.setGraph(doc.state);
    return s.validation.issues.filter((i) => i.code === "nothing-to-train").length;
  };
  it("a Linear, BatchNorm1d or LayerNorm feeding the loss leaves nothing to warn about", () => {
    expect(warnings("Linear", { in_features: 3, out_features: 2 })).toBe(0);
    expect(warnings("BatchNorm1d", { num_features: 3 })).toBe(0);
    expect(warnings("LayerNorm", { normalized_shape: [3] })).toBe(0);
  });
  it("without affine parameters there is nothing to train, and validation says so", () => {
    expect(warnings("BatchNorm1d", { num_features: 3, affine: false })).toBe(1);
    expect(warnings("LayerNorm", { normalized_shape: [3], elementwise_affine: false })).toBe(1);
  });
});

describe("shape and dtype problems are found before anything runs, naming the node and port", () => {
  const cases: [string, Record<string, NestedNumbers>, ParamValues, RegExp][] = [
    [
      "batch_norm",
      {
        input: [
          [1, 2, 3],
          [4, 5, 6],
        ],
        weight: [1, 2],
      },
      { training: true },
      /node 'k' \(batch_norm\), input 'weight'.*weight must have shape \[3\], got \[2\]/,
    ],
    [
      "batch_norm",
      {
        input: [
          [1, 2, 3],
          [4, 5, 6],
        ],
      },
      {},
      /input 'running_mean'.*must be connected in evaluation mode/,
    ],
    ["batch_norm", { input: [[1, 2, 3]] }, { training: true }, /more than 1 value per channel when training/],
    [
      "BatchNorm1d",
      { input: [[[[1, 2, 3]]]] },
      { num_features: 1 },
      /node 'k' \(BatchNorm1d\), input 'input'.*expects input \(N, C\) or \(N, C, L\), got 4-D input/,
    ],
    [
      "BatchNorm2d",
      {
        input: [
          [1, 2],
          [3, 4],
        ],
      },
      { num_features: 2 },
      /expects input \(N, C, H, W\), got 2-D/,
    ],
    [
      "BatchNorm1d",
      {
        input: [
          [1, 2],
          [3, 4],
        ],
      },
      { num_features: 3 },
      /2 channels \(dim 1\) but num_features is 3/,
    ],
    [
      "layer_norm",
      { input: [[1, 2, 3]] },
      { normalized_shape: [2] },
      /given normalized_shape=\[2\], expected input with shape \[\*, 2\], but got input of size \[1, 3\]/,
    ],
    [
      "group_norm",
      { input: [[1, 2, 3]] },
      { num_groups: 2 },
      /channels \(3\) to be divisible by num_groups \(2\)/,
    ],
    [
      "embedding",
      { input: [0, 1], weight: [1, 2] },
      {},
      /input 'weight'.*must be 2-D \(num_embeddings, embedding_dim\)/,
    ],
    [
      "Embedding",
      { input: [0, 1] },
      { padding_idx: 20 },
      /node 'k' \(Embedding\).*padding_idx \(20\) must be within/,
    ],
    [
      "LayerNorm",
      { input: [[1, 2, 3]] },
      { normalized_shape: [3], dtype: "float64" },
      /input is float32 but the layer's parameters are float64/,
    ],
  ];
  for (const [type, inputs, params, message] of cases)
    it(`${type}: ${message.source.slice(0, 60)}`, () => {
      const nodes: N[] = [];
      const edges: E[] = [];
      for (const [port, value] of Object.entries(inputs)) {
        const index = port === "input" && type.toLowerCase() === "embedding";
        nodes.push([port, "tensor", { data: value, dtype: index ? "int64" : "float32" }]);
        edges.push([port, "k", port]);
      }
      nodes.push(["k", type, params]);
      const s = new Scheduler();
      s.setGraph(build(nodes, edges).state);
      const errors = s.validation.issues.filter((i) => i.severity === "error").map((i) => i.message);
      expect(errors.join("\n")).toMatch(message);
    });

  it("an index out of range fails at run time, naming the node", () => {
    const s = new Scheduler();
    s.setGraph(
      build(
        [
          ["idx", "tensor", { data: [0, 5], dtype: "int64" }],
          [
            "w",
            "tensor",
            {
              data: [
                [1, 2],
                [3, 4],
              ],
              dtype: "float32",
            },
          ],
          ["k", "embedding"],
        ],
        [
          ["idx", "k", "input"],
          ["w", "k", "weight"],
        ],
      ).state,
    );
    s.evaluate();
    expect(s.errors().map((e) => e.message)).toEqual([
      "node 'k' (embedding): embedding: index 5 is out of range for a weight with 2 rows",
    ]);
  });
});

describe("evaluations on the side leave the running statistics as they are", () => {
  it("evaluateWith (a decision boundary's grid) runs BatchNorm1d without updating its buffers", () => {
    const c = trainCases[0];
    const s = bnTraining(c);
    s.evaluate();
    const before = ["running_mean", "running_var", "num_batches_tracked"].map((n) => flat(s.leaves("bn")[n]));
    const grid = fromFlat(
      Array.from({ length: 12 }, (_, i) => i / 4),
      [4, 3],
      "float32",
    );
    const [out] = s.evaluateWith({ outputs: new Map([["x", { out: grid }]]) }, [
      { nodeId: "bn", port: "out" },
    ]);
    expect(out.shape).toEqual([4, 3]);
    expect(
      ["running_mean", "running_var", "num_batches_tracked"].map((n) => flat(s.leaves("bn")[n])),
    ).toEqual(before);
    // An ordinary evaluation of the node is a forward pass: it counts the batch, as torch does.
    s.paramsChanged(["bn"]);
    s.evaluate();
    expect(s.leaves("bn").num_batches_tracked.item()).toBe(before[2][0] + 1);
  });
});
