/**
 * Compiles lazy expressions (expr.ts) into a program for the SIMD vector machine (assembly/vm.ts) and runs it:
 * one pass over the elements, chunk by chunk, computing every requested output together (materialised
 * values, float64 sums, torch-order float32 sums, per-column float64 sums). A node shared by several outputs
 * is computed once per chunk.
 */
import { jsForm, productInto } from "../fused/matmul.ts";
import type { CmpName, Expr, Output, ProductExpr, Result } from "./expr.ts";
import { JIT_LANES, type JitNode, jitBody } from "./jit.ts";
import { loadedKernels, sharedArena } from "./module.ts";

// Opcodes of assembly/vm.ts.
const OP = {
  END: 0,
  LOAD_ROW: 2,
  LOAD_FULL: 3,
  LOAD_COL: 4,
  LOAD_UNPOOL: 5,
  add: 10,
  sub: 11,
  mul: 12,
  div: 13,
  neg: 20,
  abs: 21,
  sqrt: 22,
  tanh: 23,
  dtanh: 24,
  // SELECT + the comparison's index in CMPS (vm.ts's SEL_EQ ... SEL_GE).
  SELECT: 30,
  SUM64: 41,
  CASCADE: 42,
  COLSUM64: 43,
  RUNSUM64: 45,
  STORE_FULL: 44,
} as const;
const CMPS: readonly CmpName[] = ["eq", "ne", "lt", "gt", "le", "ge"];

/**
 * Evaluate `outputs` over n elements in one pass. Throws when the SIMD kernels are unavailable. With `views`,
 * values come back as views of the kernels' memory, valid only until the next kernel call (no array made).
 */
export function runOutputs(n: number, outputs: readonly Output[], views = false): Result[] {
  const k = loadedKernels();
  if (!k) throw new Error("runOutputs: the SIMD kernels are not available");
  if (n < 8) throw new Error("runOutputs: fused passes need at least 8 elements");
  // One arena for every kernel call (matmul too): calls are synchronous and never nested.
  const a = sharedArena(k);
  // Three parts: filling broadcast leaves' registers, the elementwise ops (compiled into one function by
  // jit.ts, or run as instructions here), the reductions and stores.
  const pre: number[] = [];
  const code: number[] = [];
  const post: number[] = [];
  const nodes: JitNode[] = [];
  const regOf = new Map<Expr, number>();
  // Distinct expression objects that compute the same op over the same registers share one register: a
  // backward formula that rebuilds a forward subexpression (mse's a - b) costs nothing extra per element.
  const opReg = new Map<string, number>();
  const leafPtr = new Map<Float32Array, number>();
  const fullReg = new Map<Float32Array, number>();
  let regs = 0;
  const constants: { reg: number; v: number }[] = [];
  // Full-size leaves are copied from JavaScript chunk by chunk straight into their registers (one copy,
  // cache-hot); small broadcast leaves whole, once per array. The program and registers go after all other
  // allocations.
  const streamed: { reg: number; data: Float32Array }[] = [];
  const leaf = (data: Float32Array): number => {
    let p = leafPtr.get(data);
    if (p === undefined) {
      p = a.alloc(data.length * 4);
      a.f32(p, data.length).set(data);
      leafPtr.set(data, p);
    }
    return p;
  };
  const product = (e: ProductExpr): number => {
    const p = productInto(k, a, e.L, e.R, e.m, e.inner, e.n);
    if (p !== null) return p;
    // The module's memory could not grow for the kernels' copies: the plain product, copied in whole.
    const out = new Float32Array(e.m * e.n);
    jsForm(e.L, e.R, e.m, e.inner, e.n, out, 0);
    return leaf(out);
  };
  /** An elementwise operation's register: a new one (its instruction and node), or one computing the same. */
  const operation = (key: string, op: number, args: number[], node: (reg: number) => JitNode): number => {
    const same = opReg.get(key);
    if (same !== undefined) return same;
    const r = regs++;
    opReg.set(key, r);
    code.push(op, r, ...args);
    nodes.push(node(r));
    return r;
  };
  const emit = (e: Expr): number => {
    const known = regOf.get(e);
    if (known !== undefined) return known;
    let r: number;
    switch (e.k) {
      case "leaf": {
        // One register per array however many leaves read it.
        const same = e.mode === "full" ? fullReg.get(e.data) : undefined;
        if (same !== undefined) {
          r = same;
          break;
        }
        r = regs++;
        if (e.mode === "full") {
          fullReg.set(e.data, r);
          streamed.push({ reg: r, data: e.data });
        } else pre.push(e.mode === "row" ? OP.LOAD_ROW : OP.LOAD_COL, r, leaf(e.data), e.len);
        nodes.push({ kind: "input", reg: r });
        break;
      }
      case "product": {
        // Computed into module memory now, then read chunk by chunk like a full leaf.
        r = regs++;
        pre.push(OP.LOAD_FULL, r, product(e));
        nodes.push({ kind: "input", reg: r });
        break;
      }
      case "unpool": {
        // Gathered from the pooled gradient and its indices (both copied in whole) chunk by chunk.
        r = regs++;
        const idx = a.alloc(e.idx.length * 8);
        a.f64(idx, e.idx.length).set(e.idx);
        pre.push(OP.LOAD_UNPOOL, r, leaf(e.g), idx, e.h, e.w);
        nodes.push({ kind: "input", reg: r });
        break;
      }
      case "const":
        r = regs++;
        nodes.push({ kind: "const", reg: r, index: constants.length });
        constants.push({ reg: r, v: e.v });
        break;
      case "unary": {
        const x = emit(e.a);
        r = operation(`${e.op} ${x}`, OP[e.op], [x], (reg) => ({ kind: "unary", op: e.op, reg, a: x }));
        break;
      }
      case "binary": {
        const [x, y] = [emit(e.a), emit(e.b)];
        const node = (reg: number): JitNode => ({ kind: "binary", op: e.op, reg, a: x, b: y });
        r = operation(`${e.op} ${x} ${y}`, OP[e.op], [x, y], node);
        break;
      }
      case "select": {
        const [x, y, t, f] = [emit(e.a), emit(e.b), emit(e.t), emit(e.e)];
        const node = (reg: number): JitNode => ({ kind: "select", cmp: e.cmp, reg, a: x, b: y, t, e: f });
        r = operation(`${e.cmp} ${x} ${y} ${t} ${f}`, OP.SELECT + CMPS.indexOf(e.cmp), [x, y, t, f], node);
        break;
      }
    }
    regOf.set(e, r);
    return r;
  };
  const CASCADE_BYTES = k.CASCADE_STATE_BYTES.value as number;
  const places: number[] = [];
  const stores = new Set<number>();
  for (const o of outputs) {
    const r = emit(o.expr);
    stores.add(r);
    switch (o.kind) {
      case "values": {
        // Stored chunk by chunk into module memory, copied out whole at the end.
        const p = a.alloc(n * 4);
        places.push(p);
        post.push(OP.STORE_FULL, r, p);
        break;
      }
      case "sum64": {
        const p = a.alloc(64);
        a.f64(p, 8).fill(0);
        places.push(p);
        post.push(OP.SUM64, r, p);
        break;
      }
      case "torchSum": {
        const p = a.alloc(CASCADE_BYTES);
        k.cascadeInit(p, n);
        places.push(p);
        post.push(OP.CASCADE, r, p);
        break;
      }
      case "colSum64": {
        const p = a.alloc(o.len * 8);
        a.f64(p, o.len).fill(0);
        places.push(p);
        const inner = o.inner ?? 1;
        post.push(...(inner > 1 ? [OP.RUNSUM64, r, p, o.len, inner] : [OP.COLSUM64, r, p, o.len]));
        break;
      }
    }
  }
  const chunk = k.CHUNK.value as number;
  const body = jitBody(k, nodes, stores, chunk * 4);
  const program = (words: number[]): number => {
    const p = a.alloc((words.length + 1) * 4);
    a.i32(p, words.length + 1).set([...words, OP.END]);
    return p;
  };
  // With a compiled body the machine only fills and reduces; without, it runs the elementwise ops too.
  const before = body ? (pre.length > 0 ? program(pre) : 0) : program([...pre, ...code, ...post]);
  const after = body && post.length > 0 ? program(post) : 0;
  const constPtr = a.alloc(constants.length * 4);
  a.f32(constPtr, constants.length).set(constants.map((c) => c.v));
  const regBase = a.alloc(regs * chunk * 4);
  const mem = a.f32(0, a.end() / 4);
  if (!body)
    for (const c of constants)
      mem.fill(c.v, (regBase >> 2) + c.reg * chunk, (regBase >> 2) + (c.reg + 1) * chunk);
  // Products and materialised values stay in module memory for the whole pass (LOAD_FULL, STORE_FULL).
  for (let start = 0; start < n; start += chunk) {
    const len = Math.min(chunk, n - start);
    for (const s of streamed) mem.set(s.data.subarray(start, start + len), (regBase >> 2) + s.reg * chunk);
    if (before) k.run(before, regBase, start, len);
    if (body) {
      body(regBase, constPtr, Math.ceil(len / JIT_LANES) * JIT_LANES);
      if (after) k.run(after, regBase, start, len);
    }
  }
  return outputs.map((o, i) => {
    const p = places[i];
    switch (o.kind) {
      case "values":
        return views ? a.f32(p, n) : a.f32(p, n).slice();
      case "sum64": {
        // The machine's eight partial sums (vm.ts, sum64), added pairwise.
        const s = a.f64(p, 8);
        return s[0] + s[1] + (s[2] + s[3]) + (s[4] + s[5] + (s[6] + s[7]));
      }
      case "torchSum":
        return k.cascadeFinish(p);
      case "colSum64":
        return a.f64(p, o.len).slice();
      default:
        throw new Error("runOutputs: unknown output kind");
    }
  });
}
