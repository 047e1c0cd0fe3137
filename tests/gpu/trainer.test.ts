// The WebGPU backend behind the scheduler's Trainer, on the example graphs: records match the CPU backend's,
// hyperparameter edits and pauses behave as on the CPU, and a device lost mid-run falls back to the CPU with
// the history and the optimizer's state intact.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { registerBackend } from "../../src/engine/scheduler-backend.ts";
import { type EpochRecord, Trainer } from "../../src/engine/train.ts";
import { webgpuBackend } from "../../src/gpu/backend.ts";
import { acquireDevice, type GpuDevice } from "../../src/gpu/device.ts";
import { GraphDocument } from "../../src/graph/document.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import type { GraphDoc } from "../../src/graph/types.ts";
import { mismatch } from "../helpers/torch.ts";
import { build, SQRT_AT_ZERO_MESSAGE, sqrtAtZero } from "../scheduler/helpers.ts";
import { paramTol } from "./harness.ts";

function example(name: string): GraphDoc {
  const r = parseGraphFile(readFileSync(new URL(`../../examples/${name}`, import.meta.url), "utf8"));
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join("\n"));
  return r.doc;
}

/** The device the "webgpu" backend uses in this file; a test may destroy it, and the next one gets another. */
let device: GpuDevice | null = null;
/** At most this many epochs per command buffer (two in flight): small in the device-loss test, so the loss
 * comes while epochs are left to run. */
let maxBatch = 256;
beforeAll(() => {
  registerBackend("webgpu", async () => {
    if (!device || device.isLost) device = await acquireDevice();
    return webgpuBackend(device, { maxBatch });
  });
});
afterAll(() => {
  device?.destroy();
});

function trainer(doc: GraphDoc | GraphDocument, backend: "cpu" | "webgpu") {
  const s = new Scheduler();
  const d = doc instanceof GraphDocument ? doc : new GraphDocument(doc);
  s.setGraph(d.state);
  d.subscribe((state) => s.setGraph(state));
  const t = new Trainer(s, { backend, yieldFn: async () => {} });
  const records: EpochRecord[] = [];
  t.onRecords((rs) => records.push(...rs));
  return { s, t, d, records };
}

const TRAJ = { rtol: 1e-4, atol: 1e-6 };

function expectSameRecords(gpu: EpochRecord[], cpu: EpochRecord[]): void {
  expect(gpu.map((r) => r.epoch)).toEqual(cpu.map((r) => r.epoch));
  expect(
    mismatch(
      gpu.map((r) => r.loss),
      cpu.map((r) => r.loss),
      TRAJ,
    ),
    "losses",
  ).toBeNull();
  const last = cpu.length - 1;
  for (const id of Object.keys(cpu[last].params))
    expect(
      mismatch(gpu[last].params[id], cpu[last].params[id], paramTol(cpu[last].params[id])),
      `param ${id}`,
    ).toBeNull();
}

describe("training through the Trainer on WebGPU", () => {
  it("the thermometer example: the tutorial's numbers, and the leaves hold the trained values", async () => {
    const gpu = trainer(example("13-thermometer-training.json"), "webgpu");
    await gpu.t.run();
    expect(gpu.t.state).toMatchObject({ status: "done", backend: "webgpu" });
    expect(gpu.t.state.fallback).toBeUndefined();
    expect(gpu.records).toHaveLength(100);
    expect(gpu.records[0].loss).toBeCloseTo(2.2775, 4);
    expect(gpu.records[0].grads.params[0]).toBeCloseTo(18.155, 3);
    expect(gpu.records[0].grads.params[1]).toBeCloseTo(2.9833, 4);
    expect(gpu.records[99].params.params[0]).toBeCloseTo(0.882, 4);
    expect(gpu.records[99].params.params[1]).toBeCloseTo(0.4269, 4);
    const cpu = trainer(example("13-thermometer-training.json"), "cpu");
    await cpu.t.run();
    expectSameRecords(gpu.records, cpu.records);
    gpu.s.evaluate();
    expect(Array.from(gpu.s.leaves("params")[""].data)).toEqual(gpu.records[99].params.params);
  });

  it("the MLP example (cross_entropy, Adam): the same trajectory as the CPU", async () => {
    const gpu = trainer(example("51-mlp-two-class-adam.json"), "webgpu");
    const cpu = trainer(example("51-mlp-two-class-adam.json"), "cpu");
    await gpu.t.run();
    await cpu.t.run();
    expect(gpu.t.state).toMatchObject({ status: "done", backend: "webgpu" });
    expectSameRecords(gpu.records, cpu.records);
  });

  it("single steps, a learning-rate change while paused, then a resumed run: the same epochs as on the CPU", async () => {
    const runs = await Promise.all(
      (["webgpu", "cpu"] as const).map(async (backend) => {
        const r = trainer(example("51-mlp-two-class-adam.json"), backend);
        await r.t.setBackend(backend);
        for (let e = 0; e < 60; e++) await r.t.step();
        expect(r.t.state.backend).toBe(backend);
        expect(r.t.state).toMatchObject({ status: "paused", epoch: 60 });
        r.d.setParam("Adam", "lr", 0.01);
        await r.t.run({ epochs: 200 });
        return r;
      }),
    );
    const [gpu, cpu] = runs;
    expect(gpu.t.state).toMatchObject({ status: "done", backend: "webgpu", epoch: 200 });
    expectSameRecords(gpu.records, cpu.records);
  });

  it("two optimizers with their own losses, one accumulating its gradients: the same records as the CPU", async () => {
    const doc = () =>
      build(
        [
          ["x", "tensor", { data: [0.5, -1, 1.5, 2, -0.25], dtype: "float32" }],
          ["y", "tensor", { data: [1, -2, 3, 4.5, -0.5], dtype: "float32" }],
          ["w1", "tensor", { data: [0.1], dtype: "float32", requires_grad: true }],
          ["w2", "tensor", { data: [-0.3, 0.2, 0.1, 0.4, 0.5], dtype: "float32", requires_grad: true }],
          ["p1", "mul"],
          ["p2", "mul"],
          ["loss1", "mse_loss"],
          ["loss2", "l1_loss"],
          ["sgd", "SGD", { lr: 0.05, momentum: 0.5 }],
          ["adam", "Adam", { lr: 0.02, zero_grad: false }],
        ],
        [
          ["x", "p1", "input"],
          ["w1", "p1", "other"],
          ["x", "p2", "input"],
          ["w2", "p2", "other"],
          ["p1", "loss1", "input"],
          ["y", "loss1", "target"],
          ["p2", "loss2", "input"],
          ["y", "loss2", "target"],
          ["loss1", "sgd", "loss"],
          ["loss2", "adam", "loss"],
        ],
        80,
      );
    const gpu = trainer(doc(), "webgpu");
    const cpu = trainer(doc(), "cpu");
    await gpu.t.run();
    await cpu.t.run();
    expect(gpu.t.state).toMatchObject({ status: "done", backend: "webgpu" });
    expectSameRecords(gpu.records, cpu.records);
    for (const id of ["w1", "w2"])
      expect(mismatch(gpu.records[79].grads[id], cpu.records[79].grads[id], TRAJ), `grad ${id}`).toBeNull();
  });

  it("a gradient that becomes nan (sqrt's backward at 0) stops the run as on the CPU: the node named, no step taken", async () => {
    const gpu = trainer(sqrtAtZero(50, "float32"), "webgpu");
    await gpu.t.run();
    expect(gpu.t.state).toMatchObject({
      status: "error",
      backend: "webgpu",
      epoch: 2,
      nodeId: "root",
      message: SQRT_AT_ZERO_MESSAGE,
    });
    expect(gpu.t.state.fallback).toBeUndefined();
    expect(gpu.records.map((r) => [r.epoch, r.loss, r.grads.w, r.params.w])).toEqual([
      [0, 2, [1], [1]],
      [1, 1, [1], [0]],
    ]);
    // The GPU ran ahead of the bad epoch; the leaves hold the values of the last good one.
    expect(gpu.s.leaves("w")[""].toList()).toEqual([0]);
  });

  it("a non-finite gradient in a tensor too large to record stops every group's step (Adam's on another loss too)", async () => {
    // sum(sqrt(w ** 2)) over [2, 4, 1] at lr 1: the third element reaches 0 at epoch 1. The second optimizer
    // (Adam on v, its own loss) must not step in that epoch either.
    const doc = build(
      [
        ["w", "tensor", { data: [2, 4, 1], dtype: "float32", requires_grad: true }],
        ["sq", "pow", { exponent: 2 }],
        ["root", "sqrt"],
        ["loss", "sum"],
        ["opt", "SGD", { lr: 1 }],
        ["v", "tensor", { data: [0.5, -0.25], requires_grad: true }],
        ["vloss", "mse_loss"],
        ["target", "tensor", { data: [1, 1], dtype: "float32" }],
        ["adam", "Adam", { lr: 0.1 }],
      ],
      [
        ["w", "sq", "input"],
        ["sq", "root", "input"],
        ["root", "loss", "input"],
        ["loss", "opt", "loss"],
        ["v", "vloss", "input"],
        ["target", "vloss", "target"],
        ["vloss", "adam", "loss"],
      ],
      20,
    );
    const run = async (backend: "cpu" | "webgpu") => {
      const s = new Scheduler();
      s.setGraph(doc.state);
      const t = new Trainer(s, { backend, yieldFn: async () => {}, recordLimit: 2 });
      const records: EpochRecord[] = [];
      t.onRecords((rs) => records.push(...rs));
      await t.run();
      return { s, t, records };
    };
    const cpu = await run("cpu");
    const gpu = await run("webgpu");
    const message =
      "epoch 1: the gradient of 'w' became nan; node 'root' (sqrt) was the first to produce inf in backward (the gradient for its input 'input'); no step was taken, the parameters keep their values from before this epoch";
    expect(cpu.t.state).toMatchObject({ status: "error", backend: "cpu", epoch: 1, nodeId: "root", message });
    expect(gpu.t.state).toMatchObject({
      status: "error",
      backend: "webgpu",
      epoch: 1,
      nodeId: "root",
      message,
    });
    expect(gpu.records.map((r) => Object.keys(r.params))).toEqual([["v"]]);
    expect(gpu.s.leaves("w")[""].toList()).toEqual([1, 3, 0]);
    expect(cpu.s.leaves("w")[""].toList()).toEqual([1, 3, 0]);
    // v took its first Adam step only.
    expect(
      mismatch(Array.from(gpu.s.leaves("v")[""].data), Array.from(cpu.s.leaves("v")[""].data), TRAJ),
    ).toBeNull();
    expect(cpu.s.leaves("v")[""].toList()).toEqual(cpu.records[0].params.v);
  });

  it("a device lost mid-run: training finishes on the CPU with every epoch recorded once and Adam's state kept", async () => {
    maxBatch = 4;
    const gpu = trainer(example("51-mlp-two-class-adam.json"), "webgpu");
    gpu.t.onRecords(() => {
      if (gpu.t.state.epoch >= 100 && device && !device.isLost) device.destroy();
    });
    await gpu.t.run();
    maxBatch = 256;
    expect(gpu.t.state.status).toBe("done");
    expect(gpu.t.state.backend).toBe("cpu");
    expect(gpu.t.state.fallback).toMatch(/WebGPU device was lost.*continuing on the CPU/);
    const cpu = trainer(example("51-mlp-two-class-adam.json"), "cpu");
    await cpu.t.run();
    expectSameRecords(gpu.records, cpu.records);
  });
});

// Module instances expand into the flat graph before scheduling (src/graph/modules.ts), so they train on
// WebGPU as a graph drawn flat does: each instance with its own parameters, named by its path.
describe("module instances on WebGPU", () => {
  it("example 53 (one Block used twice): the same trajectory as the CPU", async () => {
    const gpu = trainer(example("53-mlp-reusable-block.json"), "webgpu");
    const cpu = trainer(example("53-mlp-reusable-block.json"), "cpu");
    await gpu.t.run();
    await cpu.t.run();
    expect(gpu.t.state).toMatchObject({ status: "done", backend: "webgpu" });
    expect(Object.keys(gpu.records[0].params)).toEqual([
      "block1/W",
      "block1/b",
      "block2/W",
      "block2/b",
      "W3",
      "b3",
    ]);
    expect(gpu.records[0].params["block2/W"]).toHaveLength(256);
    expectSameRecords(gpu.records, cpu.records);
  });

  it("example 51 with its hidden layer grouped as a module: the flat graph's trajectory", async () => {
    const grouped = new GraphDocument(example("51-mlp-two-class-adam.json"));
    grouped.groupAsModule(["W1", "b1", "hidden", "h"], { module: "Hidden", instance: "layer" });
    const gpu = trainer(grouped, "webgpu");
    const flat = trainer(example("51-mlp-two-class-adam.json"), "webgpu");
    await gpu.t.run();
    await flat.t.run();
    expect(gpu.t.state).toMatchObject({ status: "done", backend: "webgpu" });
    expect(gpu.records.map((r) => r.loss)).toEqual(flat.records.map((r) => r.loss));
  });
});
