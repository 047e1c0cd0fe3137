/** gradwire's tensor runtime: import everything from here (it also initialises autograd). */

export type { CustomFunction, GradFn } from "./autograd.ts";
export { AutogradError, applyFunction, FunctionContext, isGradEnabled, noGrad } from "./autograd.ts";
export * from "./dtype.ts";
export * from "./losses.ts";
export * from "./lr-scheduler.ts";
export * as ops from "./ops/index.ts";
export * from "./optim.ts";
export * from "./random/index.ts";
export * from "./shape.ts";
export * from "./tensor.ts";
