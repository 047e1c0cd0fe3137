/**
 * The backend is decided for each graph: after a float64 graph falls back to the CPU (WebGPU has no float64),
 * the next graph opened trains on WebGPU again, and no reason about the last graph stays on show. The page's
 * session, the real scheduler behind a MessageChannel, and the real WebGPU backend (Dawn on SwiftShader).
 */
import { describe, expect, it } from "vitest";
import { GraphDocument } from "../../src/graph/document.ts";
import type { GraphDoc } from "../../src/graph/types.ts";
import { registry } from "../../src/nodes/index.ts";
import { createEditor } from "../../src/ui/state/editor.ts";
import { startSession, until } from "../helpers/run-session.ts";
import { useWebGpuBackend } from "../helpers/webgpu.ts";

useWebGpuBackend();

function thermometer(dtype: "float32" | "float64"): GraphDoc {
  const g = new GraphDocument();
  g.setSettings({ epochs: 5 });
  g.addNode({ id: "t_u", type: "tensor", params: { data: [0.4, 1.2, 2.5, 3.9], dtype } });
  g.addNode({ id: "t_c", type: "tensor", params: { data: [0, 1, 2, 3], dtype } });
  g.addNode({ id: `m_${dtype}`, type: "model" });
  g.addNode({ id: "loss", type: "mse_loss" });
  g.addNode({ id: "opt", type: "SGD", params: { lr: 1e-3 } });
  g.connect({ source: "t_u", target: `m_${dtype}`, targetPort: "input" });
  g.connect({ source: `m_${dtype}`, target: "loss", targetPort: "input" });
  g.connect({ source: "t_c", target: "loss", targetPort: "target" });
  g.connect({ source: "loss", target: "opt", targetPort: "loss" });
  return g.state;
}

describe("backend per graph", () => {
  it("re-decides the backend when another graph is opened", async () => {
    const editor = createEditor(registry, thermometer("float64"));
    const { session, close } = startSession(editor.graph, { backend: "webgpu" });
    try {
      const run = session.controller;
      await until(() => session.value("loss") !== undefined);
      run.run();
      await until(() => run.state().status === "done");
      expect(run.state().backend.name).toBe("cpu");
      expect(run.state().backend.reason).toMatch(/float64/);
      // Opening a graph, as the app does: stop, reset, load.
      run.reset();
      editor.load(thermometer("float32"));
      await until(() => run.state().status === "idle" && run.state().epoch === 0);
      run.run();
      await until(() => run.state().status === "done" && run.state().epoch === 5);
      expect(run.state().backend).toEqual({ name: "webgpu", reason: undefined });
    } finally {
      close();
    }
  });
});
