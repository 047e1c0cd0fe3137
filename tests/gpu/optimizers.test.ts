// Optimizer trajectories of hundreds of steps trained on WebGPU (the training session the scheduler uses)
// against torch.optim and against the CPU runtime, to 1e-4 relative in float32.
import { beforeAll, describe, expect, it } from "vitest";
import type { TrainingProgram } from "../../src/engine/scheduler-backend.ts";
import { GpuTrainingSession } from "../../src/gpu/session.ts";
import { readParams, registry } from "../../src/nodes/index.ts";
import type { ParamValue } from "../../src/nodes/types.ts";
import {
  crossEntropy,
  mseLoss,
  ops as O,
  OPTIMIZERS,
  type Optimizer,
  type OptimizerName,
  type Tensor,
} from "../../src/runtime/index.ts";
import {
  decodeNum,
  Inputs,
  mismatch,
  type OptimAnswer,
  type OptimCase,
  type TensorSpec,
  torchBatch,
  toTensor,
} from "../helpers/torch.ts";
import { paramTol, useDevice } from "./harness.ts";

const device = useDevice();
const I = new Inputs(8128);
const spec = (shape: number[], o: Parameters<Inputs["t"]>[2] = {}): TensorSpec =>
  I.t(shape, "float32", { requiresGrad: false, ...o }).tensor;

/** The objectives torch_ref.py defines under the same names. */
const OBJECTIVES: Record<string, (p: Tensor[], d: Record<string, Tensor>) => Tensor> = {
  regression: ([w, b], d) => mseLoss(O.add(O.matmul(d.X, w), b), d.y),
  mlp: ([w1, b1, w2, b2], d) => crossEntropy(O.linear(O.tanh(O.linear(d.X, w1, b1)), w2, b2), d.y),
  quartic: ([p], d) => O.add(O.sum(O.pow(O.sub(O.mul(p, p), d.c), 2)), O.sum(O.mul(p, d.a))),
};

function problem(objective: string): Pick<OptimCase, "objective" | "data" | "params"> {
  if (objective === "regression")
    return {
      objective,
      data: { X: spec([16, 3]), y: spec([16], { lo: -4, hi: 4 }) },
      params: [spec([3], { lo: -1, hi: 1 }), spec([1], { values: [0.5] })],
    };
  if (objective === "mlp")
    return {
      objective,
      data: { X: spec([32, 2]), y: I.classes([32], 3).tensor },
      params: [spec([8, 2], { lo: -1, hi: 1 }), spec([8]), spec([3, 8], { lo: -1, hi: 1 }), spec([3])],
    };
  return {
    objective,
    data: { c: spec([5], { lo: 0.5, hi: 2 }), a: spec([5], { lo: -0.5, hi: 0.5 }) },
    params: [spec([5], { lo: -1.5, hi: 1.5 })],
  };
}

interface Run {
  name: string;
  c: OptimCase;
}
const runs: Run[] = [];
function traj(
  optimizer: OptimizerName,
  kwargs: OptimCase["kwargs"],
  objective: string,
  extra: Partial<OptimCase> = {},
) {
  const tags = [
    extra.zero_grad === false ? "without zero_grad" : "",
    extra.lr_schedule ? "with an lr change" : "",
  ];
  runs.push({
    name: `${optimizer} ${JSON.stringify(kwargs)} on ${objective} ${tags.join(" ")}`.trim(),
    c: { kind: "optim", optimizer, kwargs, steps: 300, ...problem(objective), ...extra },
  });
}
traj("SGD", { lr: 0.05 }, "regression");
traj("SGD", { lr: 0.02, momentum: 0.9, dampening: 0.5 }, "quartic");
traj("SGD", { lr: 0.02, momentum: 0.8, nesterov: true, weight_decay: 0.05 }, "mlp");
traj("SGD", { lr: 0.01, maximize: true }, "quartic");
traj("Adam", { lr: 0.01 }, "mlp");
traj("Adam", { lr: 0.05, betas: [0.8, 0.99], eps: 1e-6 }, "regression");
traj("Adam", { lr: 0.02, amsgrad: true, weight_decay: 0.05, betas: [0.5, 0.9] }, "quartic");
traj("AdamW", { lr: 0.01 }, "mlp");
traj("AdamW", { lr: 0.03, weight_decay: 0.2, amsgrad: true }, "regression");
traj("RMSprop", { lr: 0.002 }, "mlp");
traj("RMSprop", { lr: 0.001, alpha: 0.9, eps: 1e-4 }, "quartic");
traj("RMSprop", { lr: 0.002, centered: true, momentum: 0.5, weight_decay: 0.01 }, "quartic");
traj("Adagrad", { lr: 0.1 }, "mlp");
traj("Adagrad", { lr: 0.2, lr_decay: 0.01, initial_accumulator_value: 0.1, eps: 1e-6 }, "regression");
traj("Adagrad", { lr: 0.1, weight_decay: 0.05 }, "quartic");
traj("SGD", { lr: 0.001 }, "regression", { zero_grad: false });
traj("Adam", { lr: 0.01 }, "mlp", { zero_grad: false });
// A learning rate changed between steps takes effect at the next step, however far the GPU had run ahead.
traj("SGD", { lr: 0.05, momentum: 0.9 }, "regression", { lr_schedule: [[100, 0.01]] });
traj("Adam", { lr: 0.02 }, "mlp", { lr_schedule: [[150, 0.005]] });
traj("Adagrad", { lr: 0.1, lr_decay: 0.01 }, "quartic", { lr_schedule: [[50, 0.3]] });
// The optimizers added as specs, each with every argument set once (their data drawn after the cases above).
traj("NAdam", { lr: 0.005 }, "mlp");
traj(
  "NAdam",
  { lr: 0.002, betas: [0.8, 0.99], eps: 1e-6, weight_decay: 0.05, momentum_decay: 0.01 },
  "quartic",
);
traj("RAdam", { lr: 0.01 }, "mlp");
traj("RAdam", { lr: 0.005, betas: [0.8, 0.99], eps: 1e-6, weight_decay: 0.05 }, "regression");
traj("Adamax", { lr: 0.01 }, "mlp");
traj("Adamax", { lr: 0.005, betas: [0.8, 0.99], eps: 1e-6, weight_decay: 0.05, maximize: true }, "quartic");
traj("Adadelta", { lr: 1 }, "mlp");
traj("Adadelta", { lr: 0.2, rho: 0.8, eps: 1e-4, weight_decay: 0.05 }, "regression");
traj("ASGD", { lr: 0.01 }, "mlp");
traj("ASGD", { lr: 0.02, lambd: 0.01, alpha: 0.5, t0: 100, weight_decay: 0.05 }, "quartic");
traj("ASGD", { lr: 0.02, t0: 50 }, "regression", { lr_schedule: [[100, 0.005]] });

const TOL = { rtol: 1e-4, atol: 1e-6 };
/** GPU and CPU are each within TOL of torch, so within twice that of each other. */
const TOL2 = { rtol: 2e-4, atol: 2e-6 };

function inputsOf(c: OptimCase) {
  const params = c.params.map((p) => toTensor({ ...p, requires_grad: true }));
  const data = Object.fromEntries(Object.entries(c.data).map(([k, v]) => [k, toTensor(v)]));
  return { params, data };
}

/** The CPU runtime's trajectory, torch's loop op for op. */
function onCpu(c: OptimCase): { losses: number[]; params: Tensor[] } {
  const { params, data } = inputsOf(c);
  const Ctor = OPTIMIZERS[c.optimizer as OptimizerName];
  const opt: Optimizer = new Ctor(params, c.kwargs as ConstructorParameters<typeof Ctor>[1]);
  const schedule = new Map(c.lr_schedule ?? []);
  const losses: number[] = [];
  for (let step = 0; step < c.steps; step++) {
    const lr = schedule.get(step);
    if (lr !== undefined) opt.setHyper("lr", lr);
    if (c.zero_grad !== false) opt.zeroGrad();
    const loss = OBJECTIVES[c.objective](params, data);
    loss.backward();
    losses.push(loss.item());
    opt.step();
  }
  return { losses, params };
}

/** The same loop through the GPU training session: the program the scheduler would hand it. */
async function onGpu(c: OptimCase): Promise<{ losses: number[]; params: Tensor[]; kernels: number }> {
  const { params, data } = inputsOf(c);
  const kind = registry.get(c.optimizer);
  if (!kind) throw new Error(`no node kind ${c.optimizer}`);
  const hyper = readParams(kind, c.kwargs as Record<string, ParamValue>);
  const program: TrainingProgram = {
    groups: [
      {
        nodeId: "opt",
        kind,
        params: params.map((tensor, i) => ({ id: `p${i}`, nodeId: `p${i}`, leaf: "", tensor })),
        hyper,
        zeroGrad: c.zero_grad !== false,
        loss: { nodeId: "loss", port: "out" },
      },
    ],
    forward: () => {
      const loss = OBJECTIVES[c.objective](params, data);
      return { losses: [loss], objective: loss };
    },
    labelOf: (id) => id,
  };
  const session = await GpuTrainingSession.start(device(), program);
  const schedule = new Map(c.lr_schedule ?? []);
  const losses: number[] = [];
  try {
    for (let step = 0; step < c.steps; step++) {
      const lr = schedule.get(step);
      if (lr !== undefined) session.setHyper("opt", "lr", lr);
      const out = await session.epoch(c.steps - step);
      expect(out.stepped).toBe(true);
      losses.push(out.loss);
    }
    await session.sync();
    return { losses, params, kernels: session.kernelsPerEpoch };
  } finally {
    session.dispose();
  }
}

describe("optimizer trajectories on WebGPU match torch.optim and the CPU", () => {
  const answers = new Map<string, OptimAnswer>();
  beforeAll(() => {
    torchBatch(runs.map((r) => r.c)).forEach((a, i) => {
      answers.set(runs[i].name, a as OptimAnswer);
    });
  });
  for (const r of runs)
    it(r.name, async () => {
      const want = answers.get(r.name);
      if (!want || want.error) throw new Error(`torch: ${want?.error ?? "no answer"}`);
      const gpu = await onGpu(r.c);
      const cpu = onCpu(r.c);
      const torchLosses = want.losses.map(decodeNum);
      if (process.env.GW_DEBUG)
        gpu.params.forEach((p, k) => {
          p.data.forEach((v, i) => {
            const t = decodeNum(want.params[k].data[i]);
            if (Math.abs(v - t) > 1e-6 + 1e-4 * Math.abs(t))
              console.log(r.name, k, i, v, t, cpu.params[k].data[i]);
          });
        });
      expect(mismatch(gpu.losses, torchLosses, TOL), "losses vs torch").toBeNull();
      expect(mismatch(gpu.losses, cpu.losses, TOL2), "losses vs the CPU").toBeNull();
      gpu.params.forEach((p, k) => {
        expect(mismatch(p.data, want.params[k].data.map(decodeNum), TOL), `param ${k} vs torch`).toBeNull();
        // Both are within TOL of torch element by element; against each other, relative to the tensor's scale.
        const near = paramTol(cpu.params[k].data);
        expect(
          mismatch(p.data, cpu.params[k].data, { rtol: 2 * near.rtol, atol: 2 * near.atol }),
          `param ${k} vs the CPU`,
        ).toBeNull();
      });
    });
});
