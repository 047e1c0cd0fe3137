/**
 * Optimizers: SGD, Adam, AdamW, RMSprop, Adagrad with torch.optim's arguments and defaults. Each trains every
 * requires_grad tensor upstream of the loss wired into its `loss` port.
 */
import {
  Adagrad,
  Adam,
  AdamW,
  fmtShape,
  type Optimizer,
  RMSprop,
  SGD,
  type Tensor,
} from "../runtime/index.ts";
import { pyArgs, pyKwargs } from "./python.ts";
import { defineKind } from "./registry.ts";
import { numelOf, req } from "./shapes.ts";
import { InferError, type NodeKind, type ParamDecl, type ParamReader } from "./types.ts";

const lr = (def: number): ParamDecl => ({
  name: "lr",
  type: "number",
  default: def,
  min: 0,
  step: 0.001,
  help: "learning rate: how far each step moves the parameters",
});
const num = (name: string, def: number, help: string, extra: Partial<ParamDecl> = {}): ParamDecl =>
  ({ name, type: "number", default: def, min: 0, help, ...extra }) as ParamDecl;
const flag = (name: string, help: string, def = false): ParamDecl => ({
  name,
  type: "boolean",
  default: def,
  help,
});

const weightDecay = (def = 0) => num("weight_decay", def, "L2 penalty (AdamW: decoupled decay)");
const maximize = flag("maximize", "maximize the objective instead of minimizing it");
const zeroGrad = flag(
  "zero_grad",
  "call optimizer.zero_grad() every epoch; off, gradients accumulate across epochs as in PyTorch",
  true,
);

function optimizerKind(
  type: string,
  description: string,
  hyper: ParamDecl[],
  create: (params: Tensor[], p: ParamReader) => Optimizer,
): NodeKind {
  return defineKind({
    type,
    family: "Optimizers",
    description,
    inputs: [{ name: "loss", dtype: "float", help: "the loss to minimize (a single number)" }],
    outputs: [],
    params: [...hyper, zeroGrad],
    infer(ctx) {
      const l = req(ctx, "loss");
      if (numelOf(l.shape) !== 1)
        throw new InferError(
          `the loss must be a single number, got shape ${fmtShape(l.shape)} (set the loss's reduction to 'mean' or 'sum')`,
          "loss",
        );
      return {};
    },
    evaluate: () => ({}),
    optimizer: { create, loopParams: ["zero_grad"] },
    torch: () => [],
    torchSetup(c) {
      // lr always appears (torch 1.13's SGD requires it); the others only when they differ from torch's default.
      const kwargs = pyKwargs(
        hyper.map((d) => [d.name, c.params.raw(d.name), d.name === "lr" ? undefined : d.default]),
      );
      return [`${c.out} = torch.optim.${type}(${pyArgs(`[${c.trainables.join(", ")}]`, kwargs)})`];
    },
  });
}

const betas: ParamDecl = {
  name: "betas",
  type: "numbers",
  length: 2,
  min: 0,
  max: 1,
  default: [0.9, 0.999],
  help: "decay rates of the running averages of the gradient and its square",
};

const adamParams = (wd: number): ParamDecl[] => [
  lr(1e-3),
  betas,
  num("eps", 1e-8, "added to the denominator for stability"),
  weightDecay(wd),
  flag("amsgrad", "use the AMSGrad variant"),
  maximize,
];

const adamOpts = (p: ParamReader) => ({
  lr: p.num("lr"),
  betas: p.nums("betas") as [number, number],
  eps: p.num("eps"),
  weight_decay: p.num("weight_decay"),
  amsgrad: p.bool("amsgrad"),
  maximize: p.bool("maximize"),
});

export const OPTIMIZER_KINDS: readonly NodeKind[] = [
  optimizerKind(
    "SGD",
    "Stochastic gradient descent (with optional momentum), like torch.optim.SGD",
    [
      lr(0.01),
      num("momentum", 0, "momentum factor"),
      num("dampening", 0, "dampening for momentum"),
      weightDecay(),
      flag("nesterov", "Nesterov momentum (needs momentum and zero dampening)"),
      maximize,
    ],
    (ps, p) =>
      new SGD(ps, {
        lr: p.num("lr"),
        momentum: p.num("momentum"),
        dampening: p.num("dampening"),
        weight_decay: p.num("weight_decay"),
        nesterov: p.bool("nesterov"),
        maximize: p.bool("maximize"),
      }),
  ),
  optimizerKind(
    "Adam",
    "Adaptive moment estimation, like torch.optim.Adam",
    adamParams(0),
    (ps, p) => new Adam(ps, adamOpts(p)),
  ),
  optimizerKind(
    "AdamW",
    "Adam with decoupled weight decay, like torch.optim.AdamW",
    adamParams(1e-2),
    (ps, p) => new AdamW(ps, adamOpts(p)),
  ),
  optimizerKind(
    "RMSprop",
    "Divides by a running average of squared gradients, like torch.optim.RMSprop",
    [
      lr(1e-2),
      num("alpha", 0.99, "smoothing constant"),
      num("eps", 1e-8, "added to the denominator for stability"),
      weightDecay(),
      num("momentum", 0, "momentum factor"),
      flag("centered", "normalize by an estimate of the gradient's variance"),
      maximize,
    ],
    (ps, p) =>
      new RMSprop(ps, {
        lr: p.num("lr"),
        alpha: p.num("alpha"),
        eps: p.num("eps"),
        weight_decay: p.num("weight_decay"),
        momentum: p.num("momentum"),
        centered: p.bool("centered"),
        maximize: p.bool("maximize"),
      }),
  ),
  optimizerKind(
    "Adagrad",
    "Per-parameter learning rates from accumulated squared gradients, like torch.optim.Adagrad",
    [
      lr(1e-2),
      num("lr_decay", 0, "learning rate decay"),
      weightDecay(),
      num("initial_accumulator_value", 0, "starting value of the accumulators"),
      num("eps", 1e-10, "added to the denominator for stability"),
      maximize,
    ],
    (ps, p) =>
      new Adagrad(ps, {
        lr: p.num("lr"),
        lr_decay: p.num("lr_decay"),
        weight_decay: p.num("weight_decay"),
        initial_accumulator_value: p.num("initial_accumulator_value"),
        eps: p.num("eps"),
        maximize: p.bool("maximize"),
      }),
  ),
];
