/**
 * The worker's streaming messages, merged per frame (src/ui/run/coalesce.ts): the handlers see every record, the
 * latest value of each node, and no message before one the worker sent earlier.
 */
import { describe, expect, it } from "vitest";
import { toColumns } from "../../src/engine/record-columns.ts";
import type { TrainState } from "../../src/engine/train.ts";
import type { WorkerLike } from "../../src/engine/worker-client.ts";
import type { FromWorker, NodeValue, ToWorker } from "../../src/engine/worker-protocol.ts";
import { coalescedPort, mergeValues } from "../../src/ui/run/coalesce.ts";

/** A port the test sends the worker's messages through, and the frames it flushes by hand. */
function setup() {
  const sent: ToWorker[] = [];
  const raw: WorkerLike = {
    postMessage: (m) => sent.push(m),
    onmessage: null,
  };
  const frames: (() => void)[] = [];
  const port = coalescedPort(raw, (flush) => frames.push(flush));
  const got: FromWorker[] = [];
  port.onmessage = (ev) => got.push(ev.data);
  const from = (data: FromWorker) => raw.onmessage?.({ data } as MessageEvent<FromWorker>);
  const frame = () => {
    for (const f of frames.splice(0)) f();
  };
  return { sent, port, got, from, frame };
}

/** Records of these epochs as the worker sends them (columns), and a records message of them. */
const columns = (...epochs: number[]) =>
  toColumns(epochs.map((epoch) => ({ epoch, loss: 1 / (epoch + 1), params: {}, grads: {} })));
const records = (...epochs: number[]): FromWorker => ({ type: "records", batches: columns(...epochs) });
const val = (version: number): NodeValue => ({ version, outputs: {} });
const state = (status: TrainState["status"], epoch: number): FromWorker => ({
  type: "state",
  state: { status, epoch, epochs: 100, backend: "cpu", requested: "cpu" },
});

describe("coalesced worker messages", () => {
  it("merges a frame's records, values and running states into one message each, in the worker's order", () => {
    const { got, from, frame } = setup();
    from(state("running", 0));
    expect(got.map((m) => m.type)).toEqual(["state"]);
    from(records(0, 1));
    from(state("running", 2));
    from({ type: "values", nodes: { a: val(1), b: val(1) }, removed: [] });
    from(records(2));
    from(state("running", 3));
    from({ type: "values", nodes: { a: val(2) }, removed: ["c"] });
    expect(got).toHaveLength(1);
    frame();
    expect(got.slice(1)).toEqual([
      { type: "records", batches: [...columns(0, 1), ...columns(2)] },
      { type: "values", nodes: { a: val(2), b: val(1) }, removed: ["c"] },
      state("running", 3),
    ]);
    frame();
    expect(got).toHaveLength(4);
  });

  it("delivers what is queued before a message that cannot wait (a new status, grads)", () => {
    const { got, from, frame } = setup();
    from(state("running", 0));
    from(records(0));
    from(state("paused", 1));
    expect(got.map((m) => m.type)).toEqual(["state", "records", "state"]);
    from({ type: "values", nodes: { a: val(3) }, removed: [] });
    from({ type: "grads", objective: null, params: {}, nodes: {} });
    expect(got.map((m) => m.type)).toEqual(["state", "records", "state", "values", "grads"]);
    frame();
    expect(got).toHaveLength(5);
  });

  it("keeps a node removed and then sent again, and drops one sent and then removed", () => {
    const a = { type: "values", nodes: { x: val(1), y: val(1) }, removed: ["z"] } as const;
    expect(
      mergeValues(
        { ...a, removed: [...a.removed] },
        { type: "values", nodes: { z: val(2) }, removed: ["y"] },
      ),
    ).toEqual({ type: "values", nodes: { x: val(1), z: val(2) }, removed: ["y"] });
  });

  it("passes the page's commands through", () => {
    const { sent, port } = setup();
    port.postMessage({ type: "pause" });
    expect(sent).toEqual([{ type: "pause" }]);
  });
});
