/**
 * Asking before a run that would take very long or need a great deal of memory (issue 18 item 1, the editor's
 * side). The estimate is validation's own (src/graph/budget.ts: the elements every node produces per evaluation,
 * a tool's re-runs included, and the bytes its values hold), read for the epochs the run asks for.
 */
import { createSignal } from "solid-js";
import { estimateCost, runWork, VERY_LONG_WORK } from "../../graph/budget.ts";
import type { GraphDoc } from "../../graph/types.ts";
import type { ValidationResult } from "../../graph/validate.ts";
import type { Registry } from "../../nodes/registry.ts";

export interface WorkEstimate {
  /** Elements computed per epoch, forward and backward. */
  perEpoch: number;
  epochs: number;
  /** perEpoch × epochs. */
  total: number;
  /** Bytes of every node's outputs and their gradients. */
  bytes: number;
  /** The nodes with the most elements, largest first (at most three). */
  largest: { nodeId: string; elements: number }[];
}

/** Past either, the editor asks first: the graph's very-long-run work, or memory a browser tab may not get. */
export const LONG_RUN = { elements: VERY_LONG_WORK, bytes: 1e9 };

export function estimateWork(
  doc: GraphDoc,
  registry: Registry,
  validation: ValidationResult,
  epochs: number,
): WorkEstimate {
  const cost = estimateCost(doc, registry, validation);
  return {
    perEpoch: runWork(cost, "train", 1),
    epochs,
    total: runWork(cost, "train", epochs),
    // Gradients during training take about as much again as the values.
    bytes: 2 * cost.bytes,
    largest: cost.workByNode.slice(0, 3).map(([nodeId, elements]) => ({ nodeId, elements })),
  };
}

export function isLong(e: WorkEstimate): boolean {
  return e.total > LONG_RUN.elements || e.bytes > LONG_RUN.bytes;
}

const short = (x: number) =>
  x >= 1e9
    ? `${(x / 1e9).toPrecision(3)} billion`
    : x >= 1e6
      ? `${(x / 1e6).toPrecision(3)} million`
      : String(x);

/** What the dialog says: the work, the memory, and the nodes that make them. */
export function describeWork(e: WorkEstimate): string[] {
  return [
    `About ${short(e.total)} element operations (${short(e.perEpoch)} per epoch × ${e.epochs} epoch${e.epochs === 1 ? "" : "s"}), holding about ${(e.bytes / 1e9).toPrecision(2)} GB of values and gradients.`,
    `Most of it: ${e.largest
      .filter((l) => l.elements >= (e.largest[0]?.elements ?? 0) / 10)
      .map((l) => `'${l.nodeId}' (${short(l.elements)} element${l.elements === 1 ? "" : "s"})`)
      .join(", ")}.`,
    "It may take minutes, and the page may run out of memory.",
  ];
}

/**
 * A gate in front of Run and Step: `request` runs at once when the estimate is modest, else holds the action
 * until the user confirms (or cancels) in the dialog.
 */
export function createRunGuard(estimate: (epochs: number) => WorkEstimate | undefined) {
  const [pending, setPending] = createSignal<{ estimate: WorkEstimate; go: () => void } | null>(null);
  return {
    pending,
    request(go: () => void, epochs: number): void {
      const e = estimate(epochs);
      if (e && isLong(e)) setPending({ estimate: e, go });
      else go();
    },
    confirm(): void {
      const p = pending();
      setPending(null);
      p?.go();
    },
    cancel(): void {
      setPending(null);
    },
  };
}

export type RunGuard = ReturnType<typeof createRunGuard>;
