/** Data: tensors written out (torch.tensor), random (src/nodes/random.ts), ranges and filled tensors. */
import {
  arange,
  type DType,
  full,
  integerOverflow,
  isFloating,
  linspace,
  type NestedArray,
  type Tensor,
  tensor,
} from "../runtime/index.ts";
import { asLeaf, dtypeKwarg, dtypeParam, requiresGradKwarg, requiresGradParam, sizeParam } from "./common.ts";
import { linspaceHelper, pyDType, pyFloat, pyNum, pyValue } from "./python.ts";
import { RANDOM_KINDS } from "./random.ts";
import { defineKind, withSamples } from "./registry.ts";
import { meta } from "./shapes.ts";
import { InferError, type NodeKind, type ParamReader } from "./types.ts";

const dtypeOf = (p: ParamReader) => p.strOrNull("dtype") as DType | null;

function checkRequiresGrad(p: ParamReader, d: DType): void {
  if (p.bool("requires_grad") && !isFloating(d))
    throw new InferError(`only floating point tensors can require gradients (dtype is ${d})`);
}

function literal(p: ParamReader): Tensor {
  const data = p.raw("data") as NestedArray;
  try {
    return tensor(data, { dtype: dtypeOf(p) ?? undefined });
  } catch (e) {
    throw new InferError(`param 'data': ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Leaves are the node's own output ("" key); the setup line creates it, the forward pass just uses it. */
const leafOutput = (ctx: { leaves: Record<string, Tensor> }) => ctx.leaves[""];

const tensorKind = defineKind({
  type: "tensor",
  family: "Data",
  description: "A tensor written out, like torch.tensor([...])",
  inputs: [],
  params: [
    {
      name: "data",
      type: "data",
      default: [1, 2, 3],
      help: "the values, as nested lists: 5, [1, 2], [[1, 2], [3, 4]]",
    },
    dtypeParam(null),
    requiresGradParam(),
  ],
  infer({ params }) {
    const t = literal(params);
    checkRequiresGrad(params, t.dtype);
    return meta(t.shape, t.dtype);
  },
  leaves: (p, label) => ({ "": asLeaf(literal(p), p, label) }),
  evaluate: leafOutput,
  torch: () => [],
  torchSetup: (c) => [`${c.leaf("")} = ${c.leafTensor("")}`],
});

const linspaceKind = defineKind({
  type: "linspace",
  family: "Data",
  description: "Evenly spaced values from start to end, like torch.linspace",
  inputs: [],
  params: [
    { name: "start", type: "number", default: 0, help: "the first value" },
    { name: "end", type: "number", default: 1, help: "the last value" },
    { name: "steps", type: "number", integer: true, min: 0, default: 5, help: "how many values" },
    dtypeParam("float32", { floatOnly: true }),
    requiresGradParam(),
  ],
  infer: ({ params }) => meta([params.num("steps")], params.str("dtype") as DType),
  leaves: (p, label) => ({
    "": asLeaf(linspace(p.num("start"), p.num("end"), p.num("steps"), p.str("dtype") as DType), p, label),
  }),
  evaluate: leafOutput,
  torch: () => [],
  torchSetup(c) {
    const p = c.params;
    const fn = c.helper("exact_linspace", linspaceHelper);
    const args = `${pyFloat(p.num("start"))}, ${pyFloat(p.num("end"))}, ${p.num("steps")}, ${pyDType(p.str("dtype") as DType)}`;
    return [
      `${c.leaf("")} = ${fn}(${args}, ${c.device})${p.bool("requires_grad") ? ".requires_grad_()" : ""}`,
    ];
  },
});

/** The largest integer each floating dtype holds exactly, with every integer below it. */
const EXACT_INTEGERS: Record<DType, number> = {
  float16: 2 ** 11,
  float32: 2 ** 24,
  float64: 2 ** 53,
  int32: 2 ** 31,
  int64: 2 ** 53,
  bool: 1,
};

function arangeLength(p: ParamReader): number {
  const step = p.num("step");
  if (step === 0) throw new InferError("param 'step' must be nonzero");
  return Math.max(0, Math.ceil((p.num("end") - p.num("start")) / step));
}

function arangeDType(p: ParamReader): DType {
  const given = dtypeOf(p);
  if (given) return given;
  return [p.num("start"), p.num("end"), p.num("step")].every(Number.isInteger) ? "int64" : "float32";
}

const arangeKind = defineKind({
  type: "arange",
  family: "Data",
  description: "Values from start up to (not including) end by step, like torch.arange",
  inputs: [],
  params: [
    { name: "start", type: "number", default: 0, help: "the first value" },
    { name: "end", type: "number", default: 5, help: "values stop before this" },
    { name: "step", type: "number", default: 1, help: "the spacing (nonzero)" },
    dtypeParam(null),
    requiresGradParam(),
  ],
  infer({ params }) {
    const d = arangeDType(params);
    checkRequiresGrad(params, d);
    return meta([arangeLength(params)], d);
  },
  leaves: (p, label) => ({
    "": asLeaf(arange(p.num("start"), p.num("end"), p.num("step"), arangeDType(p)), p, label),
  }),
  evaluate: leafOutput,
  torch: () => [],
  torchSetup(c) {
    const p = c.params;
    const [start, end, step] = [p.num("start"), p.num("end"), p.num("step")];
    const d = arangeDType(p);
    const last = start + (arangeLength(p) - 1) * step;
    const exactInTorch =
      !isFloating(d) ||
      ([start, step].every(Number.isInteger) &&
        Math.max(Math.abs(start), Math.abs(last)) <= EXACT_INTEGERS[d]);
    if (exactInTorch)
      return [
        `${c.leaf("")} = torch.arange(${pyNum(start)}, ${pyNum(end)}, ${pyNum(step)}${dtypeKwarg(dtypeOf(p), null)}, device=${c.device}${requiresGradKwarg(p)})`,
      ];
    // torch.arange rounds fractional steps in the dtype (vector by vector); gradwire computes each value in
    // float64 and rounds it once, which this expression reproduces.
    const values = `${pyFloat(start)} + ${pyFloat(step)} * torch.arange(${arangeLength(p)}, dtype=torch.float64, device=${c.device})`;
    return [
      `${c.leaf("")} = (${values}).to(${pyDType(d)})${p.bool("requires_grad") ? ".requires_grad_()" : ""}`,
    ];
  },
});

function filledKind(type: "zeros" | "ones" | "full", value: number | null): NodeKind {
  const fillParam =
    value === null
      ? [{ name: "fill_value", type: "number" as const, default: 0, help: "the value of every element" }]
      : [];
  const fill = (p: ParamReader) => value ?? p.num("fill_value");
  return defineKind({
    type,
    family: "Data",
    description:
      value === null
        ? "A tensor filled with one value, like torch.full"
        : `A tensor of ${type}, like torch.${type}`,
    inputs: [],
    params: [sizeParam([1]), ...fillParam, dtypeParam("float32"), requiresGradParam()],
    infer({ params }) {
      const d = params.str("dtype") as DType;
      checkRequiresGrad(params, d);
      // As torch.full: a fill value the integer dtype cannot hold is refused, never wrapped.
      const overflow = integerOverflow(fill(params), d);
      if (overflow) throw new InferError(`fill_value = ${overflow}`);
      return meta(params.nums("size"), d);
    },
    leaves: (p, label) => ({ "": asLeaf(full(p.nums("size"), fill(p), p.str("dtype") as DType), p, label) }),
    evaluate: leafOutput,
    torch: () => [],
    torchSetup(c) {
      const size = pyValue(c.params.nums("size"));
      const args = value === null ? `${size}, ${pyNum(fill(c.params))}` : size;
      return [
        `${c.leaf("")} = torch.${type}(${args}${dtypeKwarg(c.params.str("dtype") as DType)}, device=${c.device}${requiresGradKwarg(c.params)})`,
      ];
    },
  });
}

export const DATA_KINDS: readonly NodeKind[] = [
  withSamples(tensorKind, [
    {
      inputs: {},
      params: {
        data: [
          [0.5, -1.25],
          [2.0, 3.0],
        ],
        requires_grad: true,
      },
    },
    { name: "int64", inputs: {}, params: { data: [3, -1, 4] } },
    { name: "float64 from ints", inputs: {}, params: { data: [1, 2], dtype: "float64" } },
  ]),
  ...RANDOM_KINDS,
  withSamples(linspaceKind, [
    { inputs: {}, params: { start: -1, end: 2, steps: 7 } },
    { name: "float64, one step", inputs: {}, params: { start: 0.5, end: 2, steps: 1, dtype: "float64" } },
  ]),
  withSamples(arangeKind, [
    { inputs: {}, params: { start: 1, end: 10, step: 3 } },
    { name: "fractional step", inputs: {}, params: { start: 0, end: 1, step: 0.25 } },
  ]),
  withSamples(filledKind("zeros", 0), [{ inputs: {}, params: { size: [2, 2] } }]),
  withSamples(filledKind("ones", 1), [
    { inputs: {}, params: { size: [3], dtype: "float64", requires_grad: true } },
  ]),
  withSamples(filledKind("full", null), [{ inputs: {}, params: { size: [2], fill_value: 0.5 } }]),
];
