/** `torch.optim.SGD` (torch 1.13's `_single_tensor_sgd`). */
import {
  checkNonNeg,
  defineOptimizer,
  fma,
  gradIn,
  lr,
  maximize,
  mul,
  num,
  select,
  set,
  weightDecay,
  when,
} from "./spec.ts";

export const SGD_SPEC = defineOptimizer({
  name: "SGD",
  description: "Stochastic gradient descent (with optional momentum), like torch.optim.SGD",
  hyper: [
    lr(0.01),
    { name: "momentum", default: 0, help: "momentum factor" },
    { name: "dampening", default: 0, help: "dampening for momentum" },
    weightDecay(),
    { name: "nesterov", default: false, help: "Nesterov momentum (needs momentum and zero dampening)" },
    maximize,
  ],
  check(h) {
    checkNonNeg("learning rate", num(h, "lr"));
    checkNonNeg("momentum value", num(h, "momentum"));
    checkNonNeg("weight_decay value", num(h, "weight_decay"));
    if (h.nesterov && (num(h, "momentum") <= 0 || num(h, "dampening") !== 0))
      throw new RangeError("Nesterov momentum requires a momentum and zero dampening");
  },
  buffers: [{ name: "momentum_buffer", usedIf: "use_momentum" }],
  uniforms: ["weight_decay", "momentum", "one_minus_dampening", "neg_lr"],
  flags: ["maximize", "has_weight_decay", "use_momentum", "nesterov", "first"],
  flagsOf: (h, started) => ({
    maximize: Boolean(h.maximize),
    has_weight_decay: num(h, "weight_decay") !== 0,
    use_momentum: num(h, "momentum") !== 0,
    nesterov: Boolean(h.nesterov),
    // torch's first momentum step stores the gradient itself as the buffer.
    first: !started("momentum_buffer"),
  }),
  values: (h) => ({
    weight_decay: num(h, "weight_decay"),
    momentum: num(h, "momentum"),
    one_minus_dampening: 1 - num(h, "dampening"),
    neg_lr: -num(h, "lr"),
  }),
  update: [
    ...gradIn("d"),
    when("use_momentum", [
      // buf.mul_(momentum).add_(d_p, alpha=1-dampening)
      set(
        "momentum_buffer",
        select("first", "d", fma("one_minus_dampening", "d", mul("momentum_buffer", "momentum"))),
      ),
      set("d", select("nesterov", fma("momentum", "momentum_buffer", "d"), "momentum_buffer")),
    ]),
    set("p", fma("neg_lr", "d", "p")), // param.add_(d_p, alpha=-lr)
  ],
});
