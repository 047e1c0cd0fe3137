/** The streaming plot machinery: decimation keeps extremes, tables grow, redraws coalesce per frame. */
import { createRoot } from "solid-js";
import { describe, expect, it } from "vitest";
import { toColumns } from "../../src/engine/record-columns.ts";
import type { EpochRecord } from "../../src/engine/train.ts";
import { decimate } from "../../src/ui/plots/downsample.ts";
import { frameLoop } from "../../src/ui/plots/frame.ts";
import { createTrainingLog, MAX_SERIES_PER_PARAM } from "../../src/ui/plots/log.ts";
import { SeriesTable } from "../../src/ui/plots/series.ts";

describe("decimate", () => {
  it("keeps short series whole", () => {
    const d = decimate([0, 1, 2], [[5, 6, 7]], 3, 100);
    expect([...d.x]).toEqual([0, 1, 2]);
    expect([...d.ys[0]]).toEqual([5, 6, 7]);
  });

  it("shrinks a long series to a few points per bucket, keeping every bucket's extremes and NaNs", () => {
    const n = 200_000;
    const x = Float64Array.from({ length: n }, (_, i) => i);
    const y = Float64Array.from({ length: n }, (_, i) => Math.sin(i / 1000));
    y[123_457] = 50; // a spike
    y[150_000] = -50;
    y[170_001] = Number.NaN; // divergence
    const other = Float64Array.from({ length: n }, (_, i) => i * 2);
    const d = decimate(x, [y, other], n, 500);
    expect(d.x.length).toBeLessThanOrEqual(500 * 5);
    expect(d.x.length).toBeGreaterThan(500);
    expect(Math.max(...d.ys[0].filter((v) => !Number.isNaN(v)))).toBe(50);
    expect(Math.min(...d.ys[0].filter((v) => !Number.isNaN(v)))).toBe(-50);
    expect(d.ys[0].some(Number.isNaN)).toBe(true);
    expect(d.x[0]).toBe(0);
    expect(d.x[d.x.length - 1]).toBe(n - 1);
    // Columns stay aligned on x.
    d.x.forEach((xv, i) => {
      expect(d.ys[1][i]).toBe(xv * 2);
    });
    for (let i = 1; i < d.x.length; i++) expect(d.x[i]).toBeGreaterThan(d.x[i - 1]);
  });
});

describe("SeriesTable", () => {
  it("grows past its capacity and pads late columns with NaN", () => {
    const t = new SeriesTable(2);
    for (let i = 0; i < 10; i++) t.push(i, i < 5 ? { a: i } : { a: i, b: -i });
    expect(t.length).toBe(10);
    expect([...t.view("a")]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(t.view("b").slice(0, 5).every(Number.isNaN)).toBe(true);
    expect([...t.view("b").slice(5)]).toEqual([-5, -6, -7, -8, -9]);
    t.clear();
    expect(t.length).toBe(0);
  });

  it("grows early, once three quarters full, keeping its rows", () => {
    const t = new SeriesTable(8);
    for (let i = 0; i < 5; i++) t.push(i, { a: i });
    expect(t.growEarly()).toBe(false);
    t.push(5, { a: 5 });
    expect(t.growEarly()).toBe(true);
    expect(t.x.length).toBe(16);
    expect(t.growEarly()).toBe(false);
    t.push(6, {});
    expect([...t.view("a")]).toEqual([0, 1, 2, 3, 4, 5, Number.NaN]);
    expect([...t.xView()]).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("starts small again after a clear: the next run's new columns are not made at the last run's size", () => {
    const t = new SeriesTable(4);
    for (let i = 0; i < 1000; i++) t.push(i, { loss: i });
    expect(t.col("loss").length).toBeGreaterThanOrEqual(1000);
    t.clear();
    t.push(0, { "w[0]": 1 });
    expect(t.col("w[0]").length).toBe(4);
    expect(t.x.length).toBe(4);
    expect([...t.view("w[0]")]).toEqual([1]);
    expect([...t.xView()]).toEqual([0]);
  });
});

describe("SeriesTable rows by column position", () => {
  it("addRow leaves every column NaN but those set, across grows and clears", () => {
    const t = new SeriesTable(2);
    const a = t.colIndex("a");
    for (let i = 0; i < 9; i++) {
      const row = t.addRow(i);
      if (i % 3 !== 2) t.set(a, row, 10 * i);
      if (i >= 4) t.set(t.colIndex("b"), row, -i);
    }
    expect([...t.xView()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...t.view("a")]).toEqual([0, 10, Number.NaN, 30, 40, Number.NaN, 60, 70, Number.NaN]);
    expect([...t.view("b")]).toEqual([Number.NaN, Number.NaN, Number.NaN, Number.NaN, -4, -5, -6, -7, -8]);
    t.clear();
    const c = t.colIndex("c");
    t.set(c, t.addRow(0), 1);
    expect(t.columns()).toEqual(["c"]);
    expect([...t.view("c")]).toEqual([1]);
  });
});

describe("frameLoop", () => {
  it("draws once per frame however many requests arrive", () => {
    const frames: (() => void)[] = [];
    let draws = 0;
    const loop = frameLoop(
      () => draws++,
      (cb) => frames.push(cb),
      () => {},
    );
    for (let i = 0; i < 100; i++) loop.request();
    expect(frames.length).toBe(1);
    frames.shift()?.();
    expect(draws).toBe(1);
    loop.request();
    loop.request();
    expect(frames.length).toBe(1);
  });

  it("spaces draws by a minimum interval without dropping the last request", () => {
    const frames: (() => void)[] = [];
    let t = 0;
    let draws = 0;
    const loop = frameLoop(
      () => draws++,
      (cb) => frames.push(cb),
      () => {},
      33,
      () => t,
    );
    loop.request();
    t = 100;
    frames.shift()?.();
    expect(draws).toBe(1);
    loop.request();
    t = 116;
    frames.shift()?.(); // 16 ms later: too soon, the request waits for a later frame
    expect(draws).toBe(1);
    expect(frames.length).toBe(1);
    t = 140;
    frames.shift()?.();
    expect(draws).toBe(2);
  });

  it("reads an interval given as a function before each frame", () => {
    const frames: (() => void)[] = [];
    let t = 0;
    let gap = 10;
    let draws = 0;
    const loop = frameLoop(
      () => draws++,
      (cb) => frames.push(cb),
      () => {},
      () => gap,
      () => t,
    );
    loop.request();
    t = 100;
    frames.shift()?.();
    gap = 200;
    loop.request();
    t = 150;
    frames.shift()?.();
    expect(draws).toBe(1);
    t = 300;
    frames.shift()?.();
    expect(draws).toBe(2);
  });
});

describe("training log", () => {
  it("turns epoch records into loss, value and gradient columns per parameter element", () => {
    createRoot((dispose) => {
      const log = createTrainingLog();
      const v0 = log.version();
      log.append(
        toColumns([
          {
            epoch: 0,
            loss: 3,
            params: { w: [1], "m.weight": [1, 2, 3, 4, 5, 6, 7, 8] },
            grads: { w: [0.5], "m.weight": [0, 0, 0, 0, 0, 0, 0, 0] },
          },
          {
            epoch: 1,
            loss: 2,
            params: { w: [0.9], "m.weight": [1, 2, 3, 4, 5, 6, 7, 8] },
            grads: { w: [0.4], "m.weight": [0, 0, 0, 0, 0, 0, 0, 0] },
          },
        ]),
      );
      expect(log.version()).toBeGreaterThan(v0);
      expect([...log.loss.view("loss")]).toEqual([3, 2]);
      expect([...log.params.view("w")]).toEqual([1, 0.9]);
      expect([...log.grads.view("w")]).toEqual([0.5, 0.4]);
      expect(log.series().map((s) => s.name)).toEqual([
        "w",
        ...Array.from({ length: MAX_SERIES_PER_PARAM }, (_, i) => `m.weight[${i}]`),
      ]);
      expect(log.truncated()).toEqual(["m.weight"]);
      expect(log.lastLoss()).toBe(2);
      log.clear();
      expect(log.loss.length).toBe(0);
      expect(log.series()).toEqual([]);
      dispose();
    });
  });

  it("reads the worker's columns as records: NaN and infinite losses kept, a parameter added mid-run a gap before", () => {
    const losses = [3, Number.NaN, Number.POSITIVE_INFINITY, 1, 0.5];
    const records = losses.map(
      (loss, epoch): EpochRecord => ({
        epoch,
        loss,
        params: epoch < 2 ? { w: [epoch] } : { w: [epoch], b: [10 * epoch, -epoch] },
        grads: epoch < 2 ? { w: [-epoch] } : { w: [-epoch], b: [1, 2] },
        ...(epoch >= 3 ? { metrics: { val_mse: epoch / 10 } } : {}),
      }),
    );
    createRoot((dispose) => {
      const whole = createTrainingLog();
      whole.append(toColumns(records));
      // The same records one message each, as a slow run streams them.
      const single = createTrainingLog();
      for (const r of records) single.append(toColumns([r]));
      for (const log of [whole, single]) {
        expect([...log.loss.xView()]).toEqual([0, 1, 2, 3, 4]);
        expect([...log.loss.view("loss")]).toEqual(losses);
        expect(log.series().map((s) => s.name)).toEqual(["w", "b[0]", "b[1]"]);
        expect([...log.params.view("w")]).toEqual([0, 1, 2, 3, 4]);
        expect([...log.params.view("b[1]")]).toEqual([Number.NaN, Number.NaN, -2, -3, -4]);
        expect([...log.grads.view("b[1]")]).toEqual([Number.NaN, Number.NaN, 2, 2, 2]);
        expect([...log.metrics.xView()]).toEqual([3, 4]);
        expect([...log.metrics.view("val_mse")]).toEqual([0.3, 0.4]);
      }
      dispose();
    });
  });

  it("keeps the validation loss beside the loss and the validation metrics per epoch", () => {
    createRoot((dispose) => {
      const log = createTrainingLog();
      log.append(toColumns([{ epoch: 0, loss: 3, params: {}, grads: {} }]));
      expect(log.lossColumns()).toEqual(["loss"]);
      expect(log.metricColumns()).toEqual([]);
      log.append(
        toColumns([
          { epoch: 1, loss: 2, valLoss: 2.5, metrics: { val_accuracy: 0.5 }, params: {}, grads: {} },
          { epoch: 2, loss: 1, valLoss: 1.5, metrics: { val_accuracy: 0.75 }, params: {}, grads: {} },
        ]),
      );
      expect(log.lossColumns()).toEqual(["loss", "val_loss"]);
      expect([...log.loss.view("val_loss")]).toEqual([Number.NaN, 2.5, 1.5]);
      expect(log.metricColumns()).toEqual(["val_accuracy"]);
      expect([...log.metrics.xView()]).toEqual([1, 2]);
      expect([...log.metrics.view("val_accuracy")]).toEqual([0.5, 0.75]);
      log.clear();
      expect(log.lossColumns()).toEqual(["loss"]);
      expect(log.metricColumns()).toEqual([]);
      dispose();
    });
  });
});
