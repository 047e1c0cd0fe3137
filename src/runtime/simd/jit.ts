/**
 * A WebAssembly function compiled for one elementwise program: every node of the expression lives in a SIMD
 * register (a wasm local) for the whole chunk loop, so a chain of n ops costs n instructions per vector rather
 * than n passes over memory. The vector machine (assembly/vm.ts) still fills broadcast leaves' registers before
 * it and does the reductions after it; this function reads the input registers, computes, and writes only the
 * registers those reductions read.
 *
 * The bytes are generated here from the program's nodes (no code from a graph file is involved: nodes are the
 * runtime's own fixed ops), compiled once per program shape and cached. Where compiling fails (a browser main
 * thread refuses to compile synchronously above 4 KB, or the module is refused), the caller runs the same
 * program on the vector machine, which computes the same values.
 */
import { DTANH, isInt, type Operand, TANH, type VInstr, vectorOf } from "./breakdown.ts";
import type { BinaryOpName, CmpName, UnaryOpName } from "./expr.ts";
import type { KernelExports } from "./module.ts";

/** One node in evaluation order; `reg` is its register (for inputs and stored outputs) and its local. */
export type JitNode =
  | { readonly kind: "input"; readonly reg: number }
  | { readonly kind: "const"; readonly reg: number; readonly index: number }
  | { readonly kind: "unary"; readonly op: UnaryOpName; readonly reg: number; readonly a: number }
  | {
      readonly kind: "binary";
      readonly op: BinaryOpName;
      readonly reg: number;
      readonly a: number;
      readonly b: number;
    }
  | {
      readonly kind: "select";
      readonly cmp: CmpName;
      readonly reg: number;
      readonly a: number;
      readonly b: number;
      readonly t: number;
      readonly e: number;
    };

/** body(regs, consts, vlen): registers at regs, constant floats at consts, vlen (a multiple of JIT_LANES) lanes. */
export type JitBody = (regs: number, consts: number, vlen: number) => void;

// Opcodes of the WebAssembly SIMD proposal (after the 0xfd prefix) and the core ones used here.
const SIMD = 0xfd;
const S = {
  load: 0x00,
  load32Splat: 0x09,
  store: 0x0b,
  const: 0x0c,
  f32x4Eq: 0x41,
  f32x4Ne: 0x42,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  f32x4Le: 0x45,
  f32x4Ge: 0x46,
  and: 0x4e,
  or: 0x50,
  bitselect: 0x52,
  i32x4Shl: 0xab,
  i32x4Add: 0xae,
  i32x4Sub: 0xb1,
  abs: 0xe0,
  neg: 0xe1,
  sqrt: 0xe3,
  add: 0xe4,
  sub: 0xe5,
  mul: 0xe6,
  div: 0xe7,
  pmin: 0xea,
  shuffle: 0x0d,
  demoteF64x2Zero: 0x5e,
  promoteLowF32x4: 0x5f,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
} as const;
/** The comparisons a select node makes, as f32x4 instructions. */
const CMP: Record<CmpName, number> = {
  eq: S.f32x4Eq,
  ne: S.f32x4Ne,
  lt: S.f32x4Lt,
  gt: S.f32x4Gt,
  le: S.f32x4Le,
  ge: S.f32x4Ge,
};
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_CONST = 0x41;
const I32_LT_U = 0x49;
const I32_ADD = 0x6a;
const I32_SHL = 0x74;
const LOOP = 0x03;
const BR_IF = 0x0d;
const END = 0x0b;
const VOID = 0x40;
const I32 = 0x7f;
const V128 = 0x7b;

/**
 * Vectors per loop iteration. Independent vectors interleaved let the processor overlap their dependency
 * chains (a polynomial is a chain of multiply-adds): four run tanh about twice as fast as one.
 */
export const GROUPS = 4;
/** Lanes per loop iteration: `vlen` must be a multiple of this. */
export const JIT_LANES = 4 * GROUPS;

function uleb(n: number, out: number[]): void {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

function sleb(n: number, out: number[]): void {
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

function section(id: number, body: number[], out: number[]): void {
  out.push(id);
  uleb(body.length, out);
  out.push(...body);
}

function name(s: string, out: number[]): void {
  uleb(s.length, out);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}

const f32Bytes = new Uint8Array(4);
const f32View = new DataView(f32Bytes.buffer);

/** Function-body code with helpers for the instructions used. */
class Code {
  readonly bytes: number[] = [];
  simd(op: number): this {
    this.bytes.push(SIMD);
    uleb(op, this.bytes);
    return this;
  }
  get(local: number): this {
    this.bytes.push(LOCAL_GET);
    uleb(local, this.bytes);
    return this;
  }
  set(local: number): this {
    this.bytes.push(LOCAL_SET);
    uleb(local, this.bytes);
    return this;
  }
  /** A v128 constant of four equal float32 lanes (`asInt`: four equal int32 lanes). */
  splat(v: number, asInt = false): this {
    this.simd(S.const);
    if (asInt) f32View.setInt32(0, v, true);
    else f32View.setFloat32(0, v, true);
    for (let i = 0; i < 4; i++) this.bytes.push(...f32Bytes);
    return this;
  }
  memarg(align: number, offset: number): this {
    this.bytes.push(align);
    uleb(offset, this.bytes);
    return this;
  }
}

/** tanh's float32 breakdown (breakdown.ts) as vector instructions: the same ones the vector machine runs. */
const TANH_VECTOR = vectorOf(TANH);
const DTANH_VECTOR = vectorOf(DTANH);
/** Scratch locals per group: one per instruction of the longest breakdown, and two float64 halves. */
const SCRATCH = Math.max(TANH_VECTOR.instrs.length, DTANH_VECTOR.instrs.length) + 2;

const VOPS: Record<Exclude<VInstr["op"], "i32x4.shl23" | "v128.bitselect" | "oneMinusSquare64">, number> = {
  "f32x4.abs": S.abs,
  "f32x4.add": S.add,
  "f32x4.sub": S.sub,
  "f32x4.mul": S.mul,
  "f32x4.div": S.div,
  "f32x4.pmin": S.pmin,
  "f32x4.lt": S.f32x4Lt,
  "f32x4.ge": S.f32x4Ge,
  "f32x4.eq": S.f32x4Eq,
  "f32x4.ne": S.f32x4Ne,
  "v128.and": S.and,
  "v128.or": S.or,
  "i32x4.sub": S.i32x4Sub,
  "i32x4.add": S.i32x4Add,
};

/** A breakdown's vector instructions, x read from local `x`, the value left in local `out`; `s` are scratch. */
function emitBreakdown(c: Code, v: ReturnType<typeof vectorOf>, x: number, out: number, s: number[]): void {
  const locals = new Map<string, number>([["x", x]]);
  for (const [i, instr] of v.instrs.entries()) locals.set(instr.out, s[i]);
  const push = (o: Operand) => {
    if (typeof o === "number") c.splat(o);
    else if (isInt(o)) c.splat(Number(o.slice(1)), true);
    else c.get(locals.get(o)!);
  };
  for (const instr of v.instrs) {
    push(instr.a);
    switch (instr.op) {
      case "f32x4.abs":
        c.simd(S.abs);
        break;
      case "i32x4.shl23":
        c.bytes.push(I32_CONST, 23);
        c.simd(S.i32x4Shl);
        break;
      case "v128.bitselect":
        push(instr.b);
        c.get(locals.get(instr.mask)!).simd(S.bitselect);
        break;
      case "oneMinusSquare64":
        oneMinusSquare64(c, s[s.length - 2], s[s.length - 1]);
        break;
      default:
        push(instr.b);
        c.simd(VOPS[instr.op]);
    }
    c.set(locals.get(instr.out)!);
  }
  c.get(locals.get(v.result)!).set(out);
}

/**
 * 1 - y * y per lane in float64, rounded once, for the y on the stack (its value left on the stack): each half
 * promoted to two float64 lanes, squared and subtracted exactly, demoted, and the halves joined.
 */
function oneMinusSquare64(c: Code, lo: number, hi: number): void {
  const shuffle = (lanes: number[]) => {
    c.simd(S.shuffle);
    for (const l of lanes) for (let b = 0; b < 4; b++) c.bytes.push(l * 4 + b);
  };
  c.set(hi);
  c.get(hi).simd(S.promoteLowF32x4).set(lo);
  c.get(hi).get(hi);
  shuffle([2, 3, 0, 1]);
  c.simd(S.promoteLowF32x4).set(hi);
  const oneMinusSquare = (v: number) => {
    c.simd(S.const);
    const one = new DataView(new ArrayBuffer(16));
    one.setFloat64(0, 1, true);
    one.setFloat64(8, 1, true);
    for (let i = 0; i < 16; i++) c.bytes.push(one.getUint8(i));
    c.get(v).get(v).simd(S.f64x2Mul).simd(S.f64x2Sub).simd(S.demoteF64x2Zero);
  };
  oneMinusSquare(lo);
  oneMinusSquare(hi);
  shuffle([0, 1, 4, 5]);
}

/** The module's bytes for these nodes; `stores` are the registers written back. */
export function jitBytes(
  nodes: readonly JitNode[],
  stores: ReadonlySet<number>,
  chunkBytes: number,
): Uint8Array<ArrayBuffer> {
  // Locals: 0 regs, 1 consts, 2 vlen (params); 3 p, 4 end (i32); then GROUPS v128 per node, then scratch.
  const P_ = 3;
  const END_PTR = 4;
  const local = (i: number, g: number) => 5 + i * GROUPS + g;
  const scratchBase = 5 + nodes.length * GROUPS;
  const scratch = (g: number) => Array.from({ length: SCRATCH }, (_, k) => scratchBase + g * SCRATCH + k);
  const c = new Code();
  // end = regs + vlen * 4; p = regs
  c.get(0).get(2);
  c.bytes.push(I32_CONST, 2, I32_SHL, I32_ADD);
  c.set(END_PTR).get(0).set(P_);
  const indexOfReg = new Map<number, number>();
  nodes.forEach((n, i) => {
    indexOfReg.set(n.reg, i);
    if (n.kind !== "const") return;
    // Constants are loaded once, before the loop; every group shares the value.
    c.get(1)
      .simd(S.load32Splat)
      .memarg(2, n.index * 4)
      .set(local(i, 0));
    for (let g = 1; g < GROUPS; g++) c.get(local(i, 0)).set(local(i, g));
  });
  const of = (reg: number, g: number) => local(indexOfReg.get(reg)!, g);
  c.bytes.push(LOOP, VOID);
  nodes.forEach((n, i) => {
    for (let g = 0; g < GROUPS; g++) {
      switch (n.kind) {
        case "const":
          break;
        case "input":
          c.get(P_)
            .simd(S.load)
            .memarg(4, n.reg * chunkBytes + 16 * g)
            .set(local(i, g));
          break;
        case "unary":
          if (n.op === "tanh") emitBreakdown(c, TANH_VECTOR, of(n.a, g), local(i, g), scratch(g));
          else if (n.op === "dtanh") emitBreakdown(c, DTANH_VECTOR, of(n.a, g), local(i, g), scratch(g));
          else c.get(of(n.a, g)).simd(S[n.op]).set(local(i, g));
          break;
        case "binary":
          c.get(of(n.a, g)).get(of(n.b, g)).simd(S[n.op]).set(local(i, g));
          break;
        case "select":
          c.get(of(n.t, g)).get(of(n.e, g)).get(of(n.a, g)).get(of(n.b, g));
          c.simd(CMP[n.cmp]).simd(S.bitselect).set(local(i, g));
          break;
      }
      if (stores.has(n.reg) && n.kind !== "input")
        c.get(P_)
          .get(local(i, g))
          .simd(S.store)
          .memarg(4, n.reg * chunkBytes + 16 * g);
    }
  });
  // p += 16 * GROUPS; loop while p < end
  c.get(P_);
  c.bytes.push(I32_CONST);
  sleb(16 * GROUPS, c.bytes);
  c.bytes.push(I32_ADD, LOCAL_TEE, P_);
  c.get(END_PTR);
  c.bytes.push(I32_LT_U, BR_IF, 0, END, END);
  const body: number[] = [];
  // Local declarations: 2 x i32, then the v128s.
  body.push(2, 2, I32);
  uleb(nodes.length * GROUPS + GROUPS * SCRATCH, body);
  body.push(V128, ...c.bytes);
  const func: number[] = [];
  uleb(body.length, func);
  func.push(...body);

  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  // Type 0: (i32, i32, i32) -> ().
  section(1, [1, 0x60, 3, I32, I32, I32, 0], out);
  const imports: number[] = [1];
  name("env", imports);
  name("memory", imports);
  imports.push(0x02, 0x00, 0x00); // memory, no maximum, at least 0 pages
  section(2, imports, out);
  section(3, [1, 0], out); // one function of type 0
  const exports: number[] = [1];
  name("body", exports);
  exports.push(0x00, 0); // function 0
  section(7, exports, out);
  section(10, [1, ...func], out);
  return Uint8Array.from(out);
}

const cache = new Map<string, JitBody | null>();
let enabled = true;

/** Tests compare the compiled path with the vector machine's own elementwise instructions. */
export function setJitEnabled(on: boolean): void {
  enabled = on;
}

/** The compiled body for these nodes, or null where compiling is refused (the vector machine runs them). */
export function jitBody(
  k: KernelExports,
  nodes: readonly JitNode[],
  stores: ReadonlySet<number>,
  chunkBytes: number,
): JitBody | null {
  if (!enabled) return null;
  const key = `${chunkBytes}|${JSON.stringify(nodes)}|${[...stores].sort((x, y) => x - y).join(",")}`;
  const known = cache.get(key);
  if (known !== undefined) return known;
  let body: JitBody | null = null;
  try {
    const module = new WebAssembly.Module(jitBytes(nodes, stores, chunkBytes));
    const instance = new WebAssembly.Instance(module, {
      env: { memory: k.memory },
    });
    body = instance.exports.body as JitBody;
  } catch {
    body = null;
  }
  // A bounded cache: programs have few distinct shapes in practice (one per graph).
  if (cache.size > 256) cache.clear();
  cache.set(key, body);
  return body;
}
