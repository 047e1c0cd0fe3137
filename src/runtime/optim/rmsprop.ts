/** `torch.optim.RMSprop` (torch 1.13's `_single_tensor_rmsprop`). */
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
  neg,
  num,
  set,
  sqrt,
  weightDecay,
  when,
} from "./spec.ts";

export const RMSPROP_SPEC = defineOptimizer({
  name: "RMSprop",
  description: "Divides by a running average of squared gradients, like torch.optim.RMSprop",
  hyper: [
    lr(1e-2),
    { name: "alpha", default: 0.99, help: "smoothing constant" },
    eps(1e-8),
    weightDecay(),
    { name: "momentum", default: 0, help: "momentum factor" },
    { name: "centered", default: false, help: "normalize by an estimate of the gradient's variance" },
    maximize,
  ],
  check(h) {
    checkNonNeg("learning rate", num(h, "lr"));
    checkNonNeg("epsilon value", num(h, "eps"));
    checkNonNeg("momentum value", num(h, "momentum"));
    checkNonNeg("weight_decay value", num(h, "weight_decay"));
    checkNonNeg("alpha value", num(h, "alpha"));
  },
  buffers: [
    { name: "square_avg" },
    { name: "grad_avg", usedIf: "centered" },
    { name: "momentum_buffer", usedIf: "use_momentum" },
  ],
  uniforms: ["alpha", "one_minus_alpha", "eps", "weight_decay", "momentum", "neg_lr"],
  flags: ["maximize", "has_weight_decay", "centered", "use_momentum"],
  flagsOf: (h) => ({
    maximize: Boolean(h.maximize),
    has_weight_decay: num(h, "weight_decay") !== 0,
    centered: Boolean(h.centered),
    use_momentum: num(h, "momentum") > 0,
  }),
  values: (h) => ({
    alpha: num(h, "alpha"),
    one_minus_alpha: 1 - num(h, "alpha"),
    eps: num(h, "eps"),
    weight_decay: num(h, "weight_decay"),
    momentum: num(h, "momentum"),
    neg_lr: -num(h, "lr"),
  }),
  update: [
    ...gradIn("gi"),
    // square_avg.mul_(alpha).addcmul_(grad, grad, value=1-alpha)
    set("square_avg", fma(mul("one_minus_alpha", "gi"), "gi", mul("square_avg", "alpha"))),
    let_("avg", "square_avg"),
    when(
      "centered",
      [
        set("grad_avg", fma("one_minus_alpha", "gi", mul("grad_avg", "alpha"))), // grad_avg.mul_(alpha).add_(grad, alpha=1-alpha)
        set("avg", sqrt(fma(neg("grad_avg"), "grad_avg", "square_avg"))), // square_avg.addcmul(ga, ga, value=-1).sqrt_()
      ],
      [set("avg", sqrt("square_avg"))],
    ),
    set("avg", add("avg", "eps")),
    when(
      "use_momentum",
      [
        set("momentum_buffer", add(mul("momentum_buffer", "momentum"), div("gi", "avg"))), // buf.mul_(momentum).addcdiv_(grad, avg)
        set("p", fma("neg_lr", "momentum_buffer", "p")), // param.add_(buf, alpha=-lr)
      ],
      [set("p", add("p", div(mul("neg_lr", "gi"), "avg")))], // param.addcdiv_(grad, avg, value=-lr)
    ),
  ],
});
