/**
 * The worker's side of the insight views (landscape.ts): the decision boundary, the loss landscape and its
 * 1-D slices, evaluated at the parameters of the last epoch record (so a WebGPU run, whose CPU leaves are
 * synced only now and then, is seen where it is). A landscape grid is computed in bands of rows, each one
 * batched pass sized to take about SLICE_MS, yielding between them, so training and edits keep going while it
 * fills; a newer request or an edit abandons it.
 */
import {
  decisionBoundary,
  leavesAt,
  lossLandscape,
  lossLandscapeOn,
  lossSlices,
  lossSlicesOn,
  modelIO,
} from "./landscape.ts";
import type { Scheduler } from "./scheduler.ts";
import { type Backend, resolveBackend } from "./scheduler-backend.ts";
import type { EpochRecord, Trainer } from "./train.ts";
import type { FromWorker, ToWorker } from "./worker-protocol.ts";

type InsightRequest = Extract<ToWorker, { type: "boundary" | "landscape" | "slices" }>;

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const macrotask = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** How long one slice of a landscape runs before yielding (ms). */
const SLICE_MS = 24;

export function insightServer(
  scheduler: Scheduler,
  trainer: Trainer,
  post: (msg: FromWorker, transfer?: Transferable[]) => void,
) {
  let last: EpochRecord | undefined;
  /** The trained values before the run's first step. */
  let start: Record<string, number[]> | undefined;
  /** Bumped by each landscape request: an older one still filling stops. */
  let landscapeTicket = 0;

  /**
   * The device backend training runs on (WebGPU), whose device then evaluates the grids too; not a software
   * GPU (SwiftShader), which computes on the CPU's cores and is slower there than the CPU's own batched pass
   * (bench/UI-RESULTS.md).
   */
  const device = async (): Promise<Backend | undefined> => {
    if (trainer.state.backend !== "webgpu") return undefined;
    const r = await resolveBackend("webgpu");
    if (r.fallback || !r.backend.evaluator || r.backend.adapter?.software !== false) return undefined;
    return r.backend;
  };

  const captureStart = () => {
    start = Object.fromEntries(scheduler.trainables().map((t) => [t.id, Array.from(t.tensor.data)]));
  };

  trainer.onRecords((records) => {
    if (records.length) last = records[records.length - 1];
  });
  trainer.onState((s) => {
    // A reset (or a new graph) starts a new history.
    if (s.epoch === 0 && s.status !== "running") {
      last = undefined;
      start = undefined;
    }
  });

  const boundary = (msg: Extract<InsightRequest, { type: "boundary" }>) => {
    try {
      scheduler.evaluate();
      const io = modelIO(scheduler);
      if (!io) {
        post({
          type: "boundary",
          id: msg.id,
          error:
            "no model input found: the loss's input should come from a tensor of one or two features per sample",
        });
        return;
      }
      const result = decisionBoundary(scheduler, io, { n: msg.n, leaves: leavesAt(scheduler, last?.params) });
      post({ type: "boundary", id: msg.id, result }, [
        result.grid.buffer as ArrayBuffer,
        result.predicted.buffer as ArrayBuffer,
      ]);
    } catch (e) {
      post({ type: "boundary", id: msg.id, error: message(e) });
    }
  };

  const landscape = async (msg: Extract<InsightRequest, { type: "landscape" }>) => {
    const ticket = ++landscapeTicket;
    const revision = scheduler.revision;
    const { xs, ys, a, b } = msg;
    const reply = { type: "landscape" as const, id: msg.id, xs, ys };
    try {
      scheduler.evaluate();
      // Before the first step, the start is wherever the parameters are now (edits included).
      if (trainer.state.epoch === 0 && trainer.state.status !== "running") captureStart();
      const at = last?.params;
      const total = scheduler.trainables().reduce((n, t) => n + t.tensor.numel, 0);
      const others = total > (a.param === b.param && a.index === b.index ? 1 : 2);
      const gpu = await device();
      if (gpu) {
        // One batched program on the device (its chunks await the GPU, so the worker keeps answering).
        const loss = await lossLandscapeOn(gpu, scheduler, { a, b, xs, ys, at });
        if (ticket !== landscapeTicket) return;
        if (scheduler.revision !== revision)
          post({ ...reply, others, error: "the graph changed while the landscape was computed" });
        else post({ ...reply, loss, others, start }, [loss.buffer as ArrayBuffer]);
        return;
      }
      const loss = new Float64Array(xs.length * ys.length);
      let row = 0;
      /** Rows per band: one batched pass each, sized so that a band takes about SLICE_MS. */
      let band = 1;
      while (row < ys.length) {
        const t0 = performance.now();
        const rows = Math.min(band, ys.length - row);
        const part = lossLandscape(scheduler, { a, b, xs, ys: ys.slice(row, row + rows), at });
        loss.set(part, row * xs.length);
        row += rows;
        const perRow = (performance.now() - t0) / rows;
        band = Math.max(1, Math.floor(SLICE_MS / Math.max(perRow, 1e-3)));
        if (row < ys.length) await macrotask();
        if (ticket !== landscapeTicket) return;
        if (scheduler.revision !== revision) {
          post({ ...reply, others, error: "the graph changed while the landscape was computed" });
          return;
        }
      }
      post({ ...reply, loss, others, start }, [loss.buffer as ArrayBuffer]);
    } catch (e) {
      post({ ...reply, others: false, error: message(e) });
    }
  };

  const slices = async (msg: Extract<InsightRequest, { type: "slices" }>) => {
    try {
      scheduler.evaluate();
      const req = { alphas: msg.alphas, random: msg.random, at: last?.params, grads: last?.grads };
      const gpu = await device();
      const result = gpu ? await lossSlicesOn(gpu, scheduler, req) : lossSlices(scheduler, req);
      post({ type: "slices", id: msg.id, alphas: msg.alphas, slices: result });
    } catch (e) {
      post({ type: "slices", id: msg.id, alphas: msg.alphas, error: message(e) });
    }
  };

  return {
    /** Before a run or step command: remember where the run starts, when it starts from epoch 0. */
    beforeTraining() {
      if (trainer.state.epoch === 0) captureStart();
    },
    handle(msg: InsightRequest): Promise<void> | void {
      if (msg.type === "boundary") return boundary(msg);
      if (msg.type === "landscape") return landscape(msg);
      return slices(msg);
    },
  };
}
