/**
 * The scheduler behind a message port: what src/engine/worker.ts runs in a Web Worker (and tests run over a
 * MessageChannel). Edits are coalesced and evaluated once; records stream in the trainer's batches; node
 * values refresh at most every `valuesIntervalMs` while training, so the page is never flooded.
 */
import { applyPatches, enablePatches } from "immer";
import type { GraphDoc } from "../graph/types.ts";
import { provideCsv } from "../nodes/index.ts";
import type { Tensor } from "../runtime/tensor.ts";
import { insightServer } from "./insight-serve.ts";
import { columnBuffers, toColumns } from "./record-columns.ts";
import { Scheduler } from "./scheduler.ts";
import { BACKEND_NAMES, type BackendRequest } from "./scheduler-backend.ts";
import { Trainer } from "./train.ts";
import {
  type FromWorker,
  type NodeValue,
  snapshot,
  type TensorSnapshot,
  type ToWorker,
  type WorkerOptions,
} from "./worker-protocol.ts";

enablePatches();

/** What a Web Worker's global scope, a MessagePort or a test double offers. */
export interface WorkerPort {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
}

function transfers(msg: FromWorker): Transferable[] {
  const out: Transferable[] = [];
  const add = (s: TensorSnapshot) => out.push(s.data.buffer as ArrayBuffer);
  if (msg.type === "values")
    for (const v of Object.values(msg.nodes))
      [...Object.values(v.outputs), ...Object.values(v.leaves ?? {})].forEach(add);
  if (msg.type === "grads") [...Object.values(msg.params), ...Object.values(msg.nodes)].forEach(add);
  if (msg.type === "records") out.push(...columnBuffers(msg.batches));
  return out;
}

/** Transfers listed by the sender, else those `transfers` finds. */
function transfersOf(msg: FromWorker, given?: Transferable[]): Transferable[] {
  return given ?? transfers(msg);
}

export function serveScheduler(port: WorkerPort, initial: WorkerOptions = {}): { dispose(): void } {
  const opts: Required<WorkerOptions> = {
    previewLimit: 4096,
    recordLimit: 4096,
    gradients: true,
    valuesIntervalMs: 100,
    ...initial,
  };
  const scheduler = new Scheduler();
  const trainer = new Trainer(scheduler, { recordLimit: opts.recordLimit });
  let doc: GraphDoc | null = null;
  /** What the page last got for each node: its version and error (a failing node keeps its version). */
  const posted = new Map<string, string>();
  let pending: ReturnType<typeof setTimeout> | null = null;
  let graphChanged = false;
  let lastValues = 0;
  /** The backend the page asked for (the trainer may be running the CPU instead, with the reason). */
  let wanted: BackendRequest = "cpu";

  const post = (msg: FromWorker, given?: Transferable[]) => port.postMessage(msg, transfersOf(msg, given));
  const insight = insightServer(scheduler, trainer, post);

  const postValues = (all = false) => {
    scheduler.evaluate();
    const nodes: Record<string, NodeValue> = {};
    for (const id of Object.keys(scheduler.graph.nodes)) {
      const version = scheduler.version(id);
      const err = scheduler.error(id);
      const key = `${version}:${err?.message ?? ""}`;
      if (!all && posted.get(id) === key) continue;
      posted.set(id, key);
      const outputs = Object.fromEntries(
        Object.entries(scheduler.outputs(id) ?? {}).map(([p, t]) => [p, snapshot(t, opts.previewLimit)]),
      );
      const owned = Object.entries(scheduler.leaves(id));
      const leaves = Object.fromEntries(owned.map(([k, t]) => [k, snapshot(t, opts.previewLimit)]));
      nodes[id] = {
        version,
        outputs,
        ...(owned.length ? { leaves } : {}),
        ...(err ? { error: err.message } : {}),
      };
    }
    const removed = [...posted.keys()].filter((id) => !(id in scheduler.graph.nodes));
    for (const id of removed) posted.delete(id);
    if (Object.keys(nodes).length || removed.length) post({ type: "values", nodes, removed });
    lastValues = Date.now();
  };

  const postGrads = () => {
    if (!opts.gradients) return;
    const obj = scheduler.objective();
    // A graph without an objective has no gradients: say so, or the page keeps showing the last graph's.
    if (!obj) {
      post({ type: "grads", objective: null, params: {}, nodes: {} });
      return;
    }
    try {
      const g = scheduler.gradients({ nodes: true });
      const pick = (m: Map<string, Tensor>) =>
        Object.fromEntries([...m].map(([k, t]) => [k, snapshot(t, opts.previewLimit)]));
      post({ type: "grads", objective: g.objective, params: pick(g.params), nodes: pick(g.nodes) });
    } catch (e) {
      post({
        type: "grads",
        objective: obj.nodeId,
        params: {},
        nodes: {},
        error: e instanceof Error ? e.message : String(e),
      });
    }
  };

  const refresh = () => {
    pending = null;
    if (graphChanged) {
      graphChanged = false;
      const v = scheduler.validation;
      post({ type: "validation", ok: v.ok, issues: v.issues, metas: v.metas });
    }
    postValues();
    if (trainer.state.status !== "running") postGrads();
  };

  const schedule = () => {
    if (pending === null) pending = setTimeout(refresh, 0);
  };

  const setGraph = (next: GraphDoc) => {
    doc = next;
    scheduler.setGraph(next);
    graphChanged = true;
    schedule();
  };

  trainer.onRecords((records) => {
    // Columns, moved rather than copied: the page's share of a batch is then a few buffers, not an object graph.
    post({ type: "records", batches: toColumns(records) });
    if (Date.now() - lastValues >= opts.valuesIntervalMs) postValues();
  });
  trainer.onState((state) => {
    post({ type: "state", state });
    if (state.status !== "running") schedule();
  });

  const handle = async (msg: ToWorker) => {
    switch (msg.type) {
      case "load":
        posted.clear();
        setGraph(msg.doc);
        return;
      case "patches":
        if (!doc) throw new Error("patches arrived before a graph was loaded");
        setGraph(applyPatches(doc, msg.patches));
        return;
      case "run":
        insight.beforeTraining();
        await trainer.run({ epochs: msg.epochs });
        return;
      case "pause":
        trainer.pause();
        return;
      case "resume":
        await trainer.resume();
        return;
      case "step":
        insight.beforeTraining();
        await trainer.step();
        return;
      case "stop":
        trainer.stop();
        return;
      case "reset":
        await trainer.reset();
        // A fallback is about the graph it met (a float64 node WebGPU cannot run): a reset (the page sends one
        // with every graph it opens) decides afresh, so the next graph is not left on the CPU with that reason.
        if (wanted !== "cpu") await trainer.setBackend(wanted);
        return;
      case "backend":
        wanted = msg.backend;
        await trainer.setBackend(msg.backend);
        return;
      case "refresh":
        graphChanged = true;
        posted.clear();
        refresh();
        return;
      case "csv":
        provideCsv(msg.keys, "text" in msg ? msg.text : new TextDecoder().decode(msg.bytes));
        // Validate again: a node that named this file could not be inferred without it.
        if (doc) setGraph({ ...doc });
        return;
      case "options":
        Object.assign(opts, msg.options);
        trainer.recordLimit = opts.recordLimit;
        return;
      case "boundary":
      case "landscape":
      case "slices":
        await insight.handle(msg);
        return;
    }
  };

  port.onmessage = (ev) => {
    handle(ev.data).catch((e) =>
      post({ type: "error", message: e instanceof Error ? e.message : String(e) }),
    );
  };
  post({ type: "ready", backends: [...BACKEND_NAMES] });
  return {
    dispose() {
      port.onmessage = null;
      trainer.stop();
      if (pending !== null) clearTimeout(pending);
    },
  };
}
