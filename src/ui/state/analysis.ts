/**
 * What the canvas shows about each node beyond the document: the validator's problems, the shapes inference
 * predicts, and the values and gradients the last evaluation produced. Validation reruns only when the graph's
 * structure or params change, not when a node is merely moved.
 */
import { type Accessor, createMemo, createSignal, getOwner, onCleanup } from "solid-js";
import {
  expandModules,
  instanceModule,
  instancePorts,
  isInstance,
  moduleById,
  PATH_SEP,
  topLevelId,
} from "../../graph/modules.ts";
import type { GraphDoc } from "../../graph/types.ts";
import { type Issue as GraphIssue, type ValidationResult, validateGraph } from "../../graph/validate.ts";
import { followProvidedCsv } from "../../nodes/csv.ts";
import { readParams } from "../../nodes/params.ts";
import type { Registry } from "../../nodes/registry.ts";
import type { TensorMeta } from "../../nodes/types.ts";
import type { ValueLike } from "../values/torchFormat.ts";

/** A validator issue, or an error the scheduler met while evaluating a node ("runtime"). */
export type Issue = Omit<GraphIssue, "code"> & { code: GraphIssue["code"] | "runtime" };

export interface Analysis {
  issuesOf(nodeId: string): Issue[];
  /** Problems that name no node (an objective that is missing...). */
  graphIssues(): Issue[];
  outMeta(nodeId: string, port: string): TensorMeta | undefined;
  value(nodeId: string, port?: string): ValueLike | undefined;
  grad(nodeId: string, port?: string): ValueLike | undefined;
  requiresGrad(nodeId: string): boolean;
  /** Trained tensors a node owns besides its output (a model's weight and bias). */
  leaves(nodeId: string): { leaf: string; value?: ValueLike; grad?: ValueLike }[];
  /** The parameters a node owns (elements of its requires_grad leaves), 0 when none or not known yet. */
  paramCount(nodeId: string): number;
  /** True while training runs: node gradients are those of the last pause, refreshed when it stops. */
  gradsStale(): boolean;
  /** True when the node's value is the last one computed before it (or a node upstream) failed. */
  valueStale(nodeId: string): boolean;
  /** The node training minimises, when the graph has one. */
  objective(): string | undefined;
  /** True once an epoch has run: the objective's value is then the loss after the last step. */
  trained(): boolean;
  /** The node a training run stopped at (a NaN or infinite value started there), if it did. */
  runErrorNode(): string | undefined;
}

/** Same graph apart from positions? immer keeps unchanged objects identical, so this is cheap. */
export function sameStructure(a: GraphDoc, b: GraphDoc): boolean {
  if (a === b) return true;
  if (a.edges !== b.edges || a.objective !== b.objective || a.modules !== b.modules) return false;
  const ka = Object.keys(a.nodes);
  if (ka.length !== Object.keys(b.nodes).length) return false;
  for (const id of ka) {
    const x = a.nodes[id];
    const y = b.nodes[id];
    if (!y || x.type !== y.type || x.params !== y.params || x.name !== y.name) return false;
  }
  return true;
}

export interface Values {
  value(nodeId: string, port: string): ValueLike | undefined;
  grad(nodeId: string, port: string): ValueLike | undefined;
  leaves?(nodeId: string): { leaf: string; value?: ValueLike; grad?: ValueLike }[];
  paramCount?(nodeId: string): number;
  gradsStale?(): boolean;
  valueStale?(nodeId: string): boolean;
  objective?(): string | undefined;
  trained?(): boolean;
  /** Why the scheduler could not evaluate a node (upstream failures included). */
  nodeError?(nodeId: string): string | undefined;
  runErrorNode?(): string | undefined;
}

/**
 * `scope` is the module open on the canvas, if any: its nodes then show what they compute in the first instance
 * of it on the top level (`fc` shows `block1/fc`), and the rest of the graph's issues are not theirs.
 */
export function createAnalysis(
  doc: Accessor<GraphDoc>,
  registry: Registry,
  values?: Values,
  scope?: Accessor<string | undefined>,
) {
  const structure = createMemo(doc, undefined, { equals: sameStructure });
  // A CSV file given to the page (picked again after a reload, say) changes what csv nodes infer.
  const [files, setFiles] = createSignal(0);
  const stopFiles = followProvidedCsv(() => setFiles((n) => n + 1));
  if (getOwner()) onCleanup(stopFiles);
  // Module instances are validated as the flat graph they stand for (block1/fc): what runs.
  const flat = createMemo(() => expandModules(structure()));
  const validation = createMemo<ValidationResult>(() => {
    files();
    return validateGraph(flat(), registry);
  });
  /** The graph on the canvas: the document, or the open module's inside. */
  const shown = createMemo((): GraphDoc => {
    const m = scope?.();
    const def = m === undefined ? undefined : moduleById(structure(), m);
    return def ? { ...structure(), nodes: def.nodes, edges: def.edges } : structure();
  });
  /** What a canvas node's id is prefixed with in the flat graph; undefined when no instance shows the module. */
  const prefix = createMemo((): string | undefined => {
    const m = scope?.();
    if (m === undefined) return "";
    const inst = Object.values(structure().nodes).find((n) => isInstance(n) && instanceModule(n) === m);
    return inst ? `${inst.id}${PATH_SEP}` : undefined;
  });
  /** The canvas node a flat id belongs to (an instance for its inner nodes), if it is on the canvas. */
  const onCanvas = (flatId: string): string | undefined => {
    const p = prefix();
    if (p === undefined || !flatId.startsWith(p)) return undefined;
    return topLevelId(flatId.slice(p.length));
  };
  // An issue inside an instance shows on the instance (its message names the inner node's path).
  const byNode = createMemo(() => {
    const m = new Map<string, Issue[]>();
    for (const i of validation().issues) {
      const at = i.nodeId === undefined ? undefined : onCanvas(i.nodeId);
      if (at === undefined) continue;
      const l = m.get(at);
      if (l) l.push(i);
      else m.set(at, [i]);
    }
    return m;
  });
  /** Where a canvas node's output comes from in the flat graph (through an instance to its inner node). */
  const flatOutput = (id: string, port: string): [string, string] | undefined => {
    const p = prefix();
    if (p === undefined) return undefined;
    const g = shown();
    const n = Object.hasOwn(g.nodes, id) ? g.nodes[id] : undefined;
    if (!n || !isInstance(n)) return [p + id, port];
    try {
      const o = instancePorts(g, id).outputs.find((x) => x.name === port);
      return o ? [p + o.node, o.port] : undefined;
    } catch {
      return undefined;
    }
  };
  const flatId = (id: string) => {
    const p = prefix();
    return p === undefined ? undefined : p + id;
  };

  const analysis: Analysis & { validation: Accessor<ValidationResult> } = {
    validation,
    issuesOf(id) {
      const found: Issue[] = byNode().get(id) ?? [];
      // What validation cannot foresee (a value out of a function's domain...) is reported by the scheduler;
      // it is shown where validation found nothing, so one problem is not told twice.
      // A node that only lacks a value because something upstream failed says nothing: the upstream node does.
      const own = (m: string | undefined) =>
        m && !/cannot run: an input has an error|has no value/.test(m) ? m : undefined;
      const f = flatId(id);
      const runtime = found.length === 0 && f !== undefined ? own(values?.nodeError?.(f)) : undefined;
      return runtime ? [{ severity: "error", code: "runtime", message: runtime, nodeId: id }] : found;
    },
    graphIssues: () => validation().issues.filter((i) => !i.nodeId),
    outMeta: (id, port) => {
      const at = flatOutput(id, port);
      return at && validation().metas[at[0]]?.[at[1]];
    },
    value: (id, port = "out") => {
      const at = flatOutput(id, port);
      return at && values?.value(...at);
    },
    grad: (id, port = "out") => {
      const at = flatOutput(id, port);
      return at && values?.grad(...at);
    },
    leaves: (id) => {
      const f = flatId(id);
      return (f !== undefined && values?.leaves?.(f)) || [];
    },
    // A module instance owns what its inner nodes own (block1/W, block1/b).
    paramCount: (id) => {
      const count = values?.paramCount;
      const f = flatId(id);
      if (!count || f === undefined) return 0;
      const n = shown().nodes[id];
      if (!n || !isInstance(n)) return count(f);
      const inner = Object.keys(flat().nodes).filter((x) => x.startsWith(`${f}${PATH_SEP}`));
      return inner.reduce((sum, x) => sum + count(x), 0);
    },
    gradsStale: () => values?.gradsStale?.() ?? false,
    valueStale: (id) => {
      const f = flatId(id);
      return f !== undefined && (values?.valueStale?.(f) ?? false);
    },
    objective: () => {
      const o = values?.objective?.();
      return o === undefined ? undefined : onCanvas(o);
    },
    trained: () => values?.trained?.() ?? false,
    runErrorNode: () => {
      const id = values?.runErrorNode?.();
      return id === undefined ? undefined : onCanvas(id);
    },
    requiresGrad(id) {
      const n = shown().nodes[id];
      const kind = n && registry.get(n.type);
      if (!kind?.params.some((p) => p.name === "requires_grad")) return false;
      try {
        return readParams(kind, n.params).bool("requires_grad");
      } catch {
        return false;
      }
    },
  };
  return analysis;
}

export type LiveAnalysis = ReturnType<typeof createAnalysis>;
