/** Graph order: topological sort in document order, cycles (named node by node), ancestors and descendants. */
import type { GraphDoc, GraphEdge } from "./types.ts";

export interface Adjacency {
  /** Edges into each node. */
  into: Map<string, GraphEdge[]>;
  /** Edges out of each node. */
  out: Map<string, GraphEdge[]>;
}

/** Adjacency over the edges whose two ends exist. */
export function adjacency(doc: GraphDoc): Adjacency {
  const into = new Map<string, GraphEdge[]>();
  const out = new Map<string, GraphEdge[]>();
  for (const id of Object.keys(doc.nodes)) {
    into.set(id, []);
    out.set(id, []);
  }
  for (const e of Object.values(doc.edges)) {
    if (!Object.hasOwn(doc.nodes, e.source) || !Object.hasOwn(doc.nodes, e.target)) continue;
    into.get(e.target)!.push(e);
    out.get(e.source)!.push(e);
  }
  return { into, out };
}

export interface TopoResult {
  /** Every node not on or behind a cycle, sources first, ties in document order. */
  order: string[];
  /** Each cycle as the node ids around it (first node not repeated). */
  cycles: string[][];
  /** Nodes that come after a cycle and so cannot be ordered. */
  blocked: string[];
}

export function topoSort(doc: GraphDoc, adj: Adjacency = adjacency(doc)): TopoResult {
  const ids = Object.keys(doc.nodes);
  const indeg = new Map(ids.map((id) => [id, adj.into.get(id)!.length]));
  const order: string[] = [];
  // Kahn's algorithm with a queue kept in document order, so equal-rank nodes evaluate in a stable order.
  const rank = new Map(ids.map((id, i) => [id, i]));
  let ready = ids.filter((id) => indeg.get(id) === 0);
  while (ready.length > 0) {
    const next: string[] = [];
    for (const id of ready) {
      order.push(id);
      for (const e of adj.out.get(id)!) {
        const d = indeg.get(e.target)! - 1;
        indeg.set(e.target, d);
        if (d === 0) next.push(e.target);
      }
    }
    ready = next.sort((a, b) => rank.get(a)! - rank.get(b)!);
  }
  if (order.length === ids.length) return { order, cycles: [], blocked: [] };
  const placed = new Set(order);
  const rest = ids.filter((id) => !placed.has(id));
  const cycles = findCycles(rest, adj);
  const onCycle = new Set(cycles.flat());
  return { order, cycles, blocked: rest.filter((id) => !onCycle.has(id)) };
}

/** Strongly connected components (Tarjan) of more than one node, or a node feeding itself, each as a cycle. */
function findCycles(ids: string[], adj: Adjacency): string[][] {
  const inSet = new Set(ids);
  const next = (v: string) => adj.out.get(v)!.flatMap((e) => (inSet.has(e.target) ? [e.target] : []));
  return strongComponents(ids, next).map((comp) => orderCycle(comp, adj));
}

/**
 * The strongly connected components (Tarjan) of the graph `next` describes that are cycles: more than one
 * node, or one node that is its own successor. Also used on the source's import graph (tests/architecture).
 */
export function strongComponents(ids: Iterable<string>, next: (v: string) => readonly string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let counter = 0;
  const strong = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || next(v).includes(v)) out.push(comp);
    }
  };
  for (const v of ids) if (!index.has(v)) strong(v);
  return out;
}

/** Walk a component along its edges so the cycle reads in flow order: a → b → c. */
function orderCycle(comp: string[], adj: Adjacency): string[] {
  const set = new Set(comp);
  const start = [...comp].sort()[0];
  const path = [start];
  const seen = new Set(path);
  let cur = start;
  for (;;) {
    const next = adj.out
      .get(cur)!
      .map((e) => e.target)
      .find((t) => set.has(t) && !seen.has(t));
    if (!next) break;
    path.push(next);
    seen.add(next);
    cur = next;
  }
  return path;
}

function reach(start: Iterable<string>, step: (id: string) => string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...start];
  while (todo.length) {
    const id = todo.pop()!;
    for (const n of step(id))
      if (!seen.has(n)) {
        seen.add(n);
        todo.push(n);
      }
  }
  return seen;
}

/** Nodes downstream of the given ones (not including them unless reachable again). */
export function descendants(adj: Adjacency, ids: Iterable<string>): Set<string> {
  return reach(ids, (id) => (adj.out.get(id) ?? []).map((e) => e.target));
}

/** Nodes upstream of the given ones. */
export function ancestors(adj: Adjacency, ids: Iterable<string>): Set<string> {
  return reach(ids, (id) => (adj.into.get(id) ?? []).map((e) => e.source));
}
