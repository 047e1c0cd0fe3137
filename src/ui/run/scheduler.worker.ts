/**
 * The editor's scheduler worker: src/runtime's scheduler and trainer with the WebGPU backend registered, so a
 * run can train on the GPU; without a usable adapter the trainer answers with the reason and the CPU runs.
 */

import { serveScheduler, type WorkerPort } from "../../engine/worker-serve.ts";
import { registerWebGpuBackend } from "../../gpu/backend.ts";

registerWebGpuBackend();
serveScheduler(self as unknown as WorkerPort);
