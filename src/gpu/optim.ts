/**
 * Optimizer steps on the GPU: one kernel per optimizer updates all of its parameters, which lie contiguously in
 * the arena, with their gradients and state likewise contiguous. The kernel is generated from the optimizer's
 * spec (src/runtime/optim), the same declaration the CPU loop comes from (torch 1.13's single-tensor code op
 * for op, fused multiply-adds); the per-step values (bias corrections, learning rate) and the branches' flags
 * are computed on the host by the spec, rounded to float32, and passed per epoch in a uniform slot whose
 * fields carry the spec's names, so a learning-rate change needs no recompilation.
 */

import { nameResolver } from "../runtime/optim/loop.ts";
import type { OptExpr, OptStmt } from "../runtime/optim/spec.ts";
import { defaultHyper, type Hyper, type OptimizerSpec, optimizerSpec } from "../runtime/optim.ts";
import { GpuError } from "./errors.ts";

/** Uniform slot: 16 floats per epoch; the last is the epoch's record slot. */
export const UNIFORM_FLOATS = 16;
export const RECORD_SLOT_INDEX = 15;

/** The uniform slot's fields before the record slot: the spec's numbers, then its flags (0 or 1). */
export function uniformFields(spec: OptimizerSpec): string[] {
  const names = [...spec.uniforms, ...spec.flags];
  if (names.length > RECORD_SLOT_INDEX)
    throw new GpuError(
      "unsupported",
      `${spec.name} needs ${names.length} per-step values; the WebGPU step kernel has room for ${RECORD_SLOT_INDEX}`,
    );
  return names;
}

/**
 * State buffers with their initial values. Every buffer the rule may use is allocated whatever the
 * hyperparameters, so changing momentum or amsgrad mid-run needs no recompilation.
 */
export function stateNames(kind: string, h: Hyper): { name: string; init: number }[] {
  const spec = optimizerSpec(kind);
  const full = { ...defaultHyper(spec), ...h };
  return spec.buffers.map((b) => ({ name: b.name, init: Math.fround(b.init?.(full) ?? 0) }));
}

/** What the host tracks per optimizer between steps: the spec's scalars and which buffers were started. */
export interface StepState {
  /** Steps this session took. */
  steps: number;
  scalars: Record<string, number>;
  started: Record<string, boolean>;
}

export function copyStepState(s: StepState): StepState {
  return { steps: s.steps, scalars: { ...s.scalars }, started: { ...s.started } };
}

/**
 * The uniform values of the next step, as the CPU optimizer computes them (in double, rounded to float32),
 * advancing `s` as that step does.
 */
export function stepUniforms(spec: OptimizerSpec, h: Hyper, s: StepState): Float32Array {
  const flags = spec.flagsOf(h, (name) => Boolean(s.started[name]), s.scalars);
  const values = spec.values(h, s.scalars);
  for (const b of spec.buffers) if (b.usedIf === undefined || flags[b.usedIf]) s.started[b.name] = true;
  s.steps++;
  const out = new Float32Array(UNIFORM_FLOATS);
  uniformFields(spec).forEach((name, k) => {
    out[k] = k < spec.uniforms.length ? Math.fround(values[name]) : flags[name] ? 1 : 0;
  });
  return out;
}

/** WGSL of a spec's update: names resolved to the kernel's p, g, arena buffers, uniforms and locals. */
function ruleWgsl(spec: OptimizerSpec, bufferAt: (k: number) => string): string[] {
  const name = nameResolver(spec, {
    param: "p",
    grad: "g",
    buffer: bufferAt,
    uniform: (k) => `H.${spec.uniforms[k]}`,
    local: (n) => `l_${n}`,
  });
  const cond = (flag: string) => (flag.startsWith("!") ? `H.${flag.slice(1)} == 0.0` : `H.${flag} != 0.0`);
  const expr = (e: OptExpr): string => {
    if (typeof e === "number") return `f32(${e})`;
    if (typeof e === "string") return name(e);
    if (e.op === "select") return `select(${expr(e.else)}, ${expr(e.then)}, ${cond(e.flag)})`;
    const a = e.args.map(expr);
    switch (e.op) {
      case "add":
        return `(${a[0]} + ${a[1]})`;
      case "sub":
        return `(${a[0]} - ${a[1]})`;
      case "mul":
        return `(${a[0]} * ${a[1]})`;
      case "div":
        return `(${a[0]} / ${a[1]})`;
      case "neg":
        return `(-${a[0]})`;
      default:
        return `${e.op}(${a.join(", ")})`;
    }
  };
  const stmts = (ss: readonly OptStmt[], indent: string): string[] =>
    ss.flatMap((s) => {
      if (s.k === "let") return [`${indent}var ${name(s.name)}: f32 = ${expr(s.value)};`];
      if (s.k === "set") return [`${indent}${s.name === "p" ? "pr" : name(s.name)} = ${expr(s.value)};`];
      const inner = (b: readonly OptStmt[]) => stmts(b, `${indent}  `);
      return s.else.length
        ? [
            `${indent}if (${cond(s.flag)}) {`,
            ...inner(s.then),
            `${indent}} else {`,
            ...inner(s.else),
            `${indent}}`,
          ]
        : [`${indent}if (${cond(s.flag)}) {`, ...inner(s.then), `${indent}}`];
    });
  return stmts(spec.update, "");
}

export interface OptimKernelSpec {
  /** The optimizer's name (its spec's). */
  kind: string;
  /** Element count and arena offsets of this optimizer's params, grads and each state (in its spec's order). */
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
  const optimizer = optimizerSpec(spec.kind);
  const fields = uniformFields(optimizer);
  const pad = Array.from({ length: RECORD_SLOT_INDEX - fields.length }, (_, k) => `_pad${k}`);
  const hyper = [...fields, ...pad, "record_slot"].map((f) => `  ${f}: f32,`).join("\n");
  const rule = ruleWgsl(optimizer, (k) => `A[${u(spec.stateOffsets[k])} + i]`);
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
  const main = `@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = (wid.x + wid.y * nw.x) * 256u + lid.x;
  if (i >= ${u(spec.count)}) { return; }
  let slot = u32(H.record_slot);
  let p = A[${u(spec.paramOffset)} + i];
  let g = A[${u(spec.gradOffset)} + i];
  var pr = p;
  // A non-finite loss takes no step, as on the CPU: the parameters and state stay as they were. (A non-finite
  // gradient only sets the epoch's flag: no element can know another's, so the host undoes that epoch.)
  if (${guard}) {
    // ${spec.kind}: generated from its spec (src/runtime/optim).
    ${rule.join("\n    ")}
    A[${u(spec.paramOffset)} + i] = pr;
  }
  ${recLines.join("\n  ")}
}
`;
  return `@group(0) @binding(0) var<storage, read_write> A: array<f32>;
/** The step's values, named as in the optimizer's spec (flags are 0 or 1). */
struct Hyper {
${hyper}
}
@group(1) @binding(0) var<uniform> H: Hyper;
${prelude(main)}
${main}`;
}
