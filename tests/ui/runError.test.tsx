// @vitest-environment happy-dom
/**
 * A run that stops with an error naming a node: the status line's message is a button that shows that node,
 * and the node is marked on the canvas. Also: the run state is one object per change, and a node reads its
 * trained leaves once per change.
 */

import { MessageChannel } from "node:worker_threads";
import { fireEvent, render } from "@solidjs/testing-library";
import { createRoot, createSignal } from "solid-js";
import { describe, expect, it, vi } from "vitest";
import type { WorkerLike } from "../../src/engine/worker-client.ts";
import { serveScheduler, type WorkerPort } from "../../src/engine/worker-serve.ts";
import { GraphDocument } from "../../src/graph/document.ts";
import { registry } from "../../src/nodes/index.ts";
import { CanvasContext } from "../../src/ui/canvas/context.ts";
import { GwNode } from "../../src/ui/canvas/GwNode.tsx";
import { createTrainingLog } from "../../src/ui/plots/log.ts";
import { StatusLine } from "../../src/ui/run/StatusLine.tsx";
import { createRunSession } from "../../src/ui/run/session.ts";
import type { RunController, RunState } from "../../src/ui/run/types.ts";
import { createAnalysis, type Values } from "../../src/ui/state/analysis.ts";
import { createEditor } from "../../src/ui/state/editor.ts";
import type { ValueLike } from "../../src/ui/values/torchFormat.ts";

// The node's ports are solid-flow handles, which need a flow around them; the node's face is what is tested.
vi.mock("@dschz/solid-flow", () => ({ Handle: () => null }));

const MESSAGE =
  "epoch 3: the loss became inf; node 'loss' (mse_loss) was the first to produce inf (training diverged: the learning rate is probably too large)";

function controller(initial: RunState) {
  const [state, setState] = createSignal(initial);
  const run: RunController = {
    state,
    run() {},
    pause() {},
    step() {},
    stop() {},
    reset() {},
  };
  return { run, setState };
}

function statusLine(initial: RunState, onFocusNode?: (id: string) => void) {
  const { run, setState } = controller(initial);
  const r = render(() => (
    <StatusLine
      run={run}
      totalEpochs={() => 300}
      errors={() => 0}
      warnings={() => 0}
      lastEdit={() => ""}
      onFocusNode={onFocusNode}
    />
  ));
  return { r, setState };
}

const base: RunState = { status: "idle", epoch: 0, backend: { name: "cpu" } };

describe("status line message", () => {
  it("is a button that shows the node an error names, titled with the whole message", () => {
    const focus = vi.fn();
    const { r } = statusLine({ ...base, status: "error", epoch: 4, message: MESSAGE, nodeId: "loss" }, focus);
    const msg = r.getByTestId("run-message");
    expect(msg.tagName).toBe("BUTTON");
    expect(msg.classList.contains("status-message")).toBe(true);
    expect(msg.classList.contains("error")).toBe(true);
    expect(msg.getAttribute("title")).toBe(MESSAGE);
    expect(msg.textContent).toBe(MESSAGE);
    fireEvent.click(msg);
    expect(focus).toHaveBeenCalledWith("loss");
  });

  it("is plain text when no node is named, and turns into a button when one is", () => {
    const focus = vi.fn();
    const { r, setState } = statusLine(
      { ...base, status: "error", message: "the training worker failed: it could not be started" },
      focus,
    );
    const msg = r.getByTestId("run-message");
    expect(msg.tagName).toBe("SPAN");
    expect(msg.classList.contains("status-message")).toBe(true);
    expect(msg.getAttribute("title")).toMatch(/worker failed/);
    fireEvent.click(msg);
    expect(focus).not.toHaveBeenCalled();
    setState({ ...base, status: "error", message: MESSAGE, nodeId: "loss" });
    expect(r.getByTestId("run-message").tagName).toBe("BUTTON");
    setState(base);
    expect(r.queryByTestId("run-message")).toBeNull();
  });

  it("is plain text when nothing can show the node", () => {
    const { r } = statusLine({ ...base, status: "error", message: MESSAGE, nodeId: "loss" });
    expect(r.getByTestId("run-message").tagName).toBe("SPAN");
  });
});

function canvasNodes(values: Values) {
  const editor = createEditor(registry);
  const a = editor.addNode("tensor", { x: 0, y: 0 }) as string;
  const b = editor.addNode("mse_loss", { x: 300, y: 0 }) as string;
  const analysis = createAnalysis(editor.doc, registry, values);
  const props = (id: string) =>
    ({ id, data: { kind: editor.doc().nodes[id].type }, selected: false }) as unknown as Parameters<
      typeof GwNode
    >[0];
  const r = render(() => (
    <CanvasContext.Provider value={{ editor, analysis }}>
      <GwNode {...props(a)} />
      <GwNode {...props(b)} />
    </CanvasContext.Provider>
  ));
  const el = (id: string) => r.container.querySelector(`.gw-node[data-node-id="${id}"]`) as HTMLElement;
  return { a, b, el };
}

describe("the node a run stopped at", () => {
  it("is marked on the canvas while the run's error names it", () => {
    const [errorNode, setErrorNode] = createSignal<string | undefined>(undefined);
    const { a, b, el } = canvasNodes({
      value: () => undefined,
      grad: () => undefined,
      runErrorNode: errorNode,
    });
    expect(el(a).classList.contains("run-error")).toBe(false);
    expect(el(b).classList.contains("run-error")).toBe(false);
    setErrorNode(b);
    expect(el(b).classList.contains("run-error")).toBe(true);
    expect(el(a).classList.contains("run-error")).toBe(false);
    setErrorNode(undefined);
    expect(el(b).classList.contains("run-error")).toBe(false);
  });

  it("reads a node's trained leaves once per change, keeping its rows", () => {
    const [epoch, setEpoch] = createSignal(0);
    const like = (x: number): ValueLike => ({ shape: [], dtype: "float32", data: [x] });
    const calls = new Map<string, number>();
    const { a, el } = canvasNodes({
      value: () => undefined,
      grad: () => undefined,
      leaves: (id) => {
        calls.set(id, (calls.get(id) ?? 0) + 1);
        const e = epoch();
        // Fresh objects every call, as the session builds them.
        return [{ leaf: "weight", value: like(e), grad: like(-e) }];
      },
    });
    const row = el(a).querySelector(".gw-leaf");
    expect(row?.querySelector(".gw-leaf-name")?.textContent).toBe("weight");
    expect(calls.get(a)).toBe(1);
    setEpoch(1);
    expect(calls.get(a)).toBe(2);
    // Same row, new numbers: rows are kept by position, not rebuilt for each fresh object.
    expect(el(a).querySelector(".gw-leaf")).toBe(row);
    expect(row?.querySelector(".gw-leaf-value")?.textContent).toMatch(/1/);
    expect(row?.querySelector(".gw-leaf-grad")?.textContent).toMatch(/-1/);
  });
});

describe("run session state", () => {
  it("is one object until something shown changes, and names the node a diverging run stopped at", async () => {
    const g = new GraphDocument();
    g.setSettings({ epochs: 50 });
    g.addNode({
      id: "x",
      type: "tensor",
      params: { data: [0.4, 1.2, 2.5, 3.9, 4.3, 5.7], dtype: "float32" },
    });
    g.addNode({ id: "y", type: "tensor", params: { data: [0, 1, 2, 3, 4, 5], dtype: "float32" } });
    g.addNode({ id: "m", type: "model" });
    g.addNode({ id: "loss", type: "mse_loss" });
    g.addNode({ id: "opt", type: "SGD", params: { lr: 10 } });
    g.connect({ source: "x", target: "m", targetPort: "input" });
    g.connect({ source: "m", target: "loss", targetPort: "input" });
    g.connect({ source: "y", target: "loss", targetPort: "target" });
    g.connect({ source: "loss", target: "opt", targetPort: "loss" });
    const channel = new MessageChannel();
    const served = serveScheduler(channel.port2 as unknown as WorkerPort);
    const { session, dispose } = createRoot((dispose) => ({
      session: createRunSession({
        graph: g,
        log: createTrainingLog(),
        worker: channel.port1 as unknown as WorkerLike,
      }),
      dispose,
    }));
    try {
      const s0 = session.controller.state();
      expect(session.controller.state()).toBe(s0);
      session.controller.run();
      const end = Date.now() + 20_000;
      while (session.controller.state().status !== "error") {
        if (Date.now() > end) throw new Error(`timed out: ${session.controller.state().status}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const s = session.controller.state();
      expect(session.controller.state()).toBe(s);
      expect(s.nodeId).toBeDefined();
      expect(s.message).toMatch(/nan|inf/);
      const focus = vi.fn();
      const r = render(() => (
        <StatusLine
          run={session.controller}
          totalEpochs={() => 50}
          errors={() => 0}
          warnings={() => 0}
          lastEdit={() => ""}
          onFocusNode={focus}
        />
      ));
      fireEvent.click(r.getByTestId("run-message"));
      expect(focus).toHaveBeenCalledWith(s.nodeId);
    } finally {
      session.dispose();
      served.dispose();
      channel.port1.close();
      dispose();
    }
  });
});
