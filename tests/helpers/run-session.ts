/**
 * The page's run session against the real scheduler, served over a MessageChannel (the code the editor's Web
 * Worker runs), for the UI tests; and a poll for the asynchronous state it reaches.
 */
import { MessageChannel } from "node:worker_threads";
import { createRoot } from "solid-js";
import type { BackendName } from "../../src/engine/scheduler-backend.ts";
import type { WorkerLike } from "../../src/engine/worker-client.ts";
import { serveScheduler, type WorkerPort } from "../../src/engine/worker-serve.ts";
import type { GraphDocument } from "../../src/graph/document.ts";
import { createTrainingLog } from "../../src/ui/plots/log.ts";
import { createRunSession } from "../../src/ui/run/session.ts";

/** Resolves once `cond()` holds, polling every 10 ms; fails after `ms`. */
export async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A session on `graph` with its training log; `close` ends the session, the scheduler and the channel. */
export function startSession(
  graph: GraphDocument,
  opts: { backend?: BackendName; webgpuReason?: string } = {},
) {
  const channel = new MessageChannel();
  const served = serveScheduler(channel.port2 as unknown as WorkerPort);
  return createRoot((dispose) => {
    const log = createTrainingLog();
    const session = createRunSession({ graph, log, worker: channel.port1 as unknown as WorkerLike, ...opts });
    return {
      log,
      session,
      close() {
        session.dispose();
        served.dispose();
        channel.port1.close();
        dispose();
      },
    };
  });
}
