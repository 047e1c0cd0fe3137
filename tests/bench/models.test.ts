// The benchmarks compare frameworks on "the same model": gradwire, TensorFlow.js and PyTorch each have their own
// definition of every workload (bench/models/gradwire.ts, bench/models/tfjs.ts, bench/torch_bench.py), with
// their own layouts (NHWC images, (in, out) dense weights). Trained a few epochs on small copies of the
// workloads from the same data and initial parameters, all three must reach the same loss.
import { describe, expect, it } from "vitest";
import { trainGradwire } from "../../bench/cpu/gradwire.ts";
import { trainTfjs, useBackend } from "../../bench/cpu/tfjs.ts";
import { runTorch } from "../../bench/cpu/torch.ts";
import { cnn, linreg1m, mlp, thermometer, type Workload } from "../../bench/cpu/workloads.ts";
import { deepMlp } from "../../bench/gpu/workloads.ts";

const EPOCHS = 3;

/** float32 in three frameworks, a few steps: agreement to 1e-5 relative. */
function expectSameLoss(theirs: number | undefined, ours: number, what: string): void {
  expect(Number.isFinite(ours), what).toBe(true);
  expect(
    Math.abs((theirs ?? Number.NaN) - ours),
    `${what}: ${theirs} vs gradwire's ${ours}`,
  ).toBeLessThanOrEqual(1e-5 * Math.abs(ours));
}

describe("benchmark workloads describe one model in every framework", () => {
  it("gradwire, TensorFlow.js (cpu) and PyTorch reach the same loss after a few epochs", async () => {
    const small: Workload[] = [
      thermometer(EPOCHS),
      linreg1m(1000, EPOCHS),
      mlp(64, 8, EPOCHS),
      cnn(8, 4, EPOCHS),
    ];
    await useBackend("cpu");
    const torch = runTorch(small, { reps: 1, slowSeconds: 4, warmupFraction: 0.01 });
    for (const w of small) {
      const ours = trainGradwire(w, EPOCHS).finalLoss;
      expectSameLoss(trainTfjs(w, EPOCHS).finalLoss, ours, `${w.id} on TensorFlow.js`);
      const t = torch.measurements.find((m) => m.workload === w.id);
      expectSameLoss(t?.finalLoss, ours, `${w.id} on PyTorch`);
    }
  }, 120_000);

  it("the WebGPU benchmark's deep MLP: gradwire and TensorFlow.js (cpu) reach the same loss", async () => {
    const w = deepMlp(64, [2, 16, 16, 2], EPOCHS);
    await useBackend("cpu");
    expectSameLoss(
      trainTfjs(w, EPOCHS).finalLoss,
      trainGradwire(w, EPOCHS).finalLoss,
      "mlp-large on TensorFlow.js",
    );
  });
});
