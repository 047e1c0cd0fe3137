/**
 * Validation's checks on literal data: the value checks evaluation makes (a class index out of range, a
 * probability outside [0, 1]) made before anything runs, so `validate` and the editor report what `eval` would.
 * A loss or metric fed directly by a data node (a tensor written out, a range, seeded random values) runs once
 * on that data, with zeros standing in for computed inputs (zero is a valid value for every check a loss
 * makes on its input); only small inputs are tried, so validation stays cheap on every edit.
 */
import { readParams } from "../nodes/params.ts";
import { type EvalContext, type NodeKind, outputsOf } from "../nodes/types.ts";
import { full, noGrad, numel, Tensor } from "../runtime/index.ts";
import type { Adjacency } from "./topo.ts";
import { describeNode, type GraphDoc, nodeLabel } from "./types.ts";
import type { ValidationResult } from "./validate.ts";
import { portSource } from "./validate.ts";

/** Inputs larger than this (in elements, all inputs together) are left to evaluation. */
export const LITERAL_CHECK_MAX = 65_536;

const CHECKED_FAMILIES = new Set(["Losses", "Metrics"]);

class NoRecompute extends Error {}

function run(
  kind: NodeKind,
  doc: GraphDoc,
  id: string,
  inputs: Record<string, Tensor | undefined>,
  scalars: Record<string, number>,
): Record<string, Tensor> {
  const node = doc.nodes[id];
  const params = readParams(kind, node.params);
  const ctx: EvalContext = {
    nodeId: id,
    label: nodeLabel(node),
    inputs,
    arg: (port) => inputs[port] ?? scalars[port],
    params,
    leaves: kind.leaves?.(params, nodeLabel(node)) ?? {},
    training: true,
    recompute: () => {
      throw new NoRecompute();
    },
  };
  const r = noGrad(() => kind.evaluate(ctx));
  return r instanceof Tensor ? { [outputsOf(kind)[0]?.name ?? "out"]: r } : r;
}

/** Errors, each naming its node, that evaluating losses and metrics on their literal inputs would give. */
export function literalDataErrors(
  doc: GraphDoc,
  kinds: ReadonlyMap<string, NodeKind>,
  adj: Adjacency,
  metas: ValidationResult["metas"],
  blocked: ReadonlySet<string>,
): { nodeId: string; message: string }[] {
  const out: { nodeId: string; message: string }[] = [];
  const literals = new Map<string, Record<string, Tensor> | null>();
  const literal = (src: string): Record<string, Tensor> | null => {
    if (!literals.has(src)) {
      const kind = kinds.get(src);
      let value: Record<string, Tensor> | null = null;
      if (kind && kind.family === "Data" && kind.inputs.length === 0 && !blocked.has(src))
        try {
          value = run(kind, doc, src, {}, {});
        } catch {
          value = null; // The data node's own problem is reported on it.
        }
      literals.set(src, value);
    }
    return literals.get(src)!;
  };
  for (const [id, kind] of kinds) {
    if (!CHECKED_FAMILIES.has(kind.family) || blocked.has(id) || kind.recomputes) continue;
    const node = doc.nodes[id];
    const inputs: Record<string, Tensor | undefined> = {};
    const scalars: Record<string, number> = {};
    let anyLiteral = false;
    let size = 0;
    for (const port of kind.inputs) {
      const src = portSource(node, port, adj);
      if (src.scalar !== undefined) scalars[port.name] = src.scalar;
      if (!src.edge) continue;
      const m = metas[src.edge.source]?.[src.edge.sourcePort];
      if (!m) continue;
      size += numel(m.shape);
      if (size > LITERAL_CHECK_MAX) break;
      const lit = literal(src.edge.source)?.[src.edge.sourcePort];
      if (lit) anyLiteral = true;
      inputs[port.name] = lit ?? full(m.shape, 0, m.dtype);
    }
    if (!anyLiteral || size > LITERAL_CHECK_MAX) continue;
    try {
      run(kind, doc, id, inputs, scalars);
    } catch (e) {
      if (e instanceof NoRecompute) continue;
      out.push({
        nodeId: id,
        message: `node ${describeNode(node)}: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
  }
  return out;
}
