/**
 * `torch.optim.NAdam` (torch 1.13's `_single_tensor_nadam`; no `maximize` in 1.13). Its momentum schedule's
 * running product `mu_product` is a float32 tensor in torch whatever the parameters' dtype, so it is rounded
 * to float32 here too.
 */
import { powInt, powPositive } from "../exact.ts";
import {
  adamMoments,
  add,
  BETA_UNIFORMS,
  betas,
  checkCommon,
  checkNonNeg,
  defineOptimizer,
  div,
  eps,
  gradIn,
  let_,
  lr,
  mul,
  num,
  pair,
  set,
  sqrt,
  weightDecay,
  withBetas,
} from "./spec.ts";

export const NADAM_SPEC = defineOptimizer({
  name: "NAdam",
  description: "Adam with Nesterov momentum, like torch.optim.NAdam",
  hyper: [
    lr(2e-3),
    betas,
    eps(1e-8),
    weightDecay(),
    { name: "momentum_decay", default: 4e-3, help: "how fast the momentum schedule decays" },
  ],
  check(h) {
    checkCommon(h);
    checkNonNeg("momentum_decay value", num(h, "momentum_decay"));
  },
  buffers: [{ name: "exp_avg" }, { name: "exp_avg_sq" }],
  scalars: () => ({ step: 0, mu_product: 1 }),
  uniforms: [...BETA_UNIFORMS, "weight_decay", "eps", "bias_correction2", "neg_grad_step", "neg_avg_step"],
  flags: ["has_weight_decay"],
  flagsOf: (h) => ({ has_weight_decay: num(h, "weight_decay") !== 0 }),
  values: (h, s) => {
    const [b1, b2] = pair(h, "betas");
    const lr = num(h, "lr");
    const decay = num(h, "momentum_decay");
    const step = ++s.step;
    const mu = b1 * (1 - 0.5 * powPositive(0.96, step * decay));
    const muNext = b1 * (1 - 0.5 * powPositive(0.96, (step + 1) * decay));
    // mu_product *= mu; mu_product_next = mu_product * mu * mu_next (float32 tensor ops)
    s.mu_product = Math.fround(s.mu_product * Math.fround(mu));
    const muProductNext = Math.fround(Math.fround(s.mu_product * Math.fround(mu)) * Math.fround(muNext));
    return withBetas(h, {
      weight_decay: num(h, "weight_decay"),
      eps: num(h, "eps"),
      bias_correction2: 1 - powInt(b2, step),
      neg_grad_step: (-lr * (1 - mu)) / (1 - s.mu_product),
      neg_avg_step: (-lr * muNext) / (1 - muProductNext),
    });
  },
  update: [
    ...gradIn("gi", false),
    ...adamMoments("gi"),
    // denom = exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
    let_("denom", add(sqrt(div("exp_avg_sq", "bias_correction2")), "eps")),
    // param.addcdiv_(grad, denom, value=...); param.addcdiv_(exp_avg, denom, value=...)
    let_("p1", add("p", div(mul("neg_grad_step", "gi"), "denom"))),
    set("p", add("p1", div(mul("neg_avg_step", "exp_avg"), "denom"))),
  ],
});
