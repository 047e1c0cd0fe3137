/**
 * The mini-batch workload: 1,000,000 rows of make_regression (4 features, float32), a shuffled DataLoader of
 * batches of 256 (3,907 Adam steps an epoch), nn.Linear(4, 1) and mse_loss. gradwire trains the graph as the
 * app does (Scheduler + Trainer on the CPU, src/engine/batches.ts); PyTorch runs the script gradwire exports
 * for the same graph (TensorDataset, DataLoader(generator=...), the same data and initial weights), so both
 * take the same steps on the same batches and their epoch losses must agree. PyTorch's time is the script's
 * with N epochs less the script's with 0 (its imports and data set-up); gradwire's is `trainer.run` alone.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { type EpochRecord, Trainer } from "../../src/engine/train.ts";
import { torchScript } from "../../src/export/torch-script.ts";
import { formatProblems, loadGraph } from "../../src/graph/format.ts";

const PYTHON = "/usr/bin/python3";

export interface MiniBatchResult {
  rows: number;
  batchSize: number;
  epochs: number;
  gradwireSeconds: number;
  torchSeconds: number;
  gradwireLosses: number[];
  torchLosses: number[];
  torchThreads: string;
}

function graphFile(rows: number, batchSize: number, epochs: number): unknown {
  const node = (id: string, type: string, params: Record<string, unknown>, x: number) => ({
    id,
    type,
    position: { x, y: 0 },
    params,
  });
  const edge = (id: string, source: string, sourcePort: string, target: string, targetPort: string) => ({
    id,
    source,
    sourcePort,
    target,
    targetPort,
  });
  return {
    format: "gradwire.graph",
    version: 2,
    title: `mini-batches: ${rows} rows, batch ${batchSize}, Adam`,
    settings: { epochs },
    nodes: [
      node("data", "make_regression", { n_samples: rows, n_features: 4, noise: 0.5, bias: 1, seed: 0 }, 0),
      node("loader", "DataLoader", { batch_size: batchSize, shuffle: true, seed: 0 }, 200),
      node("linear", "Linear", { in_features: 4, out_features: 1, seed: 1 }, 400),
      node("pred", "flatten", {}, 600),
      node("loss", "mse_loss", {}, 800),
      node("opt", "Adam", { lr: 0.01 }, 1000),
    ],
    edges: [
      edge("e1", "data", "X", "loader", "x"),
      edge("e2", "data", "y", "loader", "y"),
      edge("e3", "loader", "x", "linear", "input"),
      edge("e4", "linear", "out", "pred", "input"),
      edge("e5", "pred", "out", "loss", "input"),
      edge("e6", "loader", "y", "loss", "target"),
      edge("e7", "loss", "out", "opt", "loss"),
    ],
  };
}

function runScript(path: string, epochs: number, threads: string): { seconds: number; losses: number[] } {
  const started = performance.now();
  const r = spawnSync(PYTHON, [path, "--epochs", String(epochs)], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
    env: { ...process.env, OMP_NUM_THREADS: threads },
  });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`the exported script failed:\n${r.stderr}`);
  const losses = r.stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { loss: number }).loss);
  return { seconds, losses };
}

export async function miniBatchBench(
  rows = 1_000_000,
  batchSize = 256,
  epochs = 2,
  threads = "1",
): Promise<MiniBatchResult> {
  const loaded = loadGraph(graphFile(rows, batchSize, epochs));
  if (!loaded.ok) throw new Error(`benchmark graph does not load:\n${formatProblems(loaded.errors)}`);
  const s = new Scheduler();
  s.setGraph(loaded.doc);
  // The data set is made before the clock starts, as PyTorch's is subtracted from its time.
  s.evaluate();
  const t = new Trainer(s, { backend: "cpu", yieldFn: async () => {} });
  const losses: number[] = [];
  t.onRecords((rs: EpochRecord[]) => {
    for (const r of rs) losses.push(r.loss);
  });
  const started = performance.now();
  await t.run({ epochs });
  const gradwireSeconds = (performance.now() - started) / 1000;
  if (t.state.status !== "done") throw new Error(`training ended ${t.state.status}: ${t.state.message}`);

  const script = torchScript(loaded.doc, { mode: "train" });
  if (!script.ok) throw new Error(script.message);
  const path = join(mkdtempSync(join(tmpdir(), "gradwire-bench-")), "minibatch.py");
  writeFileSync(path, script.code);
  const setup = runScript(path, 0, threads);
  const run = runScript(path, epochs, threads);
  return {
    rows,
    batchSize,
    epochs,
    gradwireSeconds,
    torchSeconds: run.seconds - setup.seconds,
    gradwireLosses: losses,
    torchLosses: run.losses,
    torchThreads: threads,
  };
}
