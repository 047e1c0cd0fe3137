/** Every optimizer's spec, in the palette's order. Adding an optimizer: its spec file, and one line here. */
import { ADADELTA_SPEC } from "./adadelta.ts";
import { ADAGRAD_SPEC } from "./adagrad.ts";
import { ADAM_SPEC, ADAMW_SPEC } from "./adam.ts";
import { ADAMAX_SPEC } from "./adamax.ts";
import { ASGD_SPEC } from "./asgd.ts";
import { NADAM_SPEC } from "./nadam.ts";
import { RADAM_SPEC } from "./radam.ts";
import { RMSPROP_SPEC } from "./rmsprop.ts";
import { SGD_SPEC } from "./sgd.ts";

export const OPTIMIZER_SPECS = [
  SGD_SPEC,
  ADAM_SPEC,
  ADAMW_SPEC,
  RMSPROP_SPEC,
  ADAGRAD_SPEC,
  NADAM_SPEC,
  RADAM_SPEC,
  ADAMAX_SPEC,
  ADADELTA_SPEC,
  ASGD_SPEC,
] as const;
