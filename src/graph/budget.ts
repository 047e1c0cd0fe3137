/**
 * What a graph costs before it runs: the memory its values take and the work one evaluation does, estimated
 * from shape inference alone (nothing is allocated). Each tensor is capped on its own (MAX_ELEMENTS); this caps
 * the whole: ten tensors at that cap, or a finite difference nudging a million elements one at a time, are
 * refused by validation with the nodes responsible named, and the editor asks before starting a long run.
 *
 * Work is counted in tensor elements: a node costs as many as it reads or writes, whichever is more, and a tool node that re-runs
 * part of the graph (finite_difference, sweep, grad) costs that part times its re-runs. Element-wise nodes, which
 * are most of them, do about one operation per element; a matmul does more, which this does not count.
 */

import { readParams } from "../nodes/params.ts";
import type { Registry } from "../nodes/registry.ts";
import { numelOf } from "../nodes/shapes.ts";
import type { TensorMeta } from "../nodes/types.ts";
import { allocate } from "../runtime/index.ts";
import { recomputePlan } from "./recompute.ts";
import { describeNode, type GraphDoc } from "./types.ts";
import { portSource, type ValidationResult } from "./validate.ts";

/** The most memory the values of a graph's nodes may take together, in bytes. */
export const MAX_GRAPH_BYTES = 2_000_000_000;
/** The most work one evaluation may do (tensor elements produced, re-runs included). */
export const MAX_EVALUATION_WORK = 1e11;
/** Past this much work, a run is very long (minutes on a CPU): the editor asks before starting one. */
export const VERY_LONG_WORK = 1e10;

export interface CostEstimate {
  /** Bytes of every node's outputs, held at once (gradients during training take about as much again). */
  bytes: number;
  /** Bytes per node, largest first. */
  bytesByNode: [string, number][];
  /** Work of one evaluation of the whole graph. */
  evaluation: number;
  /** Work of each node in one evaluation (a tool node's includes what it re-runs), largest first. */
  workByNode: [string, number][];
}

const bytesPer = (m: TensorMeta) => numelOf(m.shape) * allocate(m.dtype, 0).BYTES_PER_ELEMENT;

/** The estimate, from a validation's metas; nodes that inference could not reach count as nothing. */
export function estimateCost(doc: GraphDoc, registry: Registry, v: ValidationResult): CostEstimate {
  const own = new Map<string, number>();
  const bytes = new Map<string, number>();
  const inputsOf = new Map<string, Record<string, TensorMeta | undefined>>();
  for (const id of v.order) {
    const outs = v.metas[id];
    const kind = registry.get(doc.nodes[id].type);
    if (!outs || !kind) continue;
    const inputs: Record<string, TensorMeta | undefined> = {};
    for (const port of kind.inputs) {
      const e = portSource(doc.nodes[id], port, v.adjacency).edge;
      if (e) inputs[port.name] = v.metas[e.source]?.[e.sourcePort];
    }
    inputsOf.set(id, inputs);
    const count = (ms: (TensorMeta | undefined)[]) => ms.reduce((n, m) => n + (m ? numelOf(m.shape) : 0), 0);
    // A node reads its inputs and writes its outputs: a sum of a million elements costs a million.
    own.set(id, Math.max(1, count(Object.values(inputs)), count(Object.values(outs))));
    bytes.set(
      id,
      Object.values(outs).reduce((n, m) => n + bytesPer(m), 0),
    );
  }
  const work = new Map(own);
  for (const [id, inputs] of inputsOf) {
    const kind = registry.get(doc.nodes[id].type);
    if (!kind?.recomputes || !kind.recomputeRuns) continue;
    const runs = kind.recomputeRuns(readParams(kind, doc.nodes[id].params), inputs);
    let rerun = 0;
    for (const [port, from] of kind.recomputes) {
      const plan = recomputePlan(doc, registry, v, id, port, from);
      for (const n of plan?.nodes ?? []) rerun += own.get(n) ?? 0;
    }
    work.set(id, (own.get(id) ?? 1) + runs * Math.max(1, rerun));
  }
  const largestFirst = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    bytes: [...bytes.values()].reduce((a, b) => a + b, 0),
    bytesByNode: largestFirst(bytes),
    evaluation: [...work.values()].reduce((a, b) => a + b, 0),
    workByNode: largestFirst(work),
  };
}

/** Work of a run: one evaluation, or `epochs` training steps (forward, and a backward of about twice that). */
export function runWork(cost: CostEstimate, mode: "eval" | "train", epochs: number): number {
  return mode === "eval" ? cost.evaluation : epochs * 3 * cost.evaluation;
}

export interface LongRun {
  /** The estimated work (tensor elements produced). */
  work: number;
  /** The sentence to ask with, naming the nodes that cost the most. */
  message: string;
}

/**
 * For the editor: whether a run is very long (estimated work past VERY_LONG_WORK), with a sentence naming the
 * costly nodes to ask with before starting it; undefined when it is not.
 */
export function veryLongRun(
  doc: GraphDoc,
  registry: Registry,
  v: ValidationResult,
  mode: "eval" | "train",
  epochs: number = doc.settings.epochs,
): LongRun | undefined {
  const cost = estimateCost(doc, registry, v);
  const work = runWork(cost, mode, epochs);
  if (work <= VERY_LONG_WORK) return undefined;
  return {
    work,
    message: `This ${mode === "train" ? `training run (${epochs.toLocaleString("en")} epochs)` : "evaluation"} computes about ${fmtCount(work)} tensor elements and may take minutes; most of it in ${nodeList(doc, cost.workByNode, fmtCount)}.`,
  };
}

/**
 * The errors validation reports, each on the costliest node: over either budget, the graph does not run at all
 * (no value is allocated), whichever nodes the cost comes from. Over the memory budget, as with a tensor over its own
 * cap, a file is not even opened.
 */
export function budgetErrors(
  doc: GraphDoc,
  registry: Registry,
  v: ValidationResult,
): { code: "memory" | "work"; nodeId: string; message: string }[] {
  const cost = estimateCost(doc, registry, v);
  const out: { code: "memory" | "work"; nodeId: string; message: string }[] = [];
  if (cost.bytes > MAX_GRAPH_BYTES)
    out.push({
      code: "memory",
      nodeId: cost.bytesByNode[0][0],
      message: `the graph's values would take ${fmtBytes(cost.bytes)}, over gradwire's limit of ${fmtBytes(MAX_GRAPH_BYTES)} for a whole graph: ${nodeList(doc, cost.bytesByNode, fmtBytes)}; make some of them smaller`,
    });
  if (cost.evaluation > MAX_EVALUATION_WORK)
    out.push({
      code: "work",
      nodeId: cost.workByNode[0][0],
      message: `one evaluation of the graph would compute about ${fmtCount(cost.evaluation)} tensor elements, over gradwire's limit of ${fmtCount(MAX_EVALUATION_WORK)}: ${nodeList(doc, cost.workByNode, fmtCount)} (a finite difference or sweep re-runs the graph for each element or step: give it a smaller input or fewer steps)`,
    });
  return out;
}

/** The costliest nodes: `'a' (randn) 400 MB, 'b' (mul) 400 MB and 8 more`. */
function nodeList(doc: GraphDoc, ranked: [string, number][], fmt: (n: number) => string): string {
  const shown = ranked.slice(0, 4).map(([id, n]) => `${describeNode(doc.nodes[id])} ${fmt(n)}`);
  const rest = ranked.length - shown.length;
  return rest > 0 ? `${shown.join(", ")} and ${rest} more` : shown.join(", ");
}

function fmtBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} bytes`;
}

function fmtCount(n: number): string {
  return n >= 1e6 ? n.toExponential(1).replace("e+", "e") : n.toLocaleString("en");
}
