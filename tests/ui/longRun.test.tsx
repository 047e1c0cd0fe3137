// @vitest-environment happy-dom
/** The editor asks before a very long run: the estimate from validation's shapes, and the dialog's two answers. */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fireEvent, render } from "@solidjs/testing-library";
import { describe, expect, it, vi } from "vitest";
import { GraphDocument } from "../../src/graph/document.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { registry } from "../../src/nodes/index.ts";
import { LongRunDialog } from "../../src/ui/run/LongRunDialog.tsx";
import { createRunGuard, estimateWork, isLong } from "../../src/ui/run/longRun.ts";

/** randn of `size` → mean → an SGD step on it: a loop whose cost is the random tensor's size. */
function graph(size: number[], epochs: number, dtype = "float32") {
  const g = new GraphDocument();
  g.setSettings({ epochs });
  g.addNode({ id: "big", type: "randn", params: { size, dtype, requires_grad: true } });
  g.addNode({ id: "loss", type: "mean" });
  g.addNode({ id: "opt", type: "SGD" });
  g.connect({ source: "big", target: "loss", targetPort: "input" });
  g.connect({ source: "loss", target: "opt", targetPort: "loss" });
  return g.state;
}

const estimate = (size: number[], epochs: number, dtype?: string) => {
  const doc = graph(size, epochs, dtype);
  return estimateWork(doc, registry, validateGraph(doc, registry), epochs);
};

describe("long runs", () => {
  it("counts the elements each epoch computes and the memory they hold, naming the largest node", () => {
    const small = estimate([100], 100);
    // Validation's estimate (src/graph/budget.ts): 'big' makes 100 elements, the sum reads them and makes one
    // (201 per evaluation); training counts forward and backward as three evaluations.
    expect(small.perEpoch).toBe(3 * 201);
    expect(small.total).toBe(100 * 3 * 201);
    expect(isLong(small)).toBe(false);
    const many = estimate([10000, 10000], 100);
    expect(many.largest[0]).toEqual({ nodeId: "big", elements: 1e8 });
    expect(many.bytes).toBeGreaterThan(8e8);
    expect(isLong(many)).toBe(true);
    // Memory alone: one epoch of 1e8 float64 elements and their gradients (1.6 GB).
    const one = estimate([10000, 10000], 1, "float64");
    expect(one.total).toBeLessThan(1e10);
    expect(isLong(one)).toBe(true);
  });

  it("lets every example run without asking", () => {
    const dir = resolve(dirname(new URL(import.meta.url).pathname), "../../examples");
    for (const f of readdirSync(dir).filter((x) => x.endsWith(".json"))) {
      const r = parseGraphFile(readFileSync(resolve(dir, f), "utf8"));
      if (!r.ok) throw new Error(`${f} does not load`);
      const e = estimateWork(r.doc, registry, validateGraph(r.doc, registry), r.doc.settings.epochs);
      expect(isLong(e), `${f}: ${e.total} elements, ${e.bytes} bytes`).toBe(false);
    }
  });

  it("runs a modest graph at once, and holds a long one for the dialog: Cancel drops it, Run anyway runs it", () => {
    let which: number[] = [100];
    const guard = createRunGuard((epochs) => estimate(which, epochs));
    const go = vi.fn();
    const r = render(() => <LongRunDialog guard={guard} />);
    guard.request(go, 10);
    expect(go).toHaveBeenCalledTimes(1);
    expect(r.queryByTestId("long-run-dialog")).toBeNull();

    which = [10000, 10000];
    guard.request(go, 100);
    expect(go).toHaveBeenCalledTimes(1);
    const dialog = r.getByTestId("long-run-dialog");
    expect(dialog.textContent).toMatch(/'big' \(100 million elements\)/);
    expect(dialog.textContent).toMatch(/× 100 epochs/);
    expect(document.activeElement).toBe(r.getByTestId("long-run-cancel"));
    fireEvent.click(r.getByTestId("long-run-cancel"));
    expect(r.queryByTestId("long-run-dialog")).toBeNull();
    expect(go).toHaveBeenCalledTimes(1);

    guard.request(go, 100);
    fireEvent.click(r.getByTestId("long-run-confirm"));
    expect(go).toHaveBeenCalledTimes(2);
    expect(r.queryByTestId("long-run-dialog")).toBeNull();
  });
});
