/** Activations: relu, sigmoid, tanh, leaky_relu, gelu, softplus, logsigmoid, softmax, log_softmax. */
import { ops } from "../runtime/index.ts";
import { inputPort } from "./common.ts";
import { unaryDType, unaryKind } from "./ops.ts";
import { defineKind } from "./registry.ts";
import { floatOf, meta, normDimOf, req } from "./shapes.ts";
import type { NodeKind, ParamDecl, ParamReader } from "./types.ts";

const { UNARY } = ops;

/** A unary activation with attribute params (negative_slope, approximate, beta, threshold). */
function withAttrs(name: string, description: string, params: ParamDecl[]): NodeKind {
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
];
