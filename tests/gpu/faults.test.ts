// Faults on real WebGPU: no adapter, a device lost mid-training, a buffer over the device's limits, a kernel
// that fails validation, and graphs the GPU must refuse (float64). Each becomes a clear message naming the
// node, and training continues on the CPU from where the GPU stopped.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BackendUnavailable, type TrainingProgram } from "../../src/engine/scheduler-backend.ts";
import { acquireDevice } from "../../src/gpu/device.ts";
import { GpuError } from "../../src/gpu/errors.ts";
import { evaluateOnGpu } from "../../src/gpu/evaluate.ts";
import { GpuTrainingSession } from "../../src/gpu/session.ts";
import { readParams, registry } from "../../src/nodes/index.ts";
import { Adam, fromFlat, mseLoss, ops as O, randn, type Tensor, tensor } from "../../src/runtime/index.ts";
import { mul, x } from "../../src/runtime/ops/formula.ts";
import { traceScope } from "../../src/runtime/trace.ts";

/** A one-group program: Adam on `params`, the loss from `loss()`, as the scheduler would build it. */
function adamProgram(params: Tensor[], loss: () => Tensor, lr = 0.05): TrainingProgram {
  const kind = registry.get("Adam")!;
  return {
    groups: [
      {
        nodeId: "opt",
        kind,
        params: params.map((tensor, i) => ({ id: `p${i}`, nodeId: `p${i}`, leaf: "", tensor })),
        hyper: readParams(kind, { lr }),
        zeroGrad: true,
        loss: { nodeId: "loss", port: "out" },
      },
    ],
    forward: () => {
      const l = loss();
      return { losses: [l], objective: l };
    },
    labelOf: (id) => id,
  };
}

function regression(seed: number) {
  const X = randn([64, 3], seed);
  const y = randn([64], seed + 1);
  const w = randn([3], seed + 2).requiresGrad_();
  const b = tensor([0.5], { dtype: "float32", requiresGrad: true });
  const loss = () => traceScope("loss", () => mseLoss(O.add(O.matmul(X, w), b), y));
  return { params: [w, b], loss };
}

describe("GPU faults", () => {
  it("no adapter: a clear message, and the scheduler's backend choice falls back to the CPU", () => {
    const script = fileURLToPath(new URL("./no-adapter.ts", import.meta.url));
    const run = spawnSync(process.execPath, ["--import", "tsx", script], {
      env: { ...process.env, VK_ICD_FILENAMES: "/nonexistent/icd.json" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split("\n").pop() as string);
    expect(out.kind).toBe("unavailable");
    expect(out.message).toMatch(/no WebGPU adapter was found/);
    expect(out.fallback.backend).toBe("cpu");
    expect(out.fallback.reason).toMatch(/WebGPU is not available \(no WebGPU adapter was found/);
  });

  it("a device lost mid-training: the delivered epochs stand and the CPU continues from them", async () => {
    const dev = await acquireDevice();
    const gpuRun = regression(5);
    // Small batches: the loss must come while epochs are left to run, not after the GPU has run them all ahead.
    const session = await GpuTrainingSession.start(dev, adamProgram(gpuRun.params, gpuRun.loss), {
      maxBatch: 4,
    });
    const losses: number[] = [];
    let lost: unknown = null;
    for (let e = 0; e < 120; e++) {
      if (e === 40) dev.destroy();
      try {
        losses.push((await session.epoch(120 - e)).loss);
      } catch (err) {
        lost = err;
        break;
      }
    }
    expect(lost).toBeInstanceOf(BackendUnavailable);
    expect((lost as Error).message).toMatch(/WebGPU device was lost/);
    // Every epoch handed out before the fault is kept; the CPU picks up exactly there, optimizer state included.
    const done = losses.length;
    expect(done).toBeGreaterThanOrEqual(40);
    await session.sync();
    const opt = session.optimizerOf("opt") as Adam;
    for (let e = done; e < 120; e++) {
      opt.zeroGrad();
      const l = gpuRun.loss();
      l.backward();
      losses.push(l.item());
      opt.step();
    }
    session.dispose();

    const cpuRun = regression(5);
    const cpuOpt = new Adam(cpuRun.params, { lr: 0.05 });
    const cpuLosses: number[] = [];
    for (let e = 0; e < 120; e++) {
      cpuOpt.zeroGrad();
      const l = cpuRun.loss();
      l.backward();
      cpuLosses.push(l.item());
      cpuOpt.step();
    }
    for (let e = 0; e < 120; e++) expect(losses[e]).toBeCloseTo(cpuLosses[e], 4);
    gpuRun.params.forEach((p, k) => {
      Array.from(p.data).forEach((v, i) => {
        expect(v).toBeCloseTo(cpuRun.params[k].data[i], 4);
      });
    });
  });

  it("a buffer over the device's limits names the node that needs it", async () => {
    // WebGPU's default limits (128 MiB per storage binding), which every device grants.
    const dev = await acquireDevice({ limits: "default" });
    try {
      const points = fromFlat(new Float32Array(34_000_000), [34_000_000]);
      points.name = "points";
      const w = tensor([2], { dtype: "float32", requiresGrad: true });
      const loss = () => traceScope("loss", () => O.mean(O.mul(w, points)));
      const err = await GpuTrainingSession.start(dev, adamProgram([w], loss)).catch((e) => e);
      expect(err).toBeInstanceOf(GpuError);
      expect(err.kind).toBe("limits");
      expect(err.node).toBe("points");
      expect(err.message).toMatch(/more than this device allows \(128\.0 MiB\).*node 'points'/);
    } finally {
      dev.destroy();
    }
  });

  it("a kernel that fails WGSL validation names its node", async () => {
    const dev = await acquireDevice();
    // 1e39 is no f32: the generated kernel multiplies by a literal WGSL must refuse.
    O.UNARY.broken_for_test = { ...O.UNARY.exp, name: "broken_for_test", forward: () => mul(x, 1e39) };
    try {
      const x = randn([4], 3).requiresGrad_();
      const err = await evaluateOnGpu(
        dev,
        () => [traceScope("squash", () => O.unaryOp("broken_for_test", x))],
        {
          wrt: [x],
        },
      ).catch((e) => e);
      expect(err).toBeInstanceOf(GpuError);
      expect(err.kind).toBe("shader");
      expect(err.node).toBe("squash");
      expect(err.message).toMatch(/kernel generated for node 'squash' failed validation/);
    } finally {
      delete O.UNARY.broken_for_test;
      dev.destroy();
    }
  });

  it("a float64 graph gets a clear message, not a silent downcast", async () => {
    const dev = await acquireDevice();
    try {
      const w = tensor([1, 2], { dtype: "float64", requiresGrad: true });
      const y = tensor([0.5, 0.25], { dtype: "float64" });
      const err = await GpuTrainingSession.start(
        dev,
        adamProgram([w], () => traceScope("loss", () => mseLoss(w, y))),
      ).catch((e) => e);
      expect(err).toBeInstanceOf(GpuError);
      expect(err.kind).toBe("unsupported");
      expect(err.message).toMatch(
        /float64.*float32.*no silent downcast|float64 tensors cannot be trained on WebGPU/,
      );
      const x = tensor([1, 2], { dtype: "float32", requiresGrad: true });
      const mixed = await evaluateOnGpu(
        dev,
        () => [traceScope("to double", () => O.mul(O.cast(x, "float64"), 2))],
        {
          wrt: [x],
        },
      ).catch((e) => e);
      expect(mixed.message).toMatch(/node 'to double' computes in float64.*no silent downcast/);
    } finally {
      dev.destroy();
    }
  });

  it("an op the backend cannot see (a gradient recorded without tracing) is refused by name", async () => {
    const dev = await acquireDevice();
    try {
      const x = tensor([1, 2, 3], { dtype: "float32", requiresGrad: true });
      // A node that computes on the raw data and records its own gradient, invisible to the tracer.
      const opaque = () => {
        const out = fromFlat(
          Array.from(x.data, (v) => v * v),
          [3],
        );
        out.requiresGrad = true;
        out.gradFn = {
          name: "OpaqueBackward",
          inputs: [x],
          backward: (g: Tensor) => [g],
          freed: false,
          savesTensors: false,
        };
        return out;
      };
      const err = await GpuTrainingSession.start(
        dev,
        adamProgram([x], () => traceScope("opaque", () => O.sum(opaque()))),
      ).catch((e) => e);
      expect(err).toBeInstanceOf(GpuError);
      expect(err.message).toMatch(/no kernel for.*OpaqueBackward/);
    } finally {
      dev.destroy();
    }
  });
});
