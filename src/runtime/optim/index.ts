/** Every optimizer's spec, in the palette's order. Adding an optimizer: its spec file, and one line here. */
import { ADAGRAD_SPEC } from "./adagrad.ts";
import { ADAM_SPEC, ADAMW_SPEC } from "./adam.ts";
import { RMSPROP_SPEC } from "./rmsprop.ts";
import { SGD_SPEC } from "./sgd.ts";

export const OPTIMIZER_SPECS = [SGD_SPEC, ADAM_SPEC, ADAMW_SPEC, RMSPROP_SPEC, ADAGRAD_SPEC] as const;
