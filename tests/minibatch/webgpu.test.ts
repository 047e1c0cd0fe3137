// Mini-batches on WebGPU (Dawn on SwiftShader here): each batch is written into the compiled program's input
// buffers before its step (class indices reach nll_loss as a mask and weights the host derives per step), a
// shorter last batch gets a second program, and validation runs on the CPU on the synced parameters. The
// trajectory equals the CPU's within float32 rounding (the CPU's equals torch's; WebGPU's against torch
// through the export is in train.test.ts).
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { registerBackend } from "../../src/engine/scheduler-backend.ts";
import { type EpochRecord, Trainer } from "../../src/engine/train.ts";
import { webgpuBackend } from "../../src/gpu/backend.ts";
import { acquireDevice, type GpuDevice } from "../../src/gpu/device.ts";
import { loadGraph, parseGraphFile } from "../../src/graph/format.ts";
import { type MiniBatchGraph, miniBatchGraph } from "./graphs.ts";

let device: GpuDevice | undefined;
registerBackend("webgpu", async () => {
  device ??= await acquireDevice();
  return webgpuBackend(device);
});
afterAll(() => device?.destroy());

const base: MiniBatchGraph = {
  task: "regress",
  dtype: "float32",
  batchSize: 16,
  shuffle: true,
  dropLast: false,
  seed: 2,
  epochs: 3,
  validation: true,
};

function trainer(g: MiniBatchGraph, backend: "cpu" | "webgpu" | "auto") {
  const loaded = loadGraph(miniBatchGraph(g));
  if (!loaded.ok) throw new Error("does not load");
  const s = new Scheduler();
  s.setGraph(loaded.doc);
  return new Trainer(s, { backend });
}

async function train(g: MiniBatchGraph, backend: "cpu" | "webgpu" | "auto") {
  const t = trainer(g, backend);
  if (backend === "webgpu") await t.setBackend("webgpu");
  const records: EpochRecord[] = [];
  t.onRecords((rs) => records.push(...rs));
  await t.run();
  return { state: t.state, records };
}

function expectClose(a: EpochRecord[], b: EpochRecord[]): void {
  expect(a.length).toBe(b.length);
  const close = (x: number, y: number) =>
    expect(Math.abs(x - y)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(y)));
  a.forEach((r, i) => {
    close(r.loss, b[i].loss);
    expect(r.steps?.length).toBe(b[i].steps?.length);
    for (const [k, s] of (r.steps ?? []).entries()) close(s, b[i].steps![k]);
    close(r.valLoss!, b[i].valLoss!);
    for (const [name, v] of Object.entries(b[i].metrics ?? {})) close(r.metrics![name], v);
    for (const [id, v] of Object.entries(b[i].params))
      for (const [k, x] of v.entries()) close(r.params[id][k], x);
  });
}

/** Train `g` on the CPU and on WebGPU; the WebGPU run must stay there and follow the CPU's. */
async function trainBoth(g: MiniBatchGraph) {
  const cpu = await train(g, "cpu");
  const gpu = await train(g, "webgpu");
  expect(gpu.state.message).toBeUndefined();
  expect(gpu.state.status).toBe("done");
  expect(gpu.state.backend).toBe("webgpu");
  expect(gpu.state.fallback).toBeUndefined();
  expectClose(gpu.records, cpu.records);
  return cpu;
}

describe("mini-batches on WebGPU", () => {
  for (const dropLast of [false, true])
    it(`follow the CPU's trajectory (shuffle, validation, drop_last ${dropLast})`, async () => {
      const g = { ...base, dropLast };
      const cpu = await trainBoth(g);
      // 56 training samples in batches of 16: a last batch of 8 unless dropped.
      expect(cpu.records[0].steps).toHaveLength(dropLast ? 3 : 4);
      expect(cpu.records[0].metrics?.val_mse).toBeGreaterThan(0);
    });

  it("keep the shuffle order across a switch to the CPU mid-run", async () => {
    const whole = await train({ ...base, epochs: 4 }, "cpu");
    const t = trainer({ ...base, epochs: 4 }, "webgpu");
    await t.setBackend("webgpu");
    const records: EpochRecord[] = [];
    t.onRecords((rs) => records.push(...rs));
    await t.step();
    await t.step();
    expect(t.state.backend).toBe("webgpu");
    await t.setBackend("cpu");
    await t.run();
    expect(t.state.backend).toBe("cpu");
    expectClose(records, whole.records);
  });

  it("are measured by auto, which trains on the faster backend with the same numbers", async () => {
    const cpu = await train(base, "cpu");
    const auto = await train(base, "auto");
    expect(auto.state.status).toBe("done");
    expect(auto.state.reason).toMatch(/^(CPU|WebGPU): /);
    expect(auto.state.reason).not.toMatch(/mini-batches/);
    expectClose(auto.records, cpu.records);
  });

  for (const modules of [false, true])
    it(`take class-index targets per step (cross_entropy${modules ? ", Dropout and BatchNorm1d" : ""})`, async () => {
      const g: MiniBatchGraph = { ...base, task: "classify", modules };
      const cpu = await trainBoth(g);
      expect(cpu.records[0].metrics?.val_accuracy).toBeGreaterThan(0);
    });

  it("refuse float64 data when the batch comes, before the loader's order advances", async () => {
    const g: MiniBatchGraph = { ...base, dtype: "float64" };
    const cpu = await train(g, "cpu");
    const gpu = await train(g, "webgpu");
    expect(gpu.state.backend).toBe("cpu");
    expect(gpu.state.fallback).toMatch(/float64/);
    expect(gpu.records.map((r) => [r.loss, r.valLoss, r.steps])).toEqual(
      cpu.records.map((r) => [r.loss, r.valLoss, r.steps]),
    );
  });
});

describe("the digits CNN (example 64) on WebGPU", () => {
  it("follows the CPU's epochs and passes 95% validation accuracy by the fifth epoch", async () => {
    const file = new URL("../../examples/64-digits-cnn.json", import.meta.url);
    const run = async (backend: "cpu" | "webgpu") => {
      const parsed = parseGraphFile(readFileSync(file, "utf8"));
      if (!parsed.ok) throw new Error("example 64 does not load");
      const s = new Scheduler();
      s.setGraph(parsed.doc);
      const t = new Trainer(s, { backend });
      if (backend === "webgpu") await t.setBackend("webgpu");
      const records: EpochRecord[] = [];
      t.onRecords((rs) => records.push(...rs));
      await t.run();
      return { state: t.state, records };
    };
    const cpu = await run("cpu");
    const gpu = await run("webgpu");
    expect(gpu.state.backend).toBe("webgpu");
    expect(gpu.state.fallback).toBeUndefined();
    // The two backends round differently inside the convolution's sums, and Adam carries those float32
    // differences on: over 230 steps the weights drift apart by up to 3e-4, the epoch losses by up to 3e-4
    // relative and the validation losses by up to 1.3e-3, so losses are compared to 5e-3 relative and the
    // accuracy to one image in 359.
    gpu.records.forEach((r, i) => {
      const c = cpu.records[i];
      expect(Math.abs(r.loss - c.loss)).toBeLessThanOrEqual(5e-3 * c.loss);
      expect(Math.abs(r.valLoss! - c.valLoss!)).toBeLessThanOrEqual(5e-3 * c.valLoss!);
      expect(Math.abs(r.metrics!.val_accuracy - c.metrics!.val_accuracy)).toBeLessThanOrEqual(1 / 359);
    });
    for (const r of [cpu, gpu]) {
      expect(r.records).toHaveLength(10);
      expect(r.records[4].metrics?.val_accuracy).toBeGreaterThanOrEqual(0.95);
      expect(r.records[9].metrics?.val_accuracy).toBeGreaterThanOrEqual(0.95);
    }
  });
});
