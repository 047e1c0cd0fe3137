/**
 * A graph as a runnable PyTorch script: the code each node kind declares (`torch`, `torchSetup`,
 * `torchDefinitions`, and for module nodes the nn module of `torchModule`, made once and called as
 * `fc_out = fc(x)`), put in the order a person would write it: imports, definitions, flags, tensors, parameters
 * and nn modules, what is computed once, the optimizers, then the training loop printing one JSON line per epoch in
 * the form of `gradwire train --jsonl`. A graph without an optimizer (or `mode: "eval"`) becomes a script
 * printing what `gradwire eval --json` prints. Pure TypeScript (no DOM, no Node APIs): `gradwire export-torch`
 * calls it, and anything else could.
 */

import {
  expandModules,
  instancePorts,
  isInstance,
  ModuleError,
  moduleById,
  overridesOf,
  PATH_SEP,
  sequentialChain,
} from "../graph/modules.ts";
import { recomputePlan } from "../graph/recompute.ts";
import { ancestors, descendants } from "../graph/topo.ts";
import {
  freshLeaves,
  nodeLeaves,
  objectiveOf,
  type TrainingGroup,
  type TrainingView,
  trainables,
  trainingGroups,
} from "../graph/training.ts";
import { describeNode, type GraphDoc, type GraphEdge, type GraphNode, nodeLabel } from "../graph/types.ts";
import { inputEdge, type ValidationResult, validateGraph } from "../graph/validate.ts";
import { registry as builtinRegistry } from "../nodes/index.ts";
import { metricKind } from "../nodes/loader.ts";
import { readParams } from "../nodes/params.ts";
import { pyDType, pyStr, pyTuple } from "../nodes/python.ts";
import type { Registry } from "../nodes/registry.ts";
import { type NodeKind, OUT, outputsOf, type TorchContext } from "../nodes/types.ts";
import {
  DISTRIBUTED_NAMES,
  type DistributedParts,
  distributedFlags,
  distributedHelpers,
  distributedMain,
  distributedUsage,
} from "./distributed.ts";
import { nnLayer } from "./nn-layers.ts";
import { PythonNames } from "./python-names.ts";
import { base64, nestedList, tensorBytes } from "./tensor-literals.ts";

export type TorchScriptMode = "train" | "eval";

export interface TorchScriptOptions {
  /**
   * "train": the training loop (the graph needs an optimizer); "eval": every node's value and the objective's
   * gradients, as `gradwire eval --json` prints them. Default: "train" when the graph has an optimizer.
   */
  mode?: TorchScriptMode;
  registry?: Registry;
  /** Tensors with more elements than this are written as base64 of their bytes (default 64). */
  inlineLimit?: number;
  /**
   * A data-parallel training script (DistributedDataParallel; one process, `--nproc N` local ones, or under
   * torchrun): src/export/distributed.ts.
   */
  distributed?: boolean;
}

export type TorchScriptResult =
  | { ok: true; code: string; mode: TorchScriptMode; filename: string }
  | { ok: false; message: string; nodeId?: string };

/** Export a graph document as a PyTorch script (see the module comment); never throws for a bad graph. */
export function torchScript(doc: GraphDoc, opts: TorchScriptOptions = {}): TorchScriptResult {
  const registry = opts.registry ?? builtinRegistry;
  let flat: GraphDoc;
  try {
    flat = expandModules(doc);
  } catch (e) {
    if (e instanceof ModuleError) return { ok: false, message: e.message, nodeId: e.nodeId };
    throw e;
  }
  const v = validateGraph(flat, registry);
  const graph: TrainingView = { doc: flat, registry, v, leaves: freshLeaves(flat) };
  const errors = v.issues.filter((i) => i.severity === "error");
  if (errors.length > 0)
    return {
      ok: false,
      message: `the graph has errors, so it cannot be exported:\n${errors.map((e) => `  ${e.message}`).join("\n")}`,
      nodeId: errors[0].nodeId,
    };
  const groups = trainingGroups(graph);
  const mode = opts.mode ?? (groups.length > 0 ? "train" : "eval");
  if (mode === "train" && groups.length === 0)
    return {
      ok: false,
      message:
        "there is nothing to train: connect a loss to an optimizer (SGD, Adam...), or export the eval script instead",
    };
  if (opts.distributed && mode !== "train")
    return {
      ok: false,
      message: "a distributed script trains: the graph needs an optimizer (eval runs in one process)",
    };
  const scheduled = groups.find((g) => g.lrSchedulers?.length);
  if (opts.distributed && scheduled)
    return {
      ok: false,
      message: "a distributed script has no learning-rate schedulers yet: export the plain script instead",
      nodeId: scheduled.lrSchedulers![0].nodeId,
    };
  if (opts.distributed && groups.length > 1)
    return {
      ok: false,
      message: `a distributed script trains one optimizer, and this graph has ${groups.length} (${groups.map((g) => nodeLabel(doc.nodes[g.nodeId])).join(", ")})`,
      nodeId: groups[1].nodeId,
    };
  const inline = opts.inlineLimit ?? 64;
  // A training script writes each module as an nn.Module class and its instances as objects of it; the eval
  // and distributed scripts (and a graph a class cannot express: see ModulesDoNotFit) stay flat.
  const instances = Object.values(doc.nodes).filter(isInstance);
  try {
    let code: string | undefined;
    if (instances.length > 0 && mode === "train" && !opts.distributed)
      try {
        code = new ScriptBuilder(graph, groups, inline, false, doc).build(mode);
      } catch (e) {
        if (!(e instanceof ModulesDoNotFit)) throw e;
      }
    code ??= new ScriptBuilder(graph, groups, inline, opts.distributed ?? false).build(mode);
    return { ok: true, code, mode, filename: `${scriptStem(doc)}.py` };
  } catch (e) {
    if (e instanceof ExportError) return { ok: false, message: e.message, nodeId: e.nodeId };
    throw e;
  }
}

/** Where a training loop steps its learning-rate schedulers (see schedulerSteps). */
interface SchedulerSteps {
  /** At the epoch's start: the variable `lr` takes the first scheduled optimizer's learning rate. */
  epochStart: string[];
  /** After each optimizer step (OneCycleLR). */
  afterStep: string[];
  /** At the epoch's end, given the Python expressions of the numbers a ReduceLROnPlateau may monitor. */
  epochEnd: (monitored: Record<string, string>) => string[];
  lr?: string;
}

export class ExportError extends Error {
  override name = "ExportError";
  constructor(
    message: string,
    readonly nodeId?: string,
  ) {
    super(message);
  }
}

/** The graph cannot be written with module classes (a module's value read from inside it...): write it flat. */
class ModulesDoNotFit extends Error {
  override name = "ModulesDoNotFit";
}

function notInModule(): never {
  throw new ModulesDoNotFit();
}

/** Where a module's forward finds its values: its own names, its arguments and its `self.` parameters. */
interface InnerScope {
  vars: ReadonlyMap<string, NodeVars>;
  names: PythonNames;
  input(e: GraphEdge): string;
  leaf(id: string, name: string): string;
}

/** A module class as one instance uses it: the class, what its constructor takes, where its leaves live. */
interface ModuleCode {
  className: string;
  /** The tensors the constructor takes, in order (randn, zeros... leaves, its nested instances' too). */
  tensors: { nodeId: string; leaf: string; param: string }[];
  /** Seeds this instance sets apart from the definition's own, as keyword arguments: `fc_seed=3`. */
  seeds: string[];
  /** Where each leaf lives on the object, by `<flat id>\u0000<leaf>`: `W`, `fc.weight`, `block1.fc.weight`. */
  attrs: Map<string, string>;
  /** The edges from outside feeding the forward pass's arguments, in order. */
  args: GraphEdge[];
  /** What the forward pass returns, in order: the inner node and port, and the module's port name. */
  results: { node: string; port: string; name: string }[];
  /** It makes nn layers (so the object goes to the device). */
  layers: boolean;
}

/** A module instance as the script writes it: its class, the object, and the call in the forward pass. */
interface InstanceCode {
  /** The flat ids of its nodes the script includes, in evaluation order. */
  inner: string[];
  className: string;
  /** `block1 = Block(block1_W, block1_b)`. */
  construct: string;
  /** `block1_out = block1(x)`. */
  call: string;
}

function scriptStem(doc: GraphDoc): string {
  const stem = (doc.title ?? "")
    .toLowerCase()
    .replace(/[:(].*$/, "")
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  return stem || "gradwire_graph";
}

/** Every line of `lines` (which may hold several) moved right by `prefix`. */
function indent(lines: readonly string[], prefix = "    "): string[] {
  return lines.flatMap((l) => l.split("\n")).map((l) => (l === "" ? l : prefix + l));
}

/** Prose wrapped at the script's line width, keeping the line breaks it has. */
function wrap(prose: string, width = 100): string {
  return prose
    .split("\n")
    .map((line) => {
      const out: string[] = [];
      let cur = "";
      for (const word of line.split(" ")) {
        if (cur !== "" && cur.length + 1 + word.length > width) {
          out.push(cur);
          cur = word;
        } else cur = cur === "" ? word : `${cur} ${word}`;
      }
      out.push(cur);
      return out.join("\n");
    })
    .join("\n");
}

const isDefinition = (code: string) => /^(def|class) |^@/.test(code);

interface NodeVars {
  /** The node's own name: its `out` output, its leaf "", or the optimizer. */
  own: string;
  outputs: Record<string, string>;
  leaves: Record<string, string>;
}

interface RecomputeFn {
  name: string;
  lines: string[];
}

/**
 * Text for a docstring: backslashes and triple quotes escaped, and every control character but newline and tab
 * written as `\xNN` (Python refuses a NUL in source, and a stray carriage return would end the line).
 */
function docText(t: string): string {
  return t
    .replace(/\\/g, "\\\\")
    .replace(/"""/g, '\\"\\"\\"')
    .replace(
      // Anything but newline, tab, printable ASCII and non-ASCII: the ASCII control characters and DEL.
      /[^\n\t -~\u0080-\uffff]/g,
      (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
    );
}

class ScriptBuilder {
  private readonly names = new PythonNames();
  private readonly vars = new Map<string, NodeVars>();
  private readonly localNames = new Map<string, string>();
  private readonly recomputeFns = new Map<string, RecomputeFn>();
  private readonly definitions = new Map<string, string[]>();
  private readonly helpers = new Map<string, { name: string; lines: string[] }>();
  /** The distributed form: which values it shards and their rows, for the docstring. */
  /** The training loop iterates a DataLoader (set by build). */
  private miniBatches = false;
  /** The DataLoader's Python variable, when a DataLoader feeds the training loop. */
  private loaderVar: string | undefined;
  private shardedForDocs?: Pick<DistributedParts, "sharded" | "rows">;

  constructor(
    private readonly graph: TrainingView,
    private readonly groups: TrainingGroup[],
    private readonly inlineLimit: number,
    private readonly distributed = false,
    /** The document with its modules (the graph is its flat expansion): write each module as a class. */
    private readonly modular?: GraphDoc,
  ) {
    // The distributed script's own names come first, so no node's name takes them.
    if (distributed) for (const n of DISTRIBUTED_NAMES) this.names.take(n);
  }

  private get doc(): GraphDoc {
    return this.graph.doc;
  }
  private get v(): ValidationResult {
    return this.graph.v;
  }

  private kind(id: string): NodeKind {
    return this.graph.registry.get(this.doc.nodes[id].type)!;
  }

  /** Which module instance writes node `id` inside its class (set by build for the modular form). */
  private ownerOf: (id: string) => string | undefined = () => undefined;

  /** A module node the script makes as an nn module object of its own (not a submodule of a class). */
  private isLayer(id: string): boolean {
    return this.kind(id).torchModule !== undefined && this.ownerOf(id) === undefined;
  }

  /**
   * Setup for module node `id`: its nn module (its kind's `torchModule`) made under its seed on the CPU, then
   * moved to the device, as gradwire makes its initial values: `torch.manual_seed(0)`, `fc = nn.Linear(2, 8)`.
   */
  private layerSetup(id: string): string[] {
    const made = this.kind(id).torchModule!(this.context(id));
    const object = this.vars.get(id)!.own;
    const leaves = Object.entries(nodeLeaves(this.graph, id));
    this.objectParameters.push({
      object,
      params: leaves.filter(([, t]) => t.requiresGrad).map(([leaf]) => this.leafVar(id, leaf)),
    });
    return [
      ...(made.seed !== undefined ? [`torch.manual_seed(${made.seed})`] : []),
      `${object} = ${made.layer}${leaves.length > 0 ? ".to(device)" : ""}`,
    ];
  }

  /** The forward-pass code of node `id`: its kind's `torch`, or the call of its nn module object. */
  private forward(id: string, c: TorchContext): string[] {
    const kind = this.kind(id);
    if (kind.torchModule) {
      // A submodule is called by its class's forward (moduleCode); recomputed from outside, it has no object.
      if (!this.isLayer(id)) notInModule();
      const args = kind.inputs.flatMap((p) => c.inputs[p.name] ?? []);
      return [`${c.out} = ${this.vars.get(id)!.own}(${args.join(", ")})`];
    }
    if (!kind.torch)
      throw new ExportError(`node ${describeNode(this.doc.nodes[id])} has no PyTorch code to export`, id);
    return kind.torch(c);
  }

  /** Names for every included node: its outputs and leaves, in evaluation order so the first comers keep theirs. */
  private allocate(ids: readonly string[]): void {
    for (const id of ids) {
      const node = this.doc.nodes[id];
      const kind = this.kind(id);
      // An optimizer still called after its kind (SGD, Adam_2) reads better as what a person would name it.
      const generic =
        (kind.optimizer || kind.lrScheduler) &&
        !node.name &&
        new RegExp(`^${kind.type}(_\\d+)?$`, "i").test(id);
      const own = this.names.take(
        generic ? (kind.optimizer ? "optimizer" : "scheduler") : nodeLabel(node),
        id,
      );
      // A module node's own name is its nn module object (`fc`), its value the call's (`fc_out`), and its
      // tensors the object's (`fc.weight`).
      const layer = this.isLayer(id);
      const outputs: Record<string, string> = {};
      for (const o of outputsOf(kind))
        outputs[o.name] = o.name === OUT && !layer ? own : this.names.take(`${own}_${o.name}`);
      const leaves: Record<string, string> = {};
      for (const leaf of Object.keys(nodeLeaves(this.graph, id)))
        leaves[leaf] = layer ? `${own}.${leaf}` : leaf === "" ? own : this.names.take(`${own}_${leaf}`);
      this.vars.set(id, { own, outputs, leaves });
    }
  }

  private outputVar(id: string, port: string): string {
    const name = this.vars.get(id)?.outputs[port];
    if (name === undefined)
      throw new ExportError(`node ${describeNode(this.doc.nodes[id])} has no output '${port}'`, id);
    return name;
  }

  /** What a kind's torch code sees: the script's names, or (with `inner`) those of a module's forward. */
  private context(id: string, inner?: InnerScope): TorchContext {
    const node = this.doc.nodes[id];
    const kind = this.kind(id);
    const vars = (inner?.vars ?? this.vars).get(id)!;
    const inputs: TorchContext["inputs"] = {};
    const inputMetas: TorchContext["inputMetas"] = {};
    for (const port of kind.inputs) {
      const e = inputEdge(this.v.adjacency, id, port.name);
      if (!e) continue;
      inputs[port.name] = inner ? inner.input(e) : this.outputVar(e.source, e.sourcePort);
      inputMetas[port.name] = this.v.metas[e.source]?.[e.sourcePort];
    }
    const group = this.groups.find((g) => g.nodeId === id);
    return {
      out: vars.outputs[OUT] ?? vars.own,
      outputs: vars.outputs,
      inputs,
      inputMetas,
      params: readParams(kind, node.params),
      nodeId: id,
      label: nodeLabel(node),
      trainables:
        group && !inner ? this.parameterList(group.params.map((p) => this.leafVar(p.nodeId, p.leaf))) : [],
      device: "device",
      stepsPerEpoch: this.loaderVar ? `len(${this.loaderVar})` : "1",
      leaf: (name) => (inner ? inner.leaf(id, name) : this.leafVar(id, name)),
      // A forward pass creates no leaves and recomputes nothing: such a node keeps its instance inline.
      leafTensor: (name) => (inner ? notInModule() : this.leafTensor(id, name)),
      name: (base) => {
        if (inner) return inner.names.take(base);
        const key = `${id}\u0000${base}`;
        let name = this.localNames.get(key);
        if (name === undefined) {
          name = this.names.take(base);
          this.localNames.set(key, name);
        }
        return name;
      },
      recompute: (port, fromPort) => (inner ? notInModule() : this.recompute(id, port, fromPort)),
      helper: (base, define) => this.helper(base, define),
    };
  }

  /**
   * An optimizer's tensors with every module object whose parameters are all among them as one
   * `*block1.parameters()`, where its first one was. (The order of an optimizer's tensors changes none of its
   * numbers: each is updated from its own gradient and state.)
   */
  private parameterList(tensors: readonly string[]): string[] {
    let out = [...tensors];
    for (const { object, params } of this.objectParameters) {
      if (params.length === 0 || !params.every((p) => out.includes(p))) continue;
      const at = Math.min(...params.map((p) => out.indexOf(p)));
      out = out.flatMap((t, i) => (i === at ? [`*${object}.parameters()`] : params.includes(t) ? [] : [t]));
    }
    return out;
  }

  /** A module-level function shared by every node that asks for it. */
  private helper(base: string, define: (name: string) => string[]): string {
    let h = this.helpers.get(base);
    if (!h) {
      const name = this.names.take(base);
      h = { name, lines: define(name) };
      this.helpers.set(base, h);
    }
    return h.name;
  }

  private leafVar(id: string, leaf: string): string {
    const name = this.vars.get(id)?.leaves[leaf];
    if (name === undefined)
      throw new ExportError(`node ${describeNode(this.doc.nodes[id])} has no leaf '${leaf}'`, id);
    return name;
  }

  /** The expression creating a leaf: a nested list when small, base64 of its bytes when large. */
  private leafTensor(id: string, leaf: string): string {
    const t = nodeLeaves(this.graph, id)[leaf];
    if (!t) throw new ExportError(`node ${describeNode(this.doc.nodes[id])} has no leaf '${leaf}'`, id);
    const grad = t.requiresGrad;
    if (t.numel > this.inlineLimit) {
      const decode = this.helper("from_base64", (name) => [
        `def ${name}(data, dtype, shape, device):`,
        '    """A tensor from the base64 of its bytes (little-endian): large tensors are written this way."""',
        "    return torch.frombuffer(bytearray(base64.b64decode(data)), dtype=dtype).reshape(shape).to(device)",
      ]);
      const call = `${decode}(${pyStr(base64(tensorBytes(t)))}, ${pyDType(t.dtype)}, ${pyTuple(t.shape)}, device)`;
      return grad ? `${call}.requires_grad_()` : call;
    }
    const gradArg = grad ? ["requires_grad=True"] : [];
    // No values to write: torch.tensor([]) would lose the shape, (0, 3) say.
    if (t.numel === 0)
      return `torch.empty(${[pyTuple(t.shape), `dtype=${pyDType(t.dtype)}`, "device=device", ...gradArg].join(", ")})`;
    // torch.tensor infers float32 from floats, int64 from ints and bool from booleans: name any other dtype.
    const inferred = t.dtype === "float32" || t.dtype === "int64" || t.dtype === "bool";
    const kwargs = [...(inferred ? [] : [`dtype=${pyDType(t.dtype)}`]), "device=device", ...gradArg];
    return `torch.tensor(${nestedList(t.data, t.shape, t.dtype)}, ${kwargs.join(", ")})`;
  }

  /** A module-level function recomputing what reaches `port` of node `id` from a new value for `fromPort`. */
  private recompute(id: string, port: string, fromPort: string): string {
    const plan = recomputePlan(this.doc, this.graph.registry, this.v, id, port, fromPort);
    if (!plan)
      throw new ExportError(
        `node ${describeNode(this.doc.nodes[id])}: '${port}' and '${fromPort}' must both be connected`,
        id,
      );
    const arg = this.outputVar(plan.from.source, plan.from.sourcePort);
    const result = this.outputVar(plan.target.source, plan.target.sourcePort);
    const key = `${arg}>${result}`;
    const known = this.recomputeFns.get(key);
    if (known) return known.name;
    const fn: RecomputeFn = { name: this.names.take(`${result}_at`), lines: [] };
    this.recomputeFns.set(key, fn);
    const body = plan.nodes.flatMap((n) => this.forward(n, this.context(n)));
    fn.lines = [
      `def ${fn.name}(${arg}):`,
      `    """${result}, computed again from another value of ${arg}."""`,
      ...indent(body),
      `    return ${result}`,
    ];
    return fn.name;
  }

  private definitionsOf(ids: readonly string[]): void {
    for (const id of ids) {
      const lines = this.kind(id).torchDefinitions?.(this.context(id));
      if (lines && lines.length > 0) this.definitions.set(id, lines);
    }
  }

  build(mode: "train" | "eval"): string {
    const order = this.v.order;
    const objective = objectiveOf(this.graph);
    let included: string[];
    if (mode === "train") {
      // What training runs: the losses, the reported objective and what they depend on (as the scheduler).
      const roots = this.groups.map((g) => g.loss.nodeId);
      if (objective) roots.push(objective.nodeId);
      const needed = new Set([...roots, ...ancestors(this.v.adjacency, roots)]);
      const loopNodes = new Set(
        this.groups.flatMap((g) => [g.nodeId, ...(g.lrSchedulers ?? []).map((s) => s.nodeId)]),
      );
      included = order.filter((id) => needed.has(id) || loopNodes.has(id));
    } else included = order.filter((id) => !this.kind(id).optimizer && !this.kind(id).lrScheduler);
    const instances = this.modular ? this.instanceOrder(included, objective) : undefined;
    if (instances) {
      included = instances.order;
      this.ownerOf = instances.ownerOf;
    }
    this.allocate(included);

    this.definitionsOf(included);
    const setup: string[] = [];
    for (const id of included) {
      // A module node inside an instance is made in its class's __init__ (as a submodule).
      if (instances?.ownerOf(id) !== undefined && this.kind(id).torchModule) continue;
      if (this.isLayer(id)) setup.push(...this.layerSetup(id));
      else if (!this.kind(id).optimizer && !this.kind(id).lrScheduler)
        setup.push(...(this.kind(id).torchSetup?.(this.context(id)) ?? []));
    }
    // Each instance becomes an object of its module's class, made from the leaves just created; from then on
    // the script (the optimizers, the training loop) reads its parameters from the object: block1.W.
    const calls = new Map<string, InstanceCode>();
    for (const [id, inner] of instances?.members ?? []) {
      const code = this.instanceCode(id, inner);
      calls.set(id, code);
      setup.push(code.construct);
    }
    const trainedNodes = new Set(this.groups.flatMap((g) => g.params.map((p) => p.nodeId)));
    // With a DataLoader, what depends on its batch runs per step, inside `for x, y in loader:`.
    const loader = mode === "train" ? included.find((id) => this.kind(id).dataLoader) : undefined;
    if (loader && this.distributed)
      throw new ExportError(
        `DataLoader '${nodeLabel(this.doc.nodes[loader])}': the distributed export does not take mini-batches yet; export the plain script`,
        loader,
      );
    this.miniBatches = loader !== undefined;
    this.loaderVar = loader === undefined ? undefined : this.vars.get(loader)!.own;
    // Optimizers, then their schedulers (torch's scheduler constructor takes the optimizer), after the loader
    // (OneCycleLR's steps_per_epoch is len(loader)).
    const optimizers: string[] = [];
    for (const id of included)
      if (this.kind(id).optimizer || this.kind(id).lrScheduler)
        optimizers.push(...(this.kind(id).torchSetup?.(this.context(id)) ?? []));
    // Dropout draws a new mask every step, from the global generator seeded once before the loop.
    const random = mode === "train" ? included.filter((id) => this.kind(id).random) : [];
    if (random.length > 0 && this.distributed)
      throw new ExportError(
        `${describeNode(this.doc.nodes[random[0]])} draws from the generator, and each process of a distributed script would draw its own masks; export the plain script`,
        random[0],
      );
    const perStep = new Set([...trainedNodes, ...random, ...(loader ? [loader] : [])]);
    const perEpoch =
      mode === "train" ? new Set([...perStep, ...descendants(this.v.adjacency, perStep)]) : new Set<string>();
    const once: string[] = [];
    const loop: string[] = [];
    for (const id of included) {
      if (this.kind(id).optimizer || this.kind(id).lrScheduler) continue;
      const owner = instances?.ownerOf(id);
      if (owner !== undefined) {
        const code = calls.get(owner)!;
        if (code.inner[0] === id) (code.inner.some((n) => perEpoch.has(n)) ? loop : once).push(code.call);
        continue;
      }
      if (id === loader) {
        once.push(`${this.vars.get(id)!.own} = ${this.kind(id).dataLoader!.loader(this.context(id))}`);
        continue;
      }
      const lines = this.forward(id, this.context(id));
      // Outside training a random node draws as gradwire's preview does: the generator seeded right before it.
      if (mode === "eval" && this.kind(id).random)
        lines.unshift(`torch.manual_seed(${this.context(id).params.num("seed")})`);
      (perEpoch.has(id) ? loop : once).push(...lines);
    }

    const sections = this.distributed
      ? distributedMain(this.distributedParts(setup, once, optimizers, loop, objective, perEpoch))
      : mode === "train"
        ? [
            setup,
            ...this.functions(),
            once,
            optimizers,
            [...this.seedOnce(random), ...this.trainingLoop(loop, objective, loader)],
          ]
        : [setup, ...this.functions(), once, this.evalReport(included, objective)];
    const code = [
      ...this.helperDefinitions(),
      ...(this.distributed ? [distributedHelpers()] : [this.flags(mode, this.header(mode).join("\n"))]),
      ...sections,
    ]
      .filter((b) => b.length > 0)
      .map((b) => b.join("\n"));
    // The imports are what the code uses: found in the code alone, never in the docstring's prose.
    const blocks = [this.header(mode).join("\n"), this.imports(code.join("\n")).join("\n"), ...code];
    // PEP 8: two blank lines around top-level functions and classes, one between other blocks.
    const text = blocks
      .map((b, i) =>
        i === 0 ? b : `${isDefinition(b) || isDefinition(blocks[i - 1]) ? "\n\n\n" : "\n\n"}${b}`,
      )
      .join("");
    return `${text}\n`;
  }

  /**
   * `torch.manual_seed(seed)` right before the training loop, when the loop draws (dropout): the first random
   * node's seed, as gradwire seeds the run's generator (TrainingProgram.random), so every mask is torch's.
   */
  private seedOnce(random: readonly string[]): string[] {
    if (random.length === 0) return [];
    const seed = this.context(random[0]).params.num("seed");
    return [
      "# Dropout draws a new mask at every step from the global generator, seeded once here.",
      `torch.manual_seed(${seed})`,
    ];
  }

  /** What the distributed form needs of the plain script (see src/export/distributed.ts). */
  private distributedParts(
    setup: string[],
    once: string[],
    optimizers: string[],
    forward: string[],
    objective: { nodeId: string; port: string } | undefined,
    perEpoch: ReadonlySet<string>,
  ): DistributedParts {
    const g = this.groups[0];
    const loss = this.outputVar(g.loss.nodeId, g.loss.port);
    // The rows: the first dimension of what the loss compares (its input).
    const lossKind = this.kind(g.loss.nodeId);
    const lossIn = lossKind.inputs
      .map((p) => inputEdge(this.v.adjacency, g.loss.nodeId, p.name))
      .find((e) => e);
    const rowsMeta = lossIn ? this.v.metas[lossIn.source]?.[lossIn.sourcePort] : undefined;
    const rows = rowsMeta && rowsMeta.shape.length > 0 ? rowsMeta.shape[0] : undefined;
    // Every value the per-epoch code reads from outside it that has those rows is cut to this process's share.
    const sharded = new Set<string>();
    if (rows !== undefined)
      for (const id of perEpoch)
        for (const e of this.v.adjacency.into.get(id) ?? []) {
          if (perEpoch.has(e.source)) continue;
          const meta = this.v.metas[e.source]?.[e.sourcePort];
          if (meta && meta.shape.length > 0 && meta.shape[0] === rows)
            sharded.add(this.outputVar(e.source, e.sourcePort));
        }
    const trained = g.params.map((p) => ({ variable: this.leafVar(p.nodeId, p.leaf), id: p.id }));
    // The module nodes' tensors live in their nn module objects, which the forward module holds whole.
    const tensors = g.params
      .filter((p) => !this.isLayer(p.nodeId))
      .map((p) => this.leafVar(p.nodeId, p.leaf));
    const parser = this.flags("train", this.header("train").join("\n")).filter(
      (l) => !/^args = |^device = /.test(l),
    );
    this.shardedForDocs = { sharded: [...sharded], rows };
    return {
      parser: [...parser, ...distributedFlags()],
      setup,
      functions: this.functions(),
      once,
      optimizers,
      forward,
      trained,
      tensors,
      modules: this.objectParameters.map((o) => o.object),
      sharded: [...sharded],
      rows,
      optimizerVars: [{ variable: this.vars.get(g.nodeId)!.own, zeroGrad: g.zeroGrad }],
      loss,
      objective: objective ? this.outputVar(objective.nodeId, objective.port) : loss,
      printedParams: trained.map((t) => `${pyStr(t.id)}: ${t.variable}.flatten().tolist()`),
    };
  }

  private functions(): string[][] {
    return [...this.recomputeFns.values()].map((f) => f.lines);
  }

  private header(mode: "train" | "eval"): string[] {
    const title = this.doc.title ?? "A gradwire graph";
    const what =
      mode === "train"
        ? 'Trains like `gradwire train --jsonl`, printing one JSON line per epoch:\n{"epoch": k, "loss": L, "params": {id: [values after the step]}}.'
        : "Prints node values and gradients like `gradwire eval --json`.";
    const description = this.doc.description ? `\n${wrap(docText(this.doc.description))}\n` : "";
    const usage = this.distributed
      ? `\n\n${wrap(distributedUsage(this.shardedForDocs ?? { sharded: [], rows: undefined }))}`
      : "";
    return [`"""${docText(title)}\n${description}\n${wrap(`Exported from gradwire. ${what}`)}${usage}\n"""`];
  }

  /** The imports `code` (the script after its docstring and imports) uses. */
  private imports(code: string): string[] {
    const std = ["argparse", "base64", "csv", "io", "json", "math", "os", "re", "socket", "sys"].filter(
      (m) => (m === "argparse" || m === "json" ? true : new RegExp(`\\b${m}\\.`).test(code)),
    );
    const third = [
      "import torch",
      ...(this.distributed ? ["import torch.distributed as dist", "import torch.multiprocessing as mp"] : []),
      ...(/(^|[^.\w])nn\./m.test(code) ? ["from torch import nn"] : []),
      ...(/\bF\./.test(code) ? ["import torch.nn.functional as F"] : []),
      ...(this.distributed ? ["from torch.nn.parallel import DistributedDataParallel"] : []),
    ];
    return [...std.map((m) => `import ${m}`), "", ...third];
  }

  private helperDefinitions(): string[][] {
    return [
      ...[...this.helpers.values()].map((h) => h.lines),
      ...this.definitions.values(),
      ...[...this.classes.values()].map((c) => c.lines),
    ];
  }

  // --- modules as nn.Module classes -----------------------------------------------------------------------

  /**
   * Each top-level nn module object (a module node's `fc`, an instance's `block1`) and its nn.Parameters
   * (`fc.weight`, `block1.W`), for the optimizers' lists and the validation pass's eval mode.
   */
  private readonly objectParameters: { object: string; params: string[] }[] = [];

  /** The module classes written so far, by definition and body (instances that differ get a class each). */
  private readonly classes = new Map<string, { name: string; lines: string[] }>();

  /**
   * The included nodes reordered so each top-level instance's nodes come together (one call computes them),
   * with which instance owns which node. Throws ModulesDoNotFit when no such order exists (a module's output
   * feeds, through the outside, one of its own inputs) or the outside needs a value from inside an instance
   * that is not one of its outputs (a loss or objective inside the module, an optimizer inside it).
   */
  private instanceOrder(
    included: readonly string[],
    objective: { nodeId: string; port: string } | undefined,
  ): { order: string[]; members: Map<string, string[]>; ownerOf: (id: string) => string | undefined } {
    const doc = this.modular!;
    const topOf = (id: string): string | undefined => {
      const top = id.slice(0, id.indexOf(PATH_SEP));
      return id.includes(PATH_SEP) && doc.nodes[top] && isInstance(doc.nodes[top]) ? top : undefined;
    };
    // An instance the outside needs an inner value of (a loss or objective that is not one of its outputs, an
    // optimizer inside it) cannot be one call: its nodes are written inline, as in a flat graph.
    const outside = [
      ...this.groups.flatMap((g) => [g.loss, { nodeId: g.nodeId, port: "" }]),
      ...(objective ? [objective] : []),
    ];
    const inline = new Set<string>();
    for (const r of outside) {
      const top = topOf(r.nodeId);
      if (top === undefined) continue;
      const exposed = instancePorts(doc, top).outputs.some((p) => p.node === r.nodeId && p.port === r.port);
      if (!exposed) inline.add(top);
    }
    const ownerOf = (id: string): string | undefined => {
      const top = topOf(id);
      return top !== undefined && !inline.has(top) ? top : undefined;
    };
    const members = new Map<string, string[]>();
    for (const id of included) {
      const o = ownerOf(id);
      if (o !== undefined) members.set(o, [...(members.get(o) ?? []), id]);
    }
    // Topological order of the units (an instance or an outer node), stable in the graph's evaluation order.
    const unit = (id: string) => ownerOf(id) ?? id;
    const units = [...new Set(included.map(unit))];
    const inUnits = new Set(included);
    const deps = new Map(units.map((u) => [u, new Set<string>()]));
    for (const id of included)
      for (const e of this.v.adjacency.into.get(id) ?? [])
        if (inUnits.has(e.source) && unit(e.source) !== unit(id)) deps.get(unit(id))!.add(unit(e.source));
    const done = new Set<string>();
    const sorted: string[] = [];
    while (sorted.length < units.length) {
      const next = units.find((u) => !done.has(u) && [...deps.get(u)!].every((d) => done.has(d)));
      if (next === undefined) throw new ModulesDoNotFit();
      done.add(next);
      sorted.push(next);
    }
    const order = sorted.flatMap((u) => members.get(u) ?? [u]);
    return { order, members, ownerOf };
  }

  /** The class for top-level instance `id` (written once per module and body), its construction and its call. */
  private instanceCode(id: string, inner: readonly string[]): InstanceCode {
    const node = this.modular!.nodes[id];
    const code = this.moduleCode(id, node, inner);
    const object = this.names.take(nodeLabel(node));
    const ctorArgs = [...code.tensors.map((t) => this.leafVar(t.nodeId, t.leaf)), ...code.seeds];
    // From here on, the script reads the instance's parameters from the object, and its outputs from the call.
    const params: string[] = [];
    for (const [key, attr] of code.attrs) {
      const [n, leaf] = key.split("\u0000");
      this.vars.get(n)!.leaves[leaf] = `${object}.${attr}`;
      // Its nn.Parameters: what it trains (the rest are buffers).
      if (nodeLeaves(this.graph, n)[leaf].requiresGrad) params.push(`${object}.${attr}`);
    }
    this.objectParameters.push({ object, params });
    // The call's results: `block1_out` for a lone `out`, else the names the inner values already have.
    const results = code.results.map((p) => {
      const vars = this.vars.get(p.node)!;
      if (code.results.length === 1 && p.name === OUT)
        vars.outputs[p.port] = this.names.take(`${object}_out`);
      return vars.outputs[p.port];
    });
    const call = `${object}(${code.args.map((e) => this.outputVar(e.source, e.sourcePort)).join(", ")})`;
    return {
      inner: [...inner],
      className: code.className,
      // Its nn layers are made on the CPU, under their seeds, then moved, as gradwire's are.
      construct: `${object} = ${code.className}(${ctorArgs.join(", ")})${code.layers ? ".to(device)" : ""}`,
      call: results.length > 0 ? `${results.join(", ")} = ${call}` : call,
    };
  }

  /** `self.act = nn.ReLU()` for a functional node with an nn counterpart (see nn-layers.ts), else undefined. */
  private nnLayerLine(id: string, names: PythonNames): string[] | undefined {
    const kind = this.kind(id);
    if (kind.leaves) return undefined;
    const made = nnLayer(kind, this.context(id));
    if (!made) return undefined;
    const attr = names.take(id.slice(id.lastIndexOf(PATH_SEP) + 1));
    return [
      ...(made.seed !== undefined ? [`torch.manual_seed(${made.seed})`] : []),
      `self.${attr} = ${made.layer}`,
    ];
  }

  /** The seeds of module `defId`'s inner nodes some instance sets for itself (`"fc.seed": 2`). */
  private overriddenSeeds(defId: string): Set<string> {
    const doc = this.modular!;
    const graphs = [doc.nodes, ...Object.values(doc.modules ?? {}).map((d) => d.nodes)];
    const out = new Set<string>();
    for (const nodes of graphs)
      for (const n of Object.values(nodes))
        if (isInstance(n) && n.params.module === defId)
          for (const [inner, values] of overridesOf(n)) if ("seed" in values) out.add(inner);
    return out;
  }

  /**
   * The class for the module instance at `path` (a top-level id, or `outer/block1` nested in one), whose nodes
   * the script includes are `inner` (flat ids, in evaluation order). Module nodes (nn.Linear...) become
   * submodules made in `__init__` under their seeds, nested instances objects of their own classes, other
   * leaves (randn, zeros) tensors the constructor takes; `forward` is the inner graph's code. A definition
   * marked Sequential whose layers all have an nn form derives from nn.Sequential and has no forward.
   */
  private moduleCode(path: string, node: GraphNode, inner: readonly string[]): ModuleCode {
    const doc = this.modular!;
    const def = moduleById(doc, String(node.params.module))!;
    const prefix = `${path}${PATH_SEP}`;
    const mine = new Set(inner);
    // `self.` attributes and __init__'s arguments; forward's arguments and values.
    const initNames = new PythonNames();
    const local = new PythonNames();
    const ports = instancePorts(doc, path, node);
    // The forward pass's arguments: one per input port the outside feeds (in the module's order).
    const args: { name: string; edge: GraphEdge }[] = [];
    const argOf = new Map<string, string>();
    for (const p of ports.inputs) {
      const fed = p.targets
        .filter((t) => mine.has(t.node))
        .map((t) => ({ t, e: inputEdge(this.v.adjacency, t.node, t.port) }))
        .filter((x) => x.e && !mine.has(x.e.source));
      if (fed.length === 0) continue;
      const arg = local.take(p.name);
      args.push({ name: arg, edge: fed[0].e! });
      for (const { t } of fed) argOf.set(`${t.node}.${t.port}`, arg);
    }
    // Its members in evaluation order: its own nodes, and the nested instances whose nodes it includes.
    const members: { local: string; ids: string[]; nested?: GraphNode; layer?: boolean }[] = [];
    for (const id of inner) {
      const rest = id.slice(prefix.length);
      const cut = rest.indexOf(PATH_SEP);
      const name = cut < 0 ? rest : rest.slice(0, cut);
      let m = members.find((x) => x.local === name);
      if (!m) {
        m = { local: name, ids: [] };
        if (cut >= 0) m.nested = def.nodes[name];
        else if (this.kind(id).torchModule) m.layer = true;
        // Code that sets itself up at the top level, with no leaves to hand over (F.dropout's generator...).
        else if (this.kind(id).torchSetup && !this.kind(id).leaves) notInModule();
        members.push(m);
      }
      m.ids.push(id);
    }
    const attrs = new Map<string, string>();
    const tensors: ModuleCode["tensors"] = [];
    const seeds: string[] = [];
    // Each member's lines in __init__ (its parameters, its submodule), by member.
    const init = new Map<string, string[]>();
    const layerAttr = new Map<string, string>();
    const subs = new Map<string, { attr: string; code: ModuleCode }>();
    const overridden = this.overriddenSeeds(def.id);
    const seedArgs: string[] = [];
    let layers = false;
    for (const m of members) {
      if (m.nested) {
        const attr = initNames.take(m.local);
        const code = this.moduleCode(`${prefix}${m.local}`, m.nested, m.ids);
        subs.set(m.local, { attr, code });
        const passed = code.tensors.map((t) => {
          const param = initNames.take(`${attr}_${t.param}`);
          tensors.push({ ...t, param });
          return param;
        });
        for (const [key, a] of code.attrs) attrs.set(key, `${attr}.${a}`);
        init.set(m.local, [`self.${attr} = ${code.className}(${[...passed, ...code.seeds].join(", ")})`]);
        layers ||= code.layers;
        continue;
      }
      const n = m.ids[0];
      if (m.layer) {
        const attr = initNames.take(m.local);
        layerAttr.set(n, attr);
        const made = this.kind(n).torchModule!(this.context(n));
        const lines: string[] = [];
        init.set(m.local, lines);
        for (const leaf of Object.keys(nodeLeaves(this.graph, n)))
          attrs.set(`${n}\u0000${leaf}`, `${attr}.${leaf}`);
        if (made.seed !== undefined) {
          // A seed an instance may set for itself is an argument, the definition's own its default.
          let seed = String(made.seed);
          if (overridden.has(m.local)) {
            seed = initNames.take(`${attr}_seed`);
            const own = readParams(this.kind(n), def.nodes[m.local].params).num("seed");
            seedArgs.push(`${seed}=${own}`);
            if (made.seed !== own) seeds.push(`${seed}=${made.seed}`);
          }
          lines.push(`torch.manual_seed(${seed})`);
        }
        lines.push(`self.${attr} = ${made.layer}`);
        layers = true;
        continue;
      }
      // The leaves of its other nodes are tensors the constructor takes: parameters, or buffers when untrained.
      for (const [leaf, t] of Object.entries(nodeLeaves(this.graph, n))) {
        const attr = initNames.take(leaf === "" ? m.local : `${m.local}_${leaf}`);
        attrs.set(`${n}\u0000${leaf}`, attr);
        tensors.push({ nodeId: n, leaf, param: attr });
        init.set(m.local, [
          ...(init.get(m.local) ?? []),
          t.requiresGrad
            ? `self.${attr} = nn.Parameter(${attr})`
            : `self.register_buffer(${pyStr(attr)}, ${attr})`,
        ]);
      }
    }
    // Local names for the inner nodes' values, then the forward pass from the kinds' own code.
    const vars = new Map<string, NodeVars>();
    for (const m of members) {
      if (m.nested) continue;
      const n = m.ids[0];
      const own = local.take(m.local);
      const outputs: Record<string, string> = {};
      for (const o of outputsOf(this.kind(n)))
        outputs[o.name] = o.name === OUT ? own : local.take(`${own}_${o.name}`);
      // A leaf node's value is its leaf: the object's parameter.
      const self = attrs.get(`${n}\u0000`);
      if (self !== undefined) outputs[OUT] = `self.${self}`;
      vars.set(n, { own, outputs, leaves: {} });
    }
    const scope: InnerScope = {
      vars,
      names: local,
      input: (e) =>
        mine.has(e.source)
          ? vars.get(e.source)!.outputs[e.sourcePort]
          : argOf.get(`${e.target}.${e.targetPort}`)!,
      leaf: (n, name) => {
        const attr = attrs.get(`${n}\u0000${name}`);
        return attr === undefined ? notInModule() : `self.${attr}`;
      },
    };
    const body: string[] = [];
    for (const m of members) {
      const sub = subs.get(m.local);
      if (sub) {
        const { attr, code } = sub;
        const results = code.results.map((r) => {
          const name = local.take(code.results.length === 1 ? attr : `${attr}_${r.name}`);
          const vs = vars.get(r.node) ?? { own: name, outputs: {}, leaves: {} };
          vs.outputs[r.port] = name;
          vars.set(r.node, vs);
          return name;
        });
        const call = `self.${attr}(${code.args.map((e) => scope.input(e)).join(", ")})`;
        body.push(results.length > 0 ? `${results.join(", ")} = ${call}` : call);
      } else if (m.layer) {
        const n = m.ids[0];
        const into = inputEdge(this.v.adjacency, n, "input");
        body.push(
          `${vars.get(n)!.outputs[OUT]} = self.${layerAttr.get(n)}(${into ? scope.input(into) : ""})`,
        );
      } else body.push(...this.forward(m.ids[0], this.context(m.ids[0], scope)));
    }
    const results = ports.outputs
      .filter((p) => mine.has(p.node))
      .map((p) => ({ node: p.node, port: p.port, name: p.name }));
    const returned = results.map((p) => vars.get(p.node)!.outputs[p.port]);
    const doc_ = `    """${docText(def.description ?? `The module ${def.id}, exported from gradwire.`)}"""`;
    const initArgs = [...tensors.map((t) => t.param), ...seedArgs];
    // A Sequential: its layers in the chain's order, module nodes and nested instances as made above, functional
    // ones as their nn counterparts; or the first that has none.
    let sequential: { init: string[] } | { missing: string } | undefined;
    const chain = def.sequential ? sequentialChain(def) : undefined;
    if (chain && "chain" in chain) {
      sequential = { init: [] };
      for (const name of chain.chain) {
        const m = members.find((x) => x.local === name);
        const made = m && (m.layer || m.nested ? init.get(name) : this.nnLayerLine(m.ids[0], initNames));
        if (!made) {
          const type = def.nodes[name].type;
          sequential = { missing: `'${name}' (${type})` };
          break;
        }
        sequential.init.push(...made);
      }
    }
    let lines: string[];
    let base = "nn.Module";
    if (sequential && !("missing" in sequential)) {
      base = "nn.Sequential";
      lines = [
        doc_,
        "",
        `    def __init__(self${initArgs.map((a) => `, ${a}`).join("")}):`,
        "        super().__init__()",
        ...indent(sequential.init, "        "),
      ];
    } else
      lines = [
        doc_,
        // A Sequential in gradwire, but one of its layers is no nn module: the class says why it is not one.
        ...(sequential && "missing" in sequential
          ? [
              `    # Sequential in gradwire, written as an nn.Module: ${sequential.missing} has no nn layer to put in an`,
              "    # nn.Sequential.",
            ]
          : []),
        "",
        `    def __init__(self${initArgs.map((a) => `, ${a}`).join("")}):`,
        "        super().__init__()",
        ...indent([...init.values()].flat(), "        "),
        "",
        `    def forward(self${args.map((a) => `, ${a.name}`).join("")}):`,
        ...indent(body, "        "),
        `        return ${returned.join(", ") || "None"}`,
      ];
    const key = `${def.id}\u0000${base}\u0000${lines.join("\n")}`;
    let cls = this.classes.get(key);
    if (!cls) {
      const name = this.names.take(def.id);
      cls = { name, lines: [`class ${name}(${base}):`, ...lines] };
      this.classes.set(key, cls);
    }
    return {
      className: cls.name,
      tensors,
      seeds,
      attrs,
      args: args.map((a) => a.edge),
      results,
      layers,
    };
  }

  private flags(mode: "train" | "eval", docstring: string): string[] {
    // argparse %-formats a description that contains "%(prog)" (and then fails on any other %): doubling every
    // % makes it print the title and description exactly as written.
    const description = docstring.includes("%(prog)") ? '__doc__.replace("%", "%%")' : "__doc__";
    return [
      `parser = argparse.ArgumentParser(description=${description}, formatter_class=argparse.RawDescriptionHelpFormatter)`,
      'parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where the tensors live")',
      ...(mode === "train"
        ? [
            `parser.add_argument("--epochs", type=int, default=${this.doc.settings.epochs}, help="how many epochs to train")`,
            ...(this.miniBatches
              ? [
                  'parser.add_argument("--steps", action="store_true", help="each line also holds every batch\'s loss")',
                ]
              : []),
          ]
        : []),
      "args = parser.parse_args()",
      "device = torch.device(args.device)",
    ];
  }

  private trainingLoop(
    forward: string[],
    objective: { nodeId: string; port: string } | undefined,
    loader?: string,
  ): string[] {
    const lossVar = (g: TrainingGroup) => this.outputVar(g.loss.nodeId, g.loss.port);
    const reported = objective ? this.outputVar(objective.nodeId, objective.port) : lossVar(this.groups[0]);
    const checked = [...new Set([reported, ...this.groups.map(lossVar)])];
    const backward: string[] = [];
    this.groups.forEach((g, i) => {
      const opt = this.vars.get(g.nodeId)!.own;
      if (g.zeroGrad) backward.push(`${opt}.zero_grad()`);
      else backward.push(`# zero_grad is off in the graph: gradients accumulate across epochs`);
      backward.push(`${lossVar(g)}.backward(${i < this.groups.length - 1 ? "retain_graph=True" : ""})`);
    });
    const step = this.groups.map((g) => `${this.vars.get(g.nodeId)!.own}.step()`);
    const sched = this.schedulerSteps();
    step.push(...sched.afterStep);
    const trained = this.groups.flatMap((g) =>
      g.params.map((p) => `${pyStr(p.id)}: ${this.leafVar(p.nodeId, p.leaf)}`),
    );
    const trainedVar = this.names.take("trained");
    const name = this.names.take("name");
    const t = this.names.take("t");
    const what = this.names.take("what");
    // As gradwire: a NaN or infinite gradient stops training before any step, naming the parameter.
    const gradientCheck = [
      `for ${name}, ${t} in ${trainedVar}.items():`,
      `    if ${t}.grad is not None and not ${t}.grad.isfinite().all():`,
      `        ${what} = "nan" if ${t}.grad.isnan().any() else "inf"`,
      `        sys.exit(`,
      `            f"epoch {epoch}: the gradient of '{${name}}' became {${what}}; no step was taken, "`,
      `            "the parameters keep their values from before this epoch"`,
      "        )",
    ];
    const params = this.groups.flatMap((g) =>
      g.params.map((p) => `${pyStr(p.id)}: ${this.leafVar(p.nodeId, p.leaf)}.flatten().tolist()`),
    );
    if (loader)
      return this.miniBatchLoop(loader, reported, forward, {
        trainedDict:
          trainedVar.length + trained.join(", ").length + 5 <= 110
            ? [`${trainedVar} = {${trained.join(", ")}}`]
            : [`${trainedVar} = {`, ...trained.map((p) => `    ${p},`), "}"],
        checks: checked.flatMap((l) => [
          `if not math.isfinite(${l}.item()):`,
          `    sys.exit(f"epoch {epoch}: the loss became {${l}.item()}")`,
        ]),
        backward,
        gradientCheck,
        step,
        params,
        sched,
      });
    const lrItem = sched.lr ? `"lr": ${sched.lr}, ` : "";
    const record = `{"epoch": epoch, "loss": ${reported}.item(), ${lrItem}"params": {${params.join(", ")}}}`;
    const print =
      record.length + 22 <= 110
        ? [`print(json.dumps(${record}))`]
        : [
            "print(json.dumps({",
            '    "epoch": epoch,',
            `    "loss": ${reported}.item(),`,
            ...(sched.lr ? [`    "lr": ${sched.lr},`] : []),
            '    "params": {',
            ...params.map((p) => `        ${p},`),
            "    },",
            "}))",
          ];
    const trainedDict =
      trainedVar.length + trained.join(", ").length + 5 <= 110
        ? [`${trainedVar} = {${trained.join(", ")}}`]
        : [`${trainedVar} = {`, ...trained.map((p) => `    ${p},`), "}"];
    return [
      ...trainedDict,
      "for epoch in range(args.epochs):",
      ...indent(sched.epochStart),
      ...indent(forward),
      // gradwire stops a diverging run before the step, naming the first NaN or inf; so does this loop.
      ...indent(
        checked.flatMap((l) => [
          `if not math.isfinite(${l}.item()):`,
          `    sys.exit(f"epoch {epoch}: the loss became {${l}.item()}")`,
        ]),
      ),
      ...indent(backward),
      ...indent(gradientCheck),
      ...indent(step),
      ...indent(print),
      ...indent(sched.epochEnd({ loss: `${reported}.item()` })),
    ];
  }

  /**
   * PyTorch's mini-batch loop, as gradwire trains a graph with a DataLoader (src/engine/batches.ts): a step per
   * batch, the epoch's loss the mean of the batch losses, then the validation data through the same code in the
   * batch's place under torch.no_grad(), with its metrics.
   */
  private miniBatchLoop(
    loader: string,
    reported: string,
    forward: string[],
    parts: {
      trainedDict: string[];
      checks: string[];
      backward: string[];
      gradientCheck: string[];
      step: string[];
      params: string[];
      sched: SchedulerSteps;
    },
  ): string[] {
    const c = this.context(loader);
    const batch = `${c.outputs.x}, ${c.outputs.y}`;
    const steps = this.names.take("steps");
    const record: string[] = ['    "epoch": epoch,', `    "loss": sum(${steps}) / len(${steps}),`];
    const { sched } = parts;
    if (sched.lr) record.push(`    "lr": ${sched.lr},`);
    // What ReduceLROnPlateau watches at the epoch's end: the mean batch loss, or the validation loss.
    const monitored: Record<string, string> = { loss: `sum(${steps}) / len(${steps})` };
    const validation: string[] = [];
    const prelude: string[] = [];
    if (c.inputs.val_x && c.inputs.val_y) {
      const val = this.names.take("val");
      // model.eval() for the validation pass, model.train() after it: every nn module object the script made
      // (dropout and batch norm behave differently), as gradwire evaluates validation with EvalContext.training
      // false.
      const objects = this.objectParameters.map((o) => o.object);
      const modules = objects.length > 0 ? this.names.take("modules") : "";
      const m = objects.length > 0 ? this.names.take("module") : "";
      if (objects.length > 0) prelude.push(`${modules} = [${objects.join(", ")}]`);
      const switchTo = (mode: "eval" | "train") =>
        objects.length === 0 ? [] : [`for ${m} in ${modules}:`, `    ${m}.${mode}()`];
      record.push(`    **${val},`);
      monitored.val_loss = `${val}["val_loss"]`;
      validation.push(
        ...switchTo("eval"),
        "with torch.no_grad():",
        `    ${batch} = ${c.inputs.val_x}, ${c.inputs.val_y}`,
        ...indent(forward),
        `    ${val} = {"val_loss": ${reported}.item()}`,
        ...indent(this.validationMetrics(val)),
        ...switchTo("train"),
      );
    }
    record.push('    "params": {', ...parts.params.map((p) => `        ${p},`), "    },");
    record.push(`    **({"steps": ${steps}} if args.steps else {}),`);
    return [
      ...parts.trainedDict,
      ...prelude,
      "for epoch in range(args.epochs):",
      ...indent(sched.epochStart),
      `    ${steps} = []`,
      `    for ${batch} in ${c.out}:`,
      ...indent(
        [...forward, ...parts.checks, ...parts.backward, ...parts.gradientCheck, ...parts.step],
        "        ",
      ),
      `        ${steps}.append(${reported}.item())`,
      ...indent(validation),
      "    print(json.dumps({",
      ...indent(record),
      "    }))",
      ...indent(sched.epochEnd(monitored)),
    ];
  }

  /** The validation metrics gradwire reports for the objective's loss (src/engine/batches.ts validationMetrics). */
  private validationMetrics(into: string): string[] {
    const objective = objectiveOf(this.graph);
    if (!objective) return [];
    const type = this.doc.nodes[objective.nodeId].type;
    const c = this.context(objective.nodeId);
    const input = c.inputs.input;
    const target = c.inputs.target;
    const im = c.inputMetas.input;
    const tm = c.inputMetas.target;
    if (!input || !target || !im || !tm) return [];
    switch (metricKind(type, im, tm)) {
      case "argmax":
        return [`${into}["val_accuracy"] = (${input}.argmax(1) == ${target}).sum().item() / len(${target})`];
      case "probabilities":
      case "logits": {
        const at = metricKind(type, im, tm) === "probabilities" ? "0.5" : "0";
        return [
          `${into}["val_accuracy"] = ((${input} > ${at}) == (${target} > 0.5)).sum().item() / ${target}.numel()`,
        ];
      }
      case "regression":
        return [
          `${into}["val_mse"] = F.mse_loss(${input}, ${target}).item()`,
          `${into}["val_mae"] = F.l1_loss(${input}, ${target}).item()`,
        ];
      default:
        return [];
    }
  }

  /**
   * Where the loop steps the learning-rate schedulers, as PyTorch code does: OneCycleLR after each optimizer
   * step, the others at the end of the epoch (ReduceLROnPlateau with the number it monitors, given by the loop). `lr` is the variable
   * holding the first scheduled optimizer's learning rate at the epoch's start, which the epoch line prints.
   */
  private schedulerSteps(): SchedulerSteps {
    const scheduled = this.groups.filter((g) => g.lrSchedulers?.length);
    if (scheduled.length === 0) return { epochStart: [], afterStep: [], epochEnd: () => [] };
    const lr = this.names.take("lr");
    const afterStep: string[] = [];
    const perEpoch: { v: string; nodeId: string; monitor?: string }[] = [];
    for (const g of scheduled)
      for (const s of g.lrSchedulers ?? []) {
        const decl = s.kind.lrScheduler!;
        const v = this.vars.get(s.nodeId)!.own;
        if (decl.stepEvery === "batch") afterStep.push(`${v}.step()`);
        else
          perEpoch.push({
            v,
            nodeId: s.nodeId,
            monitor: decl.monitorParam ? this.context(s.nodeId).params.str(decl.monitorParam) : undefined,
          });
      }
    const opt = this.vars.get(scheduled[0].nodeId)!.own;
    const epochEnd = (monitored: Record<string, string>) =>
      perEpoch.map(({ v, nodeId, monitor }) => {
        if (monitor === undefined) return `${v}.step()`;
        const arg = monitored[monitor];
        if (arg === undefined)
          throw new ExportError(
            `${describeNode(this.doc.nodes[nodeId])}: monitor '${monitor}' has no value in this graph (val_loss needs a DataLoader with validation data)`,
            nodeId,
          );
        return `${v}.step(${arg})`;
      });
    return { epochStart: [`${lr} = ${opt}.param_groups[0]["lr"]`], afterStep, epochEnd, lr };
  }

  private evalReport(
    included: readonly string[],
    objective: { nodeId: string; port: string } | undefined,
  ): string[] {
    const asJson = this.helper("as_json", (name) => [
      `def ${name}(t):`,
      '    """A tensor as `gradwire eval --json` prints it: shape, dtype and the values, flattened."""',
      '    return {"shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch."), "data": t.flatten().tolist()}',
    ]);
    const nodes: string[] = [];
    for (const id of included) {
      const vars = this.vars.get(id)!;
      for (const o of outputsOf(this.kind(id)))
        nodes.push(`${pyStr(o.name === OUT ? id : `${id}.${o.name}`)}: ${asJson}(${vars.outputs[o.name]}),`);
    }
    const dict = (key: string, entries: string[]) =>
      entries.length === 0
        ? [`    "${key}": {},`]
        : [`    "${key}": {`, ...indent(entries, "        "), "    },"];
    const trained = objective ? trainables(this.graph) : [];
    if (!objective || trained.length === 0)
      return ["print(json.dumps({", ...dict("nodes", nodes), ...dict("grads", []), "}))"];
    // As gradwire eval, which refuses a backward pass from more than one number.
    const meta = this.v.metas[objective.nodeId]?.[objective.port];
    const numel = meta ? meta.shape.reduce((a, b) => a * b, 1) : 1;
    if (numel !== 1)
      throw new ExportError(
        `the objective '${nodeLabel(this.doc.nodes[objective.nodeId])}' has ${numel} elements; backward needs a single number`,
        objective.nodeId,
      );
    const root = this.outputVar(objective.nodeId, objective.port);
    const tensors = trained.map((t) => `${pyStr(t.id)}: ${this.leafVar(t.nodeId, t.leaf)}`);
    const leaves = this.names.take("parameters");
    const t = this.names.take("t");
    return [
      `${leaves} = {${tensors.join(", ")}}`,
      // As gradwire eval: one backward pass from gradients cleared (a grad node's backward may have filled them),
      // and a gradient for each tensor it reaches.
      `if ${root}.requires_grad:`,
      `    for ${t} in ${leaves}.values():`,
      `        ${t}.grad = None`,
      `    ${root}.backward()`,
      "print(json.dumps({",
      ...dict("nodes", nodes),
      `    "grads": {`,
      `        name: {"shape": list(t.grad.shape), "data": t.grad.flatten().tolist()}`,
      `        for name, t in ${leaves}.items()`,
      "        if t.grad is not None",
      "    },",
      "}))",
    ];
  }
}
