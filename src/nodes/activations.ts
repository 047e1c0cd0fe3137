/**
 * Activations: relu, sigmoid, tanh, leaky_relu, gelu, softplus, logsigmoid, softmax, log_softmax, every unary op
 * that declares itself a kind (elu, selu, hardtanh...: ops/elementwise.ts, one declaration each), and the
 * vector functions normalize, cosine_similarity and pairwise_distance, composed of runtime ops as torch computes
 * them (so CPU autograd, WebGPU tracing and the exporter follow from the one declaration).
 */
import { broadcastShapes, ops } from "../runtime/index.ts";
import { inputPort } from "./common.ts";
import { unaryDType, unaryKind } from "./ops.ts";
import { pyFloat, pyKwargs } from "./python.ts";
import { defineKind } from "./registry.ts";
import { X, Y } from "./sample-values.ts";
import { broadcastPorts, floatOf, meta, normDimOf, promoteMeta, req } from "./shapes.ts";
import type { KindSample, NodeKind, ParamDecl, ParamReader, PortDecl } from "./types.ts";

const { UNARY } = ops;

/** A unary activation with attribute params (negative_slope, approximate, beta, threshold). */
function withAttrs(name: string, description: string, params: ParamDecl[], samples?: KindSample[]): NodeKind {
  const decl = UNARY[name];
  const attrs = (p: ParamReader) =>
    Object.fromEntries(params.map((d) => [d.name, p.raw(d.name) as number | string]));
  return defineKind({
    type: name,
    family: "Activations",
    description,
    inputs: [inputPort()],
    params,
    infer(ctx) {
      const a = req(ctx, "input");
      return meta(a.shape, unaryDType(name, a.dtype));
    },
    evaluate: (c) => ops.unaryOp(name, c.inputs.input!, attrs(c.params)),
    torch: (c) => [`${c.out} = ${decl.torch(c.inputs.input!, attrs(c.params))}`],
    samples,
  });
}

function softmaxKind(type: "softmax" | "log_softmax", description: string): NodeKind {
  const run = type === "softmax" ? ops.softmax : ops.logSoftmax;
  return defineKind({
    type,
    family: "Activations",
    description,
    inputs: [inputPort()],
    params: [
      {
        name: "dim",
        type: "number",
        integer: true,
        default: -1,
        help: "the dimension that sums to 1 (the class dimension: 1 for (N, C) scores)",
      },
    ],
    infer(ctx) {
      const a = req(ctx, "input");
      normDimOf(ctx.params.num("dim"), a.shape.length);
      return meta(a.shape, floatOf(a.dtype));
    },
    evaluate: (c) => run(c.inputs.input!, c.params.num("dim")),
    torch: (c) => [`${c.out} = F.${type}(${c.inputs.input}, dim=${c.params.num("dim")})`],
  });
}

const logsigmoid = unaryKind(
  "log_sigmoid",
  "logsigmoid",
  "log(sigmoid(x)), computed stably, like F.logsigmoid",
  "Activations",
);

const floatPort = (name: string, help: string): PortDecl => ({ name, dtype: "float", help });
const epsParam = (def: number, help: string): ParamDecl => ({
  name: "eps",
  type: "number",
  default: def,
  min: 0,
  help,
});
const pParam: ParamDecl = {
  name: "p",
  type: "number",
  default: 2,
  min: 0,
  exclusiveMin: true,
  help: "the norm's exponent (2: Euclidean)",
};

const normalize = defineKind({
  type: "normalize",
  family: "Activations",
  description: "input divided by its p-norm along dim (at least eps), like F.normalize",
  inputs: [floatPort("input", "the tensor to normalise")],
  params: [
    pParam,
    { name: "dim", type: "number", integer: true, default: 1, help: "the dimension whose slices get norm 1" },
    epsParam(1e-12, "the smallest norm divided by"),
  ],
  infer(ctx) {
    const a = req(ctx, "input");
    normDimOf(ctx.params.num("dim"), a.shape.length);
    return meta(a.shape, a.dtype);
  },
  // torch: input / input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
  evaluate: (c) => {
    const x = c.inputs.input!;
    const n = ops.norm(x, c.params.num("p"), [c.params.num("dim")], true);
    return ops.div(x, ops.clamp(n, c.params.num("eps")));
  },
  samples: [
    { inputs: { input: X } },
    { name: "p 1, dim 0", inputs: { input: X }, params: { p: 1, dim: 0 } },
    {
      name: "eps above a norm",
      inputs: {
        input: [
          [1e-3, -2e-3],
          [0.5, 1.5],
        ],
      },
      params: { eps: 0.01 },
    },
  ],
  torch: (c) => [
    `${c.out} = F.normalize(${c.inputs.input}, p=${pyFloat(c.params.num("p"))}, dim=${c.params.num("dim")}, eps=${pyFloat(c.params.num("eps"))})`,
  ],
});

/** The broadcast shape of x1 and x2 and their common float dtype. */
function pairMeta(ctx: Parameters<NodeKind["infer"]>[0], what: string) {
  const a = req(ctx, "x1");
  const b = req(ctx, "x2");
  return {
    shape: broadcastPorts(what, [
      ["x1", a],
      ["x2", b],
    ]),
    dtype: promoteMeta(a, b),
  };
}

const cosineSimilarity = defineKind({
  type: "cosine_similarity",
  family: "Activations",
  description: "Cosine of the angle between x1 and x2 along dim, like F.cosine_similarity",
  inputs: [floatPort("x1", "the first vectors"), floatPort("x2", "the second vectors (broadcast with x1)")],
  params: [
    { name: "dim", type: "number", integer: true, default: 1, help: "the dimension the vectors lie along" },
    epsParam(1e-8, "the smallest norm divided by"),
  ],
  infer(ctx) {
    const { shape, dtype } = pairMeta(ctx, "cosine_similarity");
    const d = normDimOf(ctx.params.num("dim"), shape.length, "x1");
    return meta(
      shape.filter((_, i) => i !== d),
      dtype,
    );
  },
  // torch 1.13: both expanded to the common shape, each divided by sqrt(its squared norm clamped at eps^2 under
  // no_grad: the value clamped, the gradient as if not), then the products summed along dim.
  evaluate: (c) => {
    const dim = c.params.num("dim");
    const eps = c.params.num("eps");
    const [a, b] = [c.inputs.x1!, c.inputs.x2!];
    const shape = broadcastShapes("cosine_similarity", a.shape, b.shape);
    const unit = (t: typeof a) => {
      const x = ops.expand(t, shape);
      const sq = ops.sum(ops.mul(x, x), [dim], true);
      return ops.div(x, ops.sqrt(ops.add(sq, ops.sub(ops.clamp(sq, eps * eps), sq).detach())));
    };
    return ops.sum(ops.mul(unit(a), unit(b)), [dim]);
  },
  samples: [
    { inputs: { x1: X, x2: Y } },
    { name: "dim 0", inputs: { x1: X, x2: Y }, params: { dim: 0 } },
    { name: "x2 broadcast", inputs: { x1: X, x2: [[1.5, 0.5, -2.0]] } },
  ],
  torch: (c) => [
    `${c.out} = F.cosine_similarity(${c.inputs.x1}, ${c.inputs.x2}, dim=${c.params.num("dim")}, eps=${pyFloat(c.params.num("eps"))})`,
  ],
});

const pairwiseDistance = defineKind({
  type: "pairwise_distance",
  family: "Activations",
  description: "p-norm of x1 - x2 + eps along the last dimension, like F.pairwise_distance",
  inputs: [floatPort("x1", "the first points"), floatPort("x2", "the second points (broadcast with x1)")],
  params: [
    pParam,
    epsParam(1e-6, "added to the differences, so equal points have a gradient"),
    { name: "keepdim", type: "boolean", default: false, help: "keep the reduced dimension with size 1" },
  ],
  infer(ctx) {
    const { shape, dtype } = pairMeta(ctx, "pairwise_distance");
    const last = Math.max(shape.length, 1) - 1;
    const keep = ctx.params.bool("keepdim");
    return meta(keep ? shape.map((s, i) => (i === last ? 1 : s)) : shape.filter((_, i) => i !== last), dtype);
  },
  // torch: norm(x1 - x2 + eps, p, innermost dim, keepdim)
  evaluate: (c) => {
    const diff = ops.add(ops.sub(c.inputs.x1!, c.inputs.x2!), c.params.num("eps"));
    return ops.norm(diff, c.params.num("p"), [Math.max(diff.ndim, 1) - 1], c.params.bool("keepdim"));
  },
  samples: [
    { inputs: { x1: X, x2: Y } },
    { name: "p 1, keepdim", inputs: { x1: X, x2: Y }, params: { p: 1, keepdim: true } },
    {
      name: "p 3, eps 0.1, x2 broadcast",
      inputs: { x1: X, x2: [[1.5, 0.5, -2.0]] },
      params: { p: 3, eps: 0.1 },
    },
  ],
  torch: (c) => [
    `${c.out} = F.pairwise_distance(${c.inputs.x1}, ${c.inputs.x2}, ${pyKwargs([
      ["p", c.params.num("p")],
      ["eps", c.params.num("eps")],
      ["keepdim", c.params.bool("keepdim")],
    ])})`,
  ],
});

/** The kinds unary op declarations ask for (UnaryDecl.kind): params from the op's torch arguments. */
const DECLARED_KINDS: NodeKind[] = Object.values(UNARY).flatMap((d) =>
  d.kind
    ? [
        withAttrs(
          d.name,
          d.kind.description,
          (d.kind.args ?? []).map((a) => ({
            name: a.name,
            type: "number",
            default: a.default,
            help: a.help,
            min: a.min,
          })),
          d.kind.samples.map((x) => ({ name: x.name, inputs: { input: x.input }, params: x.args })),
        ),
      ]
    : [],
);

export const ACTIVATION_KINDS: readonly NodeKind[] = [
  unaryKind("relu", "relu", "max(x, 0), like F.relu", "Activations"),
  unaryKind("sigmoid", "sigmoid", "1 / (1 + exp(-x)), squashes to (0, 1), like torch.sigmoid", "Activations"),
  unaryKind("tanh", "tanh", "Hyperbolic tangent, squashes to (-1, 1), like torch.tanh", "Activations"),
  withAttrs("leaky_relu", "x for x > 0, else negative_slope * x, like F.leaky_relu", [
    { name: "negative_slope", type: "number", default: 0.01, help: "slope for negative inputs" },
  ]),
  withAttrs("gelu", "Gaussian error linear unit, like F.gelu", [
    {
      name: "approximate",
      type: "enum",
      options: ["none", "tanh"],
      default: "none",
      help: "'tanh' uses the tanh approximation",
    },
  ]),
  withAttrs("softplus", "A smooth relu, log(1 + exp(beta x)) / beta, like F.softplus", [
    { name: "beta", type: "number", default: 1, help: "sharpness" },
    { name: "threshold", type: "number", default: 20, help: "above this beta * x, the result is x" },
  ]),
  logsigmoid,
  softmaxKind("softmax", "Exponentials normalised to sum to 1 along dim, like F.softmax"),
  softmaxKind("log_softmax", "log(softmax(x)) computed stably; what nll_loss expects, like F.log_softmax"),
  ...DECLARED_KINDS,
  normalize,
  cosineSimilarity,
  pairwiseDistance,
];
