/**
 * The Web Worker entry: the scheduler and trainer run here, so training never freezes the page. Create it with
 * `createSchedulerWorker()` (worker-client.ts) and talk to it with `SchedulerClient`; the protocol is in
 * worker-protocol.ts. A WebGPU backend is made available by importing its registration before this module.
 */
import { serveScheduler, type WorkerPort } from "./worker-serve.ts";

serveScheduler(self as unknown as WorkerPort);
