import solid from "vite-plugin-solid";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [solid()],
  worker: { format: "es" },
  server: { host: "127.0.0.1", port: 5173 },
  preview: { host: "127.0.0.1", port: 4173 },
  build: { target: "es2022" },
  test: {
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { VK_ICD_FILENAMES: "/usr/lib/chromium/vk_swiftshader_icd.json" },
    projects: [
      { extends: true, test: { name: "all", include: ["tests/**/*.test.ts", "tests/**/*.test.tsx"] } },
      {
        // The PyTorch parity and autograd tests again with every float32 op of 8 elements or more on the fused
        // SIMD path (lazy expressions, deferred sums), which normally starts at 16384 elements.
        extends: true,
        test: {
          name: "simd-everywhere",
          include: [
            "tests/runtime/parity-*.test.ts",
            "tests/runtime/autograd.test.ts",
            "tests/runtime/gradcheck.test.ts",
            "tests/runtime/sources.test.ts",
          ],
          env: { GRADWIRE_LAZY_MIN: "8" },
        },
      },
    ],
  },
});
