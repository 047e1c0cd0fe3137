/**
 * Reverse-mode autodiff with PyTorch's semantics: gradients accumulate into leaves' `.grad`, a graph is freed
 * after backward unless retained, no-grad scopes record nothing, and user functions bring their own backward.
 */
import { type GradFn, installTensorHooks, Tensor } from "./tensor.ts";
import { traceOp } from "./trace.ts";

export type { GradFn };

/**
 * grad_fns that keep only sizes, dims or nothing: torch lets backward run through these again after the graph
 * was freed (`(x + 1).sum().backward()` twice is fine), while mul, pow, matmul... raise.
 */
const KEEPS_NO_TENSORS = new Set([
  "AddBackward0",
  "SubBackward0",
  "NegBackward0",
  "SignBackward0",
  "SumBackward1",
  "MeanBackward1",
  "ViewBackward0",
  "PermuteBackward0",
  "ExpandBackward0",
  "CatBackward0",
  "NarrowBackward0",
  "ToCopyBackward0",
  "Im2ColBackward0",
  "Col2ImBackward0",
]);

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run `fn` with gradient recording off, like `with torch.no_grad():`. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Attach history to an op's output when any input requires grad. `backward` receives the output gradient and
 * returns one gradient per input; it runs with recording off, so it may use ordinary ops.
 */
export function record(
  out: Tensor,
  name: string,
  inputs: readonly (Tensor | null | undefined)[],
  backward: (grad: Tensor) => (Tensor | null)[],
): Tensor {
  if (!gradEnabled) return out;
  let any = false;
  const tracked = new Array<Tensor | null>(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    tracked[i] = t?.requiresGrad ? t : null;
    if (tracked[i]) any = true;
  }
  if (!any) return out;
  out.requiresGrad = true;
  out.gradFn = { name, inputs: tracked, backward, freed: false, savesTensors: !KEEPS_NO_TENSORS.has(name) };
  return out;
}

export class AutogradError extends Error {
  override name = "AutogradError";
}

/** Hooks set by ops.ts so the engine can add and shape gradients without importing every op here. */
export interface GradMath {
  add(a: Tensor, b: Tensor): Tensor;
  onesLike(t: Tensor): Tensor;
  fit(grad: Tensor, to: Tensor): Tensor;
}
let math: GradMath | null = null;
export function installGradMath(m: GradMath): void {
  math = m;
}

export function runBackward(root: Tensor, gradient: Tensor | number | undefined, retainGraph: boolean): void {
  if (!math)
    throw new AutogradError("autograd is not initialised: import the runtime through src/runtime/index.ts");
  const m = math;
  if (!root.requiresGrad)
    throw new AutogradError("element 0 of tensors does not require grad and does not have a grad_fn");
  let seed: Tensor;
  if (gradient === undefined) {
    if (root.numel !== 1) throw new AutogradError("grad can be implicitly created only for scalar outputs");
    seed = m.onesLike(root);
  } else if (typeof gradient === "number") {
    if (root.numel !== 1)
      throw new AutogradError(
        `a number gradient needs a one-element output; output[0] has a shape of [${root.shape}]`,
      );
    seed = m.fit(new Tensor(Float64Array.of(gradient), root.shape, "float64"), root);
  } else {
    // torch's _make_grads wants exactly the output's shape: no broadcasting, no reshaping.
    if (gradient.ndim !== root.ndim || gradient.shape.some((d, i) => d !== root.shape[i]))
      throw new AutogradError(
        `Mismatch in shape: grad_output[0] has a shape of [${gradient.shape}] and output[0] has a shape of [${root.shape}]`,
      );
    seed = m.fit(gradient, root);
  }

  if (root.gradFn === null) {
    accumulate(root, seed, m);
    return;
  }

  // Topological order of the recorded functions reachable from the root (iterative DFS, post-order).
  const order: GradFn[] = [];
  const seen = new Set<GradFn>();
  // The DFS stack as two parallel arrays (function, next input to visit), not one tuple per visit.
  const stackFn: GradFn[] = [root.gradFn];
  const stackAt: number[] = [0];
  seen.add(root.gradFn);
  while (stackFn.length) {
    const top = stackFn.length - 1;
    const fn = stackFn[top];
    const i = stackAt[top];
    if (i < fn.inputs.length) {
      stackAt[top] = i + 1;
      const child = fn.inputs[i]?.gradFn;
      if (child && !seen.has(child)) {
        seen.add(child);
        stackFn.push(child);
        stackAt.push(0);
      }
    } else {
      order.push(fn);
      stackFn.pop();
      stackAt.pop();
    }
  }
  order.reverse();

  const pending = new Map<GradFn, Tensor>([[root.gradFn, seed]]);
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    for (const fn of order) {
      const g = pending.get(fn);
      pending.delete(fn);
      if (!g) continue;
      if (fn.freed && fn.savesTensors)
        throw new AutogradError(
          "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Specify retainGraph: true if you need to backward through the graph a second time.",
        );
      const grads = fn.backward(g);
      for (let k = 0; k < fn.inputs.length; k++) {
        const input = fn.inputs[k];
        const gi = grads[k];
        if (!input || !gi) continue;
        const fitted = m.fit(gi, input);
        if (input.gradFn) {
          const acc = pending.get(input.gradFn);
          pending.set(input.gradFn, acc ? m.add(acc, fitted) : fitted);
        } else accumulate(input, fitted, m);
      }
    }
  } finally {
    gradEnabled = prev;
    if (!retainGraph) for (const fn of order) fn.freed = true;
  }
}
installTensorHooks({ backward: runBackward });

function accumulate(leaf: Tensor, g: Tensor, m: GradMath): void {
  if (!leaf.requiresGrad) return;
  // A fresh tensor each time, never aliasing another tensor's data: later in-place accumulation must not leak.
  leaf.grad = leaf.grad ? m.add(leaf.grad, g) : g.copy();
}

/** What a user-defined function's forward and backward can keep, like torch's `ctx`. */
export class FunctionContext {
  saved: Tensor[] = [];
  /** Anything else the forward wants to hand its backward. */
  readonly memo: Record<string, unknown> = {};
  saveForBackward(...ts: Tensor[]): void {
    this.saved = ts;
  }
}

export interface CustomFunction {
  name: string;
  forward(ctx: FunctionContext, ...inputs: Tensor[]): Tensor;
  backward(ctx: FunctionContext, grad: Tensor): (Tensor | null)[] | Tensor;
}

/**
 * `torch.autograd.Function.apply`: the forward runs without recording; the backward is the user's own, trusted
 * as PyTorch trusts it, so a wrong backward yields the wrong gradient exactly as it would in PyTorch.
 */
export function applyFunction(fn: CustomFunction, ...inputs: Tensor[]): Tensor {
  const ctx = new FunctionContext();
  const out = noGrad(() => fn.forward(ctx, ...inputs));
  // A forward returning an input as it is (`return x`) gets a new tensor, as torch returns a view: recording
  // the backward on the input itself would take away its place as a leaf.
  const result = out.gradFn === null && !inputs.includes(out) ? out : out.detach();
  const recorded = record(result, `${fn.name}Backward`, inputs, (g) => {
    const r = fn.backward(ctx, g);
    return Array.isArray(r) ? r : [r];
  });
  // Like torch: only a function that saved tensors (ctx.save_for_backward) refuses a second pass.
  if (recorded.gradFn) recorded.gradFn.savesTensors = ctx.saved.length > 0;
  // The WebGPU backend runs the forward's ops and replays this backward to build the gradient.
  return traceOp("custom_function", inputs, { fn, ctx }, recorded);
}
