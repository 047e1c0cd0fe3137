/** `torch.optim.Adagrad` (torch 1.13's `_single_tensor_adagrad`). */
import {
  add,
  checkNonNeg,
  defineOptimizer,
  div,
  eps,
  fma,
  gradIn,
  lr,
  maximize,
  mul,
  num,
  set,
  sqrt,
  weightDecay,
} from "./spec.ts";

export const ADAGRAD_SPEC = defineOptimizer({
  name: "Adagrad",
  description: "Per-parameter learning rates from accumulated squared gradients, like torch.optim.Adagrad",
  hyper: [
    lr(1e-2),
    { name: "lr_decay", default: 0, help: "learning rate decay" },
    weightDecay(),
    { name: "initial_accumulator_value", default: 0, help: "starting value of the accumulators" },
    eps(1e-10),
    maximize,
  ],
  check(h) {
    checkNonNeg("learning rate", num(h, "lr"));
    checkNonNeg("lr_decay value", num(h, "lr_decay"));
    checkNonNeg("weight_decay value", num(h, "weight_decay"));
    checkNonNeg("initial_accumulator_value", num(h, "initial_accumulator_value"));
    checkNonNeg("epsilon value", num(h, "eps"));
  },
  buffers: [{ name: "sum", init: (h) => num(h, "initial_accumulator_value") }],
  scalars: () => ({ step: 0 }),
  uniforms: ["weight_decay", "eps", "neg_clr"],
  flags: ["maximize", "has_weight_decay"],
  flagsOf: (h) => ({ maximize: Boolean(h.maximize), has_weight_decay: num(h, "weight_decay") !== 0 }),
  values: (h, s) => {
    const step = ++s.step;
    return {
      weight_decay: num(h, "weight_decay"),
      eps: num(h, "eps"),
      neg_clr: -(num(h, "lr") / (1 + (step - 1) * num(h, "lr_decay"))),
    };
  },
  update: [
    ...gradIn("gi"),
    set("sum", fma("gi", "gi", "sum")), // state_sum.addcmul_(grad, grad, value=1)
    // std = state_sum.sqrt().add_(eps); param.addcdiv_(grad, std, value=-clr)
    set("p", add("p", div(mul("neg_clr", "gi"), add(sqrt("sum"), "eps")))),
  ],
});
