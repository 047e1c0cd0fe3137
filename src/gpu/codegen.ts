/**
 * WGSL generation for planned kernels. Every shape is static, so index arithmetic is specialised with
 * constants; every tensor lives in one f32 arena (binding 0) at an element offset, so a kernel binds one
 * buffer whatever it reads. Elementwise expressions come from the runtime's op declarations.
 */
import { type Attrs, BINARY, UNARY, unaryWgsl, wgslFloat } from "../runtime/ops/elementwise.ts";
import { type F, readsVar, wgslOf } from "../runtime/ops/formula.ts";
import { LANES } from "../runtime/ops/lanes.ts";
import { normSpec } from "../runtime/ops/reductions.ts";
import { GRAD_VARS, LOSS_VARS, POINTWISE_LOSSES } from "../runtime/pointwise-loss.ts";
import { numel, sameShape, stridesOf } from "../runtime/shape.ts";
import type { PoolWindow } from "../runtime/vjp.ts";
import { GpuError, nodeRef } from "./errors.ts";
import { type Access, accessOf, type Node } from "./ir.ts";
import { directInput, type Kernel, kernelReads, SELF_LOADING } from "./plan.ts";
import { exprWgsl, preludeFor, reads, withSafeBuiltins } from "./wgsl.ts";

export const WG = 256;
const MAX_GROUPS_X = 65535;

export interface Pass {
  wgsl: string;
  /** Workgroup counts. */
  groups: [number, number, number];
}

export interface KernelCode {
  passes: Pass[];
  /** Graph nodes the kernel computes, for messages. */
  scopes: string[];
}

/** Where materialized values live (element offsets into the arena). */
export interface Layout {
  offsetOf(n: Node): number;
}

function u(n: number): string {
  return `${n >>> 0}u`;
}

/** Workgroup grid for `count` groups (2-D when it exceeds one dimension's limit). */
export function gridFor(count: number): [number, number, number] {
  const c = Math.max(1, count);
  if (c <= MAX_GROUPS_X) return [c, 1, 1];
  return [MAX_GROUPS_X, Math.ceil(c / MAX_GROUPS_X), 1];
}

const HEADER = "@group(0) @binding(0) var<storage, read_write> A: array<f32>;\n";
const ENTRY_ARGS =
  "@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(num_workgroups) nw: vec3u";

/** A value as an operand: a negative literal in parentheses, so `-a` never becomes WGSL's `--` token. */
function operand(v: string): string {
  return v.startsWith("-") ? `(${v})` : v;
}

/**
 * Substitute WGSL identifiers (x, y, a, b) in a declaration's expression by value names. Op declarations'
 * WGSL is inlined as expressions (software rasterisers like SwiftShader's Subzero JIT neither inline calls
 * nor fold constants, so a call per element costs more than the arithmetic).
 */
function bind(expr: string, names: Record<string, string>): string {
  return `(${expr.replace(/\b([xyabg])\b/g, (m) => (names[m] === undefined ? m : operand(names[m])))})`;
}

/**
 * gw_pow with a literal small integer exponent as plain products (what gw_pow computes for them anyway), so
 * x ** 2's gradient 2 * x ** 1 costs one multiply rather than a loop.
 */
export function specializePow(expr: string): string {
  return expr.replace(
    /gw_pow\(([A-Za-z_][A-Za-z0-9_]*|\([^()]*\)), (-?\d+)\.0\)/g,
    (whole, base: string, e: string) => {
      const n = Number(e);
      if (n === 0) return "1.0";
      if (Math.abs(n) > 4) return whole;
      const prod = Array.from({ length: Math.abs(n) }, () => base).join(" * ");
      return n > 0 ? `(${prod})` : `(1.0 / (${prod}))`;
    },
  );
}

/** g times a derivative, without multiplying by a literal 1 or -1 (add's and sub's derivatives). */
function scaled(g: string, d: string): string {
  if (d === "(1.0)") return g;
  if (d === "(-1.0)") return `-${operand(g)}`;
  if (d === "(0.0)") return "0.0";
  return `${g} * ${d}`;
}

function declExpr(expr: string, names: Record<string, string>): string {
  return specializePow(withSafeBuiltins(bind(expr, names)));
}

/** A declared unary op's WGSL, generated from its formulas (forward reads x; gradient reads g, x and y). */
function unaryCode(n: Node, name: string, attrs: Attrs) {
  if (!UNARY[name])
    throw new GpuError("unsupported", `${nodeRef(n.scope)}: unknown unary op '${name}'`, n.scope);
  return unaryWgsl(name, attrs);
}

function binaryDecl(n: Node, name: string) {
  const d = BINARY[name];
  if (!d) throw new GpuError("unsupported", `${nodeRef(n.scope)}: unknown binary op '${name}'`, n.scope);
  return d;
}

/** Where the current thread's element sits in an iteration space: its coordinates and row-major index. */
interface IndexSpace {
  readonly shape: readonly number[];
  coord(d: number): string;
  flat(): string;
}

/** An iteration space whose coordinates and index are emitted lazily as `let`s into `out`. */
class Space implements IndexSpace {
  private coords = new Map<number, string>();
  private flatVar: string | null = null;
  constructor(
    readonly shape: readonly number[],
    private out: string[],
    private prefix: string,
    private flatExpr: (() => string) | null,
    private coordExpr: (d: number) => string,
  ) {}

  coord(d: number): string {
    const hit = this.coords.get(d);
    if (hit) return hit;
    const name = `${this.prefix}c${d}`;
    this.out.push(`let ${name} = ${this.coordExpr(d)};`);
    this.coords.set(d, name);
    return name;
  }

  flat(): string {
    if (this.flatVar) return this.flatVar;
    const expr = this.flatExpr ? this.flatExpr() : rowMajor(this);
    const name = `${this.prefix}fl`;
    this.out.push(`let ${name} = ${expr};`);
    this.flatVar = name;
    return name;
  }
}

/** A space with one coordinate replaced by an expression (pad and cat read their input there). */
class Shifted implements IndexSpace {
  constructor(
    private base: IndexSpace,
    private dim: number,
    private expr: string,
  ) {}
  get shape(): readonly number[] {
    return this.base.shape;
  }
  coord(d: number): string {
    return d === this.dim ? `u32(${this.expr})` : this.base.coord(d);
  }
  flat(): string {
    return `(${rowMajor(this)})`;
  }
}

function rowMajor(sp: IndexSpace): string {
  const st = stridesOf(sp.shape);
  const terms = sp.shape.map((s, d) => (s === 1 ? "" : `${sp.coord(d)} * ${u(st[d])}`)).filter(Boolean);
  return terms.length ? terms.join(" + ") : "0u";
}

/** Coordinates of a row-major index `flat` over `shape`. */
function coordOf(flat: string, shape: readonly number[], d: number): string {
  const st = stridesOf(shape);
  if (shape[d] === 1) return "0u";
  if (d === 0) return `(${flat} / ${u(st[0])})`;
  if (st[d] === 1) return `(${flat} % ${u(shape[d])})`;
  return `((${flat} / ${u(st[d])}) % ${u(shape[d])})`;
}

function flatSpace(shape: readonly number[], out: string[], prefix: string, flat: string): Space {
  return new Space(
    shape,
    out,
    prefix,
    () => flat,
    (d) => coordOf(flat, shape, d),
  );
}

/** Emits the inline values of one kernel. */
class Emitter {
  vars = new Map<Node, string>();
  constructor(
    readonly layout: Layout,
    readonly inline: ReadonlySet<Node>,
  ) {}

  literalOf(n: Node): string | null {
    const a = accessOf(n);
    if (!a) return null;
    const base = a.base;
    if (base.op.k === "fill") return wgslFloat(base.op.value);
    if (base.op.k === "const" && base.op.data.length === 1) return wgslFloat(base.op.data[0]);
    return null;
  }

  /** Arena index of the element of `n` (shape broadcast to the space) at the space's current element. */
  private indexIn(a: Access, shape: readonly number[], sp: IndexSpace): string {
    const lead = sp.shape.length - shape.length;
    const strides = sp.shape.map((_, d) => {
      const i = d - lead;
      return i < 0 || shape[i] === 1 ? 0 : a.strides[i];
    });
    const base = this.layout.offsetOf(a.base) + a.offset;
    const contiguous = stridesOf(sp.shape);
    if (numel(shape) === numel(sp.shape) && sp.shape.every((s, d) => s === 1 || strides[d] === contiguous[d]))
      return base === 0 ? sp.flat() : `${u(base)} + ${sp.flat()}`;
    const terms = strides
      .map((s, d) => (s === 0 || sp.shape[d] === 1 ? "" : `${sp.coord(d)} * ${u(s)}`))
      .filter(Boolean);
    return [u(base), ...terms].join(" + ");
  }

  /** Arena index of element number `flat` (row-major over n.shape) of `n`. */
  indexByFlat(n: Node, flat: string): string {
    const a = accessOf(n) as Access;
    const base = this.layout.offsetOf(a.base) + a.offset;
    const c = stridesOf(n.shape);
    if (n.shape.every((s, d) => s === 1 || a.strides[d] === c[d])) return `${u(base)} + ${flat}`;
    const terms = n.shape
      .map((s, d) =>
        s === 1 || a.strides[d] === 0 ? "" : `${coordOf(flat, n.shape, d)} * ${u(a.strides[d])}`,
      )
      .filter(Boolean);
    return [u(base), ...terms].join(" + ");
  }

  load(n: Node, sp: IndexSpace): string {
    const lit = this.literalOf(n);
    if (lit) return lit;
    const a = accessOf(n);
    if (!a) throw new Error(`internal: no strided access for ${n.what}`);
    const read = `A[${this.indexIn(a, n.shape, sp)}]`;
    return n.op.k === "iconst" ? `f32(bitcast<i32>(${read}))` : read;
  }

  /** Loads already bound to a name, per block of lines, so an element read twice is loaded once. */
  private loaded = new Map<string[], Map<string, string>>();

  private spaces = 0;

  /** The value of `n` at the element with the space's row-major index (n may have another shape). */
  valueAt(n: Node, sp: IndexSpace, out: string[]): string {
    const known = this.vars.get(n);
    if (known) return known;
    if (sameShape(n.shape, sp.shape)) return this.value(n, sp, out);
    return this.value(n, flatSpace(n.shape, out, `q${this.spaces++}_`, sp.flat()), out);
  }

  /** The value of `n` at the space's current element, emitting what it needs into `out`. */
  value(n: Node, sp: IndexSpace, out: string[]): string {
    const known = this.vars.get(n);
    if (known) return known;
    if (!this.inline.has(n)) return this.load(n, sp);
    const op = n.op.k;
    const selfLoading = SELF_LOADING.has(op);
    const read = op === "custom" ? n.inputs.slice(0, 1) : n.inputs;
    const args = selfLoading
      ? []
      : read.map((input, k) => {
          const d = directInput(n, k);
          if (d && (this.vars.has(d) || this.inline.has(d))) return this.valueAt(d, sp, out);
          return this.load(input, sp);
        });
    const expr = this.mapExpr(n, args, sp, out);
    const name = `v${n.id}`;
    out.push(`let ${name}: f32 = ${expr};`);
    this.vars.set(n, name);
    return name;
  }

  /** A value as a name: variables and literals as they are, anything else bound to a `let` first. */
  private named(v: string, out: string[], n: Node, role: string): string {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(v) || /^-?[\d.]+(e-?\d+)?$/.test(v)) return v;
    let block = this.loaded.get(out);
    if (!block) {
      block = new Map();
      this.loaded.set(out, block);
    }
    const known = block.get(v);
    if (known) return known;
    const name = `${role}${n.id}`;
    out.push(`let ${name}: f32 = ${v};`);
    if (v.startsWith("A[")) block.set(v, name);
    return name;
  }

  /** A formula reading input k as variable vars[k]; an operation it uses twice bound to a `let` first. */
  private formula(f: F, vars: readonly string[], attrs: Attrs, n: Node, a: string[], out: string[]): string {
    const names: Record<string, string> = {};
    vars.forEach((r, k) => {
      if (readsVar(f, r)) names[r] = this.named(a[k], out, n, r);
    });
    return wgslOf(f, attrs, names, (expr, k) => {
      out.push(`let f${k}_${n.id}: f32 = ${expr};`);
      return `f${k}_${n.id}`;
    });
  }

  /** Element `at` (an i32 expression) of plane `pl` of x (N, C, H, W): a read of x's arena. */
  private planeRead(x: Node, pl: string, at: string): string {
    const plane = numel(x.shape.slice(-2));
    return this.literalOf(x) ?? `A[${this.indexByFlat(x, `(${pl} * ${u(plane)} + u32(${at}))`)}]`;
  }

  /**
   * The window max (or the index it picked) of the output element at sp, as torch's cpu_max_pool takes it: taps
   * in row-major order from -inf, `v > max || isnan(v)`, the index starting at the first tap inside the input.
   * The taps are unrolled (kernels are small): straight-line selects, no data-dependent loop, which software
   * rasterisers run far faster.
   */
  private maxPool(n: Node, win: PoolWindow, part: "value" | "index", sp: IndexSpace, out: string[]): string {
    const x = n.inputs[0];
    const [H, W] = x.shape.slice(2);
    const [Ho, Wo] = n.shape.slice(2);
    const id = n.id;
    const pl = `pl${id}`;
    out.push(`let ${pl} = ${sp.flat()} / ${u(Ho * Wo)};`);
    // Per axis: each tap's input coordinate and whether it is inside; the first inside tap (for the index).
    const axis = (c: string, d: number, size: number, name: string) => {
      out.push(`let ${name}0 = i32(${c}) * ${win.s[d]} - ${win.p[d]};`);
      for (let k = 0; k < win.k[d]; k++)
        out.push(
          `let ${name}${k}i = ${name}0 + ${k * win.d[d]};`,
          `let ${name}${k}ok = ${name}${k}i >= 0 && ${name}${k}i < ${size};`,
        );
      out.push(`var ${name}f = ${name}0;`);
      for (let k = win.k[d] - 1; k >= 0; k--) out.push(`if (${name}${k}ok) { ${name}f = ${name}${k}i; }`);
    };
    const h = `h${id}_`;
    const w = `w${id}_`;
    axis(sp.coord(2), 0, H, h);
    axis(sp.coord(3), 1, W, w);
    const [bv, bi] = [`bv${id}`, `bi${id}`];
    out.push(`var ${bv}: f32 = -gw_bits_inf();`, `var ${bi}: i32 = ${h}f * ${W} + ${w}f;`);
    for (let kh = 0; kh < win.k[0]; kh++)
      for (let kw = 0; kw < win.k[1]; kw++) {
        const t = `t${id}_${kh}_${kw}`;
        out.push(
          `let ${t}ok = ${h}${kh}ok && ${w}${kw}ok;`,
          `let ${t}at = select(0, ${h}${kh}i * ${W} + ${w}${kw}i, ${t}ok);`,
          `let ${t}v = ${this.planeRead(x, pl, `${t}at`)};`,
          `if (${t}ok && (${t}v > ${bv} || gw_isnan(${t}v))) { ${bv} = ${t}v; ${bi} = ${t}at; }`,
        );
      }
    return part === "value" ? bv : `f32(${bi})`;
  }

  /**
   * The outputs whose window covers the input element at sp, in output order (kernel taps from the last, so oh
   * and ow rise): per candidate, whether it exists and its index in the output plane. Unrolled like maxPool.
   * Windows that never overlap along an axis (kernel <= stride, no dilation) have one candidate there.
   */
  private covering(n: Node, win: PoolWindow, outShape: readonly number[], sp: IndexSpace, out: string[]) {
    const [H, W] = n.shape.slice(2);
    const [Ho, Wo] = outShape.slice(2);
    const id = n.id;
    const pl = `pl${id}`;
    out.push(`let ${pl} = ${sp.flat()} / ${u(H * W)};`);
    const taps: number[][] = [];
    /** Per axis: the kernel tap (an i32 expression) of candidate k. */
    const tapOf: ((k: number) => string)[] = [];
    const axis = (c: string, d: number, size: number, name: string) => {
      out.push(`let ${name} = i32(${c});`);
      if (win.k[d] <= win.s[d] && win.d[d] === 1) {
        taps.push([0]);
        tapOf.push(() => `${name}0k`);
        const t = `${name}0t`;
        out.push(
          `let ${t} = ${name} + ${win.p[d]};`,
          `let ${name}0o = ${t} / ${win.s[d]};`,
          `let ${name}0k = ${t} % ${win.s[d]};`,
          `let ${name}0ok = ${name}0k < ${win.k[d]} && ${name}0o < ${size};`,
        );
        return;
      }
      taps.push(Array.from({ length: win.k[d] }, (_, k) => win.k[d] - 1 - k));
      tapOf.push((k) => `${k}`);
      for (let k = 0; k < win.k[d]; k++) {
        const t = `${name}${k}t`;
        const whole = win.s[d] === 1 ? "" : ` && ${t} % ${win.s[d]} == 0`;
        out.push(
          `let ${t} = ${name} + ${win.p[d] - k * win.d[d]};`,
          `let ${name}${k}ok = ${t} >= 0${whole} && ${t} < ${size * win.s[d]};`,
          `let ${name}${k}o = ${win.s[d] === 1 ? t : `${t} / ${win.s[d]}`};`,
        );
      }
    };
    const h = `h${id}_`;
    const w = `w${id}_`;
    axis(sp.coord(2), 0, Ho, h);
    axis(sp.coord(3), 1, Wo, w);
    out.push(`let e${id} = ${h} * ${W} + ${w};`);
    const list: { ok: string; at: string; tap: string }[] = [];
    for (const kh of taps[0])
      for (const kw of taps[1]) {
        const t = `u${id}_${kh}_${kw}`;
        out.push(
          `let ${t}ok = ${h}${kh}ok && ${w}${kw}ok;`,
          `let ${t}at = select(0, ${h}${kh}o * ${Wo} + ${w}${kw}o, ${t}ok);`,
        );
        list.push({ ok: `${t}ok`, at: `${t}at`, tap: `${tapOf[0](kh)} * ${win.k[1]} + ${tapOf[1](kw)}` });
      }
    return { pl, e: `e${id}`, list };
  }

  /** unpool at the input element at sp: the g of each covering output whose idx is this element, in order. */
  private unpool(n: Node, win: PoolWindow, sp: IndexSpace, out: string[]): string {
    const [g, idx] = n.inputs;
    const { pl, e, list } = this.covering(n, win, g.shape, sp, out);
    const acc = `acc${n.id}`;
    out.push(`var ${acc}: f32 = 0.0;`);
    for (const { ok, at } of list)
      out.push(
        `if (${ok} && i32(${this.planeRead(idx, pl, at)}) == ${e}) { ${acc} = ${acc} + ${this.planeRead(g, pl, at)}; }`,
      );
    return acc;
  }

  /**
   * im2col at the output element at sp of (N, C * kH * kW, Ho * Wo): the input element its tap reads, 0 where
   * the tap falls in padding.
   */
  private unfold(n: Node, win: PoolWindow, grid: readonly number[], sp: IndexSpace, out: string[]): string {
    const x = n.inputs[0];
    const [H, W] = x.shape.slice(2);
    const [Ho, Wo] = grid;
    const K = win.k[0] * win.k[1];
    const id = n.id;
    const [f, k, l, ih, iw, ok] = ["f", "k", "l", "ih", "iw", "ok"].map((v) => `${v}${id}`);
    out.push(
      `let ${f} = ${sp.flat()};`,
      `let ${k} = i32((${f} / ${u(Ho * Wo)}) % ${u(K)});`,
      `let ${l} = i32(${f} % ${u(Ho * Wo)});`,
      `let ${ih} = (${l} / ${Wo}) * ${win.s[0]} - ${win.p[0]} + (${k} / ${win.k[1]}) * ${win.d[0]};`,
      `let ${iw} = (${l} % ${Wo}) * ${win.s[1]} - ${win.p[1]} + (${k} % ${win.k[1]}) * ${win.d[1]};`,
      `let ${ok} = ${ih} >= 0 && ${ih} < ${H} && ${iw} >= 0 && ${iw} < ${W};`,
    );
    const v = this.planeRead(x, `(${f} / ${u(K * Ho * Wo)})`, `select(0, ${ih} * ${W} + ${iw}, ${ok})`);
    return `select(0.0, ${v}, ${ok})`;
  }

  /**
   * col2im at the input element at sp of (N, C, H, W): the column entries of g (N, C * kH * kW, Ho * Wo) whose
   * tap reads it, in g's order (kernel taps rising), as the CPU adds them.
   */
  private fold(n: Node, win: PoolWindow, grid: readonly number[], sp: IndexSpace, out: string[]): string {
    const g = n.inputs[0];
    const L = grid[0] * grid[1];
    const { pl, list } = this.covering(n, win, [1, 1, ...grid], sp, out);
    const acc = `acc${n.id}`;
    out.push(`var ${acc}: f32 = 0.0;`);
    for (const { ok, at, tap } of list.reverse()) {
      const flat = `${pl} * ${u(win.k[0] * win.k[1] * L)} + u32((${tap}) * ${L} + ${at})`;
      const v = this.literalOf(g) ?? `A[${this.indexByFlat(g, flat)}]`;
      out.push(`if (${ok}) { ${acc} = ${acc} + ${v}; }`);
    }
    return acc;
  }

  /** avg_pool2d's gradient at the input element at sp: g / divisor of each covering output, in order. */
  private unavg(n: Node, win: PoolWindow, sp: IndexSpace, out: string[]): string {
    const [g, divs] = n.inputs;
    const { pl, list } = this.covering(n, win, g.shape, sp, out);
    const acc = `acc${n.id}`;
    out.push(`var ${acc}: f32 = 0.0;`);
    for (const { ok, at } of list)
      out.push(
        `if (${ok}) { ${acc} = ${acc} + ${this.planeRead(g, pl, at)} / ${this.planeRead(divs, "0u", at)}; }`,
      );
    return acc;
  }

  /** avg_pool2d at the output element at sp: the taps inside the input summed in order, over the divisor. */
  private avgPool(n: Node, win: PoolWindow, sp: IndexSpace, out: string[]): string {
    const [x, divs] = n.inputs;
    const [H, W] = x.shape.slice(2);
    const [Ho, Wo] = n.shape.slice(2);
    const id = n.id;
    const pl = `pl${id}`;
    const l = `l${id}`;
    out.push(`let ${l} = ${sp.flat()} % ${u(Ho * Wo)};`, `let ${pl} = ${sp.flat()} / ${u(Ho * Wo)};`);
    const h = `h${id}_`;
    const w = `w${id}_`;
    const axis = (c: string, d: number, size: number, name: string) => {
      for (let k = 0; k < win.k[d]; k++)
        out.push(
          `let ${name}${k}i = i32(${c}) * ${win.s[d]} + ${k - win.p[d]};`,
          `let ${name}${k}ok = ${name}${k}i >= 0 && ${name}${k}i < ${size};`,
        );
    };
    axis(sp.coord(2), 0, H, h);
    axis(sp.coord(3), 1, W, w);
    const acc = `sum${id}`;
    out.push(`var ${acc}: f32 = 0.0;`);
    for (let kh = 0; kh < win.k[0]; kh++)
      for (let kw = 0; kw < win.k[1]; kw++) {
        const at = `${h}${kh}i * ${W} + ${w}${kw}i`;
        out.push(`if (${h}${kh}ok && ${w}${kw}ok) { ${acc} = ${acc} + ${this.planeRead(x, pl, at)}; }`);
      }
    return `${acc} / ${this.planeRead(divs, "0u", `i32(${l})`)}`;
  }

  private mapExpr(n: Node, a: string[], sp: IndexSpace, out: string[]): string {
    const op = n.op;
    switch (op.k) {
      case "unary":
        return declExpr(unaryCode(n, op.name, op.attrs).forward, { x: this.named(a[0], out, n, "x") });
      case "unary_grad": {
        const code = unaryCode(n, op.name, op.attrs);
        const dx = code.backward ?? "0.0";
        const x = this.named(a[1], out, n, "x");
        const y = reads(dx, "y") ? this.named(declExpr(code.forward, { x }), out, n, "y") : "";
        const g = reads(dx, "g") ? this.named(a[0], out, n, "g") : "";
        return declExpr(dx, { g, x, y });
      }
      case "binary":
        return declExpr(binaryDecl(n, op.name).wgsl, {
          a: this.named(a[0], out, n, "a"),
          b: this.named(a[1], out, n, "b"),
        });
      case "binary_grad": {
        const d = binaryDecl(n, op.name);
        const da = (op.side === 0 ? d.dawgsl : d.dbwgsl) ?? "0.0";
        const names = { a: this.named(a[1], out, n, "a"), b: this.named(a[2], out, n, "b"), y: "" };
        if (reads(da, "y")) names.y = this.named(declExpr(d.wgsl, names), out, n, "y");
        return scaled(a[0], declExpr(da, names));
      }
      case "where":
        return `select(${a[2]}, ${a[1]}, ${a[0]} != 0.0)`;
      case "cast":
        if (op.to === "bool") return `select(0.0, 1.0, ${a[0]} != 0.0)`;
        if (op.to === "int32" || op.to === "int64") return `trunc(${a[0]})`;
        return a[0];
      case "fill":
        return wgslFloat(op.value);
      case "copy":
      case "detach":
      case "custom":
        return a[0];
      case "expr":
        return exprWgsl(op.name, a);
      case "pointwise_loss": {
        const f = POINTWISE_LOSSES[op.loss][op.part];
        return this.formula(f, op.part === "loss" ? LOSS_VARS : GRAD_VARS, { p: op.p }, n, a, out);
      }
      case "pointwise":
        return this.formula(op.fn.f, op.fn.vars, op.attrs, n, a, out);
      case "onehot":
        return `select(0.0, ${a[1]}, f32(${sp.coord(op.dim)}) == ${a[0]})`;
      case "take": {
        const [x, idx] = n.inputs;
        const t = `t${n.id}`;
        out.push(`let ${t} = i32(${this.load(idx, sp)});`);
        const v = this.literalOf(x) ?? `A[${this.indexByFlat(x, `u32(max(${t}, 0))`)}]`;
        return `select(0.0, ${v}, ${t} >= 0)`;
      }
      case "maxpool":
        return this.maxPool(n, op.win, op.part, sp, out);
      case "unpool":
        return this.unpool(n, op.win, sp, out);
      case "avgpool":
        return this.avgPool(n, op.win, sp, out);
      case "unavg":
        return this.unavg(n, op.win, sp, out);
      case "unfold":
        return this.unfold(n, op.win, op.out, sp, out);
      case "fold":
        return this.fold(n, op.win, op.out, sp, out);
      case "pad": {
        const x = n.inputs[0];
        const c = sp.coord(op.dim);
        const len = x.shape[op.dim];
        const inside = `(${c} >= ${u(op.start)} && ${c} < ${u(op.start + len)})`;
        const at = new Shifted(sp, op.dim, `min(max(i32(${c}) - ${op.start}, 0), ${len - 1})`);
        return `select(0.0, ${this.load(x, at)}, ${inside})`;
      }
      case "cat": {
        const c = sp.coord(op.dim);
        const name = `k${n.id}`;
        out.push(`var ${name}: f32;`);
        let start = 0;
        n.inputs.forEach((x, j) => {
          const len = x.shape[op.dim];
          const v = this.load(x, new Shifted(sp, op.dim, `${c} - ${u(start)}`));
          const cond = j === n.inputs.length - 1 ? "" : `if (${c} < ${u(start + len)}) `;
          out.push(`${j === 0 ? "" : "else "}${cond}{ ${name} = ${v}; }`);
          start += len;
        });
        return name;
      }
      default:
        throw new Error(`internal: ${op.k} is not elementwise`);
    }
  }
}

function storeLines(stores: Node[], em: Emitter, sp: IndexSpace, out: string[]): void {
  for (const s of stores) {
    const v = em.valueAt(s, sp, out);
    out.push(`A[${u(em.layout.offsetOf(s))} + ${sp.flat()}] = ${v};`);
  }
}

function shader(decls: string, body: string[], wgX: number, wgY = 1): string {
  const rest = `${decls}\n@compute @workgroup_size(${wgX}, ${wgY})\nfn main(${ENTRY_ARGS}) {\n  ${body.join("\n  ")}\n}\n`;
  return `${HEADER}${preludeFor(rest)}\n${rest}`;
}

/** The inline nodes reached from `from` through inline inputs read at the same element. */
function closureOf(from: Node[], inline: ReadonlySet<Node>): Set<Node> {
  const out = new Set<Node>();
  const stack = from.filter((n) => inline.has(n));
  for (const n of stack) out.add(n);
  while (stack.length) {
    const n = stack.pop() as Node;
    n.inputs.forEach((_, k) => {
      const d = directInput(n, k);
      if (d && inline.has(d) && !out.has(d)) {
        out.add(d);
        stack.push(d);
      }
    });
  }
  return out;
}

/** Compile one planned kernel to WGSL passes. `scratch` is the arena offset of its private scratch space. */
export function generateKernel(
  K: Kernel,
  materialized: ReadonlySet<Node>,
  layout: Layout,
  scratch: number,
): KernelCode {
  const { inline } = kernelReads(K, materialized);
  const scopes = [...new Set([...K.stores, ...K.cores].map((n) => n.scope ?? n.what))];
  switch (K.kind) {
    case "map":
      return { passes: [mapPass(K, inline, layout)], scopes };
    case "reduce":
      return { passes: reducePasses(K, inline, layout, scratch), scopes };
    case "matmul":
      return { passes: [matmulPass(K, inline, layout)], scopes };
    case "lane":
      return { passes: [lanePass(K, inline, layout)], scopes };
    case "argreduce":
      return { passes: [argreducePass(K, inline, layout)], scopes };
    case "segsum":
      return { passes: [segsumPass(K, inline, layout)], scopes };
  }
}

/**
 * `n` arena elements copied from one offset to another: a state's new value into its leaf's region, run after
 * every kernel that reads the old value.
 */
export function copyPass(from: number, to: number, n: number): Pass {
  const body = [
    `let o = (wid.x + wid.y * nw.x) * ${u(WG)} + lid.x;`,
    `if (o >= ${u(n)}) { return; }`,
    `A[${u(to)} + o] = A[${u(from)} + o];`,
  ];
  return { wgsl: shader("", body, WG), groups: gridFor(Math.ceil(n / WG)) };
}

function mapPass(K: Kernel, inline: ReadonlySet<Node>, layout: Layout): Pass {
  const em = new Emitter(layout, inline);
  const n = numel(K.space);
  const body: string[] = [
    `let o = (wid.x + wid.y * nw.x) * ${u(WG)} + lid.x;`,
    `if (o >= ${u(n)}) { return; }`,
  ];
  const sp = flatSpace(K.space, body, "", "o");
  storeLines(K.stores, em, sp, body);
  return { wgsl: shader("", body, WG), groups: gridFor(Math.ceil(n / WG)) };
}

// ---- reductions --------------------------------------------------------------------------------------------

interface ReduceInfo {
  inputShape: readonly number[];
  dims: number[];
  /** Output elements and elements reduced into each. */
  M: number;
  N: number;
}

function reduceInfo(K: Kernel): ReduceInfo {
  const r = K.cores[0];
  if (r.op.k !== "reduce") throw new Error("internal");
  const inputShape = r.inputs[0].shape;
  const dims = r.op.dims;
  const N = dims.reduce((p, d) => p * inputShape[d], 1);
  return { inputShape, dims, M: numel(K.space), N };
}

/**
 * How a reduction runs: one thread per output looping over its elements, or (long reductions with few
 * outputs) split: T threads per output each summing a strided share, then a second pass over the partials.
 * Neither loops over elements between barriers, which software rasterisers (SwiftShader) make costly.
 */
export type ReduceStrategy = { kind: "serial" } | { kind: "split"; threads: number };

export function reduceStrategy(M: number, N: number): ReduceStrategy {
  if (N <= 2048 || M >= 1024) return { kind: "serial" };
  return { kind: "split", threads: Math.min(4096, Math.ceil(N / 256)) };
}

/** Scratch elements a kernel needs (partial results of split reductions). */
export function scratchSize(K: Kernel): number {
  if (K.kind !== "reduce") return 0;
  const { M, N } = reduceInfo(K);
  const s = reduceStrategy(M, N);
  return s.kind === "split" ? M * s.threads * K.cores.length : 0;
}

interface ReduceOps {
  init: string;
  combine: (a: string, b: string) => string;
  pre: (x: string) => string;
  finish: (acc: string, n: number) => string;
  /** Sums accumulate with Kahan's compensation, so long sums keep float32's precision. */
  sum: boolean;
}

function reduceOps(r: Node): ReduceOps {
  if (r.op.k !== "reduce") throw new Error("internal");
  const { fn } = r.op;
  const p = r.op.p ?? 2;
  const sum = (a: string, b: string) => `${a} + ${b}`;
  const id = (x: string) => x;
  switch (fn) {
    case "sum":
      return { init: "0.0", combine: sum, pre: id, finish: id, sum: true };
    case "mean":
      return { init: "0.0", combine: sum, pre: id, finish: (a, n) => `${a} / ${wgslFloat(n)}`, sum: true };
    case "max":
      return {
        init: "-gw_bits_inf()",
        combine: (a, b) => `gw_max(${a}, ${b})`,
        pre: id,
        finish: id,
        sum: false,
      };
    case "min":
      return {
        init: "gw_bits_inf()",
        combine: (a, b) => `gw_min(${a}, ${b})`,
        pre: id,
        finish: id,
        sum: false,
      };
    case "norm": {
      // The declaration (runtime/ops/reductions.ts); |x| >= 0, so the max starts from 0.
      const spec = normSpec(p);
      return {
        init: "0.0",
        combine: spec.combine === "max" ? (a, b) => `gw_max(${a}, ${b})` : sum,
        pre: (x) => wgslOf(spec.pre, { p }, { x }),
        finish: (a) => wgslOf(spec.finish, { p }, { s: a }),
        sum: spec.combine === "sum",
      };
    }
  }
}

/** Accumulator declarations and the statement folding `v` into accumulator i. */
function accumulators(ops: ReduceOps[]): { decl: string[]; add: (i: number, v: string) => string[] } {
  return {
    decl: ops.flatMap((o, i) => [
      `var acc${i}: f32 = ${o.init};`,
      ...(o.sum ? [`var cmp${i}: f32 = 0.0;`] : []),
    ]),
    add: (i, v) =>
      ops[i].sum
        ? [
            `let y${i} = (${v}) - cmp${i};`,
            `let t${i} = acc${i} + y${i};`,
            // Compensation only while the sum is finite: (inf - acc) - y is NaN and would make inf + 1 NaN.
            `cmp${i} = select(0.0, (t${i} - acc${i}) - y${i}, gw_finite(t${i}));`,
            `acc${i} = t${i};`,
          ]
        : [`acc${i} = ${ops[i].combine(`acc${i}`, v)};`],
  };
}

/** Coordinates of the reduction's input element from output index m and reduced index r. */
function inputSpace(info: ReduceInfo, out: string[], m: string, r: string): Space {
  const { inputShape, dims, M, N } = info;
  const kept = inputShape.map((s, d) => (dims.includes(d) ? 1 : s));
  const red = dims.map((d) => inputShape[d]);
  const keptOf = (d: number) => coordOf(m, kept, d);
  const redOf = (d: number) => coordOf(r, red, dims.indexOf(d));
  const rank = inputShape.length;
  const trailing = dims.every((d, i) => d === rank - dims.length + i);
  const leading = dims.every((d, i) => d === i);
  let flat: (() => string) | null = null;
  if (dims.length === rank) flat = () => r;
  else if (trailing) flat = () => `${m} * ${u(N)} + ${r}`;
  else if (leading) flat = () => `${r} * ${u(M)} + ${m}`;
  return new Space(inputShape, out, "i", flat, (d) => (dims.includes(d) ? redOf(d) : keptOf(d)));
}

function reducePasses(K: Kernel, inline: ReadonlySet<Node>, layout: Layout, scratch: number): Pass[] {
  const info = reduceInfo(K);
  const { M, N } = info;
  const strategy = reduceStrategy(M, N);
  // Every store is an output element's (the planner adds only same-size readers to a reduction's kernel);
  // the prologue is what the cores read, evaluated at each input element.
  const proInline = closureOf(
    K.cores.flatMap((c) => directInput(c, 0) ?? []),
    inline,
  );
  const epiInline = closureOf(K.stores, inline);
  const cores = K.cores;
  const ops = cores.map(reduceOps);
  const acc = accumulators(ops);

  /** Loop body lines: prologue at element (m, r), folded into the accumulators. */
  const loopBody = (m: string, r: string): string[] => {
    const lines: string[] = [];
    const em = new Emitter(layout, proInline);
    const sp = inputSpace(info, lines, m, r);
    cores.forEach((c, i) => {
      const x = directInput(c, 0);
      const v = x && proInline.has(x) ? em.valueAt(x, sp, lines) : em.load(c.inputs[0], sp);
      lines.push(...acc.add(i, ops[i].pre(v)));
    });
    return lines;
  };
  /** Finish: each core's value, then the epilogue at output element m. */
  const epilogue = (m: string, value: (i: number) => string): string[] => {
    const lines: string[] = [];
    const em = new Emitter(layout, epiInline);
    cores.forEach((c, i) => {
      lines.push(`let r${i}: f32 = ${ops[i].finish(value(i), N)};`);
      em.vars.set(c, `r${i}`);
    });
    const sp = flatSpace(K.space, lines, "o", m);
    storeLines(K.stores, em, sp, lines);
    return lines;
  };
  const loop = (head: string, body: string[]) => [head, ...body.map((l) => `  ${l}`), "}"];

  if (strategy.kind === "serial") {
    const body = [
      `let m = (wid.x + wid.y * nw.x) * ${u(WG)} + lid.x;`,
      `if (m >= ${u(M)}) { return; }`,
      ...acc.decl,
      ...loop(`for (var r = 0u; r < ${u(N)}; r = r + 1u) {`, loopBody("m", "r")),
      ...epilogue("m", (i) => `acc${i}`),
    ];
    return [{ wgsl: shader("", body, WG), groups: gridFor(Math.ceil(M / WG)) }];
  }
  // Split: T threads per output sum strided shares (no barriers), then each output sums its T partials.
  const T = strategy.threads;
  const nc = cores.length;
  const part = (m: string, t: string, i: number) =>
    `A[${u(scratch)} + (${m} * ${u(T)} + ${t}) * ${u(nc)} + ${u(i)}]`;
  const pass1 = [
    `let g = (wid.x + wid.y * nw.x) * ${u(WG)} + lid.x;`,
    `if (g >= ${u(M * T)}) { return; }`,
    `let m = g / ${u(T)};`,
    `let t = g % ${u(T)};`,
    ...acc.decl,
    ...loop(`for (var r = t; r < ${u(N)}; r = r + ${u(T)}) {`, loopBody("m", "r")),
    ...cores.map((_, i) => `${part("m", "t", i)} = acc${i};`),
  ];
  const sumPartials = (start: string, step: string): string[] => [
    ...acc.decl,
    ...loop(
      `for (var t = ${start}; t < ${u(T)}; t = t + ${step}) {`,
      cores.flatMap((_, i) => acc.add(i, part("m", "t", i))),
    ),
  ];
  let pass2: { body: string[]; shared: string; groups: [number, number, number] };
  if (T <= 64) {
    const body = [
      `let m = (wid.x + wid.y * nw.x) * ${u(WG)} + lid.x;`,
      `if (m >= ${u(M)}) { return; }`,
      ...sumPartials("0u", "1u"),
      ...epilogue("m", (i) => `acc${i}`),
    ];
    pass2 = { body, shared: "", groups: gridFor(Math.ceil(M / WG)) };
  } else {
    // One workgroup per output: strided shares of the partials, then a tree over the workgroup.
    const shared = cores.map((_, i) => `var<workgroup> sh${i}: array<f32, ${WG}>;`).join("\n");
    const body = [
      `let m = wid.x + wid.y * nw.x;`,
      `if (m >= ${u(M)}) { return; }`,
      ...sumPartials("lid.x", u(WG)),
      ...cores.map((_, i) => `sh${i}[lid.x] = acc${i};`),
      "workgroupBarrier();",
      `for (var s = ${u(WG / 2)}; s > 0u; s = s >> 1u) {`,
      `  if (lid.x < s) { ${cores.map((_, i) => `sh${i}[lid.x] = ${ops[i].combine(`sh${i}[lid.x]`, `sh${i}[lid.x + s]`)};`).join(" ")} }`,
      "  workgroupBarrier();",
      "}",
      "if (lid.x == 0u) {",
      ...epilogue("m", (i) => `sh${i}[0]`).map((l) => `  ${l}`),
      "}",
    ];
    pass2 = { body, shared, groups: gridFor(M) };
  }
  return [
    { wgsl: shader("", pass1, WG), groups: gridFor(Math.ceil((M * T) / WG)) },
    { wgsl: shader(pass2.shared, pass2.body, WG), groups: pass2.groups },
  ];
}

// ---- matmul ---------------------------------------------------------------------------------------------

/**
 * Matmul without shared memory: each thread accumulates a TM x TN block of outputs in registers from direct
 * loads of A's rows and B's columns (TM + TN loads per TM * TN multiply-adds), so no barrier is ever needed;
 * caches give the reuse a tile would. Block and workgroup shapes follow the output's shape.
 */
export function matmulBlocking(m: number, n: number): { tm: number; tn: number; wx: number; wy: number } {
  const tn = n >= 4 ? 4 : n >= 2 ? 2 : 1;
  const tm = m >= 4 ? 4 : m >= 2 ? 2 : 1;
  let wx = 1;
  while (wx < 16 && wx * tn < n) wx *= 2;
  return { tm, tn, wx, wy: 64 / wx };
}

function matmulPass(K: Kernel, inline: ReadonlySet<Node>, layout: Layout): Pass {
  const mm = K.cores[0];
  const [a, b] = mm.inputs;
  const shape = mm.shape;
  const r = shape.length;
  const Mm = shape[r - 2];
  const Nn = shape[r - 1];
  const Kk = a.shape[r - 1];
  const batchShape = shape.slice(0, -2);
  const batch = numel(batchShape);
  const { tm, tn, wx, wy } = matmulBlocking(Mm, Nn);
  const tileM = tm * wy;
  const tileN = tn * wx;
  const tilesM = Math.ceil(Mm / tileM);
  const tilesN = Math.ceil(Nn / tileN);
  // A batch of matrices smaller than one tile (a convolution's per-image products, 8 x 9 or 8 x 64) would leave
  // most of each workgroup idle: pack several matrices into one workgroup instead, one thread per block. Each
  // output's sum runs over k in the same order either way, so the results are the same bits.
  const blocksN = Math.ceil(Nn / tn);
  const perMatrix = Math.ceil(Mm / tm) * blocksN;
  const packed = batch > 1 && tilesM * tilesN === 1 && perMatrix < wx * wy;
  const workgroups = packed ? Math.ceil((batch * perMatrix) / (wx * wy)) : batch * tilesM * tilesN;
  const aa = accessOf(a) as Access;
  const ba = accessOf(b) as Access;
  const batchOffset = (acc: Access) => {
    const terms = batchShape
      .map((s, d) =>
        s === 1 || acc.strides[d] === 0 ? "" : `${coordOf("bt", batchShape, d)} * ${u(acc.strides[d])}`,
      )
      .filter(Boolean);
    return [u(layout.offsetOf(acc.base) + acc.offset), ...terms].join(" + ");
  };
  const [sam, sak] = [aa.strides[r - 2], aa.strides[r - 1]];
  const [sbk, sbn] = [ba.strides[r - 2], ba.strides[r - 1]];
  const rows = Array.from({ length: tm }, (_, i) => i);
  const cols = Array.from({ length: tn }, (_, j) => j);
  const place = packed
    ? [
        `let t = (wid.x + wid.y * nw.x) * ${u(wx * wy)} + lid.x;`,
        `if (t >= ${u(batch * perMatrix)}) { return; }`,
        `let bt = t / ${u(perMatrix)};`,
        `let rest = t % ${u(perMatrix)};`,
        `let row0 = (rest / ${u(blocksN)}) * ${u(tm)};`,
        `let col0 = (rest % ${u(blocksN)}) * ${u(tn)};`,
      ]
    : [
        `let tile = wid.x + wid.y * nw.x;`,
        `if (tile >= ${u(batch * tilesM * tilesN)}) { return; }`,
        `let bt = tile / ${u(tilesM * tilesN)};`,
        `let rest = tile % ${u(tilesM * tilesN)};`,
        `let row0 = (rest / ${u(tilesN)}) * ${u(tileM)} + (lid.x / ${u(wx)}) * ${u(tm)};`,
        `let col0 = (rest % ${u(tilesN)}) * ${u(tileN)} + (lid.x % ${u(wx)}) * ${u(tn)};`,
      ];
  const body = [
    ...place,
    `if (row0 >= ${u(Mm)} || col0 >= ${u(Nn)}) { return; }`,
    `let aBase = ${batchOffset(aa)};`,
    `let bBase = ${batchOffset(ba)};`,
    // Rows and columns past the edge read the last valid one; their results are never stored.
    ...rows.map((i) => `let ar${i} = aBase + min(row0 + ${u(i)}, ${u(Mm - 1)}) * ${u(sam)};`),
    ...cols.map((j) => `let bc${j} = bBase + min(col0 + ${u(j)}, ${u(Nn - 1)}) * ${u(sbn)};`),
    ...rows.flatMap((i) => cols.map((j) => `var c${i}_${j}: f32 = 0.0;`)),
    `for (var k = 0u; k < ${u(Kk)}; k = k + 1u) {`,
    ...rows.map((i) => `  let a${i} = A[ar${i} + k * ${u(sak)}];`),
    ...cols.map((j) => `  let b${j} = A[bc${j} + k * ${u(sbk)}];`),
    ...rows.flatMap((i) => cols.map((j) => `  c${i}_${j} = c${i}_${j} + a${i} * b${j};`)),
    "}",
  ];
  for (const i of rows)
    for (const j of cols) {
      const lines: string[] = [];
      const sub = new Emitter(layout, inline);
      sub.vars.set(mm, `c${i}_${j}`);
      const row = `(row0 + ${u(i)})`;
      const col = `(col0 + ${u(j)})`;
      const sp = new Space(
        shape,
        lines,
        `o${i}_${j}`,
        () => `(bt * ${u(Mm)} + ${row}) * ${u(Nn)} + ${col}`,
        (d) => (d === r - 2 ? row : d === r - 1 ? col : coordOf("bt", batchShape, d)),
      );
      storeLines(K.stores, sub, sp, lines);
      const guard = [i > 0 ? `${row} < ${u(Mm)}` : "", j > 0 ? `${col} < ${u(Nn)}` : ""].filter(Boolean);
      body.push(guard.length ? `if (${guard.join(" && ")}) {` : "{", ...lines.map((l) => `  ${l}`), "}");
    }
  return { wgsl: shader("", body, wx * wy), groups: gridFor(workgroups) };
}

// ---- softmax family, argmax, segment sums ----------------------------------------------------------------

function laneGeometry(shape: readonly number[], dim: number): { outer: number; n: number; inner: number } {
  return { outer: numel(shape.slice(0, dim)), n: shape[dim] ?? 1, inner: numel(shape.slice(dim + 1)) };
}

function laneSpace(shape: readonly number[], dim: number, out: string[], prefix: string, k: string): Space {
  const { n, inner } = laneGeometry(shape, dim);
  const outerShape = shape.slice(0, dim);
  const innerShape = shape.slice(dim + 1);
  return new Space(
    shape,
    out,
    prefix,
    () => `(lo * ${u(n)} + ${k}) * ${u(inner)} + li`,
    (d) => (d < dim ? coordOf("lo", outerShape, d) : d === dim ? k : coordOf("li", innerShape, d - dim - 1)),
  );
}

function lanePass(K: Kernel, inline: ReadonlySet<Node>, layout: Layout): Pass {
  const core = K.cores[0];
  if (core.op.k !== "lane") throw new Error("internal");
  const { fn, dim } = core.op;
  const { outer, n, inner } = laneGeometry(core.shape, dim);
  const em = new Emitter(layout, inline);
  const lanes = outer * inner;
  const body = [
    `let lane = (wid.x + wid.y * nw.x) * ${u(WG)} + lid.x;`,
    `if (lane >= ${u(lanes)}) { return; }`,
    `let lo = lane / ${u(inner)};`,
    `let li = lane % ${u(inner)};`,
  ];
  const loop = (k: string, lines: string[]) => [
    `for (var ${k} = 0u; ${k} < ${u(n)}; ${k} = ${k} + 1u) {`,
    ...lines.map((l) => `  ${l}`),
    "}",
  ];
  // The op's declaration (runtime/ops/lanes.ts): one loop over the lane per accumulator, then one per output.
  const spec = LANES[fn];
  const accName = (name: string) => `acc_${name}`;
  const accNames = Object.fromEntries(spec.accs.map((a) => [a.name, accName(a.name)]));
  const pass = (prefix: string, formula: F, lines: string[]) => {
    const sp = laneSpace(core.shape, dim, lines, prefix, "k");
    const names: Record<string, string> = { ...accNames };
    spec.inputs.forEach((v, i) => {
      if (readsVar(formula, v)) names[v] = em.load(core.inputs[i], sp);
    });
    return { sp, text: wgslOf(formula, {}, names) };
  };
  spec.accs.forEach((acc, i) => {
    const lines: string[] = [];
    const { text } = pass(`a${i}`, acc.term, lines);
    const name = accName(acc.name);
    const update =
      acc.combine === "max" ? `${name} = gw_max(${name}, ${text});` : `${name} = ${name} + ${text};`;
    body.push(
      `var ${name}: f32 = ${acc.combine === "max" ? "-gw_bits_inf()" : "0.0"};`,
      ...loop("k", [...lines, update]),
    );
    if (acc.finish) body.push(`${name} = ${wgslOf(acc.finish, {}, accNames)};`);
  });
  const last: string[] = [];
  const { sp, text } = pass("o", spec.value, last);
  last.push(`let y: f32 = ${text};`);
  em.vars.set(core, "y");
  storeLines(K.stores, em, sp, last);
  body.push(...loop("k", last));
  return { wgsl: shader("", body, WG), groups: gridFor(Math.ceil(lanes / WG)) };
}

function argreducePass(K: Kernel, inline: ReadonlySet<Node>, layout: Layout): Pass {
  const core = K.cores[0];
  if (core.op.k !== "argreduce") throw new Error("internal");
  const x = core.inputs[0];
  const { dim, fn } = core.op;
  const { outer, n, inner } = laneGeometry(x.shape, dim);
  const em = new Emitter(layout, inline);
  const lanes = outer * inner;
  const better = fn === "max" ? ">" : "<";
  const body = [
    `let lane = (wid.x + wid.y * nw.x) * ${u(WG)} + lid.x;`,
    `if (lane >= ${u(lanes)}) { return; }`,
    `let lo = lane / ${u(inner)};`,
    `let li = lane % ${u(inner)};`,
  ];
  const first: string[] = [];
  const v0 = em.load(x, laneSpace(x.shape, dim, first, "z", "0u"));
  body.push(...first, `var bv: f32 = ${v0};`, "var bi: u32 = 0u;");
  const loopLines: string[] = [];
  const v = em.load(x, laneSpace(x.shape, dim, loopLines, "a", "k"));
  body.push(
    `for (var k = 1u; k < ${u(n)}; k = k + 1u) {`,
    "  if (gw_isnan(bv)) { break; }",
    ...loopLines.map((l) => `  ${l}`),
    `  let v = ${v};`,
    `  if (gw_isnan(v) || v ${better} bv) { bv = v; bi = k; }`,
    "}",
    "let y: f32 = f32(bi);",
  );
  em.vars.set(core, "y");
  const sp = flatSpace(K.space, body, "o", "lane");
  storeLines(K.stores, em, sp, body);
  return { wgsl: shader("", body, WG), groups: gridFor(Math.ceil(lanes / WG)) };
}

function segsumPass(K: Kernel, inline: ReadonlySet<Node>, layout: Layout): Pass {
  const core = K.cores[0];
  const [g, rowptr, cols] = core.inputs;
  const total = core.numel;
  const em = new Emitter(layout, inline);
  // Each element's list of gradients, or (autodiff's form when no element gathers more than one: a permutation,
  // windows that never overlap) the one source per element, -1 for none. acc starts at 0.0 either way, so a
  // gathered -0.0 sums to 0.0 in both.
  const single = core.inputs.length === 2;
  const body = single
    ? [
        `let o = (wid.x + wid.y * nw.x) * ${u(WG)} + lid.x;`,
        `if (o >= ${u(total)}) { return; }`,
        `let s = bitcast<i32>(A[${u(layout.offsetOf(core.inputs[1]))} + o]);`,
        "var acc: f32 = 0.0;",
        "if (s >= 0) {",
        "  let e = u32(s);",
      ]
    : [
        `let o = (wid.x + wid.y * nw.x) * ${u(WG)} + lid.x;`,
        `if (o >= ${u(total)}) { return; }`,
        `let j0 = u32(bitcast<i32>(A[${u(layout.offsetOf(rowptr))} + o]));`,
        `let j1 = u32(bitcast<i32>(A[${u(layout.offsetOf(rowptr))} + o + 1u]));`,
        "var acc: f32 = 0.0;",
        "for (var j = j0; j < j1; j = j + 1u) {",
        `  let e = u32(bitcast<i32>(A[${u(layout.offsetOf(cols))} + j]));`,
      ];
  // The gathered gradient, computed right here at each element it is read at when it was not stored.
  const loop: string[] = [];
  const gv = inline.has(g)
    ? new Emitter(layout, inline).value(g, flatSpace(g.shape, loop, "g", "e"), loop)
    : (em.literalOf(g) ?? `A[${em.indexByFlat(g, "e")}]`);
  body.push(...loop.map((l) => `  ${l}`), `  acc = acc + ${gv};`, "}", "let y: f32 = acc;");
  em.vars.set(core, "y");
  const sp = flatSpace(K.space, body, "o", "o");
  storeLines(K.stores, em, sp, body);
  return { wgsl: shader("", body, WG), groups: gridFor(Math.ceil(total / WG)) };
}
