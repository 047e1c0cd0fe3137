/** `torch.optim.Adam` and `torch.optim.AdamW` (torch 1.13's `_single_tensor_adam(w)`), which differ in weight decay. */
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
  fma,
  type Hyper,
  let_,
  lr,
  max,
  maximize,
  mul,
  neg,
  num,
  pair,
  select,
  set,
  sqrt,
  weightDecay,
  when,
  withBetas,
} from "./spec.ts";

function adam<const N extends string>(name: N, description: string, decoupled: boolean) {
  return defineOptimizer({
    name,
    description,
    hyper: [
      lr(1e-3),
      betas,
      eps(1e-8),
      weightDecay(decoupled ? 1e-2 : 0),
      { name: "amsgrad", default: false, help: "use the AMSGrad variant" },
      maximize,
    ],
    check: checkCommon,
    buffers: [{ name: "exp_avg" }, { name: "exp_avg_sq" }, { name: "max_exp_avg_sq", usedIf: "amsgrad" }],
    scalars: () => ({ step: 0 }),
    uniforms: [...BETA_UNIFORMS, "weight_decay", "eps", "bias_correction2_sqrt", "neg_step_size", "decay"],
    flags: ["maximize", "has_weight_decay", "decoupled", "amsgrad"],
    flagsOf: (h: Hyper) => ({
      maximize: Boolean(h.maximize),
      has_weight_decay: num(h, "weight_decay") !== 0,
      decoupled,
      amsgrad: Boolean(h.amsgrad),
    }),
    values: (h, s) => {
      const [b1, b2] = pair(h, "betas");
      const step = ++s.step;
      const lr = num(h, "lr");
      return withBetas(h, {
        weight_decay: num(h, "weight_decay"),
        eps: num(h, "eps"),
        bias_correction2_sqrt: Math.sqrt(1 - powInt(b2, step)),
        neg_step_size: -(lr / (1 - powInt(b1, step))),
        decay: 1 - lr * num(h, "weight_decay"),
      });
    },
    update: [
      let_("gi", select("maximize", neg("g"), "g")),
      let_("pi", "p"),
      when("has_weight_decay", [
        when(
          "decoupled",
          [set("pi", mul("pi", "decay"))], // param.mul_(1 - lr * weight_decay)
          [set("gi", fma("weight_decay", "pi", "gi"))], // grad.add(param, alpha=weight_decay)
        ),
      ]),
      ...adamMoments("gi"),
      let_("vv", "exp_avg_sq"),
      when("amsgrad", [
        set("max_exp_avg_sq", max("max_exp_avg_sq", "exp_avg_sq")),
        set("vv", "max_exp_avg_sq"),
      ]),
      // denom = (v.sqrt() / bias_correction2_sqrt).add_(eps); param.addcdiv_(exp_avg, denom, value=-step_size)
      let_("denom", add(div(sqrt("vv"), "bias_correction2_sqrt"), "eps")),
      set("p", add("pi", div(mul("neg_step_size", "exp_avg"), "denom"))),
    ],
  });
}

export const ADAM_SPEC = adam("Adam", "Adaptive moment estimation, like torch.optim.Adam", false);
export const ADAMW_SPEC = adam("AdamW", "Adam with decoupled weight decay, like torch.optim.AdamW", true);
