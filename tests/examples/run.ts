/**
 * Running the examples for real: the `gradwire` bin as a user runs it (a few processes at a time, since each
 * pays for its own start-up), and the tutorials' code in one Debian python3 process with torch.
 */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import { type Example, num, ROOT } from "./checks.ts";

const BIN = join(ROOT, "bin", "gradwire.mjs");
const PYTHON = "/usr/bin/python3";
const TORCH_RUNNER = join(ROOT, "tests", "examples", "torch_examples.py");

export interface CliResult {
  args: string[];
  code: number;
  stdout: string;
  stderr: string;
}

function gradwire(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ args, code: code ?? -1, stdout, stderr }));
  });
}

/** Run every command line, `parallel` at a time; results in the same order. */
export async function gradwireAll(commands: string[][], parallel = 2): Promise<CliResult[]> {
  const out: CliResult[] = new Array(commands.length);
  let next = 0;
  const worker = async () => {
    while (next < commands.length) {
      const i = next++;
      out[i] = await gradwire(commands[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, commands.length) }, worker));
  return out;
}

export interface EvalJson {
  nodes: Record<string, { shape: number[]; dtype: string; data: (number | string | boolean)[] }>;
  grads: Record<string, { shape: number[]; data: (number | string)[] }>;
}

export interface TrainLine {
  epoch: number;
  loss: number | string;
  params: Record<string, (number | string)[]>;
}

/** The epoch lines of `train --jsonl` (its first line says which backend trained: left out). */
export function trainLines(stdout: string): TrainLine[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as TrainLine)
    .filter((l) => "epoch" in l);
}

// ---- PyTorch --------------------------------------------------------------------------------------------

export interface TorchValue {
  data: (number | string | boolean)[];
  shape: number[];
  /** The tensor's dtype; null for a Python or NumPy number. */
  dtype: string | null;
}

export interface TorchAnswer {
  /** Each key's values, one per expression. */
  values: Record<string, TorchValue[]>;
  asserts: boolean[];
  error?: string;
}

interface TorchCase {
  name: string;
  code: string;
  inputs: Record<string, { b64: string; dtype: string; shape: number[] }>;
  values: Record<string, string | string[]>;
  asserts: string[];
}

/** Prefixes that keep the kinds of torch value apart in one flat `values` map. */
export const GRAD = "grad:";
export const TRAIN_LOSS = "train:loss";
export const TRAIN_PARAM = "train:param:";
export const AFTER = "after:";

/**
 * gradwire's own values of the nodes the tutorial code takes as inputs (its randn, a data set's X and y),
 * computed in-process. `id.port` names another output than `out`; the code sees it as `id_port`.
 */
function inputsOf(ex: Example): TorchCase["inputs"] {
  const refs = (ex.check.torch?.inputs ?? []).map((r) => r.split("."));
  if (refs.length === 0) return {};
  const r = parseGraphFile(ex.text);
  if (!r.ok) throw new Error(`${ex.file} does not load`);
  const s = new Scheduler();
  s.setGraph(r.doc);
  s.evaluate(new Set(refs.map(([id]) => id)));
  return Object.fromEntries(
    refs.map(([id, port]) => {
      const t = s.value(id, port);
      if (!t) throw new Error(`${ex.file}: node '${id}' has no value to hand to PyTorch`);
      const bytes = Buffer.from(Float64Array.from(t.data).buffer);
      return [
        port ? `${id}_${port}` : id,
        { b64: bytes.toString("base64"), dtype: t.dtype, shape: [...t.shape] },
      ];
    }),
  );
}

function torchCase(ex: Example): TorchCase {
  const t = ex.check.torch!;
  const values: Record<string, string | string[]> = { ...(t.values ?? {}) };
  for (const [k, e] of Object.entries(t.grads ?? {})) values[GRAD + k] = e;
  if (t.train?.loss) values[TRAIN_LOSS] = t.train.loss;
  for (const [k, e] of Object.entries(t.train?.params ?? {})) values[TRAIN_PARAM + k] = e;
  for (const [k, e] of Object.entries(t.afterTraining ?? {})) values[AFTER + k] = e;
  return { name: ex.name, code: ex.python ?? "", inputs: inputsOf(ex), values, asserts: t.asserts ?? [] };
}

/** Every example's tutorial code in one Python process; answers by example name. */
export function runTorch(examples: Example[]): Map<string, TorchAnswer> {
  const withTorch = examples.filter((e) => e.check.torch);
  const run = spawnSync(PYTHON, [TORCH_RUNNER], {
    input: JSON.stringify({ cases: withTorch.map(torchCase) }),
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (run.error) throw new Error(`cannot run ${PYTHON} (${run.error.message}); install python3-torch`);
  if (run.status !== 0) throw new Error(`the PyTorch runner failed (exit ${run.status}):\n${run.stderr}`);
  const { answers } = JSON.parse(run.stdout) as { answers: TorchAnswer[] };
  return new Map(withTorch.map((e, i) => [e.name, answers[i]]));
}

export function torchNumbers(v: TorchValue): number[] {
  return v.data.map(num);
}
