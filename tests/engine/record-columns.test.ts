/**
 * Epoch records as columns (src/engine/record-columns.ts), the form the worker streams them in: every value
 * comes back as it went in, non-finite losses included, through a real MessageChannel with the buffers moved.
 */
import { describe, expect, it } from "vitest";
import {
  columnBuffers,
  type RecordColumns,
  recordAt,
  toColumns,
  toRecords,
} from "../../src/engine/record-columns.ts";
import type { EpochRecord } from "../../src/engine/train.ts";

/** `batches` posted over a MessageChannel with their buffers transferred, as the page receives them. */
function posted(batches: RecordColumns[]): Promise<RecordColumns[]> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port2.onmessage = (ev) => {
      port1.close();
      port2.close();
      resolve(ev.data as RecordColumns[]);
    };
    port1.postMessage(batches, columnBuffers(batches));
  });
}

const LOSSES = [2.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e-310];

function records(): EpochRecord[] {
  return LOSSES.map((loss, epoch) => ({
    epoch,
    loss,
    params: { w: [1 - epoch / 10], "m.weight": [0.1, Number.NaN, epoch, Number.POSITIVE_INFINITY] },
    grads: { w: [epoch / 3], "m.weight": [0, 1, 2, -epoch] },
    steps: [loss, epoch],
    valLoss: loss / 2,
    metrics: { val_accuracy: epoch / 6, val_mae: Number.NaN },
    lr: 0.1 * 0.5 ** epoch,
  }));
}

describe("epoch records as columns", () => {
  it("keeps every value, NaN and infinite losses included, through a real transfer", async () => {
    const rs = records();
    const batches = toColumns(rs);
    expect(batches).toHaveLength(1);
    const b = batches[0];
    expect(Array.from(b.loss)).toEqual(LOSSES);
    // One row of the tensor's size per record.
    expect(Array.from(b.params["m.weight"].subarray(8, 12))).toEqual([
      0.1,
      Number.NaN,
      2,
      Number.POSITIVE_INFINITY,
    ]);
    expect(recordAt(b, 3).grads["m.weight"]).toEqual(new Float64Array([0, 1, 2, -3]));
    const got = await posted(batches);
    // Moved, not copied: the sender's arrays are detached.
    expect(b.epoch.byteLength).toBe(0);
    expect(b.params.w.byteLength).toBe(0);
    expect(got[0].loss).toBeInstanceOf(Float64Array);
    expect(Object.is(got[0].loss[4], -0)).toBe(true);
    expect(toRecords(got)).toEqual(rs);
  });

  it("starts a new batch where the records' shape changes, so no column needs a mask", () => {
    const base = (epoch: number): EpochRecord => ({
      epoch,
      loss: 1 / (epoch + 1),
      params: { w: [epoch] },
      grads: {},
    });
    const rs: EpochRecord[] = [
      base(0),
      base(1),
      // A parameter added by an edit while training.
      { ...base(2), params: { w: [2], b: [0, 0] } },
      { ...base(3), params: { w: [3], b: [1, 1] } },
      // Validation metrics from here on, then a resized parameter.
      { ...base(4), params: { w: [4], b: [2, 2] }, valLoss: 0.5, metrics: { val_mse: 0.5 } },
      { ...base(5), params: { w: [5], b: [3, 3, 3] }, valLoss: 0.5, metrics: { val_mse: 0.5 } },
      { ...base(6), params: { w: [6], b: [3, 3, 3] }, valLoss: 0.5, metrics: { val_mse: 0.5 } },
    ];
    const batches = toColumns(rs);
    expect(batches.map((b) => Array.from(b.epoch))).toEqual([[0, 1], [2, 3], [4], [5, 6]]);
    expect(batches[3].params.b).toHaveLength(6);
    expect(batches[1].valLoss).toBeUndefined();
    expect(toRecords(batches)).toEqual(rs);
    expect(toColumns([])).toEqual([]);
  });
});
