/**
 * One declaration per optimizer: torch's name, arguments and defaults, the state it keeps per parameter, the
 * scalars it computes once per step on the host (bias corrections, step sizes), and the per-element update
 * written once in a small expression language. From it come the CPU update loop (loop.ts), the WebGPU kernel
 * with named uniforms (src/gpu/optim.ts), the node kind and its PyTorch code (src/nodes/optimizers.ts).
 *
 * The update follows torch 1.13's single-tensor code op for op. Every arithmetic node rounds to the
 * parameter's dtype, as storing a tensor op's result does in torch; `fma` is one rounding, as torch's CPU
 * kernels compute `add_(x, alpha=a)` and `addcmul_`. Per-step values are computed in double, as Python does,
 * then rounded to the parameter's dtype where they meet a tensor.
 */

/** An expression over one element: a name (see OptimizerSpec for what names mean), or an operation. */
export type OptExpr =
  | string
  | number
  | {
      readonly op: "add" | "sub" | "mul" | "div" | "max" | "fma" | "sqrt" | "abs" | "neg";
      readonly args: OptExpr[];
    }
  | { readonly op: "select"; readonly flag: string; readonly then: OptExpr; readonly else: OptExpr };

/**
 * A statement: `let` a new local, `set` a local, a state buffer's element or the parameter ("p"), or run
 * statements only when a flag holds (`when("!flag", ...)` when it does not).
 */
export type OptStmt =
  | { readonly k: "let"; readonly name: string; readonly value: OptExpr }
  | { readonly k: "set"; readonly name: string; readonly value: OptExpr }
  | { readonly k: "when"; readonly flag: string; readonly then: OptStmt[]; readonly else: OptStmt[] };

const op =
  <O extends "add" | "sub" | "mul" | "div" | "max" | "fma" | "sqrt" | "abs" | "neg">(o: O) =>
  (...args: OptExpr[]): OptExpr => ({ op: o, args });

/** a + b, a - b, a * b, a / b, each rounded once. */
export const add = op("add");
export const sub = op("sub");
export const mul = op("mul");
export const div = op("div");
/** max(a, b) (exact). */
export const max = op("max");
/** round(a * b + c): one rounding, as torch's `c.add_(b, alpha=a)` and `c.addcmul_(a, b)`. */
export const fma = op("fma");
export const sqrt = op("sqrt");
/** |a| and -a (exact). */
export const abs = op("abs");
export const neg = op("neg");
/** `then` where the flag holds, else `else`. */
export const select = (flag: string, then: OptExpr, otherwise: OptExpr): OptExpr => ({
  op: "select",
  flag,
  then,
  else: otherwise,
});
export const let_ = (name: string, value: OptExpr): OptStmt => ({ k: "let", name, value });
export const set = (name: string, value: OptExpr): OptStmt => ({ k: "set", name, value });
export const when = (flag: string, then: OptStmt[], otherwise: OptStmt[] = []): OptStmt => ({
  k: "when",
  flag,
  then,
  else: otherwise,
});

export type HyperValue = number | boolean | number[];
export type Hyper = Record<string, HyperValue>;

/** One torch argument: its default and what the inspector shows. */
export interface HyperDecl {
  readonly name: string;
  readonly default: HyperValue;
  readonly help: string;
  /** Bounds the inspector enforces (numbers and pairs; default min 0). */
  readonly min?: number;
  readonly max?: number;
  /** A slider step hint. */
  readonly step?: number;
}

/** A state buffer kept per parameter element (torch's `state[p][name]`). */
export interface BufferDecl {
  readonly name: string;
  /** Its starting value (rounded to the parameter's dtype); 0 when absent. */
  readonly init?: (h: Hyper) => number;
  /** The flag under which torch creates and uses it; always when absent. */
  readonly usedIf?: string;
}

export interface OptimizerSpec<N extends string = string> {
  /** torch.optim's class name, which is also the node kind's. */
  readonly name: N;
  readonly description: string;
  /** torch's arguments, in its order, with its defaults (foreach and the like left out). */
  readonly hyper: readonly HyperDecl[];
  /** torch's argument checks, with its messages. */
  readonly check?: (h: Hyper) => void;
  readonly buffers: readonly BufferDecl[];
  /** Per-parameter scalar state (torch's `state['step']`, NAdam's `mu_product`...) and its starting values. */
  readonly scalars?: (h: Hyper) => Record<string, number>;
  /** Names of the per-step numbers `values` returns, in the WebGPU uniform slot's order. */
  readonly uniforms: readonly string[];
  /** Names of the per-step booleans `flags` returns (the update's branches), after the numbers. */
  readonly flags: readonly string[];
  /**
   * The step's branches from the hyperparameters and the scalar state before the step; `started(buffer)`
   * tells whether a buffer was created by an earlier step (SGD's first momentum step copies the gradient).
   */
  readonly flagsOf: (
    h: Hyper,
    started: (buffer: string) => boolean,
    s: Readonly<Record<string, number>>,
  ) => Record<string, boolean>;
  /**
   * The step's numbers, computed in double from the hyperparameters and the scalar state, which it advances
   * (`s.step += 1`...) as torch does before its update.
   */
  readonly values: (h: Hyper, s: Record<string, number>) => Record<string, number>;
  /**
   * The update of one element. Names: "p" (the parameter before the step; set it to step it), "g" (its
   * gradient), the buffers, the `uniforms` and the locals it declares with `let_` (at the top level, not
   * inside `when`). Numbers are literals (exact in float32).
   */
  readonly update: readonly OptStmt[];
}

export function defineOptimizer<const N extends string>(spec: OptimizerSpec<N>): OptimizerSpec<N> {
  return spec;
}

/** The number a hyperparameter holds. */
export function num(h: Hyper, name: string): number {
  return h[name] as number;
}

/** A pair's entries (betas). */
export function pair(h: Hyper, name: string): [number, number] {
  return h[name] as [number, number];
}

export function checkNonNeg(name: string, v: number): void {
  if (!(v >= 0)) throw new RangeError(`Invalid ${name}: ${v}`);
}

// Arguments most optimizers share, declared once.
export const lr = (def: number): HyperDecl => ({
  name: "lr",
  default: def,
  step: 0.001,
  help: "learning rate: how far each step moves the parameters",
});
export const eps = (def: number): HyperDecl => ({
  name: "eps",
  default: def,
  help: "added to the denominator for stability",
});
export const weightDecay = (def = 0): HyperDecl => ({
  name: "weight_decay",
  default: def,
  help: "L2 penalty (AdamW: decoupled decay)",
});
export const maximize: HyperDecl = {
  name: "maximize",
  default: false,
  help: "maximize the objective instead of minimizing it",
};
export const betas: HyperDecl = {
  name: "betas",
  default: [0.9, 0.999],
  min: 0,
  max: 1,
  help: "decay rates of the running averages of the gradient and its square",
};

/**
 * The gradient as most torch optimizers first take it, into a new local: negated under `maximize` (for the
 * optimizers that have it), then `grad.add(param, alpha=weight_decay)` under `has_weight_decay`.
 */
export function gradIn(local: string, withMaximize = true): OptStmt[] {
  return [
    let_(local, withMaximize ? select("maximize", neg("g"), "g") : "g"),
    when("has_weight_decay", [set(local, fma("weight_decay", "p", local))]),
  ];
}

/** The running averages of Adam and its kin: `exp_avg` of the gradient `local`, `exp_avg_sq` of its square. */
export function adamMoments(local: string): OptStmt[] {
  return [
    // exp_avg.mul_(beta1).add_(grad, alpha=1-beta1)
    set("exp_avg", fma("one_minus_beta1", local, mul("exp_avg", "beta1"))),
    // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1-beta2)
    set("exp_avg_sq", fma(mul("one_minus_beta2", local), local, mul("exp_avg_sq", "beta2"))),
  ];
}

/** `values` plus the uniforms adamMoments reads, from `betas` (no object spread: this runs every step). */
export function withBetas(h: Hyper, values: Record<string, number>): Record<string, number> {
  const [b1, b2] = pair(h, "betas");
  values.beta1 = b1;
  values.beta2 = b2;
  values.one_minus_beta1 = 1 - b1;
  values.one_minus_beta2 = 1 - b2;
  return values;
}
export const BETA_UNIFORMS = ["beta1", "beta2", "one_minus_beta1", "one_minus_beta2"] as const;

/** torch's checks on lr, eps, weight_decay and betas, for the arguments an optimizer has. */
export function checkCommon(h: Hyper): void {
  checkNonNeg("learning rate", num(h, "lr"));
  if ("eps" in h) checkNonNeg("epsilon value", num(h, "eps"));
  if ("betas" in h)
    for (const [k, b] of pair(h, "betas").entries())
      if (!(b >= 0 && b < 1)) throw new RangeError(`Invalid beta parameter at index ${k}: ${b}`);
  if ("weight_decay" in h) checkNonNeg("weight_decay value", num(h, "weight_decay"));
}

/** Every name an update reads or writes, for checks. */
export function namesIn(stmts: readonly OptStmt[]): {
  reads: Set<string>;
  writes: Set<string>;
  flags: Set<string>;
} {
  const reads = new Set<string>();
  const writes = new Set<string>();
  const flags = new Set<string>();
  const expr = (e: OptExpr): void => {
    if (typeof e === "number") return;
    if (typeof e === "string") reads.add(e);
    else if (e.op === "select") {
      flags.add(e.flag.replace(/^!/, ""));
      expr(e.then);
      expr(e.else);
    } else e.args.forEach(expr);
  };
  const walk = (ss: readonly OptStmt[]): void => {
    for (const s of ss) {
      if (s.k === "when") {
        flags.add(s.flag.replace(/^!/, ""));
        walk(s.then);
        walk(s.else);
      } else {
        expr(s.value);
        if (s.k === "set") writes.add(s.name);
      }
    }
  };
  walk(stmts);
  return { reads, writes, flags };
}
