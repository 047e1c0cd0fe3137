// AssemblyScript entry: every kernel module the runtime loads (see scripts/build-simd.mjs).
export * from "./vm";
export * from "./matmul";
export * from "./pool";
