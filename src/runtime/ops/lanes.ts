/**
 * Lane ops: softmax, log_softmax and their gradients. Each reads whole lanes (every element along one
 * dimension): it accumulates over the lane (a max, a sum), then writes each element from the accumulators.
 * Each is declared once here, in the formula language (formula.ts); from the declaration come the CPU loop
 * below (float64 accumulators, each element rounded once on store) and the WebGPU kernel (gpu/codegen.ts's
 * lane pass, float32 as the hardware computes). The gradient table (vjp.ts) names the gradient ops.
 */
import { allocate, type DType, finishStorage, type Storage } from "../dtype.ts";
import type { F } from "./formula.ts";
import * as f from "./formula.ts";

export type LaneFn = "softmax" | "log_softmax" | "softmax_grad" | "log_softmax_grad";

export interface LaneAcc {
  /** The accumulator's name: later terms, finishes and the value read it. */
  readonly name: string;
  /** "max": the NaN-propagating maximum, from -inf; "sum": from 0. */
  readonly combine: "max" | "sum";
  /** Each lane element's contribution. */
  readonly term: F;
  /** Applied once to the accumulated value. */
  readonly finish?: F;
}

export interface LaneSpec {
  /** The op's inputs as the formulas name them, in order. */
  readonly inputs: readonly string[];
  /** Passes over the lane, in order. */
  readonly accs: readonly LaneAcc[];
  /** Each element of the output. */
  readonly value: F;
}

const m = f.v("m");
const s = f.v("s");
/** Shifted by the lane's max, so large logits do not overflow; a lane of infinities is not shifted (NaN). */
const laneMax: LaneAcc = { name: "m", combine: "max", term: f.x, finish: f.sel(f.isfinite(m), m, 0) };
const expSum = (finish?: F): LaneAcc => ({ name: "s", combine: "sum", term: f.exp(f.sub(f.x, m)), finish });

export const LANES: Readonly<Record<LaneFn, LaneSpec>> = {
  /** `F.softmax`: exp(x - max) / sum(exp(x - max)). */
  softmax: { inputs: ["x"], accs: [laneMax, expSum()], value: f.div(f.exp(f.sub(f.x, m)), s) },
  /** `F.log_softmax`: x - max - log(sum(exp(x - max))). */
  log_softmax: { inputs: ["x"], accs: [laneMax, expSum(f.log(s))], value: f.sub(f.sub(f.x, m), s) },
  /** softmax's gradient from its output y: y (g - sum(g y)). */
  softmax_grad: {
    inputs: ["g", "y"],
    accs: [{ name: "s", combine: "sum", term: f.mul(f.g, f.y) }],
    value: f.mul(f.y, f.sub(f.g, s)),
  },
  /** log_softmax's gradient from its output y: g - exp(y) sum(g). */
  log_softmax_grad: {
    inputs: ["g", "y"],
    accs: [{ name: "s", combine: "sum", term: f.g }],
    value: f.sub(f.g, f.mul(f.exp(f.y), s)),
  },
};

type LaneLoop = (
  inputs: readonly ArrayLike<number>[],
  out: { [i: number]: number },
  outer: number,
  n: number,
  inner: number,
) => void;

const loops = new Map<LaneFn, LaneLoop>();

/** The CPU loop of a lane op, generated from its declaration once. */
function laneLoop(fn: LaneFn): LaneLoop {
  let loop = loops.get(fn);
  if (loop) return loop;
  const spec = LANES[fn];
  // Each pass declares the inputs its formulas read at element _j.
  const reads = (...fs: F[]) =>
    spec.inputs.map((v, i) => (fs.some((e) => f.readsVar(e, v)) ? `const ${v} = I${i}[_j];` : "")).join(" ");
  const pass = (fs: F[], line: string) =>
    `for (let _k = 0, _j = _b; _k < n; _k++, _j += inner) { ${reads(...fs)} ${line} }`;
  const body: string[] = [];
  for (const acc of spec.accs) {
    const term = f.jsExpr(acc.term);
    body.push(
      acc.combine === "max"
        ? `let ${acc.name} = -Infinity; ${pass([acc.term], `${acc.name} = Math.max(${acc.name}, ${term});`)}`
        : `let ${acc.name} = 0; ${pass([acc.term], `${acc.name} += ${term};`)}`,
    );
    if (acc.finish) body.push(`${acc.name} = ${f.jsExpr(acc.finish)};`);
  }
  body.push(pass([spec.value], `out[_j] = ${f.jsExpr(spec.value)};`));
  const inputs = spec.inputs.map((_, i) => `const I${i} = I[${i}];`).join(" ");
  loop = f.jsCompile<LaneLoop>(
    `(I, out, outer, n, inner) => { ${inputs} for (let _o = 0; _o < outer; _o++) for (let _i = 0; _i < inner; _i++) { const _b = _o * n * inner + _i; ${body.join(" ")} } }`,
  );
  loops.set(fn, loop);
  return loop;
}

/** A lane op over storage of shape (outer, n, inner) along n, rounded once into storage of `dtype`. */
export function runLanes(
  fn: LaneFn,
  inputs: readonly ArrayLike<number>[],
  lanes: readonly [outer: number, n: number, inner: number],
  dtype: DType,
): Storage {
  const [outer, n, inner] = lanes;
  const out = allocate(dtype, outer * n * inner);
  laneLoop(fn)(inputs, out, outer, n, inner);
  return finishStorage(dtype, out);
}
