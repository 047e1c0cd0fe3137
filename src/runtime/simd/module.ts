/**
 * The WebAssembly SIMD kernels (assembly/, built into kernels.wasm.ts) and the memory they work in.
 *
 * The module is instantiated synchronously on first use, which Node and Web Workers allow for any size. Where
 * that fails (no WebAssembly SIMD, or a browser main thread that only compiles small modules synchronously),
 * the runtime keeps its plain JavaScript kernels, which compute the same values; an asynchronous compile is
 * started so later work can still use the module.
 *
 * Memory is one arena reset before each program: the program, registers, reduction state and copies of the
 * leaves' data. It grows as needed and is never shrunk; typed-array views are made afresh after a grow
 * (growing detaches the old buffer).
 */
import { KERNELS_WASM_BASE64 } from "./kernels.wasm.ts";

export interface KernelExports {
  memory: WebAssembly.Memory;
  CHUNK: WebAssembly.Global;
  CASCADE_STATE_BYTES: WebAssembly.Global;
  run(prog: number, regs: number, start: number, len: number): void;
  cascadeInit(state: number, n: number): void;
  cascadeFinish(state: number): number;
  heapBase(): number;
  /** assembly/matmul.ts: copy a strided right operand into contiguous rows of whole vectors. */
  mmPack(src: number, sr: number, sq: number, k: number, n: number, dst: number): void;
  /** assembly/pool.ts: max_pool2d's 2 x 2, stride 2 window over float32 planes (float64 indices). */
  maxPool2x2(
    src: number,
    planes: number,
    H: number,
    W: number,
    Ho: number,
    Wo: number,
    vals: number,
    idx: number,
  ): void;
  /** assembly/matmul.ts: 1 when every float32 value in the range is finite. */
  mmFinite(p: number, count: number): number;
  /** assembly/matmul.ts: out = L @ B with vectors across output columns (B's rows contiguous). */
  mmCols(
    pL: number,
    sAi: number,
    sAr: number,
    pB: number,
    sB: number,
    m: number,
    k: number,
    n: number,
    pO: number,
    masked: number,
  ): void;
  /** assembly/matmul.ts: out = L @ R with vectors across output rows (L's rows adjacent in memory). */
  mmRows(
    pL: number,
    sAr: number,
    pR: number,
    sBr: number,
    sBq: number,
    m: number,
    k: number,
    n: number,
    pO: number,
    masked: number,
  ): void;
}

let kernels: KernelExports | null = null;
let failure: string | null = null;
let tried = false;
let enabled = readEnabledFlag();

function readEnabledFlag(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.GRADWIRE_SIMD !== "0";
}

function bytes(): Uint8Array<ArrayBuffer> {
  const bin = atob(KERNELS_WASM_BASE64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function adopt(instance: WebAssembly.Instance): void {
  kernels = instance.exports as unknown as KernelExports;
}

/** The kernels, or null where WebAssembly SIMD is unavailable or switched off (the JS kernels run instead). */
export function simdKernels(): KernelExports | null {
  return enabled ? loadedKernels() : null;
}

/**
 * The kernels whether or not new work may use them: a lazy tensor made while they were on must still be
 * computable after they are switched off.
 */
export function loadedKernels(): KernelExports | null {
  if (kernels || tried) return kernels;
  tried = true;
  try {
    adopt(new WebAssembly.Instance(new WebAssembly.Module(bytes()), { env: { abort: abortHandler } }));
  } catch (e) {
    failure = e instanceof Error ? e.message : String(e);
    if (typeof WebAssembly === "object")
      WebAssembly.instantiate(bytes(), { env: { abort: abortHandler } }).then(
        (r) => {
          adopt(r.instance);
          failure = null;
        },
        () => {},
      );
  }
  return kernels;
}

function abortHandler(): never {
  throw new Error("gradwire SIMD kernel aborted");
}

/** Turn the SIMD kernels off or on (tests compare both paths; GRADWIRE_SIMD=0 starts with them off). */
export function setSimdEnabled(on: boolean): void {
  enabled = on;
}

/** What the runtime computes with, for status lines and tests. */
export function simdStatus(): { active: boolean; reason: string | null } {
  const k = simdKernels();
  return { active: k !== null, reason: k ? null : enabled ? failure : "switched off" };
}

let shared: Arena | null = null;
let sharedOwner: KernelExports | null = null;

/**
 * An arena over the module's memory for kernel calls that need scratch space (the matrix products of
 * fused/matmul.ts), reset for each caller. It starts at the heap base, as program.ts's arena does: that is
 * safe because every kernel call is synchronous, never nested, and copies its results out before it returns,
 * so no call's data outlives it.
 */
export function sharedArena(k: KernelExports): Arena {
  if (!shared || sharedOwner !== k) {
    shared = new Arena(k);
    sharedOwner = k;
  }
  shared.reset();
  return shared;
}

/** Bump allocation in the module's memory, 16-byte aligned, from the heap base; reset before each program. */
export class Arena {
  private top: number;
  constructor(private readonly k: KernelExports) {
    this.top = k.heapBase();
  }

  reset(): void {
    this.top = this.k.heapBase();
  }

  /** Allocate only past `end` from now on: data a pass left there (a view being read) stays intact. */
  keep(end: number): void {
    this.top = Math.max(this.top, (end + 16 + 15) & ~15);
  }

  /** `bytes` bytes plus one vector of slack (vector loops may read a few lanes past the end). */
  alloc(bytes: number): number {
    const ptr = this.top;
    this.top = (ptr + bytes + 16 + 15) & ~15;
    const need = this.top - this.k.memory.buffer.byteLength;
    if (need > 0) this.k.memory.grow(Math.ceil(need / 65536));
    return ptr;
  }

  /** The first byte past everything allocated. */
  end(): number {
    return this.top;
  }

  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, ptr, n);
  }

  f64(ptr: number, n: number): Float64Array {
    return new Float64Array(this.k.memory.buffer, ptr, n);
  }

  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.k.memory.buffer, ptr, n);
  }
}
