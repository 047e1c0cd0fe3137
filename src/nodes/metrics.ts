/** Metrics: argmax/argmin (predicted classes) and accuracy against class indices. */
import { fmtShape, isIntegral, ops, type Tensor } from "../runtime/index.ts";
import { dimParam, inputPort, keepdimParam } from "./common.ts";
import { defineKind, withSamples } from "./registry.ts";
import { CLASSES, X } from "./sample-values.ts";
import { meta, normDimOf, reducedShape, req } from "./shapes.ts";
import { InferError, type NodeKind } from "./types.ts";

function argKind(type: "argmax" | "argmin"): NodeKind {
  const run = type === "argmax" ? ops.argmax : ops.argmin;
  return defineKind({
    type,
    family: "Metrics",
    description: `Index of the ${type === "argmax" ? "largest" : "smallest"} value (the predicted class along dim), like torch.${type}`,
    inputs: [inputPort("scores")],
    params: [
      dimParam(
        null,
        "the dimension to search (1 for the classes of (N, C) scores); None: the flattened tensor",
      ),
      keepdimParam,
    ],
    infer(ctx) {
      const a = req(ctx, "input");
      const dim = ctx.params.numOrNull("dim");
      return meta(dim === null ? [] : reducedShape(a.shape, dim, ctx.params.bool("keepdim")), "int64");
    },
    evaluate: (c) => run(c.inputs.input!, c.params.numOrNull("dim"), c.params.bool("keepdim")),
    torch(c) {
      const dim = c.params.numOrNull("dim");
      const kd = c.params.bool("keepdim") && dim !== null ? ", keepdim=True" : "";
      return [`${c.out} = torch.${type}(${c.inputs.input}${dim === null ? "" : `, dim=${dim}`}${kd})`];
    },
  });
}

/** Predicted labels: the input itself when it already holds class indices, else argmax over dim. */
function predictions(input: Tensor, dim: number): Tensor {
  return isIntegral(input.dtype) ? input : ops.argmax(input.detach(), dim);
}

const accuracy = defineKind({
  type: "accuracy",
  family: "Metrics",
  description:
    "Fraction of predictions equal to the target class: (argmax(input, dim) == target).float().mean()",
  inputs: [
    inputPort("scores (N, C), or predicted class indices (N)"),
    { name: "target", dtype: "integer", help: "true class indices (N)" },
  ],
  params: [
    {
      name: "dim",
      type: "number",
      integer: true,
      default: 1,
      help: "the class dimension of the scores (ignored for class indices)",
    },
  ],
  infer(ctx) {
    const a = req(ctx, "input");
    const t = req(ctx, "target");
    const pred = isIntegral(a.dtype)
      ? a.shape
      : reducedShape(a.shape, normDimOf(ctx.params.num("dim"), a.shape.length), false);
    if (pred.length !== t.shape.length || pred.some((d, i) => d !== t.shape[i]))
      throw new InferError(
        `expected class indices of shape ${fmtShape(pred)} (one per prediction), got ${fmtShape(t.shape)}`,
        "target",
      );
    return meta([], "float32");
  },
  evaluate: (c) =>
    ops.mean(
      ops.cast(ops.eq(predictions(c.inputs.input!, c.params.num("dim")), c.inputs.target!), "float32"),
    ),
  torch(c) {
    const m = c.inputMetas.input;
    const pred =
      m && isIntegral(m.dtype)
        ? c.inputs.input
        : `torch.argmax(${c.inputs.input}, dim=${c.params.num("dim")})`;
    return [`${c.out} = (${pred} == ${c.inputs.target}).float().mean()`];
  },
});

export const METRIC_KINDS: readonly NodeKind[] = [
  ...(["argmax", "argmin"] as const).map((t) =>
    withSamples(argKind(t), [
      { inputs: { input: X } },
      { name: "dim 1", inputs: { input: X }, params: { dim: 1 } },
      { name: "dim 0, keepdim", inputs: { input: X }, params: { dim: 0, keepdim: true } },
    ]),
  ),
  withSamples(accuracy, [
    { inputs: { input: X, target: CLASSES } },
    { name: "dim 0", inputs: { input: X, target: [1, 0, 1] }, params: { dim: 0 } },
  ]),
];
