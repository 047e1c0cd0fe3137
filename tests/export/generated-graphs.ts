/**
 * Graphs built in code for the export tests: every loss with options, every optimizer with options, linear and
 * MLP models, generator nodes, large tensors (written as base64), custom functions, tools and the ops, so the
 * exported scripts meet every node kind.
 */
import type { GraphDoc, GraphEdge, GraphNode } from "../../src/graph/types.ts";
import type { ParamValue } from "../../src/nodes/types.ts";

type Params = Record<string, ParamValue>;
/** [id, type, params, display name] */
type N = [string, string, Params?, string?];
/** [source, target, targetPort, sourcePort] */
type E = [string, string, string, string?];

export interface Generated {
  name: string;
  doc: GraphDoc;
}

function graph(name: string, nodes: N[], edges: E[], extra: Partial<GraphDoc> = {}): Generated {
  const ns: Record<string, GraphNode> = {};
  nodes.forEach(([id, type, params, label], i) => {
    ns[id] = {
      id,
      type,
      position: { x: 200 * i, y: 0 },
      params: params ?? {},
      ...(label ? { name: label } : {}),
    };
  });
  const es: Record<string, GraphEdge> = {};
  edges.forEach(([source, target, targetPort, sourcePort], i) => {
    const id = `e${i + 1}`;
    es[id] = { id, source, sourcePort: sourcePort ?? "out", target, targetPort };
  });
  return {
    name,
    doc: { title: name, nodes: ns, edges: es, settings: { epochs: 40 }, ...extra },
  };
}

/** Deterministic values in [-1, 1) (a tiny LCG), so the graphs are the same on every run. */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.round((s / 2 ** 32) * 2000 - 1000) / 1000;
  });
}

const T_U = [0.4, 1.2, 2.5, 3.9, 4.3, 5.7, 6.2, 7.9, 8.3, 9.5, 10.5, 11.5];
const T_C = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

const LOSSES: [string, Params][] = [
  ["mse_loss", {}],
  ["l1_loss", { reduction: "sum" }],
  ["smooth_l1_loss", { beta: 0.5 }],
  ["huber_loss", { delta: 2, reduction: "mean" }],
];

const OPTIMIZERS: [string, Params][] = [
  ["SGD", { lr: 0.01, momentum: 0.9, nesterov: true }],
  ["SGD", { lr: 0.002, momentum: 0.5, dampening: 0.1, weight_decay: 0.01, zero_grad: false }],
  ["Adam", { lr: 0.05, betas: [0.8, 0.99], amsgrad: true }],
  ["AdamW", { lr: 0.05, weight_decay: 0.1, eps: 1e-6 }],
  ["RMSprop", { lr: 0.01, alpha: 0.9, centered: true, momentum: 0.5 }],
  ["Adagrad", { lr: 0.5, lr_decay: 0.01, initial_accumulator_value: 0.1 }],
  ["SGD", { lr: 0.001, maximize: false, weight_decay: 0.5 }],
  ["Adam", { lr: 0.02, weight_decay: 0.01, maximize: false }],
  ["NAdam", { lr: 0.05, betas: [0.8, 0.99], momentum_decay: 0.01 }],
  ["RAdam", { lr: 0.05, weight_decay: 0.01 }],
  ["Adamax", { lr: 0.05, eps: 1e-6, maximize: false }],
  ["Adadelta", { lr: 0.5, rho: 0.8 }],
  ["ASGD", { lr: 0.01, lambd: 0.001, t0: 20 }],
];

/** The thermometer regression with each optimizer, the losses taken in turn. */
function regressions(): Generated[] {
  return OPTIMIZERS.map(([opt, hyper], i) => {
    const [loss, lossParams] = LOSSES[i % LOSSES.length];
    return graph(
      `regression ${i + 1}: ${loss} with ${opt}`,
      [
        ["t_u", "tensor", { data: T_U }],
        ["t_c", "tensor", { data: T_C, dtype: "float32" }],
        ["t_un", "mul", { other: 0.1 }, "t_u normalized"],
        ["model", "model", { weight: 1, bias: 0 }],
        ["loss", loss, lossParams],
        ["opt", opt, hyper],
      ],
      [
        ["t_u", "t_un", "input"],
        ["t_un", "model", "input"],
        ["model", "loss", "input"],
        ["t_c", "loss", "target"],
        ["loss", "opt", "loss"],
      ],
    );
  });
}

/** A linear regression trained with each learning-rate scheduler (the last one chained after a warm-up). */
function scheduled(): Generated[] {
  const SCHEDULERS: [string, Params, string, Params][] = [
    ["StepLR", { step_size: 5, gamma: 0.5 }, "SGD", { lr: 0.1 }],
    ["MultiStepLR", { milestones: [4, 10, 25], gamma: 0.3 }, "SGD", { lr: 0.1, momentum: 0.9 }],
    ["ExponentialLR", { gamma: 0.9 }, "Adam", { lr: 0.1 }],
    ["CosineAnnealingLR", { eta_min: 0.01 }, "SGD", { lr: 0.1 }],
    ["LinearLR", { start_factor: 0.25, total_iters: 8 }, "RMSprop", { lr: 0.01 }],
    ["OneCycleLR", { max_lr: 0.1, three_phase: true }, "Adam", { lr: 0.01 }],
    ["ReduceLROnPlateau", { patience: 1, threshold: 0.05, cooldown: 1 }, "SGD", { lr: 0.1 }],
  ];
  return SCHEDULERS.map(([type, params, opt, hyper]) =>
    graph(
      `${type} on ${opt}`,
      [
        ["t_u", "tensor", { data: T_U }],
        ["t_c", "tensor", { data: T_C, dtype: "float32" }],
        ["t_un", "mul", { other: 0.1 }, "t_u normalized"],
        ["model", "model", { weight: 1, bias: 0 }],
        ["loss", "mse_loss"],
        ["opt", opt, hyper],
        ["sched", type, params],
      ],
      [
        ["t_u", "t_un", "input"],
        ["t_un", "model", "input"],
        ["model", "loss", "input"],
        ["t_c", "loss", "target"],
        ["loss", "opt", "loss"],
        ["opt", "sched", "optimizer"],
      ],
    ),
  );
}

function classifiers(): Generated[] {
  const labels = values(16, 7).map((v) => Math.floor((v + 1) * 1.5));
  const mlp = graph(
    "MLP: linear, relu, linear, cross_entropy with label smoothing, Adam",
    [
      ["X", "randn", { size: [16, 4], seed: 1 }],
      ["y", "tensor", { data: labels }],
      ["W1", "randn", { size: [8, 4], seed: 2, requires_grad: true }],
      ["b1", "zeros", { size: [8], requires_grad: true }],
      ["hidden", "linear", {}, "hidden layer"],
      ["act", "relu"],
      ["W2", "randn", { size: [3, 8], seed: 3, requires_grad: true }],
      ["b2", "full", { size: [3], fill_value: 0.1, requires_grad: true }],
      ["logits", "linear"],
      ["loss", "cross_entropy", { label_smoothing: 0.1 }],
      ["adam", "Adam", { lr: 0.01 }, "optimizer"],
    ],
    [
      ["X", "hidden", "input"],
      ["W1", "hidden", "weight"],
      ["b1", "hidden", "bias"],
      ["hidden", "act", "input"],
      ["act", "logits", "input"],
      ["W2", "logits", "weight"],
      ["b2", "logits", "bias"],
      ["logits", "loss", "input"],
      ["y", "loss", "target"],
      ["loss", "adam", "loss"],
    ],
  );
  const nll = graph(
    "MLP: tanh, log_softmax, nll_loss with class weights, SGD with momentum",
    [
      ["input", "randn", { size: [16, 4], seed: 11 }, "input"],
      ["y", "tensor", { data: labels }, "class"],
      ["W1", "randn", { size: [6, 4], seed: 12, requires_grad: true }, "sum"],
      ["h", "linear", {}, "2nd layer!"],
      ["t", "tanh"],
      ["W2", "randn", { size: [3, 6], seed: 13, requires_grad: true }],
      ["logits", "linear"],
      ["logp", "log_softmax", { dim: 1 }],
      ["cw", "tensor", { data: [1, 2, 0.5], dtype: "float32" }, "class weights"],
      ["loss", "nll_loss", { reduction: "sum" }],
      ["sgd", "SGD", { lr: 0.01, momentum: 0.9 }],
    ],
    [
      ["input", "h", "input"],
      ["W1", "h", "weight"],
      ["h", "t", "input"],
      ["t", "logits", "input"],
      ["W2", "logits", "weight"],
      ["logits", "logp", "input"],
      ["logp", "loss", "input"],
      ["y", "loss", "target"],
      ["cw", "loss", "weight"],
      ["loss", "sgd", "loss"],
    ],
  );
  const targets = values(20, 5).map((v) => (v > 0 ? 1 : 0));
  const logistic = graph(
    "Logistic regression: matmul, binary_cross_entropy_with_logits with pos_weight, RMSprop",
    [
      ["X", "randn", { size: [20, 3], seed: 21 }],
      ["w", "randn", { size: [3], seed: 22, requires_grad: true }],
      ["b", "tensor", { data: 0, dtype: "float32", requires_grad: true }],
      ["xw", "matmul"],
      ["logits", "add"],
      ["target", "tensor", { data: targets, dtype: "float32" }],
      ["pw", "tensor", { data: [2], dtype: "float32" }, "pos weight"],
      ["loss", "binary_cross_entropy_with_logits"],
      ["opt", "RMSprop", { lr: 0.05 }],
    ],
    [
      ["X", "xw", "input"],
      ["w", "xw", "other"],
      ["xw", "logits", "input"],
      ["b", "logits", "other"],
      ["logits", "loss", "input"],
      ["target", "loss", "target"],
      ["pw", "loss", "pos_weight"],
      ["loss", "opt", "loss"],
    ],
  );
  const bce = graph(
    "Sigmoid and binary_cross_entropy with weights, Adagrad",
    [
      ["X", "randn", { size: [20, 3], seed: 31 }],
      ["w", "zeros", { size: [3], requires_grad: true }],
      ["z", "matmul"],
      ["p", "sigmoid"],
      ["target", "tensor", { data: targets, dtype: "float32" }],
      ["weight", "rand", { size: [20], seed: 32 }],
      ["loss", "binary_cross_entropy"],
      ["opt", "Adagrad", { lr: 0.1 }],
    ],
    [
      ["X", "z", "input"],
      ["w", "z", "other"],
      ["z", "p", "input"],
      ["p", "loss", "input"],
      ["target", "loss", "target"],
      ["weight", "loss", "weight"],
      ["loss", "opt", "loss"],
    ],
  );
  const kl = (logTarget: boolean) =>
    graph(
      `kl_div, reduction batchmean, log_target ${logTarget}, Adam`,
      [
        ["scores", "randn", { size: [4, 5], seed: 41, requires_grad: true }],
        ["logq", "log_softmax", { dim: 1 }],
        ["raw", "randn", { size: [4, 5], seed: 42 }],
        ["p", logTarget ? "log_softmax" : "softmax", { dim: 1 }],
        ["loss", "kl_div", { reduction: "batchmean", log_target: logTarget }],
        ["opt", "Adam", { lr: 0.1 }],
      ],
      [
        ["scores", "logq", "input"],
        ["raw", "p", "input"],
        ["logq", "loss", "input"],
        ["p", "loss", "target"],
        ["loss", "opt", "loss"],
      ],
    );
  return [mlp, nll, logistic, bce, kl(false), kl(true)];
}

function generatorsAndMore(): Generated[] {
  const gen = graph(
    "Generators: linspace inputs, rand noise (base64), full and zeros parameters",
    [
      ["x", "linspace", { start: -2, end: 2, steps: 200 }],
      ["noise", "rand", { size: [200], seed: 4 }],
      ["x3", "mul", { other: 3 }],
      ["scaled", "mul", { other: 0.1 }],
      ["y", "add"],
      ["w", "full", { size: [1], fill_value: 0.5, requires_grad: true }],
      ["b", "zeros", { size: [1], requires_grad: true }],
      ["wx", "mul"],
      ["pred", "add"],
      ["loss", "mse_loss"],
      ["opt", "SGD", { lr: 0.1 }],
    ],
    [
      ["x", "x3", "input"],
      ["noise", "scaled", "input"],
      ["x3", "y", "input"],
      ["scaled", "y", "other"],
      ["x", "wx", "input"],
      ["w", "wx", "other"],
      ["wx", "pred", "input"],
      ["b", "pred", "other"],
      ["pred", "loss", "input"],
      ["y", "loss", "target"],
      ["loss", "opt", "loss"],
    ],
  );
  const large = graph(
    "Large data: 150 samples as base64, int64 labels, linear classifier, Adam",
    [
      ["X", "tensor", { data: chunk(values(450, 9), 3) }],
      ["y", "tensor", { data: values(150, 10).map((v) => (v > 0.3 ? 2 : v > -0.3 ? 1 : 0)) }],
      ["W", "randn", { size: [3, 3], seed: 51, requires_grad: true }],
      ["bias", "ones", { size: [3], requires_grad: true }],
      ["logits", "linear"],
      ["loss", "cross_entropy"],
      ["opt", "Adam", { lr: 0.05 }],
    ],
    [
      ["X", "logits", "input"],
      ["W", "logits", "weight"],
      ["bias", "logits", "bias"],
      ["logits", "loss", "input"],
      ["y", "loss", "target"],
      ["loss", "opt", "loss"],
    ],
  );
  const two = graph(
    "Two optimizers, each with its own loss; the objective is the first",
    [
      ["x", "tensor", { data: T_U }],
      ["y", "tensor", { data: T_C, dtype: "float32" }],
      ["m1", "model", { weight: 0.5, bias: 0 }],
      ["m2", "model", { weight: [0.5], bias: [0] }],
      ["l1", "mse_loss"],
      ["l2", "l1_loss"],
      ["o1", "SGD", { lr: 0.005 }],
      ["o2", "Adam", { lr: 0.05 }],
    ],
    [
      ["x", "m1", "input"],
      ["x", "m2", "input"],
      ["m1", "l1", "input"],
      ["y", "l1", "target"],
      ["m2", "l2", "input"],
      ["y", "l2", "target"],
      ["l1", "o1", "loss"],
      ["l2", "o2", "loss"],
    ],
    { objective: "l1" },
  );
  const custom = graph(
    "Custom autograd Functions in a trained model",
    [
      ["x", "tensor", { data: [0.5, -1, 1.5, 2] }],
      ["target", "tensor", { data: [1, 0.5, 2, 3] }],
      ["w", "tensor", { data: [0.3, 0.2, -0.1, 0.4], requires_grad: true }],
      ["wx", "mul"],
      ["sq", "custom_function", { name: "Square", forward: "x ** 2", backward: "2 * x * grad_output" }],
      ["ex", "custom_function", { name: "Exp", forward: "exp(x)", backward: "result * grad_output" }],
      ["both", "add"],
      ["loss", "mse_loss"],
      ["opt", "SGD", { lr: 0.01 }],
    ],
    [
      ["x", "wx", "input"],
      ["w", "wx", "other"],
      ["wx", "sq", "input"],
      ["wx", "ex", "input"],
      ["sq", "both", "input"],
      ["ex", "both", "other"],
      ["both", "loss", "input"],
      ["target", "loss", "target"],
      ["loss", "opt", "loss"],
    ],
  );
  const f64 = graph(
    "float64 model and data, MSE, SGD",
    [
      ["t_u", "tensor", { data: T_U, dtype: "float64" }],
      ["t_c", "tensor", { data: T_C, dtype: "float64" }],
      ["model", "model", { weight: 1, bias: 1, dtype: "float64" }],
      ["loss", "mse_loss"],
      ["opt", "SGD", { lr: 0.01 }],
    ],
    [
      ["t_u", "model", "input"],
      ["model", "loss", "input"],
      ["t_c", "loss", "target"],
      ["loss", "opt", "loss"],
    ],
  );
  return [gen, large, two, custom, f64];
}

/** Training graphs whose title or description once broke the script's docstring or imports. */
function awkwardText(): Generated[] {
  const nodes: N[] = [
    ["w", "tensor", { data: [2, 3], dtype: "float32", requires_grad: true }],
    ["x", "tensor", { data: [1, 4], dtype: "float32" }],
    ["p", "mul"],
    ["loss", "sum"],
    ["opt", "SGD", { lr: 0.1 }],
  ];
  const edges: E[] = [
    ["w", "p", "input"],
    ["x", "p", "other"],
    ["p", "loss", "input"],
    ["loss", "opt", "loss"],
  ];
  return [
    // The imports once replaced a placeholder at its first occurrence, which was here.
    graph("A description naming the imports placeholder", nodes, edges, {
      description: 'See #IMPORTS# here, and "math." or F. in prose',
    }),
    // Python refuses a NUL in source; a carriage return or form feed must not reach it raw either.
    graph("Control characters in the title and description", nodes, edges, {
      title: "nul\u0000title\u000b\u000c\u001b",
      description: 'cr\rdesc\u2028 \u007f tab\tend \\x00 """',
    }),
  ];
}

function chunk(xs: number[], n: number): number[][] {
  return Array.from({ length: xs.length / n }, (_, i) => xs.slice(i * n, (i + 1) * n));
}

/** Graphs without an optimizer: exported as scripts printing what `gradwire eval --json` prints. */
function evalGraphs(): Generated[] {
  const ops = graph(
    "Ops, activations, reductions, layout and metrics",
    [
      [
        "a",
        "tensor",
        {
          data: [
            [0.5, -1.25, 2],
            [1.5, 0.25, -0.75],
          ],
          requires_grad: true,
        },
      ],
      [
        "b",
        "tensor",
        {
          data: [
            [1, 2, 0.5],
            [-1, 0.5, 3],
          ],
          requires_grad: true,
        },
      ],
      ["add", "add"],
      ["sub", "sub", { other: 2 }],
      ["mul", "mul"],
      ["div", "div"],
      ["pow", "pow", { exponent: 3 }],
      ["powt", "pow"],
      ["absb", "abs"],
      ["exp", "exp"],
      ["log", "log"],
      ["log1p", "log1p"],
      ["sqrt", "sqrt"],
      ["neg", "neg"],
      ["sign", "sign"],
      ["sig", "sigmoid"],
      ["tanh", "tanh"],
      ["relu", "relu"],
      ["leaky", "leaky_relu", { negative_slope: 0.2 }],
      ["gelu", "gelu", { approximate: "tanh" }],
      ["softplus", "softplus", { beta: 2 }],
      ["logsig", "logsigmoid"],
      ["elu", "elu", { alpha: 0.5 }],
      ["selu", "selu"],
      ["celu", "celu", { alpha: 0.7 }],
      ["silu", "silu"],
      ["mish", "mish"],
      ["hardtanh", "hardtanh", { min_val: -0.5, max_val: 1.75 }],
      ["relu6", "relu6"],
      ["hardsigmoid", "hardsigmoid"],
      ["hardswish", "hardswish"],
      ["softsign", "softsign"],
      ["tanhshrink", "tanhshrink"],
      ["hardshrink", "hardshrink", { lambd: 1 }],
      ["softshrink", "softshrink"],
      ["normalize", "normalize", { p: 1 }],
      ["cos", "cosine_similarity", { dim: 0 }],
      ["pdist", "pairwise_distance", { keepdim: true }],
      ["softmax", "softmax", { dim: 1 }],
      ["lsm", "log_softmax", { dim: 0 }],
      ["sum0", "sum", { dim: [0], keepdim: true }],
      ["mean1", "mean", { dim: 1 }],
      ["max1", "max", { dim: 1 }],
      ["minall", "min"],
      ["norm1", "norm", { p: 1 }],
      ["lse", "logsumexp", { dim: 1 }],
      ["reshape", "reshape", { shape: [3, -1] }],
      ["flat", "flatten"],
      ["unsq", "unsqueeze", { dim: 0 }],
      ["sq", "squeeze", { dim: 0 }],
      ["tr", "transpose", { dim0: 0, dim1: 1 }],
      ["perm", "permute", { dims: [1, 0] }],
      ["narrow", "narrow", { dim: 1, start: 1, length: 2 }],
      [
        "idx",
        "tensor",
        {
          data: [
            [0, 2],
            [1, 1],
          ],
        },
      ],
      ["gather", "gather", { dim: 1 }],
      ["sel", "tensor", { data: [2, 0] }],
      ["isel", "index_select", { dim: 1 }],
      ["pos", "gt", { other: 0 }],
      ["where", "where", { other: 0 }],
      ["clamp", "clamp", { min: -0.5, max: 0.5 }],
      ["maximum", "maximum"],
      ["minimum", "minimum"],
      ["xlogy", "xlogy"],
      ["det", "detach"],
      ["f64", "to", { dtype: "float64" }],
      ["am", "argmax", { dim: 1 }],
      ["amin", "argmin", { dim: 0, keepdim: true }],
      ["lt", "lt"],
      ["le", "le", { other: 0.5 }],
      ["ge", "ge"],
      ["ne", "ne"],
      ["labels", "tensor", { data: [2, 1] }],
      ["acc", "accuracy"],
      ["eq", "eq"],
      ["mm", "matmul"],
      ["total", "sum"],
    ],
    [
      ["a", "add", "input"],
      ["b", "add", "other"],
      ["a", "sub", "input"],
      ["a", "mul", "input"],
      ["b", "mul", "other"],
      ["a", "div", "input"],
      ["b", "div", "other"],
      ["a", "pow", "input"],
      ["absb", "powt", "input"],
      ["a", "powt", "exponent"],
      ["b", "absb", "input"],
      ["a", "exp", "input"],
      ["absb", "log", "input"],
      ["absb", "log1p", "input"],
      ["absb", "sqrt", "input"],
      ["a", "neg", "input"],
      ["a", "sign", "input"],
      ["a", "sig", "input"],
      ["a", "tanh", "input"],
      ["a", "relu", "input"],
      ["a", "leaky", "input"],
      ["a", "gelu", "input"],
      ["a", "softplus", "input"],
      ["a", "logsig", "input"],
      ...["elu", "selu", "celu", "silu", "mish", "hardtanh", "relu6", "hardsigmoid", "hardswish"].map(
        (n) => ["a", n, "input"] as E,
      ),
      ...["softsign", "tanhshrink", "hardshrink", "softshrink", "normalize"].map(
        (n) => ["a", n, "input"] as E,
      ),
      ["a", "cos", "x1"],
      ["b", "cos", "x2"],
      ["a", "pdist", "x1"],
      ["b", "pdist", "x2"],
      ["a", "softmax", "input"],
      ["a", "lsm", "input"],
      ["a", "sum0", "input"],
      ["a", "mean1", "input"],
      ["a", "max1", "input"],
      ["a", "minall", "input"],
      ["a", "norm1", "input"],
      ["a", "lse", "input"],
      ["a", "reshape", "input"],
      ["a", "flat", "input"],
      ["a", "unsq", "input"],
      ["unsq", "sq", "input"],
      ["a", "tr", "input"],
      ["a", "perm", "input"],
      ["a", "narrow", "input"],
      ["a", "gather", "input"],
      ["idx", "gather", "index"],
      ["a", "isel", "input"],
      ["sel", "isel", "index"],
      ["a", "pos", "input"],
      ["pos", "where", "condition"],
      ["a", "where", "input"],
      ["a", "clamp", "input"],
      ["a", "maximum", "input"],
      ["b", "maximum", "other"],
      ["a", "minimum", "input"],
      ["b", "minimum", "other"],
      ["absb", "xlogy", "input"],
      ["absb", "xlogy", "other"],
      ["a", "det", "input"],
      ["a", "f64", "input"],
      ["a", "am", "input"],
      ["a", "amin", "input"],
      ["a", "lt", "input"],
      ["b", "lt", "other"],
      ["a", "le", "input"],
      ["a", "ge", "input"],
      ["b", "ge", "other"],
      ["a", "ne", "input"],
      ["b", "ne", "other"],
      ["a", "acc", "input"],
      ["labels", "acc", "target"],
      ["a", "eq", "input"],
      ["b", "eq", "other"],
      ["a", "mm", "input"],
      ["tr", "mm", "other"],
      ["mm", "total", "input"],
    ],
    { objective: "total" },
  );
  const tools = graph(
    "Tools: finite differences, a sweep, autograd grad, custom functions printed with Python's precedence",
    [
      ["x", "tensor", { data: [0.4, 1.2, 2.5, 3.9] }],
      ["y", "tensor", { data: [0.5, 1, 2, 4] }],
      ["w", "tensor", { data: [1.5, -0.5], requires_grad: true }],
      ["w0", "narrow", { dim: 0, start: 0, length: 1 }],
      ["pred", "mul"],
      ["loss", "mse_loss"],
      ["fd_c", "finite_difference", { scheme: "central", delta: 0.01 }],
      ["fd_f", "finite_difference", { scheme: "forward", delta: 0.1, divide: false }],
      ["curve", "sweep", { start: -2, end: 3, steps: 11 }],
      ["g", "grad", { repeat: 2 }],
      ["c1", "custom_function", { name: "NegSquare", forward: "-x ** 2", backward: "-2 * x * grad_output" }],
      [
        "c2",
        "custom_function",
        { name: "SquareOfNeg", forward: "(-x) ** 2 - (x - (x - 1))", backward: "grad_output * 2 ** -x" },
      ],
      ["c3", "custom_function", { name: "Step", forward: "where(x > 1, x / (x * 2), 3)", backward: "4" }],
      [
        "c4",
        "custom_function",
        {
          name: "Smooth",
          forward: "clamp(x, -1, 2) + sqrt(abs(x)) * pi",
          backward: "(x > 0) * grad_output + sigmoid(x) - tanh(x) ^ 2",
        },
      ],
      ["g2", "grad"],
      ["ints", "tensor", { data: [1, 2, 3] }],
      ["c5", "custom_function", { name: "Cube", forward: "x ** 3", backward: "3 * x ** 2 * grad_output" }],
      ["sum4", "add"],
      ["sum5", "add"],
      ["sum6", "add"],
      ["objective", "sum"],
    ],
    [
      ["w", "w0", "input"],
      ["x", "pred", "input"],
      ["w0", "pred", "other"],
      ["pred", "loss", "input"],
      ["y", "loss", "target"],
      ["loss", "fd_c", "loss"],
      ["w", "fd_c", "input"],
      ["loss", "fd_f", "loss"],
      ["w", "fd_f", "input"],
      ["loss", "curve", "loss"],
      ["pred", "curve", "input"],
      ["loss", "g", "outputs"],
      ["w", "g", "inputs"],
      ["pred", "g2", "outputs"],
      ["w", "g2", "inputs"],
      ["y", "g2", "grad_outputs"],
      ["ints", "c5", "input"],
      ["pred", "c1", "input"],
      ["pred", "c2", "input"],
      ["pred", "c3", "input"],
      ["pred", "c4", "input"],
      ["c1", "sum4", "input"],
      ["c2", "sum4", "other"],
      ["sum4", "sum5", "input"],
      ["c3", "sum5", "other"],
      ["sum5", "sum6", "input"],
      ["c4", "sum6", "other"],
      ["sum6", "objective", "input"],
    ],
    { objective: "objective" },
  );
  const data = graph(
    "Data kinds: every generator and dtype, small and large",
    [
      ["r64", "randn", { size: [2, 3], seed: 3, dtype: "float64" }],
      ["r32", "randn", { size: [5], seed: 4 }],
      ["bigr64", "randn", { size: [70], seed: 5, dtype: "float64" }],
      ["u", "rand", { size: [4], seed: 6 }],
      ["u64", "rand", { size: [40], seed: 6, dtype: "float64" }],
      ["nrm", "normal", { size: [3, 7], mean: 2, std: 0.5, seed: 7 }],
      ["nrm64", "normal", { size: [3], mean: -1, std: 3, seed: 8, dtype: "float64" }],
      ["uni", "uniform", { size: [30], a: -2, b: 0.5, seed: 9 }],
      ["ri", "randint", { low: -3, high: 9, size: [2, 5], seed: 10 }],
      ["rp", "randperm", { n: 12, seed: 11 }],
      ["ls64", "linspace", { start: 0, end: 1, steps: 7, dtype: "float64" }],
      ["ls", "linspace", { start: -3, end: 0.7, steps: 101 }],
      ["ar", "arange", { start: 0, end: 10, step: 3 }],
      ["arf", "arange", { start: 0, end: 1, step: 0.1 }],
      ["z", "zeros", { size: [2, 2], dtype: "int32" }],
      ["o", "ones", { size: [3], dtype: "float64" }],
      ["f", "full", { size: [2], fill_value: -2.5 }],
      ["h", "tensor", { data: [0.1, 1e-5, 65504, -0.3333], dtype: "float16" }],
      ["flags", "tensor", { data: [true, false, true] }],
      ["manyflags", "tensor", { data: values(80, 3).map((v) => v > 0) }],
      [
        "i32",
        "tensor",
        {
          data: [
            [1, -2],
            [3, 4],
          ],
          dtype: "int32",
        },
      ],
      ["big64", "tensor", { data: values(90, 4).map((v) => Math.round(v * 1e6)) }],
      ["tiny", "tensor", { data: [1e-30, 3.4e38, -0, 0.1 + 0.2], dtype: "float32" }],
      ["exact", "tensor", { data: [0.1 + 0.2, 1 / 3], dtype: "float64" }],
      ["empty", "tensor", { data: [], dtype: "int64" }],
    ],
    [],
  );
  // The grad node's backward fills the leaves' .grad too; eval's gradients must not add to it (gradwire clears them).
  const gradThenObjective = graph(
    "A grad node upstream of the objective's gradients",
    [
      ["w", "tensor", { data: [2, 3], dtype: "float32", requires_grad: true }],
      ["x", "tensor", { data: [1, 4], dtype: "float32", requires_grad: true }],
      ["p", "mul"],
      ["loss", "sum"],
      ["g", "grad", { repeat: 2 }],
    ],
    [
      ["w", "p", "input"],
      ["x", "p", "other"],
      ["p", "loss", "input"],
      ["loss", "g", "outputs"],
      ["x", "g", "inputs"],
    ],
    { objective: "loss" },
  );
  const empty = graph(
    "Tensors with no elements keep their shape",
    [
      ["r", "randn", { size: [0, 3] }],
      ["s", "sum", { dim: [0] }],
      ["z", "zeros", { size: [2, 0] }],
      ["b", "tensor", { data: [[], []], dtype: "bool" }],
    ],
    [["r", "s", "input"]],
  );
  const datasets = graph(
    "Data sets: toy sets from torch's generator, the bundled ones, random_split",
    [
      ["moons", "make_moons", { n_samples: 30, noise: 0.1, seed: 1 }],
      ["circles", "make_circles", { n_samples: 21, noise: 0.05, factor: 0.4, seed: 2, dtype: "float64" }],
      ["blobs", "make_blobs", { n_samples: 12, centers: 3, n_features: 3, cluster_std: 0.5, seed: 3 }],
      ["reg", "make_regression", { n_samples: 10, n_features: 2, noise: 0.2, bias: 1, seed: 4 }],
      ["spiral", "spirals", { n_samples: 17, classes: 3, noise: 0.2, seed: 5 }],
      ["xr", "xor", { n_samples: 16, noise: 0.05, seed: 6 }],
      ["iris", "iris"],
      ["digits", "digits", { dtype: "float64" }],
      ["split", "random_split", { lengths: [0.6, 0.25, 0.15], seed: 7 }],
      ["split2", "random_split", { lengths: [1000, 797], seed: 8 }],
      [
        "table",
        "csv",
        {
          content: "a,kind,b,label\n1.5,x,-2,cat\n2.5,y,0.25,dog\n\n-1,x,3e2,cat\n0.1,z,4,bird\n",
          categorical: [1],
          target_type: "class_index",
          standardize: true,
          dtype: "float64",
        },
      ],
      ["numbers", "csv", { content: "1,2,3\n4,5,6\n7,8,9.5\n", features: [2, 0], target: 1 }],
    ],
    [
      ["iris", "split", "X", "X"],
      ["iris", "split", "y", "y"],
      ["digits", "split2", "X", "X"],
      ["digits", "split2", "y", "y"],
    ],
  );
  const moonsTraining = graph(
    "Training on a random_split of make_moons",
    [
      ["moons", "make_moons", { n_samples: 64, noise: 0.2, seed: 0 }],
      ["split", "random_split", { lengths: [0.75, 0.25], seed: 0 }],
      ["W", "randn", { size: [2, 2], seed: 1, requires_grad: true }],
      ["logits", "linear"],
      ["loss", "cross_entropy"],
      ["opt", "SGD", { lr: 0.5 }],
    ],
    [
      ["moons", "split", "X", "X"],
      ["moons", "split", "y", "y"],
      ["split", "logits", "input", "train_X"],
      ["W", "logits", "weight"],
      ["logits", "loss", "input"],
      ["split", "loss", "target", "train_y"],
      ["loss", "opt", "loss"],
    ],
    { objective: "loss" },
  );
  const linearLayers = graph(
    "nn.Linear layers initialised from seeds, trained with Adam on make_blobs",
    [
      ["blobs", "make_blobs", { n_samples: 60, centers: 3, n_features: 2, seed: 2 }],
      ["l1", "Linear", { in_features: 2, out_features: 8, seed: 0 }],
      ["act", "tanh"],
      ["l2", "Linear", { in_features: 8, out_features: 3, seed: 1, bias: false }],
      ["blobs64", "make_blobs", { n_samples: 5, centers: 2, n_features: 2, seed: 4, dtype: "float64" }],
      ["l3", "Linear", { in_features: 2, out_features: 1, seed: 3, dtype: "float64" }],
      ["loss", "cross_entropy"],
      ["opt", "Adam", { lr: 0.05 }],
    ],
    [
      ["blobs", "l1", "input", "X"],
      ["l1", "act", "input"],
      ["act", "l2", "input"],
      ["l2", "loss", "input"],
      ["blobs", "loss", "target", "y"],
      ["loss", "opt", "loss"],
      ["blobs64", "l3", "input", "X"],
    ],
    { objective: "loss" },
  );
  const X = [
    [0.5, -1.25, 2],
    [-0.75, 1.5, 0.25],
  ];
  const moreLosses = graph(
    "The rest of torch.nn.functional's losses",
    [
      ["x", "tensor", { data: X, requires_grad: true }],
      [
        "y",
        "tensor",
        {
          data: [
            [0.4, -1.0, 1.5],
            [0.2, 0.6, 0.3],
          ],
          requires_grad: true,
        },
      ],
      [
        "z",
        "tensor",
        {
          data: [
            [1.5, 0.2, 0.5],
            [0.3, 0.4, -0.1],
          ],
        },
      ],
      [
        "counts",
        "tensor",
        {
          data: [
            [1, 0, 3],
            [2, 5, 0],
          ],
          dtype: "float32",
        },
      ],
      ["var", "tensor", { data: [0.5, 2], requires_grad: true }],
      [
        "pm",
        "tensor",
        {
          data: [
            [1, -1, 1],
            [-1, -1, 1],
          ],
          dtype: "float32",
        },
      ],
      [
        "labels",
        "tensor",
        {
          data: [
            [1, 0, 1],
            [0, 0, 1],
          ],
          dtype: "float32",
        },
      ],
      [
        "multi",
        "tensor",
        {
          data: [
            [2, 0, -1],
            [1, -1, 0],
          ],
        },
      ],
      ["cls", "tensor", { data: [2, 0] }],
      ["pair", "tensor", { data: [1, -1], dtype: "float32" }],
      ["poisson", "poisson_nll_loss", { full: true }],
      ["gauss", "gaussian_nll_loss", { reduction: "sum" }],
      ["ranking", "margin_ranking_loss", { margin: 0.5 }],
      ["hinge", "hinge_embedding_loss", { margin: 2 }],
      ["soft", "soft_margin_loss", { reduction: "none" }],
      ["mlsoft", "multilabel_soft_margin_loss"],
      ["mlmargin", "multilabel_margin_loss"],
      ["mmargin", "multi_margin_loss", { p: 2, margin: 0.5 }],
      ["cosine", "cosine_embedding_loss", { margin: 0.1 }],
      ["triplet", "triplet_margin_loss", { swap: true }],
    ],
    [
      ["x", "poisson", "input"],
      ["counts", "poisson", "target"],
      ["x", "gauss", "input"],
      ["y", "gauss", "target"],
      ["var", "gauss", "var"],
      ["x", "ranking", "input1"],
      ["y", "ranking", "input2"],
      ["pm", "ranking", "target"],
      ["x", "hinge", "input"],
      ["pm", "hinge", "target"],
      ["x", "soft", "input"],
      ["pm", "soft", "target"],
      ["x", "mlsoft", "input"],
      ["labels", "mlsoft", "target"],
      ["x", "mlmargin", "input"],
      ["multi", "mlmargin", "target"],
      ["x", "mmargin", "input"],
      ["cls", "mmargin", "target"],
      ["x", "cosine", "input1"],
      ["y", "cosine", "input2"],
      ["pair", "cosine", "target"],
      ["x", "triplet", "anchor"],
      ["y", "triplet", "positive"],
      ["z", "triplet", "negative"],
    ],
    { objective: "triplet" },
  );
  return [ops, tools, data, gradThenObjective, empty, moreLosses, datasets, moonsTraining, linearLayers];
}

/** Convolution and pooling layers trained end to end. */
function convolutions(): Generated {
  return graph(
    "A CNN on digits: Conv2d, max_pool2d, a grouped conv2d, avg_pool2d, adaptive_avg_pool2d, Linear, Adam",
    [
      ["digits", "digits"],
      ["split", "random_split", { lengths: [0.05, 0.95], seed: 0 }],
      ["images", "unflatten", { dim: 1, sizes: [1, 8, 8] }],
      ["conv", "Conv2d", { in_channels: 1, out_channels: 4, kernel_size: 3, padding: "1", seed: 0 }],
      ["act", "relu"],
      ["pool", "max_pool2d", { kernel_size: 2 }],
      ["W", "randn", { size: [4, 2, 2, 2], seed: 1, requires_grad: true }],
      ["grouped", "conv2d", { groups: 2 }],
      ["avg", "avg_pool2d", { kernel_size: 2, stride: 1, padding: 1, count_include_pad: false }],
      ["adaptive", "adaptive_avg_pool2d", { output_size: "(2, None)" }],
      ["flat", "flatten", { start_dim: 1 }],
      ["fc", "Linear", { in_features: 32, out_features: 10, seed: 2 }],
      ["loss", "cross_entropy"],
      ["opt", "Adam", { lr: 0.01 }],
    ],
    [
      ["digits", "split", "X", "X"],
      ["digits", "split", "y", "y"],
      ["split", "images", "input", "train_X"],
      ["images", "conv", "input"],
      ["conv", "act", "input"],
      ["act", "pool", "input"],
      ["pool", "grouped", "input"],
      ["W", "grouped", "weight"],
      ["grouped", "avg", "input"],
      ["avg", "adaptive", "input"],
      ["adaptive", "flat", "input"],
      ["flat", "fc", "input"],
      ["fc", "loss", "input"],
      ["split", "loss", "target", "train_y"],
      ["loss", "opt", "loss"],
    ],
    { objective: "loss" },
  );
}

/**
 * Normalisation, dropout and embedding modules in one training loop (their state persists across epochs), in
 * float64: in float32 the composed kernels' rounding (an ulp or so per op) grows past the comparison's 1e-4 over
 * a hundred momentum steps through batch norm.
 */
function normModules(): Generated {
  return graph(
    "BatchNorm1d, Dropout, LayerNorm and Embedding modules trained with SGD on make_blobs (float64)",
    [
      ["blobs", "make_blobs", { n_samples: 40, centers: 3, n_features: 2, seed: 5, dtype: "float64" }],
      ["l1", "Linear", { in_features: 2, out_features: 6, seed: 0, dtype: "float64" }],
      ["bn", "BatchNorm1d", { num_features: 6, momentum: null, dtype: "float64" }],
      ["act", "relu"],
      ["drop", "Dropout", { p: 0.25, seed: 3 }],
      ["ln", "LayerNorm", { normalized_shape: [6], dtype: "float64" }],
      ["l2", "Linear", { in_features: 6, out_features: 3, seed: 1, dtype: "float64" }],
      ["ce", "cross_entropy"],
      [
        "idx",
        "tensor",
        {
          data: [
            [0, 1, 2],
            [3, 1, 4],
          ],
          dtype: "int64",
        },
      ],
      [
        "emb",
        "Embedding",
        { num_embeddings: 5, embedding_dim: 4, padding_idx: 0, seed: 1, dtype: "float64" },
      ],
      ["sq", "pow", { exponent: 2 }],
      ["embloss", "mean"],
      ["loss", "add"],
      ["opt", "SGD", { lr: 0.1, momentum: 0.5 }],
    ],
    [
      ["blobs", "l1", "input", "X"],
      ["l1", "bn", "input"],
      ["bn", "act", "input"],
      ["act", "drop", "input"],
      ["drop", "ln", "input"],
      ["ln", "l2", "input"],
      ["l2", "ce", "input"],
      ["blobs", "ce", "target", "y"],
      ["idx", "emb", "input"],
      ["emb", "sq", "input"],
      ["sq", "embloss", "input"],
      ["ce", "loss", "input"],
      ["embloss", "loss", "other"],
      ["loss", "opt", "loss"],
    ],
    { objective: "loss" },
  );
}

export function trainGraphs(): Generated[] {
  return [
    ...regressions(),
    ...scheduled(),
    ...classifiers(),
    ...generatorsAndMore(),
    normModules(),
    ...awkwardText(),
    convolutions(),
  ];
}

export { evalGraphs };
