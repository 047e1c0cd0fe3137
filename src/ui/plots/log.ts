/**
 * The training history the plots draw: loss per epoch (and the validation loss beside it, with validation
 * data), the validation metrics per epoch, and each parameter element's value and gradient per epoch, appended in batches as records stream in from the worker. Drawing reads the tables directly; a
 * version signal tells the charts something new arrived.
 */
import { createSignal } from "solid-js";
import { type RecordColumns, rowsOf, widthOf } from "../../engine/record-columns.ts";
import { SeriesTable } from "./series.ts";

/** A parameter with many elements is plotted by its first few; the legend says so. */
export const MAX_SERIES_PER_PARAM = 6;

export interface ParamSeries {
  /** Column name: `w` for a one-element parameter, `w[2]` for an element of a larger one. */
  name: string;
  param: string;
  index: number;
}

export function seriesNames(param: string, size: number): ParamSeries[] {
  if (size === 1) return [{ name: param, param, index: 0 }];
  const n = Math.min(size, MAX_SERIES_PER_PARAM);
  return Array.from({ length: n }, (_, i) => ({ name: `${param}[${i}]`, param, index: i }));
}

export function createTrainingLog() {
  const loss = new SeriesTable();
  const params = new SeriesTable();
  const grads = new SeriesTable();
  const metrics = new SeriesTable();
  const [version, setVersion] = createSignal(0);
  /** The loss table's columns: loss, and val_loss once a record has one. */
  const [lossColumns, setLossColumns] = createSignal<string[]>(["loss"]);
  /** The metrics' names (val_accuracy...), in the order they first came. */
  const [metricColumns, setMetricColumns] = createSignal<string[]>([]);
  const [series, setSeries] = createSignal<ParamSeries[]>([]);
  const [truncated, setTruncated] = createSignal<string[]>([]);
  /** Whether the run reports a learning rate (a scheduler drives it): the loss chart then draws it too. */
  const [hasLr, setHasLr] = createSignal(false);

  /** Each parameter's plotted columns, computed once, and their positions in the params and grads tables. */
  const cols = new Map<string, { series: ParamSeries[]; p: number[]; g: number[] }>();

  /** Append batches of records: each column's values go straight into the tables (thousands arrive a second). */
  const append = (batches: readonly RecordColumns[]) => {
    if (batches.length === 0) return;
    let added: ParamSeries[] | null = null;
    const lossCol = loss.colIndex("loss");
    for (const b of batches) {
      const n = rowsOf(b);
      const first = loss.length;
      for (let i = 0; i < n; i++) loss.set(lossCol, loss.addRow(b.epoch[i]), b.loss[i]);
      if (b.valLoss) {
        const c = loss.colIndex("val_loss");
        for (let i = 0; i < n; i++) loss.set(c, first + i, b.valLoss[i]);
        if (!lossColumns().includes("val_loss")) setLossColumns(["loss", "val_loss"]);
      }
      if (b.lr) {
        const c = loss.colIndex("lr");
        for (let i = 0; i < n; i++) loss.set(c, first + i, b.lr[i]);
        if (!hasLr()) setHasLr(true);
      }
      if (b.metrics) {
        const names = Object.keys(b.metrics);
        const mc = names.map((k) => metrics.colIndex(k));
        for (let i = 0; i < n; i++) {
          const mi = metrics.addRow(b.epoch[i]);
          for (let k = 0; k < names.length; k++) metrics.set(mc[k], mi, b.metrics[names[k]][i]);
        }
        const known = metricColumns();
        const fresh = names.filter((k) => !known.includes(k));
        if (fresh.length > 0) setMetricColumns([...known, ...fresh]);
      }
      const pFirst = params.length;
      const gFirst = grads.length;
      for (let i = 0; i < n; i++) {
        params.addRow(b.epoch[i]);
        grads.addRow(b.epoch[i]);
      }
      for (const id in b.params) {
        const vals = b.params[id];
        const size = widthOf(b, vals);
        let c = cols.get(id);
        if (!c) {
          const series = seriesNames(id, size);
          c = {
            series,
            p: series.map((s) => params.colIndex(s.name)),
            g: series.map((s) => grads.colIndex(s.name)),
          };
          cols.set(id, c);
          added ??= [];
          added.push(...series);
          if (size > MAX_SERIES_PER_PARAM) setTruncated((t) => [...t, id]);
        }
        const g = b.grads[id];
        const gSize = g ? widthOf(b, g) : 0;
        const { series, p, g: gc } = c;
        for (let k = 0; k < series.length; k++) {
          const e = series[k].index;
          for (let i = 0; i < n; i++) params.set(p[k], pFirst + i, vals[i * size + e]);
          if (e < gSize)
            for (let i = 0; i < n; i++) grads.set(gc[k], gFirst + i, (g as Float64Array)[i * gSize + e]);
        }
      }
    }
    if (added) setSeries((s) => [...s, ...(added as ParamSeries[])]);
    // One table grows early per batch, before it is full: each grow is its own task, not one task for all.
    for (const t of [loss, params, grads, metrics]) if (t.growEarly()) break;
    setVersion((v) => v + 1);
  };

  const clear = () => {
    loss.clear();
    params.clear();
    grads.clear();
    metrics.clear();
    cols.clear();
    setLossColumns(["loss"]);
    setMetricColumns([]);
    setSeries([]);
    setTruncated([]);
    setHasLr(false);
    setVersion((v) => v + 1);
  };

  const lastLoss = () => (loss.length ? loss.view("loss")[loss.length - 1] : undefined);

  return {
    loss,
    params,
    grads,
    metrics,
    version,
    series,
    truncated,
    hasLr,
    lossColumns,
    metricColumns,
    append,
    clear,
    lastLoss,
  };
}

export type TrainingLog = ReturnType<typeof createTrainingLog>;
