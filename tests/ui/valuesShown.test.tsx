// @vitest-environment happy-dom
/**
 * What the editor shows about values, beyond the numbers: which loss is which after a run, a model's initial
 * weight and bias before any training, values that an invalid expression upstream left stale, and a rename to
 * a name another node goes by. The page's session runs against the real scheduler behind a MessageChannel.
 */
import { fireEvent, render } from "@solidjs/testing-library";
import { createRoot, createSignal } from "solid-js";
import { describe, expect, it, vi } from "vitest";
import { GraphDocument } from "../../src/graph/document.ts";
import type { GraphDoc } from "../../src/graph/types.ts";
import { registry } from "../../src/nodes/index.ts";
import { CanvasContext } from "../../src/ui/canvas/context.ts";
import { GwNode } from "../../src/ui/canvas/GwNode.tsx";
import { Inspector } from "../../src/ui/inspector/Inspector.tsx";
import { StatusLine } from "../../src/ui/run/StatusLine.tsx";
import type { RunController, RunState } from "../../src/ui/run/types.ts";
import { createAnalysis } from "../../src/ui/state/analysis.ts";
import { createEditor } from "../../src/ui/state/editor.ts";
import { startSession, until } from "../helpers/run-session.ts";

vi.mock("@dschz/solid-flow", () => ({ Handle: () => null }));

const connect = (graph: GraphDocument) => startSession(graph);

function regression(): GraphDoc {
  const g = new GraphDocument();
  g.setSettings({ epochs: 3 });
  g.addNode({ id: "x", type: "tensor", params: { data: [1, 2, 3], dtype: "float32" } });
  g.addNode({ id: "y", type: "tensor", params: { data: [2, 4, 6], dtype: "float32" } });
  g.addNode({ id: "m", type: "model", params: { weight: 0.5, bias: 0.25 } });
  g.addNode({ id: "sq", type: "custom_function" });
  g.addNode({ id: "loss", type: "mse_loss" });
  g.addNode({ id: "opt", type: "SGD", params: { lr: 0.01 } });
  g.connect({ source: "x", target: "m", targetPort: "input" });
  g.connect({ source: "m", target: "sq", targetPort: "input" });
  g.connect({ source: "sq", target: "loss", targetPort: "input" });
  g.connect({ source: "y", target: "loss", targetPort: "target" });
  g.connect({ source: "loss", target: "opt", targetPort: "loss" });
  return g.state;
}

/** The props solid-flow gives the loss node (only these are read). */
const lossNode = { id: "loss", data: { kind: "mse_loss" }, selected: false } as unknown as Parameters<
  typeof GwNode
>[0];

describe("values shown", () => {
  it("a model shows its initial weight and bias before any training", async () => {
    const editor = createEditor(registry, regression());
    const { session, close } = connect(editor.graph);
    try {
      await until(() => session.leaves("m").some((l) => l.value));
      const leaves = Object.fromEntries(
        session.leaves("m").map((l) => [l.leaf, Array.from(l.value?.data ?? [])]),
      );
      expect(leaves).toEqual({ weight: [0.5], bias: [0.25] });
    } finally {
      close();
    }
  });

  it("an invalid expression upstream leaves the values below it dimmed as stale, and a fix brings them back", async () => {
    const editor = createEditor(registry, regression());
    const { session, close } = connect(editor.graph);
    try {
      await until(() => session.value("loss") !== undefined);
      const before = session.value("loss")?.data[0];
      editor.setParam("sq", "forward", "x +");
      await until(() => session.valueStale("loss"));
      expect(session.valueStale("sq")).toBe(true);
      expect(session.value("loss")?.data[0]).toBe(before);
      const analysis = createRoot(() =>
        createAnalysis(editor.doc, registry, {
          value: (id, port) => session.value(id, port),
          grad: () => undefined,
          valueStale: (id) => session.valueStale(id),
        }),
      );
      const r = render(() => (
        <CanvasContext.Provider value={{ editor, analysis }}>
          <GwNode {...lossNode} />
        </CanvasContext.Provider>
      ));
      expect(r.container.querySelector('[data-preview="value"]')?.classList.contains("stale")).toBe(true);
      editor.setParam("sq", "forward", "x ** 3");
      await until(() => !session.valueStale("loss"));
      expect(session.value("loss")?.data[0]).not.toBe(before);
    } finally {
      close();
    }
  });

  it("labels the two losses: the status line's is from before the last step, the node's after it", () => {
    const editor = createEditor(registry, regression());
    const [trained, setTrained] = createSignal(false);
    const analysis = createAnalysis(editor.doc, registry, {
      value: (id) => (id === "loss" ? { shape: [], dtype: "float32", data: [1.5] } : undefined),
      grad: () => undefined,
      objective: () => "loss",
      trained,
    });
    const state: RunState = { status: "done", epoch: 3, loss: 2.25, backend: { name: "cpu" } };
    const run = { state: () => state } as unknown as RunController;
    const r = render(() => (
      <>
        <StatusLine run={run} totalEpochs={() => 3} errors={() => 0} warnings={() => 0} lastEdit={() => ""} />
        <CanvasContext.Provider value={{ editor, analysis }}>
          <GwNode {...lossNode} />
        </CanvasContext.Provider>
      </>
    ));
    expect(r.getByTestId("loss-label").textContent).toMatch(/before the last step/);
    const label = () => r.container.querySelector('[data-preview="value"] .preview-label')?.textContent;
    expect(label()).toBe("value");
    setTrained(true);
    expect(label()).toBe("after last step");
  });

  it("refuses to rename a node to a name another node goes by, saying why", () => {
    const editor = createEditor(registry, regression());
    const analysis = createAnalysis(editor.doc, registry);
    const r = render(() => <Inspector editor={editor} analysis={analysis} />);
    editor.setSelection(["m"]);
    const field = r.getByTestId("node-name") as HTMLInputElement;
    fireEvent.change(field, { target: { value: "loss" } });
    expect(editor.doc().nodes.m.name).toBeUndefined();
    expect(r.getByTestId("rename-error").textContent).toMatch(/'loss' is already the id of another node/);
    expect(field.value).toBe("");
    fireEvent.change(field, { target: { value: "linear" } });
    expect(editor.doc().nodes.m.name).toBe("linear");
    expect(r.queryByTestId("rename-error")).toBeNull();
    editor.setSelection(["sq"]);
    expect(editor.rename("sq", "linear")).toMatch(/already the name of another node/);
    expect(editor.rename("sq", "  ")).toBeUndefined();
  });
});
