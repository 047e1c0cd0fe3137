/**
 * Optimizers with torch.optim's update rules, argument names and defaults, each made from its spec
 * (optim/*.ts; see optim/spec.ts for what a spec declares and optim/loop.ts for the loop made from it).
 * `zeroGrad` is explicit: skipping it accumulates, as in PyTorch.
 *
 * Each update follows torch 1.13's single-tensor code op for op: state lives in the parameter's dtype, every
 * tensor op rounds to it, Python-number hyperparameters are cast to it, and `add_(x, alpha)` / `addcmul_` are
 * fused multiply-adds as torch's CPU kernels compute them. So float32 trajectories stay with PyTorch's over
 * hundreds of steps instead of drifting by rounding.
 */
import { type DType, roundHalf } from "./dtype.ts";
import { OPTIMIZER_SPECS } from "./optim/index.ts";
import { flagKey, type UpdateLoop, updateLoop } from "./optim/loop.ts";
import type { Hyper, HyperValue, OptimizerSpec } from "./optim/spec.ts";
import { markWrittenInPlace } from "./simd/fusable.ts";
import type { Tensor } from "./tensor.ts";

export type { Hyper, HyperDecl, HyperValue, OptimizerSpec } from "./optim/spec.ts";
export { OPTIMIZER_SPECS };

/**
 * One parameter's state, as torch's `optimizer.state[p]`: its buffers (one value per element, in double
 * holding values of the parameter's dtype) and its scalars (`step`...).
 */
export type ParamState = Record<string, Float64Array | number>;

/** Everything an optimizer holds, as torch's `state_dict()`: hyperparameters, and state by parameter index. */
export interface OptimizerStateDict {
  hyper: Hyper;
  state: (ParamState | undefined)[];
}

/** Rounding to the parameter's dtype: what storing a tensor op's result does in torch. */
function rounder(dtype: DType): (x: number) => number {
  if (dtype === "float32") return Math.fround;
  if (dtype === "float16") return roundHalf;
  return (x) => x;
}

function copyState(s: ParamState): ParamState {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, typeof v === "number" ? v : v.slice()]));
}

/**
 * A parameter's state, and what its steps reuse while the flags stay the same: the generated loop, the list of
 * buffers it takes and the uniforms' array (a tiny graph's step is mostly this bookkeeping).
 */
interface StepState {
  scalars: Record<string, number>;
  buffers: Record<string, Float64Array>;
  prepared?: { key: number; dtype: DType; loop: UpdateLoop; bufs: (Float64Array | null)[]; u: Float64Array };
}

export class Optimizer {
  private readonly h: Hyper;
  /** Per parameter: its scalars and its buffers, kept apart so the spec's `values` sees numbers only. */
  private readonly state = new Map<Tensor, StepState>();

  constructor(
    readonly spec: OptimizerSpec,
    readonly params: Tensor[],
    opts: Partial<Hyper> = {},
  ) {
    for (const p of params)
      if (!p.isLeaf || !p.requiresGrad)
        throw new Error(
          `optimizer: can only optimize leaf tensors that require grad (${p.name ?? "a parameter"} does not)`,
        );
    const h = defaultHyper(spec);
    for (const [k, v] of Object.entries(opts)) if (v !== undefined) h[k] = v;
    spec.check?.(h);
    this.h = h;
    for (const p of params) markWrittenInPlace(p.data);
  }

  /** The current hyperparameters (a copy). */
  get hyper(): Hyper {
    return { ...this.h };
  }

  /** Hyperparameters can change between steps (the UI's learning-rate slider), as param_groups allow. */
  setHyper(name: string, value: HyperValue): void {
    this.h[name] = value;
  }

  /** `optimizer.zero_grad(set_to_none=True)`. */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  step(): void {
    const { spec, h } = this;
    for (const p of this.params) {
      if (!p.grad) continue;
      let s = this.state.get(p);
      if (!s) {
        s = { scalars: spec.scalars?.(h) ?? {}, buffers: {} };
        this.state.set(p, s);
      }
      const { scalars, buffers } = s;
      const flags = spec.flagsOf(h, (name) => name in buffers, scalars);
      const R = rounder(p.dtype);
      const key = flagKey(spec, flags);
      let prep = s.prepared;
      if (!prep || prep.key !== key || prep.dtype !== p.dtype) {
        const n = p.numel;
        const bufs: (Float64Array | null)[] = [];
        for (const b of spec.buffers) {
          if (b.usedIf !== undefined && !flags[b.usedIf]) {
            bufs.push(null);
            continue;
          }
          buffers[b.name] ??= new Float64Array(n).fill(R(b.init?.(h) ?? 0));
          bufs.push(buffers[b.name]);
        }
        const loop = updateLoop(spec, flags, p.dtype);
        prep = { key, dtype: p.dtype, loop, bufs, u: new Float64Array(spec.uniforms.length) };
        s.prepared = prep;
      }
      const values = spec.values(h, scalars);
      const names = spec.uniforms;
      for (let k = 0; k < names.length; k++) prep.u[k] = R(values[names[k]]);
      // Pending expressions that read this array (views of p included) must copy it from now on.
      markWrittenInPlace(p.data);
      prep.loop(p.data, p.grad.data, prep.bufs, prep.u);
      p.version++;
    }
  }

  /** One parameter's state (its buffers live: copy what you keep), or undefined before its first step. */
  stateOf(p: Tensor): Readonly<ParamState> | undefined {
    const s = this.state.get(p);
    return s && { ...s.scalars, ...s.buffers };
  }

  /** Replace one parameter's state (a copy of `s` is kept); undefined forgets it, as before a first step. */
  setStateOf(p: Tensor, s: ParamState | undefined): void {
    if (!this.params.includes(p)) throw new Error("optimizer: that tensor is not one of its parameters");
    if (!s) {
      this.state.delete(p);
      return;
    }
    const mine = { scalars: {} as Record<string, number>, buffers: {} as Record<string, Float64Array> };
    for (const [k, v] of Object.entries(s))
      if (typeof v === "number") mine.scalars[k] = v;
      else mine.buffers[k] = v.slice();
    this.state.set(p, mine);
  }

  /** A copy of everything the optimizer holds, by parameter index (torch's `state_dict()`). */
  stateDict(): OptimizerStateDict {
    return {
      hyper: structuredClone(this.h),
      state: this.params.map((p) => {
        const s = this.stateOf(p);
        return s && copyState(s);
      }),
    };
  }

  /** Continue from a `stateDict()` of an optimizer of the same kind over as many parameters. */
  loadStateDict(d: OptimizerStateDict): void {
    if (d.state.length !== this.params.length)
      throw new Error(
        `optimizer: the state has ${d.state.length} parameters, this optimizer ${this.params.length}`,
      );
    this.spec.check?.(d.hyper);
    for (const [k, v] of Object.entries(d.hyper)) this.h[k] = structuredClone(v);
    this.params.forEach((p, i) => {
      this.setStateOf(p, d.state[i]);
    });
  }
}

/** torch's defaults of a spec's arguments. */
export function defaultHyper(spec: OptimizerSpec): Hyper {
  return Object.fromEntries(spec.hyper.map((d) => [d.name, structuredClone(d.default)]));
}

/** The spec of an optimizer by name (torch.optim's class name). */
export function optimizerSpec(name: string): OptimizerSpec {
  const spec = OPTIMIZER_SPECS.find((s) => s.name === name);
  if (!spec) throw new Error(`no optimizer named '${name}'`);
  return spec;
}

type Name = (typeof OPTIMIZER_SPECS)[number]["name"];
/** A torch.optim-style constructor: `new OPTIMIZERS.Adam(params, { lr: 0.01 })`. */
export type OptimizerClass = new (params: Tensor[], opts?: Partial<Hyper>) => Optimizer;

export const OPTIMIZERS = Object.fromEntries(
  OPTIMIZER_SPECS.map((spec) => [
    spec.name,
    class extends Optimizer {
      constructor(params: Tensor[], opts: Partial<Hyper> = {}) {
        super(spec, params, opts);
      }
    },
  ]),
) as Record<Name, OptimizerClass>;
export type OptimizerName = Name;

export const { SGD, Adam, AdamW, RMSprop, Adagrad } = OPTIMIZERS;
export type SGD = Optimizer;
export type Adam = Optimizer;
export type AdamW = Optimizer;
export type RMSprop = Optimizer;
export type Adagrad = Optimizer;
