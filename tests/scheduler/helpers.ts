// Small builders shared by the scheduler tests.
import { readFileSync } from "node:fs";
import { GraphDocument } from "../../src/graph/document.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import type { GraphDoc } from "../../src/graph/types.ts";
import type { ParamValue } from "../../src/nodes/types.ts";

export type N = [id: string, type: string, params?: Record<string, ParamValue>];
export type E = [source: string, target: string, targetPort: string, sourcePort?: string];

/** A document with these nodes and edges (edges e1, e2... in order). */
export function build(nodes: N[], edges: E[], epochs = 100): GraphDocument {
  const doc = new GraphDocument();
  for (const [id, type, params] of nodes) doc.addNode({ id, type, params });
  edges.forEach(([source, target, targetPort, sourcePort], i) => {
    doc.connect({ id: `e${i + 1}`, source, sourcePort: sourcePort ?? "out", target, targetPort });
  });
  doc.setSettings({ epochs });
  return doc;
}

export function fixture(name: string): GraphDoc {
  const r = parseGraphFile(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8"));
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join("\n"));
  return r.doc;
}

export const THERMOMETER_T_U = [0.4, 1.2, 2.5, 3.9, 4.3, 5.7, 6.2, 7.9, 8.3, 9.5, 10.5, 11.5];
export const THERMOMETER_T_C = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

/**
 * sum(sqrt(w ** 2)) = |w| from w = 2 at lr 1: the gradient is exactly 1 until w reaches 0 at epoch 2, where the
 * loss is a finite 0 but sqrt's backward gives inf (0.5 / sqrt(0)) and pow's turns it into nan (2 * 0 * inf).
 */
export function sqrtAtZero(epochs = 10, dtype = "float64") {
  const doc = build(
    [
      ["w", "tensor", { data: [2], dtype, requires_grad: true }],
      ["sq", "pow", { exponent: 2 }],
      ["root", "sqrt"],
      ["loss", "sum"],
      ["opt", "SGD", { lr: 1 }],
    ],
    [
      ["w", "sq", "input"],
      ["sq", "root", "input"],
      ["root", "loss", "input"],
      ["loss", "opt", "loss"],
    ],
    epochs,
  );
  doc.renameNode("root", "sqrt of w²");
  return doc;
}

export const SQRT_AT_ZERO_MESSAGE =
  "epoch 2: the gradient of 'w' became nan; node 'sqrt of w²' (sqrt) was the first to produce inf in backward (the gradient for its input 'input'); no step was taken, the parameters keep their values from before this epoch";
