// Every node kind against PyTorch: graphs using all of them are evaluated by gradwire and, through the script
// the PyTorch exporter assembles from the kinds' own torch code, by Debian's python3-torch. Values, shapes,
// dtypes and gradients must agree, and shape inference must have predicted every shape and dtype.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { type EpochRecord, Trainer } from "../../src/engine/train.ts";
import { torchScript } from "../../src/export/torch-script.ts";
import type { GraphDoc } from "../../src/graph/types.ts";
import type { ParamValue } from "../../src/nodes/types.ts";
import { build, type E, type N } from "../scheduler/helpers.ts";

interface TorchEval {
  nodes: Record<string, { data: (number | boolean)[]; shape: number[]; dtype: string }>;
  grads: Record<string, { data: number[] }>;
}

function script(doc: GraphDoc, mode: "eval" | "train"): string {
  const r = torchScript(doc, { mode });
  if (!r.ok) throw new Error(r.message);
  return r.code;
}

function python(script: string): string {
  const r = spawnSync("/usr/bin/python3", ["-c", script], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`python failed:\n${r.stderr}\n--- script ---\n${script}`);
  return r.stdout;
}

function close(
  got: ArrayLike<number>,
  want: (number | boolean)[],
  what: string,
  rel: number,
  abs: number,
): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = Number(want[i]);
    const g = got[i];
    if (!(Math.abs(g - w) <= rel * Math.abs(w) + abs))
      throw new Error(`${what}[${i}]: gradwire ${g}, PyTorch ${w}`);
  }
}

/** Evaluate with gradwire and with PyTorch, and compare everything. */
function compare(nodes: N[], edges: E[], tol: { rel?: number; abs?: number } = {}): Scheduler {
  const doc = build(nodes, edges);
  const s = new Scheduler();
  s.setGraph(doc.state);
  expect(s.validation.issues.filter((i) => i.severity === "error")).toEqual([]);
  s.evaluate();
  expect(s.errors()).toEqual([]);
  const want = JSON.parse(python(script(doc.state, "eval"))) as TorchEval;
  const rel = tol.rel ?? 1e-5;
  const abs = tol.abs ?? 1e-6;
  for (const [key, w] of Object.entries(want.nodes)) {
    const [id, port = "out"] = key.split(".");
    const t = s.value(id, port)!;
    expect(t, key).toBeDefined();
    expect({ key, shape: [...t.shape], dtype: t.dtype }).toEqual({ key, shape: w.shape, dtype: w.dtype });
    // Shape inference predicted this before anything ran.
    expect({ key, ...s.validation.metas[id][port] }).toEqual({ key, shape: w.shape, dtype: w.dtype });
    close(t.data, w.data, key, t.dtype === "float16" ? 1e-3 : rel, t.dtype === "float16" ? 1e-3 : abs);
  }
  if (Object.keys(want.grads).length) {
    const g = s.gradients();
    for (const [id, w] of Object.entries(want.grads))
      close(g.params.get(id)!.data, w.data, `grad ${id}`, rel, abs);
  }
  return s;
}

const X: ParamValue = [
  [0.5, -1.25, 2.0],
  [-0.75, 1.5, 0.25],
];
const Y: ParamValue = [
  [1.5, 0.5, -2.0],
  [0.25, -1.0, 3.0],
];

describe("node kinds match PyTorch", () => {
  it("elementwise ops, comparisons and activations", () => {
    const unary = ["neg", "abs", "sign", "exp", "relu", "sigmoid", "tanh", "logsigmoid"];
    const positive = ["log", "log1p", "sqrt"];
    const binary = ["add", "sub", "mul", "div", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge"];
    const nodes: N[] = [
      ["x", "tensor", { data: X, requires_grad: true }],
      ["y", "tensor", { data: Y }],
      ["ax", "abs"],
      ...unary.map((t): N => [`u_${t}`, t]),
      ...positive.map((t): N => [`p_${t}`, t]),
      ...binary.map((t): N => [`b_${t}`, t]),
      ["s_add", "add", { other: 2.5 }],
      ["s_mul", "mul", { other: -3 }],
      ["s_gt", "gt", { other: 0 }],
      ["sq", "pow", { exponent: 2 }],
      ["cube", "pow", { exponent: 3.5 }],
      ["tp", "pow"],
      ["xl", "xlogy"],
      ["cl", "clamp", { min: -0.5, max: 1 }],
      ["cl_lo", "clamp", { min: 0 }],
      ["lr", "leaky_relu", { negative_slope: 0.2 }],
      ["ge1", "gelu"],
      ["ge2", "gelu", { approximate: "tanh" }],
      ["sp", "softplus", { beta: 2, threshold: 1 }],
      ["sm", "softmax", { dim: 1 }],
      ["lsm", "log_softmax", { dim: 0 }],
      ["wh", "where"],
      ["wh_s", "where", { other: 0 }],
      ["total", "sum"],
    ];
    const edges: E[] = [
      ["x", "ax", "input"],
      ...unary.map((t): E => ["x", `u_${t}`, "input"]),
      ...positive.map((t): E => ["ax", `p_${t}`, "input"]),
      ...binary.flatMap((t): E[] => [
        ["x", `b_${t}`, "input"],
        ["y", `b_${t}`, "other"],
      ]),
      ["x", "s_add", "input"],
      ["x", "s_mul", "input"],
      ["x", "s_gt", "input"],
      ["x", "sq", "input"],
      ["ax", "cube", "input"],
      ["ax", "tp", "input"],
      ["y", "tp", "exponent"],
      ["ax", "xl", "input"],
      ["ax", "xl", "other"],
      ["x", "cl", "input"],
      ["x", "cl_lo", "input"],
      ["x", "lr", "input"],
      ["x", "ge1", "input"],
      ["x", "ge2", "input"],
      ["x", "sp", "input"],
      ["x", "sm", "input"],
      ["x", "lsm", "input"],
      ["b_gt", "wh", "condition"],
      ["x", "wh", "input"],
      ["y", "wh", "other"],
      ["s_gt", "wh_s", "condition"],
      ["x", "wh_s", "input"],
      ["ge2", "total", "input"],
    ];
    compare(nodes, edges);
  });

  it("reductions, layout and indexing, matmul, linear and the model node", () => {
    const nodes: N[] = [
      ["x", "tensor", { data: X, requires_grad: true }],
      [
        "W",
        "tensor",
        {
          data: [
            [0.1, 0.2, -0.3],
            [0.5, -0.5, 0.25],
            [1, 2, 3.5],
            [0.0, 0.5, -1.5],
          ],
          requires_grad: true,
        },
      ],
      ["bias", "tensor", { data: [0.5, -0.5, 1.5, 0.25] }],
      [
        "idx",
        "tensor",
        {
          data: [
            [2, 0],
            [1, 1],
          ],
        },
      ],
      ["sel", "tensor", { data: [2, 0, 2] }],
      ["s_all", "sum"],
      ["s_1", "sum", { dim: 1, keepdim: true }],
      ["m_0", "mean", { dim: 0 }],
      ["m_all", "mean", { dim: [0, 1] }],
      ["mx", "max"],
      ["mx1", "max", { dim: 1 }],
      ["mn0", "min", { dim: 0, keepdim: true }],
      ["n2", "norm"],
      ["n1", "norm", { p: 1, dim: 1 }],
      ["lse", "logsumexp", { dim: 1 }],
      ["rs", "reshape", { shape: [3, -1] }],
      ["fl", "flatten"],
      ["us", "unsqueeze", { dim: 1 }],
      ["sqz", "squeeze", { dim: 1 }],
      ["tr", "transpose"],
      ["pm", "permute", { dims: [1, 0] }],
      ["nr", "narrow", { dim: 1, start: 1, length: 2 }],
      ["ga", "gather", { dim: 1 }],
      ["isel", "index_select", { dim: 1 }],
      ["mm", "matmul"],
      ["mv", "matmul"],
      ["lin", "linear"],
      ["mdl", "model", { weight: [0.5, -1, 2], bias: 0.25 }],
      ["dt", "detach"],
      ["to64", "to", { dtype: "float64" }],
      ["loss", "sum"],
      ["l1", "mean"],
      ["both", "add"],
      ["opt", "SGD"],
    ];
    const edges: E[] = [
      ...[
        "s_all",
        "s_1",
        "m_0",
        "m_all",
        "mx",
        "mx1",
        "mn0",
        "n2",
        "n1",
        "lse",
        "rs",
        "fl",
        "us",
        "tr",
        "pm",
        "nr",
        "dt",
        "to64",
        "mdl",
      ].map((t): E => ["x", t, "input"]),
      ["us", "sqz", "input"],
      ["x", "ga", "input"],
      ["idx", "ga", "index"],
      ["x", "isel", "input"],
      ["sel", "isel", "index"],
      ["x", "mm", "input"],
      ["tr", "mm", "other"],
      ["x", "mv", "input"],
      ["sel", "mv", "other"],
      ["x", "lin", "input"],
      ["W", "lin", "weight"],
      ["bias", "lin", "bias"],
      ["lin", "loss", "input"],
      ["mdl", "l1", "input"],
      ["loss", "both", "input"],
      ["l1", "both", "other"],
      ["both", "opt", "loss"],
    ];
    // matmul with an int vector would be refused: cast the selector first.
    nodes.push(["self", "to", { dtype: "float32" }]);
    edges.splice(
      edges.findIndex((e) => e[1] === "mv" && e[2] === "other"),
      1,
      ["sel", "self", "input"],
      ["self", "mv", "other"],
    );
    compare(nodes, edges);
  });

  it("every loss with its options", () => {
    const probs: ParamValue = [
      [0.2, 0.7, 0.1],
      [0.9, 0.05, 0.5],
    ];
    const labels: ParamValue = [
      [0, 1, 0],
      [1, 0, 1],
    ];
    const nodes: N[] = [
      ["x", "tensor", { data: X, requires_grad: true }],
      ["y", "tensor", { data: Y }],
      ["p", "tensor", { data: probs, requires_grad: true }],
      ["t01", "tensor", { data: labels, dtype: "float32" }],
      ["w3", "tensor", { data: [0.5, 2, 1.5] }],
      ["cls", "tensor", { data: [2, 0] }],
      ["soft", "softmax", { dim: 1 }],
      ["lsm", "log_softmax", { dim: 1 }],
      ["l1", "l1_loss"],
      ["l1s", "l1_loss", { reduction: "sum" }],
      ["mse", "mse_loss", { reduction: "none" }],
      ["sl1", "smooth_l1_loss", { beta: 0.5 }],
      ["hub", "huber_loss", { delta: 0.75, reduction: "sum" }],
      ["bce", "binary_cross_entropy"],
      ["bcew", "binary_cross_entropy", { reduction: "none" }],
      ["bcel", "binary_cross_entropy_with_logits"],
      ["bcelp", "binary_cross_entropy_with_logits", { reduction: "sum" }],
      ["nll", "nll_loss"],
      ["nllw", "nll_loss", { ignore_index: 0, reduction: "sum" }],
      ["ce", "cross_entropy"],
      ["ce_ls", "cross_entropy", { label_smoothing: 0.2 }],
      ["ce_w", "cross_entropy", { reduction: "none" }],
      ["ce_p", "cross_entropy"],
      ["kl", "kl_div", { reduction: "batchmean" }],
      ["kllt", "kl_div", { log_target: true, reduction: "sum" }],
      ["total", "add"],
    ];
    const pair = (id: string, a: string, b: string): E[] => [
      [a, id, "input"],
      [b, id, "target"],
    ];
    const edges: E[] = [
      ["x", "soft", "input"],
      ["x", "lsm", "input"],
      ...pair("l1", "x", "y"),
      ...pair("l1s", "x", "y"),
      ...pair("mse", "x", "y"),
      ...pair("sl1", "x", "y"),
      ...pair("hub", "x", "y"),
      ...pair("bce", "p", "t01"),
      ...pair("bcew", "p", "t01"),
      ["w3", "bcew", "weight"],
      ...pair("bcel", "x", "t01"),
      ...pair("bcelp", "x", "t01"),
      ["w3", "bcelp", "pos_weight"],
      ...pair("nll", "lsm", "cls"),
      ...pair("nllw", "lsm", "cls"),
      ["w3", "nllw", "weight"],
      ...pair("ce", "x", "cls"),
      ...pair("ce_ls", "x", "cls"),
      ...pair("ce_w", "x", "cls"),
      ["w3", "ce_w", "weight"],
      ...pair("ce_p", "x", "soft"),
      ...pair("kl", "lsm", "soft"),
      ...pair("kllt", "lsm", "lsm"),
      ["ce_ls", "total", "input"],
      ["bce", "total", "other"],
    ];
    const s = compare(nodes, edges);
    // An objective that is not the optimizer's: the file's top-level "objective".
    expect(s.value("nll")?.item()).toBeGreaterThan(0);
  });

  it("data kinds, metrics and the tool nodes", () => {
    const nodes: N[] = [
      ["r", "randn", { size: [2, 3], seed: 7, requires_grad: true }],
      ["u", "rand", { size: [4], seed: 3, dtype: "float64" }],
      ["ls", "linspace", { start: -1, end: 2, steps: 7 }],
      ["ar", "arange", { start: 1, end: 10, step: 3 }],
      ["arf", "arange", { start: 0, end: 1, step: 0.25 }],
      ["z", "zeros", { size: [2, 2] }],
      ["o", "ones", { size: [3], dtype: "float64" }],
      ["f", "full", { size: [2], fill_value: 0.5 }],
      ["h", "tensor", { data: [true, false, true] }],
      ["lab", "tensor", { data: [2, 0] }],
      ["am", "argmax", { dim: 1 }],
      ["amin", "argmin"],
      ["acc", "accuracy"],
      ["acc_i", "accuracy"],
      [
        "tgt",
        "tensor",
        {
          data: [
            [0.5, -1, 2.5],
            [0.25, 0.75, -0.5],
          ],
        },
      ],
      ["mse", "mse_loss"],
      ["fd", "finite_difference", { delta: 0.01 }],
      ["fdf", "finite_difference", { scheme: "forward", delta: 0.001 }],
      ["sw", "sweep", { start: -2, end: 2, steps: 9 }],
      ["g", "grad"],
      ["g2", "grad", { repeat: 2 }],
      ["sq", "custom_function", { name: "Square", forward: "x ^ 2", backward: "2 * x * grad_output" }],
      [
        "odd",
        "custom_function",
        {
          name: "Odd",
          forward: "where(x > 0, sigmoid(x) * 3, exp(x) - 1) / pi",
          backward: "grad_output * 0.5",
        },
      ],
      ["const", "custom_function", { name: "Const", forward: "2", backward: "0" }],
      ["sqsum", "sum"],
      ["oddsum", "sum"],
      ["gsq", "grad"],
    ];
    const edges: E[] = [
      ["r", "am", "input"],
      ["r", "amin", "input"],
      ["r", "acc", "input"],
      ["lab", "acc", "target"],
      ["am", "acc_i", "input"],
      ["lab", "acc_i", "target"],
      ["r", "mse", "input"],
      ["tgt", "mse", "target"],
      ["mse", "fd", "loss"],
      ["r", "fd", "input"],
      ["mse", "fdf", "loss"],
      ["r", "fdf", "input"],
      ["mse", "sw", "loss"],
      ["r", "sw", "input"],
      ["mse", "g", "outputs"],
      ["r", "g", "inputs"],
      ["mse", "g2", "outputs"],
      ["r", "g2", "inputs"],
      ["r", "sq", "input"],
      ["r", "odd", "input"],
      ["r", "const", "input"],
      ["sq", "sqsum", "input"],
      ["odd", "oddsum", "input"],
      ["oddsum", "gsq", "outputs"],
      ["r", "gsq", "inputs"],
    ];
    // Finite differences in float32 agree to the precision float32 differences have.
    const s = compare(nodes, edges, { rel: 2e-4, abs: 2e-4 });
    // And they estimate the analytic gradient.
    const g = s.value("g")!.data;
    close(s.value("fd")!.data, Array.from(g), "fd ≈ grad", 1e-3, 1e-3);
    close(
      s.value("g2")!.data,
      Array.from(g, (x) => 2 * x),
      "grad accumulates",
      1e-6,
      1e-7,
    );
  });
});

describe("optimizers match torch.optim over a trajectory", () => {
  const cases: [string, Record<string, ParamValue>][] = [
    ["SGD", { lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 0.01 }],
    ["SGD", { lr: 0.05, momentum: 0.5, dampening: 0.1, zero_grad: false }],
    ["Adam", { lr: 0.05, betas: [0.8, 0.95], amsgrad: true }],
    ["AdamW", { lr: 0.05, weight_decay: 0.1 }],
    ["RMSprop", { lr: 0.01, momentum: 0.5, centered: true }],
    ["Adagrad", { lr: 0.2, lr_decay: 0.01, initial_accumulator_value: 0.1 }],
    ["NAdam", { lr: 0.05, betas: [0.8, 0.95], weight_decay: 0.01, momentum_decay: 0.01 }],
    ["RAdam", { lr: 0.05, eps: 1e-6, weight_decay: 0.01 }],
    ["Adamax", { lr: 0.05, betas: [0.8, 0.95], maximize: false }],
    ["Adadelta", { lr: 0.5, rho: 0.8, weight_decay: 0.01 }],
    ["ASGD", { lr: 0.05, lambd: 0.01, alpha: 0.5, t0: 10, weight_decay: 0.01 }],
  ];
  for (const [type, params] of cases)
    it(`${type} ${JSON.stringify(params)}`, async () => {
      const doc = build(
        [
          ["x", "tensor", { data: X }],
          [
            "W",
            "tensor",
            {
              data: [
                [0.1, 0.2, -0.3],
                [0.5, -0.5, 0.25],
              ],
              requires_grad: true,
            },
          ],
          ["b", "tensor", { data: [0.5, -0.5], requires_grad: true }],
          ["y", "tensor", { data: [1, 0] }],
          ["lin", "linear"],
          ["loss", "cross_entropy"],
          ["opt", type, params],
        ],
        [
          ["x", "lin", "input"],
          ["W", "lin", "weight"],
          ["b", "lin", "bias"],
          ["lin", "loss", "input"],
          ["y", "loss", "target"],
          ["loss", "opt", "loss"],
        ],
        30,
      );
      const s = new Scheduler();
      s.setGraph(doc.state);
      s.evaluate();
      const code = script(doc.state, "train");
      const t = new Trainer(s, { yieldFn: async () => {} });
      const got: EpochRecord[] = [];
      t.onRecords((r) => got.push(...r));
      await t.run();
      expect(t.state.status).toBe("done");
      const want = python(code)
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as EpochRecord);
      expect(got).toHaveLength(30);
      close(
        got.map((r) => r.loss),
        want.map((r) => r.loss),
        "loss",
        1e-4,
        1e-6,
      );
      close(
        got.flatMap((r) => [...r.params.W, ...r.params.b]),
        want.flatMap((r) => [...r.params.W, ...r.params.b]),
        "params",
        1e-4,
        1e-6,
      );
    });
});
