/**
 * Tools: finite differences (the thermometer source's gradient estimate), a sweep of a loss over predictions
 * (the L1 plot), the autograd gradient of one value with respect to another, and custom functions whose
 * forward and backward are math expressions (torch.autograd.Function).
 */
import {
  applyFunction,
  type CustomFunction,
  coerce,
  fmtShape,
  fromFlat,
  full,
  isFloating,
  linspace,
  noGrad,
  ops,
  type Tensor,
} from "../runtime/index.ts";
import {
  type Expr,
  ExprError,
  evalExpr,
  expressionVariables,
  exprToPython,
  parseExpr,
} from "./expression.ts";
import { linspaceHelper, pyArgs, pyFloat } from "./python.ts";
import { defineKind, withSamples } from "./registry.ts";
import { X } from "./sample-values.ts";
import { floatOf, meta, numelOf, req } from "./shapes.ts";
import { type EvalContext, InferError, type NodeKind, type ParamReader, type TensorMeta } from "./types.ts";

function scalarLoss(m: TensorMeta, port = "loss"): void {
  if (numelOf(m.shape) !== 1)
    throw new InferError(`must be a single number, got shape ${fmtShape(m.shape)}`, port);
}

function floatInput(m: TensorMeta, port: string): void {
  if (!isFloating(m.dtype)) throw new InferError(`needs a floating point tensor, got ${m.dtype}`, port);
}

const finiteDifference = defineKind({
  type: "finite_difference",
  family: "Tools",
  description: "Estimate d loss / d input by nudging each element of input by delta and re-running the graph",
  inputs: [
    { name: "loss", help: "the value to differentiate (a single number)" },
    { name: "input", dtype: "float", help: "the tensor to nudge; it must feed the loss" },
  ],
  params: [
    {
      name: "scheme",
      type: "enum",
      options: ["forward", "central"],
      default: "central",
      help: "forward: (L(x+δ) - L(x)) / δ; central: (L(x+δ) - L(x-δ)) / 2δ",
    },
    {
      name: "delta",
      type: "number",
      default: 0.1,
      min: 0,
      exclusiveMin: true,
      step: 0.01,
      help: "δ, the nudge",
    },
    {
      name: "divide",
      type: "boolean",
      default: true,
      help: "divide by δ (or 2δ); off gives the raw loss difference, as the thermometer source's first step prints",
    },
  ],
  recomputes: [["loss", "input"]],
  recomputeRuns: (p, inputs) => numelOf(inputs.input?.shape ?? []) * (p.str("scheme") === "central" ? 2 : 1),
  infer(ctx) {
    const l = req(ctx, "loss");
    const x = req(ctx, "input");
    scalarLoss(l);
    floatInput(x, "input");
    return meta(x.shape, floatOf(l.dtype));
  },
  evaluate(c) {
    const x = c.inputs.input!;
    const loss = c.inputs.loss!;
    const delta = c.params.num("delta");
    const central = c.params.str("scheme") === "central";
    const divide = c.params.bool("divide");
    const d = loss.dtype;
    // Each step is rounded to the tensors' dtypes, as PyTorch computes `w + delta` and the difference.
    const at = (i: number, sign: number) => {
      const moved = x.copy();
      moved.data[i] = coerce(x.dtype, moved.data[i] + sign * delta);
      return c.recompute("loss", "input", moved).item();
    };
    const out = noGrad(() =>
      Array.from({ length: x.numel }, (_, i) => {
        const hi = at(i, 1);
        const lo = central ? at(i, -1) : loss.item();
        const diff = coerce(d, hi - lo);
        return divide ? coerce(d, diff / (central ? 2 * delta : delta)) : diff;
      }),
    );
    return fromFlat(out, x.shape, d);
  },
  torch(c) {
    const f = c.recompute("loss", "input");
    const x = c.inputs.input!;
    const delta = pyFloat(c.params.num("delta"));
    const central = c.params.str("scheme") === "central";
    const flat = c.name("flat");
    const nudged = c.name("nudged");
    const diffs = c.name("diffs");
    const i = c.name("i");
    const hi = c.name("hi");
    const lo = c.name("lo");
    const loss = c.inputs.loss!;
    // One element at a time is nudged, in float64 and rounded once to the input's dtype, as gradwire computes it.
    const at = (sign: string) => [
      `        ${nudged}[${i}] = ${flat}[${i}] ${sign} ${delta}`,
      `        ${sign === "+" ? hi : lo} = ${f}(${nudged}.reshape(${x}.shape).to(${x}.dtype))`,
    ];
    const diff = `${hi} - ${central ? lo : loss}`;
    const each = c.params.bool("divide")
      ? `(${diff}).double() / ${central ? `(2 * ${delta})` : delta}`
      : diff;
    return [
      "with torch.no_grad():",
      "    # Each element nudged by delta in turn, the others kept as they are.",
      `    ${flat} = ${x}.double().flatten()`,
      `    ${diffs} = []`,
      `    for ${i} in range(${flat}.numel()):`,
      `        ${nudged} = ${flat}.clone()`,
      ...at("+"),
      ...(central ? at("-") : []),
      `        ${diffs}.append(${each})`,
      `    ${c.out} = torch.stack(${diffs}).to(${loss}.dtype).reshape(${x}.shape)`,
    ];
  },
});

const sweep = defineKind({
  type: "sweep",
  family: "Tools",
  description: "The loss for each prediction value in a range, for plotting a loss curve",
  inputs: [
    { name: "loss", help: "the loss to evaluate (a single number)" },
    { name: "input", help: "the prediction to replace with each value (filled with it, keeping its shape)" },
  ],
  outputs: [
    { name: "out", help: "the loss at each value" },
    { name: "x", help: "the values (steps evenly spaced from start to end)" },
  ],
  params: [
    { name: "start", type: "number", default: -8, help: "the first prediction value" },
    { name: "end", type: "number", default: 12, help: "the last prediction value" },
    {
      name: "steps",
      type: "number",
      integer: true,
      min: 1,
      max: 100_000,
      default: 21,
      help: "how many values",
    },
  ],
  recomputes: [["loss", "input"]],
  recomputeRuns: (p) => p.num("steps"),
  infer(ctx) {
    const l = req(ctx, "loss");
    const x = req(ctx, "input");
    scalarLoss(l);
    const n = ctx.params.num("steps");
    return { out: meta([n], l.dtype), x: meta([n], x.dtype) };
  },
  evaluate(c) {
    const input = c.inputs.input!;
    const xs = linspace(c.params.num("start"), c.params.num("end"), c.params.num("steps"), "float64");
    const losses = noGrad(() =>
      Array.from(xs.data, (v) => c.recompute("loss", "input", full(input.shape, v, input.dtype)).item()),
    );
    return {
      out: fromFlat(losses, [losses.length], c.inputs.loss!.dtype),
      x: fromFlat(xs.data, xs.shape, input.dtype),
    };
  },
  torch(c) {
    const f = c.recompute("loss", "input");
    const x = c.inputs.input;
    const v = c.name("value");
    const p = c.params;
    return [
      `${c.outputs.x} = ${c.helper("exact_linspace", linspaceHelper)}(${pyFloat(p.num("start"))}, ${pyFloat(p.num("end"))}, ${p.num("steps")}, ${x}.dtype, ${x}.device)`,
      "with torch.no_grad():",
      `    ${c.out} = torch.stack([${f}(torch.full_like(${x}, float(${v}))) for ${v} in ${c.outputs.x}])`,
    ];
  },
});

const grad = defineKind({
  type: "grad",
  family: "Tools",
  description:
    "d outputs / d inputs by backpropagation, like inputs.grad after outputs.backward(grad_outputs)",
  inputs: [
    { name: "outputs", help: "the value to backpropagate from" },
    { name: "inputs", dtype: "float", help: "the tensor to take the gradient for; it must feed outputs" },
    {
      name: "grad_outputs",
      dtype: "float",
      optional: true,
      help: "the gradient to start from (backward's `gradient`); needed when outputs is not a single number",
    },
  ],
  params: [
    {
      name: "repeat",
      type: "number",
      integer: true,
      min: 1,
      max: 1000,
      default: 1,
      help: "how many times backward runs without zeroing: the gradient accumulates, as in PyTorch",
    },
  ],
  recomputes: [["outputs", "inputs"]],
  // One forward re-run, then each backward pass costs about two more.
  recomputeRuns: (p) => 1 + 2 * p.num("repeat"),
  infer(ctx) {
    const y = req(ctx, "outputs");
    const x = req(ctx, "inputs");
    const g = ctx.inputs.grad_outputs;
    if (g && numelOf(g.shape) !== numelOf(y.shape))
      throw new InferError(
        `expected ${numelOf(y.shape)} elements like outputs ${fmtShape(y.shape)}, got ${fmtShape(g.shape)}`,
        "grad_outputs",
      );
    if (!g) scalarLoss(y, "outputs");
    return meta(x.shape, x.dtype);
  },
  evaluate(c) {
    const leaf = c.inputs.inputs!.detach().copy().requiresGrad_(true);
    const y = c.recompute("outputs", "inputs", leaf);
    if (!y.requiresGrad)
      throw new Error("outputs does not depend on inputs, so there is no gradient to take");
    for (let i = 0; i < c.params.num("repeat"); i++) y.backward(c.inputs.grad_outputs, { retainGraph: true });
    return leaf.grad ?? ops.zerosLike(leaf);
  },
  torch(c) {
    const f = c.recompute("outputs", "inputs");
    const leaf = c.name(`${c.out}_inputs`);
    const outputs = c.name(`${c.out}_outputs`);
    const n = c.params.num("repeat");
    const g = c.inputs.grad_outputs ? c.inputs.grad_outputs : "";
    return [
      `${leaf} = ${c.inputs.inputs}.detach().clone().requires_grad_()`,
      `${outputs} = ${f}(${leaf})`,
      ...(n === 1
        ? [`${outputs}.backward(${g})`]
        : [
            "# backward again without zeroing: the gradients add up, as in PyTorch",
            `for _ in range(${n}):`,
            `    ${outputs}.backward(${pyArgs(g, "retain_graph=True")})`,
          ]),
      `${c.out} = ${leaf}.grad`,
    ];
  },
});

const FORWARD_VARS = ["x", "input"] as const;
const BACKWARD_VARS = ["x", "input", "result", "grad_output"] as const;

function parsed(p: ParamReader, which: "forward" | "backward"): Expr {
  try {
    return parseExpr(p.str(which), which === "forward" ? FORWARD_VARS : BACKWARD_VARS);
  } catch (e) {
    if (e instanceof ExprError) throw new InferError(`param '${which}': ${e.message}`);
    throw e;
  }
}

function asTensorLike(v: Tensor | number, like: Tensor): Tensor {
  return typeof v === "number" ? full(like.shape, v, like.dtype) : v;
}

function customFunction(c: EvalContext): CustomFunction {
  const fwd = parsed(c.params, "forward");
  const bwd = parsed(c.params, "backward");
  return {
    name: c.params.str("name"),
    forward(ctx, x) {
      const result = asTensorLike(evalExpr(fwd, { x, input: x }), x);
      ctx.saveForBackward(x, result);
      return result;
    },
    backward(ctx, g) {
      const [x, result] = ctx.saved;
      return [asTensorLike(evalExpr(bwd, { x, input: x, result, grad_output: g }), x)];
    },
  };
}

const custom = defineKind({
  type: "custom_function",
  family: "Tools",
  description:
    "Your own function with its own backward, both as math expressions, like torch.autograd.Function",
  inputs: [{ name: "input", help: "x, the function's argument" }],
  params: [
    { name: "name", type: "string", default: "Square", maxLength: 64, help: "the Function's class name" },
    {
      name: "forward",
      type: "string",
      default: "x ** 2",
      help: "the result from x (or input); functions: exp log log1p sqrt abs sign sigmoid tanh relu pow maximum minimum clamp where",
    },
    {
      name: "backward",
      type: "string",
      default: "2 * x * grad_output",
      help: "the gradient for x from x, result (the forward's value) and grad_output; a wrong backward gives wrong gradients, as in PyTorch",
    },
  ],
  infer(ctx) {
    const x = req(ctx, "input");
    parsed(ctx.params, "forward");
    parsed(ctx.params, "backward");
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(ctx.params.str("name")))
      throw new InferError("param 'name' must be a Python identifier (letters, digits, _)");
    return meta(x.shape, floatOf(x.dtype));
  },
  evaluate(c) {
    const x = c.inputs.input!;
    return applyFunction(customFunction(c), isFloating(x.dtype) ? x : ops.cast(x, "float32"));
  },
  torchDefinitions(c) {
    const fwd = parsed(c.params, "forward");
    const bwd = parsed(c.params, "backward");
    const used = expressionVariables(bwd);
    const saved = [
      ...(used.has("x") || used.has("input") ? ["x"] : []),
      ...(used.has("result") ? ["result"] : []),
    ];
    const names = { x: "x", input: "x", result: "result", grad_output: "grad_output" };
    // A constant expression still has to be a tensor of x's shape, as the node's evaluation makes it.
    const code = (e: Expr, like: string) =>
      expressionVariables(e).size > 0
        ? exprToPython(e, names)
        : `torch.full_like(${like}, ${exprToPython(e, names)})`;
    const forward = saved.includes("result")
      ? [`result = ${code(fwd, "x")}`, `ctx.save_for_backward(${saved.join(", ")})`, "return result"]
      : [...(saved.length ? [`ctx.save_for_backward(${saved.join(", ")})`] : []), `return ${code(fwd, "x")}`];
    return [
      `class ${c.name(c.params.str("name"))}(torch.autograd.Function):`,
      "    @staticmethod",
      "    def forward(ctx, x):",
      ...forward.map((l) => `        ${l}`),
      "",
      "    @staticmethod",
      "    def backward(ctx, grad_output):",
      ...(saved.length
        ? [`        ${saved.length === 1 ? `(${saved[0]},)` : saved.join(", ")} = ctx.saved_tensors`]
        : []),
      `        return ${code(bwd, saved.includes("x") ? "x" : "grad_output")}`,
    ];
  },
  torch(c) {
    const x = c.inputs.input!;
    const m = c.inputMetas.input;
    // The node computes in float32 when given integers, as its evaluation casts them.
    const arg = m && !isFloating(m.dtype) ? `${x}.float()` : x;
    return [`${c.out} = ${c.name(c.params.str("name"))}.apply(${arg})`];
  },
});

export const TOOL_KINDS: readonly NodeKind[] = [
  finiteDifference,
  sweep,
  grad,
  withSamples(custom, [
    { inputs: { input: X }, params: { name: "Square", forward: "x ** 2", backward: "2 * x * grad_output" } },
    {
      name: "branches",
      inputs: { input: X },
      params: {
        name: "Odd",
        forward: "where(x > 0, sigmoid(x) * 3, exp(x) - 1) / pi",
        backward: "grad_output * where(x > 0, 3 * sigmoid(x) * (1 - sigmoid(x)), exp(x)) / pi",
      },
    },
  ]),
];
