/** Losses with torch.nn.functional's names, arguments and defaults. */
import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  fmtShape,
  huberLoss,
  isFloating,
  isIntegral,
  klDiv,
  l1Loss,
  mseLoss,
  nllLoss,
  REDUCTIONS,
  smoothL1Loss,
  type Tensor,
} from "../runtime/index.ts";
import { inputPort, reductionParam } from "./common.ts";
import { pyArgs, pyKwargs } from "./python.ts";
import { defineKind } from "./registry.ts";
import { broadcastPorts, meta, promoteMeta, req, requireFloat, sameShapeOr } from "./shapes.ts";
import {
  type EvalContext,
  InferError,
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
 * `F.<type>(input, target, weight=..., <params that differ from torch's defaults>)`: the optional tensor ports
 * as keywords when connected, then every param of the declaration (their defaults are torch's).
 */
function lossCall(type: string, optional: readonly string[], params: readonly ParamDecl[]) {
  return (c: TorchContext): string[] => [
    `${c.out} = F.${type}(${pyArgs(
      c.inputs.input!,
      c.inputs.target!,
      ...optional.map((port) => (c.inputs[port] ? `${port}=${c.inputs[port]}` : "")),
      pyKwargs(params.map((d) => [d.name, c.params.raw(d.name), d.default])),
    )})`,
  ];
}

/** A loss kind: family and PyTorch code follow from the declaration. */
function lossKind(decl: Omit<NodeKind, "family" | "torch">, optional: readonly string[] = []): NodeKind {
  return defineKind({ ...decl, family: "Losses", torch: lossCall(decl.type, optional, decl.params) });
}

/** Elementwise regression losses: l1, mse, smooth_l1 (beta), huber (delta). */
function regressionKind(
  type: string,
  description: string,
  extra: ParamDecl[],
  run: (input: Tensor, target: Tensor, p: ParamReader) => Tensor,
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
  });
}

const bce = lossKind(
  {
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
  },
  ["weight"],
);

const bceLogits = lossKind(
  {
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
  },
  ["weight", "pos_weight"],
);

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

const nll = lossKind(
  {
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
  },
  ["weight"],
);

const crossEntropyKind = lossKind(
  {
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
  },
  ["weight"],
);

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
});

export const LOSS_KINDS: readonly NodeKind[] = [
  regressionKind("l1_loss", "Mean absolute error |input - target|, like F.l1_loss", [], (a, b, p) =>
    l1Loss(a, b, { reduction: p.str("reduction") }),
  ),
  regressionKind("mse_loss", "Mean squared error (input - target)², like F.mse_loss", [], (a, b, p) =>
    mseLoss(a, b, { reduction: p.str("reduction") }),
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
  ),
  bce,
  bceLogits,
  nll,
  crossEntropyKind,
  kl,
];
