/**
 * What a node kind declares. One declaration per kind (in src/nodes/<family>.ts) gives everything the rest of
 * gradwire needs: ports for wiring and validation, params for the inspector and the file schema, shape
 * inference for validation before anything runs, evaluation with runtime ops, and the PyTorch code it stands for.
 */
import type { DType, LRScheduler, Optimizer, ParamGroup, Tensor, TorchGenerator } from "../runtime/index.ts";

/** A param value as it is stored in the document and the graph file: plain JSON. */
export type ParamValue = number | boolean | string | null | ParamValue[];
export type ParamValues = Record<string, ParamValue>;

export type Family = "Data" | "Model" | "Ops" | "Activations" | "Losses" | "Optimizers" | "Metrics" | "Tools";
export const FAMILIES: readonly Family[] = [
  "Data",
  "Model",
  "Ops",
  "Activations",
  "Losses",
  "Optimizers",
  "Metrics",
  "Tools",
];

/** Which dtypes an input port accepts. */
export type DTypeRule = "any" | "float" | "integer" | "bool";

export interface PortDecl {
  /** PyTorch's argument name (input, target, other, weight, bias, pos_weight, exponent, loss...). */
  name: string;
  dtype?: DTypeRule;
  /** An optional port may stay unconnected (bias, weight, pos_weight...). */
  optional?: boolean;
  /** A buffer torch updates in place and refuses to differentiate (batch_norm's running statistics). */
  noGrad?: boolean;
  /** When set, a param of this name stands in for the port while it is unconnected (torch.add(x, 2)). */
  scalarParam?: string;
  help: string;
}

export interface OutputDecl {
  name: string;
  help: string;
}

interface ParamBase {
  /** PyTorch's argument name. */
  name: string;
  help: string;
  /** Shown in the inspector; defaults to the name. */
  label?: string;
  /** null is allowed (torch's None); the inspector shows it as "None". */
  nullable?: boolean;
}

export type ParamDecl =
  | (ParamBase & {
      type: "number";
      default: number | null;
      min?: number;
      max?: number;
      /** The bound itself is not allowed (lr > 0). */
      exclusiveMin?: boolean;
      integer?: boolean;
      /** A slider step hint for the inspector. */
      step?: number;
    })
  | (ParamBase & { type: "boolean"; default: boolean })
  | (ParamBase & { type: "enum"; options: readonly string[]; default: string | null })
  | (ParamBase & { type: "string"; default: string; multiline?: boolean; maxLength?: number })
  | (ParamBase & {
      type: "numbers";
      default: number[] | null;
      /** Exact length (betas: 2). */
      length?: number;
      integer?: boolean;
      min?: number;
      max?: number;
    })
  /** A dimension: one int, a list of ints, or None (all dims), as torch's `dim` argument. */
  | (ParamBase & { type: "dims"; default: number | number[] | null })
  /** Literal tensor data as nested arrays, like torch.tensor's first argument. */
  | (ParamBase & { type: "data"; default: ParamValue });

export type ParamType = ParamDecl["type"];

/** What shape inference knows about a tensor before anything runs. */
export interface TensorMeta {
  shape: number[];
  dtype: DType;
  /** A plain number standing in for an unconnected port (promotes like a Python scalar). */
  scalar?: true;
}

/** Params with defaults filled in, read with typed getters. */
export interface ParamReader {
  num(name: string): number;
  numOrNull(name: string): number | null;
  bool(name: string): boolean;
  str(name: string): string;
  strOrNull(name: string): string | null;
  nums(name: string): number[];
  numsOrNull(name: string): number[] | null;
  dims(name: string): number | number[] | null;
  raw(name: string): ParamValue;
}

export interface InferContext {
  /** The meta of what reaches each connected input port (scalar stand-ins included as 0-d tensors). */
  inputs: Record<string, TensorMeta | undefined>;
  params: ParamReader;
}

/** A problem found by shape inference, tied to a port when it is about one input. */
export class InferError extends Error {
  override name = "InferError";
  constructor(
    message: string,
    readonly port?: string,
  ) {
    super(message);
  }
}

export interface LintContext {
  params: ParamReader;
  /** The type of the node feeding a port, if it is connected. */
  sourceType(port: string): string | undefined;
  inputs: Record<string, TensorMeta | undefined>;
}

export interface LintWarning {
  port?: string;
  message: string;
}

export type NodeOutputs = Record<string, Tensor>;

export interface EvalContext {
  nodeId: string;
  /** The node's display name (its id when it has none). */
  label: string;
  /** Values reaching the connected input ports. */
  inputs: Record<string, Tensor | undefined>;
  /** The tensor on a port, or its scalar stand-in param (a plain number) when the port is unconnected. */
  arg(port: string): Tensor | number | undefined;
  params: ParamReader;
  /** The leaf tensors this node owns (see NodeKind.leaves), kept across evaluations and training steps. */
  leaves: Record<string, Tensor>;
  /** Train mode (true while training, false during validation), as nn.Module.training: dropout, batch norm. */
  training: boolean;
  /**
   * Torch's global generator while a training run evaluates its forward pass (seeded once for the run, see
   * NodeKind.random): random kinds draw from it, in evaluation order, as a PyTorch loop's calls draw from the
   * global generator. Undefined outside training: a random kind then seeds its own from its `seed` param.
   */
  generator?: TorchGenerator;
  /**
   * The value reaching `port` when the value reaching `fromPort` is replaced by `value` (everything in between
   * is recomputed, nothing cached is touched). For finite differences, sweeps and gradient nodes.
   */
  recompute(port: string, fromPort: string, value: Tensor): Tensor;
}

/** Python code for one node: lines that assign the node's result to `ctx.out`. */
export interface TorchContext {
  /** The Python variable to assign (`ctx.out`), and one per extra output port (`ctx.outputs[port]`). */
  out: string;
  outputs: Record<string, string>;
  /** Python expressions for connected inputs; undefined when unconnected (read a scalar stand-in from params). */
  inputs: Record<string, string | undefined>;
  /** What shape inference found for each connected input. */
  inputMetas: Record<string, TensorMeta | undefined>;
  params: ParamReader;
  nodeId: string;
  label: string;
  /**
   * For optimizers: Python expressions of the tensors they train, in order; all of a module object's parameters
   * may come as one `*block1.parameters()`.
   */
  trainables: string[];
  /** The Python variable holding one of the node's leaves (see NodeKind.leaves); leaf("") is `out`. */
  leaf(name: string): string;
  /**
   * A Python expression creating one of the node's leaves with its initial values, dtype, device and
   * requires_grad: `torch.tensor([...])` when small, decoded from base64 of its bytes when large (the script
   * builder writes the values, so random tensors carry gradwire's numbers, not torch's generator's).
   */
  leafTensor(name: string): string;
  /** The Python expression naming the device: calls that create tensors pass `device=${ctx.device}`. */
  device: string;
  /** Python for the optimizer steps of one epoch: `1`, or `len(loader)` when a DataLoader feeds the loop. */
  stepsPerEpoch: string;
  /** A Python name for something the node defines (a class, a temporary): unique, the same on every call. */
  name(base: string): string;
  /**
   * A module-level helper function, defined once per script for every node that asks for it by `base`:
   * `define(name)` gives its lines (a `def name(...)`). Returns the name to call it by.
   */
  helper(base: string, define: (name: string) => string[]): string;
  /**
   * For nodes that recompute part of the graph (finite_difference, sweep, grad): the name of a Python function
   * of one tensor that returns the value reaching `port` when the value reaching `fromPort` is that tensor.
   * The script builder defines it from the nodes in between.
   */
  recompute(port: string, fromPort: string): string;
}

export interface OptimizerDecl {
  /** torch.optim class name. */
  create(params: Tensor[], hyper: ParamReader): Optimizer;
  /** Params that are not optimizer hyperparameters (zero_grad). */
  loopParams: readonly string[];
}

export interface LrSchedulerDecl {
  /** When PyTorch code steps it: after every optimizer step (OneCycleLR), or at the end of every epoch. */
  stepEvery: "batch" | "epoch";
  /** `scheduler.step(metric)` with the epoch's number this param names (ReduceLROnPlateau's `monitor`). */
  monitorParam?: string;
  /** The scheduler on the optimizer's param group; `run` says how long the run is (for params left None). */
  create(group: ParamGroup, p: ParamReader, run: { epochs: number; stepsPerEpoch: number }): LRScheduler;
}

export interface NodeKind {
  /** The PyTorch name: mse_loss, cross_entropy, SGD, matmul... */
  type: string;
  family: Family;
  /** One line for the palette. */
  description: string;
  inputs: readonly PortDecl[];
  /** Defaults to a single `out`. */
  outputs?: readonly OutputDecl[];
  params: readonly ParamDecl[];
  /** Output metas from input metas and params; throw InferError to report a problem. */
  infer(ctx: InferContext): TensorMeta | Record<string, TensorMeta>;
  /** Likely mistakes that are not errors (nll_loss fed by something that is not a log_softmax). */
  lint?(ctx: LintContext): LintWarning[];
  /**
   * Leaf tensors this node creates from its params (a tensor literal, a model's weight and bias). Keys are
   * the leaf names: "" for the node's own output, "weight"/"bias" for a model's parameters. The scheduler
   * creates them once and keeps them until the node's params change, so optimizers can update them in place;
   * those with requires_grad are what optimizers train.
   */
  leaves?(params: ParamReader, label: string): Record<string, Tensor>;
  evaluate(ctx: EvalContext): Tensor | NodeOutputs;
  /**
   * Whether the leaves made from these params include tensors optimizers train, told without making them:
   * module nodes (nn.Linear, nn.BatchNorm1d...), which own their parameters and have no requires_grad param.
   */
  trainsLeaves?(params: ParamReader): boolean;
  /** Present on optimizer kinds. */
  optimizer?: OptimizerDecl;
  /** Present on learning-rate schedulers, which are wired from an optimizer's output. */
  lrScheduler?: LrSchedulerDecl;
  /**
   * Present on DataLoader: training iterates its batches, one optimizer step per batch (src/engine/batches.ts),
   * and the exporter writes `for x, y in loader:` around the step, with `loader` from this expression.
   */
  dataLoader?: { loader(ctx: TorchContext): string };
  /**
   * Holds its value when a tool node recomputes the graph: finite differences treat what passes through it as
   * a constant, as autograd does (detach).
   */
  barrier?: boolean;
  /**
   * Draws from torch's global generator in its forward pass (dropout): a new value at every training step, so
   * training recomputes it (and what depends on it) every step, and the exporter puts it inside the loop. A
   * training run seeds one generator for all of them with the `seed` param of the first such node in evaluation
   * order (`torch.manual_seed(seed)` before the exported loop); outside training each one draws as
   * `torch.manual_seed(seed)` right before its call.
   */
  random?: boolean;
  /** Ports whose value is recomputed with the value of another port replaced: [port, fromPort]. */
  recomputes?: readonly [string, string][];
  /**
   * How many times one evaluation re-runs what `recomputes` names (finite differences: once or twice per element
   * nudged), from the input metas: validation's work estimate multiplies the re-run part of the graph by it.
   */
  recomputeRuns?(params: ParamReader, inputs: Record<string, TensorMeta | undefined>): number;
  /**
   * The PyTorch code the node stands for, run where the node sits in the forward pass (inside the training
   * loop for nodes downstream of a trained tensor). Absent on module kinds (`torchModule`), which the exporter
   * calls as `out = layer(input)`.
   */
  torch?(ctx: TorchContext): string[];
  /** Code that runs once before the loop: creating leaves (tensors, a model's parameters) and optimizers. */
  torchSetup?(ctx: TorchContext): string[];
  /**
   * The nn module a module node is (it owns its parameters and buffers under their leaf names): the expression
   * constructing it (`nn.Linear(2, 16)`), and the seed its constructor draws the initial values under. The
   * exporter makes it once, after `torch.manual_seed(seed)`: as an object at the top of the script
   * (`fc = nn.Linear(2, 16).to(device)`, its tensors `fc.weight`, `fc.bias`), or as a submodule
   * (`self.fc = nn.Linear(2, 16)`) where the node sits inside a module class; and calls it on the node's one
   * input (`fc_out = fc(x)`). Such a kind declares no `torch` or `torchSetup`.
   */
  torchModule?(ctx: TorchContext): { layer: string; seed?: number };
  /** Module-level definitions the node's code uses (a torch.autograd.Function subclass), after the imports. */
  torchDefinitions?(ctx: TorchContext): string[];
  /** Parity samples checked against live PyTorch by the completeness test (every backend, gradients, export). */
  samples?: KindSample[];
}

/** Nested arrays of numbers, like torch.tensor's first argument (a plain number is a 0-d tensor). */
export type NestedNumbers = number | NestedNumbers[];

/**
 * A parity sample: tensor values for the kind's input ports and params. The completeness test
 * (tests/nodes/completeness.test.ts) evaluates each sample on every backend and checks forward values and input
 * gradients against live PyTorch.
 */
export interface KindSample {
  name?: string;
  inputs: Record<string, NestedNumbers>;
  params?: ParamValues;
  /** Run in this precision only (a layer whose own dtype must match its input's, as nn.Linear's). */
  precision?: "float32" | "float64";
}

export const OUT = "out";

export function outputsOf(kind: NodeKind): readonly OutputDecl[] {
  return kind.outputs ?? [{ name: OUT, help: "the result" }];
}
