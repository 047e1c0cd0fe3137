/**
 * The Tensor: a shape, a dtype, a flat row-major typed array, and what autograd needs (requiresGrad, grad,
 * the function that made it). Ops live in ./ops; this file only holds the data structure and its creation.
 */

import { allocate, coerce, type DType, isFloating, type Storage, scalarDType } from "./dtype.ts";
import { normalValues, type RandomFloat, TorchGenerator, uniformValues } from "./random/index.ts";
import { fmtShape, numel, type Shape, ShapeError } from "./shape.ts";
import type { Deferred, Expr } from "./simd/expr.ts";

/** The backward function of the op that produced a tensor (autograd.ts builds and runs them). */
export interface GradFn {
  /** torch's grad_fn name, e.g. "MulBackward0", shown in messages and node previews. */
  readonly name: string;
  readonly inputs: readonly (Tensor | null)[];
  /** Gradients for each input (null where none flows), given the gradient of the output. */
  backward(grad: Tensor): (Tensor | null)[];
  freed: boolean;
  /** Whether the op keeps tensors for its backward; only those refuse a second pass once freed, as in torch. */
  savesTensors: boolean;
}

/**
 * What the Tensor calls on modules above it, installed by them when they load: so this file, which nearly
 * every other imports, imports none of them back (no import circle). autograd.ts installs `backward`;
 * simd/deferred.ts installs `evaluate` and `settle`, and every producer of a pending tensor imports it first.
 */
interface Hooks {
  backward(root: Tensor, gradient: Tensor | number | undefined, retainGraph: boolean): void;
  evaluate(n: number, expr: Expr): Float32Array;
  settle(d: Deferred): Float32Array;
}
const hooks: Partial<Hooks> = {};

export function installTensorHooks(h: Partial<Hooks>): void {
  Object.assign(hooks, h);
}

export type NestedArray = number | boolean | NestedArray[];

export class Tensor {
  readonly shape: readonly number[];
  /** Set by ops that record autograd history, and by `requiresGrad_` on leaves. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf, exactly as torch's `.grad`: summed over backward calls until zeroed. */
  grad: Tensor | null = null;
  /** The backward function of the op that produced this tensor; null for leaves. */
  gradFn: GradFn | null = null;
  /** Bumped by in-place writes (optimizer steps), so caches keyed by tensor can tell it changed. */
  version = 0;
  /** A display name (the graph node's name), used in messages. */
  name?: string;
  readonly numel: number;
  /** The values, or null while they are pending (`lazy` or `deferred`). */
  private stored: Storage | null;
  /**
   * A float32 elementwise expression standing for the values until something reads `data` (simd/expr.ts):
   * consumers that fuse (sums, losses, gradients) evaluate it in one pass without a full-size array.
   */
  lazy: Expr | null;
  /**
   * A reduction of an expression waiting to be computed together with the others pending (simd/deferred.ts),
   * so a loss and its parameters' gradients over the same data take one pass instead of three.
   */
  deferred: Deferred | null;
  /** For a view (reshape, detach) of a pending tensor: that tensor, whose values the view shares once computed. */
  private viewOf: Tensor | null = null;

  constructor(
    data: Storage | null,
    shape: Shape,
    readonly dtype: DType,
    lazy: Expr | null = null,
    deferred: Deferred | null = null,
  ) {
    // Shapes are frozen, so one taken from another tensor can be shared instead of copied (ops do this a lot).
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze([...shape]);
    this.numel = numel(shape);
    this.stored = data;
    this.lazy = data ? null : lazy;
    this.deferred = data ? null : deferred;
    if (data === null && lazy === null && deferred === null)
      throw new Error("a tensor needs its data or a pending computation of it");
    if (data && data.length !== this.numel)
      throw new ShapeError(
        `tensor data has ${data.length} elements but shape ${fmtShape(shape)} needs ${this.numel}`,
      );
  }

  /** The flat row-major values; a lazy tensor computes and keeps them on first read. */
  get data(): Storage {
    return this.stored ?? this.materialize();
  }

  set data(values: Storage) {
    if (values.length !== this.numel)
      throw new ShapeError(
        `tensor data has ${values.length} elements but shape ${fmtShape(this.shape)} needs ${this.numel}`,
      );
    this.stored = values;
    this.lazy = null;
    this.deferred = null;
  }

  /** Whether the values exist as an array (not pending as an expression). */
  get isMaterialized(): boolean {
    return this.stored !== null;
  }

  private materialize(): Storage {
    if (this.viewOf) this.stored = this.viewOf.data;
    else if (this.deferred) this.stored = hooks.settle!(this.deferred);
    else this.stored = hooks.evaluate!(this.numel, this.lazy!);
    this.viewOf = null;
    this.lazy = null;
    this.deferred = null;
    return this.stored;
  }

  get ndim(): number {
    return this.shape.length;
  }

  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** The single value of a one-element tensor, like `tensor.item()`. */
  item(): number {
    if (this.numel !== 1)
      throw new ShapeError(`a Tensor with ${this.numel} elements cannot be converted to a scalar`);
    return this.data[0];
  }

  /** Nested arrays, like `tensor.tolist()`. */
  toList(): NestedArray {
    const flat = Array.from(this.data, (v) => (this.dtype === "bool" ? v !== 0 : v));
    if (this.shape.length === 0) return flat[0];
    const build = (dim: number, offset: number): NestedArray[] => {
      const n = this.shape[dim];
      const step = numel(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++)
        out.push(dim === this.shape.length - 1 ? flat[offset + i] : build(dim + 1, offset + i * step));
      return out;
    };
    return build(0, 0);
  }

  /** Enable gradient tracking on a leaf, like `requires_grad_()`. */
  requiresGrad_(flag = true): this {
    if (!this.isLeaf && !flag) throw new Error("you can only change requires_grad flags of leaf variables");
    if (flag && !isFloating(this.dtype))
      throw new Error(`only tensors of floating point dtype can require gradients (got ${this.dtype})`);
    this.requiresGrad = flag;
    return this;
  }

  /** A tensor sharing this one's data but cut from the autograd graph, like `detach()`. */
  detach(): Tensor {
    return this.withShape(this.shape);
  }

  /**
   * The same values viewed with another shape of as many elements, no autograd history. Pending values stay
   * pending: their row-major order does not depend on the shape.
   */
  withShape(shape: Shape): Tensor {
    const view = new Tensor(this.stored, shape, this.dtype, this.lazy, this.deferred);
    if (this.stored === null) view.viewOf = this.viewOf ?? this;
    return view;
  }

  /** An independent copy of the data, like `clone().detach()`; pending values stay pending (each settles into its own array). */
  copy(): Tensor {
    if (this.stored === null) return new Tensor(null, this.shape, this.dtype, this.lazy, this.deferred);
    return new Tensor(this.stored.slice(), this.shape, this.dtype);
  }

  /**
   * Reverse-mode autodiff from this tensor, like `tensor.backward(gradient, retain_graph)`.
   * Gradients accumulate into every leaf's `.grad` that requires grad.
   */
  backward(gradient?: Tensor | number, opts: { retainGraph?: boolean } = {}): void {
    if (!hooks.backward)
      throw new Error("autograd is not loaded: import the runtime through src/runtime/index.ts");
    hooks.backward(this, gradient, opts.retainGraph ?? false);
  }

  toString(): string {
    return `tensor(${JSON.stringify(this.toList())}, dtype=${this.dtype}${this.requiresGrad ? ", requires_grad" : ""})`;
  }
}

function inferShapeOf(data: NestedArray, path: string): number[] {
  if (!Array.isArray(data)) return [];
  if (data.length === 0) return [0];
  const inner = inferShapeOf(data[0], `${path}[0]`);
  for (let i = 1; i < data.length; i++) {
    const s = inferShapeOf(data[i], `${path}[${i}]`);
    if (s.length !== inner.length || s.some((d, k) => d !== inner[k]))
      throw new ShapeError(
        `tensor data is ragged: ${path}[${i}] has shape ${fmtShape(s)} but ${path}[0] has ${fmtShape(inner)}`,
      );
  }
  return [data.length, ...inner];
}

function flatten(data: NestedArray, out: number[]): void {
  if (Array.isArray(data)) for (const d of data) flatten(d, out);
  else out.push(typeof data === "boolean" ? (data ? 1 : 0) : data);
}

function defaultDTypeOf(data: NestedArray): DType {
  const flat: (number | boolean)[] = [];
  const walk = (d: NestedArray) => (Array.isArray(d) ? d.forEach(walk) : flat.push(d));
  walk(data);
  if (flat.length > 0 && flat.every((v) => typeof v === "boolean")) return "bool";
  // torch.tensor([1, 2]) is int64, torch.tensor([1., 2]) float32; JS cannot tell 1. from 1, so any
  // non-integer makes it floating and integer-valued data stays int64 unless a dtype is given.
  return flat.some((v) => typeof v === "number" && scalarDType(v) !== "int64") ? "float32" : "int64";
}

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  name?: string;
}

/** `torch.tensor(data, dtype=..., requires_grad=...)` from nested arrays. */
export function tensor(data: NestedArray | Storage, opts: TensorOptions = {}): Tensor {
  let shape: number[];
  let flat: ArrayLike<number>;
  if (ArrayBuffer.isView(data)) {
    shape = [data.length];
    flat = data;
  } else {
    shape = inferShapeOf(data, "data");
    const f: number[] = [];
    flatten(data, f);
    flat = f;
  }
  const dtype =
    opts.dtype ??
    (ArrayBuffer.isView(data)
      ? data instanceof Float64Array
        ? "float64"
        : "float32"
      : defaultDTypeOf(data));
  if (dtype === "int32" || dtype === "int64") checkIntegerRange(flat, shape, dtype);
  return fromFlat(flat, shape, dtype, opts);
}

/** The integers each integer dtype holds: [min, max + 1). */
const INTEGER_RANGE = { int32: [-(2 ** 31), 2 ** 31], int64: [-(2 ** 63), 2 ** 63] } as const;

/** Why an integer dtype cannot hold `v` (torch refuses such a value, never wraps it), or undefined when it can. */
export function integerOverflow(v: number, dtype: DType): string | undefined {
  if (dtype !== "int32" && dtype !== "int64") return undefined;
  const [lo, end] = INTEGER_RANGE[dtype];
  const t = Math.trunc(v);
  if (t >= lo && t < end) return undefined;
  return `${v} cannot be converted to ${dtype} without overflow (${dtype} holds ${BigInt(lo)} to ${BigInt(end) - 1n})`;
}

/** Like torch.tensor: a value an integer dtype cannot hold is refused (naming where it is), never wrapped. */
function checkIntegerRange(flat: ArrayLike<number>, shape: Shape, dtype: "int32" | "int64"): void {
  const [lo, end] = INTEGER_RANGE[dtype];
  for (let i = 0; i < flat.length; i++) {
    const v = Math.trunc(flat[i]);
    if (v >= lo && v < end) continue;
    let index = "";
    for (let d = shape.length - 1, rest = i; d >= 0; d--) {
      index = `[${rest % shape[d]}]${index}`;
      rest = Math.floor(rest / shape[d]);
    }
    throw new RangeError(
      `data${index} = ${flat[i]} cannot be converted to ${dtype} without overflow (${dtype} holds ${BigInt(lo)} to ${BigInt(end) - 1n})`,
    );
  }
}

/** A tensor from flat row-major values and a shape. */
export function fromFlat(
  flat: ArrayLike<number>,
  shape: Shape,
  dtype: DType = "float32",
  opts: TensorOptions = {},
): Tensor {
  const store = allocate(dtype, flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== "number")
      throw new TypeError(`tensor data must be numbers (element ${i} is ${typeof v})`);
    store[i] = coerce(dtype, v);
  }
  const t = new Tensor(store, shape, dtype);
  if (opts.name) t.name = opts.name;
  if (opts.requiresGrad) t.requiresGrad_(true);
  return t;
}

export function full(
  shape: Shape,
  value: number,
  dtype: DType = "float32",
  opts: TensorOptions = {},
): Tensor {
  const overflow = integerOverflow(value, dtype);
  if (overflow) throw new RangeError(`fill value ${overflow}`);
  const store = allocate(dtype, numel(shape));
  store.fill(coerce(dtype, value));
  const t = new Tensor(store, shape, dtype);
  if (opts.requiresGrad) t.requiresGrad_(true);
  return t;
}

export const zeros = (shape: Shape, dtype: DType = "float32", opts?: TensorOptions) =>
  full(shape, 0, dtype, opts);
export const ones = (shape: Shape, dtype: DType = "float32", opts?: TensorOptions) =>
  full(shape, 1, dtype, opts);

export function scalar(value: number, dtype: DType = "float32"): Tensor {
  return full([], value, dtype);
}

/** `torch.arange(start, end, step)`: integer dtype when all three are integers, as torch does. */
export function arange(start: number, end: number, step = 1, dtype?: DType): Tensor {
  if (step === 0) throw new RangeError("arange: step must be nonzero");
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dt = dtype ?? ([start, end, step].every(Number.isInteger) ? "int64" : "float32");
  const flat = Array.from({ length: n }, (_, i) => start + i * step);
  return fromFlat(flat, [n], dt);
}

/** `torch.linspace(start, end, steps)`, computed the way torch does (symmetric from both ends). */
export function linspace(start: number, end: number, steps: number, dtype: DType = "float32"): Tensor {
  if (!Number.isInteger(steps) || steps < 0)
    throw new RangeError("linspace: number of steps must be non-negative");
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  const half = Math.floor(steps / 2);
  const flat = Array.from({ length: steps }, (_, i) =>
    i < half ? start + step * i : end - step * (steps - 1 - i),
  );
  return fromFlat(flat, [steps], dtype);
}

/**
 * A small seeded generator (xoshiro128**), so a graph's random tensors are the same on every run and machine.
 * It does not reproduce torch.manual_seed's stream (TorchGenerator does): tests and benchmarks use it for inputs.
 */
export class Rng {
  private s: Uint32Array;
  constructor(seed: number) {
    this.s = new Uint32Array(4);
    let x = seed >>> 0 || 0x9e3779b9;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }
  /** Uniform in [0, 1). */
  next(): number {
    const s = this.s;
    const r = Math.imul(((Math.imul(s[1], 5) << 7) | (Math.imul(s[1], 5) >>> 25)) >>> 0, 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ((s[3] << 11) | (s[3] >>> 21)) >>> 0;
    return r / 4294967296;
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/** `torch.manual_seed(seed); torch.rand(shape, dtype=dtype)` (float32 or float64), bit for bit. */
export function rand(shape: Shape, seed: number, dtype: DType = "float32"): Tensor {
  return fromFlat(uniformValues(new TorchGenerator(seed), numel(shape), randomFloat(dtype)), shape, dtype);
}

/** `torch.manual_seed(seed); torch.randn(shape, dtype=dtype)` (float32 or float64), bit for bit. */
export function randn(shape: Shape, seed: number, dtype: DType = "float32"): Tensor {
  return fromFlat(normalValues(new TorchGenerator(seed), numel(shape), randomFloat(dtype)), shape, dtype);
}

function randomFloat(dtype: DType): RandomFloat {
  if (dtype !== "float32" && dtype !== "float64")
    throw new Error(`random tensors are float32 or float64 (torch's generator), not ${dtype}`);
  return dtype;
}
