// Dropout while training, as PyTorch does it: a new mask at every forward, drawn from the global generator
// seeded once (`torch.manual_seed(seed)` before the loop), in the order the forward calls its dropouts, with
// no draw in eval mode. `gradwire train` against a PyTorch loop written by hand the way a user writes it
// (an nn.Module with nn.Dropout, model.eval() for validation), and against the exported script; the WebGPU
// backend (which takes each step's masks as per-step inputs) against the CPU; the eval-mode identity; and a
// graph file saved before masks were drawn per step.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { registerBackend } from "../../src/engine/scheduler-backend.ts";
import { type EpochRecord, Trainer } from "../../src/engine/train.ts";
import { torchScript } from "../../src/export/torch-script.ts";
import { webgpuBackend } from "../../src/gpu/backend.ts";
import { acquireDevice, type GpuDevice } from "../../src/gpu/device.ts";
import { loadGraph } from "../../src/graph/format.ts";
import { CURRENT_VERSION } from "../../src/graph/schema.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { registry } from "../../src/nodes/index.ts";
import type { ParamValue } from "../../src/nodes/types.ts";
import { gradwire, tempFile } from "../cli/run.ts";
import { makeRandom, PYTHON } from "../helpers/torch.ts";

type Line = Record<string, unknown> & { loss: number; steps?: number[]; val_loss?: number };

function lines(text: string): Line[] {
  return text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => "epoch" in l);
}

/** `n` samples of two features in eighths (exact in float32), labelled by which side of a line they fall. */
function samples(n: number, seed: number): { x: number[][]; y: number[] } {
  const r = makeRandom(seed);
  const x = Array.from({ length: n }, () => [Math.round(r() * 24 - 12) / 8, Math.round(r() * 24 - 12) / 8]);
  return { x, y: x.map(([a, b]) => (a + 0.5 * b > 0 ? 1 : 0)) };
}

const TRAIN = samples(24, 7);
const VAL = samples(8, 8);

interface Case {
  /** With a DataLoader (and validation data) or full-batch. */
  loader?: { shuffle: boolean; seed: number; batch_size: number };
  epochs: number;
  /** The first dropout as F.dropout(training=True), which draws in validation too (else nn.Dropout). */
  functional?: boolean;
}

/**
 * x -> F.dropout(p=0.2, seed 11) -> Linear(2, 8) -> tanh -> nn.Dropout(p=0.3, seed 99) -> Linear(8, 2) ->
 * cross_entropy -> Adam. The first dropout reads the data, not a trained value: it still draws every step.
 * The second one's seed differs and is not used (one generator for the run, seeded by the first).
 */
function graph(c: Case): Record<string, unknown> {
  const nodes: { id: string; type: string; params: Record<string, ParamValue> }[] = [];
  const edges: { source: string; sourcePort: string; target: string; targetPort: string }[] = [];
  const node = (id: string, type: string, params: Record<string, ParamValue> = {}) =>
    nodes.push({ id, type, params });
  const edge = (source: string, sourcePort: string, target: string, targetPort: string) =>
    edges.push({ source, sourcePort, target, targetPort });
  node("x", "tensor", { data: TRAIN.x, dtype: "float32" });
  node("y", "tensor", { data: TRAIN.y, dtype: "int64" });
  let xs = ["x", "out"];
  let ys = ["y", "out"];
  if (c.loader) {
    node("vx", "tensor", { data: VAL.x, dtype: "float32" });
    node("vy", "tensor", { data: VAL.y, dtype: "int64" });
    node("loader", "DataLoader", c.loader);
    edge("x", "out", "loader", "x");
    edge("y", "out", "loader", "y");
    edge("vx", "out", "loader", "val_x");
    edge("vy", "out", "loader", "val_y");
    xs = ["loader", "x"];
    ys = ["loader", "y"];
  }
  node("drop_in", c.functional ? "dropout" : "Dropout", { p: 0.2, seed: 11 });
  node("l1", "Linear", { in_features: 2, out_features: 8, seed: 1 });
  node("h", "tanh");
  node("drop", "Dropout", { p: 0.3, seed: 99 });
  node("l2", "Linear", { in_features: 8, out_features: 2, seed: 2 });
  node("loss", "cross_entropy");
  node("opt", "Adam", { lr: 0.05 });
  edge(xs[0], xs[1], "drop_in", "input");
  edge("drop_in", "out", "l1", "input");
  edge("l1", "out", "h", "input");
  edge("h", "out", "drop", "input");
  edge("drop", "out", "l2", "input");
  edge("l2", "out", "loss", "input");
  edge(ys[0], ys[1], "loss", "target");
  edge("loss", "out", "opt", "loss");
  return {
    format: "gradwire.graph",
    version: CURRENT_VERSION,
    title: "dropout",
    settings: { epochs: c.epochs },
    nodes: nodes.map((n, i) => ({ ...n, position: { x: 200 * i, y: 0 } })),
    edges: edges.map((e, i) => ({ id: `e${i}`, ...e })),
  };
}

/** The same training written by hand in PyTorch, as a user would: one seed before the loop. */
function userScript(c: Case): string {
  const loop = c.loader
    ? `
loader = DataLoader(TensorDataset(X, Y), batch_size=${c.loader.batch_size}${c.loader.shuffle ? `, shuffle=True, generator=torch.Generator().manual_seed(${c.loader.seed})` : ""})
torch.manual_seed(11)
for epoch in range(${c.epochs}):
    model.train()
    steps = []
    for xb, yb in loader:
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps.append(loss.item())
    model.eval()
    with torch.no_grad():
        val_loss = F.cross_entropy(model(VX), VY).item()
    print(json.dumps({"epoch": epoch, "loss": sum(steps) / len(steps), "steps": steps, "val_loss": val_loss}))
`
    : `
torch.manual_seed(11)
for epoch in range(${c.epochs}):
    loss = F.cross_entropy(model(X), Y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(json.dumps({"epoch": epoch, "loss": loss.item()}))
`;
  return `
import json
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

X = torch.tensor(${JSON.stringify(TRAIN.x)})
Y = torch.tensor(${JSON.stringify(TRAIN.y)})
VX = torch.tensor(${JSON.stringify(VAL.x)})
VY = torch.tensor(${JSON.stringify(VAL.y)})


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.l1 = nn.Linear(2, 8)
        torch.manual_seed(2)
        self.l2 = nn.Linear(8, 2)
        self.drop_in = nn.Dropout(0.2)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        ${c.functional ? "x = F.dropout(x, 0.2, training=True)" : "x = self.drop_in(x)"}
        return self.l2(self.drop(torch.tanh(self.l1(x))))


model = Net()
opt = torch.optim.Adam(model.parameters(), lr=0.05)
${loop}`;
}

function runPython(code: string): Line[] {
  const py = spawnSync(PYTHON, ["-c", code], { encoding: "utf8" });
  expect(py.stderr).toBe("");
  return lines(py.stdout);
}

function train(file: string, backend: "cpu" | "webgpu"): Line[] {
  const r = gradwire("train", file, "--jsonl", "--steps", "--backend", backend);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout.split("\n")[0]).backend).toBe(backend);
  return lines(r.stdout);
}

/** Each epoch's loss (and batch losses and validation loss) within `tol` relative of the reference's. */
function expectLosses(got: Line[], want: Line[], tol: number, what: string): void {
  expect(got.length).toBe(want.length);
  const close = (a: number, b: number, path: string) =>
    expect(Math.abs(a - b), `${path}: ${a} (${what}) vs ${b}`).toBeLessThanOrEqual(tol * (1 + Math.abs(b)));
  for (const [k, w] of want.entries()) {
    close(got[k].loss, w.loss, `epoch ${k} loss`);
    if (w.val_loss !== undefined) close(got[k].val_loss!, w.val_loss, `epoch ${k} val_loss`);
    for (const [i, s] of (w.steps ?? []).entries()) close(got[k].steps![i], s, `epoch ${k} step ${i}`);
  }
}

const CASES: Case[] = [
  { epochs: 6, functional: true },
  { loader: { shuffle: true, seed: 5, batch_size: 8 }, epochs: 4 },
  // F.dropout(training=True) ignores model.eval(): the validation pass draws a mask too, in PyTorch and here.
  { loader: { shuffle: true, seed: 5, batch_size: 8 }, epochs: 3, functional: true },
  // Without shuffle the DataLoader has no generator of its own: each epoch's iter(loader) draws its base seed
  // from the global generator, between the masks. Batches of 10, 10 and 4: WebGPU compiles a second program for
  // the last one, whose masks have the shorter batch's shape.
  { loader: { shuffle: false, seed: 0, batch_size: 10 }, epochs: 4 },
];

describe("dropout draws a new mask every step, from one generator seeded before the loop", () => {
  for (const c of CASES) {
    const first = c.functional ? "F.dropout(training=True)" : "nn.Dropout";
    const name = c.loader
      ? `mini-batches of ${c.loader.batch_size} (shuffle=${c.loader.shuffle}) with validation in eval mode, ${first} on the batch`
      : `full batch, ${first} on the data`;
    it(`${name}: gradwire train = PyTorch's own loop = the exported script; WebGPU = CPU`, () => {
      const doc = graph(c);
      const file = tempFile(JSON.stringify(doc));
      const ours = train(file, "cpu");
      const torch = runPython(userScript(c));
      // The masks differ from epoch to epoch: the losses would repeat a pattern with one fixed mask.
      expect(new Set(ours.map((l) => l.loss)).size).toBe(ours.length);
      expectLosses(ours, torch, 2e-6, "gradwire");
      const loaded = loadGraph(doc);
      if (!loaded.ok) throw new Error("does not load");
      const script = torchScript(loaded.doc);
      if (!script.ok) throw new Error(script.message);
      expect(script.code).not.toMatch(/fork_rng/);
      expect(script.code.match(/torch\.manual_seed\(11\)/g)).toHaveLength(1);
      const exported = runPython(script.code);
      expectLosses(ours, exported, 2e-6, "gradwire");
      // WebGPU draws the same masks from the same generator, written to the device before each step.
      expectLosses(train(file, "webgpu"), ours, 2e-4, "WebGPU");
    });
  }
});

describe("the run's generator in the trainer", () => {
  let device: GpuDevice | null = null;
  beforeAll(() => {
    registerBackend("webgpu", async () => {
      device ??= await acquireDevice();
      return webgpuBackend(device);
    });
  });
  afterAll(() => device?.destroy());

  function trainer() {
    const loaded = loadGraph(graph({ epochs: 6, functional: true }));
    if (!loaded.ok) throw new Error("does not load");
    const s = new Scheduler();
    s.setGraph(loaded.doc);
    const t = new Trainer(s, { yieldFn: async () => {} });
    const records: EpochRecord[] = [];
    t.onRecords((rs) => records.push(...rs));
    return { t, losses: () => records.map((r) => r.loss) };
  }

  it("goes on across single steps, a switch to WebGPU mid-run and back; a reset starts it over", async () => {
    const plain = trainer();
    await plain.t.run();
    const mixed = trainer();
    await mixed.t.step();
    await mixed.t.step();
    await mixed.t.setBackend("webgpu");
    await mixed.t.step();
    await mixed.t.step();
    expect(mixed.t.state.backend).toBe("webgpu");
    await mixed.t.setBackend("cpu");
    await mixed.t.run();
    const want = plain.losses();
    const got = mixed.losses();
    expect(got).toHaveLength(6);
    for (const [k, l] of got.entries()) expect(Math.abs(l - want[k]), `epoch ${k}`).toBeLessThanOrEqual(2e-4);
    // The same graph run again from the start draws the same masks again.
    await plain.t.reset();
    await plain.t.run();
    expect(plain.losses().slice(6)).toEqual(want);
  });
});

describe("one seed for the run", () => {
  it("a later dropout's different seed is named as not used while training", () => {
    const loaded = loadGraph(graph({ epochs: 1, functional: true }));
    if (!loaded.ok) throw new Error("does not load");
    const warnings = validateGraph(loaded.doc, registry).issues.filter((i) => i.severity === "warning");
    expect(warnings).toEqual([
      {
        severity: "warning",
        code: "lint",
        message:
          "node 'drop' (Dropout): seed 99 is not used while training: one generator draws every dropout mask of the run, seeded with 'drop_in' (dropout)'s seed 11 (as one torch.manual_seed before the loop)",
        nodeId: "drop",
        param: "seed",
      },
    ]);
  });
});

describe("the distributed export", () => {
  it("refuses dropout, naming the node: each process would draw its own masks", () => {
    const loaded = loadGraph(graph({ epochs: 1 }));
    if (!loaded.ok) throw new Error("does not load");
    const r = torchScript(loaded.doc, { distributed: true });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toMatch(/'drop_in'.*each process.*plain script/);
      expect(r.nodeId).toBe("drop_in");
    }
  });
});

describe("outside training", () => {
  it("nn.Dropout is the identity in eval mode and draws nothing", () => {
    const loaded = loadGraph(graph({ loader: { shuffle: true, seed: 5, batch_size: 8 }, epochs: 1 }));
    if (!loaded.ok) throw new Error("does not load");
    const s = new Scheduler();
    s.setGraph(loaded.doc);
    s.training = false;
    s.evaluate();
    expect(Array.from(s.value("drop")!.data)).toEqual(Array.from(s.value("h")!.data));
    expect(Array.from(s.value("drop_in")!.data)).toEqual(Array.from(s.value("loader", "x")!.data));
  });

  it("a preview draws as torch.manual_seed(seed) right before the call, and the eval script says so", () => {
    const loaded = loadGraph(graph({ epochs: 1, functional: true }));
    if (!loaded.ok) throw new Error("does not load");
    const s = new Scheduler();
    s.setGraph(loaded.doc);
    s.evaluate();
    const script = torchScript(loaded.doc, { mode: "eval" });
    if (!script.ok) throw new Error(script.message);
    expect(script.code).toMatch(/torch\.manual_seed\(11\)\n.*F\.dropout\(/);
    // nn.Dropout is an object made once (`drop = nn.Dropout(p=0.3)`) and called where the node sits.
    expect(script.code).toMatch(/^drop = nn\.Dropout\(p=0\.3\)$/m);
    expect(script.code).toMatch(/torch\.manual_seed\(99\)\ndrop_out = drop\(h\)\n/);
    const py = spawnSync(PYTHON, ["-c", script.code], { encoding: "utf8" });
    expect(py.stderr).toBe("");
    const nodes = JSON.parse(py.stdout).nodes as Record<string, { data: number[] }>;
    // The same elements dropped; the kept ones equal up to tanh's float32 rounding upstream.
    for (const id of ["drop_in", "drop"]) {
      const ours = Array.from(s.value(id)!.data);
      const theirs = nodes[id].data;
      expect(ours.map((v) => v === 0)).toEqual(theirs.map((v) => v === 0));
      for (const [i, v] of ours.entries()) expect(Math.abs(v - theirs[i])).toBeLessThanOrEqual(1e-6);
    }
  });
});

describe("a graph file from before masks were drawn per step", () => {
  it("loads unchanged (the seed now seeds the run) and trains", () => {
    const old = {
      ...graph({ epochs: 2, functional: true }),
      version: 3,
    };
    const loaded = loadGraph(old);
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.migratedFrom).toBeUndefined();
    expect(loaded.doc.nodes.drop_in.params).toEqual({ p: 0.2, seed: 11 });
    const r = gradwire("train", tempFile(JSON.stringify(old)), "--jsonl", "--backend", "cpu");
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toHaveLength(2);
  });
});
