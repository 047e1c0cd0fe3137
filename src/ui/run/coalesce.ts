/**
 * The worker's streaming messages, at most once per animation frame. While training, the worker posts a batch
 * of epoch records every few milliseconds and node values every 100 ms; handled one by one, each message is its
 * own main-thread task that sets signals, reformats previews and redraws. Here the records and values that
 * arrive within a frame are merged into one records message and one values message, and of the run states that
 * only count on (the same status) the last is kept; they are handed to the handlers together in one Solid batch,
 * in the order the worker sends them within a slice (records, values, state). Every other message (a state with
 * a new status, grads, answers to requests) first delivers what is queued, so the handlers never see a message
 * before one the worker sent earlier.
 */
import { batch } from "solid-js";
import type { WorkerLike } from "../../engine/worker-client.ts";
import type { FromWorker, NodeValue, ToWorker } from "../../engine/worker-protocol.ts";

type Records = Extract<FromWorker, { type: "records" }>;
type Values = Extract<FromWorker, { type: "values" }>;
type State = Extract<FromWorker, { type: "state" }>;

/** The next animation frame where there is one (a page), else the next macrotask (Node tests). */
function nextFrame(fn: () => void): void {
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(() => fn());
  else setTimeout(fn, 0);
}

/** `later` applied after `earlier`: a node's latest value wins; a node removed and then sent again is kept. */
export function mergeValues(earlier: Values, later: Values): Values {
  const nodes: Record<string, NodeValue> = { ...earlier.nodes };
  for (const id of later.removed) delete nodes[id];
  Object.assign(nodes, later.nodes);
  const removed = new Set(earlier.removed.filter((id) => !(id in later.nodes)));
  for (const id of later.removed) removed.add(id);
  return { type: "values", nodes, removed: [...removed] };
}

/**
 * `port` as a WorkerLike whose records and values messages come at most once per frame (`schedule` picks when:
 * by default the next animation frame).
 */
export function coalescedPort(
  port: WorkerLike,
  schedule: (flush: () => void) => void = nextFrame,
): WorkerLike {
  let handler: ((ev: MessageEvent<FromWorker>) => void) | null = null;
  let records: Records | null = null;
  let values: Values | null = null;
  let state: State | null = null;
  /** The status of the last state message received (queued or delivered). */
  let status: string | undefined;
  let scheduled = false;
  const deliver = (data: FromWorker) => handler?.({ data } as MessageEvent<FromWorker>);
  const flush = () => {
    scheduled = false;
    if (!records && !values && !state) return;
    const queued = [records, values, state];
    records = null;
    values = null;
    state = null;
    batch(() => {
      for (const m of queued) if (m) deliver(m);
    });
  };
  port.onmessage = (ev) => {
    const m = ev.data;
    if (m.type === "records") {
      records = records ? { type: "records", batches: records.batches.concat(m.batches) } : m;
    } else if (m.type === "values") {
      values = values ? mergeValues(values, m) : m;
    } else if (m.type === "state" && m.state.status === status) {
      state = m;
    } else {
      if (m.type === "state") status = m.state.status;
      flush();
      deliver(m);
      return;
    }
    if (!scheduled) {
      scheduled = true;
      schedule(flush);
    }
  };
  return {
    postMessage: (message: ToWorker, transfer?: Transferable[]) =>
      transfer ? port.postMessage(message, transfer) : port.postMessage(message),
    get onmessage() {
      return handler;
    },
    set onmessage(h) {
      handler = h;
    },
  };
}
