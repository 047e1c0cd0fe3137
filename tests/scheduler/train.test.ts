// Training: records per epoch, run/pause/resume/step/stop/reset, divergence stops, hyperparameters mid-run.
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { type EpochRecord, Trainer } from "../../src/engine/train.ts";
import type { GraphDocument } from "../../src/graph/document.ts";
import { Adam, mseLoss, tensor } from "../../src/runtime/index.ts";
import { build, fixture, SQRT_AT_ZERO_MESSAGE, sqrtAtZero } from "./helpers.ts";

function trainerFor(doc: GraphDocument, opts: ConstructorParameters<typeof Trainer>[1] = {}) {
  const s = new Scheduler();
  s.setGraph(doc.state);
  const t = new Trainer(s, { yieldFn: async () => {}, ...opts });
  const records: EpochRecord[] = [];
  t.onRecords((rs) => records.push(...rs));
  doc.subscribe((d) => s.setGraph(d));
  return { s, t, records };
}

function guessingGame(lr: number, epochs = 20) {
  return build(
    [
      ["guess", "tensor", { data: [50, 50, 50], dtype: "float64", requires_grad: true }],
      ["answer", "tensor", { data: [2, 77, 91], dtype: "float64" }],
      ["loss", "mse_loss"],
      ["opt", "SGD", { lr }],
    ],
    [
      ["guess", "loss", "input"],
      ["answer", "loss", "target"],
      ["loss", "opt", "loss"],
    ],
    epochs,
  );
}

describe("Trainer", () => {
  it("trains the thermometer as the source prints it: 2.2775 with gradient [18.1550, 2.9833], ends at [0.8820, 0.4269]", async () => {
    const s = new Scheduler();
    s.setGraph(fixture("thermometer.graph.json"));
    const t = new Trainer(s, { yieldFn: async () => {} });
    const records: EpochRecord[] = [];
    t.onRecords((rs) => records.push(...rs));
    await t.run();
    expect(t.state.status).toBe("done");
    expect(records).toHaveLength(100);
    expect(records.map((r) => r.epoch)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(records[0].loss).toBeCloseTo(2.2775, 4);
    expect(records[0].grads["model.weight"][0]).toBeCloseTo(18.155, 3);
    expect(records[0].grads["model.bias"][0]).toBeCloseTo(2.9833, 4);
    expect(records[1].loss).toBeCloseTo(0.5418, 4);
    const last = records[99];
    expect(last.params["model.weight"][0]).toBeCloseTo(0.882, 4);
    expect(last.params["model.bias"][0]).toBeCloseTo(0.4269, 4);
    // The scheduler's view follows the trained values.
    s.evaluate();
    expect(s.leaves("model").weight.item()).toBeCloseTo(0.882, 4);
  });

  it("streams records in batches while running and can pause, resume and step", async () => {
    let clock = 0;
    const doc = guessingGame(0.1, 50);
    const { t, records } = trainerFor(doc, { sliceMs: 5, now: () => clock++ });
    const batches: number[] = [];
    t.onRecords((rs) => batches.push(rs.length));
    let paused = false;
    t.onRecords(() => {
      if (!paused && records.length >= 10) {
        paused = true;
        t.pause();
      }
    });
    await t.run();
    expect(t.state.status).toBe("paused");
    expect(batches.every((n) => n === 5)).toBe(true);
    expect(t.state.epoch).toBe(10);
    const r = await t.step();
    expect(r?.epoch).toBe(10);
    expect(t.state).toMatchObject({ status: "paused", epoch: 11 });
    await t.resume();
    expect(t.state).toMatchObject({ status: "done", epoch: 50 });
    expect(records.map((x) => x.epoch)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // lr 0.1 converges: each step shrinks (guess - answer) by 1 - 0.2/3.
    expect(records[49].loss).toBeLessThan(records[0].loss * 1e-2);
  });

  it("a step or resume right after pause waits for the loop to wind down instead of being lost", async () => {
    let release: (() => void) | null = null;
    const yieldFn = () =>
      new Promise<void>((r) => {
        release = r;
      });
    let clock = 0;
    const { t, records } = trainerFor(guessingGame(0.1, 100), { yieldFn, sliceMs: 3, now: () => clock++ });
    const running = t.run();
    await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(records).toHaveLength(3);
    t.pause();
    const stepped = t.step();
    release!();
    expect((await stepped)?.epoch).toBe(3);
    await running;
    expect(t.state).toMatchObject({ status: "paused", epoch: 4 });
    // Resume (a batch, then the loop waits at its yield), pause, and resume again before the loop has noticed.
    const again = t.resume();
    await new Promise((r) => setTimeout(r, 0));
    expect(records).toHaveLength(7);
    t.pause();
    const resumed = t.resume();
    release!();
    await again;
    await new Promise((r) => setTimeout(r, 0));
    expect(t.state.status).toBe("running");
    expect(records).toHaveLength(10);
    t.pause();
    release!();
    await resumed;
    expect(t.state).toMatchObject({ status: "paused", epoch: 10 });
    expect(records.map((r) => r.epoch)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it("stops a diverging run (the guessing game at lr 10) naming the node that first produced inf", async () => {
    const { s, t, records } = trainerFor(guessingGame(10, 1000));
    await t.run();
    expect(t.state.status).toBe("error");
    expect(t.state.nodeId).toBe("loss");
    // The parameter's gradient is the last completed epoch's, not the one computed from the infinite loss.
    const guess = s.trainables().find((p) => p.id === "guess");
    expect(Array.from(guess?.tensor.grad?.data ?? [])).toEqual(records[records.length - 1].grads.guess);
    expect(t.state.message).toMatch(
      /^epoch \d+: the loss became inf; node 'loss' \(mse_loss\) was the first to produce inf \(training diverged: the learning rate is probably too large\)$/,
    );
    const losses = records.map((r) => r.loss);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[5]).toBeGreaterThan(losses[0] * 1000);
    // Refused until reset; after reset, it starts over.
    expect(await t.step()).toBeUndefined();
    await t.reset();
    expect(t.state).toMatchObject({ status: "idle", epoch: 0 });
    const r = await t.step();
    expect(r?.loss).toBe(records[0].loss);
  });

  it("stops on a non-finite gradient with a finite loss, naming the node whose backward produced it, without stepping", async () => {
    const { s, t, records } = trainerFor(sqrtAtZero());
    await t.run();
    expect(t.state).toMatchObject({
      status: "error",
      epoch: 2,
      nodeId: "root",
      message: SQRT_AT_ZERO_MESSAGE,
    });
    // The history up to the bad epoch is kept, and that epoch took no step: w stays where epoch 1 left it.
    expect(records.map((r) => [r.epoch, r.loss, r.grads.w, r.params.w])).toEqual([
      [0, 2, [1], [1]],
      [1, 1, [1], [0]],
    ]);
    expect(s.leaves("w")[""].toList()).toEqual([0]);
    s.evaluate();
    expect(s.value("loss")?.item()).toBe(0);
  });

  it("the same on single steps: the step that meets the bad gradient returns nothing and changes nothing", async () => {
    const { s, t, records } = trainerFor(sqrtAtZero());
    expect((await t.step())?.params.w).toEqual([1]);
    expect((await t.step())?.params.w).toEqual([0]);
    expect(await t.step()).toBeUndefined();
    expect(t.state).toMatchObject({
      status: "error",
      epoch: 2,
      nodeId: "root",
      message: SQRT_AT_ZERO_MESSAGE,
    });
    expect(records).toHaveLength(2);
    expect(s.leaves("w")[""].toList()).toEqual([0]);
  });

  it("a hyperparameter edit applies from the next epoch", async () => {
    const doc = guessingGame(0.1, 6);
    const { t, records } = trainerFor(doc);
    await t.step();
    await t.step();
    doc.setParam("opt", "lr", 0);
    await t.step();
    // Epoch 2 ran with lr 0: nothing moved; epoch 1 had moved.
    const frozen = records[1].params.guess;
    expect(records[0].params.guess).not.toEqual(frozen);
    expect(records[2].params.guess).toEqual(frozen);
    await t.step();
    expect(records[3].params.guess).toEqual(frozen);
    doc.setParam("opt", "lr", 0.1);
    await t.resume();
    expect(t.state).toMatchObject({ status: "done", epoch: 6 });
    expect(records[5].params.guess).not.toEqual(frozen);
  });

  it("an Adam lr edit mid-run keeps the optimizer's moments (same as param_groups[0]['lr'] = ...)", async () => {
    const doc = guessingGame(0.1, 4);
    doc.change("Adam", (d) => {
      d.nodes.opt.type = "Adam";
      d.nodes.opt.params = { lr: 0.5 };
    });
    const { t, records } = trainerFor(doc);
    await t.step();
    await t.step();
    doc.setParam("opt", "lr", 0.05);
    await t.step();
    await t.step();
    // The same run directly on the runtime.
    const guess = tensor([50, 50, 50], { dtype: "float64", requiresGrad: true });
    const answer = tensor([2, 77, 91], { dtype: "float64" });
    const adam = new Adam([guess], { lr: 0.5 });
    const expected: number[][] = [];
    for (let i = 0; i < 4; i++) {
      if (i === 2) adam.setHyper("lr", 0.05);
      adam.zeroGrad();
      mseLoss(guess, answer).backward();
      adam.step();
      expected.push(Array.from(guess.data));
    }
    expect(records.map((r) => r.params.guess)).toEqual(expected);
  });

  it("without zero_grad the gradients accumulate across epochs, as in PyTorch", async () => {
    const doc = guessingGame(0, 3);
    doc.setParam("opt", "zero_grad", false);
    const { t, records } = trainerFor(doc);
    await t.run();
    const g = records.map((r) => r.grads.guess);
    expect(g[1]).toEqual(g[0].map((x) => 2 * x));
    expect(g[2]).toEqual(g[0].map((x) => 3 * x));
  });

  it("stop keeps the trained values; the next run starts over", async () => {
    const doc = guessingGame(0.1, 5);
    const { s, t, records } = trainerFor(doc);
    await t.step();
    await t.step();
    t.stop();
    expect(t.state.status).toBe("stopped");
    expect(s.leaves("guess")[""].toList()).toEqual(records[1].params.guess);
    await t.run();
    expect(t.state).toMatchObject({ status: "done", epoch: 5 });
    expect(records[2]).toMatchObject({ epoch: 0, loss: records[0].loss });
  });

  it("reports a graph that cannot train", async () => {
    const doc = build([["x", "tensor", { data: [1.5] }]], []);
    const { t } = trainerFor(doc);
    await t.run();
    expect(t.state).toMatchObject({
      status: "error",
      message: "epoch 0: there is nothing to train: connect a loss to an optimizer (SGD, Adam...)",
    });
  });

  it("falls back to the CPU, with the reason, when WebGPU is not available", async () => {
    const { t, records } = trainerFor(guessingGame(0.1, 2), { backend: "webgpu" });
    await t.run();
    expect(t.state.backend).toBe("cpu");
    expect(t.state.fallback).toMatch(/WebGPU/);
    expect(records).toHaveLength(2);
  });

  it("trains the cross-entropy fixture with Adam and records every parameter", async () => {
    const s = new Scheduler();
    s.setGraph(fixture("cross-entropy.graph.json"));
    const t = new Trainer(s, { yieldFn: async () => {} });
    const records: EpochRecord[] = [];
    t.onRecords((rs) => records.push(...rs));
    await t.run();
    expect(records).toHaveLength(25);
    expect(Object.keys(records[0].params)).toEqual(["W", "b"]);
    expect(records[24].loss).toBeLessThan(records[0].loss);
    s.evaluate();
    expect(s.value("acc")?.item()).toBeGreaterThan(0.5);
  });
});
