/** `torch.optim.Adadelta` (torch 1.13's `_single_tensor_adadelta`). */
import {
  add,
  checkNonNeg,
  defineOptimizer,
  div,
  eps,
  fma,
  gradIn,
  let_,
  lr,
  maximize,
  mul,
  num,
  set,
  sqrt,
  weightDecay,
} from "./spec.ts";

export const ADADELTA_SPEC = defineOptimizer({
  name: "Adadelta",
  description: "Steps scaled by running averages of squared gradients and updates, like torch.optim.Adadelta",
  hyper: [
    lr(1.0),
    { name: "rho", default: 0.9, max: 1, help: "decay rate of the running averages" },
    eps(1e-6),
    weightDecay(),
    maximize,
  ],
  check(h) {
    checkNonNeg("learning rate", num(h, "lr"));
    const rho = num(h, "rho");
    if (!(rho >= 0 && rho <= 1)) throw new RangeError(`Invalid rho value: ${rho}`);
    checkNonNeg("epsilon value", num(h, "eps"));
    checkNonNeg("weight_decay value", num(h, "weight_decay"));
  },
  buffers: [{ name: "square_avg" }, { name: "acc_delta" }],
  scalars: () => ({ step: 0 }),
  uniforms: ["rho", "one_minus_rho", "eps", "weight_decay", "neg_lr"],
  flags: ["maximize", "has_weight_decay"],
  flagsOf: (h) => ({ maximize: Boolean(h.maximize), has_weight_decay: num(h, "weight_decay") !== 0 }),
  values: (h, s) => {
    s.step++;
    return {
      rho: num(h, "rho"),
      one_minus_rho: 1 - num(h, "rho"),
      eps: num(h, "eps"),
      weight_decay: num(h, "weight_decay"),
      neg_lr: -num(h, "lr"),
    };
  },
  update: [
    ...gradIn("gi"),
    // square_avg.mul_(rho).addcmul_(grad, grad, value=1-rho)
    set("square_avg", fma(mul("one_minus_rho", "gi"), "gi", mul("square_avg", "rho"))),
    let_("std", sqrt(add("square_avg", "eps"))), // square_avg.add(eps).sqrt_()
    let_("delta", mul(div(sqrt(add("acc_delta", "eps")), "std"), "gi")), // acc_delta.add(eps).sqrt_().div_(std).mul_(grad)
    // acc_delta.mul_(rho).addcmul_(delta, delta, value=1-rho)
    set("acc_delta", fma(mul("one_minus_rho", "delta"), "delta", mul("acc_delta", "rho"))),
    set("p", fma("neg_lr", "delta", "p")), // param.add_(delta, alpha=-lr)
  ],
});
