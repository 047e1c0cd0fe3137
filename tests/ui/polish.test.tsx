// @vitest-environment happy-dom
/**
 * Small things a user notices (issue 18 item 20): the speed of a short run, the backend chip before the
 * worker has decided, a second run's plots starting over, and the last run's plot history kept across a reload
 * within a size cap. The page's session runs against the real scheduler behind a MessageChannel.
 */
import { createRoot } from "solid-js";
import { beforeEach, describe, expect, it } from "vitest";
import { toColumns } from "../../src/engine/record-columns.ts";
import type { EpochRecord } from "../../src/engine/train.ts";
import { GraphDocument } from "../../src/graph/document.ts";
import { HISTORY_KEY, loadHistory, saveHistory } from "../../src/ui/files/history.ts";
import { createTrainingLog } from "../../src/ui/plots/log.ts";
import { startSession, until } from "../helpers/run-session.ts";

function thermometer(epochs: number): GraphDocument {
  const g = new GraphDocument();
  g.setSettings({ epochs });
  g.addNode({ id: "x", type: "tensor", params: { data: [0.4, 1.2, 2.5, 3.9], dtype: "float32" } });
  g.addNode({ id: "y", type: "tensor", params: { data: [0, 1, 2, 3], dtype: "float32" } });
  g.addNode({ id: "m", type: "model" });
  g.addNode({ id: "loss", type: "mse_loss" });
  g.addNode({ id: "opt", type: "SGD", params: { lr: 1e-3 } });
  g.connect({ source: "x", target: "m", targetPort: "input" });
  g.connect({ source: "m", target: "loss", targetPort: "input" });
  g.connect({ source: "y", target: "loss", targetPort: "target" });
  g.connect({ source: "loss", target: "opt", targetPort: "loss" });
  return g;
}

const start = (graph: GraphDocument, backend?: "webgpu") => startSession(graph, { backend });

describe("run session polish", () => {
  it("measures the speed of a run that ends within one batch of records", async () => {
    const { session, close } = start(thermometer(3));
    try {
      await until(() => session.value("loss") !== undefined);
      session.controller.run();
      await until(() => session.train().status === "done");
      expect(session.controller.state().epochsPerSec).toBeGreaterThan(0);
    } finally {
      close();
    }
  });

  it("shows the backend asked for as being decided until the worker answers, never CPU meanwhile", async () => {
    const { session, close } = start(thermometer(3), "webgpu");
    try {
      expect(session.controller.state().backend).toEqual({ name: "webgpu", deciding: true });
      // No WebGPU backend is registered in this test: the worker answers with the CPU and the reason.
      await until(() => !session.controller.state().backend.deciding);
      expect(session.controller.state().backend.name).toBe("cpu");
      expect(session.controller.state().backend.reason).toMatch(/WebGPU/);
    } finally {
      close();
    }
  });

  it("starts the plots over when a finished run is run again", async () => {
    const { log, session, close } = start(thermometer(4));
    try {
      await until(() => session.value("loss") !== undefined);
      session.controller.run();
      await until(() => session.train().status === "done" && log.loss.length === 4);
      const first = session.lastRecord();
      session.controller.run();
      await until(() => session.lastRecord() !== undefined && session.lastRecord() !== first);
      await until(() => session.train().status === "done" && session.lastRecord()?.epoch === 3);
      expect(Array.from(log.loss.xView())).toEqual([0, 1, 2, 3]);
    } finally {
      close();
    }
  });
});

describe("plot history across a reload", () => {
  beforeEach(() => localStorage.clear());

  const records = (n: number): EpochRecord[] =>
    Array.from({ length: n }, (_, k) => ({
      epoch: k,
      loss: k === n - 1 ? Number.POSITIVE_INFINITY : 1 / (k + 1),
      params: { w: [k], "m.weight": [1, 2, 3, 4, 5, 6, 7, 8].map((v) => v * k) },
      grads: { w: [-k], "m.weight": [0, 0, 0, 0, 0, 0, 0, 0] },
    }));

  it("restores the same graph's history (wherever its nodes sit), not another graph's", () => {
    const doc = thermometer(10);
    createRoot((dispose) => {
      const log = createTrainingLog();
      log.append(toColumns(records(10)));
      saveHistory(doc.state, log);
      const again = createTrainingLog();
      const moved = new GraphDocument(doc.state);
      moved.moveNodes({ m: { x: 500, y: 300 } });
      const restored = loadHistory(moved.state);
      expect(restored).toBeDefined();
      again.append(restored ? [restored] : []);
      expect(Array.from(again.loss.xView())).toEqual(Array.from(log.loss.xView()));
      expect(Array.from(again.loss.view("loss")).slice(0, 9)).toEqual(
        Array.from(log.loss.view("loss")).slice(0, 9),
      );
      // The diverged last loss comes back as a gap, not as 0.
      expect(Number.isNaN(again.loss.view("loss")[9])).toBe(true);
      expect(again.series().map((s) => s.name)).toEqual(log.series().map((s) => s.name));
      expect(again.truncated()).toEqual(["m.weight"]);
      expect(Array.from(again.params.view("m.weight[5]"))).toEqual(
        Array.from(log.params.view("m.weight[5]")),
      );
      moved.setParam("opt", "lr", 0.5);
      expect(loadHistory(moved.state)).toBeUndefined();
      dispose();
    });
  });

  it("thins a long history to fit the cap, keeping the last epoch", () => {
    const doc = thermometer(5000);
    createRoot((dispose) => {
      const log = createTrainingLog();
      log.append(toColumns(records(5000)));
      saveHistory(doc.state, log, 20_000);
      expect((localStorage.getItem(HISTORY_KEY) ?? "").length).toBeLessThanOrEqual(20_000);
      const back = loadHistory(doc.state)?.epoch ?? [];
      expect(back.length).toBeGreaterThan(10);
      expect(back.length).toBeLessThan(5000);
      expect(back[back.length - 1]).toBe(4999);
      log.clear();
      saveHistory(doc.state, log);
      expect(localStorage.getItem(HISTORY_KEY)).toBeNull();
      dispose();
    });
  });
});
