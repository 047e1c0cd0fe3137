/**
 * Convolution and pooling, like torch.nn.functional: conv1d, conv2d, max_pool2d, avg_pool2d, adaptive_avg_pool2d,
 * and the nn.Conv2d / nn.Conv1d modules owning their weight and bias, initialised from a seed as PyTorch does.
 */
import {
  type DType,
  fromFlat,
  linearInit,
  ops,
  type RandomFloat,
  ShapeError,
  type Tensor,
} from "../runtime/index.ts";
import { inputPort } from "./common.ts";
import { pyNum, pyTuple } from "./python.ts";
import { floatDType, seedParam } from "./random.ts";
import { defineKind, withSamples } from "./registry.ts";
import { meta, req } from "./shapes.ts";
import {
  InferError,
  type KindSample,
  type NestedNumbers,
  type NodeKind,
  type ParamDecl,
  type ParamReader,
  type TensorMeta,
} from "./types.ts";

type ConvOptions = ops.ConvOptions;
type Pair = ops.Pair;

/** A shape check of the runtime's, as an inference error on the port it is about. */
function inferred<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    const port = /\bbias\b/.test(e.message) ? "bias" : /weight to be/.test(e.message) ? "weight" : "input";
    throw new InferError(e.message, port);
  }
}

/** An int or a tuple of ints (torch's `_pair` arguments): a "dims" param holds either. */
const pairParam = (name: string, def: number | null, help: string): ParamDecl => ({
  name,
  type: "dims",
  default: def,
  ...(def === null ? { nullable: true } : {}),
  help,
});

function pair(p: ParamReader, name: string): Pair {
  const v = p.dims(name);
  if (v === null) throw new InferError(`'${name}' must be an int or a tuple of ints`);
  return v;
}

/** Python for an int-or-tuple argument. */
const pyPair = (v: Pair): string => (typeof v === "number" ? pyNum(v) : pyTuple(v));

/**
 * Text params for arguments torch takes as an int, a tuple or a word: padding ('same', 'valid', 1, (1, 2)) and
 * adaptive pooling's output_size ((3, None)). Parsed here, so what the inspector shows is what Python reads.
 */
function parseTuple(
  text: string,
  name: string,
  words: readonly string[],
  none: boolean,
): string | (number | null)[] {
  const t = text.trim();
  if (words.includes(t.replace(/^['"]|['"]$/g, ""))) return t.replace(/^['"]|['"]$/g, "");
  const inner = t.replace(/^[([]\s*|\s*[)\]]$/g, "");
  const parts = inner.split(",").map((s) => s.trim());
  if (parts.at(-1) === "" && parts.length > 1) parts.pop();
  const out = parts.map((s) => (none && s === "None" ? null : /^-?\d+$/.test(s) ? Number(s) : Number.NaN));
  if (parts.length === 0 || out.some((v) => v !== null && (Number.isNaN(v) || v < 0)))
    throw new InferError(
      `'${name}' must be ${[...words.map((w) => `'${w}'`), "an int", `a tuple of ints${none ? " or None" : ""} like (1, 2)`].join(", ")}; got ${JSON.stringify(text)}`,
    );
  return out;
}

function padding(p: ParamReader): ConvOptions["padding"] {
  const v = parseTuple(p.str("padding"), "padding", ["same", "valid"], false);
  if (typeof v === "string") return v as "same" | "valid";
  return v.length === 1 ? (v[0] as number) : (v as number[]);
}

function pyPadding(p: ParamReader): string {
  const v = padding(p);
  return typeof v === "string" ? JSON.stringify(v) : pyPair(v as Pair);
}

function outputSize(p: ParamReader): number | (number | null)[] {
  const v = parseTuple(p.str("output_size"), "output_size", [], true) as (number | null)[];
  return v.length === 1 && v[0] !== null ? v[0] : v;
}

const pyOutputSize = (v: number | (number | null)[]): string =>
  typeof v === "number"
    ? pyNum(v)
    : `(${v.map((x) => (x === null ? "None" : pyNum(x))).join(", ")}${v.length === 1 ? "," : ""})`;

const convParams: ParamDecl[] = [
  pairParam("stride", 1, "step of the kernel: an int or a tuple"),
  {
    name: "padding",
    type: "string",
    default: "0",
    maxLength: 40,
    help: "zeros added on each side: an int, a tuple like (1, 2), 'same' (output as large as the input) or 'valid' (none)",
  },
  pairParam("dilation", 1, "spacing between kernel taps: an int or a tuple"),
  {
    name: "groups",
    type: "number",
    integer: true,
    min: 1,
    default: 1,
    help: "split channels into this many groups, each convolved separately",
  },
];

function convOptions(p: ParamReader): ConvOptions {
  return {
    stride: pair(p, "stride"),
    padding: padding(p),
    dilation: pair(p, "dilation"),
    groups: p.num("groups"),
  };
}

/** `, stride=2, padding="same"`: the conv arguments that differ from torch's defaults. */
function convKwargs(p: ParamReader): string {
  const out: string[] = [];
  const o = convOptions(p);
  if (JSON.stringify(o.stride) !== "1") out.push(`stride=${pyPair(o.stride as Pair)}`);
  if (JSON.stringify(o.padding) !== "0") out.push(`padding=${pyPadding(p)}`);
  if (JSON.stringify(o.dilation) !== "1") out.push(`dilation=${pyPair(o.dilation as Pair)}`);
  if (o.groups !== 1) out.push(`groups=${o.groups}`);
  return out.map((s) => `, ${s}`).join("");
}

function sameDType(what: string, ports: [string, TensorMeta | undefined][]): DType {
  const [first, ...rest] = ports;
  const d = first[1]!.dtype;
  for (const [port, m] of rest)
    if (m && m.dtype !== d)
      throw new InferError(`${what} expects ${port} of the input's dtype ${d}, got ${m.dtype}`, port);
  return d;
}

function convKind(dims: 1 | 2): NodeKind {
  const type = `conv${dims}d`;
  const spatial = dims === 2 ? "H, W" : "L";
  return defineKind({
    type,
    family: "Model",
    description: `${dims}-d convolution (cross-correlation) with a weight and optional bias, like F.${type}`,
    inputs: [
      inputPort(`(N, C_in, ${spatial}) or unbatched (C_in, ${spatial})`, "float"),
      { name: "weight", dtype: "float", help: `(C_out, C_in / groups, ${dims === 2 ? "kH, kW" : "kW"})` },
      { name: "bias", dtype: "float", optional: true, help: "(C_out), optional" },
    ],
    params: convParams,
    infer(ctx) {
      const x = req(ctx, "input");
      const w = req(ctx, "weight");
      const b = ctx.inputs.bias;
      const dtype = sameDType(type, [
        ["input", x],
        ["weight", w],
        ["bias", b],
      ]);
      const g = inferred(() =>
        ops.convGeometry(x.shape, w.shape, b?.shape ?? null, convOptions(ctx.params), dims),
      );
      return meta(g.shape, dtype);
    },
    evaluate: (c) =>
      (dims === 2 ? ops.conv2d : ops.conv1d)(
        c.inputs.input!,
        c.inputs.weight!,
        c.inputs.bias ?? null,
        convOptions(c.params),
      ),
    torch: (c) => [
      `${c.out} = F.${type}(${c.inputs.input}, ${c.inputs.weight}${c.inputs.bias ? `, ${c.inputs.bias}` : ""}${convKwargs(c.params)})`,
    ],
  });
}

const poolInput = inputPort("(N, C, H, W) or unbatched (C, H, W)", "float");
const kernelParam = pairParam("kernel_size", 2, "window size: an int or a tuple");
const strideParam = pairParam("stride", null, "window step: an int or a tuple; None: kernel_size");
const ceilParam: ParamDecl = {
  name: "ceil_mode",
  type: "boolean",
  default: false,
  help: "round the output size up: a last partial window counts",
};
const stride = (p: ParamReader) => p.dims("stride");

const maxPool2d = defineKind({
  type: "max_pool2d",
  family: "Model",
  description: "The largest value of each window (and where it is), like F.max_pool2d",
  inputs: [poolInput],
  outputs: [
    { name: "out", help: "the maxima" },
    {
      name: "indices",
      help: "where each maximum is, flat in its (H, W) plane (int64), as return_indices=True",
    },
  ],
  params: [
    kernelParam,
    strideParam,
    pairParam("padding", 0, "implicit -inf added on each side (at most half the kernel)"),
    pairParam("dilation", 1, "spacing between window taps"),
    ceilParam,
  ],
  infer(ctx) {
    const x = req(ctx, "input");
    const p = ctx.params;
    const shape = inferred(() =>
      ops.maxPool2dShape(x.shape, pair(p, "kernel_size"), {
        stride: stride(p),
        padding: pair(p, "padding"),
        dilation: pair(p, "dilation"),
        ceilMode: p.bool("ceil_mode"),
      }),
    );
    return { out: meta(shape, x.dtype), indices: meta(shape, "int64") };
  },
  evaluate(c) {
    const p = c.params;
    const r = ops.maxPool2d(c.inputs.input!, pair(p, "kernel_size"), {
      stride: stride(p),
      padding: pair(p, "padding"),
      dilation: pair(p, "dilation"),
      ceilMode: p.bool("ceil_mode"),
    });
    return { out: r.values, indices: r.indices };
  },
  torch(c) {
    const p = c.params;
    const s = stride(p);
    const kw = [
      s === null ? "" : `stride=${pyPair(s)}`,
      JSON.stringify(p.dims("padding")) === "0" ? "" : `padding=${pyPair(pair(p, "padding"))}`,
      JSON.stringify(p.dims("dilation")) === "1" ? "" : `dilation=${pyPair(pair(p, "dilation"))}`,
      p.bool("ceil_mode") ? "ceil_mode=True" : "",
      "return_indices=True",
    ].filter((x) => x !== "");
    return [
      `${c.out}, ${c.outputs.indices} = F.max_pool2d(${c.inputs.input}, ${pyPair(pair(p, "kernel_size"))}, ${kw.join(", ")})`,
    ];
  },
});

const avgOptions = (p: ParamReader) => ({
  stride: stride(p),
  padding: pair(p, "padding"),
  ceilMode: p.bool("ceil_mode"),
  countIncludePad: p.bool("count_include_pad"),
  divisorOverride: p.numOrNull("divisor_override"),
});

const avgPool2d = defineKind({
  type: "avg_pool2d",
  family: "Model",
  description: "The mean of each window, like F.avg_pool2d",
  inputs: [poolInput],
  params: [
    kernelParam,
    strideParam,
    pairParam("padding", 0, "zeros added on each side (at most half the kernel)"),
    ceilParam,
    {
      name: "count_include_pad",
      type: "boolean",
      default: true,
      help: "count the padding zeros in each window's size",
    },
    {
      name: "divisor_override",
      type: "number",
      integer: true,
      min: 1,
      default: null,
      nullable: true,
      help: "divide every window's sum by this instead of its size",
    },
  ],
  infer(ctx) {
    const x = req(ctx, "input");
    const p = ctx.params;
    return meta(
      inferred(() => ops.avgPool2dShape(x.shape, pair(p, "kernel_size"), avgOptions(p))),
      x.dtype,
    );
  },
  evaluate: (c) => ops.avgPool2d(c.inputs.input!, pair(c.params, "kernel_size"), avgOptions(c.params)),
  torch(c) {
    const p = c.params;
    const s = stride(p);
    const o = avgOptions(p);
    const kw = [
      s === null ? "" : `stride=${pyPair(s)}`,
      JSON.stringify(o.padding) === "0" ? "" : `padding=${pyPair(o.padding)}`,
      o.ceilMode ? "ceil_mode=True" : "",
      o.countIncludePad ? "" : "count_include_pad=False",
      o.divisorOverride === null ? "" : `divisor_override=${o.divisorOverride}`,
    ].filter((x) => x !== "");
    return [`${c.out} = F.avg_pool2d(${[c.inputs.input, pyPair(pair(p, "kernel_size")), ...kw].join(", ")})`];
  },
});

const adaptiveAvgPool2d = defineKind({
  type: "adaptive_avg_pool2d",
  family: "Model",
  description: "Average pooling to a given output size, whatever the input's, like F.adaptive_avg_pool2d",
  inputs: [poolInput],
  params: [
    {
      name: "output_size",
      type: "string",
      default: "1",
      maxLength: 40,
      help: "the output's (H, W): an int, or a tuple like (3, 4) where None keeps that input size",
    },
  ],
  infer(ctx) {
    const x = req(ctx, "input");
    return meta(
      inferred(() => ops.adaptiveAvgPool2dShape(x.shape, outputSize(ctx.params))),
      x.dtype,
    );
  },
  evaluate: (c) => ops.adaptiveAvgPool2d(c.inputs.input!, outputSize(c.params)),
  torch: (c) => [
    `${c.out} = F.adaptive_avg_pool2d(${c.inputs.input}, ${pyOutputSize(outputSize(c.params))})`,
  ],
});

// ---- modules ---------------------------------------------------------------------------------------------

const channels = (name: string, help: string): ParamDecl => ({
  name,
  type: "number",
  integer: true,
  min: 1,
  default: 1,
  help,
});

/** The weight's shape: (out_channels, in_channels / groups, *kernel_size). */
function moduleWeightShape(p: ParamReader, dims: 1 | 2): number[] {
  const [i, o, g] = [p.num("in_channels"), p.num("out_channels"), p.num("groups")];
  const what = `Conv${dims}d`;
  if (i % g !== 0) throw new InferError(`${what}: in_channels (${i}) must be divisible by groups (${g})`);
  if (o % g !== 0) throw new InferError(`${what}: out_channels (${o}) must be divisible by groups (${g})`);
  const k = inferred(() => ops.expandArg(pair(p, "kernel_size"), dims, "kernel_size", what));
  if (k.some((v) => v < 1)) throw new InferError(`${what}: kernel_size must be positive, got ${pyPair(k)}`);
  return [o, i / g, ...k];
}

/**
 * nn.Conv2d's parameters as `torch.manual_seed(seed); nn.Conv2d(...)` makes them: kaiming_uniform_(a=sqrt(5))
 * then the bias, both bounded by 1/sqrt(fan_in), fan_in = in_channels / groups * prod(kernel_size), drawn in
 * that order — nn.Linear's initialisation with fan_in for in_features, so linearInit draws it.
 */
function convLeaves(dims: 1 | 2) {
  return (p: ParamReader, label: string): Record<string, Tensor> => {
    const shape = moduleWeightShape(p, dims);
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    const d = p.str("dtype") as RandomFloat;
    const init = linearInit(p.num("seed"), fanIn, shape[0], d);
    const out: Record<string, Tensor> = { weight: fromFlat(init.weight, shape, d) };
    if (p.bool("bias")) out.bias = fromFlat(init.bias, [shape[0]], d);
    for (const [name, t] of Object.entries(out)) {
      t.name = `${label}.${name}`;
      t.requiresGrad_(true);
    }
    return out;
  };
}

function convModule(dims: 1 | 2): NodeKind {
  const type = `Conv${dims}d`;
  /** `Conv2d(in, out, kernel_size, ...)`, with the arguments that are not torch's defaults. */
  const convModuleCall = (p: ParamReader): string => {
    const dtype = p.str("dtype") === "float32" ? "" : `, dtype=torch.${p.str("dtype")}`;
    const bias = p.bool("bias") ? "" : ", bias=False";
    const k = pyPair(pair(p, "kernel_size"));
    return `${type}(${p.num("in_channels")}, ${p.num("out_channels")}, ${k}${convKwargs(p)}${bias}${dtype})`;
  };
  const spatial = dims === 2 ? "H, W" : "L";
  return defineKind({
    type,
    family: "Model",
    description: `nn.${type}: a ${dims}-d convolution with its own weight and bias, initialised as PyTorch does from a seed`,
    inputs: [inputPort(`(N, in_channels, ${spatial}) or unbatched (in_channels, ${spatial})`, "float")],
    params: [
      channels("in_channels", "channels of the input"),
      channels("out_channels", "channels the convolution produces"),
      pairParam("kernel_size", 3, "size of the kernel: an int or a tuple"),
      ...convParams,
      { name: "bias", type: "boolean", default: true, help: "learn an additive bias" },
      {
        ...seedParam,
        help: `torch.manual_seed(seed) before nn.${type}(...): the same seed gives PyTorch's initial values`,
      },
      { ...floatDType, help: "element type of the weight and bias" },
    ],
    infer(ctx) {
      const p = ctx.params;
      const d = p.str("dtype") as DType;
      const x = req(ctx, "input");
      if (x.dtype !== d)
        throw new InferError(
          `input is ${x.dtype} but the layer's weight is ${d}: set the layer's dtype to ${x.dtype}`,
          "input",
        );
      const w = moduleWeightShape(p, dims);
      const g = inferred(() =>
        ops.convGeometry(x.shape, w, p.bool("bias") ? [w[0]] : null, convOptions(p), dims),
      );
      return meta(g.shape, d);
    },
    leaves: convLeaves(dims),
    trainsLeaves: () => true,
    evaluate: (c) =>
      (dims === 2 ? ops.conv2d : ops.conv1d)(
        c.inputs.input!,
        c.leaves.weight,
        c.leaves.bias ?? null,
        convOptions(c.params),
      ),
    torchModule: (c) => ({ layer: `nn.${convModuleCall(c.params)}`, seed: c.params.num("seed") }),
  });
}

// ---- samples ---------------------------------------------------------------------------------------------

/**
 * Distinct values in [-2, 2) (a stride coprime with a prime modulus), exact in float32: no ties for max pooling
 * to straddle in a gradient check. `seed` shifts the sequence so two tensors differ.
 */
function ramp(shape: number[], seed = 0): NestedNumbers {
  const P = 257;
  let i = 0;
  const build = (d: number): NestedNumbers =>
    d === shape.length
      ? (((i++ * 37 + seed * 11) % P) / P) * 4 - 2
      : Array.from({ length: shape[d] }, () => build(d + 1));
  return build(0);
}

const S = (inputs: KindSample["inputs"], params?: KindSample["params"], name?: string): KindSample => ({
  ...(name ? { name } : {}),
  inputs,
  ...(params ? { params } : {}),
});

const CONV2D_SAMPLES: KindSample[] = [
  S({ input: ramp([2, 2, 4, 4]), weight: ramp([3, 2, 3, 3], 1), bias: ramp([3], 2) }),
  S(
    { input: ramp([1, 4, 5, 4]), weight: ramp([2, 2, 2, 3], 3) },
    { stride: [2, 1], padding: "(1, 2)", dilation: [1, 2], groups: 2 },
    "stride, padding, dilation, groups, no bias",
  ),
  S(
    { input: ramp([2, 4, 3]), weight: ramp([2, 2, 2, 2], 4), bias: ramp([2], 5) },
    { padding: "same" },
    "unbatched, padding same",
  ),
];
const CONV1D_SAMPLES: KindSample[] = [
  S({ input: ramp([2, 2, 6]), weight: ramp([3, 2, 3], 1), bias: ramp([3], 2) }),
  S(
    { input: ramp([1, 2, 9]), weight: ramp([2, 1, 2], 3) },
    { stride: 2, padding: "1", dilation: 3, groups: 2 },
    "stride, padding, dilation, groups",
  ),
];

export const CONV_KINDS: readonly NodeKind[] = [
  withSamples(convKind(1), CONV1D_SAMPLES),
  withSamples(convKind(2), CONV2D_SAMPLES),
  withSamples(maxPool2d, [
    S({ input: ramp([2, 2, 4, 4]) }),
    S(
      { input: ramp([1, 2, 5, 6]) },
      { kernel_size: [3, 2], stride: [2, 1], padding: 1, dilation: [1, 2], ceil_mode: true },
      "tuple args, padding, dilation, ceil_mode",
    ),
  ]),
  withSamples(avgPool2d, [
    S({ input: ramp([2, 2, 4, 4]) }),
    S(
      { input: ramp([1, 2, 5, 6]) },
      { kernel_size: 3, stride: 2, padding: 1, ceil_mode: true, count_include_pad: false },
      "padding, ceil_mode, count_include_pad False",
    ),
    S({ input: ramp([2, 4, 4]) }, { stride: 1, divisor_override: 3 }, "unbatched, divisor_override"),
  ]),
  withSamples(adaptiveAvgPool2d, [
    S({ input: ramp([2, 2, 5, 7]) }, { output_size: "(2, 3)" }),
    S({ input: ramp([1, 3, 4, 5]) }, { output_size: "(None, 2)" }, "None keeps a size"),
  ]),
  withSamples(convModule(2), [
    {
      ...S({ input: ramp([2, 2, 4, 4]) }, { in_channels: 2, out_channels: 3, seed: 1 }),
      precision: "float32",
    },
    {
      ...S(
        { input: ramp([1, 4, 5, 5]) },
        {
          in_channels: 4,
          out_channels: 2,
          kernel_size: [2, 3],
          stride: 2,
          padding: "1",
          groups: 2,
          bias: false,
          seed: 7,
          dtype: "float64",
        },
        "float64, groups, no bias",
      ),
      precision: "float64",
    },
  ]),
  withSamples(convModule(1), [
    { ...S({ input: ramp([2, 2, 6]) }, { in_channels: 2, out_channels: 3, seed: 3 }), precision: "float32" },
  ]),
];
