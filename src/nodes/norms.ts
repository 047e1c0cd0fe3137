/**
 * Normalisation, embedding and dropout: the functional forms (F.batch_norm, F.layer_norm, F.group_norm,
 * F.embedding, F.dropout) and the nn modules owning their parameters and buffers (BatchNorm1d/2d, LayerNorm,
 * Embedding, Dropout), initialised as `torch.manual_seed(seed)` and the module's constructor make them.
 * The math is the runtime's (src/runtime/ops/normalization.ts), composed of runtime ops.
 */
import {
  type DType,
  fmtShape,
  fromFlat,
  full,
  noGrad,
  normalValues,
  ops,
  type RandomFloat,
  type Tensor,
  TorchGenerator,
} from "../runtime/index.ts";
import { inputPort } from "./common.ts";
import { pyFloat, pyKwargs, pyNum, pyTuple } from "./python.ts";
import { floatDType, seedParam } from "./random.ts";
import { defineKind, withSamples } from "./registry.ts";
import { X } from "./sample-values.ts";
import { meta, numelOf, req, requireFloat } from "./shapes.ts";
import {
  type EvalContext,
  type InferContext,
  InferError,
  type NodeKind,
  type ParamDecl,
  type ParamReader,
  type PortDecl,
  type TensorMeta,
  type TorchContext,
} from "./types.ts";

const epsParam: ParamDecl = {
  name: "eps",
  type: "number",
  min: 0,
  default: 1e-5,
  help: "added to the variance before its square root, for stability",
};

/**
 * The keyword arguments the functional norms share: weight= and bias= when wired, then `more` (torch's
 * defaults left out) and eps unless it is torch's 1e-5.
 */
function affineKwargs(c: TorchContext, more: Parameters<typeof pyKwargs>[0] = []): string[] {
  return [
    c.inputs.weight ? `weight=${c.inputs.weight}` : "",
    c.inputs.bias ? `bias=${c.inputs.bias}` : "",
    pyKwargs([...more, ["eps", c.params.num("eps"), 1e-5]]),
  ].filter((s) => s !== "");
}

const momentumParam = (nullable: boolean): ParamDecl => ({
  name: "momentum",
  type: "number",
  min: 0,
  max: 1,
  default: 0.1,
  nullable,
  help: nullable
    ? "weight of each batch in the running statistics; None: their cumulative average"
    : "weight of each batch in the running statistics",
});

const trainingParam = (def: boolean, help: string): ParamDecl => ({
  name: "training",
  type: "boolean",
  default: def,
  help,
});

const vectorPort = (name: string, help: string, noGrad = false): PortDecl => ({
  name,
  dtype: "float",
  optional: true,
  ...(noGrad ? { noGrad: true } : {}),
  help,
});

/** An optional per-feature port: the given shape and the input's dtype. */
function checkPort(ctx: InferContext, port: string, shape: number[], x: TensorMeta) {
  const m = ctx.inputs[port];
  if (!m) return;
  if (m.shape.length !== shape.length || m.shape.some((s, i) => s !== shape[i]))
    throw new InferError(`${port} must have shape ${fmtShape(shape)}, got ${fmtShape(m.shape)}`, port);
  if (m.dtype !== x.dtype)
    throw new InferError(`${port} is ${m.dtype} but input is ${x.dtype}; they must match`, port);
}

/** The input of a (N, C, *) layer: `dims` lists the ranks it takes (any from 2 when absent), `form` names them. */
function channelInput(ctx: InferContext, what: string, dims?: readonly number[], form = "(N, C, *)") {
  const x = req(ctx, "input");
  requireFloat(x, "input", what);
  const rank = x.shape.length;
  if (dims ? !dims.includes(rank) : rank < 2)
    throw new InferError(`${what} expects input ${form}, got ${rank}-D input ${fmtShape(x.shape)}`, "input");
  return x;
}

function checkBatch(x: TensorMeta, what: string): void {
  if (numelOf(x.shape) / x.shape[1] <= 1)
    throw new InferError(
      `${what}: expected more than 1 value per channel when training, got input size ${fmtShape(x.shape)}`,
      "input",
    );
}

const optionalArg = (c: TorchContext, port: string) => c.inputs[port] ?? "None";

const batchNorm = defineKind({
  type: "batch_norm",
  family: "Model",
  description:
    "F.batch_norm: normalise each channel by the batch's statistics (training) or the running ones; training updates running_mean and running_var in place",
  inputs: [
    inputPort("(N, C, *)", "float"),
    vectorPort("running_mean", "(C): the running mean, updated in place in training mode", true),
    vectorPort("running_var", "(C): the running variance, updated in place in training mode", true),
    vectorPort("weight", "(C): scale, optional"),
    vectorPort("bias", "(C): shift, optional"),
  ],
  params: [
    trainingParam(false, "use the batch's statistics and update the running ones (torch's default: False)"),
    momentumParam(false),
    epsParam,
  ],
  infer(ctx) {
    const x = channelInput(ctx, "batch_norm");
    for (const port of ["running_mean", "running_var", "weight", "bias"])
      checkPort(ctx, port, [x.shape[1]], x);
    if (ctx.params.bool("training")) checkBatch(x, "batch_norm");
    else
      for (const port of ["running_mean", "running_var"])
        if (!ctx.inputs[port])
          throw new InferError(`${port} must be connected in evaluation mode (training: False)`, port);
    return meta(x.shape, x.dtype);
  },
  evaluate: (c) =>
    ops.batchNorm(c.inputs.input!, {
      runningMean: c.inputs.running_mean,
      runningVar: c.inputs.running_var,
      weight: c.inputs.weight,
      bias: c.inputs.bias,
      training: c.params.bool("training"),
      momentum: c.params.num("momentum"),
      eps: c.params.num("eps"),
    }),
  torch(c) {
    const p = c.params;
    const args = [c.inputs.input, optionalArg(c, "running_mean"), optionalArg(c, "running_var")];
    const kw = affineKwargs(c, [
      ["training", p.bool("training"), false],
      ["momentum", p.num("momentum"), 0.1],
    ]);
    return [`${c.out} = F.batch_norm(${[...args, ...kw].join(", ")})`];
  },
});

const normalizedShapeParam: ParamDecl = {
  name: "normalized_shape",
  type: "numbers",
  integer: true,
  min: 1,
  default: [3],
  help: "the trailing dims to normalise over, e.g. [features]",
};

function layerNormShape(x: TensorMeta, shape: number[]): void {
  const tail = x.shape.slice(x.shape.length - shape.length);
  if (shape.length === 0 || shape.length > x.shape.length || tail.some((s, i) => s !== shape[i]))
    throw new InferError(
      `given normalized_shape=${fmtShape(shape)}, expected input with shape [*, ${shape.join(", ")}], but got input of size ${fmtShape(x.shape)}`,
      "input",
    );
}

const layerNorm = defineKind({
  type: "layer_norm",
  family: "Model",
  description: "F.layer_norm: normalise over the last dims (normalized_shape), then scale and shift",
  inputs: [
    inputPort("(*, normalized_shape)", "float"),
    { name: "weight", dtype: "float", optional: true, help: "normalized_shape: scale, optional" },
    { name: "bias", dtype: "float", optional: true, help: "normalized_shape: shift, optional" },
  ],
  params: [normalizedShapeParam, epsParam],
  infer(ctx) {
    const x = req(ctx, "input");
    requireFloat(x, "input", "layer_norm");
    const shape = ctx.params.nums("normalized_shape");
    layerNormShape(x, shape);
    checkPort(ctx, "weight", shape, x);
    checkPort(ctx, "bias", shape, x);
    return meta(x.shape, x.dtype);
  },
  evaluate: (c) =>
    ops.layerNorm(
      c.inputs.input!,
      c.params.nums("normalized_shape"),
      c.inputs.weight ?? null,
      c.inputs.bias ?? null,
      c.params.num("eps"),
    ),
  torch(c) {
    const args = [c.inputs.input, pyTuple(c.params.nums("normalized_shape")), ...affineKwargs(c)];
    return [`${c.out} = F.layer_norm(${args.join(", ")})`];
  },
});

const groupNorm = defineKind({
  type: "group_norm",
  family: "Model",
  description:
    "F.group_norm: normalise each sample over groups of channels, then scale and shift per channel",
  inputs: [
    inputPort("(N, C, *)", "float"),
    { name: "weight", dtype: "float", optional: true, help: "(C): scale, optional" },
    { name: "bias", dtype: "float", optional: true, help: "(C): shift, optional" },
  ],
  params: [
    {
      name: "num_groups",
      type: "number",
      integer: true,
      min: 1,
      default: 1,
      help: "groups the channels split into",
    },
    epsParam,
  ],
  infer(ctx) {
    const x = channelInput(ctx, "group_norm");
    const g = ctx.params.num("num_groups");
    if (x.shape[1] % g !== 0)
      throw new InferError(
        `expected the number of channels (${x.shape[1]}) to be divisible by num_groups (${g})`,
        "input",
      );
    checkPort(ctx, "weight", [x.shape[1]], x);
    checkPort(ctx, "bias", [x.shape[1]], x);
    return meta(x.shape, x.dtype);
  },
  evaluate: (c) =>
    ops.groupNorm(
      c.inputs.input!,
      c.params.num("num_groups"),
      c.inputs.weight ?? null,
      c.inputs.bias ?? null,
      c.params.num("eps"),
    ),
  torch(c) {
    const args = [c.inputs.input, pyNum(c.params.num("num_groups")), ...affineKwargs(c)];
    return [`${c.out} = F.group_norm(${args.join(", ")})`];
  },
});

const embeddingParams: ParamDecl[] = [
  {
    name: "padding_idx",
    type: "number",
    integer: true,
    default: null,
    nullable: true,
    help: "this row gets no gradient (and starts at zero in nn.Embedding)",
  },
  {
    name: "max_norm",
    type: "number",
    min: 0,
    default: null,
    nullable: true,
    help: "rows picked with a larger norm are renormalised to it, in place",
  },
  {
    name: "norm_type",
    type: "number",
    exclusiveMin: true,
    min: 0,
    default: 2,
    help: "the p of max_norm's p-norm",
  },
  {
    name: "scale_grad_by_freq",
    type: "boolean",
    default: false,
    help: "divide each row's gradient by how often it is picked in the batch",
  },
  {
    name: "sparse",
    type: "boolean",
    default: false,
    help: "torch returns a sparse gradient; gradwire keeps it dense (the same values)",
  },
];

function embeddingShape(x: TensorMeta, w: TensorMeta, p: ParamReader): TensorMeta {
  if (w.shape.length !== 2)
    throw new InferError(
      `weight must be 2-D (num_embeddings, embedding_dim), got ${fmtShape(w.shape)}`,
      "weight",
    );
  const pad = p.numOrNull("padding_idx");
  if (pad !== null && (pad >= w.shape[0] || pad < -w.shape[0]))
    throw new InferError(`padding_idx (${pad}) must be within num_embeddings (${w.shape[0]})`);
  return meta([...x.shape, w.shape[1]], w.dtype);
}

const embeddingOptions = (p: ParamReader) => ({
  paddingIdx: p.numOrNull("padding_idx"),
  maxNorm: p.numOrNull("max_norm"),
  normType: p.num("norm_type"),
  scaleGradByFreq: p.bool("scale_grad_by_freq"),
});

const embeddingKwargs = (p: ParamReader) =>
  pyKwargs([
    ["padding_idx", p.numOrNull("padding_idx"), null],
    ["max_norm", p.numOrNull("max_norm"), null],
    ["norm_type", p.num("norm_type"), 2],
    ["scale_grad_by_freq", p.bool("scale_grad_by_freq"), false],
    ["sparse", p.bool("sparse"), false],
  ]);

const embedding = defineKind({
  type: "embedding",
  family: "Model",
  description: "F.embedding: the rows of weight picked by the indices in input",
  inputs: [
    inputPort("indices, any shape", "integer"),
    { name: "weight", dtype: "float", help: "(num_embeddings, embedding_dim)" },
  ],
  params: embeddingParams,
  infer: (ctx) => embeddingShape(req(ctx, "input"), req(ctx, "weight"), ctx.params),
  evaluate: (c) => ops.embedding(c.inputs.input!, c.inputs.weight!, embeddingOptions(c.params)),
  torch(c) {
    const kw = embeddingKwargs(c.params);
    return [`${c.out} = F.embedding(${c.inputs.input}, ${c.inputs.weight}${kw ? `, ${kw}` : ""})`];
  },
});

const pParam: ParamDecl = {
  name: "p",
  type: "number",
  min: 0,
  max: 1,
  default: 0.5,
  help: "probability of an element being zeroed",
};

const dropoutSeed: ParamDecl = {
  ...seedParam,
  help: "torch.manual_seed(seed) once, before the training loop: the masks are PyTorch's, a new one every step (with several dropouts, the first one's seed seeds them all)",
};

/** The generator a mask is drawn from: the training run's (torch's global one), else one seeded for this call. */
function generatorOf(c: EvalContext): TorchGenerator {
  return c.generator ?? new TorchGenerator(c.params.num("seed"));
}

const dropout = defineKind({
  type: "dropout",
  family: "Model",
  description:
    "F.dropout: zero elements with probability p and scale the rest by 1/(1-p), a new mask every step; identity when not training",
  inputs: [inputPort("any shape", "float")],
  params: [
    pParam,
    trainingParam(true, "apply dropout (False: the identity); as F.dropout's argument, validation included"),
    dropoutSeed,
  ],
  random: true,
  infer(ctx) {
    const x = req(ctx, "input");
    requireFloat(x, "input", "dropout");
    return meta(x.shape, x.dtype);
  },
  evaluate: (c) => ops.dropout(c.inputs.input!, c.params.num("p"), c.params.bool("training"), generatorOf(c)),
  torch: (c) => [
    `${c.out} = F.dropout(${c.inputs.input}, p=${pyFloat(c.params.num("p"))}, training=${c.params.bool("training") ? "True" : "False"})`,
  ],
});

// --- modules --------------------------------------------------------------------------------------------

const dtypeOf = (p: ParamReader) => p.str("dtype") as RandomFloat;

function named(
  leaves: Record<string, Tensor>,
  label: string,
  trained: readonly string[],
): Record<string, Tensor> {
  for (const [name, t] of Object.entries(leaves)) {
    t.name = `${label}.${name}`;
    if (trained.includes(name)) t.requiresGrad_(true);
  }
  return leaves;
}

/** The module's dtype must be the input's (nn modules refuse mixed dtypes). */
function sameDType(x: TensorMeta, p: ParamReader): void {
  const d = p.str("dtype");
  if (x.dtype !== d)
    throw new InferError(
      `input is ${x.dtype} but the layer's parameters are ${d}: set the layer's dtype to ${x.dtype}`,
      "input",
    );
}

/** A module's constructor call `BatchNorm1d(3, ...)` with its dtype when that is not float32. */
function withDType(p: ParamReader, ctor: string): string {
  const d = p.str("dtype") === "float32" ? "" : `, dtype=torch.${p.str("dtype")}`;
  return ctor.replace(/\)$/, `${d})`);
}

const numFeatures: ParamDecl = {
  name: "num_features",
  type: "number",
  integer: true,
  min: 1,
  default: 3,
  help: "C, the channels of input (N, C, ...)",
};

function batchNormLeaves(p: ParamReader, label: string): Record<string, Tensor> {
  const c = p.num("num_features");
  const d = dtypeOf(p);
  const out: Record<string, Tensor> = {};
  if (p.bool("affine")) {
    out.weight = full([c], 1, d);
    out.bias = full([c], 0, d);
  }
  if (p.bool("track_running_stats")) {
    out.running_mean = full([c], 0, d);
    out.running_var = full([c], 1, d);
    out.num_batches_tracked = full([], 0, "int64");
  }
  return named(out, label, ["weight", "bias"]);
}

/** nn.BatchNorm's forward: count the batch, pick the factor (momentum, or 1/count for None), then F.batch_norm. */
function batchNormModule(c: EvalContext): Tensor {
  const p = c.params;
  const { weight, bias, running_mean, running_var, num_batches_tracked: count } = c.leaves;
  const x = c.inputs.input!;
  let factor: number | Tensor = p.numOrNull("momentum") ?? 0;
  if (c.training && count) {
    const next = noGrad(() => ops.add(count, 1));
    ops.writeState(count, next, "num_batches_tracked");
    // torch: 1.0 / float(num_batches_tracked), a Python float, rounded to the parameters' dtype. (From `next`,
    // not `count`: a backend replaying the trace sees `count` as it was before the write.)
    if (p.numOrNull("momentum") === null) factor = noGrad(() => ops.div(1, ops.cast(next, x.dtype)));
  }
  const tracking = running_mean !== undefined;
  return ops.batchNorm(x, {
    runningMean: !c.training || tracking ? running_mean : null,
    runningVar: !c.training || tracking ? running_var : null,
    weight,
    bias,
    training: c.training || !tracking,
    momentum: factor,
    eps: p.num("eps"),
  });
}

function batchNormLayer(type: "BatchNorm1d" | "BatchNorm2d", dims: number[], form: string): NodeKind {
  const ctor = (p: ParamReader) => {
    const kw = pyKwargs([
      ["eps", p.num("eps"), 1e-5],
      ["momentum", p.numOrNull("momentum"), 0.1],
      ["affine", p.bool("affine"), true],
      ["track_running_stats", p.bool("track_running_stats"), true],
    ]);
    return `${type}(${p.num("num_features")}${kw ? `, ${kw}` : ""})`;
  };
  return defineKind({
    type,
    family: "Model",
    description: `nn.${type}: batch normalisation with its own weight, bias and running statistics (updated while training)`,
    inputs: [inputPort(form, "float")],
    params: [
      numFeatures,
      epsParam,
      momentumParam(true),
      { name: "affine", type: "boolean", default: true, help: "learn a per-channel weight and bias" },
      {
        name: "track_running_stats",
        type: "boolean",
        default: true,
        help: "keep running statistics (used in evaluation mode); off: always the batch's",
      },
      { ...floatDType, help: "element type of the parameters and buffers" },
    ],
    infer(ctx) {
      const x = channelInput(ctx, type, dims, form);
      sameDType(x, ctx.params);
      if (x.shape[1] !== ctx.params.num("num_features"))
        throw new InferError(
          `input has ${x.shape[1]} channels (dim 1) but num_features is ${ctx.params.num("num_features")}`,
          "input",
        );
      return meta(x.shape, x.dtype);
    },
    leaves: batchNormLeaves,
    trainsLeaves: (p) => p.bool("affine"),
    evaluate: batchNormModule,
    torchModule: (c) => ({ layer: `nn.${withDType(c.params, ctor(c.params))}` }),
  });
}

function layerNormCtor(p: ParamReader): string {
  const kw = pyKwargs([
    ["eps", p.num("eps"), 1e-5],
    ["elementwise_affine", p.bool("elementwise_affine"), true],
  ]);
  return `LayerNorm(${pyTuple(p.nums("normalized_shape"))}${kw ? `, ${kw}` : ""})`;
}

const layerNormLayer = defineKind({
  type: "LayerNorm",
  family: "Model",
  description: "nn.LayerNorm: layer normalisation with its own weight (ones) and bias (zeros)",
  inputs: [inputPort("(*, normalized_shape)", "float")],
  params: [
    normalizedShapeParam,
    epsParam,
    { name: "elementwise_affine", type: "boolean", default: true, help: "learn a weight and bias" },
    { ...floatDType, help: "element type of the weight and bias" },
  ],
  infer(ctx) {
    const x = req(ctx, "input");
    requireFloat(x, "input", "LayerNorm");
    sameDType(x, ctx.params);
    layerNormShape(x, ctx.params.nums("normalized_shape"));
    return meta(x.shape, x.dtype);
  },
  trainsLeaves: (p) => p.bool("elementwise_affine"),
  leaves(p, label) {
    if (!p.bool("elementwise_affine")) return {};
    const shape = p.nums("normalized_shape");
    return named({ weight: full(shape, 1, dtypeOf(p)), bias: full(shape, 0, dtypeOf(p)) }, label, [
      "weight",
      "bias",
    ]);
  },
  evaluate: (c) =>
    ops.layerNorm(
      c.inputs.input!,
      c.params.nums("normalized_shape"),
      c.leaves.weight ?? null,
      c.leaves.bias ?? null,
      c.params.num("eps"),
    ),
  torchModule: (c) => ({ layer: `nn.${withDType(c.params, layerNormCtor(c.params))}` }),
});

/** `torch.manual_seed(seed); nn.Embedding(n, d, padding_idx)`: weight.normal_(), the padding row zeroed. */
function embeddingLeaves(p: ParamReader, label: string): Record<string, Tensor> {
  const [n, d] = [p.num("num_embeddings"), p.num("embedding_dim")];
  const values = normalValues(new TorchGenerator(p.num("seed")), n * d, dtypeOf(p));
  let pad = p.numOrNull("padding_idx");
  if (pad !== null) {
    if (pad >= n || pad < -n)
      throw new InferError(`padding_idx (${pad}) must be within num_embeddings (${n})`);
    if (pad < 0) pad += n;
    values.fill(0, pad * d, (pad + 1) * d);
  }
  return named({ weight: fromFlat(values, [n, d], dtypeOf(p)) }, label, ["weight"]);
}

function embeddingCtor(p: ParamReader): string {
  const kw = embeddingKwargs(p);
  return `Embedding(${p.num("num_embeddings")}, ${p.num("embedding_dim")}${kw ? `, ${kw}` : ""})`;
}

const embeddingLayer = defineKind({
  type: "Embedding",
  family: "Model",
  description:
    "nn.Embedding: a lookup table of num_embeddings rows, initialised from N(0, 1) as PyTorch does from a seed",
  inputs: [inputPort("indices, any shape", "integer")],
  params: [
    { name: "num_embeddings", type: "number", integer: true, min: 1, default: 10, help: "rows in the table" },
    { name: "embedding_dim", type: "number", integer: true, min: 1, default: 3, help: "size of each row" },
    ...embeddingParams,
    {
      ...seedParam,
      help: "torch.manual_seed(seed) before nn.Embedding(...): the same seed gives PyTorch's initial values",
    },
    { ...floatDType, help: "element type of the weight" },
  ],
  infer(ctx) {
    const p = ctx.params;
    const w = meta([p.num("num_embeddings"), p.num("embedding_dim")], p.str("dtype") as DType);
    return embeddingShape(req(ctx, "input"), w, p);
  },
  leaves: embeddingLeaves,
  trainsLeaves: () => true,
  evaluate: (c) => ops.embedding(c.inputs.input!, c.leaves.weight, embeddingOptions(c.params)),
  torchModule: (c) => ({
    layer: `nn.${withDType(c.params, embeddingCtor(c.params))}`,
    seed: c.params.num("seed"),
  }),
});

const dropoutLayer = defineKind({
  type: "Dropout",
  family: "Model",
  description: "nn.Dropout: zeroes elements with probability p while training, the identity in evaluation",
  inputs: [inputPort("any shape", "float")],
  params: [pParam, dropoutSeed],
  random: true,
  infer(ctx) {
    const x = req(ctx, "input");
    requireFloat(x, "input", "Dropout");
    return meta(x.shape, x.dtype);
  },
  evaluate: (c) => ops.dropout(c.inputs.input!, c.params.num("p"), c.training, generatorOf(c)),
  // No seed of its own: the run's one generator, seeded once before the loop, draws every mask.
  torchModule: (c) => ({ layer: `nn.Dropout(p=${pyFloat(c.params.num("p"))})` }),
});

const BN_X = [
  [0.5, -1.0, 2.0],
  [1.5, 0.25, -0.75],
  [3.0, -2.0, 1.0],
  [0.1, 0.2, 0.3],
];
const IMG = [
  [
    [
      [0.5, -1.0],
      [2.0, 0.25],
    ],
    [
      [1.5, 0.75],
      [-0.5, 1.0],
    ],
  ],
  [
    [
      [3.0, -2.0],
      [0.1, 0.2],
    ],
    [
      [-1.25, 0.3],
      [0.6, -0.9],
    ],
  ],
];
const CH = [0.5, -0.25, 1.5];

export const NORM_KINDS: readonly NodeKind[] = [
  withSamples(batchNorm, [
    {
      name: "training",
      inputs: {
        input: BN_X,
        running_mean: [0.1, 0.2, 0.3],
        running_var: [1, 2, 0.5],
        weight: CH,
        bias: [0.1, 0.2, -0.3],
      },
      params: { training: true, momentum: 0.2 },
    },
    {
      name: "eval",
      inputs: {
        input: BN_X,
        running_mean: [0.1, 0.2, 0.3],
        running_var: [1, 2, 0.5],
        weight: CH,
        bias: [0.1, 0.2, -0.3],
      },
    },
    { name: "4-d, batch statistics only", inputs: { input: IMG }, params: { training: true, eps: 0.01 } },
  ]),
  withSamples(layerNorm, [
    { inputs: { input: X, weight: CH, bias: [0.1, 0.2, -0.3] } },
    { name: "two dims, no affine", inputs: { input: IMG }, params: { normalized_shape: [2, 2], eps: 0.001 } },
  ]),
  withSamples(groupNorm, [
    { inputs: { input: IMG, weight: [1.5, -0.5], bias: [0.25, 0.5] }, params: { num_groups: 2 } },
    { name: "one group", inputs: { input: IMG }, params: { num_groups: 1 } },
  ]),
  withSamples(embedding, [
    {
      inputs: {
        input: [
          [1, 2, 1],
          [0, 3, 1],
        ],
        weight: [
          [1, 2],
          [3, 4],
          [0.5, -1],
          [2, 2],
        ],
      },
      name: "padding_idx, scale_grad_by_freq",
      params: { padding_idx: 0, scale_grad_by_freq: true },
    },
    {
      name: "max_norm",
      inputs: {
        input: [2, 0, 2],
        weight: [
          [0.5, 1.5],
          [3, 4],
          [0.25, -0.5],
        ],
      },
      params: { max_norm: 1, norm_type: 1 },
    },
  ]),
  withSamples(dropout, [
    { inputs: { input: X }, params: { p: 0.4, seed: 3 } },
    { name: "not training", inputs: { input: X }, params: { p: 0.4, training: false } },
  ]),
  withSamples(batchNormLayer("BatchNorm1d", [2, 3], "(N, C) or (N, C, L)"), [
    { inputs: { input: BN_X }, params: { num_features: 3 }, precision: "float32" },
    {
      name: "float64, cumulative average",
      inputs: {
        input: [
          [
            [0.5, 1],
            [2, -1],
          ],
          [
            [1.5, 3],
            [0.25, 0.75],
          ],
        ],
      },
      params: { num_features: 2, momentum: null, dtype: "float64" },
      precision: "float64",
    },
  ]),
  withSamples(batchNormLayer("BatchNorm2d", [4], "(N, C, H, W)"), [
    { inputs: { input: IMG }, params: { num_features: 2, affine: false }, precision: "float32" },
    {
      name: "float64",
      inputs: { input: IMG },
      params: { num_features: 2, eps: 0.01, dtype: "float64" },
      precision: "float64",
    },
  ]),
  withSamples(layerNormLayer, [
    { inputs: { input: X }, params: { normalized_shape: [3] }, precision: "float32" },
    {
      name: "float64",
      inputs: { input: IMG },
      params: { normalized_shape: [2, 2], dtype: "float64" },
      precision: "float64",
    },
  ]),
  withSamples(embeddingLayer, [
    {
      inputs: {
        input: [
          [1, 4, 2],
          [0, 4, 4],
        ],
      },
      params: { num_embeddings: 5, embedding_dim: 3, padding_idx: 4, seed: 2 },
      precision: "float32",
    },
    {
      name: "float64",
      inputs: {
        input: [
          [0, 3],
          [1, 0],
        ],
      },
      params: { num_embeddings: 4, embedding_dim: 2, seed: 3, dtype: "float64" },
      precision: "float64",
    },
  ]),
  withSamples(dropoutLayer, [{ inputs: { input: X }, params: { p: 0.3, seed: 7 } }]),
];
