// Completeness, driven by the registry: every node kind carries parity samples, and each sample is built into a
// tiny graph (tensor inputs -> kind -> objective), evaluated by gradwire on the CPU in float64 and float32 and on
// WebGPU in float32, gradient-checked by central differences in float64, and exported with the PyTorch exporter;
// all the exported scripts run in one Python process, and forward values and input gradients must agree.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import type { Trainable } from "../../src/engine/scheduler-backend.ts";
import { torchScript } from "../../src/export/torch-script.ts";
import { evaluateOnGpu } from "../../src/gpu/evaluate.ts";
import type { GraphDoc } from "../../src/graph/types.ts";
import {
  type KindSample,
  type NestedNumbers,
  type NodeKind,
  outputsOf,
  registry,
} from "../../src/nodes/index.ts";
import { fromFlat, isFloating, type Tensor } from "../../src/runtime/index.ts";
import { useDevice } from "../gpu/harness.ts";
import { mismatch, PYTHON, tolerance } from "../helpers/torch.ts";
import { build, type E, type N } from "../scheduler/helpers.ts";

/**
 * Kinds that cannot be sampled standalone, each with the reason. This list may only shrink: a new kind brings
 * its samples.
 */
// Optimizers (every kind with `optimizer`, made from the specs in src/runtime/optim) are exempt as a class: they
// are checked over training trajectories against torch.optim (parity-optim, kinds-vs-torch, gpu/optimizers).
// So are learning-rate schedulers (every kind with `lrScheduler`), which compute no tensor: their learning rates
// and training runs are checked against torch.optim.lr_scheduler (runtime/lr-scheduler, engine/lr-schedules).
const EXEMPT: Record<string, string> = {
  finite_difference:
    "tool: differentiates a loss with respect to an upstream input, so it needs the graph between",
  sweep: "tool: recomputes a loss over an upstream input's values, so it needs the graph between",
  grad: "tool: differentiates outputs with respect to upstream inputs, so it needs the graph between",
};

/** Samples whose torch gradient is, by design, not the derivative central differences estimate. */
const NOT_A_DERIVATIVE: Record<string, string> = {
  "gaussian_nll_loss one var per sample, full, sum":
    "var below eps is clamped with the gradient passed straight through (torch clamps under no_grad)",
  "embedding padding_idx, scale_grad_by_freq":
    "the padding row gets no gradient and each row's gradient is divided by its count, by design",
  "embedding max_norm":
    "weight's rows are renormalised in place under no_grad, so the scaling is a constant to the gradient",
};

const RUNNER = fileURLToPath(new URL("../export/run_scripts.py", import.meta.url));
type Precision = "float64" | "float32";

interface TorchEval {
  nodes: Record<string, { data: (number | boolean | string)[]; shape: number[]; dtype: string }>;
  grads: Record<string, { data: (number | string)[] }>;
}

/** The dtype a sample's values take on a port: the port's rule, floats in the case's precision. */
function portDType(
  kind: NodeKind,
  port: string,
  value: NestedNumbers,
  inputs: KindSample["inputs"],
  p: Precision,
) {
  const rule = kind.inputs.find((i) => i.name === port)?.dtype ?? "any";
  if (rule === "integer") return "int64";
  if (rule === "bool") return "bool";
  // cross_entropy's target is class indices (int64) when it has one dim fewer than the scores.
  if (kind.type === "cross_entropy" && port === "target" && depth(value) < depth(inputs.input))
    return "int64";
  return p;
}

function depth(v: NestedNumbers | undefined): number {
  return Array.isArray(v) ? 1 + depth(v[0]) : 0;
}

/**
 * Ports whose gradient torch computes: float ports, except targets (labels), buffers, and losses' optional weights
 * (torch implements no derivative for nll_loss's, binary_cross_entropy's or multi_margin_loss's weight).
 */
function differentiable(kind: NodeKind, port: string, dtype: string): boolean {
  if (!isFloating(dtype as Tensor["dtype"]) || port === "target") return false;
  const decl = kind.inputs.find((i) => i.name === port);
  // Buffers (batch_norm's running statistics) are never differentiated: torch refuses requires_grad on them.
  return !(kind.family === "Losses" && decl?.optional) && !decl?.noGrad;
}

/** Upstream gradient for the kind's output: small exact values, not all equal, so a wrong index shows. */
function seedValues(n: number): number[] {
  return Array.from({ length: n }, (_, i) => 0.5 + ((i * 7 + 3) % 5) / 4);
}

interface Case {
  name: string;
  kind: NodeKind;
  sample: KindSample;
  precision: Precision;
  doc: GraphDoc;
  script?: string;
  exportError?: string;
  torch?: TorchEval;
  torchError?: string;
}

const KIND = "k";

/** tensor inputs -> kind -> sum(out * seed) as the objective when the output is floating. */
function graphOf(kind: NodeKind, sample: KindSample, precision: Precision): GraphDoc {
  const nodes: N[] = [];
  const edges: E[] = [];
  for (const [port, value] of Object.entries(sample.inputs)) {
    const dtype = portDType(kind, port, value, sample.inputs, precision);
    nodes.push([port, "tensor", { data: value, dtype, requires_grad: differentiable(kind, port, dtype) }]);
    edges.push([port, KIND, port]);
  }
  nodes.push([KIND, kind.type, { ...(sample.params ?? {}) }]);
  // Shape inference tells the output's shape and dtype before anything runs.
  const probe = build(nodes, edges).state;
  const s = new Scheduler();
  s.setGraph(probe);
  const out = s.validation.metas[KIND]?.out;
  if (out && isFloating(out.dtype)) {
    const seed = seedValues(out.shape.reduce((a, b) => a * b, 1));
    nodes.push(["seed", "tensor", { data: nest(seed, out.shape), dtype: out.dtype }]);
    nodes.push(["weighted", "mul"], ["objective", "sum"]);
    edges.push(
      [KIND, "weighted", "input"],
      ["seed", "weighted", "other"],
      ["weighted", "objective", "input"],
    );
  }
  const doc = build(nodes, edges);
  if (out && isFloating(out.dtype)) doc.setObjective("objective");
  return doc.state;
}

function nest(values: number[], shape: number[]): NestedNumbers {
  if (shape.length === 0) return values[0];
  const [d, ...rest] = shape;
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: d }, (_, i) => nest(values.slice(i * size, (i + 1) * size), rest));
}

const kinds = registry.list();
/** While working on a few kinds: COMPLETENESS_ONLY=mse_loss,relu runs only their samples. */
const only = process.env.COMPLETENESS_ONLY?.split(",");
const cases: Case[] = [];
for (const kind of kinds.filter((k) => !only || only.includes(k.type)))
  for (const [i, sample] of (kind.samples ?? []).entries())
    for (const precision of ["float64", "float32"] as const) {
      if (sample.precision && sample.precision !== precision) continue;
      const doc = graphOf(kind, sample, precision);
      cases.push({
        name: `${kind.type} ${sample.name ?? `#${i + 1}`} ${precision}`,
        kind,
        sample,
        precision,
        doc,
      });
    }

/** Export every case and run all the scripts in one Python process. */
function runTorch(): void {
  const dir = mkdtempSync(join(tmpdir(), "gradwire-completeness-"));
  const runs: { path: string; argv: string[] }[] = [];
  const asked: Case[] = [];
  cases.forEach((c, i) => {
    const r = torchScript(c.doc, { mode: "eval" });
    if (!r.ok) {
      c.exportError = r.message;
      return;
    }
    c.script = r.code;
    const path = join(dir, `case${i}.py`);
    writeFileSync(path, r.code);
    runs.push({ path, argv: [] });
    asked.push(c);
  });
  const run = spawnSync(PYTHON, [RUNNER], {
    input: JSON.stringify({ runs }),
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (run.status !== 0) throw new Error(`python failed:\n${run.stderr}`);
  const results = (JSON.parse(run.stdout) as { results: { stdout: string; stderr: string; code: number }[] })
    .results;
  results.forEach((r, k) => {
    if (r.code !== 0) asked[k].torchError = r.stderr.trim().split("\n").slice(-3).join("\n");
    else
      asked[k].torch = JSON.parse(
        r.stdout
          .replace(/\bNaN\b/g, '"nan"')
          .replace(/-?Infinity\b/g, (m) => `"${m.startsWith("-") ? "-inf" : "inf"}"`),
      );
  });
}

function num(v: number | boolean | string): number {
  if (v === "nan") return Number.NaN;
  if (v === "inf") return Number.POSITIVE_INFINITY;
  if (v === "-inf") return Number.NEGATIVE_INFINITY;
  return Number(v);
}

/** Key of a kind's output port in the eval script's JSON. */
const keyOf = (port: string) => (port === "out" ? KIND : `${KIND}.${port}`);

function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: { rtol: number; atol: number },
  what: string,
) {
  const bad = mismatch(got, want, tol);
  expect(bad, what).toBeNull();
}

/** A gradient against torch's; where torch has none, gradwire's must be absent or zero. Whether torch had one. */
function expectGrad(
  got: Tensor | null | undefined,
  want: TorchEval["grads"][string] | undefined,
  tol: { rtol: number; atol: number },
  id: string,
): got is Tensor {
  if (!want) {
    expect(!got || Array.from(got.data).every((v) => v === 0), `grad ${id}: torch has none`).toBe(true);
    return false;
  }
  expect(got, `grad ${id}`).toBeTruthy();
  expectClose(got!.data, want.data.map(num), tol, `grad ${id} vs torch`);
  return true;
}

function fresh(c: Case): Scheduler {
  const s = new Scheduler();
  s.setGraph(c.doc);
  expect(s.validation.issues.filter((i) => i.severity === "error")).toEqual([]);
  s.evaluate();
  expect(s.errors()).toEqual([]);
  return s;
}

/** Central differences of the objective in float64, one element of a trained tensor at a time. */
function finiteDifferences(s: Scheduler, t: Trainable): number[] {
  const data = t.tensor.data;
  const h = 1e-6;
  const at = (i: number, v: number): number => {
    const old = data[i];
    data[i] = v;
    s.paramsChanged([t.nodeId]);
    s.evaluate();
    data[i] = old;
    return s.value("objective")!.item();
  };
  const out = Array.from(data, (x, i) => (at(i, x + h) - at(i, x - h)) / (2 * h));
  s.paramsChanged([t.nodeId]);
  s.evaluate();
  return out;
}

describe("every node kind carries parity samples", () => {
  it("no kind lacks samples unless it is exempt, and every exemption is still needed", () => {
    const missing = kinds
      .filter((k) => !k.samples?.length && !(k.type in EXEMPT) && !k.optimizer && !k.lrScheduler)
      .map((k) => k.type);
    expect(missing, "kinds without samples (add `samples` to their declarations)").toEqual([]);
    const stale = Object.keys(EXEMPT).filter((t) => !registry.has(t) || registry.get(t)?.samples?.length);
    expect(stale, "exemptions to remove").toEqual([]);
  });
});

describe("samples match PyTorch on the CPU, with a gradient check", () => {
  beforeAll(runTorch, 600_000);
  for (const c of cases)
    it(c.name, () => {
      expect(c.exportError, "export").toBeUndefined();
      expect(c.torchError, `PyTorch ran the exported script:\n${c.script}`).toBeUndefined();
      const torch = c.torch!;
      const s = fresh(c);
      for (const o of outputsOf(c.kind)) {
        const want = torch.nodes[keyOf(o.name)];
        const got = s.value(KIND, o.name)!;
        expect({ shape: [...got.shape], dtype: got.dtype }, o.name).toEqual({
          shape: want.shape,
          dtype: want.dtype,
        });
        expectClose(got.data, want.data.map(num), tolerance(got.dtype), `${o.name} vs torch`);
        // Shape inference predicted the shape and dtype before anything ran.
        const predicted = s.validation.metas[KIND]?.[o.name];
        expect({ shape: predicted?.shape, dtype: predicted?.dtype }, `${o.name} inferred`).toEqual({
          shape: want.shape,
          dtype: want.dtype,
        });
      }
      if (!s.objective()) return;
      const grads = s.gradients().params;
      for (const t of s.trainables()) {
        const got = grads.get(t.id);
        if (!expectGrad(got, torch.grads[t.id], tolerance(c.precision), t.id)) continue;
        // Central differences need float64 leaves (a data kind's or a model's own float32 leaves stay float32).
        const checkable =
          t.tensor.dtype === "float64" && !(`${c.kind.type} ${c.sample.name}` in NOT_A_DERIVATIVE);
        if (checkable)
          expectClose(
            got.data,
            finiteDifferences(s, t),
            { rtol: 1e-5, atol: 1e-6 },
            `grad ${t.id} vs central differences`,
          );
      }
    });
});

describe("samples match PyTorch on WebGPU (float32)", () => {
  const device = useDevice();
  for (const c of cases.filter((x) => x.precision === "float32"))
    it(c.name, async () => {
      if (!c.torch) return; // reported by the CPU suite
      const s = fresh(c);
      // WebGPU computes in float32 only and refuses other float dtypes by design (tests/gpu cover the refusal).
      const metas = Object.values(s.validation.metas).flatMap((m) => Object.values(m ?? {}));
      if (metas.some((m) => m.dtype === "float64" || m.dtype === "float16")) return;
      const trainables = s.trainables();
      const ports = outputsOf(c.kind).map((o) => o.name);
      const objective = s.objective() ? s.value(KIND)! : null;
      const seed = objective?.requiresGrad
        ? fromFlat(seedValues(objective.numel), objective.shape, objective.dtype)
        : null;
      const all = new Set(Object.keys(c.doc.nodes));
      const gpu = await evaluateOnGpu(
        device(),
        () => {
          s.paramsChanged(all);
          s.evaluate();
          return ports.map((p) => s.value(KIND, p)!);
        },
        { wrt: trainables.map((t) => t.tensor), gradOutputs: [seed], fold: false },
      );
      const tol = { rtol: 1e-5, atol: 1e-6 };
      ports.forEach((p, k) => {
        expectClose(gpu.outputs[k].data, c.torch!.nodes[keyOf(p)].data.map(num), tol, `${p} vs torch`);
      });
      if (!seed) return;
      trainables.forEach((t, k) => {
        expectGrad(gpu.grads[k], c.torch!.grads[t.id], tol, t.id);
      });
    });
});
