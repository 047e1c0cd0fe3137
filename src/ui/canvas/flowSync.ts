/**
 * The thin adapter between gradwire's graph document and @dschz/solid-flow's stores. The document is the source
 * of truth; the flow stores are a view of it. solid-flow mutates its stores directly (positions while dragging,
 * measured sizes, selection) and has no change stream, so the view is rebuilt from the document after every edit,
 * keeping only what the flow owns (measurements, selection, an in-progress drag).
 */
import type { Edge, Node } from "@dschz/solid-flow";
import { produce, type SetStoreFunction } from "solid-js/store";
import type { GraphDoc } from "../../graph/types.ts";

export const NODE_TYPE = "gw";
export const EDGE_TYPE = "gw";

export type FlowNode = Node<{ kind: string }, typeof NODE_TYPE>;
export type FlowEdge = Edge<Record<string, never>, typeof EDGE_TYPE>;

/** Mirror the document's nodes into the flow store in place, so solid-flow keeps its internal state per node. */
export function syncNodes(
  setFlow: SetStoreFunction<FlowNode[]>,
  doc: GraphDoc,
  selected: ReadonlySet<string>,
): void {
  const wanted = doc.nodes;
  setFlow(
    produce((list) => {
      for (let i = list.length - 1; i >= 0; i--) if (!(list[i].id in wanted)) list.splice(i, 1);
      const have = new Map(list.map((n) => [n.id, n]));
      for (const n of Object.values(wanted)) {
        const cur = have.get(n.id);
        if (!cur) {
          list.push({
            id: n.id,
            type: NODE_TYPE,
            position: { x: n.position.x, y: n.position.y },
            data: { kind: n.type },
            selected: selected.has(n.id),
          });
          continue;
        }
        if (!cur.dragging && (cur.position.x !== n.position.x || cur.position.y !== n.position.y))
          cur.position = { x: n.position.x, y: n.position.y };
        if (cur.data.kind !== n.type) cur.data = { kind: n.type };
        const sel = selected.has(n.id);
        if (!!cur.selected !== sel) cur.selected = sel;
      }
    }),
  );
}

export function syncEdges(
  setFlow: SetStoreFunction<FlowEdge[]>,
  doc: GraphDoc,
  selected: ReadonlySet<string>,
): void {
  const wanted = doc.edges;
  setFlow(
    produce((list) => {
      for (let i = list.length - 1; i >= 0; i--) {
        const e = list[i];
        const w = wanted[e.id];
        // The flow adds its own edge the moment a connection is made; the document's edge replaces it.
        if (
          !w ||
          e.source !== w.source ||
          e.target !== w.target ||
          e.sourceHandle !== w.sourcePort ||
          e.targetHandle !== w.targetPort
        )
          list.splice(i, 1);
      }
      const have = new Set(list.map((e) => e.id));
      for (const e of Object.values(wanted)) {
        if (!have.has(e.id))
          list.push({
            id: e.id,
            type: EDGE_TYPE,
            source: e.source,
            target: e.target,
            sourceHandle: e.sourcePort,
            targetHandle: e.targetPort,
            data: {},
            selected: selected.has(e.id),
          });
      }
      for (const e of list) {
        const sel = selected.has(e.id);
        if (!!e.selected !== sel) e.selected = sel;
      }
    }),
  );
}
