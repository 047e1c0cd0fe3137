/**
 * What a graph trains, asked of the document alone: the optimizer groups (each optimizer node, its loss and
 * the leaves upstream of it), the trainable leaves, and the objective. The scheduler answers these for its
 * live tensors and the PyTorch exporter for fresh ones, through the same functions, so both agree on what a
 * training run touches without the exporter building a scheduler.
 */
import { readParams } from "../nodes/params.ts";
import type { Registry } from "../nodes/registry.ts";
import { type NodeKind, OUT, type ParamReader } from "../nodes/types.ts";
import type { Tensor } from "../runtime/tensor.ts";
import { ancestors } from "./topo.ts";
import { type GraphDoc, nodeLabel } from "./types.ts";
import { inputEdge, type ValidationResult } from "./validate.ts";

/** A trained leaf tensor: a requires_grad tensor node's output, or a model node's weight or bias. */
export interface Trainable {
  /** The node id for a node's own output, `<node>.<leaf>` otherwise (`model.weight`). */
  id: string;
  nodeId: string;
  leaf: string;
  tensor: Tensor;
}

/** One optimizer node and what it trains. */
export interface TrainingGroup {
  nodeId: string;
  kind: NodeKind;
  params: Trainable[];
  hyper: ParamReader;
  zeroGrad: boolean;
  /** The node (and output port) feeding the optimizer's `loss` port. */
  loss: { nodeId: string; port: string };
  /** The learning-rate schedulers wired from the optimizer, in evaluation order (torch's order of creation). */
  lrSchedulers?: LrSchedulerNode[];
}

/** A learning-rate scheduler node on an optimizer. */
export interface LrSchedulerNode {
  nodeId: string;
  kind: NodeKind;
  params: ParamReader;
}

/** A validated document and where its nodes' leaf tensors come from. */
export interface TrainingView {
  doc: GraphDoc;
  registry: Registry;
  v: ValidationResult;
  /** The leaf tensors of a runnable node that has a kind (a node's tensors, kept across queries). */
  leaves(id: string, kind: NodeKind): Record<string, Tensor>;
}

function kindOf(g: TrainingView, id: string): NodeKind | undefined {
  const n = g.doc.nodes[id];
  return n ? g.registry.get(n.type) : undefined;
}

/** Leaves made from each node's params on first use and kept: what a fresh run of the graph starts from. */
export function freshLeaves(doc: GraphDoc): TrainingView["leaves"] {
  const made = new Map<string, Record<string, Tensor>>();
  return (id, kind) => {
    let l = made.get(id);
    if (!l) {
      const node = doc.nodes[id];
      l = kind.leaves ? kind.leaves(readParams(kind, node.params), nodeLabel(node)) : {};
      made.set(id, l);
    }
    return l;
  };
}

/** The leaf tensors a node owns, or {} for a node that cannot run or whose kind has none. */
export function nodeLeaves(g: TrainingView, id: string): Record<string, Tensor> {
  const kind = kindOf(g, id);
  return kind && !g.v.blocked.has(id) ? g.leaves(id, kind) : {};
}

/** Every trainable leaf of the runnable nodes (of `among`, when given), in evaluation order. */
export function trainables(g: TrainingView, among?: ReadonlySet<string>): Trainable[] {
  const out: Trainable[] = [];
  for (const id of g.v.order) {
    if (g.v.blocked.has(id) || (among && !among.has(id))) continue;
    const kind = kindOf(g, id);
    if (!kind?.leaves) continue;
    for (const [leaf, tensor] of Object.entries(g.leaves(id, kind)))
      if (tensor.requiresGrad) out.push({ id: leaf === "" ? id : `${id}.${leaf}`, nodeId: id, leaf, tensor });
  }
  return out;
}

/** The optimizer nodes that can run, each with its loss source and the leaves upstream of it. */
export function trainingGroups(g: TrainingView): TrainingGroup[] {
  const adj = g.v.adjacency;
  const out: TrainingGroup[] = [];
  for (const id of g.v.order) {
    const kind = kindOf(g, id);
    if (!kind?.optimizer || g.v.blocked.has(id)) continue;
    const e = inputEdge(adj, id, "loss");
    if (!e) continue;
    const up = ancestors(adj, [e.source]);
    up.add(e.source);
    const hyper = readParams(kind, g.doc.nodes[id].params);
    const lrSchedulers = g.v.order.flatMap((sid): LrSchedulerNode[] => {
      const sk = kindOf(g, sid);
      if (!sk?.lrScheduler || g.v.blocked.has(sid) || inputEdge(adj, sid, "optimizer")?.source !== id)
        return [];
      return [{ nodeId: sid, kind: sk, params: readParams(sk, g.doc.nodes[sid].params) }];
    });
    out.push({
      nodeId: id,
      kind,
      params: trainables(g, up),
      hyper,
      zeroGrad: hyper.bool("zero_grad"),
      loss: { nodeId: e.source, port: e.sourcePort },
      lrSchedulers,
    });
  }
  return out;
}

/** The node eval backpropagates from: the file's objective, else the first optimizer's loss. */
export function objectiveOf(g: TrainingView): { nodeId: string; port: string } | undefined {
  if (g.doc.objective !== undefined && g.doc.objective in g.doc.nodes)
    return { nodeId: g.doc.objective, port: OUT };
  return trainingGroups(g)[0]?.loss;
}
