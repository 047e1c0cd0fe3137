// Mini-batch training against PyTorch: `gradwire train --jsonl --steps` on graphs with a DataLoader (and
// validation data) prints the lines the exported script prints when PyTorch runs it: the same per-step losses,
// epoch losses (the mean of the batch losses), validation loss and metrics, and parameters, epoch after epoch.
// The exported script is PyTorch's own loop: TensorDataset, DataLoader(generator=...), random_split.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { torchScript } from "../../src/export/torch-script.ts";
import { loadGraph } from "../../src/graph/format.ts";
import { fixturePath, gradwire, PYTHON, tempFile } from "../cli/run.ts";
import { type MiniBatchGraph, miniBatchGraph } from "./graphs.ts";

type Line = Record<string, unknown>;

function lines(text: string): Line[] {
  return text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line);
}

/** Every number in two JSON values, paired in order (the keys must match). */
function numbers(a: unknown, b: unknown, path: string, out: [number, number, string][]): void {
  if (typeof a === "number") {
    expect(typeof b, path).toBe("number");
    out.push([a, b as number, path]);
  } else if (Array.isArray(a)) {
    expect(Array.isArray(b) && b.length === a.length, `${path}: lengths`).toBe(true);
    for (const [i, x] of a.entries()) numbers(x, (b as unknown[])[i], `${path}[${i}]`, out);
  } else if (a && typeof a === "object") {
    expect(Object.keys(b as object), path).toEqual(Object.keys(a));
    for (const [k, v] of Object.entries(a))
      numbers(v, (b as Record<string, unknown>)[k], `${path}.${k}`, out);
  } else expect(b, path).toEqual(a);
}

/** Shuffled batches of 16 with validation data, varied per case below. */
const BASE: MiniBatchGraph = {
  task: "classify",
  dtype: "float64",
  batchSize: 16,
  shuffle: true,
  dropLast: false,
  seed: 5,
  epochs: 4,
  validation: true,
};

const CASES: MiniBatchGraph[] = [
  BASE,
  { ...BASE, dtype: "float32", dropLast: true, seed: 9 },
  { ...BASE, batchSize: 100, seed: 0, epochs: 3, validation: false },
  { ...BASE, epochs: 3, modules: true },
  { ...BASE, task: "regress", batchSize: 8, dropLast: true },
  { ...BASE, task: "regress", dtype: "float32", batchSize: 10, shuffle: false, seed: 0, epochs: 3 },
];

describe("mini-batch training equals PyTorch's DataLoader loop (gradwire train vs the exported script)", () => {
  for (const c of CASES) {
    const name = `${c.task} ${c.dtype} batch_size=${c.batchSize} shuffle=${c.shuffle} drop_last=${c.dropLast}${c.validation ? " with validation" : ""}${c.modules ? ", Dropout and BatchNorm1d (eval mode in validation)" : ""}`;
    it(name, () => {
      const file = tempFile(JSON.stringify(miniBatchGraph(c)));
      const ours = gradwire("train", file, "--jsonl", "--steps", "--backend", "cpu");
      expect(ours.stderr).toBe("");
      expect(ours.code).toBe(0);
      const [header, ...epochs] = lines(ours.stdout);
      expect(header.backend).toBe("cpu");
      const script = tempFile("", "script.py");
      expect(gradwire("export-torch", file, "-o", script).code).toBe(0);
      const py = spawnSync(PYTHON, [script, "--steps"], { encoding: "utf8" });
      expect(py.stderr).toBe("");
      const torch = lines(py.stdout);
      expect(epochs.length).toBe(c.epochs);
      const pairs: [number, number, string][] = [];
      numbers(torch, epochs, "lines", pairs);
      const steps = (epochs[0].steps as number[]).length;
      const n = c.task === "classify" ? 72 : 56;
      expect(steps).toBe(c.dropLast ? Math.floor(n / c.batchSize) : Math.ceil(n / c.batchSize));
      if (c.validation) expect(Object.keys(epochs[0])).toContain("val_loss");
      const [rtol, atol] = c.dtype === "float64" ? [1e-12, 1e-13] : [2e-5, 1e-6];
      for (const [want, got, path] of pairs)
        expect(Math.abs(got - want), `${path}: ${got} vs torch ${want}`).toBeLessThanOrEqual(
          atol + rtol * Math.abs(want),
        );
      if (c.dtype !== "float32") return;
      // WebGPU (Dawn on SwiftShader) takes each batch as a per-step input: torch's numbers within float32
      // rounding (its reductions sum in another order).
      const gpu = gradwire("train", file, "--jsonl", "--steps", "--backend", "webgpu");
      expect(gpu.code).toBe(0);
      const [gpuHeader, ...gpuEpochs] = lines(gpu.stdout);
      expect(gpuHeader.backend).toBe("webgpu");
      const gpuPairs: [number, number, string][] = [];
      numbers(torch, gpuEpochs, "lines", gpuPairs);
      for (const [want, got, path] of gpuPairs)
        expect(Math.abs(got - want), `${path}: ${got} on WebGPU vs torch ${want}`).toBeLessThanOrEqual(
          1e-5 + 2e-4 * Math.abs(want),
        );
    });
  }
});

describe("train --jsonl --steps without a DataLoader", () => {
  it("gives each epoch's single step, and no validation keys", () => {
    const r = gradwire("train", fixturePath("thermometer.graph.json"), "--jsonl", "--steps", "--epochs", "3");
    expect(r.code).toBe(0);
    const [header, ...epochs] = lines(r.stdout);
    expect(Object.keys(header)).toContain("backend");
    expect(epochs).toHaveLength(3);
    for (const e of epochs) {
      expect(Object.keys(e)).toEqual(["epoch", "loss", "params", "steps"]);
      expect(e.steps).toEqual([e.loss]);
    }
  });
  it("is refused without train", () => {
    const r = gradwire("eval", fixturePath("thermometer.graph.json"), "--steps");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/steps/);
  });
});

describe("the distributed export and mini-batches", () => {
  it("is refused with the DataLoader named, the plain script offered", () => {
    const loaded = loadGraph(
      miniBatchGraph({
        task: "regress",
        dtype: "float32",
        batchSize: 8,
        shuffle: true,
        dropLast: false,
        seed: 0,
        epochs: 1,
      }),
    );
    if (!loaded.ok) throw new Error("does not load");
    const r = torchScript(loaded.doc, { distributed: true });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toMatch(/DataLoader 'loader'.*plain script/);
      expect(r.nodeId).toBe("loader");
    }
    expect(torchScript(loaded.doc).ok).toBe(true);
  });
});
