// The mini-batch session. EvalContext.training: true while the optimizer steps on batches, false while the
// validation data goes through the model (module.training, as dropout and batch norm read it); each epoch's
// record keeps the batch losses, the validation loss and metrics; the shuffle order starts again from the seed
// on reset and goes on where it was in a session rebuilt mid-run.
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { Trainer } from "../../src/engine/train.ts";
import { loadGraph } from "../../src/graph/format.ts";
import { ALL_KINDS, defineKind, Registry } from "../../src/nodes/index.ts";
import { miniBatchGraph } from "./graphs.ts";

describe("EvalContext.training during mini-batch training", () => {
  it("is true for every step and false for validation", async () => {
    const seen: boolean[] = [];
    const probe = defineKind({
      type: "training_probe",
      family: "Ops",
      description: "passes its input on and notes EvalContext.training",
      inputs: [{ name: "input", help: "anything" }],
      params: [],
      infer: (c) => ({ out: c.inputs.input! }),
      evaluate: (c) => {
        seen.push(c.training);
        return c.inputs.input!;
      },
      torch: (c) => [`${c.out} = ${c.inputs.input}`],
    });
    const registry = new Registry([...ALL_KINDS, probe]);
    const file = miniBatchGraph({
      task: "regress",
      dtype: "float64",
      batchSize: 20,
      shuffle: true,
      dropLast: false,
      seed: 1,
      epochs: 2,
      validation: true,
    }) as { nodes: { id: string; type: string }[]; edges: { source: string; target: string }[] };
    file.nodes.push({ id: "probe", type: "training_probe", params: {}, position: { x: 0, y: 0 } } as never);
    const e = file.edges.find((x) => x.source === "l1" && x.target === "pred")!;
    file.edges.push({ ...e, id: "probe-out", source: "probe" } as never);
    Object.assign(e, { target: "probe", targetPort: "input" });
    const loaded = loadGraph(file, registry);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded));
    const s = new Scheduler({ registry });
    s.setGraph(loaded.doc);
    const trainer = new Trainer(s, { backend: "cpu" });
    const records: import("../../src/engine/train.ts").EpochRecord[] = [];
    trainer.onRecords((r) => records.push(...r));
    seen.length = 0;
    await trainer.run({ epochs: 2 });
    expect(trainer.state.status).toBe("done");
    // 56 training samples in batches of 20: three steps, then validation; twice.
    expect(seen).toEqual([true, true, true, false, true, true, true, false]);
    expect(records.map((r) => r.steps?.length)).toEqual([3, 3]);
    for (const r of records) {
      expect(r.loss).toBeCloseTo(r.steps!.reduce((a, b) => a + b, 0) / 3, 12);
      expect(r.valLoss).toBeGreaterThan(0);
      expect(Object.keys(r.metrics!)).toEqual(["val_mse", "val_mae"]);
      expect(r.metrics!.val_mse).toBe(r.valLoss);
    }
  });
});

describe("the DataLoader's shuffle order over a run", () => {
  const graph = () => {
    const loaded = loadGraph(
      miniBatchGraph({
        task: "classify",
        dtype: "float64",
        batchSize: 16,
        shuffle: true,
        dropLast: false,
        seed: 3,
        epochs: 3,
        validation: true,
      }),
    );
    if (!loaded.ok) throw new Error("does not load");
    const s = new Scheduler();
    s.setGraph(loaded.doc);
    return s;
  };
  const losses = (t: Trainer) => {
    const out: number[][] = [];
    t.onRecords((rs) => out.push(...rs.map((r) => r.steps!)));
    return out;
  };

  it("starts again from the seed after a reset", async () => {
    const t = new Trainer(graph(), { backend: "cpu" });
    const seen = losses(t);
    await t.run();
    const first = seen.splice(0);
    await t.reset();
    await t.run();
    expect(seen).toEqual(first);
  });

  it("goes on where it was when the session is rebuilt mid-run (a backend switch)", async () => {
    const straight = new Trainer(graph(), { backend: "cpu" });
    const want = losses(straight);
    await straight.run();
    const t = new Trainer(graph(), { backend: "cpu" });
    const got = losses(t);
    await t.step();
    await t.setBackend("cpu");
    await t.step();
    await t.step();
    expect(got).toEqual(want);
  });
});
