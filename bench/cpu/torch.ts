/**
 * PyTorch as a peer: the workloads' arrays go to a temporary folder as raw float32/int32 files, and
 * bench/torch_bench.py (run with Debian's /usr/bin/python3 and python3-torch) trains and times its own loops.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Measurement, median, type Protocol } from "./peer.ts";
import { ADAM, type Workload } from "./workloads.ts";

export const PYTHON = "/usr/bin/python3";
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "..", "torch_bench.py");

interface TorchResult {
  workload: string;
  runs: number[];
  cpuRuns: number[];
  finalLoss: number;
}

interface TorchOutput {
  info: { torch: string; threads: number };
  results: TorchResult[];
}

function writeArrays(dir: string, w: Workload): Record<string, string> {
  const arrays: Record<string, Float32Array | Int32Array> =
    w.kind === "linear"
      ? { x: w.x, y: w.y }
      : w.kind === "cnn"
        ? { x: w.x, labels: w.labels, convW: w.convW, convB: w.convB, fcW: w.fcW, fcB: w.fcB }
        : { x: w.x, labels: w.labels, w1: w.w1, b1: w.b1, w2: w.w2, b2: w.b2 };
  const files: Record<string, string> = {};
  for (const [name, a] of Object.entries(arrays)) {
    const path = join(dir, `${w.id}-${name}.bin`);
    writeFileSync(path, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    files[name] = path;
  }
  return files;
}

function describe(w: Workload, files: Record<string, string>): Record<string, unknown> {
  const common = {
    id: w.id,
    kind: w.kind,
    optimizer: w.optimizer,
    epochs: w.epochs,
    lr: w.lr,
    beta1: ADAM.beta1,
    beta2: ADAM.beta2,
    eps: ADAM.eps,
    files,
  };
  if (w.kind === "cnn") return { ...common, n: w.n, channels: w.channels, classes: w.classes };
  return w.kind === "linear"
    ? { ...common, w0: w.w0, b0: w.b0 }
    : { ...common, n: w.n, hidden: w.hidden, classes: w.classes };
}

export interface TorchRun {
  version: string;
  threads: number;
  measurements: Measurement[];
}

/** Runs every workload in one Python process; throws with Python's stderr when it fails. */
export function runTorch(workloads: Workload[], protocol: Protocol): TorchRun {
  const dir = mkdtempSync(join(tmpdir(), "gradwire-bench-"));
  try {
    const manifest = {
      protocol,
      workloads: workloads.map((w) => describe(w, writeArrays(dir, w))),
    };
    const manifestPath = join(dir, "manifest.json");
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const r = spawnSync(PYTHON, [SCRIPT, manifestPath], { encoding: "utf8", maxBuffer: 1 << 24 });
    if (r.error) throw new Error(`could not start ${PYTHON}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`${PYTHON} ${SCRIPT} failed (exit ${r.status}):\n${r.stderr}`);
    const out = JSON.parse(r.stdout) as TorchOutput;
    const measurements = out.results.map((res): Measurement => {
      const w = workloads.find((x) => x.id === res.workload);
      if (!w) throw new Error(`torch_bench.py reported an unknown workload ${res.workload}`);
      const medianSeconds = median(res.runs);
      return {
        peer: "PyTorch",
        workload: w.id,
        epochs: w.epochs,
        runs: res.runs,
        medianSeconds,
        epochsPerSecond: w.epochs / medianSeconds,
        cpuRuns: res.cpuRuns,
        cpuEpochsPerSecond: w.epochs / median(res.cpuRuns),
        finalLoss: res.finalLoss,
      };
    });
    return { version: out.info.torch, threads: out.info.threads, measurements };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
