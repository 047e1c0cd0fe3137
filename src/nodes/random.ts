/**
 * Random tensors from PyTorch's CPU generator: each node seeds it (`torch.manual_seed(seed)`) and makes the same
 * call, so its values equal torch's bit for bit (src/runtime/random) and an exported script calls torch instead
 * of carrying the values.
 */
import {
  type DType,
  fromFlat,
  integerValues,
  normalValues,
  permutation,
  type RandomFloat,
  type Tensor,
  TorchGenerator,
  uniformValues,
} from "../runtime/index.ts";
import { asLeaf, dtypeKwarg, requiresGradParam, sizeParam } from "./common.ts";
import { pyFloat, pyNum, pyTuple } from "./python.ts";
import { defineKind, withSamples } from "./registry.ts";
import { meta, numelOf } from "./shapes.ts";
import { InferError, type NodeKind, type ParamDecl, type ParamReader, type TorchContext } from "./types.ts";

export const seedParam: ParamDecl = {
  name: "seed",
  type: "number",
  integer: true,
  min: 0,
  default: 0,
  help: "torch.manual_seed(seed) before the call: the same seed gives PyTorch's values",
};

export const floatDType: ParamDecl = {
  name: "dtype",
  type: "enum",
  options: ["float32", "float64"],
  default: "float32",
  help: "float32 draws 24 random bits per value, float64 53, as torch does",
};

const integerDType: ParamDecl = {
  name: "dtype",
  type: "enum",
  options: ["int64", "int32", "float32", "float64"],
  default: "int64",
  help: "element type of the result",
};

const leafOutput = (ctx: { leaves: Record<string, Tensor> }) => ctx.leaves[""];

/** The setup lines: seed torch's generator, then create the leaf on the CPU (where the generator is) and move it. */
function seeded(c: TorchContext, call: string): string[] {
  const grad = c.params.bool("requires_grad") ? ".requires_grad_()" : "";
  return [`torch.manual_seed(${c.params.num("seed")})`, `${c.leaf("")} = ${call}.to(${c.device})${grad}`];
}

interface FloatRandom {
  type: string;
  description: string;
  extra: ParamDecl[];
  values(g: TorchGenerator, n: number, d: RandomFloat, p: ParamReader): number[];
  call(size: string, dtype: string, p: ParamReader): string;
}

function floatRandomKind(spec: FloatRandom): NodeKind {
  const make = (p: ParamReader) => {
    const size = p.nums("size");
    const d = p.str("dtype") as RandomFloat;
    return fromFlat(spec.values(new TorchGenerator(p.num("seed")), numelOf(size), d, p), size, d);
  };
  return defineKind({
    type: spec.type,
    family: "Data",
    description: spec.description,
    inputs: [],
    params: [sizeParam([3]), ...spec.extra, seedParam, floatDType, requiresGradParam()],
    infer: ({ params }) => meta(params.nums("size"), params.str("dtype") as DType),
    leaves: (p, label) => ({ "": asLeaf(make(p), p, label) }),
    evaluate: leafOutput,
    torch: () => [],
    torchSetup: (c) =>
      seeded(
        c,
        spec.call(pyTuple(c.params.nums("size")), dtypeKwarg(c.params.str("dtype") as DType), c.params),
      ),
  });
}

const randn = floatRandomKind({
  type: "randn",
  description:
    "Values from the standard normal distribution, like torch.manual_seed(seed); torch.randn(size)",
  extra: [],
  values: (g, n, d) => normalValues(g, n, d),
  call: (size, dtype) => `torch.randn(${size}${dtype})`,
});

const rand = floatRandomKind({
  type: "rand",
  description: "Values uniform in [0, 1), like torch.manual_seed(seed); torch.rand(size)",
  extra: [],
  values: (g, n, d) => uniformValues(g, n, d),
  call: (size, dtype) => `torch.rand(${size}${dtype})`,
});

const normal = floatRandomKind({
  type: "normal",
  description:
    "Values from a normal distribution, like torch.manual_seed(seed); torch.normal(mean, std, size)",
  extra: [
    { name: "mean", type: "number", default: 0, help: "the mean" },
    { name: "std", type: "number", min: 0, default: 1, help: "the standard deviation" },
  ],
  values: (g, n, d, p) => normalValues(g, n, d, p.num("mean"), p.num("std")),
  call: (size, dtype, p) =>
    `torch.normal(${pyFloat(p.num("mean"))}, ${pyFloat(p.num("std"))}, ${size}${dtype})`,
});

const uniform = floatRandomKind({
  type: "uniform",
  description: "Values uniform in [a, b), like torch.manual_seed(seed); torch.empty(size).uniform_(a, b)",
  extra: [
    { name: "a", type: "number", default: 0, help: "the lower bound" },
    { name: "b", type: "number", default: 1, help: "the upper bound (not reached)" },
  ],
  values: (g, n, d, p) => uniformValues(g, n, d, p.num("a"), p.num("b")),
  call: (size, dtype, p) =>
    `torch.empty(${size}${dtype}).uniform_(${pyFloat(p.num("a"))}, ${pyFloat(p.num("b"))})`,
});

function checkRange(p: ParamReader): void {
  if (!(p.num("high") > p.num("low")))
    throw new InferError(`param 'high' (${p.num("high")}) must be greater than 'low' (${p.num("low")})`);
}

const randint = defineKind({
  type: "randint",
  family: "Data",
  description: "Integers in [low, high), like torch.manual_seed(seed); torch.randint(low, high, size)",
  inputs: [],
  params: [
    { name: "low", type: "number", integer: true, default: 0, help: "the smallest value" },
    { name: "high", type: "number", integer: true, default: 10, help: "one above the largest value" },
    sizeParam([3]),
    seedParam,
    integerDType,
  ],
  infer({ params }) {
    checkRange(params);
    return meta(params.nums("size"), params.str("dtype") as DType);
  },
  leaves(p, label) {
    checkRange(p);
    const size = p.nums("size");
    const g = new TorchGenerator(p.num("seed"));
    const t = fromFlat(
      integerValues(g, numelOf(size), p.num("low"), p.num("high")),
      size,
      p.str("dtype") as DType,
    );
    t.name = label;
    return { "": t };
  },
  evaluate: leafOutput,
  torch: () => [],
  torchSetup(c) {
    const p = c.params;
    const args = `${pyNum(p.num("low"))}, ${pyNum(p.num("high"))}, ${pyTuple(p.nums("size"))}`;
    return [
      `torch.manual_seed(${p.num("seed")})`,
      `${c.leaf("")} = torch.randint(${args}${dtypeKwarg(p.str("dtype") as DType, "int64")}).to(${c.device})`,
    ];
  },
});

const randperm = defineKind({
  type: "randperm",
  family: "Data",
  description: "The numbers 0 to n-1 shuffled, like torch.manual_seed(seed); torch.randperm(n)",
  inputs: [],
  params: [
    { name: "n", type: "number", integer: true, min: 0, default: 10, help: "how many numbers" },
    seedParam,
    integerDType,
  ],
  infer: ({ params }) => meta([params.num("n")], params.str("dtype") as DType),
  leaves(p, label) {
    const t = fromFlat(
      permutation(new TorchGenerator(p.num("seed")), p.num("n")),
      [p.num("n")],
      p.str("dtype") as DType,
    );
    t.name = label;
    return { "": t };
  },
  evaluate: leafOutput,
  torch: () => [],
  torchSetup: (c) => [
    `torch.manual_seed(${c.params.num("seed")})`,
    `${c.leaf("")} = torch.randperm(${c.params.num("n")}${dtypeKwarg(c.params.str("dtype") as DType, "int64")}).to(${c.device})`,
  ],
});

/** In the palette's order: after torch.tensor, before the ranges. */
export const RANDOM_KINDS: readonly NodeKind[] = [
  withSamples(randn, [{ inputs: {}, params: { size: [2, 3], seed: 7, requires_grad: true } }]),
  withSamples(rand, [{ inputs: {}, params: { size: [4], seed: 3, dtype: "float64" } }]),
  withSamples(normal, [{ inputs: {}, params: { size: [20], mean: 1, std: 2, seed: 1 } }]),
  withSamples(uniform, [{ inputs: {}, params: { size: [5], a: -1, b: 2, seed: 2, dtype: "float64" } }]),
  withSamples(randint, [{ inputs: {}, params: { low: -2, high: 5, size: [6], seed: 3 } }]),
  withSamples(randperm, [{ inputs: {}, params: { n: 8, seed: 4 } }]),
];
