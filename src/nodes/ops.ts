/** Ops: elementwise arithmetic and math, comparisons, matmul, reductions and layout, with torch's names. */
import { type DType, fmtShape, inferShape, isFloating, ops, type Tensor } from "../runtime/index.ts";
import { dimParam, dtypeParam, inputPort, keepdimParam } from "./common.ts";
import { pyDType, pyNum, pyTuple } from "./python.ts";
import { defineKind, withSamples } from "./registry.ts";
import { LABELS, POSITIVE, X, Y } from "./sample-values.ts";
import {
  broadcastPorts,
  floatOf,
  matmulShape,
  meta,
  normDimOf,
  promoteMeta,
  reducedShape,
  req,
  requireFloat,
} from "./shapes.ts";
import {
  type EvalContext,
  InferError,
  type KindSample,
  type NestedNumbers,
  type NodeKind,
  type ParamDecl,
  type PortDecl,
} from "./types.ts";

const { BINARY, UNARY } = ops;
const x = (c: EvalContext): Tensor => c.inputs.input!;

/** The output dtype of a declared unary op for an input dtype, as the runtime computes it. */
export function unaryDType(name: string, d: DType): DType {
  if (isFloating(d)) return d;
  if (UNARY[name].ints === "float") return "float32";
  return d === "bool" ? "int64" : d;
}

/** A binary op whose second operand is a tensor port or, left unconnected, a number param of the same name. */
function binaryKind(
  name: string,
  second: string,
  description: string,
  opts: { scalar?: boolean; family?: NodeKind["family"] } = {},
): NodeKind {
  const decl = BINARY[name];
  const allowScalar = opts.scalar ?? true;
  const secondPort: PortDecl = {
    name: second,
    help: allowScalar ? `a tensor, or leave it unconnected and set the number param '${second}'` : "a tensor",
    ...(allowScalar ? { scalarParam: second, optional: true } : {}),
  };
  const params: ParamDecl[] = allowScalar
    ? [
        {
          name: second,
          type: "number",
          default: null,
          nullable: true,
          help: `the number used when the '${second}' port is unconnected`,
        },
      ]
    : [];
  return defineKind({
    type: name,
    family: opts.family ?? "Ops",
    description,
    inputs: [inputPort(), secondPort],
    params,
    infer(ctx) {
      const a = req(ctx, "input");
      const b = req(ctx, second);
      const shape = broadcastPorts(name, [
        ["input", a],
        [second, b],
      ]);
      const common = promoteMeta(a, b);
      const dtype = decl.out === "bool" ? "bool" : decl.out === "float" ? floatOf(common) : common;
      return meta(shape, dtype);
    },
    evaluate(c) {
      const b = c.arg(second)!;
      return name === "pow" ? ops.pow(x(c), b) : ops.binaryOp(name, x(c), b);
    },
    torch(c) {
      const connected = c.inputs[second];
      const b = connected ?? pyNum(c.params.num(second));
      const code =
        name === "pow" && connected === undefined
          ? `${c.inputs.input} ** ${b}`
          : decl.torch(c.inputs.input!, b);
      return [`${c.out} = ${code}`];
    },
  });
}

function unaryKind(name: string, type: string, description: string, family: NodeKind["family"]): NodeKind {
  const decl = UNARY[name];
  return defineKind({
    type,
    family,
    description,
    inputs: [inputPort()],
    params: [],
    infer(ctx) {
      const a = req(ctx, "input");
      return meta(a.shape, unaryDType(name, a.dtype));
    },
    evaluate: (c) => ops.unaryOp(name, x(c)),
    torch: (c) => [`${c.out} = ${decl.torch(c.inputs.input!, {})}`],
  });
}

const clamp = defineKind({
  type: "clamp",
  family: "Ops",
  description: "Limit values to [min, max], like torch.clamp",
  inputs: [inputPort()],
  params: [
    { name: "min", type: "number", default: null, nullable: true, help: "lower bound (None: none)" },
    { name: "max", type: "number", default: null, nullable: true, help: "upper bound (None: none)" },
  ],
  infer(ctx) {
    if (ctx.params.numOrNull("min") === null && ctx.params.numOrNull("max") === null)
      throw new InferError("at least one of 'min' or 'max' must be set");
    const a = req(ctx, "input");
    return meta(a.shape, a.dtype === "bool" ? "int64" : a.dtype);
  },
  evaluate: (c) => ops.clamp(x(c), c.params.numOrNull("min"), c.params.numOrNull("max")),
  torch: (c) => [
    `${c.out} = ${UNARY.clamp.torch(c.inputs.input!, { min: c.params.numOrNull("min"), max: c.params.numOrNull("max") })}`,
  ],
});

const matmul = defineKind({
  type: "matmul",
  family: "Ops",
  description: "Matrix product (vectors, matrices, batches), like torch.matmul",
  inputs: [inputPort(), { name: "other", help: "the right-hand tensor" }],
  params: [],
  infer(ctx) {
    const a = req(ctx, "input");
    const b = req(ctx, "other");
    if (a.dtype !== b.dtype)
      throw new InferError(
        `expected ${a.dtype} like the input, got ${b.dtype} (matmul does not promote)`,
        "other",
      );
    return meta(matmulShape(a, b), a.dtype);
  },
  evaluate: (c) => ops.matmul(x(c), c.inputs.other!),
  torch: (c) => [`${c.out} = torch.matmul(${c.inputs.input}, ${c.inputs.other})`],
});

const dimsParam = (help: string): ParamDecl => ({
  name: "dim",
  type: "dims",
  default: null,
  nullable: true,
  help,
});

function dimsArg(d: number | number[] | null): string {
  if (d === null) return "";
  return `, dim=${typeof d === "number" ? d : pyTuple(d)}`;
}

function reductionKind(type: "sum" | "mean", description: string): NodeKind {
  return defineKind({
    type,
    family: "Ops",
    description,
    inputs: [inputPort()],
    params: [dimsParam("dimension(s) to reduce; None reduces all"), keepdimParam],
    infer(ctx) {
      const a = req(ctx, "input");
      if (type === "mean") requireFloat(a, "input", "mean");
      const dtype = isFloating(a.dtype) ? a.dtype : "int64";
      return meta(reducedShape(a.shape, ctx.params.dims("dim"), ctx.params.bool("keepdim")), dtype);
    },
    evaluate: (c) => ops[type](x(c), c.params.dims("dim"), c.params.bool("keepdim")),
    torch(c) {
      const d = c.params.dims("dim");
      const kd = c.params.bool("keepdim") && d !== null ? ", keepdim=True" : "";
      return [`${c.out} = torch.${type}(${c.inputs.input}${dimsArg(d)}${kd})`];
    },
  });
}

function extremeKind(type: "max" | "min"): NodeKind {
  return defineKind({
    type,
    family: "Ops",
    description: `The ${type === "max" ? "largest" : "smallest"} value (and its index along dim), like torch.${type}`,
    inputs: [inputPort()],
    outputs: [
      { name: "out", help: "the values" },
      { name: "indices", help: "where they are (int64); over the flattened tensor when dim is None" },
    ],
    params: [dimParam(null, "the dimension to reduce; None reduces all"), keepdimParam],
    infer(ctx) {
      const a = req(ctx, "input");
      const dim = ctx.params.numOrNull("dim");
      const shape = dim === null ? [] : reducedShape(a.shape, dim, ctx.params.bool("keepdim"));
      return { out: meta(shape, a.dtype), indices: meta(shape, "int64") };
    },
    evaluate(c) {
      const dim = c.params.numOrNull("dim");
      if (dim === null) {
        const arg = type === "max" ? ops.argmax : ops.argmin;
        return { out: ops[type](x(c)), indices: arg(x(c).detach()) };
      }
      const r = (type === "max" ? ops.maxDim : ops.minDim)(x(c), dim, c.params.bool("keepdim"));
      return { out: r.values, indices: r.indices };
    },
    torch(c) {
      const dim = c.params.numOrNull("dim");
      const idx = c.outputs.indices;
      const arg = type === "max" ? "argmax" : "argmin";
      if (dim === null)
        return [`${c.out} = torch.${type}(${c.inputs.input})`, `${idx} = torch.${arg}(${c.inputs.input})`];
      const kd = c.params.bool("keepdim") ? ", keepdim=True" : "";
      return [`${c.out}, ${idx} = torch.${type}(${c.inputs.input}, dim=${dim}${kd})`];
    },
  });
}

const norm = defineKind({
  type: "norm",
  family: "Ops",
  description: "The p-norm (2 by default), like torch.norm",
  inputs: [inputPort("a floating point tensor", "float")],
  params: [
    {
      name: "p",
      type: "number",
      default: 2,
      min: 0,
      exclusiveMin: true,
      help: "the order: 2 Euclidean, 1 Manhattan",
    },
    dimsParam("dimension(s) to reduce; None reduces all"),
    keepdimParam,
  ],
  infer(ctx) {
    const a = req(ctx, "input");
    return meta(reducedShape(a.shape, ctx.params.dims("dim"), ctx.params.bool("keepdim")), a.dtype);
  },
  evaluate: (c) => ops.norm(x(c), c.params.num("p"), c.params.dims("dim"), c.params.bool("keepdim")),
  torch(c) {
    const p = c.params.num("p");
    const d = c.params.dims("dim");
    const kd = c.params.bool("keepdim") && d !== null ? ", keepdim=True" : "";
    return [`${c.out} = torch.norm(${c.inputs.input}${p === 2 ? "" : `, p=${pyNum(p)}`}${dimsArg(d)}${kd})`];
  },
});

const logsumexp = defineKind({
  type: "logsumexp",
  family: "Ops",
  description: "log(sum(exp(x))) along dim, computed stably, like torch.logsumexp",
  inputs: [inputPort()],
  params: [{ name: "dim", type: "dims", default: 0, help: "dimension(s) to reduce" }, keepdimParam],
  infer(ctx) {
    const a = req(ctx, "input");
    return meta(reducedShape(a.shape, ctx.params.dims("dim"), ctx.params.bool("keepdim")), floatOf(a.dtype));
  },
  evaluate: (c) => ops.logsumexp(x(c), c.params.dims("dim"), c.params.bool("keepdim")),
  torch(c) {
    const d = c.params.dims("dim");
    return [
      `${c.out} = torch.logsumexp(${c.inputs.input}${dimsArg(d ?? 0)}${c.params.bool("keepdim") ? ", keepdim=True" : ""})`,
    ];
  },
});

function layoutKind(
  type: string,
  description: string,
  params: ParamDecl[],
  shape: (s: number[], p: EvalContext["params"]) => number[],
  run: (t: Tensor, p: EvalContext["params"]) => Tensor,
  code: (input: string, p: EvalContext["params"]) => string,
): NodeKind {
  return defineKind({
    type,
    family: "Ops",
    description,
    inputs: [inputPort()],
    params,
    infer(ctx) {
      const a = req(ctx, "input");
      return meta(shape(a.shape, ctx.params), a.dtype);
    },
    evaluate: (c) => run(x(c), c.params),
    torch: (c) => [`${c.out} = ${code(c.inputs.input!, c.params)}`],
  });
}

const intParam = (name: string, def: number, help: string): ParamDecl => ({
  name,
  type: "number",
  integer: true,
  default: def,
  help,
});

const layoutKinds: NodeKind[] = [
  layoutKind(
    "reshape",
    "The same values in another shape (one dimension may be -1), like torch.reshape",
    [
      {
        name: "shape",
        type: "numbers",
        integer: true,
        min: -1,
        default: [-1],
        help: "the new shape, e.g. [3, -1]",
      },
    ],
    (s, p) => {
      try {
        return inferShape(
          p.nums("shape"),
          s.reduce((a, b) => a * b, 1),
        );
      } catch (e) {
        throw new InferError(e instanceof Error ? e.message : String(e), "input");
      }
    },
    (t, p) => ops.reshape(t, p.nums("shape")),
    (i, p) => `torch.reshape(${i}, ${pyTuple(p.nums("shape"))})`,
  ),
  layoutKind(
    "flatten",
    "Merge dimensions start_dim..end_dim into one, like torch.flatten",
    [
      intParam("start_dim", 0, "first dimension to merge"),
      intParam("end_dim", -1, "last dimension to merge"),
    ],
    (s, p) => {
      if (s.length === 0) return [1];
      const a = normDimOf(p.num("start_dim"), s.length);
      const b = normDimOf(p.num("end_dim"), s.length);
      return [...s.slice(0, a), s.slice(a, b + 1).reduce((u, v) => u * v, 1), ...s.slice(b + 1)];
    },
    (t, p) => ops.flatten(t, p.num("start_dim"), p.num("end_dim")),
    (i, p) => `torch.flatten(${i}, ${p.num("start_dim")}, ${p.num("end_dim")})`,
  ),
  layoutKind(
    "unflatten",
    "Split dimension dim into the given sizes (one may be -1), like torch.unflatten",
    [
      intParam("dim", 0, "the dimension to split"),
      {
        name: "sizes",
        type: "numbers",
        integer: true,
        min: -1,
        default: [-1],
        help: "its new sizes, e.g. [2, -1]; they multiply up to its size",
      },
    ],
    (s, p) => {
      try {
        return ops.unflattenShape(s, p.num("dim"), p.nums("sizes"));
      } catch (e) {
        throw new InferError(e instanceof Error ? e.message : String(e), "input");
      }
    },
    (t, p) => ops.unflatten(t, p.num("dim"), p.nums("sizes")),
    (i, p) => `torch.unflatten(${i}, ${p.num("dim")}, ${pyTuple(p.nums("sizes"))})`,
  ),
  layoutKind(
    "squeeze",
    "Remove dimensions of size 1, like torch.squeeze",
    [dimParam(null, "only this dimension (None: every size-1 dimension)")],
    (s, p) => {
      const dim = p.numOrNull("dim");
      if (dim === null) return s.filter((d) => d !== 1);
      const d = normDimOf(dim, s.length);
      return s[d] === 1 ? [...s.slice(0, d), ...s.slice(d + 1)] : s;
    },
    (t, p) => ops.squeeze(t, p.numOrNull("dim") ?? undefined),
    (i, p) => `torch.squeeze(${i}${p.numOrNull("dim") === null ? "" : `, ${p.num("dim")}`})`,
  ),
  layoutKind(
    "unsqueeze",
    "Insert a dimension of size 1, like torch.unsqueeze",
    [intParam("dim", 0, "where the new dimension goes")],
    (s, p) => {
      const d = normDimOf(p.num("dim"), s.length + 1);
      return [...s.slice(0, d), 1, ...s.slice(d)];
    },
    (t, p) => ops.unsqueeze(t, p.num("dim")),
    (i, p) => `torch.unsqueeze(${i}, ${p.num("dim")})`,
  ),
  layoutKind(
    "transpose",
    "Swap two dimensions, like torch.transpose",
    [intParam("dim0", 0, "first dimension"), intParam("dim1", 1, "second dimension")],
    (s, p) => {
      if (s.length === 0) return s;
      const a = normDimOf(p.num("dim0"), s.length);
      const b = normDimOf(p.num("dim1"), s.length);
      const out = [...s];
      [out[a], out[b]] = [out[b], out[a]];
      return out;
    },
    (t, p) => ops.transpose(t, p.num("dim0"), p.num("dim1")),
    (i, p) => `torch.transpose(${i}, ${p.num("dim0")}, ${p.num("dim1")})`,
  ),
  layoutKind(
    "permute",
    "Reorder dimensions, like torch.permute",
    [
      {
        name: "dims",
        type: "numbers",
        integer: true,
        default: [1, 0],
        help: "the new order, e.g. [2, 0, 1]",
      },
    ],
    (s, p) => {
      const dims = p.nums("dims");
      if (dims.length !== s.length)
        throw new InferError(
          `dims ${fmtShape(dims)} must list all ${s.length} dimensions of the input`,
          "input",
        );
      const ds = dims.map((d) => normDimOf(d, s.length));
      if (new Set(ds).size !== ds.length) throw new InferError(`dims ${fmtShape(dims)} repeats a dimension`);
      return ds.map((d) => s[d]);
    },
    (t, p) => ops.permute(t, p.nums("dims")),
    (i, p) => `torch.permute(${i}, ${pyTuple(p.nums("dims"))})`,
  ),
  layoutKind(
    "narrow",
    "A slice of length elements from start along dim, like torch.narrow",
    [
      intParam("dim", 0, "the dimension to slice"),
      { name: "start", type: "number", integer: true, min: 0, default: 0, help: "first index" },
      { name: "length", type: "number", integer: true, min: 0, default: 1, help: "how many" },
    ],
    (s, p) => {
      const d = normDimOf(p.num("dim"), s.length);
      const start = p.num("start");
      const length = p.num("length");
      if (start + length > s[d])
        throw new InferError(
          `start (${start}) + length (${length}) exceeds dimension ${d}'s size ${s[d]}`,
          "input",
        );
      const out = [...s];
      out[d] = length;
      return out;
    },
    (t, p) => ops.narrow(t, p.num("dim"), p.num("start"), p.num("length")),
    (i, p) => `torch.narrow(${i}, ${p.num("dim")}, ${p.num("start")}, ${p.num("length")})`,
  ),
];

const indexPort: PortDecl = { name: "index", dtype: "integer", help: "indices (int64)" };

const gather = defineKind({
  type: "gather",
  family: "Ops",
  description: "Pick values along dim at the given indices, like torch.gather",
  inputs: [inputPort(), indexPort],
  params: [intParam("dim", 1, "the dimension to index")],
  infer(ctx) {
    const a = req(ctx, "input");
    const i = req(ctx, "index");
    normDimOf(ctx.params.num("dim"), a.shape.length);
    if (i.shape.length !== a.shape.length)
      throw new InferError(
        `index ${fmtShape(i.shape)} must have as many dimensions as the input ${fmtShape(a.shape)}`,
        "index",
      );
    return meta(i.shape, a.dtype);
  },
  evaluate: (c) => ops.gather(x(c), c.params.num("dim"), c.inputs.index!),
  torch: (c) => [`${c.out} = torch.gather(${c.inputs.input}, ${c.params.num("dim")}, ${c.inputs.index})`],
});

const indexSelect = defineKind({
  type: "index_select",
  family: "Ops",
  description: "Select entries along dim by a 1-d index, like torch.index_select",
  inputs: [inputPort(), indexPort],
  params: [intParam("dim", 0, "the dimension to index")],
  infer(ctx) {
    const a = req(ctx, "input");
    const i = req(ctx, "index");
    if (i.shape.length > 1) throw new InferError(`index must be 1-d, got ${fmtShape(i.shape)}`, "index");
    if (a.shape.length === 0) return meta([], a.dtype);
    const d = normDimOf(ctx.params.num("dim"), a.shape.length);
    const out = [...a.shape];
    out[d] = i.shape[0] ?? 1;
    return meta(out, a.dtype);
  },
  evaluate: (c) => ops.indexSelect(x(c), c.params.num("dim"), c.inputs.index!),
  torch: (c) => [
    `${c.out} = torch.index_select(${c.inputs.input}, ${c.params.num("dim")}, ${c.inputs.index})`,
  ],
});

const where = defineKind({
  type: "where",
  family: "Ops",
  description: "input where condition is true, else other, like torch.where",
  inputs: [
    { name: "condition", dtype: "bool", help: "a bool tensor" },
    { name: "input", scalarParam: "input", optional: true, help: "values where the condition holds" },
    { name: "other", scalarParam: "other", optional: true, help: "values elsewhere" },
  ],
  params: [
    {
      name: "input",
      type: "number",
      default: null,
      nullable: true,
      help: "number used when 'input' is unconnected",
    },
    {
      name: "other",
      type: "number",
      default: null,
      nullable: true,
      help: "number used when 'other' is unconnected",
    },
  ],
  infer(ctx) {
    const c = req(ctx, "condition");
    const a = req(ctx, "input");
    const b = req(ctx, "other");
    const shape = broadcastPorts("where", [
      ["condition", c],
      ["input", a],
      ["other", b],
    ]);
    return meta(shape, promoteMeta(a, b));
  },
  evaluate: (c) => ops.where(c.inputs.condition!, c.arg("input")!, c.arg("other")!),
  torch: (c) => [
    `${c.out} = torch.where(${c.inputs.condition}, ${c.inputs.input ?? pyNum(c.params.num("input"))}, ${c.inputs.other ?? pyNum(c.params.num("other"))})`,
  ],
});

const detach = defineKind({
  type: "detach",
  family: "Ops",
  description:
    "The same values cut from the gradient graph (and held fixed by finite differences), like tensor.detach()",
  inputs: [inputPort()],
  barrier: true,
  params: [],
  infer: (ctx) => req(ctx, "input"),
  evaluate: (c) => x(c).detach(),
  torch: (c) => [`${c.out} = ${c.inputs.input}.detach()`],
});

const to = defineKind({
  type: "to",
  family: "Ops",
  description: "Convert to another dtype, like tensor.to(dtype)",
  inputs: [inputPort()],
  params: [dtypeParam("float32")],
  infer: (ctx) => meta(req(ctx, "input").shape, ctx.params.str("dtype") as DType),
  evaluate: (c) => ops.cast(x(c), c.params.str("dtype") as DType),
  torch: (c) => [`${c.out} = ${c.inputs.input}.to(${pyDType(c.params.str("dtype") as DType)})`],
});

const S = (inputs: KindSample["inputs"], params?: KindSample["params"], name?: string): KindSample => ({
  name,
  inputs,
  ...(params ? { params } : {}),
});
/** A tensor other, a broadcast row, and (where allowed) the number param standing in for the port. */
const binarySamples = (
  other: NestedNumbers,
  scalar: number | null,
  input: NestedNumbers = X,
): KindSample[] => [
  S({ input, other }),
  S({ input, other: [0.5, -2.0, 1.5] }, undefined, "broadcast row"),
  ...(scalar === null ? [] : [S({ input }, { other: scalar }, "number other")]),
];
const ABS_Y: NestedNumbers = [
  [1.5, 0.5, 2.0],
  [0.25, 1.0, 3.0],
];
/** Y with two elements equal to X's, so comparisons see ties. */
const Y_TIES: NestedNumbers = [
  [0.5, 0.5, -2.0],
  [0.25, 1.5, 3.0],
];
const X3: NestedNumbers = [
  [
    [0.5, -1.25],
    [2.0, 0.75],
  ],
  [
    [-0.75, 1.5],
    [0.25, -2.5],
  ],
];

const LAYOUT_SAMPLES: Record<string, KindSample[]> = {
  reshape: [S({ input: X }, { shape: [3, -1] })],
  flatten: [S({ input: X3 }), S({ input: X3 }, { start_dim: 1 }, "start_dim 1")],
  unflatten: [
    S({ input: X }, { dim: 1, sizes: [1, 3] }),
    S({ input: X3 }, { dim: -1, sizes: [2, -1] }, "dim -1, size -1"),
  ],
  squeeze: [S({ input: [[[0.5, -1.25, 2.0]], [[-0.75, 1.5, 0.25]]] }, { dim: 1 })],
  unsqueeze: [S({ input: X }, { dim: 1 })],
  transpose: [S({ input: X }), S({ input: X3 }, { dim0: 0, dim1: 2 }, "dims 0, 2")],
  permute: [S({ input: X3 }, { dims: [2, 0, 1] })],
  narrow: [S({ input: X }, { dim: 1, start: 1, length: 2 })],
};

export const OPS_KINDS: readonly NodeKind[] = [
  withSamples(binaryKind("add", "other", "input + other, like torch.add"), binarySamples(Y, 2.5)),
  withSamples(binaryKind("sub", "other", "input - other, like torch.sub"), binarySamples(Y, -1.5)),
  withSamples(binaryKind("mul", "other", "input * other, like torch.mul"), binarySamples(Y, -3)),
  withSamples(
    binaryKind("div", "other", "input / other (true division), like torch.div"),
    binarySamples(Y, 4),
  ),
  withSamples(binaryKind("pow", "exponent", "input ** exponent, like torch.pow"), [
    S({ input: POSITIVE, exponent: Y }),
    S({ input: X }, { exponent: 3 }, "integer exponent of negatives"),
    S({ input: POSITIVE }, { exponent: 2.5 }, "number exponent"),
  ]),
  withSamples(
    binaryKind("xlogy", "other", "input * log(other), 0 where input is 0, like torch.xlogy"),
    binarySamples(ABS_Y, 2, [
      [0.5, -1.25, 2.0],
      [0.0, 1.5, 0.25],
    ]).slice(0, 1),
  ),
  withSamples(
    binaryKind("maximum", "other", "Elementwise larger of two tensors, like torch.maximum", {
      scalar: false,
    }),
    binarySamples(Y, null),
  ),
  withSamples(
    binaryKind("minimum", "other", "Elementwise smaller of two tensors, like torch.minimum", {
      scalar: false,
    }),
    binarySamples(Y, null),
  ),
  ...["eq", "ne", "lt", "le", "gt", "ge"].map((n) =>
    withSamples(
      binaryKind(n, "other", `Elementwise comparison (bool), like torch.${n}`),
      binarySamples(Y_TIES, 0.5),
    ),
  ),
  withSamples(unaryKind("neg", "neg", "-input, like torch.neg", "Ops"), [S({ input: X })]),
  withSamples(unaryKind("abs", "abs", "|input|, like torch.abs", "Ops"), [S({ input: X })]),
  withSamples(unaryKind("sign", "sign", "-1, 0 or 1 by sign, like torch.sign", "Ops"), [S({ input: X })]),
  withSamples(unaryKind("exp", "exp", "e ** input, like torch.exp", "Ops"), [S({ input: X })]),
  withSamples(unaryKind("log", "log", "Natural logarithm, like torch.log", "Ops"), [S({ input: POSITIVE })]),
  withSamples(unaryKind("log1p", "log1p", "log(1 + input), accurate near 0, like torch.log1p", "Ops"), [
    S({ input: [0.5, 1e-5, -0.25, 3.0] }),
  ]),
  withSamples(unaryKind("sqrt", "sqrt", "Square root, like torch.sqrt", "Ops"), [S({ input: POSITIVE })]),
  withSamples(clamp, [S({ input: X }, { min: -0.5, max: 1 }), S({ input: X }, { min: 0 }, "min only")]),
  withSamples(matmul, [
    S({
      input: X,
      other: [
        [0.5, -1.0],
        [1.5, 0.25],
        [-2.0, 1.0],
      ],
    }),
    S({ input: X, other: [1.0, -0.5, 2.0] }, undefined, "matrix-vector"),
    S({ input: [0.5, -1.5, 2.0], other: [1.0, -0.5, 2.0] }, undefined, "dot"),
    S(
      {
        input: X3,
        other: [
          [1.0, -0.5],
          [0.25, 2.0],
        ],
      },
      undefined,
      "batched",
    ),
  ]),
  ...(["sum", "mean"] as const).map((t) =>
    withSamples(
      reductionKind(t, `${t === "sum" ? "Sum" : "Mean"} of all elements or along dim, like torch.${t}`),
      [
        S({ input: X }),
        S({ input: X }, { dim: 1, keepdim: true }, "dim 1, keepdim"),
        S({ input: X3 }, { dim: [0, 2] }, "dims"),
      ],
    ),
  ),
  ...(["max", "min"] as const).map((t) =>
    withSamples(extremeKind(t), [
      S({ input: X }),
      S({ input: X }, { dim: 1 }, "dim 1"),
      S({ input: X }, { dim: 0, keepdim: true }, "dim 0, keepdim"),
    ]),
  ),
  withSamples(norm, [
    S({ input: X }),
    S({ input: X }, { p: 1, dim: 1 }, "p 1, dim 1"),
    S({ input: X }, { p: 3, dim: 0, keepdim: true }, "p 3, dim 0"),
  ]),
  withSamples(logsumexp, [
    S({ input: X }),
    S({ input: X3 }, { dim: [1, 2], keepdim: true }, "dims, keepdim"),
  ]),
  ...layoutKinds.map((k) => withSamples(k, LAYOUT_SAMPLES[k.type])),
  withSamples(gather, [
    S(
      {
        input: X,
        index: [
          [2, 0],
          [1, 1],
        ],
      },
      { dim: 1 },
    ),
  ]),
  withSamples(indexSelect, [S({ input: X, index: [2, 0, 2] }, { dim: 1 })]),
  withSamples(where, [
    S({ condition: LABELS, input: X, other: Y }),
    S({ condition: LABELS, input: X }, { other: 0 }, "number other"),
  ]),
  withSamples(detach, [S({ input: X })]),
  withSamples(to, [S({ input: X }, { dtype: "float64" }), S({ input: X }, { dtype: "int64" }, "to int64")]),
];

export { unaryKind };
