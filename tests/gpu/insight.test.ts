// The insight views on a WebGPU run (Dawn on SwiftShader): the landscape's path is the records' parameters,
// so SGD's path on the thermometer starts at [1, 1] and reaches [0.8820, 0.4269] as on the CPU, and the
// landscape around it is evaluated at the GPU run's parameters (the CPU leaves are only synced now and then).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  lossLandscape,
  lossLandscapeOn,
  lossSlices,
  lossSlicesOn,
  span,
} from "../../src/engine/landscape.ts";
import { toRecords } from "../../src/engine/record-columns.ts";
import { registerBackend } from "../../src/engine/scheduler-backend.ts";
import type { EpochRecord, TrainState } from "../../src/engine/train.ts";
import { SchedulerClient, type WorkerLike } from "../../src/engine/worker-client.ts";
import type { FromWorker } from "../../src/engine/worker-protocol.ts";
import { serveScheduler, type WorkerPort } from "../../src/engine/worker-serve.ts";
import { webgpuBackend } from "../../src/gpu/backend.ts";
import { acquireDevice, type GpuDevice } from "../../src/gpu/device.ts";
import { GraphDocument } from "../../src/graph/document.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import { example, scheduler } from "../insight/helpers.ts";

let device: GpuDevice | null = null;
beforeAll(() => {
  registerBackend("webgpu", async () => {
    if (!device || device.isLost) device = await acquireDevice();
    return webgpuBackend(device);
  });
});
afterAll(() => device?.destroy());

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

describe("insight on a WebGPU run", () => {
  it("follows SGD on the thermometer to [0.8820, 0.4269] and evaluates the landscape there", async () => {
    const text = readFileSync(
      new URL("../../examples/13-thermometer-training.json", import.meta.url),
      "utf8",
    );
    const r = parseGraphFile(text);
    if (!r.ok) throw new Error("the example does not parse");
    const channel = new MessageChannel();
    const server = serveScheduler(channel.port2 as unknown as WorkerPort);
    const client = new SchedulerClient(channel.port1 as unknown as WorkerLike);
    try {
      client.connect(new GraphDocument(r.doc));
      await next(client, "grads");
      const chosen = next(client, "state", (m) => m.state.backend === "webgpu");
      client.setBackend("webgpu");
      expect((await chosen).state.fallback).toBeUndefined();
      const records: EpochRecord[] = [];
      client.on("records", (m) => records.push(...toRecords(m.batches)));
      const done = next(client, "state", (m) => m.state.status === "done");
      client.run();
      const final: TrainState = (await done).state;
      expect(final.backend).toBe("webgpu");
      const end = records[99].params.params;
      expect(end[0]).toBeCloseTo(0.882, 4);
      expect(end[1]).toBeCloseTo(0.4269, 4);
      const reply = next(client, "landscape", (m) => m.id === 1);
      client.landscape(1, { param: "params", index: 0 }, { param: "params", index: 1 }, [end[0]], [end[1]]);
      const l = await reply;
      expect(l.start).toEqual({ params: [1, 1] });
      // The loss at the path's end: the record's loss is the loss before its step, so it is a little higher.
      expect(l.loss![0]).toBeLessThan(records[99].loss);
      expect(l.loss![0]).toBeCloseTo(records[99].loss, 2);
      const line = next(client, "boundary", (m) => m.id === 2);
      client.boundary(2, 3);
      const b = (await line).result!;
      expect(b.grid[0]).toBeCloseTo(end[0] * b.extent[0] + end[1], 4);
    } finally {
      server.dispose();
      channel.port1.close();
      channel.port2.close();
    }
  });
});

describe("the loss landscape as one batched program on WebGPU", () => {
  it("equals the CPU's point-by-point grid on the thermometer and the MLP, and its slices", async () => {
    if (!device || device.isLost) device = await acquireDevice();
    const gpu = webgpuBackend(device);
    const thermo = scheduler(example("13-thermometer-training.json"));
    const req = {
      a: { param: "params", index: 0 },
      b: { param: "params", index: 1 },
      xs: span(0.6, 1.2, 33),
      ys: span(-0.5, 1.5, 17),
    };
    const onGpu = await lossLandscapeOn(gpu, thermo, { ...req, mode: "batched" });
    const cpu = lossLandscape(thermo, { ...req, mode: "pointwise" });
    cpu.forEach((v, k) => {
      expect(Math.abs(onGpu[k] - v)).toBeLessThanOrEqual(1e-5 * Math.abs(v));
    });
    const mlp = scheduler(example("51-mlp-two-class-adam.json"));
    const W1 = mlp.value("W1")!.data;
    const mreq = {
      a: { param: "W1", index: 0 },
      b: { param: "W1", index: 3 },
      xs: span(W1[0] - 2, W1[0] + 2, 9),
      ys: span(W1[3] - 2, W1[3] + 2, 7),
    };
    const mGpu = await lossLandscapeOn(gpu, mlp, { ...mreq, mode: "batched" });
    lossLandscape(mlp, { ...mreq, mode: "pointwise" }).forEach((v, k) => {
      expect(mGpu[k]).toBeCloseTo(v, 5);
    });
    const alphas = [-1, 0, 0.5, 1];
    const sGpu = await lossSlicesOn(gpu, mlp, { alphas, mode: "batched" });
    lossSlices(mlp, { alphas, mode: "pointwise" }).forEach((sl, k) => {
      expect(sGpu[k].label).toBe(sl.label);
      sl.losses.forEach((v, i) => {
        expect(sGpu[k].losses[i]).toBeCloseTo(v, 5);
      });
    });
  });

  it("evaluates a float64 graph on the CPU instead (WebGPU computes in float32)", async () => {
    if (!device || device.isLost) device = await acquireDevice();
    const doc = new GraphDocument(example("13-thermometer-training.json"));
    for (const id of ["t_u", "t_c", "params"]) doc.setParam(id, "dtype", "float64");
    const s = scheduler(doc.state);
    const req = {
      a: { param: "params", index: 0 },
      b: { param: "params", index: 1 },
      xs: [0.5, 1],
      ys: [0, 2],
    };
    await expect(lossLandscapeOn(webgpuBackend(device), s, { ...req, mode: "batched" })).rejects.toThrow(
      /float32/,
    );
    const auto = await lossLandscapeOn(webgpuBackend(device), s, req);
    expect(Array.from(auto)).toEqual(Array.from(lossLandscape(s, { ...req, mode: "pointwise" })));
  });
});
