/** The graph document, validation with shape inference, the file format and connection checks. */
export * from "./budget.ts";
export * from "./connect.ts";
export * from "./depth.ts";
export * from "./document.ts";
export * from "./format.ts";
export * from "./literal-check.ts";
export * from "./modules.ts";
export * from "./recompute.ts";
export * from "./schema.ts";
export * from "./topo.ts";
export * from "./training.ts";
export * from "./types.ts";
export * from "./validate.ts";
