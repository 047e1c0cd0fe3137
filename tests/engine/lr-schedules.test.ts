/**
 * Learning-rate scheduler nodes in training, against PyTorch: the thermometer regression with each scheduler
 * (several argument sets, SGD with and without momentum, Adam, RMSprop; float64 and float32) is trained by
 * gradwire's trainer and by its exported script under torch 1.13 (which constructs the real
 * torch.optim.lr_scheduler classes and steps them where the loop does). Every epoch's loss, lr and parameters
 * must be identical on the CPU; on WebGPU (float32 kernels) the lr is identical, the trajectory close. The
 * command line prints the same lines as the script, and a badly wired scheduler is refused with a message
 * naming it.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { LrSchedules } from "../../src/engine/lr-schedules.ts";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { registerBackend } from "../../src/engine/scheduler-backend.ts";
import { type EpochRecord, Trainer } from "../../src/engine/train.ts";
import { torchScript } from "../../src/export/torch-script.ts";
import { webgpuBackend } from "../../src/gpu/backend.ts";
import { acquireDevice, type GpuDevice } from "../../src/gpu/device.ts";
import { canConnect } from "../../src/graph/connect.ts";
import type { GraphDocument } from "../../src/graph/document.ts";
import { serializeGraph } from "../../src/graph/format.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { registry } from "../../src/nodes/index.ts";
import type { ParamValue } from "../../src/nodes/types.ts";
import { mismatch, PYTHON } from "../helpers/torch.ts";
import { build, THERMOMETER_T_C, THERMOMETER_T_U } from "../scheduler/helpers.ts";

const RUNNER = fileURLToPath(new URL("../export/run_scripts.py", import.meta.url));
const EPOCHS = 30;

type Params = Record<string, ParamValue>;

interface Case {
  name: string;
  dtype: "float32" | "float64";
  optimizer: [string, Params];
  schedulers: [string, Params][];
}

/** w * t_u + b against t_c, params [w, b] from [1, 1]: the thermometer regression. */
function thermometer(c: Case): GraphDocument {
  const [opt, hyper] = c.optimizer;
  return build(
    [
      ["t_u", "tensor", { data: THERMOMETER_T_U, dtype: c.dtype }],
      ["t_c", "tensor", { data: THERMOMETER_T_C, dtype: c.dtype }],
      ["params", "tensor", { data: [1, 1], dtype: c.dtype, requires_grad: true }],
      ["w", "narrow", { dim: 0, start: 0, length: 1 }],
      ["b", "narrow", { dim: 0, start: 1, length: 1 }],
      ["w_t_u", "mul"],
      ["t_p", "add"],
      ["loss", "mse_loss"],
      [opt, opt, hyper],
      ...c.schedulers.map(([type, p], i): [string, string, Params] => [`${type}_${i}`, type, p]),
    ],
    [
      ["params", "w", "input"],
      ["params", "b", "input"],
      ["w", "w_t_u", "input"],
      ["t_u", "w_t_u", "other"],
      ["w_t_u", "t_p", "input"],
      ["b", "t_p", "other"],
      ["t_p", "loss", "input"],
      ["t_c", "loss", "target"],
      ["loss", opt, "loss"],
      ...c.schedulers.map(([type], i): [string, string, string] => [opt, `${type}_${i}`, "optimizer"]),
    ],
    EPOCHS,
  );
}

const sgd: [string, Params] = ["SGD", { lr: 0.01 }];
const CASES: Case[] = [
  {
    name: "StepLR",
    dtype: "float32",
    optimizer: sgd,
    schedulers: [["StepLR", { step_size: 4, gamma: 0.5 }]],
  },
  {
    name: "MultiStepLR, SGD with momentum",
    dtype: "float64",
    optimizer: ["SGD", { lr: 0.005, momentum: 0.9 }],
    schedulers: [["MultiStepLR", { milestones: [3, 8, 20], gamma: 0.3 }]],
  },
  {
    name: "ExponentialLR, Adam",
    dtype: "float32",
    optimizer: ["Adam", { lr: 0.1 }],
    schedulers: [["ExponentialLR", { gamma: 0.9 }]],
  },
  {
    name: "CosineAnnealingLR over the run (T_max None)",
    dtype: "float64",
    optimizer: sgd,
    schedulers: [["CosineAnnealingLR", { eta_min: 0.001 }]],
  },
  {
    name: "CosineAnnealingLR with restarts, Adam",
    dtype: "float32",
    optimizer: ["Adam", { lr: 0.05 }],
    schedulers: [["CosineAnnealingLR", { T_max: 7 }]],
  },
  { name: "LinearLR", dtype: "float32", optimizer: sgd, schedulers: [["LinearLR", {}]] },
  {
    name: "OneCycleLR over the run, cycling SGD's momentum",
    dtype: "float32",
    optimizer: ["SGD", { lr: 0.01, momentum: 0.9 }],
    schedulers: [["OneCycleLR", { max_lr: 0.02 }]],
  },
  {
    name: "OneCycleLR, three phases, linear, cycling Adam's beta1",
    dtype: "float64",
    optimizer: ["Adam", { lr: 0.1, betas: [0.9, 0.99] }],
    schedulers: [
      [
        "OneCycleLR",
        { max_lr: 0.1, total_steps: 30, three_phase: true, anneal_strategy: "linear", pct_start: 0.4 },
      ],
    ],
  },
  {
    name: "OneCycleLR without momentum cycling, RMSprop",
    dtype: "float32",
    optimizer: ["RMSprop", { lr: 0.01 }],
    schedulers: [["OneCycleLR", { max_lr: 0.01, epochs: 30, steps_per_epoch: 1, cycle_momentum: false }]],
  },
  {
    name: "ReduceLROnPlateau",
    dtype: "float64",
    optimizer: sgd,
    schedulers: [["ReduceLROnPlateau", { patience: 1, factor: 0.5, threshold: 0.05 }]],
  },
  {
    name: "ReduceLROnPlateau, max mode, abs threshold, cooldown, min_lr",
    dtype: "float32",
    optimizer: sgd,
    schedulers: [
      [
        "ReduceLROnPlateau",
        { mode: "max", threshold_mode: "abs", patience: 1, cooldown: 2, min_lr: 0.002, factor: 0.7 },
      ],
    ],
  },
  {
    name: "LinearLR warm-up chained with CosineAnnealingLR",
    dtype: "float32",
    optimizer: sgd,
    schedulers: [
      ["LinearLR", { start_factor: 0.1, total_iters: 4 }],
      ["CosineAnnealingLR", { T_max: 30 }],
    ],
  },
];

interface Line {
  epoch: number;
  loss: number;
  lr: number;
  params: Record<string, number[]>;
}

const TOL = { float64: { rtol: 1e-12, atol: 1e-14 }, float32: { rtol: 1e-5, atol: 1e-7 } };

const dir = mkdtempSync(join(tmpdir(), "gradwire-lr-"));

/** Each case's exported script run by torch, in one Python process. */
function torchLines(): Line[][] {
  const runs = CASES.map((c, i) => {
    const r = torchScript(thermometer(c).state);
    if (!r.ok) throw new Error(`${c.name}: ${r.message}`);
    const path = join(dir, `case${i}.py`);
    writeFileSync(path, r.code);
    return { path, argv: [] };
  });
  const py = spawnSync(PYTHON, [RUNNER], { input: JSON.stringify({ runs }), encoding: "utf8" });
  if (py.status !== 0) throw new Error(py.stderr);
  const { results } = JSON.parse(py.stdout) as {
    results: { stdout: string; stderr: string; code: number }[];
  };
  return results.map((r, i) => {
    if (r.code !== 0) throw new Error(`${CASES[i].name}: ${r.stderr}`);
    return r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Line);
  });
}

async function train(c: Case, backend: "cpu" | "webgpu") {
  const s = new Scheduler();
  s.setGraph(thermometer(c).state);
  const t = new Trainer(s, { backend, yieldFn: async () => {} });
  const records: EpochRecord[] = [];
  t.onRecords((rs) => records.push(...rs));
  await t.run();
  return { records, state: t.state };
}

const want = torchLines();

describe("scheduled training equals the exported PyTorch loop", () => {
  it.each(CASES.map((c, i) => [c.name, c, want[i]] as const))("CPU, %s", async (_, c, lines) => {
    const { records, state } = await train(c, "cpu");
    expect(state.message).toBeUndefined();
    expect(records.map((r) => r.epoch)).toEqual(lines.map((l) => l.epoch));
    expect(records.map((r) => r.lr)).toEqual(lines.map((l) => l.lr));
    // The learning rates are torch's to the bit. The trajectory is within rounding: gradwire's reductions (the
    // backward of w * t_u sums twelve products) do not always add in torch's order, with or without a schedule.
    const tol = TOL[c.dtype];
    expect(
      mismatch(
        records.map((r) => r.loss),
        lines.map((l) => l.loss),
        tol,
      ),
      "losses",
    ).toBeNull();
    expect(
      mismatch(
        records.flatMap((r) => r.params.params),
        lines.flatMap((l) => l.params.params),
        tol,
      ),
      "params",
    ).toBeNull();
    // The schedule changes the learning rate: the case tests something.
    expect(new Set(lines.map((l) => l.lr)).size).toBeGreaterThan(1);
  });

  it("gradwire train --jsonl prints the script's lines, lr after loss; plain train shows the lr", async () => {
    const c = CASES[6];
    const file = join(dir, "onecycle.json");
    writeFileSync(file, serializeGraph(thermometer(c).state));
    let stdout = "";
    const io = { stdout: { write: (x: string) => (stdout += x) }, stderr: { write: () => true } };
    const code = await main(["train", file, "--jsonl", "--backend", "cpu"], io as never);
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n").slice(1);
    expect(lines.map((l) => Object.keys(JSON.parse(l)))).toEqual(
      lines.map(() => ["epoch", "loss", "lr", "params"]),
    );
    const got = lines.map((l) => JSON.parse(l) as Line);
    expect(got.map((l) => l.lr)).toEqual(want[6].map((l) => l.lr));
    expect(
      mismatch(
        got.map((l) => l.loss),
        want[6].map((l) => l.loss),
        TOL.float32,
      ),
    ).toBeNull();
    // Without --jsonl, the progress lines name the lr too.
    stdout = "";
    expect(await main(["train", file, "--backend", "cpu"], io as never)).toBe(0);
    expect(stdout.split("\n")[0]).toMatch(/^epoch 0 {2}loss \S+ {2}lr \S+$/);
  });
});

describe("on WebGPU, the scheduled lr reaches every step's uniforms", () => {
  let device: GpuDevice | null = null;
  beforeAll(() => {
    registerBackend("webgpu", async () => {
      if (!device || device.isLost) device = await acquireDevice();
      // Small command buffers: epochs run ahead of their readback in several batches.
      return webgpuBackend(device, { maxBatch: 4 });
    });
  });
  afterAll(() => device?.destroy());

  const gpuCases = CASES.flatMap((c, i) =>
    c.schedulers.some(([t]) => t === "ReduceLROnPlateau") ? [] : [[c.name, c, want[i]] as const],
  );
  it.each(gpuCases)("%s", async (_, c, lines) => {
    const { records, state } = await train({ ...c, dtype: "float32" }, "webgpu");
    expect(state.backend).toBe("webgpu");
    expect(state.message).toBeUndefined();
    const torch32 = c.dtype === "float32" ? lines : (await train({ ...c, dtype: "float32" }, "cpu")).records;
    expect(records.map((r) => r.lr)).toEqual(torch32.map((l) => l.lr));
    const tol = { rtol: 1e-4, atol: 1e-6 };
    expect(
      mismatch(
        records.map((r) => r.loss),
        torch32.map((l) => l.loss),
        tol,
      ),
    ).toBeNull();
    expect(
      mismatch(
        records.flatMap((r) => r.params.params),
        torch32.flatMap((l) => l.params.params),
        tol,
      ),
    ).toBeNull();
  });

  it("a pause rolls the run-ahead GPU back with its schedules, and a switch of backend carries them", async () => {
    const c = { ...CASES[6], dtype: "float32" as const };
    const s = new Scheduler();
    s.setGraph(thermometer(c).state);
    const t = new Trainer(s, { backend: "webgpu", yieldFn: async () => {}, sliceMs: 0 });
    const records: EpochRecord[] = [];
    const pauses = [5, 15];
    t.onRecords((rs) => {
      records.push(...rs);
      // Paused while the GPU has run ahead: the session rolls back to the last delivered epoch.
      if (records.length >= pauses[0]) {
        pauses.shift();
        t.pause();
      }
    });
    await t.run();
    expect(t.state.status).toBe("paused");
    const pausedAt = records.length;
    await t.resume();
    expect(t.state.status).toBe("paused");
    expect(t.state.backend).toBe("webgpu");
    // Then on to the CPU mid-run: the schedules continue where the GPU left them.
    await t.setBackend("cpu");
    await t.resume();
    expect(t.state.status).toBe("done");
    expect(pausedAt).toBeLessThan(EPOCHS);
    expect(records.map((r) => r.epoch)).toEqual(want[6].map((l) => l.epoch));
    expect(records.map((r) => r.lr)).toEqual(want[6].map((l) => l.lr));
    expect(
      mismatch(
        records.map((r) => r.loss),
        want[6].map((l) => l.loss),
        { rtol: 1e-4, atol: 1e-6 },
      ),
    ).toBeNull();
  });

  it("OneCycleLR stepped past total_steps stops at the epoch the CPU stops at, though the GPU runs ahead", async () => {
    const c: Case = { ...CASES[0], schedulers: [["OneCycleLR", { total_steps: 10 }]] };
    const cpu = await train(c, "cpu");
    const gpu = await train(c, "webgpu");
    expect(gpu.state.backend).toBe("webgpu");
    expect(gpu.records.map((r) => r.lr)).toEqual(cpu.records.map((r) => r.lr));
    expect(gpu.records.length).toBe(10);
    expect([gpu.state.message, gpu.state.nodeId]).toEqual([cpu.state.message, cpu.state.nodeId]);
  });

  it("ReduceLROnPlateau, which reads each epoch's loss, trains on the CPU with the reason", async () => {
    const { records, state } = await train(CASES[9], "webgpu");
    expect(state.backend).toBe("cpu");
    expect(state.fallback).toMatch(/ReduceLROnPlateau reads each epoch's loss/);
    expect(records.map((r) => r.lr)).toEqual(want[9].map((l) => l.lr));
  });
});

describe("editing a schedule mid-run", () => {
  it("starts the schedule again from the optimizer's lr, keeping the optimizer's state (as torch with a new scheduler)", async () => {
    const c: Case = {
      name: "edit",
      dtype: "float64",
      optimizer: ["SGD", { lr: 0.01, momentum: 0.9 }],
      schedulers: [["StepLR", { step_size: 4, gamma: 0.5 }]],
    };
    const doc = thermometer(c);
    const s = new Scheduler();
    s.setGraph(doc.state);
    const t = new Trainer(s, { backend: "cpu", yieldFn: async () => {}, sliceMs: 0 });
    const records: EpochRecord[] = [];
    t.onRecords((rs) => {
      records.push(...rs);
      if (records.length === 6) t.pause();
    });
    await t.run();
    expect(records.length).toBe(6);
    doc.setParams("StepLR_0", { step_size: 3, gamma: 0.1 });
    s.setGraph(doc.state);
    await t.resume();
    // The same in PyTorch: six epochs, then a new StepLR on the optimizer from lr 0.01 (its momentum kept).
    const py = spawnSync(
      PYTHON,
      [
        "-c",
        `
import json, torch
t_u = torch.tensor(${JSON.stringify(THERMOMETER_T_U)}, dtype=torch.float64)
t_c = torch.tensor(${JSON.stringify(THERMOMETER_T_C)}, dtype=torch.float64)
p = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
opt = torch.optim.SGD([p], lr=0.01, momentum=0.9)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
for epoch in range(${EPOCHS}):
    if epoch == 6:
        opt.param_groups[0]["lr"] = 0.01
        del opt.param_groups[0]["initial_lr"]
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.1)
    lr = opt.param_groups[0]["lr"]
    loss = torch.nn.functional.mse_loss(p[0:1] * t_u + p[1:2], t_c)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(json.dumps({"loss": loss.item(), "lr": lr}))
    sched.step()
`,
      ],
      { encoding: "utf8" },
    );
    expect(py.status, py.stderr).toBe(0);
    const torch = py.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { loss: number; lr: number });
    expect(records.map((r) => r.lr)).toEqual(torch.map((l) => l.lr));
    expect(
      mismatch(
        records.map((r) => r.loss),
        torch.map((l) => l.loss),
        TOL.float64,
      ),
    ).toBeNull();
  });
});

describe("what a schedule sets on its optimizer", () => {
  const groupsOf = (c: Case) => {
    const s = new Scheduler();
    s.setGraph(thermometer(c).state);
    return s.groups();
  };
  const adam: [string, Params] = ["Adam", { lr: 0.1, betas: [0.8, 0.99] }];

  it("a StepLR sets only the lr: an edit of Adam's betas mid-run still counts", () => {
    const groups = groupsOf({ ...CASES[0], optimizer: adam });
    const schedules = LrSchedules.of(groups, { epochs: EPOCHS, stepsPerEpoch: 1 })!;
    const opt = groups[0].kind.optimizer!.create(
      groups[0].params.map((p) => p.tensor),
      groups[0].hyper,
    );
    opt.setHyper("betas", [0.5, 0.9]);
    for (let k = 0; k < 8; k++) {
      schedules.apply(() => opt);
      schedules.afterStep();
      schedules.afterEpoch({ loss: 1 });
    }
    schedules.apply(() => opt);
    expect(opt.hyper.betas).toEqual([0.5, 0.9]);
    expect(opt.hyper.lr).toBe(schedules.lr);
    expect(schedules.lr).toBeLessThan(0.1);
  });

  it("a OneCycleLR cycling the momentum sets Adam's beta1, keeping beta2", () => {
    const groups = groupsOf({ ...CASES[0], optimizer: adam, schedulers: [["OneCycleLR", { max_lr: 0.1 }]] });
    const schedules = LrSchedules.of(groups, { epochs: EPOCHS, stepsPerEpoch: 1 })!;
    const opt = groups[0].kind.optimizer!.create(
      groups[0].params.map((p) => p.tensor),
      groups[0].hyper,
    );
    schedules.apply(() => opt);
    // max_momentum (default 0.95) as beta1 at the cycle's start, with the optimizer's beta2.
    expect(opt.hyper.betas).toEqual([0.95, 0.99]);
    expect(opt.hyper.lr).toBe(schedules.lr);
    expect(schedules.lr).toBeLessThan(0.01);
  });
});

describe("validation names the scheduler", () => {
  const messages = (doc: GraphDocument) =>
    validateGraph(doc.state, registry)
      .issues.filter((i) => i.severity === "error")
      .map((i) => [i.nodeId, i.message]);

  it("a scheduler not wired to an optimizer", () => {
    const doc = thermometer({ ...CASES[0], schedulers: [] });
    doc.addNode({ id: "decay", type: "StepLR", params: {} });
    expect(messages(doc)).toEqual([
      ["decay", expect.stringMatching(/node 'decay' \(StepLR\), input 'optimizer' is not connected/)],
    ]);
  });

  it("a tensor wired into a scheduler, and an optimizer into a tensor input", () => {
    const doc = thermometer({ ...CASES[0], schedulers: [] });
    doc.addNode({ id: "decay", type: "StepLR", params: {} });
    doc.connect({ id: "x1", source: "t_u", sourcePort: "out", target: "decay", targetPort: "optimizer" });
    doc.addNode({ id: "neg", type: "neg", params: {} });
    doc.connect({ id: "x2", source: "SGD", sourcePort: "out", target: "neg", targetPort: "input" });
    expect(messages(doc)).toEqual([
      [
        "decay",
        expect.stringMatching(/'decay'.*input 'optimizer': expected an optimizer.*tensor from 't_u'/),
      ],
      ["neg", expect.stringMatching(/'neg'.*input 'input': 'SGD' is an optimizer/)],
    ]);
  });

  it("a distributed script is refused, naming the scheduler (the plain script has it)", () => {
    const r = torchScript(thermometer(CASES[0]).state, { distributed: true });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect([r.nodeId, r.message]).toEqual([
        "StepLR_0",
        expect.stringMatching(/no learning-rate schedulers/),
      ]);
  });

  it("the editor lets an optimizer's output be dragged only onto a scheduler", () => {
    const doc = thermometer({ ...CASES[0], schedulers: [] });
    doc.addNode({ id: "decay", type: "StepLR", params: {} });
    doc.addNode({ id: "neg", type: "neg", params: {} });
    const from = { source: "SGD", sourcePort: "out", targetPort: "" };
    expect(canConnect(doc.state, registry, { ...from, target: "decay", targetPort: "optimizer" })).toEqual({
      ok: true,
    });
    const refused = canConnect(doc.state, registry, { ...from, target: "neg", targetPort: "input" });
    expect(refused.ok ? "" : refused.reason).toMatch(
      /'SGD' is an optimizer: its output feeds a learning-rate/,
    );
    const tensor = canConnect(doc.state, registry, {
      source: "t_u",
      sourcePort: "out",
      target: "decay",
      targetPort: "optimizer",
    });
    expect(tensor.ok ? "" : tensor.reason).toMatch(/expected an optimizer/);
  });

  it("milestones not increasing", () => {
    const doc = thermometer({ ...CASES[1], schedulers: [["MultiStepLR", { milestones: [5, 3] }]] });
    expect(messages(doc)).toEqual([
      [
        "MultiStepLR_0",
        expect.stringMatching(/'MultiStepLR_0'.*milestones' must be increasing, got \[5, 3\]/),
      ],
    ]);
  });

  it("OneCycleLR cycling the momentum of an optimizer without one stops the run, naming it", async () => {
    const c: Case = { ...CASES[0], optimizer: ["Adagrad", { lr: 0.1 }], schedulers: [["OneCycleLR", {}]] };
    const { records, state } = await train(c, "cpu");
    expect(records).toEqual([]);
    expect(state.status).toBe("error");
    expect(state.nodeId).toBe("OneCycleLR_0");
    expect(state.message).toMatch(/optimizer must support momentum with `cycle_momentum` option enabled/);
  });

  it("OneCycleLR stepped past total_steps stops the run as torch does", async () => {
    const c: Case = { ...CASES[0], schedulers: [["OneCycleLR", { total_steps: 10 }]] };
    const { records, state } = await train(c, "cpu");
    expect(records.length).toBe(10);
    expect(state.nodeId).toBe("OneCycleLR_0");
    expect(state.message).toMatch(
      /epoch 10: .*Tried to step 12 times. The specified number of total steps is 10/,
    );
  });
});
