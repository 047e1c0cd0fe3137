// @vitest-environment happy-dom
/**
 * The insight views' parts in happy-dom: run legends show what differs, runs export and save within a cap,
 * the confusion matrix and contour lines are right, the store asks the real scheduler (over a MessageChannel)
 * for the landscape and keeps the path, and the dock renders the views behind its tabs.
 */

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { render } from "@solidjs/testing-library";
import { createRoot, createSignal } from "solid-js";
import { afterEach, describe, expect, it } from "vitest";
import { toColumns } from "../../src/engine/record-columns.ts";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { type EpochRecord, Trainer } from "../../src/engine/train.ts";
import { SchedulerClient, type WorkerLike } from "../../src/engine/worker-client.ts";
import type { TensorSnapshot } from "../../src/engine/worker-protocol.ts";
import { serveScheduler, type WorkerPort } from "../../src/engine/worker-serve.ts";
import { GraphDocument } from "../../src/graph/document.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import { registry } from "../../src/nodes/index.ts";
import { confusion } from "../../src/ui/insight/colormap.ts";
import { contourSegments, histogramGrid } from "../../src/ui/insight/fields.ts";
import { RunHistory } from "../../src/ui/insight/history.ts";
import { InsightDock } from "../../src/ui/insight/InsightDock.tsx";
import {
  createRunStore,
  legendLabels,
  type Run,
  runCsv,
  runJson,
  SAVE_CAP,
  settingsOf,
} from "../../src/ui/insight/runs.ts";
import { createInsight, pacer } from "../../src/ui/insight/store.ts";

function example(name: string) {
  const r = parseGraphFile(readFileSync(resolve(import.meta.dirname, "../../examples", name), "utf8"));
  if (!r.ok) throw new Error("example does not parse");
  return r.doc;
}

const isOptimizer = (t: string) => registry.get(t)?.optimizer !== undefined;

function run(id: number, settings: Record<string, string>, losses: number[], title = "Thermometer"): Run {
  const history = new RunHistory();
  for (const b of toColumns(
    losses.map((loss, epoch) => ({
      epoch,
      loss,
      params: { params: [1 - epoch / 10, 1] },
      grads: { params: [0.5, 0.25] },
    })),
  ))
    history.append(b);
  return { id, title, settings, startedAt: "", history };
}

/** localStorage's two methods over a Map. */
function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), m };
}

describe("runs", () => {
  it("labels overlaid runs by the settings that differ: SGD lr 0.01 beside Adam lr 0.1", () => {
    const doc = example("13-thermometer-training.json");
    const sgd = settingsOf(doc, isOptimizer, "cpu");
    expect(sgd).toMatchObject({ optimizer: "SGD", lr: "0.01", epochs: "100", backend: "cpu" });
    const adam = { ...sgd, optimizer: "Adam", lr: "0.1" };
    expect(legendLabels([run(1, sgd, [1]), run(2, adam, [1])])).toEqual(["SGD lr 0.01", "Adam lr 0.1"]);
    expect(legendLabels([run(1, sgd, [1]), run(2, sgd, [1])])).toEqual(["run 1", "run 2"]);
    expect(legendLabels([run(1, sgd, [1]), run(2, adam, [1], "A two-class MLP: inside or outside")])).toEqual(
      ["SGD lr 0.01 · Thermometer", "Adam lr 0.1 · A two-class MLP: insi…"],
    );
    expect(
      settingsOf(
        { ...doc, nodes: { ...doc.nodes, SGD: { ...doc.nodes.SGD, params: { lr: 1e-4 } } } },
        isOptimizer,
        "cpu",
      ).lr,
    ).toBe("1e-4");
  });

  it("exports a run's history as CSV (epoch, loss, each parameter element) and JSON", () => {
    const r = run(3, { optimizer: "SGD" }, [2.5, 1.25]);
    expect(runCsv(r).split("\r\n")).toEqual([
      "epoch,loss,params[0],params[1]",
      "0,2.5,1,1",
      "1,1.25,0.8999999761581421,1",
    ]);
    const j = JSON.parse(runJson(r));
    expect(j).toMatchObject({
      format: "gradwire.run",
      settings: { optimizer: "SGD" },
      epochs: [0, 1],
      loss: [2.5, 1.25],
    });
    expect(j.snapshots[1].grads.params).toEqual([0.5, 0.25]);
  });

  it("saves runs within the size cap, newest kept, and loads them back", () => {
    const storage = memoryStorage();
    const store = createRoot(() => createRunStore(storage));
    for (let k = 0; k < 12; k++) {
      store.start(`graph ${k}`, { optimizer: "SGD", lr: String(k) });
      store.append(
        toColumns(
          Array.from({ length: 3000 }, (_, e) => ({ epoch: e, loss: 1 / (e + 1), params: {}, grads: {} })),
        ),
      );
      store.end();
    }
    const saved = storage.m.get("gradwire.runs")!;
    expect(saved.length).toBeLessThanOrEqual(SAVE_CAP);
    const again = createRoot(() => createRunStore(storage));
    const titles = again.runs().map((r) => r.title);
    expect(titles.length).toBeGreaterThan(1);
    expect(titles.length).toBeLessThan(12);
    expect(titles.at(-1)).toBe("graph 11");
    // Thinned to at most 2000 points, ends kept.
    const last = again.runs().at(-1)!.history;
    expect(last.epochs.length).toBeLessThanOrEqual(2001);
    expect(last.epochs.at(-1)).toBe(2999);
  });
});

describe("fields", () => {
  it("counts a confusion matrix from probabilities, rows by target", () => {
    const m = confusion([0, 1, 1, 0], [0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7], 2);
    expect(m.counts).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(confusion([1, 0], [0.7, 0.2], 1)).toMatchObject({ correct: 2, total: 2 });
  });

  it("draws a contour where the grid crosses the level", () => {
    // v = x on a 2×2 grid from 0 to 1: the 0.25 level is the vertical line x = 0.25.
    const segs = contourSegments([0, 1, 0, 1], [0, 1], [0, 1], 0.25);
    expect(segs).toEqual([0.25, 0, 0.25, 1]);
  });

  it("bins each epoch's values into a column of fractions", () => {
    const g = histogramGrid(
      [
        { epoch: 0, values: [0, 0, 1, 1] },
        { epoch: 1, values: [0, 1, 1, 1] },
      ],
      2,
    )!;
    expect([g.lo, g.hi, g.columns]).toEqual([0, 1, 2]);
    expect(Array.from(g.values)).toEqual([0.5, 0.25, 0.5, 0.75]);
  });
});

describe("pacer", () => {
  it("keeps one request in flight and serves a request made meanwhile after the answer", () => {
    let sent = 0;
    let t = 0;
    const p = pacer(
      () => sent++,
      0,
      () => t,
    );
    p.request();
    p.request();
    p.request();
    expect(sent).toBe(1);
    t = 10;
    p.done();
    expect(sent).toBe(2);
    p.done();
    expect(sent).toBe(2);
  });
});

describe("the insight store and dock over the real scheduler", () => {
  let cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanup) c();
    cleanup = [];
    localStorage.clear();
  });

  function connect(file: string) {
    const channel = new MessageChannel();
    const server = serveScheduler(channel.port2 as unknown as WorkerPort);
    const client = new SchedulerClient(channel.port1 as unknown as WorkerLike);
    const doc = new GraphDocument(example(file));
    client.connect(doc);
    // The gradients message, as the session keeps it: a signal.
    const [grads, setGrads] = createSignal<Record<string, TensorSnapshot>>({});
    client.on("grads", (m) => setGrads(m.params));
    const { insight, dispose } = createRoot((d) => ({
      insight: createInsight({
        client,
        doc: () => doc.state,
        train: () => ({ status: "idle", epoch: 0, epochs: 100, backend: "cpu", requested: "cpu" }),
        grads: () => ({ params: grads() }),
        isOptimizer,
        runs: createRunStore(undefined),
      }),
      dispose: d,
    }));
    cleanup.push(() => {
      insight.dispose();
      dispose();
      server.dispose();
      channel.port1.close();
      channel.port2.close();
    });
    return { client, insight, ready: new Promise((r) => client.on("grads", r)) };
  }

  const until = async (f: () => boolean, ms = 10_000) => {
    const t0 = Date.now();
    while (!f()) {
      if (Date.now() - t0 > ms) throw new Error("timed out");
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it("asks for the thermometer's landscape around where it starts, and follows SGD's path as it trains", async () => {
    const { client, insight, ready } = connect("13-thermometer-training.json");
    await ready;
    insight.open("landscape");
    await until(() => insight.landscape() !== undefined);
    expect(insight.chosen()).toEqual({ a: { param: "params", index: 0 }, b: { param: "params", index: 1 } });
    expect(insight.path()).toEqual({ x: [1], y: [1] });
    const l = insight.landscape()!;
    expect(l.xs).toHaveLength(128);
    expect(l.others).toBe(false);
    client.run();
    await until(() => insight.lastRecord()?.epoch === 99);
    const p = insight.path();
    expect(p.x).toHaveLength(101);
    expect(p.x[100]).toBeCloseTo(0.882, 4);
    expect(p.y[100]).toBeCloseTo(0.4269, 4);
    expect(insight.runs.runs()).toHaveLength(1);
    expect(insight.runs.runs()[0].history.length).toBe(100);
    // The run's history holds what the trainer made, read from the worker's columns: the same run on this
    // thread is the reference (snapshots keep float32).
    const scheduler = new Scheduler();
    scheduler.setGraph(example("13-thermometer-training.json"));
    const trainer = new Trainer(scheduler);
    const want: EpochRecord[] = [];
    trainer.onRecords((rs) => want.push(...rs));
    await trainer.run();
    const h = insight.runs.runs()[0].history;
    expect(h.epochs).toEqual(want.map((r) => r.epoch));
    expect(h.losses).toEqual(want.map((r) => r.loss));
    const f32 = (v: number[]) => Array.from(Float32Array.from(v));
    expect(h.snapshots.map((s) => Array.from(s.params.params))).toEqual(
      want.map((r) => f32(r.params.params)),
    );
    expect(h.snapshots.map((s) => Array.from(s.grads.params))).toEqual(want.map((r) => f32(r.grads.params)));
  });

  it("renders the boundary, confusion matrix and landscape views behind the dock's tabs", async () => {
    const mlp = connect("51-mlp-two-class-adam.json");
    await mlp.ready;
    const r = render(() => <InsightDock insight={mlp.insight} />);
    expect(r.queryByTestId("plot-boundary")).toBeNull();
    r.getByTestId("insight-model").click();
    expect(mlp.insight.tab()).toBe("model");
    await until(() => mlp.insight.boundary() !== undefined);
    expect(r.getByTestId("plot-boundary")).toBeTruthy();
    await until(() => r.queryByTestId("plot-confusion") !== null);
    expect(r.getByTestId("plot-confusion").textContent).toMatch(/accuracy 0\.4766 \(122 of 256\)/);
    r.getByTestId("insight-model").click();
    expect(mlp.insight.tab()).toBeNull();
    expect(r.queryByTestId("plot-boundary")).toBeNull();
    r.unmount();
    // The thermometer's landscape: two coordinates to choose from, the current point in the header.
    const t = connect("13-thermometer-training.json");
    await t.ready;
    const r2 = render(() => <InsightDock insight={t.insight} />);
    r2.getByTestId("insight-landscape").click();
    expect(r2.getByTestId("plot-landscape")).toBeTruthy();
    await until(() => r2.getByTestId("landscape-current").textContent !== "");
    expect(r2.getByTestId("landscape-current").textContent).toBe("params[0] 1.0000, params[1] 1.0000");
    const x = r2.getByTestId("landscape-x") as HTMLSelectElement;
    expect([...x.options].map((o) => o.textContent)).toEqual(["params[0]", "params[1]"]);
  });
});
