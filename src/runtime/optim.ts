/**
 * Optimizers with torch.optim's update rules, argument names and defaults. Each keeps per-parameter state in
 * float64 and writes parameters back in their own dtype. `zeroGrad` is explicit: skipping it accumulates.
 */
import { coerce, type Storage } from "./dtype.ts";
import type { Tensor } from "./tensor.ts";

export abstract class Optimizer {
  protected state = new Map<Tensor, Record<string, Float64Array | number>>();
  constructor(readonly params: Tensor[]) {
    for (const p of params)
      if (!p.isLeaf || !p.requiresGrad)
        throw new Error(
          `optimizer: can only optimize leaf tensors that require grad (${p.name ?? "a parameter"} does not)`,
        );
  }

  /** `optimizer.zero_grad(set_to_none=True)`. */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  step(): void {
    for (const p of this.params) {
      if (!p.grad) continue;
      let s = this.state.get(p);
      if (!s) {
        s = {};
        this.state.set(p, s);
      }
      this.update(p.data, Float64Array.from(p.grad.data), s, p);
      p.version++;
    }
  }

  /** Update one parameter in place from its gradient (a float64 copy the rule may modify). */
  protected abstract update(
    p: Storage,
    g: Float64Array,
    s: Record<string, Float64Array | number>,
    t: Tensor,
  ): void;

  /** Hyperparameters can change between steps (the UI's learning-rate slider), as param_groups allow. */
  abstract setHyper(name: string, value: number | boolean | number[]): void;
}

function buf(s: Record<string, Float64Array | number>, key: string, n: number, init = 0): Float64Array {
  let b = s[key] as Float64Array | undefined;
  if (!b) {
    b = new Float64Array(n).fill(init);
    s[key] = b;
  }
  return b;
}

function write(p: Storage, t: Tensor, i: number, v: number): void {
  p[i] = coerce(t.dtype, v);
}

function checkNonNeg(name: string, v: number): void {
  if (!(v >= 0)) throw new RangeError(`Invalid ${name}: ${v}`);
}

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  weight_decay?: number;
  nesterov?: boolean;
  maximize?: boolean;
}

/** `torch.optim.SGD`. */
export class SGD extends Optimizer {
  o: Required<SGDOptions>;
  constructor(params: Tensor[], opts: SGDOptions = {}) {
    super(params);
    this.o = {
      lr: 1e-3,
      momentum: 0,
      dampening: 0,
      weight_decay: 0,
      nesterov: false,
      maximize: false,
      ...opts,
    };
    checkNonNeg("learning rate", this.o.lr);
    checkNonNeg("momentum value", this.o.momentum);
    checkNonNeg("weight_decay value", this.o.weight_decay);
    if (this.o.nesterov && (this.o.momentum <= 0 || this.o.dampening !== 0))
      throw new RangeError("Nesterov momentum requires a momentum and zero dampening");
  }
  setHyper(name: string, value: number | boolean): void {
    (this.o as unknown as Record<string, unknown>)[name] = value;
  }
  protected update(p: Storage, g: Float64Array, s: Record<string, Float64Array | number>, t: Tensor): void {
    const { lr, momentum, dampening, weight_decay, nesterov, maximize } = this.o;
    const first = s.momentum_buffer === undefined;
    const b = momentum !== 0 ? buf(s, "momentum_buffer", p.length) : null;
    for (let i = 0; i < p.length; i++) {
      let d = maximize ? -g[i] : g[i];
      if (weight_decay !== 0) d += weight_decay * p[i];
      if (b) {
        b[i] = first ? d : momentum * b[i] + (1 - dampening) * d;
        d = nesterov ? d + momentum * b[i] : b[i];
      }
      write(p, t, i, p[i] - lr * d);
    }
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weight_decay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
}

/** `torch.optim.Adam`; `decoupled` gives AdamW's weight decay. */
export class Adam extends Optimizer {
  o: Required<AdamOptions>;
  protected decoupled = false;
  constructor(params: Tensor[], opts: AdamOptions = {}, defaults: Partial<AdamOptions> = {}) {
    super(params);
    this.o = {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weight_decay: 0,
      amsgrad: false,
      maximize: false,
      ...defaults,
      ...opts,
    };
    checkNonNeg("learning rate", this.o.lr);
    checkNonNeg("epsilon value", this.o.eps);
    for (const [k, b] of this.o.betas.entries())
      if (!(b >= 0 && b < 1)) throw new RangeError(`Invalid beta parameter at index ${k}: ${b}`);
    checkNonNeg("weight_decay value", this.o.weight_decay);
  }
  setHyper(name: string, value: number | boolean | number[]): void {
    (this.o as unknown as Record<string, unknown>)[name] = value;
  }
  protected update(p: Storage, g: Float64Array, s: Record<string, Float64Array | number>, t: Tensor): void {
    const { lr, betas, eps, weight_decay, amsgrad, maximize } = this.o;
    const [b1, b2] = betas;
    const step = ((s.step as number | undefined) ?? 0) + 1;
    s.step = step;
    const m = buf(s, "exp_avg", p.length);
    const v = buf(s, "exp_avg_sq", p.length);
    const vmax = amsgrad ? buf(s, "max_exp_avg_sq", p.length) : null;
    const bc1 = 1 - b1 ** step;
    const bc2Sqrt = Math.sqrt(1 - b2 ** step);
    const stepSize = lr / bc1;
    for (let i = 0; i < p.length; i++) {
      let gi = maximize ? -g[i] : g[i];
      let pi = p[i];
      if (weight_decay !== 0) {
        if (this.decoupled) pi *= 1 - lr * weight_decay;
        else gi += weight_decay * pi;
      }
      m[i] += (gi - m[i]) * (1 - b1); // torch: exp_avg.lerp_(grad, 1 - beta1)
      v[i] = v[i] * b2 + (1 - b2) * gi * gi;
      let vv = v[i];
      if (vmax) {
        vmax[i] = Math.max(vmax[i], v[i]);
        vv = vmax[i];
      }
      const denom = Math.sqrt(vv) / bc2Sqrt + eps;
      write(p, t, i, pi - (stepSize * m[i]) / denom);
    }
  }
}

/** `torch.optim.AdamW`: weight decay applied to the parameter directly (default 0.01). */
export class AdamW extends Adam {
  constructor(params: Tensor[], opts: AdamOptions = {}) {
    super(params, opts, { weight_decay: 1e-2 });
    this.decoupled = true;
  }
}

export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weight_decay?: number;
  momentum?: number;
  centered?: boolean;
  maximize?: boolean;
}

/** `torch.optim.RMSprop`. */
export class RMSprop extends Optimizer {
  o: Required<RMSpropOptions>;
  constructor(params: Tensor[], opts: RMSpropOptions = {}) {
    super(params);
    this.o = {
      lr: 1e-2,
      alpha: 0.99,
      eps: 1e-8,
      weight_decay: 0,
      momentum: 0,
      centered: false,
      maximize: false,
      ...opts,
    };
    checkNonNeg("learning rate", this.o.lr);
    checkNonNeg("epsilon value", this.o.eps);
    checkNonNeg("momentum value", this.o.momentum);
    checkNonNeg("alpha value", this.o.alpha);
  }
  setHyper(name: string, value: number | boolean): void {
    (this.o as unknown as Record<string, unknown>)[name] = value;
  }
  protected update(p: Storage, g: Float64Array, s: Record<string, Float64Array | number>, t: Tensor): void {
    const { lr, alpha, eps, weight_decay, momentum, centered, maximize } = this.o;
    const sq = buf(s, "square_avg", p.length);
    const ga = centered ? buf(s, "grad_avg", p.length) : null;
    const mb = momentum > 0 ? buf(s, "momentum_buffer", p.length) : null;
    for (let i = 0; i < p.length; i++) {
      let gi = maximize ? -g[i] : g[i];
      if (weight_decay !== 0) gi += weight_decay * p[i];
      sq[i] = sq[i] * alpha + (1 - alpha) * gi * gi;
      let avg: number;
      if (ga) {
        ga[i] += (gi - ga[i]) * (1 - alpha);
        avg = Math.sqrt(sq[i] - ga[i] * ga[i]) + eps;
      } else avg = Math.sqrt(sq[i]) + eps;
      if (mb) {
        mb[i] = mb[i] * momentum + gi / avg;
        write(p, t, i, p[i] - lr * mb[i]);
      } else write(p, t, i, p[i] - (lr * gi) / avg);
    }
  }
}

export interface AdagradOptions {
  lr?: number;
  lr_decay?: number;
  weight_decay?: number;
  initial_accumulator_value?: number;
  eps?: number;
  maximize?: boolean;
}

/** `torch.optim.Adagrad`. */
export class Adagrad extends Optimizer {
  o: Required<AdagradOptions>;
  constructor(params: Tensor[], opts: AdagradOptions = {}) {
    super(params);
    this.o = {
      lr: 1e-2,
      lr_decay: 0,
      weight_decay: 0,
      initial_accumulator_value: 0,
      eps: 1e-10,
      maximize: false,
      ...opts,
    };
    checkNonNeg("learning rate", this.o.lr);
    checkNonNeg("lr_decay value", this.o.lr_decay);
    checkNonNeg("initial_accumulator_value", this.o.initial_accumulator_value);
  }
  setHyper(name: string, value: number | boolean): void {
    (this.o as unknown as Record<string, unknown>)[name] = value;
  }
  protected update(p: Storage, g: Float64Array, s: Record<string, Float64Array | number>, t: Tensor): void {
    const { lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize } = this.o;
    const step = ((s.step as number | undefined) ?? 0) + 1;
    s.step = step;
    const sum = buf(s, "sum", p.length, initial_accumulator_value);
    const clr = lr / (1 + (step - 1) * lr_decay);
    for (let i = 0; i < p.length; i++) {
      let gi = maximize ? -g[i] : g[i];
      if (weight_decay !== 0) gi += weight_decay * p[i];
      sum[i] += gi * gi;
      write(p, t, i, p[i] - (clr * gi) / (Math.sqrt(sum[i]) + eps));
    }
  }
}

export const OPTIMIZERS = { SGD, Adam, AdamW, RMSprop, Adagrad } as const;
export type OptimizerName = keyof typeof OPTIMIZERS;
