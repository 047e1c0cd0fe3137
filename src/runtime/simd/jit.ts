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
import type { BinaryOpName, UnaryOpName } from "./expr.ts";
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
    };

/** body(regs, consts, vlen): registers at regs, constant floats at consts, vlen (a multiple of 4) lanes. */
export type JitBody = (regs: number, consts: number, vlen: number) => void;

// Opcodes of the WebAssembly SIMD proposal (after the 0xfd prefix) and the core ones used here.
const SIMD = 0xfd;
const V128_LOAD = 0x00;
const V128_LOAD32_SPLAT = 0x09;
const V128_STORE = 0x0b;
const F32X4: Record<string, number> = {
  abs: 0xe0,
  neg: 0xe1,
  sqrt: 0xe3,
  add: 0xe4,
  sub: 0xe5,
  mul: 0xe6,
  div: 0xe7,
};
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_CONST = 0x41;
const I32_LT_U = 0x49;
const I32_ADD = 0x6a;
const I32_SHL = 0x74;
const CALL = 0x10;
const LOOP = 0x03;
const BR_IF = 0x0d;
const END = 0x0b;
const VOID = 0x40;
const I32 = 0x7f;
const V128 = 0x7b;

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

/** The module's bytes for these nodes; `stores` are the registers written back. */
export function jitBytes(
  nodes: readonly JitNode[],
  stores: ReadonlySet<number>,
  chunkBytes: number,
): Uint8Array<ArrayBuffer> {
  // Locals: 0 regs, 1 consts, 2 vlen (params); 3 p, 4 end (i32); then one v128 per node.
  const P = 3;
  const END_PTR = 4;
  const local = (i: number) => 5 + i;
  const code: number[] = [];
  const memarg = (offset: number) => {
    code.push(4); // 16-byte alignment hint
    uleb(offset, code);
  };
  // end = regs + vlen * 4; p = regs
  code.push(LOCAL_GET, 0, LOCAL_GET, 2, I32_CONST, 2, I32_SHL, I32_ADD, LOCAL_SET, END_PTR);
  code.push(LOCAL_GET, 0, LOCAL_SET, P);
  nodes.forEach((n, i) => {
    if (n.kind !== "const") return;
    code.push(LOCAL_GET, 1, SIMD);
    uleb(V128_LOAD32_SPLAT, code);
    code.push(2); // 4-byte alignment
    uleb(n.index * 4, code);
    code.push(LOCAL_SET);
    uleb(local(i), code);
  });
  const indexOfReg = new Map<number, number>();
  nodes.forEach((n, i) => {
    indexOfReg.set(n.reg, i);
  });
  const get = (reg: number) => {
    code.push(LOCAL_GET);
    uleb(local(indexOfReg.get(reg)!), code);
  };
  code.push(LOOP, VOID);
  nodes.forEach((n, i) => {
    switch (n.kind) {
      case "const":
        break;
      case "input":
        code.push(LOCAL_GET, P, SIMD);
        uleb(V128_LOAD, code);
        memarg(n.reg * chunkBytes);
        code.push(LOCAL_SET);
        uleb(local(i), code);
        break;
      case "unary":
        get(n.a);
        if (n.op === "tanh" || n.op === "dtanh") {
          code.push(CALL, n.op === "tanh" ? 0 : 1);
        } else {
          code.push(SIMD);
          uleb(F32X4[n.op], code);
        }
        code.push(LOCAL_SET);
        uleb(local(i), code);
        break;
      case "binary":
        get(n.a);
        get(n.b);
        code.push(SIMD);
        uleb(F32X4[n.op], code);
        code.push(LOCAL_SET);
        uleb(local(i), code);
        break;
    }
    if (stores.has(n.reg) && n.kind !== "input") {
      code.push(LOCAL_GET, P);
      get(n.reg);
      code.push(SIMD);
      uleb(V128_STORE, code);
      memarg(n.reg * chunkBytes);
    }
  });
  // p += 16; loop while p < end
  code.push(LOCAL_GET, P, I32_CONST);
  sleb(16, code);
  code.push(I32_ADD, LOCAL_TEE, P, LOCAL_GET, END_PTR, I32_LT_U, BR_IF, 0, END, END);
  const body: number[] = [];
  // Local declarations: 2 x i32, nodes.length x v128.
  body.push(2, 2, I32);
  uleb(nodes.length, body);
  body.push(V128, ...code);
  const func: number[] = [];
  uleb(body.length, func);
  func.push(...body);

  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  // Types: 0 (v128) -> v128; 1 (i32, i32, i32) -> ().
  section(1, [2, 0x60, 1, V128, 1, V128, 0x60, 3, I32, I32, I32, 0], out);
  const imports: number[] = [3];
  name("env", imports);
  name("memory", imports);
  imports.push(0x02, 0x00, 0x00); // memory, no maximum, at least 0 pages
  for (const f of ["tanh4", "dtanh4"]) {
    name("env", imports);
    name(f, imports);
    imports.push(0x00, 0x00); // function of type 0
  }
  section(2, imports, out);
  section(3, [1, 1], out); // one function of type 1
  const exports: number[] = [1];
  name("body", exports);
  exports.push(0x00, 2); // function index 2 (after the two imports)
  section(7, exports, out);
  const codeSec: number[] = [1, ...func];
  section(10, codeSec, out);
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
      env: { memory: k.memory, tanh4: k.tanh4, dtanh4: k.dtanh4 },
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
