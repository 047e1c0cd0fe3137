/** `torch.optim.Adamax` (torch 1.13's `_single_tensor_adamax`): Adam with an infinity norm for the second moment. */
import { powInt } from "../exact.ts";
import {
  abs,
  add,
  betas,
  checkCommon,
  defineOptimizer,
  div,
  eps,
  fma,
  gradIn,
  lr,
  max,
  maximize,
  mul,
  num,
  pair,
  set,
  weightDecay,
} from "./spec.ts";

export const ADAMAX_SPEC = defineOptimizer({
  name: "Adamax",
  description: "Adam with the infinity norm of past gradients, like torch.optim.Adamax",
  hyper: [lr(2e-3), betas, eps(1e-8), weightDecay(), maximize],
  check: checkCommon,
  buffers: [{ name: "exp_avg" }, { name: "exp_inf" }],
  scalars: () => ({ step: 0 }),
  uniforms: ["beta1", "beta2", "one_minus_beta1", "weight_decay", "eps", "neg_clr"],
  flags: ["maximize", "has_weight_decay"],
  flagsOf: (h) => ({ maximize: Boolean(h.maximize), has_weight_decay: num(h, "weight_decay") !== 0 }),
  values: (h, s) => {
    const [b1, b2] = pair(h, "betas");
    const step = ++s.step;
    return {
      beta1: b1,
      beta2: b2,
      one_minus_beta1: 1 - b1,
      weight_decay: num(h, "weight_decay"),
      eps: num(h, "eps"),
      neg_clr: -(num(h, "lr") / (1 - powInt(b1, step))),
    };
  },
  update: [
    ...gradIn("gi"),
    set("exp_avg", fma("one_minus_beta1", "gi", mul("exp_avg", "beta1"))), // exp_avg.mul_(beta1).add_(grad, alpha=1-beta1)
    // exp_inf = amax(cat([exp_inf.mul_(beta2), grad.abs().add_(eps)]), 0)
    set("exp_inf", max(mul("exp_inf", "beta2"), add(abs("gi"), "eps"))),
    set("p", add("p", div(mul("neg_clr", "exp_avg"), "exp_inf"))), // param.addcdiv_(exp_avg, exp_inf, value=-clr)
  ],
});
