/**
 * `torch.optim.RAdam` (torch 1.13's `_single_tensor_radam`; no `maximize` in 1.13): Adam whose adaptive step
 * is switched on, and rectified, once the variance estimate is tractable (rho_t > 5), decided per step.
 */
import { powInt } from "../exact.ts";
import {
  adamMoments,
  add,
  BETA_UNIFORMS,
  betas,
  checkCommon,
  defineOptimizer,
  div,
  eps,
  gradIn,
  type Hyper,
  let_,
  lr,
  mul,
  num,
  pair,
  set,
  sqrt,
  sub,
  weightDecay,
  when,
  withBetas,
} from "./spec.ts";

/** rho_t: the length of the approximated simple moving average at this step; rho_inf its limit. */
function rho(h: Hyper, step: number): { rhoInf: number; rhoT: number } {
  const b2 = pair(h, "betas")[1];
  const rhoInf = 2 / (1 - b2) - 1;
  return { rhoInf, rhoT: rhoInf - (2 * step * powInt(b2, step)) / (1 - powInt(b2, step)) };
}

export const RADAM_SPEC = defineOptimizer({
  name: "RAdam",
  description: "Adam with a rectified adaptive learning rate, like torch.optim.RAdam",
  hyper: [lr(1e-3), betas, eps(1e-8), weightDecay()],
  check: checkCommon,
  buffers: [{ name: "exp_avg" }, { name: "exp_avg_sq" }],
  scalars: () => ({ step: 0 }),
  uniforms: [
    ...BETA_UNIFORMS,
    "weight_decay",
    "eps",
    "bias_correction1",
    "lr",
    "bias_correction2_sqrt",
    "rect",
  ],
  flags: ["has_weight_decay", "rectify"],
  flagsOf: (h, _started, s) => ({
    has_weight_decay: num(h, "weight_decay") !== 0,
    rectify: rho(h, s.step + 1).rhoT > 5,
  }),
  values: (h, s) => {
    const [b1, b2] = pair(h, "betas");
    const step = ++s.step;
    const bc2 = 1 - powInt(b2, step);
    const { rhoInf, rhoT } = rho(h, step);
    return withBetas(h, {
      weight_decay: num(h, "weight_decay"),
      eps: num(h, "eps"),
      bias_correction1: 1 - powInt(b1, step),
      lr: num(h, "lr"),
      bias_correction2_sqrt: Math.sqrt(bc2),
      // 0 (unused) until the variance is tractable; `rectify` below says when.
      rect:
        rhoT > 5 ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 0,
    });
  },
  update: [
    ...gradIn("gi", false),
    ...adamMoments("gi"),
    // bias_corrected_exp_avg * lr
    let_("step", mul(div("exp_avg", "bias_correction1"), "lr")),
    when("rectify", [
      // adaptive_lr = math.sqrt(bias_correction2) / exp_avg_sq.sqrt().add_(eps): a number over a tensor is
      // torch's reciprocal() * number; then (... * adaptive_lr) * rect
      let_("adaptive", mul(div(1, add(sqrt("exp_avg_sq"), "eps")), "bias_correction2_sqrt")),
      set("step", mul(mul("step", "adaptive"), "rect")),
    ]),
    set("p", sub("p", "step")), // param.add_(..., alpha=-1.0)
  ],
});
