/** Models: w * x + b with its own parameters, and F.linear(input, weight, bias). */
import { type DType, fmtShape, ops, type Tensor, tensor } from "../runtime/index.ts";
import { dtypeParam, inputPort, requiresGradParam } from "./common.ts";
import { defineKind, withSamples } from "./registry.ts";
import { X } from "./sample-values.ts";
import { broadcastPorts, matmulShape, meta, promoteMeta, req } from "./shapes.ts";
import { InferError, type NodeKind, type ParamReader, type TensorMeta } from "./types.ts";

function param(p: ParamReader, name: "weight" | "bias", label: string): Tensor {
  let t: Tensor;
  try {
    t = tensor(p.raw(name) as number | number[], { dtype: p.str("dtype") as DType });
  } catch (e) {
    throw new InferError(`param '${name}': ${e instanceof Error ? e.message : String(e)}`);
  }
  t.name = `${label}.${name}`;
  if (p.bool("requires_grad")) t.requiresGrad_(true);
  return t;
}

const model = defineKind({
  type: "model",
  family: "Model",
  description: "w * x + b, with its own weight and bias (scalars or vectors) to train",
  inputs: [inputPort("x, the data the model is applied to")],
  params: [
    { name: "weight", type: "data", default: 1, help: "w: a number or a list (one weight per feature)" },
    { name: "bias", type: "data", default: 0, help: "b: a number or a list" },
    dtypeParam("float32", { floatOnly: true, help: "element type of the weight and bias" }),
    requiresGradParam(true),
  ],
  infer(ctx) {
    const x = req(ctx, "input");
    const w = param(ctx.params, "weight", "model");
    const b = param(ctx.params, "bias", "model");
    const wm = meta(w.shape, w.dtype);
    const wx = meta(
      broadcastPorts("w * x", [
        ["weight", wm],
        ["input", x],
      ]),
      promoteMeta(wm, x),
    );
    const bm = meta(b.shape, b.dtype);
    return meta(
      broadcastPorts("w * x + b", [
        ["w * x", wx],
        ["bias", bm],
      ]),
      promoteMeta(wx, bm),
    );
  },
  leaves: (p, label) => ({ weight: param(p, "weight", label), bias: param(p, "bias", label) }),
  evaluate: (c) => ops.add(ops.mul(c.leaves.weight, c.inputs.input!), c.leaves.bias),
  torch: (c) => [`${c.out} = ${c.leaf("weight")} * ${c.inputs.input} + ${c.leaf("bias")}`],
  torchSetup: (c) => (["weight", "bias"] as const).map((n) => `${c.leaf(n)} = ${c.leafTensor(n)}`),
});

function linearShape(x: TensorMeta, w: TensorMeta, b: TensorMeta | undefined): TensorMeta {
  if (w.shape.length !== 1 && w.shape.length !== 2)
    throw new InferError(
      `weight must be 1-d or 2-d (out_features, in_features), got ${fmtShape(w.shape)}`,
      "weight",
    );
  const wt = w.shape.length === 2 ? meta([w.shape[1], w.shape[0]], w.dtype) : w;
  let out = meta(matmulShape(x, wt, "weight"), promoteMeta(x, w));
  if (b)
    out = meta(
      broadcastPorts("linear", [
        ["input @ weight.T", out],
        ["bias", b],
      ]),
      promoteMeta(out, b),
    );
  return out;
}

const linear = defineKind({
  type: "linear",
  family: "Model",
  description: "input @ weight.T + bias, like F.linear",
  inputs: [
    inputPort("(*, in_features)", "float"),
    { name: "weight", dtype: "float", help: "(out_features, in_features)" },
    { name: "bias", dtype: "float", optional: true, help: "(out_features), optional" },
  ],
  params: [],
  infer: (ctx) => linearShape(req(ctx, "input"), req(ctx, "weight"), ctx.inputs.bias),
  evaluate: (c) => ops.linear(c.inputs.input!, c.inputs.weight!, c.inputs.bias ?? null),
  torch: (c) => [
    `${c.out} = F.linear(${c.inputs.input}, ${c.inputs.weight}${c.inputs.bias ? `, ${c.inputs.bias}` : ""})`,
  ],
});

export const MODEL_KINDS: readonly NodeKind[] = [
  withSamples(model, [
    { inputs: { input: X }, params: { weight: [0.5, -1, 2], bias: 0.25 } },
    {
      name: "scalar weight and bias",
      inputs: { input: [0.5, 1.5, -2.0] },
      params: { weight: 1.5, bias: -0.5 },
    },
  ]),
  withSamples(linear, [
    {
      inputs: {
        input: X,
        weight: [
          [0.1, 0.2, -0.3],
          [0.5, -0.5, 0.25],
        ],
        bias: [0.5, -1.5],
      },
    },
    {
      name: "no bias",
      inputs: {
        input: [0.5, -1.5, 2.0],
        weight: [
          [0.1, 0.2, -0.3],
          [0.5, -0.5, 0.25],
        ],
      },
    },
  ]),
];
