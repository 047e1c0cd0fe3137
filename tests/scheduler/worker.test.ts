// The worker protocol, end to end over a real MessageChannel (structured cloning and transfers included).
import { afterEach, describe, expect, it } from "vitest";
import type { EpochRecord, TrainState } from "../../src/engine/train.ts";
import { SchedulerClient, type WorkerLike } from "../../src/engine/worker-client.ts";
import type { FromWorker } from "../../src/engine/worker-protocol.ts";
import { serveScheduler, type WorkerPort } from "../../src/engine/worker-serve.ts";
import { GraphDocument } from "../../src/graph/document.ts";
import { provideCsv } from "../../src/nodes/index.ts";
import { fixture } from "./helpers.ts";

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

function connect() {
  const channel = new MessageChannel();
  const server = serveScheduler(channel.port2 as unknown as WorkerPort);
  const client = new SchedulerClient(channel.port1 as unknown as WorkerLike);
  const seen: FromWorker[] = [];
  for (const t of ["ready", "validation", "values", "grads", "records", "state", "error"] as const)
    client.on(t, (m) => seen.push(m));
  cleanup.push(() => {
    server.dispose();
    channel.port1.close();
    channel.port2.close();
  });
  return { client, seen };
}

function next<T extends FromWorker["type"]>(
  client: SchedulerClient,
  type: T,
  pred: (m: Extract<FromWorker, { type: T }>) => boolean = () => true,
) {
  return new Promise<Extract<FromWorker, { type: T }>>((resolve) => {
    const off = client.on(type, (m) => {
      if (pred(m)) {
        off();
        resolve(m);
      }
    });
  });
}

describe("scheduler worker protocol", () => {
  it("validates, evaluates and sends gradients after a load, then only what changed after an edit", async () => {
    const { client } = connect();
    const doc = new GraphDocument(fixture("thermometer.graph.json"));
    const validation = next(client, "validation");
    const values = next(client, "values");
    const grads = next(client, "grads");
    client.connect(doc);
    expect((await validation).ok).toBe(true);
    expect((await validation).metas.loss.out).toEqual({ shape: [], dtype: "float32" });
    const v = await values;
    expect(Object.keys(v.nodes).sort()).toEqual(["loss", "model", "opt", "t_c", "t_u"]);
    expect(v.nodes.loss.outputs.out.data[0]).toBeCloseTo(2.2775, 4);
    expect(v.nodes.t_u.outputs.out.data).toBeInstanceOf(Float32Array);
    const g = await grads;
    expect(g.objective).toBe("loss");
    expect(g.params["model.weight"].data[0]).toBeCloseTo(18.155, 3);
    expect(Object.keys(g.nodes)).toContain("model");

    const changed = next(client, "values");
    doc.setParam("opt", "lr", 0.02);
    doc.setParam("model", "bias", 0);
    const c = await changed;
    expect(Object.keys(c.nodes).sort()).toEqual(["loss", "model", "opt"]);
    expect(c.nodes.loss.outputs.out.data[0]).toBeCloseTo(0.2942, 4);
  });

  it("streams batched records while training and reports the final state", async () => {
    const { client } = connect();
    const doc = new GraphDocument(fixture("thermometer.graph.json"));
    client.connect(doc);
    await next(client, "grads");
    const records: EpochRecord[] = [];
    let batches = 0;
    client.on("records", (m) => {
      records.push(...m.records);
      batches++;
    });
    const done = next(client, "state", (m) => m.state.status === "done");
    client.run();
    const final: TrainState = (await done).state;
    expect(final).toMatchObject({ epoch: 100, epochs: 100, backend: "cpu" });
    expect(records).toHaveLength(100);
    expect(batches).toBeLessThanOrEqual(100);
    expect(records[99].params["model.weight"][0]).toBeCloseTo(0.882, 4);
    // After the run, the values reflect the trained model.
    const after = await next(client, "values", (m) => "loss" in m.nodes);
    expect(after.nodes.loss.outputs.out.data[0]).toBeLessThan(records[0].loss);
  });

  it("pauses, steps, resets and falls back from webgpu with the reason", async () => {
    const { client } = connect();
    const doc = new GraphDocument(fixture("thermometer.graph.json"));
    doc.setSettings({ epochs: 1_000_000 });
    client.connect(doc);
    await next(client, "grads");
    client.setBackend("webgpu");
    const fallback = await next(client, "state", (m) => m.state.fallback !== undefined);
    expect(fallback.state.fallback).toMatch(/WebGPU/);
    const running = next(client, "records");
    client.run();
    await running;
    const paused = next(client, "state", (m) => m.state.status === "paused");
    client.pause();
    const p = (await paused).state;
    expect(p.epoch).toBeGreaterThan(0);
    expect(p.epoch).toBeLessThan(1_000_000);
    const stepped = next(client, "records");
    client.step();
    expect((await stepped).records.map((r) => r.epoch)).toEqual([p.epoch]);
    const reset = next(client, "state", (m) => m.state.status === "idle");
    client.reset();
    expect((await reset).state.epoch).toBe(0);
  });

  it("answers a bad message with an error, not a crash", async () => {
    const { client, seen } = connect();
    const err = next(client, "error");
    (client as unknown as { send(m: unknown): void }).send({ type: "patches", patches: [] });
    expect((await err).message).toBe("patches arrived before a graph was loaded");
    expect(seen.some((m) => m.type === "ready")).toBe(true);
  });

  it("a graph without an objective gets an empty gradients message, so the page drops the last graph's", async () => {
    const { client } = connect();
    const first = next(client, "grads");
    client.connect(new GraphDocument(fixture("thermometer.graph.json")));
    expect(Object.keys((await first).nodes).length).toBeGreaterThan(0);
    const doc = new GraphDocument(fixture("thermometer.graph.json"));
    doc.removeNodes(["opt"]);
    const second = next(client, "grads");
    client.load(doc.state);
    const g = await second;
    expect(g.objective).toBeNull();
    expect(g.nodes).toEqual({});
    expect(g.params).toEqual({});
  });
});

describe("CSV files and the worker", () => {
  it("a file provided on the page after the graph is loaded reaches the worker, which validates again", async () => {
    const { client } = connect();
    const doc = new GraphDocument();
    doc.addNode({ id: "data", type: "csv", params: { path: "late-worker-test.csv" } });
    const first = next(client, "validation");
    client.connect(doc);
    expect((await first).ok).toBe(false);
    const again = next(client, "validation", (m) => m.ok);
    provideCsv(["late-worker-test.csv"], "a,b\n1,2\n3,4\n");
    expect((await again).metas.data.X).toEqual({ shape: [2, 1], dtype: "float32" });
  });
});
