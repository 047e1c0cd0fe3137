// Mini-batches asked of WebGPU (Dawn on SwiftShader here): the WebGPU session folds the data into its compiled
// program, so it cannot take a new batch per step; training runs on the CPU instead, says why, and gives the
// CPU's numbers. Auto picks the CPU without measuring.
import { afterAll, describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { registerBackend } from "../../src/engine/scheduler-backend.ts";
import { type EpochRecord, Trainer } from "../../src/engine/train.ts";
import { webgpuBackend } from "../../src/gpu/backend.ts";
import { acquireDevice, type GpuDevice } from "../../src/gpu/device.ts";
import { loadGraph } from "../../src/graph/format.ts";
import { miniBatchGraph } from "./graphs.ts";

let device: GpuDevice | undefined;
registerBackend("webgpu", async () => {
  device ??= await acquireDevice();
  return webgpuBackend(device);
});
afterAll(() => device?.destroy());

async function train(backend: "cpu" | "webgpu" | "auto") {
  const loaded = loadGraph(
    miniBatchGraph({
      task: "classify",
      dtype: "float32",
      batchSize: 16,
      shuffle: true,
      dropLast: false,
      seed: 2,
      epochs: 2,
      validation: true,
    }),
  );
  if (!loaded.ok) throw new Error("does not load");
  const s = new Scheduler();
  s.setGraph(loaded.doc);
  const t = new Trainer(s, { backend });
  if (backend === "webgpu") await t.setBackend("webgpu");
  const records: EpochRecord[] = [];
  t.onRecords((rs) => records.push(...rs));
  await t.run();
  return { state: t.state, records };
}

describe("mini-batches asked of WebGPU", () => {
  it("train on the CPU with the CPU's numbers, and say why", async () => {
    const cpu = await train("cpu");
    const gpu = await train("webgpu");
    expect(gpu.state.status).toBe("done");
    expect(gpu.state.backend).toBe("cpu");
    expect(gpu.state.fallback).toMatch(/mini-batches \(DataLoader 'loader'\) train on the CPU/);
    expect(gpu.records.map((r) => [r.loss, r.valLoss, r.steps])).toEqual(
      cpu.records.map((r) => [r.loss, r.valLoss, r.steps]),
    );
    const auto = await train("auto");
    expect(auto.state.backend).toBe("cpu");
    expect(auto.state.reason).toMatch(/mini-batches/);
    expect(auto.records.map((r) => r.loss)).toEqual(cpu.records.map((r) => r.loss));
  });
});
