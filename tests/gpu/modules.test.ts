// Module instances on the WebGPU backend: they expand into the flat graph before scheduling, so example 53 (an
// MLP from one Block used twice) trains on WebGPU (Dawn on SwiftShader) to the CPU's trajectory, each instance
// with its own parameters, and to example 51's trajectory once its hidden layer is grouped as a module.
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
import { paramTol } from "./harness.ts";

const EPOCHS = 60;
const TRAJ = { rtol: 1e-4, atol: 1e-6 };

function example(name: string): GraphDoc {
  const r = parseGraphFile(readFileSync(new URL(`../../examples/${name}`, import.meta.url), "utf8"));
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join("\n"));
  return r.doc;
}

let device: GpuDevice | null = null;
beforeAll(() => {
  registerBackend("webgpu", async () => {
    if (!device || device.isLost) device = await acquireDevice();
    return webgpuBackend(device);
  });
});
afterAll(() => {
  device?.destroy();
});

async function train(doc: GraphDoc, backend: "cpu" | "webgpu"): Promise<EpochRecord[]> {
  const s = new Scheduler();
  s.setGraph(doc);
  const t = new Trainer(s, { backend, yieldFn: async () => {} });
  const records: EpochRecord[] = [];
  t.onRecords((rs) => records.push(...rs));
  await t.run({ epochs: EPOCHS });
  expect(t.state).toMatchObject({ status: "done", backend });
  return records;
}

function expectSame(gpu: EpochRecord[], cpu: EpochRecord[]): void {
  expect(gpu).toHaveLength(EPOCHS);
  expect(
    mismatch(
      gpu.map((r) => r.loss),
      cpu.map((r) => r.loss),
      TRAJ,
    ),
    "losses",
  ).toBeNull();
  const last = EPOCHS - 1;
  for (const id of Object.keys(cpu[last].params))
    expect(
      mismatch(gpu[last].params[id], cpu[last].params[id], paramTol(cpu[last].params[id])),
      `param ${id}`,
    ).toBeNull();
}

describe("modules on WebGPU", () => {
  it("example 53: two instances of Block train on WebGPU as on the CPU, each with its own parameters", async () => {
    const doc = example("53-mlp-reusable-block.json");
    const [gpu, cpu] = [await train(doc, "webgpu"), await train(doc, "cpu")];
    expect(Object.keys(gpu[0].params)).toEqual(["block1/W", "block1/b", "block2/W", "block2/b", "W3", "b3"]);
    expect(gpu[0].params["block1/W"]).toHaveLength(32);
    expect(gpu[0].params["block2/W"]).toHaveLength(256);
    expectSame(gpu, cpu);
  });

  it("example 51 with its hidden layer grouped trains on WebGPU to the flat graph's trajectory", async () => {
    const graph = new GraphDocument(example("51-mlp-two-class-adam.json"));
    graph.groupAsModule(["W1", "b1", "hidden", "h"], { module: "Hidden", instance: "layer" });
    const grouped = await train(graph.state, "webgpu");
    const flat = await train(example("51-mlp-two-class-adam.json"), "webgpu");
    expect(
      mismatch(
        grouped.map((r) => r.loss),
        flat.map((r) => r.loss),
        TRAJ,
      ),
    ).toBeNull();
  });
});
