/**
 * Op tracing: while a tracer is installed, every runtime op reports its inputs, attributes and outputs. The
 * WebGPU backend runs one forward pass on the CPU under a tracer and compiles what it saw into GPU kernels, so
 * node kinds need no GPU code of their own. With no tracer installed the hooks cost one null check.
 *
 * Ops built from other ops report both the outer call and the inner ones; the outer call reports last, so a
 * consumer that keeps the latest producer of each tensor sees the op the caller asked for (inner calls then
 * produce nothing reachable).
 */
import type { Tensor } from "./tensor.ts";

/**
 * Every op the runtime reports. The WebGPU backend lowers each of them (src/gpu/capture.ts switches over this
 * union with no default), so an op without a GPU kernel is a type error, not a run-time one.
 */
export type TraceOpName =
  | "unary"
  | "binary"
  | "where"
  | "cast"
  | "reshape"
  | "permute"
  | "expand"
  | "sum_to_shape"
  | "narrow"
  | "cat"
  | "gather"
  | "index_select"
  | "sum"
  | "mean"
  | "extreme_all"
  | "extreme_dim"
  | "norm"
  | "logsumexp"
  | "softmax"
  | "log_softmax"
  | "matmul"
  /** F.max_pool2d over (N, C, H, W): values and each window's picked plane index (attrs.win: PoolWindow). */
  | "max_pool2d"
  /** F.avg_pool2d over (N, C, H, W): inputs [x, divisors (Ho, Wo)] (attrs.win: PoolWindow). */
  | "avg_pool2d"
  /** im2col (F.unfold) of (N, C, H, W) to (N, C * kH * kW, Ho * Wo) (attrs.win: PoolWindow, attrs.out: [Ho, Wo]). */
  | "unfold"
  /** col2im (F.fold), unfold's adjoint, of (N, C * kH * kW, Ho * Wo) to (N, C, H, W) (attrs as unfold's). */
  | "fold"
  | "pointwise_loss"
  | "nll_loss"
  | "custom_function"
  /**
   * A tensor drawn from torch's generator (dropout's scaled `bernoulli_` mask): no inputs, a new value at every
   * call. A backend that replays the traced ops draws it again for each step (drawMask).
   */
  | "bernoulli"
  /** An in-place write of state torch updates during the forward (running statistics): no value, no gradient. */
  | "state_update";

export interface TraceEvent {
  /** The op's runtime name. */
  op: TraceOpName;
  /** Tensor inputs in the op's own order (null where an optional input is absent). */
  inputs: readonly (Tensor | null)[];
  attrs: Readonly<Record<string, unknown>>;
  outputs: readonly Tensor[];
  /** The graph node being evaluated when the op ran (see traceScope), for messages. */
  scope: string | null;
}

export type Tracer = (e: TraceEvent) => void;

let tracer: Tracer | null = null;
let scope: string | null = null;

/** Run `fn` with `t` receiving every op it performs. Tracers do not nest: the inner one wins for its extent. */
export function withTracer<T>(t: Tracer, fn: () => T): T {
  const prev = tracer;
  tracer = t;
  try {
    return fn();
  } finally {
    tracer = prev;
  }
}

export function isTracing(): boolean {
  return tracer !== null;
}

/** Label the ops `fn` performs with a graph node's name, so backend messages can name the node. */
export function traceScope<T>(label: string, fn: () => T): T {
  if (tracer === null) return fn();
  const prev = scope;
  scope = label;
  try {
    return fn();
  } finally {
    scope = prev;
  }
}

/** Report an op's result to the tracer (if any) and return it unchanged. */
export function traceOp<T extends Tensor | { values: Tensor; indices: Tensor }>(
  op: TraceOpName,
  inputs: readonly (Tensor | null | undefined)[],
  attrs: Record<string, unknown>,
  out: T,
): T {
  if (tracer === null) return out;
  const outputs = "values" in out ? [out.values, out.indices] : [out as Tensor];
  // An op that returned one of its inputs (reshape to the same shape, cast to the same dtype) did nothing.
  if (outputs.some((o) => inputs.includes(o))) return out;
  tracer({ op, inputs: inputs.map((t) => t ?? null), attrs, outputs, scope });
  return out;
}
