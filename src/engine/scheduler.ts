/**
 * The scheduler: evaluates a graph document in topological order, incrementally. After an edit only the changed
 * nodes and what is downstream of them run again; every node keeps its outputs (and a version that bumps when
 * they change) until then. Leaf tensors (tensor literals, a model's parameters) persist across evaluations so
 * optimizers can train them; training itself is in train.ts.
 */
import { expandModules } from "../graph/modules.ts";
import { recomputePlan } from "../graph/recompute.ts";
import { type Adjacency, ancestors, descendants } from "../graph/topo.ts";
import {
  nodeLeaves,
  objectiveOf,
  type Trainable,
  type TrainingGroup,
  type TrainingView,
  trainables,
  trainingGroups,
} from "../graph/training.ts";
import { describeNode, type GraphDoc, nodeLabel } from "../graph/types.ts";
import { inputEdge, portSource, type ValidationResult, validateGraph } from "../graph/validate.ts";
import { registry as builtinRegistry } from "../nodes/index.ts";
import { loaderSettings } from "../nodes/loader.ts";
import { readParams } from "../nodes/params.ts";
import type { Registry } from "../nodes/registry.ts";
import { type EvalContext, type NodeKind, type NodeOutputs, OUT, outputsOf } from "../nodes/types.ts";
import { applyFunction, noGrad } from "../runtime/autograd.ts";
import { nonFiniteIn } from "../runtime/finite.ts";
import { holdState } from "../runtime/ops/normalization.ts";
import { TorchGenerator } from "../runtime/random/index.ts";
import { Tensor } from "../runtime/tensor.ts";
import { traceScope } from "../runtime/trace.ts";
import type { ForwardResult, LoaderBinding, TrainingProgram } from "./scheduler-backend.ts";

export interface NodeError {
  nodeId: string;
  message: string;
}

interface NodeState {
  /** What the node's result depends on: type, params and input wiring. */
  sig: string;
  /** What its leaves depend on: type, params and name. */
  leafSig: string;
  leaves?: Record<string, Tensor>;
  outputs?: NodeOutputs;
  error?: NodeError;
  /** Bumps each time the node is evaluated. */
  version: number;
  evaluations: number;
}

export interface GraphDelta {
  /** Nodes whose type, params or inputs changed (or that are new). */
  changed: string[];
  /** Nodes that must recompute: the changed ones and everything downstream. */
  dirty: string[];
}

export interface Gradients {
  /** d objective / d trainable, by trainable id (only those the objective reaches, as torch leaves the others None). */
  params: Map<string, Tensor>;
  /** d objective / d each node output that depends on a trainable (for gradient previews), by node id. */
  nodes: Map<string, Tensor>;
  objective: string;
}

/** Where a non-finite gradient started (see `Scheduler.gradientFault`). */
export interface GradientFault {
  /** The trainables whose gradient is NaN or infinite, by trainable id. */
  params: { id: string; what: "nan" | "inf" }[];
  /** The first node whose backward turned a finite gradient into a non-finite one, when one was found. */
  nodeId?: string;
  /** Which of its inputs (or its own leaves: `weight`) got the non-finite gradient. */
  input?: string;
  what?: "nan" | "inf";
}

export class SchedulerError extends Error {
  override name = "SchedulerError";
  constructor(
    message: string,
    readonly nodeId?: string,
  ) {
    super(message);
  }
}

const sigOf = (doc: GraphDoc, adj: Adjacency, id: string, blocked: boolean): string => {
  const n = doc.nodes[id];
  const inputs = (adj.into.get(id) ?? [])
    .map((e) => `${e.targetPort}<${e.source}.${e.sourcePort}`)
    .sort()
    .join(",");
  return JSON.stringify([n.type, n.params, inputs, blocked]);
};

export class Scheduler {
  readonly registry: Registry;
  private doc: GraphDoc = { nodes: {}, edges: {}, settings: { epochs: 100 } };
  private v: ValidationResult;
  private states = new Map<string, NodeState>();
  private dirty = new Set<string>();
  /** Outputs that stand in for a node's own while set: a DataLoader's current batch, or its validation data. */
  private overrides = new Map<string, NodeOutputs>();
  /** While set, node outputs that depend on a trainable pass through a tap that records their gradient. */
  private taps: Map<string, Tensor> | null = null;
  /** While set, node inputs that carry autograd history likewise record the gradient each node hands back to them. */
  private inputTaps: Map<string, Tensor> | null = null;
  private rev = 0;
  /**
   * Train mode for the nodes' EvalContext (nn.Module.training): true for training steps; validation switches it
   * off while it evaluates.
   */
  training = true;
  /**
   * Torch's global generator while a training program's forward pass runs (TrainingProgram.random): the nodes
   * that draw (dropout) draw from it, in evaluation order. Null otherwise.
   */
  private generator: TorchGenerator | null = null;

  /** Bumps whenever the graph or the leaves change, so a trainer knows when to look at them again. */
  get revision(): number {
    return this.rev;
  }

  constructor(opts: { registry?: Registry } = {}) {
    this.registry = opts.registry ?? builtinRegistry;
    this.v = validateGraph(this.doc, this.registry);
  }

  get graph(): GraphDoc {
    return this.doc;
  }

  get validation(): ValidationResult {
    return this.v;
  }

  /**
   * Take a new version of the document; returns what changed. Values are recomputed on `evaluate()`. Module
   * instances run as the flat graph they stand for (src/graph/modules.ts): their nodes are `block1/fc`.
   */
  setGraph(document: GraphDoc): GraphDelta {
    const doc = expandModules(document);
    const v = validateGraph(doc, this.registry);
    const changed: string[] = [];
    for (const id of this.states.keys()) if (!(id in doc.nodes)) this.states.delete(id);
    for (const id of Object.keys(doc.nodes)) {
      const sig = sigOf(doc, v.adjacency, id, v.blocked.has(id));
      const n = doc.nodes[id];
      const leafSig = JSON.stringify([n.type, n.params, n.name ?? null]);
      const s = this.states.get(id);
      if (!s) {
        this.states.set(id, { sig, leafSig, version: 0, evaluations: 0 });
        changed.push(id);
        continue;
      }
      if (s.leafSig !== leafSig) {
        s.leafSig = leafSig;
        s.leaves = undefined;
      }
      if (s.sig !== sig) {
        s.sig = sig;
        changed.push(id);
      }
    }
    this.doc = doc;
    this.v = v;
    this.rev++;
    const dirty = new Set([...changed, ...descendants(v.adjacency, changed)]);
    for (const id of dirty) this.dirty.add(id);
    return { changed, dirty: [...dirty] };
  }

  private kind(id: string): NodeKind | undefined {
    const n = this.doc.nodes[id];
    return n ? this.registry.get(n.type) : undefined;
  }

  label(id: string): string {
    const n = this.doc.nodes[id];
    return n ? nodeLabel(n) : id;
  }

  /** How many times a node has been evaluated (tests count recomputation with this). */
  evaluations(id: string): number {
    return this.states.get(id)?.evaluations ?? 0;
  }

  /** Bumps whenever the node's outputs are recomputed. */
  version(id: string): number {
    return this.states.get(id)?.version ?? 0;
  }

  value(id: string, port = OUT): Tensor | undefined {
    return this.states.get(id)?.outputs?.[port];
  }

  outputs(id: string): NodeOutputs | undefined {
    return this.states.get(id)?.outputs;
  }

  error(id: string): NodeError | undefined {
    return this.states.get(id)?.error;
  }

  /** Errors from evaluation (not validation), in evaluation order. */
  errors(): NodeError[] {
    return this.v.order
      .map((id) => this.states.get(id)?.error)
      .filter((e): e is NodeError => e !== undefined);
  }

  /** Evaluate whatever is out of date, in order; returns the ids evaluated. */
  evaluate(only?: ReadonlySet<string>): string[] {
    const done: string[] = [];
    for (const id of this.v.order) {
      if (!this.dirty.has(id) || (only && !only.has(id))) continue;
      this.dirty.delete(id);
      this.runNode(id);
      done.push(id);
    }
    return done;
  }

  /** The leaf tensors a node owns (created from its params on first use), or {} for kinds without leaves. */
  leaves(id: string): Record<string, Tensor> {
    return nodeLeaves(this.view, id);
  }

  private leavesOf(id: string, kind: NodeKind): Record<string, Tensor> {
    const s = this.states.get(id)!;
    if (!s.leaves)
      s.leaves = kind.leaves ? kind.leaves(readParams(kind, this.doc.nodes[id].params), this.label(id)) : {};
    return s.leaves;
  }

  private runNode(id: string): void {
    const s = this.states.get(id)!;
    s.outputs = undefined;
    s.error = undefined;
    const node = this.doc.nodes[id];
    const kind = this.kind(id);
    if (!kind || this.v.blocked.has(id)) {
      const first = this.v.issues.find((i) => i.severity === "error" && i.nodeId === id);
      s.error = {
        nodeId: id,
        message: first?.message ?? `node ${describeNode(node)} cannot run: an input has an error`,
      };
      return;
    }
    const override = this.overrides.get(id);
    if (override) {
      s.outputs = override;
      s.version++;
      s.evaluations++;
      return;
    }
    try {
      const outputs = this.compute(
        id,
        kind,
        (src) => {
          const st = this.states.get(src);
          if (st?.error || !st?.outputs)
            throw new SchedulerError(
              `input from '${this.label(src)}' has no value${st?.error ? " (it failed)" : ""}`,
            );
          return st.outputs;
        },
        this.inputTaps !== null,
      );
      s.outputs = this.taps ? this.tap(id, outputs) : outputs;
      s.version++;
      s.evaluations++;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      s.error = { nodeId: id, message: `node ${describeNode(node)}: ${msg}` };
      s.version++;
      s.evaluations++;
    }
  }

  /** Run one node's kind on the given upstream outputs (the scheduler's cache, or a recompute's overrides). */
  private compute(
    id: string,
    kind: NodeKind,
    upstream: (src: string) => NodeOutputs,
    tapInputs = false,
    leaves?: Record<string, Tensor>,
  ): NodeOutputs {
    const node = this.doc.nodes[id];
    const adj = this.v.adjacency;
    const inputs: Record<string, Tensor | undefined> = {};
    const scalars: Record<string, number> = {};
    for (const port of kind.inputs) {
      const src = portSource(node, port, adj);
      if (src.edge) inputs[port.name] = upstream(src.edge.source)[src.edge.sourcePort];
      else if (src.scalar !== undefined) scalars[port.name] = src.scalar;
    }
    if (tapInputs && this.inputTaps)
      for (const [port, t] of Object.entries(inputs))
        if (t?.requiresGrad) inputs[port] = tapInto(this.inputTaps, inputKey(id, port), t);
    const ctx: EvalContext = {
      nodeId: id,
      label: this.label(id),
      inputs,
      arg: (port) => inputs[port] ?? scalars[port],
      params: readParams(kind, node.params),
      leaves: leaves ?? this.leavesOf(id, kind),
      training: this.training,
      ...(this.generator ? { generator: this.generator } : {}),
      recompute: (port, fromPort, value) => this.recompute(id, port, fromPort, value, upstream),
    };
    const r = traceScope(ctx.label, () => kind.evaluate(ctx));
    return r instanceof Tensor ? { [outputsOf(kind)[0]?.name ?? OUT]: r } : r;
  }

  /**
   * The value reaching `port` of node `id` when the value reaching `fromPort` is `value`: the nodes between
   * the two sources run again on the side, and nothing cached changes.
   */
  private recompute(
    id: string,
    port: string,
    fromPort: string,
    value: Tensor,
    upstream: (src: string) => NodeOutputs,
  ): Tensor {
    const plan = recomputePlan(this.doc, this.registry, this.v, id, port, fromPort);
    if (!plan) throw new SchedulerError(`'${port}' and '${fromPort}' must both be connected`);
    const { from, target } = plan;
    const local = new Map<string, NodeOutputs>();
    local.set(from.source, { ...upstream(from.source), [from.sourcePort]: value });
    const lookup = (src: string) => local.get(src) ?? upstream(src);
    // On the side: state the nodes write in place (running statistics) stays as it is.
    holdState(() => {
      for (const n of plan.nodes) {
        const kind = this.kind(n);
        if (!kind) throw new SchedulerError(`node '${n}' cannot run`);
        local.set(n, this.compute(n, kind, lookup));
      }
    });
    const out = lookup(target.source)[target.sourcePort];
    if (!out) throw new SchedulerError(`'${target.source}' has no output '${target.sourcePort}'`);
    return out;
  }

  /**
   * The outputs reaching `targets` when some node outputs (`outputs`: node id → port → tensor) and some trained
   * leaves (`leaves`: node id → leaf → tensor) are replaced: the nodes downstream of the replaced ones and
   * upstream of the targets run again on the side, as `ctx.recompute` does for one input, and nothing cached
   * changes. Barrier nodes (detach) keep their cached value. The decision boundary and the loss landscape
   * (landscape.ts) evaluate the graph on a grid of inputs or parameters with this.
   */
  evaluateWith(
    replace: {
      outputs?: ReadonlyMap<string, NodeOutputs>;
      leaves?: ReadonlyMap<string, Record<string, Tensor>>;
    },
    targets: readonly { nodeId: string; port: string }[],
  ): Tensor[] {
    const run = this.prepareWith(
      { outputs: [...(replace.outputs?.keys() ?? [])], leaves: [...(replace.leaves?.keys() ?? [])] },
      targets,
    );
    return run(replace);
  }

  /**
   * `evaluateWith` planned once for many evaluations that replace the same nodes (a landscape's grid points):
   * which nodes run is worked out here, and each call only runs them.
   */
  prepareWith(
    ids: { outputs?: readonly string[]; leaves?: readonly string[] },
    targets: readonly { nodeId: string; port: string }[],
  ): (replace: {
    outputs?: ReadonlyMap<string, NodeOutputs>;
    leaves?: ReadonlyMap<string, Record<string, Tensor>>;
  }) => Tensor[] {
    const replacedOutputs = new Set(ids.outputs ?? []);
    const replacedLeaves = ids.leaves ?? [];
    const adj = this.v.adjacency;
    const reached = new Set<string>(replacedLeaves);
    const todo = [...replacedOutputs, ...replacedLeaves];
    while (todo.length) {
      const id = todo.pop()!;
      for (const e of adj.out.get(id) ?? []) {
        if (reached.has(e.target) || replacedOutputs.has(e.target)) continue;
        if (this.kind(e.target)?.barrier) continue;
        reached.add(e.target);
        todo.push(e.target);
      }
    }
    const upstream = ancestors(
      adj,
      targets.map((t) => t.nodeId),
    );
    for (const t of targets) upstream.add(t.nodeId);
    const plan = this.v.order.filter((id) => reached.has(id) && upstream.has(id) && !replacedOutputs.has(id));
    const kinds = plan.map((id) => {
      const kind = this.kind(id);
      if (!kind || this.v.blocked.has(id))
        throw new SchedulerError(`node '${this.label(id)}' cannot run`, id);
      return kind;
    });
    return (replace) => {
      const local = new Map<string, NodeOutputs>();
      for (const [id, out] of replace.outputs ?? [])
        local.set(id, { ...(this.states.get(id)?.outputs ?? {}), ...out });
      const lookup = (src: string): NodeOutputs => {
        const l = local.get(src);
        if (l) return l;
        const st = this.states.get(src);
        if (st?.error || !st?.outputs)
          throw new SchedulerError(
            `input from '${this.label(src)}' has no value${st?.error ? " (it failed)" : ""}`,
            src,
          );
        return st.outputs;
      };
      // On the side: state the nodes write in place (running statistics) stays as it is.
      holdState(() =>
        plan.forEach((id, i) => {
          const own = replace.leaves?.get(id);
          const leaves = own ? { ...this.leavesOf(id, kinds[i]), ...own } : undefined;
          local.set(id, this.compute(id, kinds[i], lookup, false, leaves));
        }),
      );
      return targets.map((t) => {
        const out = lookup(t.nodeId)[t.port];
        if (!out) throw new SchedulerError(`'${this.label(t.nodeId)}' has no output '${t.port}'`, t.nodeId);
        return out;
      });
    };
  }

  // --- training support ----------------------------------------------------------------------------------

  /** The document as the graph's training queries see it, with this scheduler's live leaf tensors. */
  private get view(): TrainingView {
    return {
      doc: this.doc,
      registry: this.registry,
      v: this.v,
      leaves: (id, kind) => this.leavesOf(id, kind),
    };
  }

  /** Every trainable leaf of the runnable nodes, in evaluation order. */
  trainables(among?: ReadonlySet<string>): Trainable[] {
    return trainables(this.view, among);
  }

  /** The optimizer nodes that can run, each with its loss source and the leaves upstream of it. */
  groups(): TrainingGroup[] {
    return trainingGroups(this.view);
  }

  /** The node eval backpropagates from: the file's objective, else the first optimizer's loss. */
  objective(): { nodeId: string; port: string } | undefined {
    return objectiveOf(this.view);
  }

  /** Mark everything downstream of a trained leaf out of date (its values changed in place). */
  paramsChanged(ids?: Iterable<string>): void {
    for (const id of this.affectedBy(ids ?? this.trainables().map((t) => t.nodeId))) this.dirty.add(id);
  }

  /** The nodes and everything downstream of them (a model node computes from its own leaves, so it counts). */
  private affectedBy(ids: Iterable<string>): Set<string> {
    const nodes = new Set(ids);
    for (const id of descendants(this.v.adjacency, nodes)) nodes.add(id);
    return nodes;
  }

  /**
   * Let `outputs` stand in for a node's own until called again without them; everything downstream computes
   * again. `training` is what nodes downstream see as EvalContext.training meanwhile.
   */
  setOverride(id: string, outputs: NodeOutputs | undefined, training = true): void {
    if (outputs) this.overrides.set(id, outputs);
    else if (!this.overrides.delete(id)) return;
    this.training = training;
    this.dirty.add(id);
    for (const d of descendants(this.v.adjacency, [id])) this.dirty.add(d);
  }

  /** The tensor reaching a node's input port, from the cache (evaluate first). */
  inputOf(id: string, port: string): Tensor | undefined {
    const e = inputEdge(this.v.adjacency, id, port);
    return e ? this.value(e.source, e.sourcePort) : undefined;
  }

  /** Recreate every leaf from its params (training's reset). */
  resetLeaves(): void {
    this.rev++;
    for (const id of [...this.overrides.keys()]) this.setOverride(id, undefined);
    for (const [id, s] of this.states) {
      if (!s.leaves || Object.keys(s.leaves).length === 0) continue;
      s.leaves = undefined;
      this.dirty.add(id);
      for (const d of descendants(this.v.adjacency, [id])) this.dirty.add(d);
    }
  }

  /** A forward pass for training: the nodes that the losses (and objective) need, recomputed if out of date. */
  program(groups: TrainingGroup[] = this.groups()): TrainingProgram {
    const objective = this.objective();
    const needed = ancestors(
      this.v.adjacency,
      groups.map((g) => g.loss.nodeId),
    );
    for (const g of groups) needed.add(g.loss.nodeId);
    if (objective) {
      needed.add(objective.nodeId);
      for (const a of ancestors(this.v.adjacency, [objective.nodeId])) needed.add(a);
    }
    // What changes every step: what the trained tensors and the random draws (dropout's masks) reach.
    const random = this.v.order.filter((id) => needed.has(id) && this.kind(id)?.random);
    const trained = groups.flatMap((g) => g.params.map((p) => p.nodeId));
    const stale = this.affectedBy([...trained, ...random]);
    const program: TrainingProgram = {
      groups,
      loader: this.loaderBinding(needed, stale, this.affectedBy(trained)),
      objective: objective && { nodeId: objective.nodeId, type: this.doc.nodes[objective.nodeId].type },
      inputOf: (id, port) => this.inputOf(id, port),
      labelOf: (id) => this.label(id),
      forward: (): ForwardResult => {
        for (const id of stale) this.dirty.add(id);
        this.generator = program.random?.generator ?? null;
        try {
          this.evaluate(needed);
        } finally {
          this.generator = null;
        }
        const pick = (r: { nodeId: string; port: string }) => {
          const t = this.value(r.nodeId, r.port);
          if (!t) {
            const err = this.error(r.nodeId) ?? this.errors()[0];
            throw new SchedulerError(
              err?.message ?? `'${this.label(r.nodeId)}' has no value`,
              err?.nodeId ?? r.nodeId,
            );
          }
          return t;
        };
        const losses = groups.map((g) => pick(g.loss));
        return { losses, objective: objective ? pick(objective) : losses[0] };
      },
    };
    if (random.length > 0) {
      // One stream for the run, seeded by the first random node's seed: `torch.manual_seed(seed)` before the loop.
      const seed = readParams(this.kind(random[0])!, this.doc.nodes[random[0]].params).num("seed");
      program.random = { seed, generator: new TorchGenerator(seed) };
    }
    return program;
  }

  /** The DataLoader among the nodes training needs, if any: at most one, fed by data training leaves alone. */
  private loaderBinding(
    needed: ReadonlySet<string>,
    stale: ReadonlySet<string>,
    trained: ReadonlySet<string>,
  ): LoaderBinding | undefined {
    const loaders = this.v.order.filter((id) => needed.has(id) && this.kind(id)?.dataLoader);
    if (loaders.length === 0) return undefined;
    if (loaders.length > 1)
      throw new SchedulerError(
        `the losses depend on ${loaders.length} DataLoaders (${loaders.map((id) => `'${this.label(id)}'`).join(", ")}); training iterates one`,
        loaders[1],
      );
    const id = loaders[0];
    if (stale.has(id))
      throw new SchedulerError(
        `DataLoader '${this.label(id)}': its data depends on ${trained.has(id) ? "a trained tensor" : "a random draw (dropout) made anew every step"}; a data set must stay fixed while training`,
        id,
      );
    const kind = this.kind(id)!;
    const up = ancestors(this.v.adjacency, [id]);
    return {
      nodeId: id,
      settings: loaderSettings(readParams(kind, this.doc.nodes[id].params)),
      inputs: () => {
        this.evaluate(up);
        return Object.fromEntries(kind.inputs.map((p) => [p.name, this.inputOf(id, p.name)]));
      },
      setBatch: (outputs, training) => this.setOverride(id, outputs, training),
    };
  }

  /** The first node, in evaluation order, whose output holds NaN or an infinity: where a divergence started. */
  firstNonFinite(): { nodeId: string; port: string; what: "nan" | "inf" } | undefined {
    for (const id of this.v.order) {
      for (const [port, t] of Object.entries(this.states.get(id)?.outputs ?? {})) {
        const what = nonFiniteIn(t.data);
        if (what) return { nodeId: id, port, what };
      }
    }
    return undefined;
  }

  /**
   * Gradients of the objective by one backward pass: for every trainable leaf, and (with `nodes`) for every
   * node output that depends on one. Leaves' `.grad` are left as they were.
   */
  gradients(opts: { nodes?: boolean } = {}): Gradients {
    const obj = this.objective();
    if (!obj)
      throw new SchedulerError("there is no objective: add an optimizer, or set the graph's objective");
    const trainables = this.trainables();
    if (opts.nodes) {
      this.taps = new Map();
      this.paramsChanged();
    }
    let grads: Map<string, Tensor>;
    const nodes = new Map<string, Tensor>();
    try {
      this.evaluate();
      const root = this.value(obj.nodeId, obj.port);
      if (!root) {
        const err = this.error(obj.nodeId) ?? this.errors()[0];
        throw new SchedulerError(
          err?.message ?? `the objective '${this.label(obj.nodeId)}' has no value`,
          obj.nodeId,
        );
      }
      if (root.numel !== 1)
        throw new SchedulerError(
          `the objective '${this.label(obj.nodeId)}' has ${root.numel} elements; backward needs a single number`,
          obj.nodeId,
        );
      // Nothing it depends on requires grad: no gradients at all, as every such leaf's .grad stays None in torch.
      if (!root.requiresGrad) return { params: new Map(), nodes, objective: obj.nodeId };
      const saved = trainables.map((t) => t.tensor.grad);
      for (const t of trainables) t.tensor.grad = null;
      try {
        root.backward(undefined, { retainGraph: true });
        // A tensor the objective does not reach gets no entry (its .grad would stay None in torch).
        grads = new Map(trainables.flatMap((t) => (t.tensor.grad ? [[t.id, t.tensor.grad] as const] : [])));
      } finally {
        trainables.forEach((t, i) => {
          t.tensor.grad = saved[i];
        });
      }
      if (this.taps) for (const [id, g] of this.taps) nodes.set(id, g);
    } finally {
      // Tapped values stay cached: they equal the untapped ones.
      this.taps = null;
    }
    return { params: grads, nodes, objective: obj.nodeId };
  }

  /**
   * Where a NaN or infinite gradient comes from: one backward pass from `root` (a loss; default the objective)
   * at the current leaf values, recording the gradient each node's backward hands to each of its inputs (and
   * to its own leaves, as a model node does to its weight). Walking back from the loss in reverse evaluation
   * order, the first node that received a finite gradient for its output and handed a non-finite one on is
   * where it started. `params`: the trainables whose gradient from this root is not finite. Leaves' `.grad`
   * are left as they were. Undefined when every gradient is finite (or the loss itself is not).
   */
  gradientFault(root?: { nodeId: string; port: string }): GradientFault | undefined {
    const obj = root ?? this.objective();
    if (!obj) return undefined;
    const trainables = this.trainables();
    const taps = new Map<string, Tensor>();
    const inputTaps = new Map<string, Tensor>();
    const grads = new Map<string, Tensor>();
    this.taps = taps;
    this.inputTaps = inputTaps;
    this.paramsChanged();
    try {
      this.evaluate();
      const loss = this.value(obj.nodeId, obj.port);
      if (!loss?.requiresGrad || loss.numel !== 1 || nonFiniteIn(loss.data)) return undefined;
      const saved = trainables.map((t) => t.tensor.grad);
      for (const t of trainables) t.tensor.grad = null;
      try {
        loss.backward(undefined, { retainGraph: true });
        for (const t of trainables) if (t.tensor.grad) grads.set(t.id, t.tensor.grad);
      } finally {
        trainables.forEach((t, i) => {
          t.tensor.grad = saved[i];
        });
      }
    } finally {
      this.taps = null;
      this.inputTaps = null;
      // The values computed through input taps equal the plain ones, but recompute them without the taps.
      this.paramsChanged();
    }
    const params = trainables.flatMap((t) => {
      const what = grads.has(t.id) ? nonFiniteIn(grads.get(t.id)!.data) : undefined;
      return what ? [{ id: t.id, what }] : [];
    });
    if (params.length === 0) return undefined;
    const fault: GradientFault = { params };
    const node = this.doc.nodes;
    for (const id of [...this.v.order].reverse()) {
      const out = taps.get(id);
      if (!out || nonFiniteIn(out.data)) continue;
      const handed: [string, Tensor | undefined][] = [
        ...(this.kind(id)?.inputs ?? []).map(
          (p) => [p.name, inputTaps.get(inputKey(id, p.name))] as [string, Tensor | undefined],
        ),
        ...trainables
          .filter((t) => t.nodeId === id && t.leaf !== "")
          .map((t) => [t.leaf, grads.get(t.id)] as [string, Tensor | undefined]),
      ];
      for (const [input, g] of handed) {
        const what = g && nonFiniteIn(g.data);
        if (what && node[id]) return { ...fault, nodeId: id, input, what };
      }
    }
    return fault;
  }

  /** Pass each output that carries autograd history through an identity whose backward records the gradient. */
  private tap(id: string, outputs: NodeOutputs): NodeOutputs {
    const taps = this.taps!;
    const out: NodeOutputs = {};
    for (const [port, t] of Object.entries(outputs))
      out[port] = !t.requiresGrad || port !== OUT ? t : tapInto(taps, id, t);
    return out;
  }
}

/** The key of a node input's recorded gradient. */
const inputKey = (nodeId: string, port: string) => `${nodeId}\u0000${port}`;

/** `t` through an identity whose backward adds the gradient reaching it to `taps[key]`. */
function tapInto(taps: Map<string, Tensor>, key: string, t: Tensor): Tensor {
  return applyFunction(
    {
      name: "Tap",
      forward: (_ctx, x) => new Tensor(x.data, x.shape, x.dtype),
      backward: (_ctx, g) => {
        const prev = taps.get(key);
        taps.set(key, prev ? noGrad(() => addInto(prev, g)) : g);
        return [g];
      },
    },
    t,
  );
}

function addInto(a: Tensor, b: Tensor): Tensor {
  const data = a.data.slice();
  for (let i = 0; i < data.length; i++) data[i] += b.data[i];
  return new Tensor(data, a.shape, a.dtype);
}
