/**
 * The CPU update loop of an optimizer spec, generated as JavaScript at first use: one function per spec,
 * dtype and combination of flags (a flag's branch not taken is left out, as hand-written code would), so
 * the loop runs as fast as a hand-written one. Each arithmetic node is rounded to the dtype where its result
 * lands; exact nodes (max, abs, neg) and float64 need no rounding call.
 */
import { type DType, roundHalf, type Storage } from "../dtype.ts";
import { fma } from "../exact.ts";
import type { OptExpr, OptimizerSpec, OptStmt } from "./spec.ts";

/**
 * Update every element of `p` in place. `g` is the gradient, `bufs` the spec's buffers in its order (null
 * for those the flags leave unused), `u` the step's uniforms in the spec's order, already rounded.
 */
export type UpdateLoop = (
  p: Storage,
  g: Storage,
  bufs: readonly (Float64Array | null)[],
  u: Float64Array,
) => void;

const BINARY: Record<string, string> = { add: "+", sub: "-", mul: "*", div: "/" };

/** Where a name lives in generated code (JavaScript here, WGSL in src/gpu/optim.ts). */
export interface NameForms {
  param: string;
  grad: string;
  buffer(index: number): string;
  uniform(index: number): string;
  local(name: string): string;
}

/** Resolves the names an update uses, failing on one the spec does not declare. */
export function nameResolver(spec: OptimizerSpec, forms: NameForms): (name: string) => string {
  const locals = new Set<string>();
  const collect = (ss: readonly OptStmt[]) => {
    for (const s of ss)
      if (s.k === "let") locals.add(s.name);
      else if (s.k === "when") {
        collect(s.then);
        collect(s.else);
      }
  };
  collect(spec.update);
  const buffers = spec.buffers.map((b) => b.name);
  return (name) => {
    if (name === "p") return forms.param;
    if (name === "g") return forms.grad;
    if (locals.has(name)) return forms.local(name);
    const b = buffers.indexOf(name);
    if (b >= 0) return forms.buffer(b);
    const u = spec.uniforms.indexOf(name);
    if (u >= 0) return forms.uniform(u);
    throw new Error(`optimizer ${spec.name}: the update uses '${name}', which it does not declare`);
  };
}

/** The key of one flag combination (bit k: flag k). */
export function flagKey(spec: OptimizerSpec, flags: Record<string, boolean>): number {
  let key = 0;
  for (let k = 0; k < spec.flags.length; k++) if (flags[spec.flags[k]]) key |= 1 << k;
  return key;
}

/** Whether `flag` ("name" or "!name") holds. */
export function holds(flag: string, flags: Record<string, boolean>): boolean {
  return flag.startsWith("!") ? !flags[flag.slice(1)] : Boolean(flags[flag]);
}

function generate(spec: OptimizerSpec, flags: Record<string, boolean>, dtype: DType): string {
  const name = nameResolver(spec, {
    param: "p0",
    grad: "g[i]",
    buffer: (k) => `b${k}[i]`,
    uniform: (k) => `u${k}`,
    local: (n) => `l_${n}`,
  });
  const round = (code: string) =>
    dtype === "float32" ? `Math.fround(${code})` : dtype === "float16" ? `R16(${code})` : code;
  const expr = (e: OptExpr): string => {
    if (typeof e === "number") return `(${e})`;
    if (typeof e === "string") return name(e);
    if (e.op === "select") return holds(e.flag, flags) ? expr(e.then) : expr(e.else);
    const a = e.args.map(expr);
    switch (e.op) {
      case "neg":
        return `(-${a[0]})`;
      case "abs":
        return `Math.abs(${a[0]})`;
      case "max":
        return `Math.max(${a[0]}, ${a[1]})`;
      case "sqrt":
        return round(`Math.sqrt(${a[0]})`);
      case "fma":
        // A product of two float32 (or float16) values is exact in float64, so the float64 a * b + c is
        // already the fused result rounded once to float64, as fma() computes it at ~20 more operations.
        return dtype === "float64"
          ? `fma(${a[0]}, ${a[1]}, ${a[2]})`
          : round(`(${a[0]} * ${a[1]} + ${a[2]})`);
      default:
        return round(`(${a[0]} ${BINARY[e.op]} ${a[1]})`);
    }
  };
  const stmts = (ss: readonly OptStmt[], indent: string): string[] =>
    ss.flatMap((s) => {
      if (s.k === "when") return stmts(holds(s.flag, flags) ? s.then : s.else, indent);
      if (s.k === "let") return [`${indent}let ${name(s.name)} = ${expr(s.value)};`];
      return [`${indent}${s.name === "p" ? "p[i]" : name(s.name)} = ${expr(s.value)};`];
    });
  const body = stmts(spec.update, "    ");
  const used = (k: number) => body.some((line) => line.includes(`b${k}[i]`));
  return [
    `// ${spec.name} update (${dtype}, flags ${JSON.stringify(flags)})`,
    "return function update(p, g, bufs, u) {",
    ...spec.buffers.flatMap((_, k) => (used(k) ? [`  const b${k} = bufs[${k}];`] : [])),
    ...spec.uniforms.map((_, k) => `  const u${k} = u[${k}];`),
    "  for (let i = 0; i < p.length; i++) {",
    "    const p0 = p[i];",
    ...body,
    "  }",
    "};",
  ].join("\n");
}

/** Loops made so far, by spec, dtype and flag key (looked up every step, so no string keys). */
const cache = new WeakMap<OptimizerSpec, Map<DType, Map<number, UpdateLoop>>>();

/** The generated loop for these flags and dtype (made once, then cached). */
export function updateLoop(spec: OptimizerSpec, flags: Record<string, boolean>, dtype: DType): UpdateLoop {
  let bySpec = cache.get(spec);
  if (!bySpec) {
    bySpec = new Map();
    cache.set(spec, bySpec);
  }
  let byDtype = bySpec.get(dtype);
  if (!byDtype) {
    byDtype = new Map();
    bySpec.set(dtype, byDtype);
  }
  const key = flagKey(spec, flags);
  let loop = byDtype.get(key);
  if (!loop) {
    // Generated from the spec's own declarations (never from user input), once per spec, dtype and flags.
    loop = new Function("fma", "R16", generate(spec, flags, dtype))(fma, roundHalf) as UpdateLoop;
    byDtype.set(key, loop);
  }
  return loop;
}
