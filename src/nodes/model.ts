/** Models: w * x + b with its own parameters, and F.linear(input, weight, bias). */
import {
  type DType,
  fmtShape,
  fromFlat,
  linearInit,
  ops,
  type RandomFloat,
  type Tensor,
  tensor,
} from "../runtime/index.ts";
import { dtypeParam, inputPort, requiresGradParam } from "./common.ts";
import { floatDType, seedParam } from "./random.ts";
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

const features = (name: string, help: string) => ({
  name,
  type: "number" as const,
  integer: true,
  min: 1,
  default: 2,
  help,
});

/** nn.Linear's parameters as `torch.manual_seed(seed); nn.Linear(in, out)` makes them (kaiming_uniform_, a=sqrt(5)). */
function linearLeaves(p: ParamReader, label: string): Record<string, Tensor> {
  const [i, o] = [p.num("in_features"), p.num("out_features")];
  const d = p.str("dtype") as RandomFloat;
  const init = linearInit(p.num("seed"), i, o, d);
  const out: Record<string, Tensor> = { weight: fromFlat(init.weight, [o, i], d) };
  if (p.bool("bias")) out.bias = fromFlat(init.bias, [o], d);
  for (const [name, t] of Object.entries(out)) {
    t.name = `${label}.${name}`;
    t.requiresGrad_(true);
  }
  return out;
}

/** `Linear(in, out)`, with bias=False and the dtype when they are not torch's defaults. */
function linearModule(p: ParamReader): string {
  const dtype = p.str("dtype") === "float32" ? "" : `, dtype=torch.${p.str("dtype")}`;
  const bias = p.bool("bias") ? "" : ", bias=False";
  return `Linear(${p.num("in_features")}, ${p.num("out_features")}${bias}${dtype})`;
}

const linearLayer = defineKind({
  type: "Linear",
  family: "Model",
  description:
    "nn.Linear: input @ weight.T + bias with its own weight and bias, initialised as PyTorch does from a seed",
  inputs: [inputPort("(*, in_features)", "float")],
  params: [
    features("in_features", "size of each input sample"),
    features("out_features", "size of each output sample"),
    { name: "bias", type: "boolean", default: true, help: "learn an additive bias" },
    {
      ...seedParam,
      help: "torch.manual_seed(seed) before nn.Linear(...): the same seed gives PyTorch's initial values",
    },
    { ...floatDType, help: "element type of the weight and bias" },
  ],
  infer(ctx) {
    const p = ctx.params;
    const d = p.str("dtype") as DType;
    const [i, o] = [p.num("in_features"), p.num("out_features")];
    const x = req(ctx, "input");
    // nn.Linear refuses an input of another dtype than its parameters (mat1 and mat2 must have the same dtype).
    if (x.dtype !== d)
      throw new InferError(
        `input is ${x.dtype} but the layer's weight is ${d}: set the layer's dtype to ${x.dtype}`,
        "input",
      );
    return linearShape(x, meta([o, i], d), p.bool("bias") ? meta([o], d) : undefined);
  },
  leaves: linearLeaves,
  trainsLeaves: () => true,
  evaluate: (c) => ops.linear(c.inputs.input!, c.leaves.weight, c.leaves.bias ?? null),
  torchModule: (c) => ({ layer: `nn.${linearModule(c.params)}`, seed: c.params.num("seed") }),
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
  withSamples(linearLayer, [
    { inputs: { input: X }, params: { in_features: 3, out_features: 2, seed: 1 }, precision: "float32" },
    {
      name: "float64, no bias",
      inputs: { input: [[0.5, -1.5]] },
      params: { in_features: 2, out_features: 3, bias: false, seed: 4, dtype: "float64" },
      precision: "float64",
    },
  ]),
];
