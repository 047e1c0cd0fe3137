/**
 * A small scalar expression language in which each elementwise op's forward and gradient are written once
 * (ops/elementwise.ts). From one formula come: the CPU loops (JavaScript generated and compiled at load), the
 * WGSL expression the WebGPU kernels fuse, and the SIMD path's lazy expression (simd/expr.ts).
 *
 * Unary formulas read `x` (the input), `y` (the output, in gradients) and `g` (the incoming gradient); binary
 * ones read `a` and `b` (and `y` in derivatives). Attributes are
 * `attr` nodes: the generated JavaScript reads them from an array when the loop is made, so no attribute value
 * (which may come from a graph file) is ever part of generated source.
 *
 * Primitives whose value depends on the backend are the transcendentals, each implemented once per backend:
 * float64 JavaScript uses Math (and special.ts for erf and sigmoid); float32 storage uses the float32 breakdown
 * of tanh (simd/breakdown.ts, the same operations as the SIMD kernels, so the two agree bit for bit) and tanh's
 * derivative 1 - y * y rounded once as torch's kernel computes it; WGSL uses the prelude's gw_* functions
 * (gpu/wgsl.ts), which give C's answers where WGSL's builtins are loose.
 */
import { roundHalf } from "../dtype.ts";
import { dtanhF32, tanhF32 } from "../simd/breakdown.ts";
import type { Expr as SimdExpr } from "../simd/expr.ts";
import * as E from "../simd/expr.ts";
import { erf, sigmoid } from "./special.ts";

export type Prim1 =
  | "neg"
  | "abs"
  | "sign"
  | "exp"
  | "log"
  | "log1p"
  | "sqrt"
  | "tanh"
  /** 1 - y * y for tanh's output y (float32: rounded once, like torch's fused multiply-add). */
  | "dtanh"
  | "sigmoid"
  | "erf"
  /** Rounded to float32 (torch reads some scalar arguments as floats). */
  | "fround";
export type Prim2 = "add" | "sub" | "mul" | "div" | "min" | "max" | "pow";
export type CmpOp = "lt" | "le" | "gt" | "ge" | "eq" | "ne";

export type F =
  | { readonly k: "var"; readonly name: string }
  | { readonly k: "num"; readonly v: number }
  /** An attribute; `dflt` stands in for null or a missing value (clamp's min = None is -inf). */
  | { readonly k: "attr"; readonly name: string; readonly dflt?: number }
  | { readonly k: "p1"; readonly op: Prim1; readonly a: F }
  | { readonly k: "p2"; readonly op: Prim2; readonly a: F; readonly b: F }
  | { readonly k: "sel"; readonly c: B; readonly t: F; readonly e: F }
  /** `name` bound to v inside body: a value used twice is computed once. */
  | { readonly k: "let"; readonly name: string; readonly v: F; readonly body: F };

export type B =
  | { readonly k: "cmp"; readonly op: CmpOp; readonly a: F; readonly b: F }
  | { readonly k: "and" | "or"; readonly a: B; readonly b: B }
  | { readonly k: "not"; readonly a: B }
  | { readonly k: "isnan"; readonly a: F }
  /** Neither infinite nor NaN. */
  | { readonly k: "isfinite"; readonly a: F };

type Arg = F | number;
const lift = (a: Arg): F => (typeof a === "number" ? { k: "num", v: a } : a);

// ---- builders ---------------------------------------------------------------------------------------------
/** A variable by name (a loss's target t or weight w, ...). */
export const v = (name: string): F => ({ k: "var", name });
export const x: F = { k: "var", name: "x" };
/** A binary op's operands. */
export const a: F = { k: "var", name: "a" };
export const b: F = { k: "var", name: "b" };
export const y: F = { k: "var", name: "y" };
export const g: F = { k: "var", name: "g" };
export const num = (v: number): F => ({ k: "num", v });
export const attr = (name: string, dflt?: number): F => ({ k: "attr", name, dflt });
const p1 =
  (op: Prim1) =>
  (a: Arg): F => ({ k: "p1", op, a: lift(a) });
const p2 =
  (op: Prim2) =>
  (a: Arg, b: Arg): F => ({ k: "p2", op, a: lift(a), b: lift(b) });
export const neg = p1("neg");
export const abs = p1("abs");
export const sign = p1("sign");
export const exp = p1("exp");
export const log = p1("log");
export const log1p = p1("log1p");
export const sqrt = p1("sqrt");
export const tanh = p1("tanh");
export const dtanh = p1("dtanh");
export const sigmoidF = p1("sigmoid");
export const erfF = p1("erf");
export const fround = p1("fround");
export const add = p2("add");
export const sub = p2("sub");
export const mul = p2("mul");
export const div = p2("div");
export const min = p2("min");
export const max = p2("max");
export const pow = p2("pow");
/** Left-to-right product a * b * c ..., evaluated in that order. */
export const prod = (...xs: Arg[]): F => xs.map(lift).reduce((acc, v) => mul(acc, v));
export const sel = (c: B, t: Arg, e: Arg): F => ({ k: "sel", c, t: lift(t), e: lift(e) });
const cmp =
  (op: CmpOp) =>
  (a: Arg, b: Arg): B => ({ k: "cmp", op, a: lift(a), b: lift(b) });
export const lt = cmp("lt");
export const le = cmp("le");
export const gt = cmp("gt");
export const ge = cmp("ge");
export const eq = cmp("eq");
export const ne = cmp("ne");
export const and = (a: B, b: B): B => ({ k: "and", a, b });
export const or = (a: B, b: B): B => ({ k: "or", a, b });
export const not = (a: B): B => ({ k: "not", a });
export const isnan = (a: Arg): B => ({ k: "isnan", a: lift(a) });
export const isfinite = (a: Arg): B => ({ k: "isfinite", a: lift(a) });
let lets = 0;
/** let t = v in body(t). */
export function bind(v: F, body: (t: F) => F): F {
  const name = `t${lets++}`;
  return { k: "let", name, v, body: body({ k: "var", name }) };
}

// ---- analysis -----------------------------------------------------------------------------------------------
type Node = F | B;
function children(n: Node): Node[] {
  switch (n.k) {
    case "var":
    case "num":
    case "attr":
      return [];
    case "p1":
    case "not":
    case "isnan":
    case "isfinite":
      return [n.a];
    case "p2":
    case "cmp":
    case "and":
    case "or":
      return [n.a, n.b];
    case "sel":
      return [n.c, n.t, n.e];
    case "let":
      return [n.v, n.body];
  }
}

function walk(n: Node, visit: (n: Node) => void): void {
  visit(n);
  for (const c of children(n)) walk(c, visit);
}

/** Visits each node once per use, descending into a node only while `visit` returns true (its first use). */
function walkShared(n: Node, visit: (n: Node) => boolean): void {
  if (visit(n)) for (const c of children(n)) walkShared(c, visit);
}

/** Whether the formula reads variable `name` (x, y or g). */
export function readsVar(f: F, name: string): boolean {
  let hit = false;
  walk(f, (n) => {
    if (n.k === "var" && n.name === name) hit = true;
  });
  return hit;
}

type AttrNode = Extract<F, { k: "attr" }>;
/** Attribute nodes in order of first use, one per name. */
function attrNodes(fs: F[]): AttrNode[] {
  const out: AttrNode[] = [];
  for (const f of fs)
    walk(f, (n) => {
      if (n.k === "attr" && !out.some((a) => a.name === n.name)) out.push(n);
    });
  return out;
}

function attrValue(n: { name: string; dflt?: number }, attrs: Attrs): number {
  const v = attrs[n.name];
  if (typeof v === "number") return v;
  if (n.dflt !== undefined) return n.dflt;
  throw new TypeError(`attribute '${n.name}' must be a number`);
}

export type Attrs = Record<string, number | string | null | undefined>;

// ---- JavaScript -------------------------------------------------------------------------------------------
/**
 * Float64 math rounded once on store ("f64", "f32": tanh and its derivative in their float32 breakdowns), or
 * every operation rounded to float32 or float16 as torch's kernels store each step ("step32", "step16": the
 * losses' formulas, op for op as torch computes them in the input's dtype).
 */
export type JsMode = "f64" | "f32" | "step32" | "step16";

/** Rounding of each step in a step mode: its generated name and its value (for literals). */
const STEP: Partial<Record<JsMode, { name: string; fn: (v: number) => number }>> = {
  step32: { name: "Math.fround", fn: Math.fround },
  step16: { name: "roundHalf", fn: roundHalf },
};
/** Operations exact in the operands' format: no rounding step after them. */
const EXACT1 = new Set<Prim1>(["neg", "abs", "sign", "fround"]);
const EXACT2 = new Set<Prim2>(["min", "max"]);

function jsNum(v: number): string {
  if (Object.is(v, -0)) return "(-0)";
  return v < 0 ? `(${v})` : String(v);
}

const JS1: Record<Prim1, (a: string, mode: JsMode) => string> = {
  neg: (a) => `(-${a})`,
  abs: (a) => `Math.abs(${a})`,
  sign: (a) => `Math.sign(${a})`,
  exp: (a) => `Math.exp(${a})`,
  log: (a) => `Math.log(${a})`,
  log1p: (a) => `Math.log1p(${a})`,
  sqrt: (a) => `Math.sqrt(${a})`,
  tanh: (a, m) => (m === "f64" ? `Math.tanh(${a})` : `tanhF32(${a})`),
  dtanh: (a, m) => (m === "f64" ? `dtanh64(${a})` : `dtanhF32(${a})`),
  sigmoid: (a) => `sigmoid(${a})`,
  erf: (a) => `erf(${a})`,
  fround: (a) => `Math.fround(${a})`,
};
const JS2: Record<Prim2, (a: string, b: string) => string> = {
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b) => `(${a} * ${b})`,
  div: (a, b) => `(${a} / ${b})`,
  min: (a, b) => `Math.min(${a}, ${b})`,
  max: (a, b) => `Math.max(${a}, ${b})`,
  pow: (a, b) => `(${a} ** ${b})`,
};
const JSCMP: Record<CmpOp, string> = { lt: "<", le: "<=", gt: ">", ge: ">=", eq: "===", ne: "!==" };

function jsOf(n: Node, mode: JsMode, attrIndex: Map<string, number>): string {
  const r = (c: Node) => jsOf(c, mode, attrIndex);
  const step = STEP[mode];
  const round = (text: string, exact: boolean) => (step && !exact ? `${step.name}(${text})` : text);
  switch (n.k) {
    case "var":
      return n.name;
    case "num":
      return jsNum(step ? step.fn(n.v) : n.v);
    case "attr":
      return round(`A${attrIndex.get(n.name)}`, false);
    case "p1":
      return round(JS1[n.op](r(n.a), mode), EXACT1.has(n.op));
    case "p2":
      return round(JS2[n.op](r(n.a), r(n.b)), EXACT2.has(n.op));
    case "sel":
      return `(${r(n.c)} ? ${r(n.t)} : ${r(n.e)})`;
    case "let":
      return `((${n.name}) => ${r(n.body)})(${r(n.v)})`;
    case "cmp":
    case "and":
    case "or":
    case "not":
    case "isnan":
    case "isfinite":
      return condText(n, r, JSCMP, "Number.isNaN", "Number.isFinite");
  }
}

/** A condition's text: JavaScript and WGSL differ only in comparison spellings and the NaN test. */
function condText(
  n: B,
  r: (c: Node) => string,
  cmp: Record<CmpOp, string>,
  isnan: string,
  isfinite: string,
): string {
  switch (n.k) {
    case "cmp":
      return `(${r(n.a)} ${cmp[n.op]} ${r(n.b)})`;
    case "and":
      return `(${r(n.a)} && ${r(n.b)})`;
    case "or":
      return `(${r(n.a)} || ${r(n.b)})`;
    case "not":
      return `!${r(n.a)}`;
    case "isnan":
      return `${isnan}(${r(n.a)})`;
    case "isfinite":
      return `${isfinite}(${r(n.a)})`;
  }
}

/** What generated code may call: the primitives' implementations, bound as the factory's parameters. */
const HELPERS = {
  roundHalf,
  tanhF32,
  dtanhF32,
  dtanh64: (v: number) => 1 - v * v,
  sigmoid,
  erf,
};
const HELPER_NAMES = Object.keys(HELPERS);
const HELPER_VALUES = Object.values(HELPERS);

type Factory<T> = (...args: unknown[]) => T;
const factories = new Map<string, Factory<unknown>>();

/**
 * A function compiled from generated source: `body` is the source of an arrow function that may read the
 * helpers and attributes A0, A1... Compiled once per source text and cached; attributes bind per call.
 */
function compile<T>(body: string, attrCount: number, values: number[]): T {
  let f = factories.get(body) as Factory<T> | undefined;
  if (!f) {
    const params = Array.from({ length: attrCount }, (_, i) => `A${i}`);
    f = new Function(...HELPER_NAMES, ...params, `"use strict"; return ${body};`) as Factory<T>;
    factories.set(body, f as Factory<unknown>);
  }
  return f(...HELPER_VALUES, ...values);
}

export type UnaryLoop = (X: ArrayLike<number>, out: { [i: number]: number }, n: number) => void;
export type UnaryGradLoop = (
  G: ArrayLike<number>,
  X: ArrayLike<number>,
  Y: ArrayLike<number>,
  out: { [i: number]: number },
  n: number,
) => void;

/** The generated JavaScript of one op with one set of attributes: scalar functions and loops. */
export class JsKernels {
  private readonly names: string[];
  private readonly values: number[];
  private cache = new Map<string, unknown>();
  constructor(
    private readonly fwd: F,
    private readonly grad: F | undefined,
    attrs: Attrs,
  ) {
    const nodes = attrNodes(grad ? [fwd, grad] : [fwd]);
    this.names = nodes.map((n) => n.name);
    this.values = nodes.map((n) => attrValue(n, attrs));
  }

  private code(f: F, mode: JsMode): string {
    return jsOf(f, mode, new Map(this.names.map((n, i) => [n, i])));
  }

  private make<T>(key: string, body: () => string): T {
    let hit = this.cache.get(key) as T | undefined;
    if (hit === undefined) {
      hit = compile<T>(body(), this.names.length, this.values);
      this.cache.set(key, hit);
    }
    return hit;
  }

  /** x -> y in float64. */
  fn(): (x: number) => number {
    return this.make("fn", () => `(x) => ${this.code(this.fwd, "f64")}`);
  }

  /** (g, x, y) -> the gradient in float64. */
  gradFn(): (g: number, x: number, y: number) => number {
    const grad = this.grad;
    if (!grad) throw new Error("no gradient");
    return this.make("gradFn", () => `(g, x, y) => ${this.code(grad, "f64")}`);
  }

  fwdLoop(mode: JsMode): UnaryLoop {
    return this.make(`fwd${mode}`, () => {
      const body = this.code(this.fwd, mode);
      return `(X, out, n) => { for (let i = 0; i < n; i++) { const x = X[i]; out[i] = ${body}; } }`;
    });
  }

  gradLoop(mode: JsMode): UnaryGradLoop {
    const grad = this.grad;
    if (!grad) throw new Error("no gradient");
    return this.make(`grad${mode}`, () => {
      const reads = [
        ["g", "G"],
        ["x", "X"],
        ["y", "Y"],
      ]
        .filter(([v]) => readsVar(grad, v))
        .map(([v, arr]) => `const ${v} = ${arr}[i];`)
        .join(" ");
      const body = this.code(grad, mode);
      return `(G, X, Y, out, n) => { for (let i = 0; i < n; i++) { ${reads} out[i] = ${body}; } }`;
    });
  }
}

/**
 * A formula without attributes as a JavaScript function of the named variables (a binary op's (a, b) or
 * (a, b, y)), compiled once per text.
 */
export function jsFunction<T extends (...args: number[]) => number>(f: F, params: readonly string[]): T {
  return compile<T>(`(${params.join(", ")}) => ${jsOf(f, "f64", new Map())}`, 0, []);
}

/**
 * A formula without attributes as JavaScript expression text over its variables' names, in float64 (rounded
 * once where the caller stores it), for generated loops other than the elementwise ones (ops/lanes.ts).
 */
export function jsExpr(f: F): string {
  if (attrNodes([f]).length > 0) throw new TypeError("jsExpr: a formula with attributes needs formulaLoop");
  return jsOf(f, "f64", new Map());
}

/** Generated JavaScript source (an arrow function reading only the helpers) compiled once per text. */
export function jsCompile<T>(src: string): T {
  return compile<T>(src, 0, []);
}

/** A loop operand: an array read at each element, or one number for every element. */
export type Operand = ArrayLike<number> | number;
export type FormulaLoop = (operands: readonly Operand[], out: { [i: number]: number }, n: number) => void;

/**
 * The loop of a formula over n elements: variable vars[k] reads operands[k], an array (read at each element)
 * or a number (`scalar[k]`). Attributes bind to `attrs`; the source is compiled once per text.
 */
export function formulaLoop(
  f: F,
  vars: readonly string[],
  scalar: readonly boolean[],
  mode: JsMode,
  attrs: Attrs,
): FormulaLoop {
  // A 12-point loss calls this every few microseconds: the lookups below allocate nothing that is not needed.
  let byVars = loopSources.get(f);
  if (!byVars) {
    byVars = new WeakMap();
    loopSources.set(f, byVars);
  }
  let byKey = byVars.get(vars);
  if (!byKey) {
    byKey = new Map();
    byVars.set(vars, byKey);
  }
  let mask = 0;
  for (let k = 0; k < scalar.length; k++) if (scalar[k]) mask |= 1 << k;
  const key = `${mode}${mask}`;
  let made = byKey.get(key);
  if (!made) {
    const nodes = attrNodes([f]);
    const body = jsOf(f, mode, new Map(nodes.map((n, i) => [n.name, i])));
    const outer: string[] = [];
    const inner: string[] = [];
    vars.forEach((v, k) => {
      if (!readsVar(f, v)) return;
      outer.push(`const V${k} = V[${k}];`);
      (scalar[k] ? outer : inner).push(`const ${v} = V${k}${scalar[k] ? "" : "[i]"};`);
    });
    const src = `(V, out, n) => { ${outer.join(" ")} for (let i = 0; i < n; i++) { ${inner.join(" ")} out[i] = ${body}; } }`;
    made = { src, nodes, loops: new Map() };
    byKey.set(key, made);
  }
  if (made.nodes.length === 0) {
    made.fixed ??= compile<FormulaLoop>(made.src, 0, []);
    return made.fixed;
  }
  const values = made.nodes.map((n) => attrValue(n, attrs));
  // Attribute values by their exact bits (-0 is not 0): a loss's beta or delta rarely changes.
  const vkey = values.map((v) => (Object.is(v, -0) ? "-0" : String(v))).join(",");
  let loop = made.loops.get(vkey);
  if (!loop) {
    loop = compile<FormulaLoop>(made.src, made.nodes.length, values);
    if (made.loops.size < 32) made.loops.set(vkey, loop);
  }
  return loop;
}
/** formulaLoop's source, attributes and compiled loops, by formula, variable list and signature. */
interface Made {
  src: string;
  nodes: AttrNode[];
  /** The loop of a formula without attributes. */
  fixed?: FormulaLoop;
  loops: Map<string, FormulaLoop>;
}
const loopSources = new WeakMap<F, WeakMap<readonly string[], Map<string, Made>>>();

/**
 * The loops of a formula of two variables (a binary op's a and b, or a gradient's g and one operand: `vars`):
 * `row` reads A from ia with stride sa and B from ib with stride sb (stride 0 broadcasts) into n outputs from
 * o; `repeated` reads A in full and R, a repeated row of m elements, as the second variable (or as the first,
 * `rowLeft`). Monomorphic, so no per-element call.
 */
export function binaryLoops(
  f: F,
  vars: readonly [string, string] = ["a", "b"],
): { row: unknown; repeated: unknown } {
  const e = jsOf(f, "f64", new Map());
  const [a, b] = vars;
  const row = `(A, ia, sa, B, ib, sb, out, o, n) => { for (let k = 0; k < n; k++, ia += sa, ib += sb) { const ${a} = A[ia]; const ${b} = B[ib]; out[o + k] = ${e}; } }`;
  const each = (av: string, bv: string) =>
    `for (let i = 0, j = 0; i < out.length; i++, j = j + 1 === m ? 0 : j + 1) { const ${a} = ${av}; const ${b} = ${bv}; out[i] = ${e}; }`;
  const repeated = `(A, R, m, out, rowLeft) => { if (rowLeft) { ${each("R[j]", "A[i]")} } else { ${each("A[i]", "R[j]")} } }`;
  return { row: compile(row, 0, []), repeated: compile(repeated, 0, []) };
}

// ---- WGSL ---------------------------------------------------------------------------------------------------
/** A float literal WGSL accepts (always with a decimal point or exponent). */
export function wgslFloat(v: number): string {
  if (Number.isNaN(v)) return "(0.0 / 0.0)";
  if (!Number.isFinite(v)) return v > 0 ? "3.4028235e38" : "-3.4028235e38";
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/** A literal that can follow any operator: negatives parenthesised, so no kernel contains WGSL's `--`. */
function wgslLiteral(v: number): string {
  // Infinities and NaN from the prelude's bit patterns: as literals they are not f32 values.
  if (Number.isNaN(v)) return "gw_nan()";
  if (!Number.isFinite(v)) return v > 0 ? "gw_bits_inf()" : "(-gw_bits_inf())";
  const s = wgslFloat(v);
  return s.startsWith("-") ? `(${s})` : s;
}

const WGSL1: Record<Prim1, (a: string) => string> = {
  neg: (a) => `-${a}`,
  abs: (a) => `abs(${a})`,
  sign: (a) => `sign(${a})`,
  exp: (a) => `gw_exp(${a})`,
  log: (a) => `gw_log(${a})`,
  log1p: (a) => `gw_log1p(${a})`,
  sqrt: (a) => `gw_sqrt(${a})`,
  tanh: (a) => `gw_tanh(${a})`,
  // (1 - y)(1 + y) rather than 1 - y * y: near saturation the float32 square cancels away digits.
  dtanh: (a) => `(1.0 - ${a}) * (1.0 + ${a})`,
  sigmoid: (a) => `gw_sigmoid(${a})`,
  erf: (a) => `gw_erf(${a})`,
  fround: (a) => a,
};
const WGSL2: Record<Prim2, (a: string, b: string) => string> = {
  add: (a, b) => `${a} + ${b}`,
  sub: (a, b) => `${a} - ${b}`,
  mul: (a, b) => `${a} * ${b}`,
  div: (a, b) => `${a} / ${b}`,
  min: (a, b) => `min(${a}, ${b})`,
  max: (a, b) => `max(${a}, ${b})`,
  pow: (a, b) => `gw_pow(${a}, ${b})`,
};
const WGSLCMP: Record<CmpOp, string> = { lt: "<", le: "<=", gt: ">", ge: ">=", eq: "==", ne: "!=" };

/** The value of a formula without variables (attribute arithmetic), in float64; null where it reads one. */
function constantOf(n: F, attrs: Attrs): number | null {
  switch (n.k) {
    case "num":
      return n.v;
    case "attr":
      return attrValue(n, attrs);
    case "p2": {
      const a = constantOf(n.a, attrs);
      const b = constantOf(n.b, attrs);
      if (a === null || b === null) return null;
      if (n.op === "add") return a + b;
      if (n.op === "sub") return a - b;
      if (n.op === "mul") return a * b;
      if (n.op === "div") return a / b;
      return null;
    }
    case "p1": {
      const a = constantOf(n.a, attrs);
      if (a === null) return null;
      if (n.op === "neg") return -a;
      if (n.op === "fround") return Math.fround(a);
      return null;
    }
    default:
      return null;
  }
}

/**
 * The formula as one WGSL expression reading x, y and g (or the value names in `names`); attributes become
 * f32 literals. Every operation is parenthesised, so the text splices anywhere. With `bind`, an operation the
 * formula uses more than once (the same node object) is computed once: `bind` gives its text a name (a WGSL
 * `let` before the expression), since SwiftShader's JIT does not eliminate common subexpressions.
 */
export function wgslOf(
  f: F,
  attrs: Attrs,
  names: Readonly<Record<string, string>> = {},
  bind?: (expr: string, k: number) => string,
): string {
  const uses = new Map<Node, number>();
  if (bind)
    walkShared(f, (n) => {
      uses.set(n, (uses.get(n) ?? 0) + 1);
      return (uses.get(n) ?? 0) === 1;
    });
  const bound = new Map<Node, string>();
  const go = (n: Node, env: Map<string, string>): string => {
    const known = bound.get(n);
    if (known !== undefined) return known;
    const text = render(n, env);
    const shared = bind && (uses.get(n) ?? 0) > 1 && (n.k === "p1" || n.k === "p2" || n.k === "sel");
    // Inside a `let` the same node may stand for different values: only the top level shares.
    if (!shared || env.size > 0 || constantOf(n as F, attrs) !== null) return text;
    const name = bind(text, bound.size);
    bound.set(n, name);
    return name;
  };
  const render = (n: Node, env: Map<string, string>): string => {
    const r = (c: Node) => go(c, env);
    switch (n.k) {
      case "var":
        return env.get(n.name) ?? names[n.name] ?? n.name;
      case "num":
      case "attr":
        return wgslLiteral(constantOf(n, attrs) as number);
      case "p1": {
        const c = constantOf(n, attrs);
        if (c !== null) return wgslLiteral(c);
        return `(${WGSL1[n.op](r(n.a))})`;
      }
      case "p2": {
        const c = constantOf(n, attrs);
        if (c !== null) return wgslLiteral(c);
        return `(${WGSL2[n.op](r(n.a), r(n.b))})`;
      }
      case "sel":
        return `select(${r(n.e)}, ${r(n.t)}, ${r(n.c)})`;
      case "let":
        return go(n.body, new Map(env).set(n.name, r(n.v)));
      case "cmp":
      case "and":
      case "or":
      case "not":
      case "isnan":
      case "isfinite":
        return condText(n, r, WGSLCMP, "gw_isnan", "gw_finite");
    }
  };
  return go(f, new Map());
}

// ---- SIMD ---------------------------------------------------------------------------------------------------
const SIMD1: Partial<Record<Prim1, E.UnaryOpName>> = {
  neg: "neg",
  abs: "abs",
  sqrt: "sqrt",
  tanh: "tanh",
  dtanh: "dtanh",
};
const SIMD2: Partial<Record<Prim2, E.BinaryOpName>> = { add: "add", sub: "sub", mul: "mul", div: "div" };

/**
 * The formula as a SIMD lazy expression over the given leaves, or null where it uses an operation the vector
 * machine lacks. Every vector operation rounds to float32; the caller opts in only where that equals the plain
 * loop's result (one correctly rounded operation, or the float32 breakdowns).
 */
export function simdOf(f: F, leaves: Record<string, SimdExpr>, attrs: Attrs): SimdExpr | null {
  // A node object used twice becomes one shared expression node, computed once.
  const memo = new Map<F, SimdExpr | null>();
  const go = (f: F): SimdExpr | null => {
    let r = memo.get(f);
    if (r !== undefined) return r;
    r = null;
    if (f.k === "var") r = leaves[f.name] ?? null;
    else if (f.k === "num" || f.k === "attr") r = E.constant(constantOf(f, attrs) as number);
    else if (f.k === "p1") {
      const op = SIMD1[f.op];
      const a = op && go(f.a);
      r = op && a ? E.unary(op, a) : null;
    } else if (f.k === "p2") {
      const op = SIMD2[f.op];
      const a = op && go(f.a);
      const b = op && go(f.b);
      r = op && a && b ? E.binary(op, a, b) : null;
    } else if (f.k === "sel" && f.c.k === "cmp") {
      // A comparison and a bitwise select: exact, whatever the operands' rounding.
      const [a, b, t, e] = [go(f.c.a), go(f.c.b), go(f.t), go(f.e)];
      r = a && b && t && e ? E.select(f.c.op, a, b, t, e) : null;
    }
    memo.set(f, r);
    return r;
  };
  return go(f);
}

/**
 * Whether the formula is one arithmetic operation on variables and float32-exact numbers: computed in float64
 * and rounded once to float32, that is the float32 operation's value, so the SIMD path (each operation
 * rounded to float32) gives the plain loop's value bit for bit.
 */
export function oneRounding(f: F): boolean {
  const leaf = (n: F) => n.k === "var" || (n.k === "num" && Math.fround(n.v) === n.v);
  if (f.k === "p2") return f.op in SIMD2 && leaf(f.a) && leaf(f.b);
  if (f.k === "p1") return f.op in SIMD1 && f.op !== "tanh" && f.op !== "dtanh" && leaf(f.a);
  return false;
}

/** The vector machine instruction a binary formula `a op b` is, or null. */
export function simdBinaryOp(f: F): E.BinaryOpName | null {
  const isVar = (v: F, name: string) => v.k === "var" && v.name === name;
  return f.k === "p2" && isVar(f.a, "a") && isVar(f.b, "b") ? (SIMD2[f.op] ?? null) : null;
}
