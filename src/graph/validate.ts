/**
 * Graph validation: every problem at once, each naming its node and port. Shape inference runs here, in
 * topological order, so dtype and shape mismatches are found before anything is evaluated.
 */
import { paramsSchema, readParams } from "../nodes/params.ts";
import type { Registry } from "../nodes/registry.ts";
import { MAX_ELEMENTS, numelOf } from "../nodes/shapes.ts";
import { InferError, type NodeKind, outputsOf, type PortDecl, type TensorMeta } from "../nodes/types.ts";
import { fmtShape, isFloating, isIntegral, scalarDType } from "../runtime/index.ts";
import { budgetErrors } from "./budget.ts";
import { literalDataErrors } from "./literal-check.ts";
import { type Adjacency, adjacency, ancestors, topoSort } from "./topo.ts";
import { describeNode, type GraphDoc, type GraphEdge, type GraphNode, nodeById } from "./types.ts";

export type Severity = "error" | "warning";

export type IssueCode =
  | "unknown-type"
  | "dangling-edge"
  | "unknown-port"
  | "duplicate-input"
  | "cycle"
  | "bad-param"
  | "missing-input"
  | "dtype"
  | "shape"
  | "too-large"
  | "memory"
  | "work"
  | "data"
  | "not-upstream"
  | "objective"
  | "nothing-to-train"
  | "shared-parameter"
  | "lint";

export interface Issue {
  severity: Severity;
  code: IssueCode;
  /** A full sentence naming the node (and port): what a person reads. */
  message: string;
  nodeId?: string;
  port?: string;
  edgeId?: string;
  param?: string;
}

export interface ValidationResult {
  issues: Issue[];
  /** True when there is no error (warnings allowed). */
  ok: boolean;
  /** Output metas of every node shape inference could reach: node id → port → meta. */
  metas: Record<string, Record<string, TensorMeta>>;
  /** Nodes in evaluation order (those on or behind a cycle left out). */
  order: string[];
  /** Nodes that cannot be evaluated: an error on them or upstream of them. */
  blocked: Set<string>;
  adjacency: Adjacency;
}

export function inputEdge(adj: Adjacency, nodeId: string, port: string): GraphEdge | undefined {
  return adj.into.get(nodeId)?.find((e) => e.targetPort === port);
}

const DTYPE_RULES: Record<NonNullable<PortDecl["dtype"]>, [string, (d: TensorMeta["dtype"]) => boolean]> = {
  any: ["any tensor", () => true],
  float: ["a floating point tensor", isFloating],
  integer: ["an integer tensor (int64 class indices)", isIntegral],
  bool: ["a bool tensor", (d) => d === "bool"],
};

/** Where a port's value comes from: an edge, a scalar param standing in, or nothing. */
export function portSource(
  node: GraphNode,
  port: PortDecl,
  adj: Adjacency,
): { edge?: GraphEdge; scalar?: number } {
  const edge = inputEdge(adj, node.id, port.name);
  if (edge) return { edge };
  if (port.scalarParam) {
    const v = node.params[port.scalarParam];
    if (typeof v === "number") return { scalar: v };
  }
  return {};
}

/** Where a wire starts, for messages: `'b' (tensor)`, or `'m' (max), output 'indices'` past the first output. */
function wireSource(doc: GraphDoc, e: GraphEdge): string {
  const src = doc.nodes[e.source];
  if (!src) return `'${e.source}'`;
  return `${describeNode(src)}${e.sourcePort === "out" ? "" : `, output '${e.sourcePort}'`}`;
}

export function validateGraph(doc: GraphDoc, registry: Registry): ValidationResult {
  const issues: Issue[] = [];
  const adj = adjacency(doc);
  const bad = new Set<string>();
  const err = (code: IssueCode, message: string, at: Omit<Issue, "severity" | "code" | "message"> = {}) => {
    issues.push({ severity: "error", code, message, ...at });
    if (at.nodeId) bad.add(at.nodeId);
  };
  const warn = (code: IssueCode, message: string, at: Omit<Issue, "severity" | "code" | "message"> = {}) =>
    issues.push({ severity: "warning", code, message, ...at });

  const kinds = new Map<string, NodeKind>();
  for (const node of Object.values(doc.nodes)) {
    const kind = registry.get(node.type);
    if (!kind) {
      const hint = registry.suggest(node.type);
      err(
        "unknown-type",
        `node '${node.id}' has unknown type '${node.type}'${hint ? ` (did you mean '${hint}'?)` : ""}`,
        {
          nodeId: node.id,
        },
      );
      continue;
    }
    kinds.set(node.id, kind);
    let parsed: ReturnType<ReturnType<typeof paramsSchema>["safeParse"]>;
    try {
      parsed = paramsSchema(kind).safeParse(node.params);
    } catch {
      // Only absurd nesting gets here (the validator's recursion runs out of stack).
      err("bad-param", `node ${describeNode(node)} has params nested too deep to check`, { nodeId: node.id });
      continue;
    }
    if (!parsed.success)
      for (const p of parsed.error.issues) {
        const name = String(p.path[0] ?? "");
        const what =
          p.code === "unrecognized_keys"
            ? `has no param ${p.keys.map((k) => `'${k}'`).join(", ")} (its params: ${kind.params.map((d) => d.name).join(", ") || "none"})`
            : `param '${[name, ...p.path.slice(1)].join(".")}': ${p.message}`;
        err("bad-param", `node ${describeNode(node)} ${what}`, { nodeId: node.id, param: name || undefined });
      }
  }

  // Edges: both ends exist, ports exist, one edge per input.
  const seenInputs = new Map<string, GraphEdge>();
  for (const e of Object.values(doc.edges)) {
    const src = nodeById(doc, e.source);
    const dst = nodeById(doc, e.target);
    if (!src || !dst) {
      const missing = !src ? e.source : e.target;
      err(
        "dangling-edge",
        `edge '${e.id}' ${!src ? "comes from" : "goes to"} node '${missing}', which is not in the graph`,
        {
          edgeId: e.id,
          nodeId: src ? e.source : dst ? e.target : undefined,
        },
      );
      continue;
    }
    const sk = kinds.get(src.id);
    if (sk && !outputsOf(sk).some((o) => o.name === e.sourcePort))
      err(
        "unknown-port",
        `edge '${e.id}': node ${describeNode(src)} has no output '${e.sourcePort}' (outputs: ${
          outputsOf(sk)
            .map((o) => o.name)
            .join(", ") || "none"
        })`,
        { edgeId: e.id, nodeId: src.id, port: e.sourcePort },
      );
    const dk = kinds.get(dst.id);
    if (dk && !dk.inputs.some((i) => i.name === e.targetPort))
      err(
        "unknown-port",
        `edge '${e.id}': node ${describeNode(dst)} has no input '${e.targetPort}' (inputs: ${dk.inputs.map((i) => i.name).join(", ") || "none"})`,
        { edgeId: e.id, nodeId: dst.id, port: e.targetPort },
      );
    const key = `${e.target}\u0000${e.targetPort}`;
    const first = seenInputs.get(key);
    if (first)
      err(
        "duplicate-input",
        `node ${describeNode(dst)}, input '${e.targetPort}': two edges lead into it (from '${first.source}' and '${e.source}'); an input takes one`,
        { nodeId: dst.id, port: e.targetPort, edgeId: e.id },
      );
    else seenInputs.set(key, e);
  }

  const topo = topoSort(doc, adj);
  for (const cycle of topo.cycles) {
    const path = [...cycle, cycle[0]].map((id) => `'${id}'`).join(" → ");
    for (const id of cycle)
      err("cycle", `node ${describeNode(doc.nodes[id])} is on a cycle: ${path}; a graph must flow one way`, {
        nodeId: id,
      });
  }

  // Missing inputs.
  for (const [id, kind] of kinds) {
    const node = doc.nodes[id];
    for (const port of kind.inputs) {
      const src = portSource(node, port, adj);
      if (src.edge || src.scalar !== undefined || (port.optional && !port.scalarParam)) continue;
      err(
        "missing-input",
        port.scalarParam
          ? `node ${describeNode(node)}, input '${port.name}': connect a tensor or set the number param '${port.scalarParam}'`
          : `node ${describeNode(node)}, input '${port.name}' is not connected (${port.help})`,
        { nodeId: id, port: port.name },
      );
    }
  }

  // Shape inference in order; a node with an error, or fed by one, gets no meta and no further messages.
  const metas: Record<string, Record<string, TensorMeta>> = {};
  const blocked = new Set<string>([...bad, ...topo.cycles.flat(), ...topo.blocked]);
  for (const id of topo.order) {
    const node = doc.nodes[id];
    const kind = kinds.get(id);
    if (!kind) {
      blocked.add(id);
      continue;
    }
    const inputs: Record<string, TensorMeta | undefined> = {};
    let upstreamBad = false;
    let dtypeBad = false;
    for (const port of kind.inputs) {
      const src = portSource(node, port, adj);
      if (src.edge) {
        const m = metas[src.edge.source]?.[src.edge.sourcePort];
        if (!m) {
          upstreamBad = true;
          continue;
        }
        const handle = optimizerHandleProblem(kinds.get(src.edge.source), kind, src.edge.source);
        if (handle) {
          err("dtype", `node ${describeNode(node)}, input '${port.name}': ${handle}`, {
            nodeId: id,
            port: port.name,
          });
          dtypeBad = true;
          continue;
        }
        const [want, ok] = DTYPE_RULES[port.dtype ?? "any"];
        if (!ok(m.dtype)) {
          err(
            "dtype",
            `node ${describeNode(node)}, input '${port.name}': expected ${want}, got ${m.dtype} from '${src.edge.source}'`,
            { nodeId: id, port: port.name },
          );
          dtypeBad = true;
        }
        inputs[port.name] = m;
      } else if (src.scalar !== undefined)
        inputs[port.name] = { shape: [], dtype: scalarDType(src.scalar), scalar: true };
    }
    // Dtypes are checked even on a node with other errors, so every problem shows at once.
    if (upstreamBad || dtypeBad || blocked.has(id)) {
      blocked.add(id);
      continue;
    }
    const params = readParams(kind, node.params);
    try {
      const r = kind.infer({ inputs, params });
      const outs = outputsOf(kind);
      const byPort: Record<string, TensorMeta> =
        "shape" in r && Array.isArray(r.shape)
          ? { [outs[0]?.name ?? "out"]: r as TensorMeta }
          : (r as Record<string, TensorMeta>);
      for (const [port, m] of Object.entries(byPort)) {
        const n = numelOf(m.shape);
        if (n > MAX_ELEMENTS)
          throw new InferError(
            `output '${port}' would have shape ${fmtShape(m.shape)}: ${n.toLocaleString("en")} elements, over gradwire's limit of ${MAX_ELEMENTS.toLocaleString("en")}`,
          );
      }
      metas[id] = byPort;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const port = e instanceof InferError ? e.port : undefined;
      const code: IssueCode = /limit of/.test(msg)
        ? "too-large"
        : /dtype|floating|integer|bool/.test(msg)
          ? "dtype"
          : "shape";
      // A port's error names both ends of its wire: the node it enters and the node (and output) it comes from.
      const wire = port ? inputEdge(adj, id, port) : undefined;
      const from = wire ? `, wired from ${wireSource(doc, wire)}` : "";
      err(code, `node ${describeNode(node)}${port ? `, input '${port}'${from}` : ""}: ${msg}`, {
        nodeId: id,
        port,
        ...(wire ? { edgeId: wire.id } : {}),
      });
      blocked.add(id);
      continue;
    }
    for (const w of kind.lint?.({
      params,
      inputs,
      sourceType: (p) => {
        const e = inputEdge(adj, id, p);
        return e ? nodeById(doc, e.source)?.type : undefined;
      },
    }) ?? [])
      warn("lint", `node ${describeNode(node)}${w.port ? `, input '${w.port}'` : ""}: ${w.message}`, {
        nodeId: id,
        port: w.port,
      });
    for (const [port, from] of kind.recomputes ?? []) {
      const target = inputEdge(adj, id, port);
      const source = inputEdge(adj, id, from);
      if (!target || !source) continue;
      if (source.source !== target.source && !ancestors(adj, [target.source]).has(source.source))
        err(
          "not-upstream",
          `node ${describeNode(node)}, input '${from}': '${source.source}' does not feed '${target.source}' (the '${port}' input), so changing it cannot change ${port}`,
          { nodeId: id, port: from },
        );
    }
  }
  for (const e of literalDataErrors(doc, kinds, adj, metas, blocked)) {
    err("data", e.message, { nodeId: e.nodeId });
    blocked.add(e.nodeId);
  }
  // What is downstream of a blocked node cannot run either (it was skipped above without messages).
  checkTraining(doc, kinds, adj, metas, err, warn);
  checkRandomSeeds(doc, kinds, topo.order, blocked, warn);
  const result: ValidationResult = { issues, ok: false, metas, order: topo.order, blocked, adjacency: adj };
  // The whole graph's memory and work, from the metas (nothing is allocated): over budget, nothing runs.
  const overBudget = budgetErrors(doc, registry, result);
  for (const e of overBudget) err(e.code, e.message, { nodeId: e.nodeId });
  if (overBudget.length) for (const id of Object.keys(doc.nodes)) blocked.add(id);
  result.ok = !issues.some((i) => i.severity === "error");
  return result;
}

/**
 * A training run draws every random node's values (dropout's masks) from one generator, seeded with the `seed`
 * of the first one in evaluation order (`torch.manual_seed(seed)` before the loop): a later one's different
 * seed is not used while training, which its node says.
 */
function checkRandomSeeds(
  doc: GraphDoc,
  kinds: ReadonlyMap<string, NodeKind>,
  order: readonly string[],
  blocked: ReadonlySet<string>,
  warn: (code: IssueCode, message: string, at: Omit<Issue, "severity" | "code" | "message">) => void,
): void {
  let first: { id: string; seed: number } | undefined;
  for (const id of order) {
    const kind = kinds.get(id);
    if (!kind?.random || blocked.has(id)) continue;
    const seed = readParams(kind, doc.nodes[id].params).num("seed");
    if (!first) first = { id, seed };
    else if (seed !== first.seed)
      warn(
        "lint",
        `node ${describeNode(doc.nodes[id])}: seed ${seed} is not used while training: one generator draws every dropout mask of the run, seeded with ${describeNode(doc.nodes[first.id])}'s seed ${first.seed} (as one torch.manual_seed before the loop)`,
        { nodeId: id, param: "seed" },
      );
  }
}

/**
 * An optimizer's output is the optimizer itself, not a tensor: only a learning-rate scheduler takes it, and a
 * scheduler takes nothing else. The problem with an edge from `source` into a node of kind `target`, if any.
 */
function optimizerHandleProblem(
  source: NodeKind | undefined,
  target: NodeKind,
  sourceId: string,
): string | undefined {
  const fromOptimizer = source?.optimizer !== undefined;
  if (target.lrScheduler && !fromOptimizer)
    return `expected an optimizer (SGD, Adam...), got a tensor from '${sourceId}'`;
  if (!target.lrScheduler && fromOptimizer)
    return `'${sourceId}' is an optimizer: its output feeds a learning-rate scheduler (StepLR, OneCycleLR...), not a tensor input`;
  return undefined;
}

/** Nodes with leaves whose requires_grad param is on: what optimizers train. */
export function trainableNodes(
  doc: GraphDoc,
  kinds: Map<string, NodeKind>,
  among: Iterable<string>,
): string[] {
  const out: string[] = [];
  for (const id of among) {
    const kind = kinds.get(id);
    if (!kind?.leaves) continue;
    const params = readParams(kind, doc.nodes[id].params);
    if (
      kind.trainsLeaves
        ? kind.trainsLeaves(params)
        : kind.params.some((p) => p.name === "requires_grad") && params.bool("requires_grad")
    )
      out.push(id);
  }
  return out;
}

type Report = (code: IssueCode, message: string, at?: Omit<Issue, "severity" | "code" | "message">) => void;

function checkTraining(
  doc: GraphDoc,
  kinds: Map<string, NodeKind>,
  adj: Adjacency,
  metas: ValidationResult["metas"],
  err: Report,
  warn: Report,
): void {
  const owner = new Map<string, string>();
  for (const [id, kind] of kinds) {
    if (!kind.optimizer) continue;
    const lossEdge = inputEdge(adj, id, "loss");
    if (!lossEdge) continue;
    const up = ancestors(adj, [lossEdge.source]);
    up.add(lossEdge.source);
    const params = trainableNodes(doc, kinds, up);
    if (params.length === 0)
      warn(
        "nothing-to-train",
        `node ${describeNode(doc.nodes[id])}: no tensor with requires_grad feeds its loss, so it has nothing to train`,
        { nodeId: id, port: "loss" },
      );
    for (const p of params) {
      const other = owner.get(p);
      if (other)
        err(
          "shared-parameter",
          `node ${describeNode(doc.nodes[p])} is trained by two optimizers ('${other}' and '${id}'); give each tensor one optimizer`,
          { nodeId: p },
        );
      else owner.set(p, id);
    }
  }
  if (doc.objective !== undefined) {
    const node = nodeById(doc, doc.objective);
    if (!node) err("objective", `the objective '${doc.objective}' is not a node in the graph`);
    else {
      const m = metas[node.id]?.out;
      if (m && numelOf(m.shape) !== 1)
        warn(
          "objective",
          `the objective ${describeNode(node)} has shape ${fmtShape(m.shape)}; backward needs a single number`,
          { nodeId: node.id },
        );
    }
  }
}
