/**
 * Compiles lazy expressions (expr.ts) into a program for the SIMD vector machine (assembly/vm.ts) and runs it:
 * one pass over the elements, chunk by chunk, computing every requested output together (materialised
 * values, float64 sums, torch-order float32 sums, per-column float64 sums). A node shared by several outputs
 * is computed once per chunk.
 */
import type { Expr } from "./expr.ts";
import { Arena, type KernelExports, simdKernels } from "./module.ts";

// Opcodes of assembly/vm.ts.
const OP = {
  END: 0,
  LOAD_ROW: 2,
  LOAD_COL: 4,
  add: 10,
  sub: 11,
  mul: 12,
  div: 13,
  neg: 20,
  abs: 21,
  sqrt: 22,
  tanh: 23,
  dtanh: 24,
  STORE: 40,
  SUM64: 41,
  CASCADE: 42,
  COLSUM64: 43,
} as const;

/** What to compute from an expression over all n elements. */
export type Output =
  | { readonly kind: "values"; readonly expr: Expr }
  | { readonly kind: "sum64"; readonly expr: Expr }
  | { readonly kind: "torchSum"; readonly expr: Expr }
  | { readonly kind: "colSum64"; readonly expr: Expr; readonly len: number };

/** values: the n float32 values; sum64: a number; torchSum: the float32 sum; colSum64: `len` float64 sums. */
export type Result = Float32Array | Float64Array | number;

let arena: Arena | null = null;

function arenaFor(k: KernelExports): Arena {
  arena ??= new Arena(k);
  arena.reset();
  return arena;
}

/** Evaluate `outputs` over n elements in one pass. Throws when the SIMD kernels are unavailable. */
export function runOutputs(n: number, outputs: readonly Output[]): Result[] {
  const k = simdKernels();
  if (!k) throw new Error("runOutputs: the SIMD kernels are not available");
  if (n < 8) throw new Error("runOutputs: fused passes need at least 8 elements");
  const a = arenaFor(k);
  const code: number[] = [];
  const regOf = new Map<Expr, number>();
  const leafPtr = new Map<Float32Array, number>();
  let regs = 0;
  // Full-size leaves are copied chunk by chunk into their registers, constants filled once (see run below).
  const streamed: { reg: number; data: Float32Array }[] = [];
  const constants: { reg: number; v: number }[] = [];
  // Small broadcast leaves are copied whole; the program and registers go after all other allocations.
  const leaf = (data: Float32Array): number => {
    let p = leafPtr.get(data);
    if (p === undefined) {
      p = a.alloc(data.length * 4);
      a.f32(p, data.length).set(data);
      leafPtr.set(data, p);
    }
    return p;
  };
  const emit = (e: Expr): number => {
    const known = regOf.get(e);
    if (known !== undefined) return known;
    let r: number;
    switch (e.k) {
      case "leaf": {
        // One register per array however many leaves read it.
        const same = e.mode === "full" ? streamed.find((s) => s.data === e.data) : undefined;
        if (same) {
          r = same.reg;
          break;
        }
        r = regs++;
        if (e.mode === "full") streamed.push({ reg: r, data: e.data });
        else code.push(e.mode === "row" ? OP.LOAD_ROW : OP.LOAD_COL, r, leaf(e.data), e.len);
        break;
      }
      case "const":
        r = regs++;
        constants.push({ reg: r, v: e.v });
        break;
      case "unary": {
        const x = emit(e.a);
        r = regs++;
        code.push(OP[e.op], r, x);
        break;
      }
      case "binary": {
        const x = emit(e.a);
        const y = emit(e.b);
        r = regs++;
        code.push(OP[e.op], r, x, y);
        break;
      }
    }
    regOf.set(e, r);
    return r;
  };
  const CASCADE_BYTES = k.CASCADE_STATE_BYTES.value as number;
  const places: number[] = [];
  for (const o of outputs) {
    const r = emit(o.expr);
    switch (o.kind) {
      case "values": {
        const p = a.alloc(n * 4);
        places.push(p);
        code.push(OP.STORE, r, p);
        break;
      }
      case "sum64": {
        const p = a.alloc(32);
        a.f64(p, 4).fill(0);
        places.push(p);
        code.push(OP.SUM64, r, p);
        break;
      }
      case "torchSum": {
        const p = a.alloc(CASCADE_BYTES);
        k.cascadeInit(p, n);
        places.push(p);
        code.push(OP.CASCADE, r, p);
        break;
      }
      case "colSum64": {
        const p = a.alloc(o.len * 8);
        a.f64(p, o.len).fill(0);
        places.push(p);
        code.push(OP.COLSUM64, r, p, o.len);
        break;
      }
    }
  }
  code.push(OP.END);
  const prog = a.alloc(code.length * 4);
  a.i32(prog, code.length).set(code);
  const chunk = k.CHUNK.value as number;
  const regBase = a.alloc(regs * chunk * 4);
  const mem = a.f32(0, a.end() / 4);
  for (const c of constants)
    mem.fill(c.v, (regBase >> 2) + c.reg * chunk, (regBase >> 2) + (c.reg + 1) * chunk);
  for (let start = 0; start < n; start += chunk) {
    const len = Math.min(chunk, n - start);
    for (const s of streamed) mem.set(s.data.subarray(start, start + len), (regBase >> 2) + s.reg * chunk);
    k.run(prog, regBase, start, len);
  }
  return outputs.map((o, i) => {
    const p = places[i];
    switch (o.kind) {
      case "values":
        return a.f32(p, n).slice();
      case "sum64": {
        const s = a.f64(p, 4);
        // One partial sum per lane of the four-float vectors.
        return s[0] + s[1] + (s[2] + s[3]);
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
