// The worker protocol, end to end over a real MessageChannel (structured cloning and transfers included).
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { toRecords } from "../../src/engine/record-columns.ts";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { type EpochRecord, Trainer, type TrainState } from "../../src/engine/train.ts";
import { SchedulerClient, type WorkerLike } from "../../src/engine/worker-client.ts";
import type { FromWorker } from "../../src/engine/worker-protocol.ts";
import { serveScheduler, type WorkerPort } from "../../src/engine/worker-serve.ts";
import { GraphDocument } from "../../src/graph/document.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import type { GraphDoc } from "../../src/graph/types.ts";
import { provideCsv } from "../../src/nodes/index.ts";
import { fixture } from "./helpers.ts";

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

function connect() {
  const channel = new MessageChannel();
  const port2 = channel.port2 as unknown as WorkerPort;
  /** Every message the worker posted, with its transfer list, as the worker held it after posting. */
  const posted: { message: FromWorker; transfer: Transferable[] }[] = [];
  const server = serveScheduler({
    postMessage(message, transfer = []) {
      port2.postMessage(message, transfer);
      posted.push({ message, transfer });
    },
    set onmessage(h) {
      port2.onmessage = h;
    },
    get onmessage() {
      return port2.onmessage;
    },
  });
  const client = new SchedulerClient(channel.port1 as unknown as WorkerLike);
  const seen: FromWorker[] = [];
  for (const t of ["ready", "validation", "values", "grads", "records", "state", "error"] as const)
    client.on(t, (m) => seen.push(m));
  cleanup.push(() => {
    server.dispose();
    channel.port1.close();
    channel.port2.close();
  });
  return { client, seen, posted };
}

function example(name: string): GraphDoc {
  const r = parseGraphFile(readFileSync(new URL(`../../examples/${name}`, import.meta.url), "utf8"));
  if (!r.ok) throw new Error(`${name} does not parse`);
  return r.doc;
}

/** The records a Trainer on the page's own thread makes of `doc` (the reference for what the worker streams). */
async function trainedHere(doc: GraphDoc, epochs?: number): Promise<EpochRecord[]> {
  const scheduler = new Scheduler();
  scheduler.setGraph(doc);
  const trainer = new Trainer(scheduler);
  const records: EpochRecord[] = [];
  trainer.onRecords((rs) => records.push(...rs));
  await trainer.run({ epochs });
  return records;
}

/** Run `doc` in the worker until the run ends: the records it streamed, and its final state. */
async function trainedInWorker(client: SchedulerClient, doc: GraphDoc, epochs?: number) {
  client.connect(new GraphDocument(doc));
  await next(client, "grads");
  const records: EpochRecord[] = [];
  client.on("records", (m) => records.push(...toRecords(m.batches)));
  const end = next(client, "state", (m) => ["done", "error", "stopped"].includes(m.state.status));
  client.run(epochs);
  return { records, state: (await end).state };
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
      records.push(...toRecords(m.batches));
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

  it("streams records as transferred Float64Array columns holding exactly what the trainer made", async () => {
    // A DataLoader (each batch's loss), validation (val_loss, val_accuracy), a OneCycleLR schedule (lr) and a
    // 2-16-2 MLP (parameter series of 32 elements): every column the records have.
    const doc = example("65-moons-onecycle.json");
    const { client, posted } = connect();
    const { records, state } = await trainedInWorker(client, doc, 4);
    expect(state.status).toBe("done");
    const want = await trainedHere(doc, 4);
    expect(want[0]).toMatchObject({ valLoss: expect.any(Number), lr: expect.any(Number) });
    expect(Object.keys(want[0].metrics ?? {})).toEqual(["val_accuracy"]);
    expect(want[0].steps?.length).toBe(10);
    expect(want[0].params["hidden.weight"]).toHaveLength(32);
    expect(records).toEqual(want);
    const sent = posted.filter((p) => p.message.type === "records");
    expect(sent.length).toBeGreaterThan(0);
    for (const { message, transfer } of sent) {
      if (message.type !== "records") continue;
      for (const b of message.batches) {
        const columns = [b.epoch, b.loss, b.steps, b.valLoss, b.lr, ...Object.values(b.params)];
        for (const c of [...columns, ...Object.values(b.grads), ...Object.values(b.metrics ?? {})]) {
          expect(c).toBeInstanceOf(Float64Array);
          // Moved to the page, not copied: the worker's copy is detached.
          expect(transfer).toContain(c?.buffer);
          expect(c?.byteLength).toBe(0);
        }
      }
    }
  });

  it("streams a diverging run's infinite parameters as the trainer made them", async () => {
    const doc = new GraphDocument(fixture("thermometer.graph.json"));
    doc.setParam("opt", "lr", 1e38);
    const { client } = connect();
    const { records, state } = await trainedInWorker(client, doc.state);
    expect(state.status).toBe("error");
    expect(state.message).toMatch(/became (inf|nan) after the step/);
    const want = await trainedHere(doc.state);
    const last = want[want.length - 1].params["model.weight"].concat(
      want[want.length - 1].params["model.bias"],
    );
    expect(last.some((v) => !Number.isFinite(v))).toBe(true);
    expect(records).toEqual(want);
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
    expect(toRecords((await stepped).batches).map((r) => r.epoch)).toEqual([p.epoch]);
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
