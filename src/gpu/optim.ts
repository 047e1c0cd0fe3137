/**
 * Optimizer steps on the GPU: one kernel per optimizer updates all of its parameters, which lie contiguously in
 * the arena, with their gradients and state likewise contiguous. The rules are the runtime's (torch 1.13's
 * single-tensor code op for op, float32 rounding, fused multiply-adds); the per-step scalars (bias corrections,
 * learning rate) are computed on the host in double as torch.optim does, rounded to float32, and passed per
 * epoch in a uniform slot, so a learning-rate change needs no recompilation.
 */

import { powInt } from "../runtime/exact.ts";
import { Adagrad, Adam, AdamW, type Optimizer, RMSprop, SGD } from "../runtime/optim.ts";
import { GpuError } from "./errors.ts";

export type OptimKind = "SGD" | "Adam" | "AdamW" | "RMSprop" | "Adagrad";

/** Uniform slot: 16 floats per epoch; index 15 is the epoch's record slot. */
export const UNIFORM_FLOATS = 16;
export const RECORD_SLOT_INDEX = 15;

/**
 * State buffers per optimizer, by the runtime optimizer's state key, with their initial values. Every buffer
 * the rule may use is allocated whatever the hyperparameters, so changing momentum or amsgrad mid-run needs no
 * recompilation; `inUse` tells which ones the CPU optimizer would hold.
 */
export function stateNames(kind: OptimKind, o: Record<string, unknown>): { name: string; init: number }[] {
  switch (kind) {
    case "SGD":
      return [{ name: "momentum_buffer", init: 0 }];
    case "Adam":
    case "AdamW":
      return [
        { name: "exp_avg", init: 0 },
        { name: "exp_avg_sq", init: 0 },
        { name: "max_exp_avg_sq", init: 0 },
      ];
    case "RMSprop":
      return [
        { name: "square_avg", init: 0 },
        { name: "grad_avg", init: 0 },
        { name: "momentum_buffer", init: 0 },
      ];
    case "Adagrad":
      return [{ name: "sum", init: Math.fround(o.initial_accumulator_value as number) }];
  }
}

/** Whether the CPU optimizer keeps this state buffer under these hyperparameters. */
export function inUse(kind: OptimKind, name: string, o: Record<string, unknown>): boolean {
  if (name === "max_exp_avg_sq") return Boolean(o.amsgrad);
  if (name === "grad_avg") return Boolean(o.centered);
  if (name === "momentum_buffer")
    return kind === "SGD" ? (o.momentum as number) !== 0 : (o.momentum as number) > 0;
  return true;
}

export function optimKindOf(opt: Optimizer): OptimKind {
  if (opt instanceof AdamW) return "AdamW";
  if (opt instanceof Adam) return "Adam";
  if (opt instanceof SGD) return "SGD";
  if (opt instanceof RMSprop) return "RMSprop";
  if (opt instanceof Adagrad) return "Adagrad";
  throw new GpuError("unsupported", `the optimizer ${opt.constructor.name} has no WebGPU kernel`);
}

/** The optimizer's current hyperparameters (its `o`, which setHyper edits). */
export function hyperOf(opt: Optimizer): Record<string, unknown> {
  return (opt as unknown as { o: Record<string, unknown> }).o;
}

const R = Math.fround;
const flag = (b: unknown) => (b ? 1 : 0);

/**
 * The uniform values of one step. `step` is the 1-based step count of this update (Adam, Adagrad), `first`
 * whether SGD's momentum buffer is still unset.
 */
export function stepUniforms(
  kind: OptimKind,
  o: Record<string, unknown>,
  step: number,
  first: boolean,
): Float32Array {
  const u = new Float32Array(UNIFORM_FLOATS);
  const num = (k: string) => o[k] as number;
  switch (kind) {
    case "SGD":
      u.set([
        R(num("weight_decay")),
        R(num("momentum")),
        R(1 - num("dampening")),
        R(-num("lr")),
        flag(first),
        flag(o.maximize),
        flag(num("weight_decay") !== 0),
        flag(num("momentum") !== 0),
        flag(o.nesterov),
      ]);
      break;
    case "Adam":
    case "AdamW": {
      const [b1, b2] = o.betas as [number, number];
      const lr = num("lr");
      const wd = num("weight_decay");
      const bc1 = 1 - powInt(b1, step);
      const bc2Sqrt = Math.sqrt(1 - powInt(b2, step));
      u.set([
        R(b1),
        R(b2),
        R(1 - b1),
        R(1 - b2),
        R(wd),
        R(num("eps")),
        R(bc2Sqrt),
        R(-(lr / bc1)),
        R(1 - lr * wd),
        flag(o.maximize),
        flag(wd !== 0),
        flag(kind === "AdamW"),
        flag(o.amsgrad),
      ]);
      break;
    }
    case "RMSprop":
      u.set([
        R(num("alpha")),
        R(1 - num("alpha")),
        R(num("eps")),
        R(num("weight_decay")),
        R(num("momentum")),
        R(-num("lr")),
        flag(o.maximize),
        flag(num("weight_decay") !== 0),
        flag(o.centered),
        flag(num("momentum") > 0),
      ]);
      break;
    case "Adagrad": {
      const clr = num("lr") / (1 + (step - 1) * num("lr_decay"));
      u.set([
        R(num("weight_decay")),
        R(num("eps")),
        R(-clr),
        flag(o.maximize),
        flag(num("weight_decay") !== 0),
      ]);
      break;
    }
  }
  return u;
}

/** Update rule bodies: read p and g, states S<k>[i], hyperparameters h(k); write p1 (and the states). */
function rule(kind: OptimKind, state: (name: string) => string): string[] {
  switch (kind) {
    case "SGD": {
      const b = state("momentum_buffer");
      return [
        "var d = select(g, -g, h(5u) != 0.0);",
        "if (h(6u) != 0.0) { d = fma(h(0u), p, d); }",
        ...(b
          ? [
              `if (h(7u) != 0.0) {`,
              `  let b = select(fma(h(2u), d, ${b} * h(1u)), d, h(4u) != 0.0);`,
              `  ${b} = b;`,
              "  d = select(b, fma(h(1u), b, d), h(8u) != 0.0);",
              "}",
            ]
          : []),
        "let p1 = fma(h(3u), d, p);",
      ];
    }
    case "Adam":
    case "AdamW": {
      const m = state("exp_avg");
      const v = state("exp_avg_sq");
      const vmax = state("max_exp_avg_sq");
      return [
        "var gi = select(g, -g, h(9u) != 0.0);",
        "var pi = p;",
        "if (h(10u) != 0.0) { if (h(11u) != 0.0) { pi = pi * h(8u); } else { gi = fma(h(4u), pi, gi); } }",
        `let m1 = fma(h(2u), gi, ${m} * h(0u));`,
        `let v1 = fma(h(3u) * gi, gi, ${v} * h(1u));`,
        `${m} = m1;`,
        `${v} = v1;`,
        "var vv = v1;",
        ...(vmax ? [`if (h(12u) != 0.0) { let vm = max(${vmax}, v1); ${vmax} = vm; vv = vm; }`] : []),
        "let denom = sqrt(vv) / h(6u) + h(5u);",
        "let p1 = pi + (h(7u) * m1) / denom;",
      ];
    }
    case "RMSprop": {
      const sq = state("square_avg");
      const ga = state("grad_avg");
      const mb = state("momentum_buffer");
      return [
        "var gi = select(g, -g, h(6u) != 0.0);",
        "if (h(7u) != 0.0) { gi = fma(h(3u), p, gi); }",
        `let sq = fma(h(1u) * gi, gi, ${sq} * h(0u));`,
        `${sq} = sq;`,
        "var avg = sqrt(sq);",
        ...(ga
          ? [
              `if (h(8u) != 0.0) { let ga = fma(h(1u), gi, ${ga} * h(0u)); ${ga} = ga; avg = sqrt(fma(-ga, ga, sq)); }`,
            ]
          : []),
        "avg = avg + h(2u);",
        "var p1 = p + (h(5u) * gi) / avg;",
        ...(mb
          ? [`if (h(9u) != 0.0) { let b = ${mb} * h(4u) + gi / avg; ${mb} = b; p1 = fma(h(5u), b, p); }`]
          : []),
      ];
    }
    case "Adagrad": {
      const s = state("sum");
      return [
        "var gi = select(g, -g, h(3u) != 0.0);",
        "if (h(4u) != 0.0) { gi = fma(h(0u), p, gi); }",
        `let s = fma(gi, gi, ${s});`,
        `${s} = s;`,
        "let p1 = p + (h(2u) * gi) / (sqrt(s) + h(1u));",
      ];
    }
  }
}

export interface OptimKernelSpec {
  kind: OptimKind;
  states: string[];
  /** Element count and arena offsets of this optimizer's params, grads and each state. */
  count: number;
  paramOffset: number;
  gradOffset: number;
  stateOffsets: number[];
  /** Arena offsets of the values that must be finite for the step to happen (the losses, the objective). */
  guards: number[];
  /** Records: base offset, floats per epoch, and where each recorded param range goes. */
  records: {
    base: number;
    size: number;
    /** Arena offsets of the record header (objective, losses), when this kernel writes it (the first one). */
    header: number[] | null;
    /** Record offset of the bad-gradient flag, set to 1 by any element whose gradient is NaN or infinite. */
    flag: number | null;
    /** [start, end) within this optimizer's elements, and the record offset of its values and gradients. */
    ranges: { start: number; end: number; at: number }[];
  };
}

const u = (n: number) => `${n >>> 0}u`;

/** WGSL of one optimizer's update kernel (workgroups of 256 threads, one element each). */
export function optimizerWgsl(spec: OptimKernelSpec, prelude: (code: string) => string): string {
  const state = (name: string) => {
    const k = spec.states.indexOf(name);
    return k < 0 ? "" : `A[${u(spec.stateOffsets[k])} + i]`;
  };
  const rec = spec.records;
  const recLines: string[] = [];
  if (rec.header)
    recLines.push(
      `if (i == 0u) { ${rec.header.map((h, j) => `A[${u(rec.base)} + slot * ${u(rec.size)} + ${u(j)}] = A[${u(h)}];`).join(" ")} }`,
    );
  for (const r of rec.ranges)
    recLines.push(
      `if (i >= ${u(r.start)} && i < ${u(r.end)}) { let at = ${u(rec.base)} + slot * ${u(rec.size)} + ${u(r.at)} + i - ${u(r.start)}; A[at] = pr; A[at + ${u(r.end - r.start)}] = g; }`,
    );
  if (rec.flag !== null)
    recLines.push(`if (!gw_finite(g)) { A[${u(rec.base)} + slot * ${u(rec.size)} + ${u(rec.flag)}] = 1.0; }`);
  const guard = spec.guards.map((g) => `gw_finite(A[${u(g)}])`).join(" && ") || "true";
  const main = `fn h(k: u32) -> f32 { return H.v[k / 4u][k % 4u]; }
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = (wid.x + wid.y * nw.x) * 256u + lid.x;
  if (i >= ${u(spec.count)}) { return; }
  let slot = u32(h(${RECORD_SLOT_INDEX}u));
  let p = A[${u(spec.paramOffset)} + i];
  let g = A[${u(spec.gradOffset)} + i];
  var pr = p;
  // A non-finite loss takes no step, as on the CPU: the parameters and state stay as they were. (A non-finite
  // gradient only sets the epoch's flag: no element can know another's, so the host undoes that epoch.)
  if (${guard}) {
    ${rule(spec.kind, state).join("\n    ")}
    A[${u(spec.paramOffset)} + i] = p1;
    pr = p1;
  }
  ${recLines.join("\n  ")}
}
`;
  return `@group(0) @binding(0) var<storage, read_write> A: array<f32>;
struct Hyper { v: array<vec4<f32>, 4> }
@group(1) @binding(0) var<uniform> H: Hyper;
${prelude(main)}
${main}`;
}
