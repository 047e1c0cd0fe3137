/**
 * The page's side of training: the scheduler runs in a Web Worker (src/engine/worker.ts); the document is
 * sent once and then every edit as immer patches, so a param changed during training (the learning rate)
 * reaches the trainer for the next epoch. Values, gradients, epoch records and the run state come back as
 * messages and land in signals the canvas, plots and status line read.
 */
import { batch, createMemo, createSignal } from "solid-js";
import { lastRecordOf, type RecordView } from "../../engine/record-columns.ts";
import type { BackendRequest } from "../../engine/scheduler-backend.ts";
import type { TrainState } from "../../engine/train.ts";
import { SchedulerClient, type WorkerLike } from "../../engine/worker-client.ts";
import type { NodeValue, TensorSnapshot } from "../../engine/worker-protocol.ts";
import type { GraphDocument } from "../../graph/document.ts";
import type { TrainingLog } from "../plots/log.ts";
import type { ValueLike } from "../values/torchFormat.ts";
import { coalescedPort } from "./coalesce.ts";
import type { RunController, RunState } from "./types.ts";

export interface Grads {
  objective: string | null;
  params: Record<string, TensorSnapshot>;
  nodes: Record<string, TensorSnapshot>;
  error?: string;
}

/** A node's value as the page shows it: `stale` when it is the last one computed, before the node failed. */
export type ShownValue = NodeValue & { stale?: boolean };

/** Epochs per second over the last couple of seconds of records. */
export class RateMeter {
  private samples: { t: number; epoch: number }[] = [];
  constructor(private readonly windowMs = 2000) {}
  add(t: number, epoch: number): void {
    this.samples.push({ t, epoch });
    while (this.samples.length > 2 && t - this.samples[0].t > this.windowMs) this.samples.shift();
  }
  rate(): number | undefined {
    if (this.samples.length < 2) return undefined;
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    const dt = (b.t - a.t) / 1000;
    return dt > 0 ? (b.epoch - a.epoch) / dt : undefined;
  }
  clear(): void {
    this.samples = [];
  }
}

/** The scheduler worker with the WebGPU backend registered (Vite bundles it as a module worker). */
export function createEditorWorker(): Worker {
  return new Worker(new URL("./scheduler.worker.ts", import.meta.url), {
    type: "module",
    name: "gradwire-scheduler",
  });
}

export interface SessionOptions {
  graph: GraphDocument;
  log: TrainingLog;
  /** Defaults to the real scheduler worker. */
  worker?: WorkerLike & { terminate?(): void };
  /** The backend to ask for (auto: the faster one, measured); the CPU answers with the reason when WebGPU is missing. */
  backend?: BackendRequest;
  /** Why WebGPU is not offered at all (shown on the backend indicator). */
  webgpuReason?: string;
  now?: () => number;
}

function sameRunState(a: RunState, b: RunState): boolean {
  return (
    a.status === b.status &&
    a.epoch === b.epoch &&
    Object.is(a.loss, b.loss) &&
    a.lossDtype === b.lossDtype &&
    Object.is(a.epochsPerSec, b.epochsPerSec) &&
    a.backend.name === b.backend.name &&
    a.backend.reason === b.backend.reason &&
    a.backend.auto === b.backend.auto &&
    a.backend.measuring === b.backend.measuring &&
    a.backend.deciding === b.backend.deciding &&
    a.message === b.message &&
    a.nodeId === b.nodeId
  );
}

/** The elements of a node's leaves that require grad (none before its value arrives). */
function paramsOf(v: NodeValue | undefined): number {
  let n = 0;
  for (const t of Object.values(v?.leaves ?? {})) if (t.requiresGrad) n += t.numel;
  return n;
}

/**
 * How often the trained leaves on a node's face follow the records while training (ms): as often as the node
 * values refresh, rather than with every batch of records, since each update reprints every leaf's numbers.
 */
const FACE_MS = 100;

export function createRunSession(opts: SessionOptions) {
  const worker = opts.worker ?? createEditorWorker();
  // The streaming messages come at most once per animation frame, each frame's in one batch (coalesce.ts).
  const client = new SchedulerClient(coalescedPort(worker));
  const now = opts.now ?? (() => performance.now());
  const meter = new RateMeter();
  const [values, setValues] = createSignal<Record<string, ShownValue>>({});
  const [grads, setGrads] = createSignal<Grads>({ objective: null, params: {}, nodes: {} });
  const [lastRecord, setLastRecord] = createSignal<RecordView | undefined>(undefined);
  /** `lastRecord` at most every FACE_MS (the last one always comes, FACE_MS after the one before it at most). */
  const [faceRecord, setFaceRecord] = createSignal<RecordView | undefined>(undefined);
  let faceAt = Number.NEGATIVE_INFINITY;
  let faceTimer: ReturnType<typeof setTimeout> | null = null;
  const showOnFaces = () => {
    if (faceTimer !== null) return;
    const wait = faceAt + FACE_MS - performance.now();
    const show = () => {
      faceTimer = null;
      faceAt = performance.now();
      setFaceRecord(lastRecord());
    };
    if (wait <= 0) show();
    else faceTimer = setTimeout(show, wait);
  };
  const [workerError, setWorkerError] = createSignal<string | undefined>(undefined);
  const [train, setTrain] = createSignal<TrainState>({
    status: "idle",
    epoch: 0,
    epochs: opts.graph.state.settings.epochs,
    backend: "cpu",
    requested: opts.backend ?? "cpu",
    ...(opts.webgpuReason ? { fallback: opts.webgpuReason } : {}),
  });
  const [rate, setRate] = createSignal<number | undefined>(undefined);

  client.on("values", (m) => {
    setValues((prev) => {
      const next = { ...prev };
      for (const [id, v] of Object.entries(m.nodes)) {
        const before = prev[id];
        // A node that cannot be computed now (an invalid expression upstream) keeps its last value, marked stale.
        next[id] =
          v.error && Object.keys(v.outputs).length === 0 && before && Object.keys(before.outputs).length > 0
            ? { ...v, outputs: before.outputs, leaves: before.leaves, stale: true }
            : v;
      }
      for (const id of m.removed) delete next[id];
      return next;
    });
  });
  client.on("grads", (m) =>
    setGrads({ objective: m.objective, params: m.params, nodes: m.nodes, error: m.error }),
  );
  client.on("records", (m) => {
    const last = lastRecordOf(m.batches);
    if (!last) return;
    meter.add(now(), last.epoch + 1);
    batch(() => {
      opts.log.append(m.batches);
      setLastRecord(last);
      setRate(meter.rate());
      showOnFaces();
    });
  });
  client.on("state", (m) => {
    const s = m.state;
    batch(() => {
      // The worker reports no fallback reason when WebGPU was never asked for; keep ours (why it was not).
      setTrain(
        !s.fallback && s.backend === "cpu" && opts.webgpuReason ? { ...s, fallback: opts.webgpuReason } : s,
      );
      if (s.backend === wanted() || s.fallback || (wanted() === "auto" && s.requested === "auto"))
        setDeciding(false);
      // The last measured speed stays on show after a run ends; a new run measures afresh.
      if (s.status !== "running") meter.clear();
    });
  });
  client.on("error", (m) => setWorkerError(m.message));
  // A worker that fails to load (or throws outside a message) says so here, not through the protocol.
  if (worker instanceof EventTarget)
    worker.addEventListener("error", (e) => {
      const ev = e as ErrorEvent;
      setWorkerError(`the training worker failed: ${ev.message || "it could not be started"}`);
    });

  const disconnect = client.connect(opts.graph);
  const [wanted, setWanted] = createSignal<BackendRequest>(opts.backend ?? "cpu");
  // Until the worker answers, the backend shown is the one asked for, marked as being decided (not "CPU").
  const [deciding, setDeciding] = createSignal(wanted() !== "cpu");
  if (wanted() !== "cpu") client.setBackend(wanted());

  // One RunState per change, shared by every reader (the run controls and status line read it often); an
  // update that changes nothing shown (a values message) notifies no one.
  const state = createMemo(
    (): RunState => {
      const t = train();
      const rec = lastRecord();
      const objective = grads().objective;
      const lossDtype = objective ? values()[objective]?.outputs.out?.dtype : undefined;
      return {
        status: t.status,
        epoch: t.epoch,
        loss: rec?.loss,
        lossDtype,
        epochsPerSec: rate(),
        backend: deciding()
          ? { name: wanted() === "webgpu" ? "webgpu" : "cpu", deciding: true }
          : {
              name: t.backend,
              reason: t.backend === "cpu" ? t.fallback : undefined,
              auto: t.requested === "auto" ? t.reason : undefined,
              measuring: t.measuring,
            },
        message: t.message ?? workerError(),
        nodeId: t.nodeId,
      };
    },
    undefined,
    { equals: sameRunState },
  );

  const clearHistory = () =>
    batch(() => {
      opts.log.clear();
      setLastRecord(undefined);
      setFaceRecord(undefined);
      if (faceTimer !== null) clearTimeout(faceTimer);
      faceTimer = null;
      setRate(undefined);
    });

  const controller: RunController = {
    state,
    run() {
      setWorkerError(undefined);
      const s = train().status;
      // The command's time is the meter's first sample, so a run that ends within one batch of records (whose
      // messages arrive together) still has a speed.
      if (s === "paused") {
        meter.add(now(), train().epoch);
        client.resume();
      } else if (s !== "running") {
        // The trainer starts over from epoch 0 (after a finished run it resets): so do the plots, which may
        // still show the last run (or one restored from before a reload).
        clearHistory();
        meter.clear();
        meter.add(now(), 0);
        client.run();
      }
    },
    pause: () => client.pause(),
    step() {
      setWorkerError(undefined);
      // A step after a finished run starts a new one, as Run does; from a pause it continues the history.
      // (After an error the trainer refuses steps until a reset: the plots stay.)
      if (["idle", "done", "stopped"].includes(train().status)) clearHistory();
      client.step();
    },
    stop: () => client.stop(),
    reset() {
      setWorkerError(undefined);
      clearHistory();
      meter.clear();
      client.reset();
    },
  };

  return {
    controller,
    client,
    /** The backend the user asked for (the state says which one runs, and why not the other). */
    wantedBackend: wanted,
    setBackend(name: BackendRequest) {
      setWanted(name);
      setDeciding(name === "auto" ? train().requested !== "auto" : name !== train().backend);
      client.setBackend(name);
    },
    values,
    grads,
    lastRecord,
    train,
    value(nodeId: string, port = "out"): TensorSnapshot | undefined {
      return values()[nodeId]?.outputs[port];
    },
    /** True when the node's value is from before an error upstream (shown dimmed). */
    valueStale(nodeId: string): boolean {
      return !!values()[nodeId]?.stale;
    },
    nodeError(nodeId: string): string | undefined {
      return values()[nodeId]?.error;
    },
    grad(nodeId: string, port = "out"): TensorSnapshot | undefined {
      if (port !== "out") return undefined;
      const g = grads();
      return g.nodes[nodeId] ?? g.params[nodeId];
    },
    /**
     * A node's trained leaves other than its own output (a model's weight and bias): their values after the
     * last step and their gradients, for the node's face.
     */
    /**
     * The parameters a node owns (its leaves that require grad: a tensor with requires_grad, a model's or a
     * Linear's weight and bias), counted as torch counts them: the sum of their numel.
     */
    paramCount(nodeId: string): number {
      return paramsOf(values()[nodeId]);
    },
    /** Every node's parameters together (the graph's total). */
    paramTotal(): number {
      let n = 0;
      for (const v of Object.values(values())) n += paramsOf(v);
      return n;
    },
    leaves(nodeId: string): { leaf: string; value?: ValueLike; grad?: ValueLike }[] {
      const prefix = `${nodeId}.`;
      const g = grads().params;
      const rec = faceRecord();
      // The node's own leaves as the scheduler holds them: the initial values before any training.
      const owned = values()[nodeId]?.leaves ?? {};
      const names = new Set<string>();
      for (const k of Object.keys(owned)) names.add(prefix + k);
      for (const k of Object.keys(g)) if (k.startsWith(prefix)) names.add(k);
      for (const k of Object.keys(rec?.params ?? {})) if (k.startsWith(prefix)) names.add(k);
      return [...names].map((k) => {
        const snap = g[k];
        const recorded = rec?.params[k];
        const recordedGrad = rec?.grads[k];
        const current = owned[k.slice(prefix.length)];
        const like = (data: ArrayLike<number>): ValueLike => ({
          shape: snap && snap.numel === data.length ? snap.shape : [data.length],
          dtype: snap?.dtype ?? "float32",
          data,
        });
        return {
          leaf: k.slice(prefix.length),
          // The last epoch's record while training (at most every FACE_MS, as fresh as the values), else now.
          value: recorded ? like(recorded) : current,
          grad: recordedGrad ? like(recordedGrad) : snap,
        };
      });
    },
    dispose() {
      if (faceTimer !== null) clearTimeout(faceTimer);
      disconnect();
      worker.terminate?.();
    },
  };
}

export type RunSession = ReturnType<typeof createRunSession>;
