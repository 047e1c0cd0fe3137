/**
 * A graph as a runnable PyTorch script: the code each node kind declares (`torch`, `torchSetup`,
 * `torchDefinitions`), put in the order a person would write it: imports, definitions, flags, tensors and
 * parameters, what is computed once, the optimizers, then the training loop printing one JSON line per epoch in
 * the form of `gradwire train --jsonl`. A graph without an optimizer (or `mode: "eval"`) becomes a script
 * printing what `gradwire eval --json` prints. Pure TypeScript (no DOM, no Node APIs): `gradwire export-torch`
 * calls it, and anything else could.
 */

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
import { describeNode, type GraphDoc, nodeLabel } from "../graph/types.ts";
import { inputEdge, type ValidationResult, validateGraph } from "../graph/validate.ts";
import { registry as builtinRegistry } from "../nodes/index.ts";
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
  const v = validateGraph(doc, registry);
  const graph: TrainingView = { doc, registry, v, leaves: freshLeaves(doc) };
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
  try {
    const code = new ScriptBuilder(graph, groups, opts.inlineLimit ?? 64, opts.distributed ?? false).build(
      mode,
    );
    return { ok: true, code, mode, filename: `${scriptStem(doc)}.py` };
  } catch (e) {
    if (e instanceof ExportError) return { ok: false, message: e.message, nodeId: e.nodeId };
    throw e;
  }
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
  private shardedForDocs?: Pick<DistributedParts, "sharded" | "rows">;

  constructor(
    private readonly graph: TrainingView,
    private readonly groups: TrainingGroup[],
    private readonly inlineLimit: number,
    private readonly distributed = false,
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
      const outputs: Record<string, string> = {};
      for (const o of outputsOf(kind))
        outputs[o.name] = o.name === OUT ? own : this.names.take(`${own}_${o.name}`);
      const leaves: Record<string, string> = {};
      for (const leaf of Object.keys(nodeLeaves(this.graph, id)))
        leaves[leaf] = leaf === "" ? own : this.names.take(`${own}_${leaf}`);
      this.vars.set(id, { own, outputs, leaves });
    }
  }

  private outputVar(id: string, port: string): string {
    const name = this.vars.get(id)?.outputs[port];
    if (name === undefined)
      throw new ExportError(`node ${describeNode(this.doc.nodes[id])} has no output '${port}'`, id);
    return name;
  }

  private context(id: string): TorchContext {
    const node = this.doc.nodes[id];
    const kind = this.kind(id);
    const vars = this.vars.get(id)!;
    const inputs: TorchContext["inputs"] = {};
    const inputMetas: TorchContext["inputMetas"] = {};
    for (const port of kind.inputs) {
      const e = inputEdge(this.v.adjacency, id, port.name);
      if (!e) continue;
      inputs[port.name] = this.outputVar(e.source, e.sourcePort);
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
      trainables: group ? group.params.map((p) => this.leafVar(p.nodeId, p.leaf)) : [],
      device: "device",
      leaf: (name) => this.leafVar(id, name),
      leafTensor: (name) => this.leafTensor(id, name),
      name: (base) => {
        const key = `${id}\u0000${base}`;
        let name = this.localNames.get(key);
        if (name === undefined) {
          name = this.names.take(base);
          this.localNames.set(key, name);
        }
        return name;
      },
      recompute: (port, fromPort) => this.recompute(id, port, fromPort),
      helper: (base, define) => this.helper(base, define),
    };
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
    const body = plan.nodes.flatMap((n) => this.kind(n).torch(this.context(n)));
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
    this.allocate(included);

    this.definitionsOf(included);
    const setup: string[] = [];
    const optimizers: string[] = [];
    for (const id of included) {
      const lines = this.kind(id).torchSetup?.(this.context(id)) ?? [];
      // Schedulers are made after their optimizers (torch's constructor takes the optimizer).
      (this.kind(id).optimizer || this.kind(id).lrScheduler ? optimizers : setup).push(...lines);
    }
    const trainedNodes = new Set(this.groups.flatMap((g) => g.params.map((p) => p.nodeId)));
    const perEpoch =
      mode === "train"
        ? new Set([...trainedNodes, ...descendants(this.v.adjacency, trainedNodes)])
        : new Set<string>();
    const once: string[] = [];
    const loop: string[] = [];
    for (const id of included) {
      if (this.kind(id).optimizer || this.kind(id).lrScheduler) continue;
      const lines = this.kind(id).torch(this.context(id));
      (perEpoch.has(id) ? loop : once).push(...lines);
    }

    const sections = this.distributed
      ? distributedMain(this.distributedParts(setup, once, optimizers, loop, objective, perEpoch))
      : mode === "train"
        ? [setup, ...this.functions(), once, optimizers, this.trainingLoop(loop, objective)]
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
      ...(/\bF\./.test(code) ? ["import torch.nn.functional as F"] : []),
      ...(this.distributed ? ["from torch.nn.parallel import DistributedDataParallel"] : []),
    ];
    return [...std.map((m) => `import ${m}`), "", ...third];
  }

  private helperDefinitions(): string[][] {
    return [...[...this.helpers.values()].map((h) => h.lines), ...this.definitions.values()];
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
          ]
        : []),
      "args = parser.parse_args()",
      "device = torch.device(args.device)",
    ];
  }

  private trainingLoop(forward: string[], objective: { nodeId: string; port: string } | undefined): string[] {
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
    const sched = this.schedulerSteps(reported);
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
      ...indent(sched.epochEnd),
    ];
  }

  /**
   * Where the loop steps the learning-rate schedulers, as PyTorch code does: OneCycleLR after each optimizer
   * step, the others at the end of the epoch (ReduceLROnPlateau with the loss it monitors). `lr` is the variable
   * holding the first scheduled optimizer's learning rate at the epoch's start, which the epoch line prints.
   */
  private schedulerSteps(reported: string): {
    epochStart: string[];
    afterStep: string[];
    epochEnd: string[];
    lr?: string;
  } {
    const scheduled = this.groups.filter((g) => g.lrSchedulers?.length);
    if (scheduled.length === 0) return { epochStart: [], afterStep: [], epochEnd: [] };
    const lr = this.names.take("lr");
    const afterStep: string[] = [];
    const epochEnd: string[] = [];
    for (const g of scheduled)
      for (const s of g.lrSchedulers ?? []) {
        const decl = s.kind.lrScheduler!;
        const v = this.vars.get(s.nodeId)!.own;
        // The monitored number: today the training loss, the one each epoch line reports.
        const arg = decl.monitorParam ? `${reported}.item()` : "";
        (decl.stepEvery === "batch" ? afterStep : epochEnd).push(`${v}.step(${arg})`);
      }
    const opt = this.vars.get(scheduled[0].nodeId)!.own;
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
