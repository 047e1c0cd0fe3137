/**
 * Data sets: toy sets drawn from PyTorch's generator (make_moons, make_circles, make_blobs, make_regression,
 * spirals, xor), the bundled Iris and 8x8 digits (src/nodes/data, credited in DATA-CREDITS.md), and random_split
 * as torch.utils.data.random_split. Each data set has two outputs, X (samples x features) and y (class indices,
 * or float targets for make_regression); exported scripts rebuild them with torch calls or embed the bundled data.
 */
import { type DType, fromFlat, ops, permutation, type Tensor, TorchGenerator } from "../runtime/index.ts";
import { DIGITS_LABELS, DIGITS_PIXELS } from "./data/digits.ts";
import { IRIS_LABELS, IRIS_TENTHS } from "./data/iris.ts";
import {
  makeBlobs,
  makeCircles,
  makeMoons,
  makeRegression,
  spirals,
  TOY_PYTHON,
  type ToyData,
  type ToyParams,
  xor,
} from "./data/toy.ts";
import { pyDType, pyFloat, pyNum, pyValue } from "./python.ts";
import { floatDType as randomFloatDType, seedParam } from "./random.ts";
import { defineKind, withSamples } from "./registry.ts";
import { meta, req } from "./shapes.ts";
import { InferError, type NodeKind, type ParamDecl, type ParamReader, type TorchContext } from "./types.ts";

const DATASET_OUTPUTS = [
  { name: "X", help: "the samples, one row each (n_samples, features)" },
  { name: "y", help: "each sample's class index (int64), or its target for regression" },
] as const;

const floatDType: ParamDecl = {
  ...randomFloatDType,
  help: "element type of X (the data are made in float64 and rounded once)",
};

const nSamples = (def: number): ParamDecl => ({
  name: "n_samples",
  type: "number",
  integer: true,
  min: 1,
  default: def,
  help: "how many points",
});

const noiseParam = (def: number): ParamDecl => ({
  name: "noise",
  type: "number",
  min: 0,
  default: def,
  help: "standard deviation of the Gaussian noise added to the points",
});

const nFeatures: ParamDecl = {
  name: "n_features",
  type: "number",
  integer: true,
  min: 1,
  default: 2,
  help: "how many features (columns of X)",
};

/** Params a recipe does not declare take these values (they are not read). */
const UNUSED: ToyParams = {
  n_samples: 0,
  noise: 0,
  seed: 0,
  factor: 0,
  centers: 1,
  n_features: 2,
  cluster_std: 1,
  bias: 0,
  classes: 2,
};

interface ToyKind {
  type: string;
  description: string;
  params: ParamDecl[];
  make(p: ToyParams): ToyData;
  /** Float targets (make_regression) rather than class indices. */
  regression?: boolean;
}

function toyParams(kind: ToyKind, p: ParamReader): ToyParams {
  const out = { ...UNUSED, seed: p.num("seed") };
  for (const d of kind.params) (out as unknown as Record<string, number>)[d.name] = p.num(d.name);
  return out;
}

function datasetLeaves(X: number[], features: number, y: number[], d: DType, yDType: DType, label: string) {
  const x = fromFlat(X, [y.length, features], d);
  const t = fromFlat(y, [y.length], yDType);
  x.name = `${label}.X`;
  t.name = `${label}.y`;
  return { X: x, y: t };
}

const outputsOfLeaves = (c: { leaves: Record<string, Tensor> }) => ({ X: c.leaves.X, y: c.leaves.y });

function toyKind(spec: ToyKind): NodeKind {
  const params = [...spec.params, seedParam, floatDType];
  const yDType = (p: ParamReader): DType => (spec.regression ? (p.str("dtype") as DType) : "int64");
  const features = (p: ParamReader) =>
    spec.params.some((d) => d.name === "n_features") ? p.num("n_features") : 2;
  return defineKind({
    type: spec.type,
    family: "Data",
    description: spec.description,
    inputs: [],
    outputs: DATASET_OUTPUTS,
    params,
    infer({ params: p }) {
      const n = p.num("n_samples");
      return { X: meta([n, features(p)], p.str("dtype") as DType), y: meta([n], yDType(p)) };
    },
    leaves(p, label) {
      const data = spec.make(toyParams(spec, p));
      return datasetLeaves(data.X, data.features, data.y, p.str("dtype") as DType, yDType(p), label);
    },
    evaluate: outputsOfLeaves,
    torch: () => [],
    torchSetup(c) {
      const fn = c.helper(spec.type, TOY_PYTHON[spec.type]);
      const args = [...spec.params.map((d) => pyNum(c.params.num(d.name))), pyNum(c.params.num("seed"))];
      const [X, y] = [c.outputs.X, c.outputs.y];
      const rows = c.name(`${spec.type}_data`);
      return [
        `${rows} = ${fn}(${args.join(", ")})`,
        `${X} = torch.tensor(${rows}[0], dtype=torch.float64).to(${pyDType(c.params.str("dtype") as DType)}).to(${c.device})`,
        spec.regression
          ? `${y} = torch.tensor(${rows}[1], dtype=torch.float64).to(${pyDType(yDType(c.params))}).to(${c.device})`
          : `${y} = torch.tensor(${rows}[1]).to(${c.device})`,
      ];
    },
  });
}

const TOY_KINDS = [
  withSamples(
    toyKind({
      type: "make_moons",
      description: "Two interleaved half circles, two classes (like sklearn's make_moons), from a seed",
      params: [nSamples(100), noiseParam(0.1)],
      make: makeMoons,
    }),
    [{ inputs: {}, params: { n_samples: 12, noise: 0.1, seed: 1 } }],
  ),
  withSamples(
    toyKind({
      type: "make_circles",
      description: "A circle inside another, two classes (like sklearn's make_circles), from a seed",
      params: [
        nSamples(100),
        noiseParam(0.05),
        { name: "factor", type: "number", min: 0, max: 1, default: 0.5, help: "the inner circle's radius" },
      ],
      make: makeCircles,
    }),
    [{ inputs: {}, params: { n_samples: 10, noise: 0.05, factor: 0.4, seed: 2 } }],
  ),
  withSamples(
    toyKind({
      type: "make_blobs",
      description: "Gaussian blobs around random centers, one class each (like sklearn's make_blobs)",
      params: [
        nSamples(100),
        {
          name: "centers",
          type: "number",
          integer: true,
          min: 1,
          default: 3,
          help: "how many blobs (classes)",
        },
        nFeatures,
        { name: "cluster_std", type: "number", min: 0, default: 1, help: "each blob's standard deviation" },
      ],
      make: makeBlobs,
    }),
    [{ inputs: {}, params: { n_samples: 9, centers: 3, n_features: 2, seed: 2 } }],
  ),
  withSamples(
    toyKind({
      type: "make_regression",
      description:
        "A linear regression problem: y = X @ coef + bias + noise (like sklearn's make_regression)",
      params: [
        nSamples(100),
        nFeatures,
        noiseParam(0.1),
        { name: "bias", type: "number", default: 0, help: "added to every target" },
      ],
      make: makeRegression,
      regression: true,
    }),
    [{ inputs: {}, params: { n_samples: 6, n_features: 2, noise: 0.1, bias: 1, seed: 3 } }],
  ),
  withSamples(
    toyKind({
      type: "spirals",
      description: "Interleaved spiral arms, one class per arm (the CS231n spiral data), from a seed",
      params: [
        nSamples(300),
        { name: "classes", type: "number", integer: true, min: 1, default: 3, help: "how many arms" },
        noiseParam(0.2),
      ],
      make: spirals,
    }),
    [{ inputs: {}, params: { n_samples: 9, classes: 3, seed: 4 } }],
  ),
  withSamples(
    toyKind({
      type: "xor",
      description: "Points in the square [-1, 1)^2, class 1 where x and y differ in sign (the XOR problem)",
      params: [nSamples(200), noiseParam(0)],
      make: xor,
    }),
    [{ inputs: {}, params: { n_samples: 8, noise: 0.1, seed: 5 } }],
  ),
];

interface Bundled {
  type: string;
  description: string;
  rows: number;
  features: number;
  values(): number[];
  labels(): number[];
}

const BASE17 = "0123456789abcdefg";

const BUNDLED: Bundled[] = [
  {
    type: "iris",
    description: "Fisher's Iris: 150 flowers, 4 measurements in cm, 3 species (UCI, CC BY 4.0)",
    rows: 150,
    features: 4,
    values: () => IRIS_TENTHS.split(",").map((v) => Number(v) / 10),
    labels: () => Array.from(IRIS_LABELS, Number),
  },
  {
    type: "digits",
    description: "Handwritten digits: 1797 images of 8x8 pixels valued 0 to 16, classes 0-9 (UCI, CC BY 4.0)",
    rows: 1797,
    features: 64,
    values: () => Array.from(DIGITS_PIXELS, (ch) => BASE17.indexOf(ch)),
    labels: () => Array.from(DIGITS_LABELS, Number),
  },
];

function bundledKind(b: Bundled): NodeKind {
  return defineKind({
    type: b.type,
    family: "Data",
    description: b.description,
    inputs: [],
    outputs: DATASET_OUTPUTS,
    params: [floatDType],
    infer: ({ params }) => ({
      X: meta([b.rows, b.features], params.str("dtype") as DType),
      y: meta([b.rows], "int64"),
    }),
    leaves: (p, label) =>
      datasetLeaves(b.values(), b.features, b.labels(), p.str("dtype") as DType, "int64", label),
    evaluate: outputsOfLeaves,
    torch: () => [],
    // The data travel inside the script (base64 of their bytes when large), so it runs with nothing beside it.
    torchSetup: (c) => [`${c.outputs.X} = ${c.leafTensor("X")}`, `${c.outputs.y} = ${c.leafTensor("y")}`],
  });
}

// ---- random_split -------------------------------------------------------------------------------------------

const SPLITS = ["train", "val", "test"] as const;

/** random_split reads lengths as fractions when they sum to 1 (math.isclose, rel_tol 1e-9) and not above. */
function areFractions(lengths: readonly number[]): boolean {
  const total = lengths.reduce((a, b) => a + b, 0);
  return Math.abs(total - 1) <= 1e-9 * Math.max(Math.abs(total), 1) && total <= 1;
}

/** torch.utils.data.random_split's lengths: fractions summing to 1 (floored, remainder round-robin) or counts. */
export function splitLengths(lengths: readonly number[], n: number): number[] {
  if (lengths.length < 1 || lengths.length > SPLITS.length)
    throw new InferError(`param 'lengths' needs 1 to ${SPLITS.length} entries (train, val, test)`);
  const total = lengths.reduce((a, b) => a + b, 0);
  if (areFractions(lengths)) {
    const sizes = lengths.map((f, i) => {
      if (f < 0 || f > 1)
        throw new InferError(`param 'lengths': fraction at index ${i} is not between 0 and 1`);
      return Math.floor(n * f);
    });
    const remainder = n - sizes.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) sizes[i % sizes.length] += 1;
    return sizes;
  }
  if (!lengths.every((l) => Number.isInteger(l) && l >= 0))
    throw new InferError("param 'lengths' must be fractions summing to 1 or whole counts");
  if (total !== n)
    throw new InferError(`param 'lengths' counts sum to ${total}, but the data set has ${n} samples`);
  return [...lengths];
}

/** The index sets: torch.randperm(n, generator=torch.Generator().manual_seed(seed)) cut into consecutive runs. */
export function splitIndices(lengths: readonly number[], n: number, seed: number): number[][] {
  const sizes = splitLengths(lengths, n);
  const perm = permutation(new TorchGenerator(seed), n);
  let end = 0;
  return sizes.map((s) => {
    end += s;
    return perm.slice(end - s, end);
  });
}

const samplesOf = (p: ParamReader, n: number) => splitIndices(p.nums("lengths"), n, p.num("seed"));

const randomSplit = defineKind({
  type: "random_split",
  family: "Data",
  description:
    "Train / validation / test subsets, like torch.utils.data.random_split with a seeded generator",
  inputs: [
    { name: "X", help: "the samples (first dimension: one per sample)" },
    { name: "y", help: "the targets, one per sample" },
  ],
  outputs: SPLITS.flatMap((s) => [
    { name: `${s}_X`, help: `the ${s} samples` },
    { name: `${s}_y`, help: `the ${s} targets` },
    { name: `${s}_idx`, help: `which samples went to ${s} (int64 indices into X)` },
  ]),
  params: [
    {
      name: "lengths",
      type: "numbers",
      min: 0,
      default: [0.8, 0.2],
      help: "fractions summing to 1 (e.g. [0.8, 0.2]) or counts summing to the number of samples; up to 3",
    },
    { ...seedParam, help: "torch.Generator().manual_seed(seed): the same seed splits as PyTorch does" },
  ],
  infer(ctx) {
    const X = req(ctx, "X");
    const y = req(ctx, "y");
    const n = X.shape[0];
    if (X.shape.length === 0)
      throw new InferError("X must have a first dimension (one entry per sample)", "X");
    if (y.shape[0] !== n) throw new InferError(`y has ${y.shape[0] ?? "no"} samples, X has ${n}`, "y");
    const sizes = splitLengths(ctx.params.nums("lengths"), n);
    const out: Record<string, ReturnType<typeof meta>> = {};
    SPLITS.forEach((s, i) => {
      const m = sizes[i] ?? 0;
      out[`${s}_X`] = meta([m, ...X.shape.slice(1)], X.dtype);
      out[`${s}_y`] = meta([m, ...y.shape.slice(1)], y.dtype);
      out[`${s}_idx`] = meta([m], "int64");
    });
    return out;
  },
  evaluate(c) {
    const X = c.inputs.X!;
    const y = c.inputs.y!;
    const sets = samplesOf(c.params, X.shape[0]);
    const out: Record<string, Tensor> = {};
    SPLITS.forEach((s, i) => {
      const idx = fromFlat(sets[i] ?? [], [sets[i]?.length ?? 0], "int64");
      out[`${s}_idx`] = idx;
      out[`${s}_X`] = ops.indexSelect(X, 0, idx);
      out[`${s}_y`] = ops.indexSelect(y, 0, idx);
    });
    return out;
  },
  torch(c) {
    return SPLITS.flatMap((s) => [
      `${c.outputs[`${s}_X`]} = ${c.inputs.X}[${c.outputs[`${s}_idx`]}]`,
      `${c.outputs[`${s}_y`]} = ${c.inputs.y}[${c.outputs[`${s}_idx`]}]`,
    ]);
  },
  torchSetup(c: TorchContext) {
    const n = c.inputMetas.X?.shape[0] ?? 0;
    const lengths = c.params.nums("lengths");
    const given = lengths.map((l) => (areFractions(lengths) ? pyFloat(l) : pyNum(l)));
    const idx = SPLITS.map((s) => c.outputs[`${s}_idx`]);
    const subsets = c.name("subsets");
    return [
      `${subsets} = torch.utils.data.random_split(range(${n}), [${given.join(", ")}], generator=torch.Generator().manual_seed(${c.params.num("seed")}))`,
      ...idx.map(
        (v, i) =>
          `${v} = torch.tensor(${i < lengths.length ? `${subsets}[${i}].indices` : pyValue([])}, dtype=torch.int64, device=${c.device})`,
      ),
    ];
  },
});

export const DATASET_KINDS: readonly NodeKind[] = [
  ...TOY_KINDS,
  ...BUNDLED.map((b) => withSamples(bundledKind(b), [{ inputs: {}, params: {} }])),
  withSamples(randomSplit, [
    {
      inputs: {
        X: [
          [0.5, -1],
          [1.5, 2],
          [-0.25, 0.75],
          [3, -2],
          [0.125, 1],
        ],
        y: [1, 0, 1, 1, 0],
      },
      params: { lengths: [0.6, 0.2, 0.2], seed: 1 },
    },
  ]),
];
