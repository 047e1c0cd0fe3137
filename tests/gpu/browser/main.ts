/**
 * The page browser.test.ts drives: trains a graph file with the app's scheduler worker
 * (src/ui/run/scheduler.worker.ts, which registers the WebGPU backend) and, for the main thread, with a
 * Trainer in the page itself. Results go to the test through `window.gradwire`.
 */

import { toRecords } from "../../../src/engine/record-columns.ts";
import { Scheduler } from "../../../src/engine/scheduler.ts";
import type { BackendName } from "../../../src/engine/scheduler-backend.ts";
import { type EpochRecord, Trainer, type TrainState } from "../../../src/engine/train.ts";
import { SchedulerClient, type WorkerLike } from "../../../src/engine/worker-client.ts";
import { registerWebGpuBackend } from "../../../src/gpu/backend.ts";
import { parseGraphFile } from "../../../src/graph/format.ts";
import type { GraphDoc } from "../../../src/graph/types.ts";

export interface RunResult {
  records: EpochRecord[];
  state: TrainState;
}

function graphOf(text: string): GraphDoc {
  const r = parseGraphFile(text);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join("; "));
  return r.doc;
}

/** Train in the app's scheduler worker until the run ends. */
function inWorker(text: string, backend: BackendName, epochs?: number): Promise<RunResult> {
  const worker = new Worker(new URL("../../../src/ui/run/scheduler.worker.ts", import.meta.url), {
    type: "module",
    name: "gradwire-scheduler",
  });
  const client = new SchedulerClient(worker as unknown as WorkerLike);
  const records: EpochRecord[] = [];
  return new Promise<RunResult>((resolve, reject) => {
    let started = false;
    client.on("error", (m) => reject(new Error(m.message)));
    client.on("records", (m) => records.push(...toRecords(m.batches)));
    client.on("state", (m) => {
      if (started && ["done", "error", "stopped"].includes(m.state.status)) {
        worker.terminate();
        resolve({ records, state: m.state });
      }
      if (m.state.status === "running") started = true;
    });
    client.on("ready", () => {
      client.load(graphOf(text));
      client.setBackend(backend);
      client.run(epochs);
    });
  });
}

/** Train on the page's main thread. */
async function inPage(text: string, backend: BackendName, epochs?: number): Promise<RunResult> {
  registerWebGpuBackend();
  const s = new Scheduler();
  s.setGraph(graphOf(text));
  const t = new Trainer(s, { backend });
  const records: EpochRecord[] = [];
  t.onRecords((rs) => records.push(...rs));
  await t.run({ epochs });
  return { records, state: t.state };
}

declare global {
  interface Window {
    gradwire: { inWorker: typeof inWorker; inPage: typeof inPage; ready: boolean };
  }
}

window.gradwire = { inWorker, inPage, ready: true };
