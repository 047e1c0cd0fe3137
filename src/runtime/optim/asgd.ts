/**
 * `torch.optim.ASGD` (torch 1.13's `_single_tensor_asgd`): SGD with a decaying step size `eta` and a running
 * average `ax` of the parameters from step t0 on. torch keeps step, eta and mu as float32 tensors whatever the
 * parameters' dtype, so they are rounded to float32 here too.
 */
import { powPositive } from "../exact.ts";
import {
  add,
  checkNonNeg,
  defineOptimizer,
  fma,
  gradIn,
  let_,
  lr,
  maximize,
  mul,
  num,
  set,
  sub,
  weightDecay,
  when,
} from "./spec.ts";

export const ASGD_SPEC = defineOptimizer({
  name: "ASGD",
  description: "Averaged stochastic gradient descent, like torch.optim.ASGD",
  hyper: [
    lr(1e-2),
    { name: "lambd", default: 1e-4, help: "decay term" },
    { name: "alpha", default: 0.75, help: "power for the step size's decay" },
    { name: "t0", default: 1e6, help: "the step at which averaging starts" },
    weightDecay(),
    maximize,
  ],
  check(h) {
    checkNonNeg("learning rate", num(h, "lr"));
    checkNonNeg("weight_decay value", num(h, "weight_decay"));
  },
  buffers: [{ name: "ax" }],
  scalars: (h) => ({ step: 0, eta: Math.fround(num(h, "lr")), mu: 1 }),
  uniforms: ["weight_decay", "decay", "neg_eta", "mu"],
  flags: ["maximize", "has_weight_decay", "average"],
  flagsOf: (h, _started, s) => ({
    maximize: Boolean(h.maximize),
    has_weight_decay: num(h, "weight_decay") !== 0,
    average: s.mu !== 1,
  }),
  values: (h, s) => {
    const step = ++s.step;
    const { eta, mu } = s;
    const [lr, lambd] = [num(h, "lr"), num(h, "lambd")];
    // The next step's eta and mu: torch.tensor(...) of a Python float is float32.
    s.eta = Math.fround(lr / powPositive(1 + lambd * lr * step, num(h, "alpha")));
    s.mu = Math.fround(1 / Math.max(1, step - num(h, "t0")));
    return { weight_decay: num(h, "weight_decay"), decay: 1 - lambd * eta, neg_eta: -eta, mu };
  },
  update: [
    ...gradIn("gi"),
    let_("p1", mul("p", "decay")), // param.mul_(1 - lambd * eta)
    set("p1", fma("neg_eta", "gi", "p1")), // param.add_(grad, alpha=-eta)
    // ax.add_(param.sub(ax).mul(mu)) from t0 on, ax.copy_(param) before
    when("average", [set("ax", add("ax", mul(sub("p1", "ax"), "mu")))], [set("ax", "p1")]),
    set("p", "p1"),
  ],
});
