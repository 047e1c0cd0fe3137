/** The committed SIMD kernels (src/runtime/simd/kernels.wasm.ts) are what their AssemblyScript sources compile to. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  breakdownsModule,
  compileKernels,
  GENERATED,
  moduleText,
  OUTPUT,
} from "../../scripts/build-simd.mjs";
import { simdStatus } from "../../src/runtime/simd/module.ts";

describe("SIMD kernels build", () => {
  it("the generated module matches a fresh compile of src/runtime/simd/assembly (run npm run build:simd)", async () => {
    const fresh = moduleText(await compileKernels());
    expect(readFileSync(OUTPUT, "utf8")).toBe(fresh);
  }, 60_000);

  it("the vector machine's transcendentals are the ones generated from their breakdowns (run npm run build:simd)", () => {
    expect(readFileSync(GENERATED, "utf8")).toBe(breakdownsModule());
  });

  it("loads in Node", () => {
    expect(simdStatus()).toEqual({ active: true, reason: null });
  });
});
