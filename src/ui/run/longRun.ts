/**
 * Asking before a run that would take very long or need a great deal of memory (issue 18 item 1, the editor's
 * side). The estimate counts, from the shapes validation infers, the elements every node produces per epoch
 * (forward and backward about three passes over them) and the memory its values and gradients hold.
 *
 * The graph's own work estimate and memory budget belong to validation in src/graph (being added on another
 * branch); when it lands, `estimateWork` should read it instead of counting here.
 */
import { createSignal } from "solid-js";
import type { GraphDoc } from "../../graph/types.ts";
import type { TensorMeta } from "../../nodes/types.ts";
import type { DType } from "../../runtime/index.ts";

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

/** Past either, the editor asks first: tens of seconds of CPU work, or memory a browser tab may not get. */
export const LONG_RUN = { elements: 1e10, bytes: 1e9 };

const BYTES: Record<DType, number> = {
  float16: 2,
  float32: 4,
  float64: 8,
  int32: 4,
  int64: 8,
  bool: 1,
};

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function estimateWork(
  doc: GraphDoc,
  metas: Record<string, Record<string, TensorMeta>>,
  epochs: number,
): WorkEstimate {
  let elements = 0;
  let bytes = 0;
  const per: { nodeId: string; elements: number }[] = [];
  for (const id of Object.keys(doc.nodes)) {
    let n = 0;
    for (const m of Object.values(metas[id] ?? {})) {
      const k = numel(m.shape);
      n += k;
      bytes += 2 * k * (BYTES[m.dtype] ?? 8);
    }
    elements += n;
    if (n > 0) per.push({ nodeId: id, elements: n });
  }
  per.sort((a, b) => b.elements - a.elements);
  const perEpoch = 3 * elements;
  return { perEpoch, epochs, total: perEpoch * epochs, bytes, largest: per.slice(0, 3) };
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
