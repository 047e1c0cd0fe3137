// After a run ends or pauses, the graph's values are computed from the trained parameters on every backend:
// a WebGPU session keeps parameters on the device, so the trainer must bring them back and mark what depends
// on them out of date before the page asks for values.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { Trainer } from "../../src/engine/train.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import { useWebGpuBackend } from "../helpers/webgpu.ts";

const text = readFileSync(new URL("../../examples/13-thermometer-training.json", import.meta.url), "utf8");

useWebGpuBackend();

async function lossAfter(backend: "cpu" | "webgpu", epochs: number, how: "run" | "steps"): Promise<number> {
  const parsed = parseGraphFile(text);
  if (!parsed.ok) throw new Error("example does not load");
  const s = new Scheduler();
  s.setGraph(parsed.doc);
  s.evaluate();
  const t = new Trainer(s, { backend, yieldFn: async () => {} });
  if (how === "run") await t.run({ epochs });
  else for (let k = 0; k < epochs; k++) await t.step();
  expect(t.state.backend).toBe(backend);
  s.evaluate();
  return s.value("loss")!.item();
}

describe("values after training", () => {
  it("a finished WebGPU run shows the loss at the trained parameters, as the CPU does", async () => {
    const initial = (() => {
      const p = parseGraphFile(text);
      if (!p.ok) throw new Error("example does not load");
      const s = new Scheduler();
      s.setGraph(p.doc);
      s.evaluate();
      return s.value("loss")!.item();
    })();
    const cpu = await lossAfter("cpu", 20, "run");
    const gpu = await lossAfter("webgpu", 20, "run");
    expect(cpu).toBeLessThan(initial / 2);
    expect(Math.abs(gpu - cpu) / cpu).toBeLessThan(1e-4);
  });

  it("single steps on WebGPU leave the values at the stepped parameters", async () => {
    const cpu = await lossAfter("cpu", 3, "steps");
    const gpu = await lossAfter("webgpu", 3, "steps");
    expect(Math.abs(gpu - cpu) / cpu).toBeLessThan(1e-4);
  });
});
