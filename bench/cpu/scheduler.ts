/**
 * Workload 1 as the app runs it: a graph document (tensor -> model -> mse_loss -> SGD) loaded from the file
 * format, evaluated by the scheduler and trained by the Trainer, which also records every epoch's loss,
 * parameters and gradients for the plots.
 */

import { Scheduler } from "../../src/engine/scheduler.ts";
import { type EpochRecord, Trainer } from "../../src/engine/train.ts";
import { formatProblems, loadGraph } from "../../src/graph/format.ts";
import { type RunResult, startClock } from "./peer.ts";
import type { LinearWorkload } from "./workloads.ts";

function graphFile(w: LinearWorkload, epochs: number): unknown {
  const node = (id: string, type: string, params: Record<string, unknown>, x: number) => ({
    id,
    type,
    position: { x, y: 0 },
    params,
  });
  const edge = (id: string, source: string, target: string, targetPort: string) => ({
    id,
    source,
    sourcePort: "out",
    target,
    targetPort,
  });
  return {
    format: "gradwire.graph",
    version: 2,
    title: w.title,
    settings: { epochs },
    nodes: [
      node("x", "tensor", { data: Array.from(w.x), dtype: "float32" }, 0),
      node("y", "tensor", { data: Array.from(w.y), dtype: "float32" }, 0),
      node("model", "model", { weight: w.w0, bias: w.b0 }, 200),
      node("loss", "mse_loss", {}, 400),
      node("opt", "SGD", { lr: w.lr }, 600),
    ],
    edges: [
      edge("e1", "x", "model", "input"),
      edge("e2", "model", "loss", "input"),
      edge("e3", "y", "loss", "target"),
      edge("e4", "loss", "opt", "loss"),
    ],
  };
}

/** Train through Scheduler + Trainer; the timed part is `trainer.run` (graph loading is outside it). */
export async function trainScheduled(w: LinearWorkload, epochs: number): Promise<RunResult> {
  if (w.optimizer !== "sgd") throw new Error("the scheduled benchmark builds an SGD graph");
  const loaded = loadGraph(graphFile(w, epochs));
  if (!loaded.ok) throw new Error(`benchmark graph does not load:\n${formatProblems(loaded.errors)}`);
  const s = new Scheduler();
  s.setGraph(loaded.doc);
  const t = new Trainer(s, { yieldFn: async () => {} });
  let last: EpochRecord | undefined;
  t.onRecords((rs) => {
    last = rs[rs.length - 1];
  });
  const stop = startClock();
  await t.run();
  const clock = stop();
  if (t.state.status !== "done")
    throw new Error(`scheduled training ended ${t.state.status}: ${t.state.message}`);
  return { ...clock, finalLoss: last ? last.loss : Number.NaN };
}
