/**
 * The bridge to the PyTorch reference (tests/reference/torch_ref.py, run by Debian's /usr/bin/python3): one
 * Python process answers a whole batch of cases, and the expected values are PyTorch's, computed at test time.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type DType, fromFlat, isFloating, roundHalf, type Tensor } from "../../src/runtime/index.ts";

const SCRIPT = fileURLToPath(new URL("../reference/torch_ref.py", import.meta.url));
export const PYTHON = "/usr/bin/python3";

/** A number as JSON carries it: non-finite values travel as strings. */
export type WireNum = number | boolean | "nan" | "inf" | "-inf";

export interface TensorSpec {
  data: WireNum[];
  shape: number[];
  dtype: DType;
  requires_grad?: boolean;
}

/** A call argument: a tensor, a list or tuple of arguments, a non-finite number, or a plain JSON value. */
export type Arg =
  | { tensor: TensorSpec }
  | { list: Arg[] }
  | { tuple: Arg[] }
  | { num: "nan" | "inf" | "-inf" }
  | number
  | boolean
  | string
  | null;

export interface Flat {
  data: WireNum[];
  shape: number[];
  dtype: DType;
}

export interface CallCase {
  kind: "call";
  /** torch.xxx, F.xxx, linalg.xxx or method.xxx (a Tensor method called on the first argument). */
  fn: string;
  args: Arg[];
  kwargs?: Record<string, Arg>;
  grad_seed?: number;
}

export interface OptimCase {
  kind: "optim";
  optimizer: string;
  kwargs: Record<string, number | boolean | number[]>;
  objective: string;
  data: Record<string, TensorSpec>;
  params: TensorSpec[];
  steps: number;
  zero_grad?: boolean;
  lr_schedule?: [number, number][];
}

export interface ScriptCase {
  kind: "script";
  name: string;
}

export type Case = CallCase | OptimCase | ScriptCase;

export interface CallAnswer {
  outputs: Flat[];
  grad_outputs: (Flat | null)[];
  grads: (Flat | null)[];
  error?: string;
}
export interface OptimAnswer {
  losses: WireNum[];
  params: Flat[];
  error?: string;
}
export interface ScriptAnswer {
  values: Record<string, Flat | WireNum | null>;
  error?: string;
}

interface Reply {
  torch: string;
  answers: (CallAnswer | OptimAnswer | ScriptAnswer | { error: string })[];
}

/** Run every case in one Python process; answers come back in the cases' order. */
export function torchBatch(cases: Case[]): Reply["answers"] {
  const run = spawnSync(PYTHON, [SCRIPT], {
    input: JSON.stringify({ cases }),
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (run.error) throw new Error(`cannot run ${PYTHON} (${run.error.message}); install python3-torch`);
  if (run.status !== 0) throw new Error(`torch reference failed (exit ${run.status}):\n${run.stderr}`);
  const reply = JSON.parse(run.stdout) as Reply;
  if (reply.answers.length !== cases.length) throw new Error("torch reference answered a different count");
  return reply.answers;
}

/**
 * Cases registered while a test file is collected all go to PyTorch in one process, on the first request for
 * any of their answers: one `import torch` per test file, however many describe blocks ask.
 */
const registered: Case[][] = [];
const answered = new Map<Case[], Reply["answers"]>();

export function requestTorch<T extends Reply["answers"][number]>(cases: Case[]): () => T[] {
  registered.push(cases);
  return () => {
    if (!answered.has(cases)) {
      const pending = registered.filter((r) => !answered.has(r));
      const all = torchBatch(pending.flat());
      let at = 0;
      for (const r of pending) {
        answered.set(r, all.slice(at, at + r.length));
        at += r.length;
      }
    }
    return answered.get(cases) as T[];
  };
}

export function decodeNum(v: WireNum): number {
  if (v === "nan") return Number.NaN;
  if (v === "inf") return Number.POSITIVE_INFINITY;
  if (v === "-inf") return Number.NEGATIVE_INFINITY;
  return typeof v === "boolean" ? (v ? 1 : 0) : v;
}

export function encodeNum(v: number): WireNum {
  if (Number.isNaN(v)) return "nan";
  if (v === Number.POSITIVE_INFINITY) return "inf";
  if (v === Number.NEGATIVE_INFINITY) return "-inf";
  return v;
}

/** A gradwire tensor from a spec or a reference answer (both carry values exact in their dtype). */
export function toTensor(spec: TensorSpec | Flat): Tensor {
  const requiresGrad = "requires_grad" in spec && spec.requires_grad === true;
  return fromFlat(spec.data.map(decodeNum), spec.shape, spec.dtype, { requiresGrad });
}

// ---- deterministic inputs -------------------------------------------------------------------------------

/** mulberry32: a tiny seeded generator so every run sends torch the same inputs. */
export function makeRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A value rounded to what `dtype` stores, so PyTorch and gradwire start from identical inputs. */
export function exactIn(dtype: DType, v: number): number {
  if (dtype === "float16") return roundHalf(v);
  if (dtype === "float32") return Math.fround(v);
  if (dtype === "bool") return v ? 1 : 0;
  if (dtype === "int32" || dtype === "int64") return Math.round(v);
  return v;
}

export interface GenOptions {
  lo?: number;
  hi?: number;
  /** Keep values at least this far from zero (for log, div, pow bases). */
  awayFromZero?: number;
  requiresGrad?: boolean;
  /** Explicit values instead of random ones. */
  values?: number[];
}

export class Inputs {
  private rand: () => number;
  constructor(seed: number) {
    this.rand = makeRandom(seed);
  }

  /** A tensor argument of `shape` and `dtype`; floating tensors require grad unless told otherwise. */
  t(shape: number[], dtype: DType = "float32", o: GenOptions = {}): { tensor: TensorSpec } {
    const n = shape.reduce((p, d) => p * d, 1);
    const lo = o.lo ?? -2;
    const hi = o.hi ?? 2;
    const values =
      o.values ??
      Array.from({ length: n }, () => {
        let v = lo + (hi - lo) * this.rand();
        if (o.awayFromZero !== undefined && Math.abs(v) < o.awayFromZero)
          v = v < 0 ? -o.awayFromZero - Math.abs(v) : o.awayFromZero + v;
        if (dtype === "bool") return this.rand() < 0.5 ? 1 : 0;
        return exactIn(dtype, v);
      });
    if (values.length !== n) throw new Error(`values for shape [${shape}] need ${n} numbers`);
    return {
      tensor: {
        data: values.map((v) => encodeNum(exactIn(dtype, v))),
        shape,
        dtype,
        requires_grad: o.requiresGrad ?? isFloating(dtype),
      },
    };
  }

  /** Integer class indices in [0, classes). */
  classes(shape: number[], classes: number, dtype: DType = "int64"): { tensor: TensorSpec } {
    const n = shape.reduce((p, d) => p * d, 1);
    return this.t(shape, dtype, {
      values: Array.from({ length: n }, () => Math.floor(this.rand() * classes)),
      requiresGrad: false,
    });
  }

  /** Rows that sum to one along `dim` (class probabilities). */
  probs(
    shape: number[],
    dim: number,
    dtype: DType = "float32",
    requiresGrad = false,
  ): { tensor: TensorSpec } {
    const n = shape.reduce((p, d) => p * d, 1);
    const raw = Array.from({ length: n }, () => 0.05 + this.rand());
    const d = dim < 0 ? dim + shape.length : dim;
    const inner = shape.slice(d + 1).reduce((p, s) => p * s, 1);
    const size = shape[d];
    const out = raw.slice();
    for (let o = 0; o < n / (size * inner); o++)
      for (let i = 0; i < inner; i++) {
        let s = 0;
        for (let k = 0; k < size; k++) s += raw[o * size * inner + k * inner + i];
        for (let k = 0; k < size; k++) out[o * size * inner + k * inner + i] /= s;
      }
    return this.t(shape, dtype, { values: out, requiresGrad });
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.rand();
  }
}

// ---- comparison -----------------------------------------------------------------------------------------

/** The tolerances: float32 1e-5 relative (1e-6 absolute), float64 1e-10; float16 about one ulp. */
export function tolerance(dtype: DType): { rtol: number; atol: number } {
  if (dtype === "float64") return { rtol: 1e-10, atol: 1e-10 };
  if (dtype === "float32") return { rtol: 1e-5, atol: 1e-6 };
  if (dtype === "float16") return { rtol: 1e-3, atol: 1e-5 };
  return { rtol: 0, atol: 0 };
}

/** First element where `actual` and `expected` differ beyond tolerance, described; null when they agree. */
export function mismatch(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { rtol: number; atol: number },
): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (a !== e) return `element ${i}: got ${a}, torch ${e}`;
      continue;
    }
    if (Math.abs(a - e) > tol.atol + tol.rtol * Math.abs(e))
      return `element ${i}: got ${a}, torch ${e} (diff ${Math.abs(a - e).toExponential(3)})`;
  }
  return null;
}

/** Assert a gradwire tensor equals PyTorch's answer: dtype, shape, and values within the dtype's tolerance. */
export function expectTensor(
  actual: Tensor | null | undefined,
  expected: Flat | null,
  label: string,
  tol?: { rtol: number; atol: number },
): void {
  if (expected === null) {
    expect(actual ?? null, `${label}: torch has no value here`).toBeNull();
    return;
  }
  if (!actual) throw new Error(`${label}: gradwire has no value, torch has shape [${expected.shape}]`);
  expect(actual.dtype, `${label}: dtype`).toBe(expected.dtype);
  expect([...actual.shape], `${label}: shape`).toEqual(expected.shape);
  const bad = mismatch(actual.data, expected.data.map(decodeNum), tol ?? tolerance(expected.dtype));
  expect(bad, `${label}: values`).toBeNull();
}

// ---- running call cases on both sides --------------------------------------------------------------------

export type Impl = (...tensors: Tensor[]) => Tensor | Tensor[] | { values: Tensor; indices: Tensor };

export interface ParityCase {
  name: string;
  call: CallCase;
  impl: Impl;
  /** A looser tolerance where the reference itself is only that accurate (stated at the case). */
  tol?: { rtol: number; atol: number };
  /** Both sides must refuse: gradwire's message must match this. */
  error?: RegExp;
  /** Outputs must be bit-identical (single IEEE operations, which torch and gradwire both round correctly). */
  exact?: boolean;
}

function tensorArgs(args: Arg[], out: TensorSpec[]): void {
  for (const a of args) {
    if (a === null || typeof a !== "object") continue;
    if ("tensor" in a) out.push(a.tensor);
    else if ("list" in a) tensorArgs(a.list, out);
    else if ("tuple" in a) tensorArgs(a.tuple, out);
  }
}

function outputsOf(r: ReturnType<Impl>): Tensor[] {
  if (Array.isArray(r)) return r;
  if ("values" in r && "indices" in r) return [r.values, r.indices];
  return [r as Tensor];
}

/**
 * Run one case on gradwire and check it against PyTorch's answer: every output, then the gradient of every
 * tensor argument after backpropagating the same upstream gradients.
 */
export function checkParity(c: ParityCase, answer: CallAnswer | { error: string }): void {
  const specs: TensorSpec[] = [];
  tensorArgs(c.call.args, specs);
  tensorArgs(Object.values(c.call.kwargs ?? {}), specs);
  const inputs = specs.map(toTensor);
  if ("error" in answer && answer.error !== undefined) {
    if (!c.error) throw new Error(`torch refused this case (${answer.error}); mark it as an error case`);
    expect(() => c.impl(...inputs), `torch said: ${answer.error}`).toThrow(c.error);
    return;
  }
  if (c.error) throw new Error(`torch accepted a case expected to fail (${c.name})`);
  const ans = answer as CallAnswer;
  const outs = outputsOf(c.impl(...inputs));
  expect(outs.length, "number of outputs").toBe(ans.outputs.length);
  outs.forEach((o, k) => {
    expectTensor(o, ans.outputs[k], `output ${k}`, c.exact ? { rtol: 0, atol: 0 } : c.tol);
  });
  outs.forEach((o, k) => {
    if (ans.grad_outputs[k] === null)
      expect(o.requiresGrad, `output ${k} requires no grad, as in torch`).toBe(false);
  });
  const diff = outs.map((o, k) => [o, ans.grad_outputs[k]] as const).filter(([, g]) => g !== null);
  for (const [k, [o, g]] of diff.entries()) {
    expect(o.requiresGrad, `output ${k} requires grad as in torch`).toBe(true);
    if (g) o.backward(toTensor(g), { retainGraph: k < diff.length - 1 });
  }
  inputs.forEach((t, k) => {
    expectTensor(t.grad, ans.grads[k], `grad of tensor argument ${k}`, c.tol);
  });
}

/** Collects parity cases for one test file; `describeParity` then asks PyTorch about all of them at once. */
export class CaseList {
  readonly cases: ParityCase[] = [];

  add(
    name: string,
    fn: string,
    args: Arg[],
    impl: Impl,
    opts: {
      kwargs?: Record<string, Arg>;
      tol?: { rtol: number; atol: number };
      error?: RegExp;
      exact?: boolean;
    } = {},
  ): void {
    this.cases.push({
      name,
      call: { kind: "call", fn, args, kwargs: opts.kwargs, grad_seed: this.cases.length },
      impl,
      tol: opts.tol,
      error: opts.error,
      exact: opts.exact,
    });
  }
}

export function describeParity(title: string, list: CaseList): void {
  const answers = requestTorch<CallAnswer>(list.cases.map((c) => c.call));
  describe(title, () => {
    for (const [i, c] of list.cases.entries())
      it(c.name, () => {
        checkParity(c, answers()[i]);
      });
  });
}
