/**
 * The editor's scheduler worker: src/runtime's scheduler and trainer with the WebGPU backend registered, so a
 * run can train on the GPU; without a usable adapter the trainer answers with the reason and the CPU runs.
 */
import { registerWebGpuBackend } from "../../gpu/backend.ts";
import { serveScheduler, type WorkerPort } from "../../runtime/worker-serve.ts";

registerWebGpuBackend();
serveScheduler(self as unknown as WorkerPort);
