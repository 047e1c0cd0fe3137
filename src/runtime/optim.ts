/**
 * Optimizers with torch.optim's update rules, argument names and defaults. `zeroGrad` is explicit: skipping it
 * accumulates, as in PyTorch.
 *
 * Each update follows torch 1.13's single-tensor code op for op: state lives in the parameter's dtype, every
 * tensor op rounds to it, Python-number hyperparameters are cast to it, and `add_(x, alpha)` / `addcmul_` are
 * fused multiply-adds as torch's CPU kernels compute them. So float32 trajectories stay with PyTorch's over
 * hundreds of steps instead of drifting by rounding.
 */
import { type DType, roundHalf, type Storage } from "./dtype.ts";
import { fma, powInt } from "./exact.ts";
import { markWrittenInPlace } from "./simd/fusable.ts";
import type { Tensor } from "./tensor.ts";

export abstract class Optimizer {
  protected state = new Map<Tensor, Record<string, Float64Array | number>>();
  constructor(readonly params: Tensor[]) {
    for (const p of params)
      if (!p.isLeaf || !p.requiresGrad)
        throw new Error(
          `optimizer: can only optimize leaf tensors that require grad (${p.name ?? "a parameter"} does not)`,
        );
    for (const p of params) markWrittenInPlace(p.data);
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
      // Pending expressions that read this array (views of p included) must copy it from now on.
      markWrittenInPlace(p.data);
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

/** Rounding to the parameter's dtype: what storing a tensor op's result does in torch. */
function rounder(dtype: DType): (x: number) => number {
  if (dtype === "float32") return Math.fround;
  if (dtype === "float16") return roundHalf;
  return (x) => x;
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
    const R = rounder(t.dtype);
    const first = s.momentum_buffer === undefined;
    const b = momentum !== 0 ? buf(s, "momentum_buffer", p.length) : null;
    const [wd, mom, damp, negLr] = [weight_decay, momentum, 1 - dampening, -lr].map(R);
    for (let i = 0; i < p.length; i++) {
      let d = maximize ? -g[i] : g[i];
      if (weight_decay !== 0) d = R(fma(wd, p[i], d)); // d_p.add(param, alpha=weight_decay)
      if (b) {
        b[i] = first ? d : R(fma(damp, d, R(b[i] * mom))); // buf.mul_(momentum).add_(d_p, alpha=1-dampening)
        d = nesterov ? R(fma(mom, b[i], d)) : b[i];
      }
      p[i] = R(fma(negLr, d, p[i])); // param.add_(d_p, alpha=-lr)
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
    const R = rounder(t.dtype);
    const [b1, b2] = betas;
    const step = ((s.step as number | undefined) ?? 0) + 1;
    s.step = step;
    const m = buf(s, "exp_avg", p.length);
    const v = buf(s, "exp_avg_sq", p.length);
    const vmax = amsgrad ? buf(s, "max_exp_avg_sq", p.length) : null;
    // Python-side scalars, computed in double as torch.optim does, then cast when they meet a tensor.
    const bc1 = 1 - powInt(b1, step);
    const bc2Sqrt = Math.sqrt(1 - powInt(b2, step));
    const [beta1, beta2, oneMinusB1, oneMinusB2, wd, e, bc2S, negStep] = [
      b1,
      b2,
      1 - b1,
      1 - b2,
      weight_decay,
      eps,
      bc2Sqrt,
      -(lr / bc1),
    ].map(R);
    const decay = R(1 - lr * weight_decay);
    for (let i = 0; i < p.length; i++) {
      let gi = maximize ? -g[i] : g[i];
      let pi = p[i];
      if (weight_decay !== 0) {
        if (this.decoupled)
          pi = R(pi * decay); // param.mul_(1 - lr * weight_decay)
        else gi = R(fma(wd, pi, gi)); // grad.add(param, alpha=weight_decay)
      }
      m[i] = R(fma(oneMinusB1, gi, R(m[i] * beta1))); // exp_avg.mul_(beta1).add_(grad, alpha=1-beta1)
      v[i] = R(fma(R(oneMinusB2 * gi), gi, R(v[i] * beta2))); // exp_avg_sq.mul_(beta2).addcmul_(g, g, 1-beta2)
      let vv = v[i];
      if (vmax) {
        vmax[i] = Math.max(vmax[i], v[i]);
        vv = vmax[i];
      }
      const denom = R(R(R(Math.sqrt(vv)) / bc2S) + e);
      p[i] = R(pi + R(R(negStep * m[i]) / denom)); // param.addcdiv_(exp_avg, denom, value=-step_size)
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
    const R = rounder(t.dtype);
    const sq = buf(s, "square_avg", p.length);
    const ga = centered ? buf(s, "grad_avg", p.length) : null;
    const mb = momentum > 0 ? buf(s, "momentum_buffer", p.length) : null;
    const [a, oneMinusA, e, wd, mom, negLr] = [alpha, 1 - alpha, eps, weight_decay, momentum, -lr].map(R);
    for (let i = 0; i < p.length; i++) {
      let gi = maximize ? -g[i] : g[i];
      if (weight_decay !== 0) gi = R(fma(wd, p[i], gi));
      sq[i] = R(fma(R(oneMinusA * gi), gi, R(sq[i] * a))); // square_avg.mul_(alpha).addcmul_(g, g, 1-alpha)
      let avg: number;
      if (ga) {
        ga[i] = R(fma(oneMinusA, gi, R(ga[i] * a))); // grad_avg.mul_(alpha).add_(grad, alpha=1-alpha)
        avg = R(Math.sqrt(R(fma(-ga[i], ga[i], sq[i])))); // square_avg.addcmul(ga, ga, value=-1).sqrt_()
      } else avg = R(Math.sqrt(sq[i]));
      avg = R(avg + e);
      if (mb) {
        mb[i] = R(R(mb[i] * mom) + R(gi / avg)); // buf.mul_(momentum).addcdiv_(grad, avg)
        p[i] = R(fma(negLr, mb[i], p[i])); // param.add_(buf, alpha=-lr)
      } else p[i] = R(p[i] + R(R(negLr * gi) / avg)); // param.addcdiv_(grad, avg, value=-lr)
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
    const R = rounder(t.dtype);
    const step = ((s.step as number | undefined) ?? 0) + 1;
    s.step = step;
    const sum = buf(s, "sum", p.length, R(initial_accumulator_value));
    const [wd, e, negClr] = [weight_decay, eps, -(lr / (1 + (step - 1) * lr_decay))].map(R);
    for (let i = 0; i < p.length; i++) {
      let gi = maximize ? -g[i] : g[i];
      if (weight_decay !== 0) gi = R(fma(wd, p[i], gi));
      sum[i] = R(fma(gi, gi, sum[i])); // state_sum.addcmul_(grad, grad, value=1)
      const std = R(R(Math.sqrt(sum[i])) + e);
      p[i] = R(p[i] + R(R(negClr * gi) / std)); // param.addcdiv_(grad, std, value=-clr)
    }
  }
}

export const OPTIMIZERS = { SGD, Adam, AdamW, RMSprop, Adagrad } as const;
export type OptimizerName = keyof typeof OPTIMIZERS;
