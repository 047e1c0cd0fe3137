/** Losses with torch.nn.functional's names, arguments and defaults. */
import {
  applyFunction,
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  fmtShape,
  fromFlat,
  huberLoss,
  isFloating,
  isIntegral,
  klDiv,
  LossError,
  l1Loss,
  mseLoss,
  nllLoss,
  ops as O,
  REDUCTIONS,
  sameShape,
  smoothL1Loss,
  type Tensor,
} from "../runtime/index.ts";
import { inputPort, reductionParam } from "./common.ts";
import { pyArgs, pyKwargs } from "./python.ts";
import { defineKind } from "./registry.ts";
import { CLASS_WEIGHTS, CLASSES, DISTRIBUTION, LABELS, LOG_PROBS, PROBS, X, Y } from "./sample-values.ts";
import { broadcastPorts, meta, promoteMeta, req, requireFloat, sameShapeOr } from "./shapes.ts";
import {
  type EvalContext,
  type InferContext,
  InferError,
  type KindSample,
  type LintContext,
  type LintWarning,
  type NodeKind,
  type ParamDecl,
  type ParamReader,
  type PortDecl,
  type TensorMeta,
  type TorchContext,
} from "./types.ts";

const targetPort = (help: string, dtype: PortDecl["dtype"] = "any"): PortDecl => ({
  name: "target",
  dtype,
  help,
});
const weightPort = (help: string): PortDecl => ({ name: "weight", dtype: "float", optional: true, help });

const ignoreIndex: ParamDecl = {
  name: "ignore_index",
  type: "number",
  integer: true,
  default: -100,
  help: "targets with this class index add nothing to the loss",
};

/** The loss's shape: the per-element shape for 'none', a scalar otherwise. */
function reduced(p: ParamReader, shape: number[], dtype: TensorMeta["dtype"]): TensorMeta {
  return meta(p.str("reduction") === "none" ? shape : [], dtype);
}

/** torch warns when a regression target's size differs from the input's: the broadcast is rarely meant. */
function sizeWarning(ctx: LintContext): LintWarning[] {
  const a = ctx.inputs.input;
  const b = ctx.inputs.target;
  if (!a || !b || fmtShape(a.shape) === fmtShape(b.shape)) return [];
  return [
    {
      port: "target",
      message: `target size ${fmtShape(b.shape)} differs from input size ${fmtShape(a.shape)}: PyTorch broadcasts them (with a warning), which is likely not what you want`,
    },
  ];
}

/**
 * `F.<type>(<required tensor ports>, <optional ones as keywords when connected>, <params that differ from
 * torch's defaults>)`: the ports in the declaration's order (torch's), then every param (their defaults are
 * torch's).
 */
function lossCall(decl: Pick<NodeKind, "type" | "inputs" | "params">) {
  return (c: TorchContext): string[] => [
    `${c.out} = F.${decl.type}(${pyArgs(
      ...decl.inputs.filter((p) => !p.optional).map((p) => c.inputs[p.name]!),
      ...decl.inputs
        .filter((p) => p.optional)
        .map((p) => (c.inputs[p.name] ? `${p.name}=${c.inputs[p.name]}` : "")),
      pyKwargs(decl.params.map((d) => [d.name, c.params.raw(d.name), d.default])),
    )})`,
  ];
}

/** A loss kind: family and PyTorch code follow from the declaration. */
function lossKind(decl: Omit<NodeKind, "family" | "torch">): NodeKind {
  return defineKind({ ...decl, family: "Losses", torch: lossCall(decl) });
}

/** X against Y with the defaults, a broadcast target, and one sample with other params. */
function regressionSamples(params: KindSample["params"]): KindSample[] {
  return [
    { inputs: { input: X, target: Y } },
    { name: "broadcast target", inputs: { input: X, target: [0.5, -2.0, 1.75] } },
    { name: JSON.stringify(params), inputs: { input: X, target: Y }, params },
  ];
}

/** Elementwise regression losses: l1, mse, smooth_l1 (beta), huber (delta). */
function regressionKind(
  type: string,
  description: string,
  extra: ParamDecl[],
  run: (input: Tensor, target: Tensor, p: ParamReader) => Tensor,
  samples: KindSample[],
): NodeKind {
  return lossKind({
    type,
    description,
    inputs: [inputPort("the prediction"), targetPort("the true values, same shape as input")],
    params: [reductionParam(), ...extra],
    infer(ctx) {
      const a = req(ctx, "input");
      const b = req(ctx, "target");
      const shape = broadcastPorts(type, [
        ["input", a],
        ["target", b],
      ]);
      return reduced(ctx.params, shape, promoteMeta(a, b));
    },
    lint: sizeWarning,
    evaluate: (c) => run(c.inputs.input!, c.inputs.target!, c.params),
    samples,
  });
}

const bce = lossKind({
  type: "binary_cross_entropy",
  description:
    "Binary cross entropy of probabilities in [0, 1] (apply a sigmoid first), like F.binary_cross_entropy",
  inputs: [
    inputPort("probabilities in [0, 1]", "float"),
    targetPort("0/1 labels (or soft labels), same shape as input", "float"),
    weightPort("rescales each element's loss, optional"),
  ],
  params: [reductionParam()],
  infer(ctx) {
    const a = req(ctx, "input");
    const b = req(ctx, "target");
    sameShapeOr("target", a, b, "binary_cross_entropy needs a target of the input's size");
    if (ctx.inputs.weight)
      broadcastPorts("weight", [
        ["input", a],
        ["weight", ctx.inputs.weight],
      ]);
    return reduced(ctx.params, a.shape, a.dtype);
  },
  evaluate: (c) =>
    binaryCrossEntropy(c.inputs.input!, c.inputs.target!, {
      weight: c.inputs.weight ?? null,
      reduction: c.params.str("reduction"),
    }),
  samples: [
    { inputs: { input: PROBS, target: LABELS } },
    {
      name: "soft labels, weight, none",
      inputs: { input: PROBS, target: DISTRIBUTION, weight: CLASS_WEIGHTS },
      params: { reduction: "none" },
    },
  ],
});

const bceLogits = lossKind({
  type: "binary_cross_entropy_with_logits",
  description: "Sigmoid + binary cross entropy in one stable step, on raw scores (logits)",
  inputs: [
    inputPort("logits (raw scores)", "float"),
    targetPort("0/1 labels (or soft labels), same shape as input"),
    weightPort("rescales each element's loss, optional"),
    {
      name: "pos_weight",
      dtype: "float",
      optional: true,
      help: "weight of positive examples, per class, optional",
    },
  ],
  params: [reductionParam()],
  infer(ctx) {
    const a = req(ctx, "input");
    const b = req(ctx, "target");
    sameShapeOr("target", a, b, "binary_cross_entropy_with_logits needs a target of the input's size");
    for (const port of ["weight", "pos_weight"]) {
      const m = ctx.inputs[port];
      if (m)
        broadcastPorts(port, [
          ["input", a],
          [port, m],
        ]);
    }
    return reduced(ctx.params, a.shape, a.dtype);
  },
  evaluate: (c) =>
    binaryCrossEntropyWithLogits(c.inputs.input!, c.inputs.target!, {
      weight: c.inputs.weight ?? null,
      pos_weight: c.inputs.pos_weight ?? null,
      reduction: c.params.str("reduction"),
    }),
  samples: [
    { inputs: { input: X, target: LABELS } },
    {
      name: "weight, pos_weight, sum",
      inputs: { input: X, target: DISTRIBUTION, weight: CLASS_WEIGHTS, pos_weight: [2.0, 0.5, 1.5] },
      params: { reduction: "sum" },
    },
  ],
});

/** Checks (N, C, d1...) scores against (N, d1...) class indices; returns the per-sample shape. */
function classTargets(input: TensorMeta, target: TensorMeta, weight: TensorMeta | undefined): number[] {
  if (input.shape.length === 0)
    throw new InferError("expected scores of shape (C) or (N, C), got a 0-d tensor", "input");
  const cd = input.shape.length === 1 ? 0 : 1;
  const expected = input.shape.filter((_, i) => i !== cd);
  if (target.shape.length !== expected.length || target.shape.some((d, i) => d !== expected[i]))
    throw new InferError(
      `expected class indices of shape ${fmtShape(expected)} for scores of shape ${fmtShape(input.shape)}, got ${fmtShape(target.shape)}`,
      "target",
    );
  const C = input.shape[cd];
  if (weight && (weight.shape.length !== 1 || weight.shape[0] !== C))
    throw new InferError(
      `expected one weight per class, shape [${C}], got ${fmtShape(weight.shape)}`,
      "weight",
    );
  return expected;
}

const nll = lossKind({
  type: "nll_loss",
  description: "Negative log likelihood of class indices, given log-probabilities (from log_softmax)",
  inputs: [
    inputPort("log-probabilities (N, C), from log_softmax", "float"),
    targetPort("class indices (N), int64", "integer"),
    weightPort("one weight per class (C), optional"),
  ],
  params: [ignoreIndex, reductionParam()],
  infer(ctx) {
    const a = req(ctx, "input");
    const per = classTargets(a, req(ctx, "target"), ctx.inputs.weight);
    return reduced(ctx.params, per, a.dtype);
  },
  lint(ctx) {
    const src = ctx.sourceType("input");
    if (src === undefined || src === "log_softmax") return [];
    return [
      {
        port: "input",
        message: `nll_loss expects log-probabilities, but its input comes from a '${src}' node, not a log_softmax: PyTorch gives a wrong loss here with no error (feed it log_softmax(dim=1), or use cross_entropy on the raw scores)`,
      },
    ];
  },
  evaluate: (c) =>
    nllLoss(c.inputs.input!, c.inputs.target!, {
      weight: c.inputs.weight ?? null,
      ignore_index: c.params.num("ignore_index"),
      reduction: c.params.str("reduction"),
    }),
  samples: [
    { inputs: { input: LOG_PROBS, target: CLASSES } },
    {
      name: "weight, ignore_index, sum",
      inputs: { input: LOG_PROBS, target: CLASSES, weight: CLASS_WEIGHTS },
      params: { ignore_index: 0, reduction: "sum" },
    },
    {
      name: "weight, none",
      inputs: { input: LOG_PROBS, target: CLASSES, weight: CLASS_WEIGHTS },
      params: { reduction: "none" },
    },
  ],
});

const crossEntropyKind = lossKind({
  type: "cross_entropy",
  description: "log_softmax + nll_loss on raw scores, for class indices or class probabilities",
  inputs: [
    inputPort("raw scores (logits) (N, C)", "float"),
    targetPort("class indices (N) as int64, or class probabilities (N, C)"),
    weightPort("one weight per class (C), optional"),
  ],
  params: [
    ignoreIndex,
    reductionParam(),
    {
      name: "label_smoothing",
      type: "number",
      default: 0,
      min: 0,
      max: 1,
      step: 0.05,
      help: "mix this much of the uniform distribution into the targets",
    },
  ],
  infer(ctx) {
    const a = req(ctx, "input");
    const t = req(ctx, "target");
    if (isFloating(t.dtype)) {
      sameShapeOr("target", a, t, "class-probability targets need the input's shape");
      const cd = a.shape.length === 1 ? 0 : 1;
      const w = ctx.inputs.weight;
      if (w && (w.shape.length !== 1 || w.shape[0] !== a.shape[cd]))
        throw new InferError(
          `expected one weight per class, shape [${a.shape[cd]}], got ${fmtShape(w.shape)}`,
          "weight",
        );
      return reduced(
        ctx.params,
        a.shape.filter((_, i) => i !== cd),
        a.dtype,
      );
    }
    if (!isIntegral(t.dtype))
      throw new InferError(
        `expected class indices (int64) or probabilities (float), got ${t.dtype}`,
        "target",
      );
    return reduced(ctx.params, classTargets(a, t, ctx.inputs.weight), a.dtype);
  },
  lint(ctx) {
    const src = ctx.sourceType("input");
    if (src !== "softmax" && src !== "log_softmax") return [];
    return [
      {
        port: "input",
        message: `cross_entropy applies log_softmax itself, but its input already comes from a '${src}' node: feed it the raw scores`,
      },
    ];
  },
  evaluate: (c) =>
    crossEntropy(c.inputs.input!, c.inputs.target!, {
      weight: c.inputs.weight ?? null,
      ignore_index: c.params.num("ignore_index"),
      reduction: c.params.str("reduction"),
      label_smoothing: c.params.num("label_smoothing"),
    }),
  samples: [
    { inputs: { input: X, target: CLASSES } },
    { name: "label_smoothing", inputs: { input: X, target: CLASSES }, params: { label_smoothing: 0.2 } },
    {
      name: "weight, none",
      inputs: { input: X, target: CLASSES, weight: CLASS_WEIGHTS },
      params: { reduction: "none" },
    },
    { name: "probabilities", inputs: { input: X, target: DISTRIBUTION } },
    {
      name: "probabilities, weight, smoothing, sum",
      inputs: { input: X, target: DISTRIBUTION, weight: CLASS_WEIGHTS },
      params: { label_smoothing: 0.1, reduction: "sum" },
    },
  ],
});

const kl = lossKind({
  type: "kl_div",
  description: "Kullback-Leibler divergence; input is log-probabilities, like F.kl_div",
  inputs: [
    inputPort("log-probabilities", "float"),
    targetPort("probabilities (log-probabilities with log_target)"),
  ],
  params: [
    reductionParam([...REDUCTIONS, "batchmean"]),
    { name: "log_target", type: "boolean", default: false, help: "the target is given as log-probabilities" },
  ],
  infer(ctx) {
    const a = req(ctx, "input");
    const b = req(ctx, "target");
    requireFloat(a, "input", "kl_div");
    const shape = broadcastPorts("kl_div", [
      ["input", a],
      ["target", b],
    ]);
    return reduced(ctx.params, shape, promoteMeta(a, b));
  },
  evaluate: (c: EvalContext) =>
    klDiv(c.inputs.input!, c.inputs.target!, {
      reduction: c.params.str("reduction"),
      log_target: c.params.bool("log_target"),
    }),
  samples: [
    { inputs: { input: LOG_PROBS, target: DISTRIBUTION } },
    {
      name: "batchmean",
      inputs: { input: LOG_PROBS, target: DISTRIBUTION },
      params: { reduction: "batchmean" },
    },
    {
      name: "log_target, sum",
      inputs: { input: LOG_PROBS, target: LOG_PROBS },
      params: { log_target: true, reduction: "sum" },
    },
  ],
});

// ---- the rest of torch.nn.functional's losses: each one declaration, composed of runtime ops ----------------
// Each is the composition torch itself computes (ATen's composite losses, or the formula of its own kernel),
// so autograd gives torch's gradient, the WebGPU backend compiles the traced ops, and the exporter calls F.<type>.

/** torch's apply_loss_reduction: 'none' keeps the per-element losses, 'mean' and 'sum' reduce them all. */
function applyReduction(loss: Tensor, p: ParamReader): Tensor {
  const r = p.str("reduction");
  return r === "sum" ? O.sum(loss) : r === "mean" ? O.mean(loss) : loss;
}

const port = (name: string, help: string, dtype: PortDecl["dtype"] = "float"): PortDecl => ({
  name,
  dtype,
  help,
});

const marginParam = (
  def: number,
  help = "how far apart the scores must be before the loss is zero",
): ParamDecl => ({
  name: "margin",
  type: "number",
  default: def,
  help,
});

/** Broadcast elementwise ports and return the loss meta (per-element for 'none'). */
function elementwiseLoss(ctx: InferContext, type: string, ports: string[], dims?: "same"): TensorMeta {
  const metas = ports.map((p): [string, TensorMeta] => [p, req(ctx, p)]);
  if (dims === "same") {
    const rank = metas[0][1].shape.length;
    const bad = metas.find(([, m]) => m.shape.length !== rank);
    if (bad)
      throw new InferError(
        `${type} needs inputs with the same number of dimensions, got ${metas.map(([p, m]) => `${p} ${fmtShape(m.shape)}`).join(", ")}`,
        bad[0],
      );
  }
  const shape = broadcastPorts(type, metas);
  return reduced(ctx.params, shape, promoteMeta(...metas.map(([, m]) => m)));
}

/** The class-score input as (N, C) and the sample count, for losses that take (C) or (N, C) scores. */
function scoreRows(x: Tensor): Tensor {
  return x.ndim === 1 ? O.unsqueeze(x, 0) : x;
}

function scoresMeta(what: string, m: TensorMeta): void {
  if (m.shape.length !== 1 && m.shape.length !== 2)
    throw new InferError(`${what} expects scores of shape (C) or (N, C), got ${fmtShape(m.shape)}`, "input");
  if (m.shape.includes(0))
    throw new InferError(`${what} expects a non-empty vector or matrix, got ${fmtShape(m.shape)}`, "input");
}

/** A constant tensor of 0/1 values (host data: targets are never differentiated). */
function mask(values: ArrayLike<number>, shape: number[], dtype: Tensor["dtype"]): Tensor {
  return fromFlat(values, shape, dtype);
}

/**
 * gaussian_nll_loss clamps var at eps under no_grad on a clone: the value is clamped, the gradient passes to
 * var as if it were not (torch's in-place clamp records nothing).
 */
const clampKeepingGrad = (eps: number) => ({
  name: "ClampNoGrad",
  forward: (_: unknown, v: Tensor) => O.clamp(v, eps),
  backward: (_: unknown, g: Tensor) => [g],
});

const poissonNll = lossKind({
  type: "poisson_nll_loss",
  description: "Negative log likelihood of a Poisson target given its (log) rate, like F.poisson_nll_loss",
  inputs: [
    inputPort("the rate's log (log_input) or the rate", "float"),
    targetPort("counts drawn from Poisson(rate)"),
  ],
  params: [
    {
      name: "log_input",
      type: "boolean",
      default: true,
      help: "input is the log of the rate: exp(input) - target * input",
    },
    { name: "full", type: "boolean", default: false, help: "add the Stirling approximation term" },
    {
      name: "eps",
      type: "number",
      default: 1e-8,
      min: 0,
      help: "added to the rate inside log when log_input is off",
    },
    reductionParam(),
  ],
  infer: (ctx) => elementwiseLoss(ctx, "poisson_nll_loss", ["input", "target"]),
  evaluate(c) {
    const x = c.inputs.input!;
    const t = c.inputs.target!;
    const p = c.params;
    let loss = p.bool("log_input")
      ? O.sub(O.exp(x), O.mul(t, x))
      : O.sub(x, O.mul(t, O.log(O.add(x, p.num("eps")))));
    if (p.bool("full")) {
      // t log t - t + 0.5 log(2 pi t), zero where t <= 1 (torch's masked_fill).
      const stirling = O.add(O.sub(O.mul(t, O.log(t)), t), O.mul(O.log(O.mul(t, 2 * Math.PI)), 0.5));
      loss = O.add(loss, O.where(O.le(t, 1), 0, stirling));
    }
    return applyReduction(loss, p);
  },
  samples: [
    {
      inputs: {
        input: [
          [0.5, -1.2, 2.0],
          [0.1, 0.7, -0.3],
        ],
        target: [
          [1, 0, 3],
          [2, 5, 0],
        ],
      },
    },
    {
      name: "rates, full, sum",
      inputs: { input: [0.5, 1.5, 3.0, 0.25], target: [0, 2, 4, 1] },
      params: { log_input: false, full: true, reduction: "sum" },
    },
    {
      name: "none",
      inputs: { input: [0.3, -0.4], target: [2.0, 3.0] },
      params: { full: true, reduction: "none" },
    },
  ],
});

const gaussianNll = lossKind({
  type: "gaussian_nll_loss",
  description:
    "Negative log likelihood of a Gaussian target given its mean and variance, like F.gaussian_nll_loss",
  inputs: [
    inputPort("the expected values (means)", "float"),
    targetPort("samples from the Gaussian"),
    port(
      "var",
      "the variances: input's shape, or one per sample (input's shape without its last dim, or with it 1)",
    ),
  ],
  params: [
    { name: "full", type: "boolean", default: false, help: "add the constant 0.5 log(2 pi)" },
    {
      name: "eps",
      type: "number",
      default: 1e-6,
      min: 0,
      help: "var is clamped at this value, for stability",
    },
    reductionParam(),
  ],
  infer(ctx) {
    const a = req(ctx, "input");
    const v = req(ctx, "var");
    const lead = a.shape.slice(0, -1);
    const vs = v.shape;
    if (
      !sameShape(vs, a.shape) &&
      !sameShape(vs, lead) &&
      !(sameShape(vs.slice(0, -1), lead) && vs[vs.length - 1] === 1)
    )
      throw new InferError(
        `var is of incorrect size: expected ${fmtShape(a.shape)}, ${fmtShape(lead)} or ${fmtShape([...lead, 1])}, got ${fmtShape(vs)}`,
        "var",
      );
    const shape = broadcastPorts("gaussian_nll_loss", [
      ["input", a],
      ["target", req(ctx, "target")],
      ["var", { ...v, shape: sameShape(vs, lead) && !sameShape(vs, a.shape) ? [...vs, 1] : vs }],
    ]);
    return reduced(ctx.params, shape, promoteMeta(a, req(ctx, "target"), v));
  },
  evaluate(c) {
    const x = c.inputs.input!;
    let v = c.inputs.var!;
    const p = c.params;
    const lead = x.shape.slice(0, -1);
    if (!sameShape(v.shape, x.shape)) {
      if (sameShape(v.shape, lead)) v = O.unsqueeze(v, -1);
      else if (!(sameShape(v.shape.slice(0, -1), lead) && v.shape[v.ndim - 1] === 1))
        throw new LossError("gaussian_nll_loss: var is of incorrect size");
    }
    for (let i = 0; i < v.numel; i++)
      if (v.data[i] < 0) throw new LossError("gaussian_nll_loss: var has negative entry/entries");
    const vc = applyFunction(clampKeepingGrad(p.num("eps")), v);
    let loss = O.mul(O.add(O.log(vc), O.div(O.pow(O.sub(x, c.inputs.target!), 2), vc)), 0.5);
    if (p.bool("full")) loss = O.add(loss, 0.5 * Math.log(2 * Math.PI));
    return applyReduction(loss, p);
  },
  samples: [
    {
      inputs: {
        input: [
          [0.5, -1.2],
          [0.1, 0.7],
          [2.0, -0.3],
        ],
        target: [
          [1, 0],
          [0.2, 0.5],
          [1.5, 0],
        ],
        var: [
          [0.5, 2],
          [1, 0.25],
          [3, 1],
        ],
      },
    },
    {
      name: "one var per sample, full, sum",
      inputs: {
        input: [
          [0.5, -1.2],
          [0.1, 0.7],
        ],
        target: [
          [1, 0],
          [0.2, 0.5],
        ],
        var: [0.5, 1e-7],
      },
      params: { full: true, reduction: "sum" },
    },
    {
      name: "var (N, 1), none",
      inputs: {
        input: [
          [0.5, -1.2],
          [0.1, 0.7],
        ],
        target: [
          [1, 0],
          [0.2, 0.5],
        ],
        var: [[0.75], [1.5]],
      },
      params: { reduction: "none", eps: 0.01 },
    },
  ],
});

const marginRanking = lossKind({
  type: "margin_ranking_loss",
  description:
    "max(0, -target (input1 - input2) + margin): input1 should rank above input2 where target is 1",
  inputs: [
    port("input1", "scores of the first items"),
    port("input2", "scores of the second items"),
    targetPort("1 where input1 should rank higher, -1 where input2 should"),
  ],
  params: [marginParam(0), reductionParam()],
  infer: (ctx) => elementwiseLoss(ctx, "margin_ranking_loss", ["input1", "input2", "target"], "same"),
  evaluate(c) {
    const [a, b, t] = [c.inputs.input1!, c.inputs.input2!, c.inputs.target!];
    if (a.ndim !== b.ndim || a.ndim !== t.ndim)
      throw new LossError("margin_ranking_loss: all input tensors should have the same number of dimensions");
    return applyReduction(O.clamp(O.add(O.mul(O.neg(t), O.sub(a, b)), c.params.num("margin")), 0), c.params);
  },
  samples: [
    { inputs: { input1: [0.5, -1.2, 2.0, 0.3], input2: [0.1, 0.7, -0.3, 0.9], target: [1, -1, 1, 1] } },
    {
      name: "margin, none",
      inputs: {
        input1: [
          [0.5, -1.2],
          [2.0, 0.3],
        ],
        input2: [
          [0.1, 0.7],
          [-0.3, 0.9],
        ],
        target: [
          [1, -1],
          [-1, 1],
        ],
      },
      params: { margin: 0.5, reduction: "none" },
    },
  ],
});

const hingeEmbedding = lossKind({
  type: "hinge_embedding_loss",
  description: "input where target is 1, max(0, margin - input) where it is -1 (input is often a distance)",
  inputs: [inputPort("distances or scores", "float"), targetPort("1 (similar) or -1 (dissimilar)")],
  params: [marginParam(1, "dissimilar pairs closer than this are penalised"), reductionParam()],
  infer: (ctx) => elementwiseLoss(ctx, "hinge_embedding_loss", ["input", "target"]),
  evaluate(c) {
    const [x, t] = [c.inputs.input!, c.inputs.target!];
    const marginClamp = O.clamp(O.sub(c.params.num("margin"), x), 0);
    const loss = O.add(O.where(O.ne(t, 1), marginClamp, 0), O.where(O.ne(t, -1), x, 0));
    return applyReduction(loss, c.params);
  },
  samples: [
    { inputs: { input: [0.5, 0.7, 2.0, 0.3], target: [1, -1, -1, 1] } },
    {
      name: "margin, sum",
      inputs: {
        input: [
          [0.5, 1.7],
          [2.0, 0.3],
        ],
        target: [
          [-1, -1],
          [1, -1],
        ],
      },
      params: { margin: 2, reduction: "sum" },
    },
  ],
});

const softMargin = lossKind({
  type: "soft_margin_loss",
  description: "Logistic loss log(1 + exp(-target * input)) for targets of 1 or -1, like F.soft_margin_loss",
  inputs: [inputPort("scores", "float"), targetPort("1 or -1")],
  params: [reductionParam()],
  infer: (ctx) => elementwiseLoss(ctx, "soft_margin_loss", ["input", "target"]),
  evaluate: (c) => applyReduction(O.log1p(O.exp(O.mul(O.neg(c.inputs.input!), c.inputs.target!))), c.params),
  samples: [
    {
      inputs: {
        input: [
          [0.5, -1.2, 2.0],
          [0.1, 0.7, -0.3],
        ],
        target: [
          [1, -1, 1],
          [-1, -1, 1],
        ],
      },
    },
    { name: "none", inputs: { input: [0.5, -3.0], target: [-1, 1] }, params: { reduction: "none" } },
  ],
});

const multilabelSoftMargin = lossKind({
  type: "multilabel_soft_margin_loss",
  description: "One-versus-all logistic loss per class, averaged over the classes (last dim)",
  inputs: [
    inputPort("scores (N, C)", "float"),
    targetPort("0/1 labels, input's shape"),
    weightPort("one weight per class (C), optional"),
  ],
  params: [reductionParam()],
  infer(ctx) {
    const m = elementwiseLoss(ctx, "multilabel_soft_margin_loss", ["input", "target"]);
    const a = req(ctx, "input");
    if (a.shape.length === 0)
      throw new InferError("multilabel_soft_margin_loss needs scores with a class dimension", "input");
    const w = ctx.inputs.weight;
    if (w)
      broadcastPorts("weight", [
        ["input", a],
        ["weight", w],
      ]);
    const shape = broadcastPorts("multilabel_soft_margin_loss", [
      ["input", a],
      ["target", req(ctx, "target")],
    ]);
    return { ...m, shape: ctx.params.str("reduction") === "none" ? shape.slice(0, -1) : [] };
  },
  evaluate(c) {
    const [x, t, w] = [c.inputs.input!, c.inputs.target!, c.inputs.weight];
    let loss = O.neg(O.add(O.mul(t, O.logSigmoid(x)), O.mul(O.sub(1, t), O.logSigmoid(O.neg(x)))));
    if (w) loss = O.mul(loss, w);
    const classDim = x.ndim - 1;
    return applyReduction(O.div(O.sum(loss, classDim), x.shape[classDim]), c.params);
  },
  samples: [
    {
      inputs: {
        input: [
          [0.5, -1.2, 2.0],
          [0.1, 0.7, -0.3],
        ],
        target: [
          [1, 0, 1],
          [0, 0, 1],
        ],
      },
    },
    {
      name: "weight, none",
      inputs: {
        input: [
          [0.5, -1.2, 2.0],
          [0.1, 0.7, -0.3],
        ],
        target: [
          [1, 0, 1],
          [0, 1, 1],
        ],
        weight: [0.5, 2, 1],
      },
      params: { reduction: "none" },
    },
  ],
});

const multilabelMargin = lossKind({
  type: "multilabel_margin_loss",
  description:
    "Multi-class hinge loss with several targets per sample: each target's score should beat every non-target's by 1",
  inputs: [
    inputPort("scores (C) or (N, C)", "float"),
    targetPort(
      "class indices (int64), input's shape, ended by -1 where a sample has fewer targets",
      "integer",
    ),
  ],
  params: [reductionParam()],
  infer(ctx) {
    const a = req(ctx, "input");
    const t = req(ctx, "target");
    scoresMeta("multilabel_margin_loss", a);
    sameShapeOr("target", a, t, "multilabel_margin_loss needs a target of the input's size");
    return reduced(ctx.params, a.shape.length === 1 ? [] : [a.shape[0]], a.dtype);
  },
  evaluate(c) {
    const input = c.inputs.input!;
    const target = c.inputs.target!;
    if (target.dtype !== "int64")
      throw new LossError(`multilabel_margin_loss: expected target of dtype int64, got ${target.dtype}`);
    if (!sameShape(target.shape, input.shape))
      throw new LossError("multilabel_margin_loss: inconsistent target size");
    const x = scoreRows(input);
    const [N, C] = x.shape;
    // Targets are constants: which positions hold a target (before the first -1), and which classes are targets.
    const idx = new Array<number>(N * C).fill(0);
    const isTargetPos = new Array<number>(N * C).fill(0);
    const notTarget = new Array<number>(N * C).fill(1);
    for (let n = 0; n < N; n++)
      for (let j = 0; j < C; j++) {
        const y = target.data[n * C + j];
        if (y < -1 || y >= C)
          throw new LossError(`multilabel_margin_loss: target ${y} is out of bounds (${C} classes)`);
        if (y === -1) break;
        idx[n * C + j] = y;
        isTargetPos[n * C + j] = 1;
        notTarget[n * C + y] = 0;
      }
    // z[n, j, i] = 1 - x[n, y_j] + x[n, i], counted for target positions j and non-target classes i.
    const xy = O.gather(x, 1, mask(idx, [N, C], "int64"));
    const z = O.add(O.sub(1, O.unsqueeze(xy, 2)), O.unsqueeze(x, 1));
    const pairs = O.mul(
      O.unsqueeze(mask(isTargetPos, [N, C], x.dtype), 2),
      O.unsqueeze(mask(notTarget, [N, C], x.dtype), 1),
    );
    let per = O.div(O.sum(O.mul(O.relu(z), pairs), [1, 2]), C);
    if (input.ndim === 1) per = O.reshape(per, []);
    return applyReduction(per, c.params);
  },
  samples: [
    {
      inputs: {
        input: [
          [0.1, 0.2, 0.4, 0.8],
          [0.5, -0.3, 0.9, 0.05],
        ],
        target: [
          [3, 0, -1, 1],
          [1, 2, 0, 3],
        ],
      },
    },
    {
      name: "one sample, none",
      inputs: { input: [0.5, -0.7, 0.2], target: [2, -1, 0] },
      params: { reduction: "none" },
    },
    {
      name: "sum",
      inputs: {
        input: [
          [0.1, 0.6, 0.4],
          [0.5, -0.3, 0.9],
        ],
        target: [
          [1, -1, 2],
          [0, 2, -1],
        ],
      },
      params: { reduction: "sum" },
    },
  ],
});

const multiMargin = lossKind({
  type: "multi_margin_loss",
  description: "Multi-class hinge loss: the target class's score should beat every other class's by margin",
  inputs: [
    inputPort("scores (C) or (N, C)", "float"),
    targetPort("class indices (N) as int64", "integer"),
    weightPort("one weight per class (C), optional"),
  ],
  params: [
    {
      name: "p",
      type: "number",
      integer: true,
      min: 1,
      max: 2,
      default: 1,
      help: "1: hinge, 2: squared hinge",
    },
    marginParam(1),
    reductionParam(),
  ],
  infer(ctx) {
    const a = req(ctx, "input");
    const t = req(ctx, "target");
    scoresMeta("multi_margin_loss", a);
    const N = a.shape.length === 1 ? 1 : a.shape[0];
    const tn = t.shape.reduce((x, y) => x * y, 1);
    if (t.shape.length > 1 || tn !== N)
      throw new InferError(
        `multi_margin_loss expects ${N} class indices, got shape ${fmtShape(t.shape)}`,
        "target",
      );
    const w = ctx.inputs.weight;
    const C = a.shape[a.shape.length - 1];
    if (w && (w.shape.length !== 1 || w.shape[0] !== C))
      throw new InferError(`expected one weight per class, shape [${C}], got ${fmtShape(w.shape)}`, "weight");
    return reduced(ctx.params, a.shape.length === 1 ? t.shape : [N], a.dtype);
  },
  evaluate(c) {
    const input = c.inputs.input!;
    const target = c.inputs.target!;
    const p = c.params.num("p");
    if (p !== 1 && p !== 2) throw new LossError("multi_margin_loss: only p == 1 and p == 2 supported");
    if (target.dtype !== "int64")
      throw new LossError(`multi_margin_loss: expected target of dtype int64, got ${target.dtype}`);
    const x = scoreRows(input);
    const [N, C] = x.shape;
    if (target.numel !== N) throw new LossError("multi_margin_loss: inconsistent target size");
    const w = c.inputs.weight;
    const others = new Array<number>(N * C).fill(1);
    for (let n = 0; n < N; n++) {
      const y = target.data[n];
      if (y < 0 || y >= C)
        throw new LossError(`multi_margin_loss: target ${y} is out of bounds (${C} classes)`);
      others[n * C + y] = 0;
    }
    const rows = O.reshape(target, [N, 1]);
    // max(0, margin - x[y] + x[i]) (squared for p = 2), times w[y] (a constant, as torch gives weight no grad).
    let h = O.relu(O.add(O.sub(c.params.num("margin"), O.gather(x, 1, rows)), x));
    if (p === 2) h = O.pow(h, 2);
    if (w) h = O.mul(h, O.unsqueeze(O.indexSelect(w.detach(), 0, O.reshape(target, [N])), 1));
    let per = O.div(O.sum(O.mul(h, mask(others, [N, C], x.dtype)), 1), C);
    if (input.ndim === 1) per = O.reshape(per, target.shape);
    return applyReduction(per, c.params);
  },
  samples: [
    {
      inputs: {
        input: [
          [0.1, 0.2, 0.4, 0.8],
          [0.5, -0.3, 0.9, 0.05],
        ],
        target: [3, 1],
      },
    },
    {
      name: "p 2, margin, weight, none",
      inputs: {
        input: [
          [0.1, 0.2, 0.4],
          [0.5, -0.3, 0.9],
        ],
        target: [0, 2],
        weight: [0.5, 2, 1.5],
      },
      params: { p: 2, margin: 0.7, reduction: "none" },
    },
    { name: "one sample, sum", inputs: { input: [0.5, -0.7, 0.2], target: 2 }, params: { reduction: "sum" } },
  ],
});

/** torch's EPSILON in cosine_embedding_loss, added to each squared magnitude. */
const COSINE_EPSILON = 1e-12;

const cosineEmbedding = lossKind({
  type: "cosine_embedding_loss",
  description: "1 - cos(input1, input2) where target is 1, max(0, cos - margin) where it is -1",
  inputs: [
    port("input1", "embeddings (N, D), or one (D)"),
    port("input2", "embeddings to compare with, input1's shape"),
    targetPort("1 (similar) or -1 (dissimilar), one per pair: (N), or 0-d for (D) inputs"),
  ],
  params: [marginParam(0, "dissimilar pairs with a cosine above this are penalised"), reductionParam()],
  infer(ctx) {
    const a = req(ctx, "input1");
    const b = req(ctx, "input2");
    const t = req(ctx, "target");
    if (t.shape.length > 1)
      throw new InferError(
        "cosine_embedding_loss expects a 0-d or 1-d target (multi-target is not supported)",
        "target",
      );
    const want = t.shape.length + 1;
    for (const [name, m] of [
      ["input1", a],
      ["input2", b],
    ] as const)
      if (m.shape.length !== want)
        throw new InferError(
          `a ${t.shape.length}-d target expects ${want}-d inputs, got ${fmtShape(m.shape)}`,
          name,
        );
    const shape = broadcastPorts("cosine_embedding_loss", [
      ["input1", a],
      ["input2", b],
    ]).slice(0, -1);
    return reduced(
      ctx.params,
      broadcastPorts("cosine_embedding_loss", [
        ["input1", { ...a, shape }],
        ["target", t],
      ]),
      promoteMeta(a, b),
    );
  },
  evaluate(c) {
    const [a, b, t] = [c.inputs.input1!, c.inputs.input2!, c.inputs.target!];
    const d = t.ndim;
    if (d > 1 || a.ndim !== d + 1 || b.ndim !== d + 1)
      throw new LossError(
        "cosine_embedding_loss: a 0-d target expects 1-d inputs and a 1-d target 2-d inputs",
      );
    const prod = O.sum(O.mul(a, b), d);
    const mag1 = O.add(O.sum(O.mul(a, a), d), COSINE_EPSILON);
    const mag2 = O.add(O.sum(O.mul(b, b), d), COSINE_EPSILON);
    const cos = O.div(prod, O.sqrt(O.mul(mag1, mag2)));
    const pos = O.sub(1, cos);
    const neg = O.clamp(O.sub(cos, c.params.num("margin")), 0);
    return applyReduction(O.add(O.where(O.eq(t, 1), pos, 0), O.where(O.eq(t, -1), neg, 0)), c.params);
  },
  samples: [
    {
      inputs: {
        input1: [
          [0.5, -1.2, 2.0],
          [0.1, 0.7, -0.3],
        ],
        input2: [
          [0.4, 1.0, 1.5],
          [0.2, 0.6, 0.3],
        ],
        target: [1, -1],
      },
    },
    {
      name: "margin, none",
      inputs: {
        input1: [
          [0.5, -1.2, 2.0],
          [0.1, 0.7, -0.3],
        ],
        input2: [
          [0.4, 1.0, 1.5],
          [0.2, 0.6, 0.3],
        ],
        target: [-1, -1],
      },
      params: { margin: 0.2, reduction: "none" },
    },
    { name: "one pair", inputs: { input1: [0.5, -1.2, 2.0], input2: [0.4, 1.0, 1.5], target: 1 } },
  ],
});

const tripletMargin = lossKind({
  type: "triplet_margin_loss",
  description: "max(0, d(anchor, positive) - d(anchor, negative) + margin) with p-norm distances",
  inputs: [
    port("anchor", "anchor embeddings (N, D)"),
    port("positive", "embeddings that should be close to the anchors"),
    port("negative", "embeddings that should be far from the anchors"),
  ],
  params: [
    marginParam(1, "how much farther the negative must be than the positive"),
    { name: "p", type: "number", default: 2, min: 0, exclusiveMin: true, help: "the norm of the distance" },
    {
      name: "eps",
      type: "number",
      default: 1e-6,
      help: "added to the differences, as pairwise_distance does",
    },
    {
      name: "swap",
      type: "boolean",
      default: false,
      help: "use the positive-negative distance when it is smaller",
    },
    reductionParam(),
  ],
  infer(ctx) {
    const ports = ["anchor", "positive", "negative"].map((p): [string, TensorMeta] => [p, req(ctx, p)]);
    const rank = ports[0][1].shape.length;
    const bad = ports.find(([, m]) => m.shape.length !== rank);
    if (bad || rank === 0)
      throw new InferError(
        `triplet_margin_loss needs inputs with the same number of dimensions (at least 1), got ${ports.map(([p, m]) => `${p} ${fmtShape(m.shape)}`).join(", ")}`,
        bad?.[0] ?? "anchor",
      );
    const shape = broadcastPorts("triplet_margin_loss", ports);
    return reduced(ctx.params, shape.slice(0, -1), promoteMeta(...ports.map(([, m]) => m)));
  },
  evaluate(c) {
    const [a, pos, neg] = [c.inputs.anchor!, c.inputs.positive!, c.inputs.negative!];
    if (a.ndim !== pos.ndim || a.ndim !== neg.ndim)
      throw new LossError("triplet_margin_loss: all inputs should have the same number of dimensions");
    const p = c.params.num("p");
    const eps = c.params.num("eps");
    // torch's pairwise_distance: the p-norm of x1 - x2 + eps over the last dim.
    const dist = (x1: Tensor, x2: Tensor) => O.norm(O.add(O.sub(x1, x2), eps), p, -1);
    const dPos = dist(a, pos);
    let dNeg = dist(a, neg);
    if (c.params.bool("swap")) dNeg = O.minimum(dNeg, dist(pos, neg));
    return applyReduction(O.clamp(O.sub(O.add(dPos, c.params.num("margin")), dNeg), 0), c.params);
  },
  samples: [
    {
      inputs: {
        anchor: [
          [0.5, -1.2, 2.0],
          [0.1, 0.7, -0.3],
        ],
        positive: [
          [0.4, -1.0, 1.5],
          [0.2, 0.6, 0.3],
        ],
        negative: [
          [1.5, 0.2, 0.5],
          [0.3, 0.4, -0.1],
        ],
      },
    },
    {
      name: "p 1, swap, margin, none",
      inputs: {
        anchor: [
          [0.5, -1.2, 2.0],
          [0.1, 0.7, -0.3],
        ],
        positive: [
          [0.4, -1.0, 1.5],
          [0.9, 0.6, 0.3],
        ],
        negative: [
          [1.5, 0.2, 0.5],
          [0.3, 0.4, -0.1],
        ],
      },
      params: { p: 1, swap: true, margin: 2, reduction: "none" },
    },
  ],
});

export const LOSS_KINDS: readonly NodeKind[] = [
  regressionKind(
    "l1_loss",
    "Mean absolute error |input - target|, like F.l1_loss",
    [],
    (a, b, p) => l1Loss(a, b, { reduction: p.str("reduction") }),
    regressionSamples({ reduction: "sum" }),
  ),
  regressionKind(
    "mse_loss",
    "Mean squared error (input - target)², like F.mse_loss",
    [],
    (a, b, p) => mseLoss(a, b, { reduction: p.str("reduction") }),
    regressionSamples({ reduction: "none" }),
  ),
  regressionKind(
    "smooth_l1_loss",
    "Squared error below beta, absolute error above, like F.smooth_l1_loss",
    [
      {
        name: "beta",
        type: "number",
        default: 1,
        min: 0,
        help: "where the loss changes from squared to absolute",
      },
    ],
    (a, b, p) => smoothL1Loss(a, b, { reduction: p.str("reduction"), beta: p.num("beta") }),
    regressionSamples({ beta: 0.5, reduction: "none" }),
  ),
  regressionKind(
    "huber_loss",
    "Squared error below delta, delta-scaled absolute error above, like F.huber_loss",
    [
      {
        name: "delta",
        type: "number",
        default: 1,
        min: 0,
        exclusiveMin: true,
        help: "where the loss changes from squared to absolute",
      },
    ],
    (a, b, p) => huberLoss(a, b, { reduction: p.str("reduction"), delta: p.num("delta") }),
    regressionSamples({ delta: 0.75, reduction: "sum" }),
  ),
  bce,
  bceLogits,
  nll,
  crossEntropyKind,
  kl,
  poissonNll,
  gaussianNll,
  marginRanking,
  hingeEmbedding,
  softMargin,
  multilabelSoftMargin,
  multilabelMargin,
  multiMargin,
  cosineEmbedding,
  tripletMargin,
];
