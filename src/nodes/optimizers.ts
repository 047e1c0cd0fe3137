/**
 * Optimizers: one node kind per optimizer spec (src/runtime/optim), with torch.optim's arguments and defaults.
 * Each trains every requires_grad tensor upstream of the loss wired into its `loss` port.
 */
import {
  fmtShape,
  type Hyper,
  type HyperDecl,
  OPTIMIZER_SPECS,
  Optimizer,
  type OptimizerSpec,
} from "../runtime/index.ts";
import { pyArgs, pyKwargs } from "./python.ts";
import { defineKind } from "./registry.ts";
import { meta, numelOf, req } from "./shapes.ts";
import { InferError, type NodeKind, type ParamDecl, type ParamReader } from "./types.ts";

const zeroGrad: ParamDecl = {
  name: "zero_grad",
  type: "boolean",
  default: true,
  help: "call optimizer.zero_grad() every epoch; off, gradients accumulate across epochs as in PyTorch",
};

/** A spec's argument as the inspector's parameter. */
function paramOf(d: HyperDecl): ParamDecl {
  const { name, help } = d;
  if (typeof d.default === "boolean") return { name, type: "boolean", default: d.default, help };
  const bounds = { min: d.min ?? 0, ...(d.max !== undefined ? { max: d.max } : {}) };
  if (Array.isArray(d.default))
    return { name, type: "numbers", length: d.default.length, ...bounds, default: [...d.default], help };
  return { name, type: "number", default: d.default, ...bounds, ...(d.step ? { step: d.step } : {}), help };
}

/** The node's params as the spec's arguments. */
function hyperOf(spec: OptimizerSpec, p: ParamReader): Hyper {
  return Object.fromEntries(
    spec.hyper.map((d) => [
      d.name,
      typeof d.default === "boolean"
        ? p.bool(d.name)
        : Array.isArray(d.default)
          ? p.nums(d.name)
          : p.num(d.name),
    ]),
  );
}

function optimizerKind(spec: OptimizerSpec): NodeKind {
  const hyper = spec.hyper.map(paramOf);
  return defineKind({
    type: spec.name,
    family: "Optimizers",
    description: spec.description,
    inputs: [{ name: "loss", dtype: "float", help: "the loss to minimize (a single number)" }],
    outputs: [
      { name: "out", help: "the optimizer itself, for a learning-rate scheduler (StepLR, OneCycleLR...)" },
    ],
    params: [...hyper, zeroGrad],
    infer(ctx) {
      const l = req(ctx, "loss");
      if (numelOf(l.shape) !== 1)
        throw new InferError(
          `the loss must be a single number, got shape ${fmtShape(l.shape)} (set the loss's reduction to 'mean' or 'sum')`,
          "loss",
        );
      // The output is the optimizer, not a tensor: validation lets only a learning-rate scheduler take it.
      return { out: meta([], "float32") };
    },
    evaluate: () => ({}),
    optimizer: {
      create: (params, p) => new Optimizer(spec, params, hyperOf(spec, p)),
      loopParams: ["zero_grad"],
    },
    torch: () => [],
    torchSetup(c) {
      // lr always appears (torch 1.13's SGD requires it); the others only when they differ from torch's default.
      const kwargs = pyKwargs(
        hyper.map((d) => [d.name, c.params.raw(d.name), d.name === "lr" ? undefined : d.default]),
      );
      // One module's parameters and nothing else: `model.parameters()`, as PyTorch code writes it.
      const [only] = c.trainables;
      const params =
        c.trainables.length === 1 && only.startsWith("*") ? only.slice(1) : `[${c.trainables.join(", ")}]`;
      return [`${c.out} = torch.optim.${spec.name}(${pyArgs(params, kwargs)})`];
    },
  });
}

export const OPTIMIZER_KINDS: readonly NodeKind[] = OPTIMIZER_SPECS.map(optimizerKind);
