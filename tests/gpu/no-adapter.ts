// Run with VK_ICD_FILENAMES pointing nowhere (faults.test.ts does): Dawn then finds no adapter. Prints what
// the backend reports, and what the scheduler does when asked for WebGPU.

import { resolveBackend } from "../../src/engine/scheduler-backend.ts";
import { registerWebGpuBackend } from "../../src/gpu/backend.ts";
import { acquireDevice } from "../../src/gpu/device.ts";
import { isGpuError } from "../../src/gpu/errors.ts";

let kind = "none";
let message = "";
try {
  await acquireDevice();
} catch (e) {
  if (!isGpuError(e)) throw e;
  kind = e.kind;
  message = e.message;
}
registerWebGpuBackend();
const choice = await resolveBackend("webgpu");
console.log(
  JSON.stringify({ kind, message, fallback: { backend: choice.backend.name, reason: choice.fallback } }),
);
process.exit(0);
