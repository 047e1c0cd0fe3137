/** The page's side of the scheduler worker: typed commands, typed subscriptions, and document syncing. */
import type { GraphDocument } from "../graph/document.ts";
import type { GraphDoc } from "../graph/types.ts";
import { followProvidedCsv } from "../nodes/index.ts";
import type { ParamCoord } from "./landscape.ts";
import type { BackendRequest } from "./scheduler-backend.ts";
import type { FromWorker, ToWorker, WorkerOptions } from "./worker-protocol.ts";

/** A Worker, a MessagePort, or anything with the same two members. */
export interface WorkerLike {
  postMessage(message: ToWorker, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<FromWorker>) => void) | null;
}

type Handler<T extends FromWorker["type"]> = (msg: Extract<FromWorker, { type: T }>) => void;

/** Start the scheduler worker (browser: Vite bundles worker.ts as a module worker). */
export function createSchedulerWorker(): Worker {
  return new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "gradwire-scheduler" });
}

export class SchedulerClient {
  private readonly handlers = new Map<FromWorker["type"], Set<(msg: FromWorker) => void>>();

  constructor(private readonly port: WorkerLike) {
    port.onmessage = (ev) => {
      for (const h of this.handlers.get(ev.data.type) ?? []) h(ev.data);
    };
  }

  on<T extends FromWorker["type"]>(type: T, handler: Handler<T>): () => void {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
    }
    const h = handler as (msg: FromWorker) => void;
    set.add(h);
    return () => set.delete(h);
  }

  private send(msg: ToWorker): void {
    this.port.postMessage(msg);
  }

  load(doc: GraphDoc): void {
    this.send({ type: "load", doc });
  }

  /**
   * Load the document now and forward every later edit (undo and redo included) as patches, and every CSV file
   * the page is given (before the edit that uses it, since files are provided first).
   */
  connect(document: GraphDocument): () => void {
    const stopFiles = followProvidedCsv((keys, text, bytes) => {
      // A large file's bytes are moved to the worker, which decodes them as the page did: copying a 100 MB text
      // would hold up the page.
      if (bytes && bytes.byteLength > 0)
        this.port.postMessage({ type: "csv", keys: [...keys], bytes }, [bytes]);
      else this.send({ type: "csv", keys: [...keys], text });
    });
    this.load(document.state);
    const stopEdits = document.subscribe((_state, change) =>
      this.send({ type: "patches", patches: change.patches }),
    );
    return () => {
      stopFiles();
      stopEdits();
    };
  }

  run(epochs?: number): void {
    this.send(epochs === undefined ? { type: "run" } : { type: "run", epochs });
  }
  pause(): void {
    this.send({ type: "pause" });
  }
  resume(): void {
    this.send({ type: "resume" });
  }
  step(): void {
    this.send({ type: "step" });
  }
  stop(): void {
    this.send({ type: "stop" });
  }
  reset(): void {
    this.send({ type: "reset" });
  }
  setBackend(backend: BackendRequest): void {
    this.send({ type: "backend", backend });
  }
  refresh(): void {
    this.send({ type: "refresh" });
  }
  setOptions(options: WorkerOptions): void {
    this.send({ type: "options", options });
  }
  /** Ask for the decision boundary; the answer is a "boundary" message with the same id. */
  boundary(id: number, n?: number): void {
    this.send(n === undefined ? { type: "boundary", id } : { type: "boundary", id, n });
  }
  /** Ask for the loss over a grid of two parameter elements' values (a "landscape" message answers). */
  landscape(id: number, a: ParamCoord, b: ParamCoord, xs: number[], ys: number[]): void {
    this.send({ type: "landscape", id, a, b, xs, ys });
  }
  /** Ask for the loss along the gradient and random directions (a "slices" message answers). */
  slices(id: number, alphas: number[], random?: number): void {
    this.send(random === undefined ? { type: "slices", id, alphas } : { type: "slices", id, alphas, random });
  }
}
