/** PyTorch's CPU random number generator and its transforms (randn, rand, randint, randperm, nn.Linear init). */
export * from "./generator.ts";
export { log as exactLog, sincos as exactSinCos } from "./libm.ts";
export { MT19937 } from "./mt19937.ts";
