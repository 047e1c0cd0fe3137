/**
 * Reductions computed later, together: a loss and the gradients of its broadcast parameters are all sums over
 * the same elements (for w * x + b: the squared errors, the errors, the errors times x), so computing them in
 * one fused pass reads the data once instead of once per sum.
 *
 * A deferred tensor's values are captured when its op runs (its expression holds constants by value and
 * parameters by copy, see expr.ts), so computing later gives exactly the numbers computing at once would.
 * Reading any deferred tensor's data settles every one pending, grouped by element count into shared
 * passes; the queue is bounded, so values nobody reads cannot pile up.
 */
import { installTensorHooks } from "../tensor.ts";
import type { Deferred, Expr, Output, Result } from "./expr.ts";
import { runOutputs } from "./program.ts";

const MAX_PENDING = 32;
let pending: Deferred[] = [];

/** A reduction to compute with the next settle. */
export function defer(
  n: number,
  output: Output,
  finish: (result: Float32Array | Float64Array | number) => Float32Array,
): Deferred {
  const d: Deferred = { n, output, finish, result: null };
  pending.push(d);
  if (pending.length >= MAX_PENDING) settleAll();
  return d;
}

/**
 * Run the pending reductions over n elements, plus `extra` outputs, in one pass; the extras' results (values as
 * views of the kernels' memory with `views`).
 */
function runGroup(n: number, group: Deferred[], extra: Output[], views = false): Result[] {
  const results = runOutputs(n, [...extra, ...group.map((d) => d.output)], views);
  group.forEach((d, i) => {
    d.result = results[extra.length + i];
  });
  return results.slice(0, extra.length);
}

function settleAll(): void {
  const batch = pending;
  pending = [];
  const byN = new Map<number, Deferred[]>();
  for (const d of batch) {
    const group = byN.get(d.n);
    if (group) group.push(d);
    else byN.set(d.n, [d]);
  }
  for (const [n, group] of byN) runGroup(n, group, []);
}

/**
 * The values of a lazy expression over n elements. Pending reductions over as many elements ride along in
 * the same pass: a gradient that is both materialised (for a matrix product) and summed (for a bias) is
 * computed once.
 */
export function evaluate(n: number, expr: Expr): Float32Array {
  return evaluateWith(n, expr, false);
}

/**
 * evaluate's values as a view of the kernels' memory, for a reader that is done with them before any other
 * kernel call (a pooling pass over an activation): no array is made for them.
 */
export function evaluateView(n: number, expr: Expr): Float32Array {
  return evaluateWith(n, expr, true);
}

function evaluateWith(n: number, expr: Expr, views: boolean): Float32Array {
  const group = pending.filter((d) => d.n === n);
  if (group.length > 0) pending = pending.filter((d) => d.n !== n);
  return runGroup(n, group, [{ kind: "values", expr }], views)[0] as Float32Array;
}

/** The values of `d`, computing it (and everything else pending) first if needed. */
export function settle(d: Deferred): Float32Array {
  if (d.result === null) settleAll();
  if (d.result === null) throw new Error("a deferred reduction was lost before it was computed");
  return d.finish(d.result);
}

installTensorHooks({ evaluate, settle });
