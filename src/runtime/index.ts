/** gradwire's tensor runtime: import everything from here (it also initialises autograd). */
export * from "./dtype.ts";
export * from "./shape.ts";
export * from "./tensor.ts";
export { noGrad, isGradEnabled, applyFunction, FunctionContext, AutogradError } from "./autograd.ts";
export type { CustomFunction, GradFn } from "./autograd.ts";
export * as ops from "./ops/index.ts";
export * from "./losses.ts";
export * from "./optim.ts";
