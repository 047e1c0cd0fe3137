/**
 * What a tool node (finite_difference, sweep, grad) re-runs when it replaces the value reaching one input
 * (`fromPort`) and reads the value reaching another (`port`): the nodes downstream of the first source and
 * upstream of the second, in evaluation order, not passing through barrier nodes (detach). The scheduler and
 * the PyTorch script builder both use this, so both recompute the same thing.
 */
import type { Registry } from "../nodes/registry.ts";
import { ancestors } from "./topo.ts";
import type { GraphDoc, GraphEdge } from "./types.ts";
import { inputEdge, type ValidationResult } from "./validate.ts";

export interface RecomputePlan {
  /** The edge whose value is replaced. */
  from: GraphEdge;
  /** The edge whose value is read. */
  target: GraphEdge;
  /** Nodes to run again, in order (empty when both edges leave the same output). */
  nodes: string[];
}

export function recomputePlan(
  doc: GraphDoc,
  registry: Registry,
  v: ValidationResult,
  nodeId: string,
  port: string,
  fromPort: string,
): RecomputePlan | undefined {
  const adj = v.adjacency;
  const target = inputEdge(adj, nodeId, port);
  const from = inputEdge(adj, nodeId, fromPort);
  if (!target || !from) return undefined;
  // Downstream of the replaced value, stopping at barriers (their value stays as it was).
  const reached = new Set<string>();
  const todo = [from.source];
  while (todo.length) {
    const id = todo.pop()!;
    for (const e of adj.out.get(id) ?? []) {
      if (reached.has(e.target)) continue;
      if (registry.get(doc.nodes[e.target]?.type ?? "")?.barrier) continue;
      reached.add(e.target);
      todo.push(e.target);
    }
  }
  const upstream = ancestors(adj, [target.source]);
  upstream.add(target.source);
  return { from, target, nodes: v.order.filter((id) => reached.has(id) && upstream.has(id)) };
}
