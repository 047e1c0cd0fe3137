// The auto backend: the verdict from measurements, the measurement itself (on a backend whose epochs cost a
// known virtual time, and on the real CPU and WebGPU backends), and the trainer choosing per graph.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import {
  AutoCache,
  BREAK_EVEN_SECONDS,
  chooseBackend,
  decide,
  type Measurement,
  measure,
  shapeClass,
} from "../../src/engine/auto-backend.ts";
import { Scheduler } from "../../src/engine/scheduler.ts";
import {
  type Backend,
  cpuBackend,
  type EpochOutcome,
  registerBackend,
  type TrainingProgram,
} from "../../src/engine/scheduler-backend.ts";
import { type EpochRecord, Trainer } from "../../src/engine/train.ts";
import { webgpuBackend } from "../../src/gpu/backend.ts";
import { acquireDevice, type GpuDevice } from "../../src/gpu/device.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import type { GraphDoc } from "../../src/graph/types.ts";

function example(name: string): GraphDoc {
  const r = parseGraphFile(readFileSync(new URL(`../../examples/${name}`, import.meta.url), "utf8"));
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join("\n"));
  return r.doc;
}

const types = (doc: GraphDoc) => Object.fromEntries(Object.entries(doc.nodes).map(([id, n]) => [id, n.type]));

function probeOf(doc: GraphDoc): () => TrainingProgram {
  return () => {
    const s = new Scheduler();
    s.setGraph(doc);
    return s.program();
  };
}

const m = (backend: "cpu" | "webgpu", epochsPerSecond: number, setupSeconds = 0): Measurement => ({
  backend,
  epochsPerSecond,
  setupSeconds,
  epochs: 10,
});
const GPU = { description: "NVIDIA H200", software: false };
const SWIFTSHADER = { description: "google swiftshader", software: true };

describe("decide", () => {
  it("picks the GPU when it finishes the run sooner, and says by how much per epoch", () => {
    const d = decide(m("cpu", 10), m("webgpu", 51, 0.5), GPU, 1000);
    expect(d.backend).toBe("webgpu");
    expect(d.reason).toBe("WebGPU: 5.1x faster than the CPU on this graph");
  });

  it("picks the CPU when it is faster, naming a software adapter as such", () => {
    const d = decide(m("cpu", 51), m("webgpu", 10), SWIFTSHADER, 1000);
    expect(d.backend).toBe("cpu");
    expect(d.reason).toBe("CPU: 5.1x faster than this software GPU (google swiftshader) on this graph");
  });

  it("keeps a short run on the CPU when the GPU's set-up outweighs its faster epochs", () => {
    // 100 epochs: CPU 1 s; GPU 2 s of set-up + 0.5 s.
    const d = decide(m("cpu", 100), m("webgpu", 200, 2), GPU, 100);
    expect(d.backend).toBe("cpu");
    expect(d.reason).toMatch(
      /this run of 100 epochs ends sooner on the CPU \(this GPU \(NVIDIA H200\) is 2\.0x faster per epoch, but takes 2\.0 s to start\)/,
    );
    // The same graph over a long run: the GPU.
    expect(decide(m("cpu", 100), m("webgpu", 200, 2), GPU, 100_000).backend).toBe("webgpu");
  });

  it("asks a software adapter to beat the CPU by a margin (it shares the CPU's cores)", () => {
    expect(decide(m("cpu", 100), m("webgpu", 110), SWIFTSHADER, 10_000).backend).toBe("cpu");
    expect(decide(m("cpu", 100), m("webgpu", 110), GPU, 10_000).backend).toBe("webgpu");
    expect(decide(m("cpu", 100), m("webgpu", 200), SWIFTSHADER, 10_000).backend).toBe("webgpu");
  });

  it("says 'over' when the GPU's measurement was cut short", () => {
    const d = decide(m("cpu", 100), { ...m("webgpu", 5), cutShort: true }, GPU, 10_000);
    expect(d.reason).toBe("CPU: over 20x faster than this GPU (NVIDIA H200) on this graph");
  });
});

/** A backend whose every epoch costs `ms` of a virtual clock (and never finishes when `hang`). */
function virtualBackend(clock: { t: number }, ms: number, opts: { setupMs?: number; hang?: boolean } = {}) {
  const outcome: EpochOutcome = { loss: 1, grads: new Map(), params: new Map(), stepped: true };
  let epochs = 0;
  let disposed = false;
  const backend: Backend = {
    name: "webgpu",
    startTraining() {
      clock.t += opts.setupMs ?? 0;
      return {
        epoch: () => {
          if (opts.hang) return new Promise<EpochOutcome>(() => {});
          clock.t += ms;
          epochs++;
          return outcome;
        },
        setHyper() {},
        sync() {},
        dispose() {
          disposed = true;
        },
      };
    },
  };
  return { backend, epochs: () => epochs, disposed: () => disposed };
}

const noProgram = {} as TrainingProgram;

describe("measure", () => {
  it("times the epochs after a warm-up and reports set-up separately", async () => {
    const clock = { t: 0 };
    const v = virtualBackend(clock, 2, { setupMs: 700 });
    const r = await measure(v.backend, noProgram, { budgetMs: 100, now: () => clock.t });
    expect(r.setupSeconds).toBeCloseTo(0.7, 9);
    expect(r.epochsPerSecond).toBeCloseTo(500, 6);
    expect(r.cutShort).toBeUndefined();
    // Half the budget warming up, then two windows of half the budget each.
    expect(v.epochs()).toBe(25 + 25 + 25);
    expect(v.disposed()).toBe(true);
  });

  it("stops at the planned run's length: a run shorter than the measurement is the measurement", async () => {
    const clock = { t: 0 };
    const v = virtualBackend(clock, 1);
    const r = await measure(v.backend, noProgram, { budgetMs: 1000, now: () => clock.t, epochs: 30 });
    expect(v.epochs()).toBe(30);
    expect(r.epochsPerSecond).toBeCloseTo(1000, 6);
  });

  it("takes one epoch that fills the budget as the measurement", async () => {
    const clock = { t: 0 };
    const v = virtualBackend(clock, 5000);
    const r = await measure(v.backend, noProgram, { budgetMs: 250, now: () => clock.t });
    expect(v.epochs()).toBe(1);
    expect(r.epochsPerSecond).toBeCloseTo(0.2, 9);
  });

  it("gives up on an epoch that takes longer than allowed, and says the rate is an upper bound", async () => {
    const v = virtualBackend({ t: 0 }, 0, { hang: true });
    const r = await measure(v.backend, noProgram, {
      budgetMs: 10,
      giveUpMs: 30,
      drainMs: 10,
      now: () => performance.now(),
    });
    expect(r.cutShort).toBe(true);
    expect(r.epochsPerSecond).toBeLessThan(1000 / 25);
    expect(v.disposed()).toBe(true);
  });
});

describe("shapeClass", () => {
  it("is the same for other ids and hyperparameters, and differs when a shape changes", () => {
    const doc = example("13-thermometer-training.json");
    const key = (d: GraphDoc) => {
      const s = new Scheduler();
      s.setGraph(d);
      return shapeClass(s.validation, types(d));
    };
    const lr = structuredClone(doc);
    for (const n of Object.values(lr.nodes)) if (n.type === "SGD") n.params.lr = 0.5;
    expect(key(lr)).toBe(key(doc));
    const longer = structuredClone(doc);
    const data = Object.values(longer.nodes).find((n) => Array.isArray(n.params.data))!;
    data.params.data = [...(data.params.data as number[]), 1];
    const other = Object.values(longer.nodes).find((n) => n !== data && Array.isArray(n.params.data))!;
    other.params.data = [...(other.params.data as number[]), 1];
    expect(key(longer)).not.toBe(key(doc));
  });
});

describe("chooseBackend on the real backends", () => {
  let device: GpuDevice | null = null;
  const gpu = async () => {
    device ??= await acquireDevice();
    return webgpuBackend(device);
  };
  afterAll(() => device?.destroy());

  it("keeps a run that is over in moments on the CPU without starting a GPU", async () => {
    let asked = 0;
    const d = await chooseBackend(
      {
        probe: probeOf(example("13-thermometer-training.json")),
        cpu: cpuBackend,
        gpu: async () => {
          asked++;
          return gpu();
        },
      },
      { epochs: 100 },
    );
    expect(d.backend).toBe("cpu");
    expect(d.reason).toMatch(/^CPU: the whole run takes about [\d.]+ s on the CPU, too little to gain/);
    expect(asked).toBe(0);
    expect(d.measurements.map((x) => x.backend)).toEqual(["cpu"]);
  });

  it("says why when WebGPU cannot be had", async () => {
    const d = await chooseBackend(
      {
        probe: probeOf(example("51-mlp-two-class-adam.json")),
        cpu: cpuBackend,
        gpu: async () => ({ unavailable: "no WebGPU adapter was found" }),
      },
      { epochs: 10_000_000 },
    );
    expect(d).toMatchObject({ backend: "cpu", reason: "CPU: no WebGPU adapter was found" });
  });

  it("times both on a long run and follows the measurements (SwiftShader here)", async () => {
    const measured = {};
    const epochs = 1_000_000;
    const d = await chooseBackend(
      { probe: probeOf(example("51-mlp-two-class-adam.json")), cpu: cpuBackend, gpu },
      { epochs, budgetMs: 200 },
      measured,
    );
    const [cpu, webgpu] = d.measurements;
    expect(cpu.backend).toBe("cpu");
    expect(webgpu.backend).toBe("webgpu");
    for (const x of d.measurements)
      expect(Number.isFinite(x.epochsPerSecond) && x.epochsPerSecond > 0).toBe(true);
    expect(d).toEqual(decide(cpu, webgpu, (await gpu()).adapter, epochs));
    // Measured once: asking again reuses the measurements.
    const again = await chooseBackend(
      { probe: () => expect.fail("measured again"), cpu: cpuBackend, gpu },
      { epochs, budgetMs: 200 },
      measured,
    );
    expect(again).toEqual(d);
  });

  it("the probes leave the real run's parameters alone", async () => {
    const s = new Scheduler();
    s.setGraph(example("51-mlp-two-class-adam.json"));
    const before = s.trainables().map((t) => Array.from(t.tensor.data));
    await chooseBackend(
      { probe: probeOf(s.graph), cpu: cpuBackend, gpu },
      { epochs: 1_000_000, budgetMs: 100 },
    );
    expect(s.trainables().map((t) => Array.from(t.tensor.data))).toEqual(before);
  });
});

describe("a trainer asked for auto", () => {
  let device: GpuDevice | null = null;
  registerBackend("webgpu", async () => {
    device ??= await acquireDevice();
    return webgpuBackend(device);
  });
  afterAll(() => device?.destroy());

  it("trains on the CPU with the CPU's numbers and says why", async () => {
    const doc = example("13-thermometer-training.json");
    const runOn = async (backend: "auto" | "cpu") => {
      const s = new Scheduler();
      s.setGraph(doc);
      const t = new Trainer(s, { backend });
      const records: EpochRecord[] = [];
      t.onRecords((r) => records.push(...r));
      await t.run({ epochs: 200 });
      return { records, state: t.state };
    };
    const auto = await runOn("auto");
    const cpu = await runOn("cpu");
    expect(auto.state).toMatchObject({ status: "done", backend: "cpu", requested: "auto" });
    expect(auto.state.reason).toMatch(/^CPU: /);
    expect(auto.records).toEqual(cpu.records);
    expect(cpu.state.reason).toBeUndefined();
  });

  it("decides again when the graph's shapes change, and not when only a hyperparameter does", async () => {
    const doc = example("13-thermometer-training.json");
    const s = new Scheduler();
    s.setGraph(doc);
    const t = new Trainer(s, { backend: "auto" });
    let measurings = 0;
    t.onState((st) => {
      if (st.measuring) measurings++;
    });
    await t.run({ epochs: 3 });
    expect(measurings).toBe(1);
    const lr = structuredClone(doc);
    for (const n of Object.values(lr.nodes)) if (n.type === "SGD") n.params.lr = 0.001;
    s.setGraph(lr);
    await t.run({ epochs: 3 });
    expect(measurings).toBe(1);
    const longer = structuredClone(lr);
    for (const n of Object.values(longer.nodes))
      if (Array.isArray(n.params.data)) n.params.data = [...(n.params.data as number[]), 1];
    s.setGraph(longer);
    await t.run({ epochs: 3 });
    expect(measurings).toBe(2);
    expect(t.state).toMatchObject({ status: "done", requested: "auto" });
  });

  it("can still be forced onto either backend", async () => {
    const s = new Scheduler();
    s.setGraph(example("13-thermometer-training.json"));
    const t = new Trainer(s, { backend: "auto" });
    await t.setBackend("webgpu");
    await t.run({ epochs: 3 });
    expect(t.state).toMatchObject({ backend: "webgpu", requested: "webgpu" });
    expect(t.state.reason).toBeUndefined();
    await t.setBackend("cpu");
    await t.run({ epochs: 3 });
    expect(t.state).toMatchObject({ backend: "cpu", requested: "cpu" });
    // Back to auto while a session is open (a paused run, say): decided at the next epoch.
    await t.step();
    await t.setBackend("auto");
    await t.step();
    expect(t.state).toMatchObject({ backend: "cpu", requested: "auto", status: "paused" });
    expect(t.state.reason).toMatch(/^CPU: /);
  });
});

it("keeps the most recently used shape classes", () => {
  const c = new AutoCache(2);
  c.of("a").cpu = m("cpu", 1);
  c.of("b");
  c.of("a");
  c.of("c");
  expect(c.of("a").cpu?.epochsPerSecond).toBe(1);
  expect(c.of("b").cpu).toBeUndefined();
  expect(BREAK_EVEN_SECONDS).toBeGreaterThan(0);
});
