/** Whether an edge may be drawn, with the reason when not: the editor refuses invalid connections while dragging. */
import type { Registry } from "../nodes/registry.ts";
import { expandModules, isInstance, portsOf } from "./modules.ts";
import { adjacency, ancestors } from "./topo.ts";
import { describeNode, type GraphDoc } from "./types.ts";
import { validateGraph } from "./validate.ts";

export interface Connection {
  source: string;
  sourcePort: string;
  target: string;
  targetPort: string;
}

export type ConnectCheck = { ok: true } | { ok: false; reason: string };

export function canConnect(doc: GraphDoc, registry: Registry, c: Connection): ConnectCheck {
  const src = doc.nodes[c.source];
  const dst = doc.nodes[c.target];
  if (!src || !dst) return { ok: false, reason: `no node '${!src ? c.source : c.target}'` };
  const sp = portsOf(src, registry, doc.modules);
  const dp = portsOf(dst, registry, doc.modules);
  if (!sp || !dp) return { ok: false, reason: `unknown node type '${!sp ? src.type : dst.type}'` };
  if (!sp.outputs.includes(c.sourcePort))
    return { ok: false, reason: `${describeNode(src)} has no output '${c.sourcePort}'` };
  if (!dp.inputs.includes(c.targetPort))
    return { ok: false, reason: `${describeNode(dst)} has no input '${c.targetPort}'` };
  if (c.source === c.target) return { ok: false, reason: "a node cannot feed itself" };
  const adj = adjacency(doc);
  if (ancestors(adj, [c.source]).has(c.target))
    return { ok: false, reason: `this would make a cycle: '${c.target}' already feeds '${c.source}'` };
  // A module's ports are checked by its inner nodes, once the wire is in the document.
  if (isInstance(src) || isInstance(dst)) return { ok: true };
  // Try it: the connection is refused if it makes a dtype or shape error at the target's port.
  const edges = Object.fromEntries(
    Object.entries(doc.edges).filter(([, e]) => !(e.target === c.target && e.targetPort === c.targetPort)),
  );
  edges.__candidate = { id: "__candidate", ...c };
  const trial = validateGraph(expandModules({ ...doc, edges }), registry);
  const before = new Set(validateGraph(expandModules(doc), registry).issues.map((i) => i.message));
  const problem = trial.issues.find(
    (i) =>
      i.severity === "error" &&
      i.nodeId === c.target &&
      (i.code === "dtype" || i.code === "shape") &&
      (i.port === c.targetPort || i.port === undefined) &&
      !before.has(i.message),
  );
  if (problem) return { ok: false, reason: problem.message };
  return { ok: true };
}
