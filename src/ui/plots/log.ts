/**
 * The training history the plots draw: loss per epoch (and the validation loss beside it, with validation
 * data), the validation metrics per epoch, and each parameter element's value and gradient per epoch, appended in batches as records stream in from the worker. Drawing reads the tables directly; a
 * version signal tells the charts something new arrived.
 */
import { createSignal } from "solid-js";
import { SeriesTable } from "./series.ts";

export interface EpochRecord {
  epoch: number;
  loss: number;
  /** Parameter values after the step, by trainable id (flat). */
  params: Record<string, ArrayLike<number>>;
  /** Gradients the step used, by trainable id (flat). */
  grads?: Record<string, ArrayLike<number>>;
  /** The loss on the validation data after the epoch (a DataLoader's val_x and val_y). */
  valLoss?: number;
  /** Validation metrics after the epoch: val_accuracy, or val_mse and val_mae. */
  metrics?: Record<string, number>;
  /** With a learning-rate scheduler: the learning rate of the epoch's first step. */
  lr?: number;
}

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

  const append = (records: readonly EpochRecord[]) => {
    if (records.length === 0) return;
    let added: ParamSeries[] | null = null;
    // Values go straight into the tables' columns: no object per record (thousands arrive a second).
    const lossCol = loss.colIndex("loss");
    for (const r of records) {
      const li = loss.addRow(r.epoch);
      loss.set(lossCol, li, r.loss);
      if (r.valLoss !== undefined) {
        loss.set(loss.colIndex("val_loss"), li, r.valLoss);
        if (!lossColumns().includes("val_loss")) setLossColumns(["loss", "val_loss"]);
      }
      if (r.lr !== undefined) {
        loss.set(loss.colIndex("lr"), li, r.lr);
        if (!hasLr()) setHasLr(true);
      }
      if (r.metrics) {
        metrics.push(r.epoch, r.metrics);
        const known = metricColumns();
        const fresh = Object.keys(r.metrics).filter((k) => !known.includes(k));
        if (fresh.length > 0) setMetricColumns([...known, ...fresh]);
      }
      const pi = params.addRow(r.epoch);
      const gi = grads.addRow(r.epoch);
      for (const id in r.params) {
        const vals = r.params[id];
        let c = cols.get(id);
        if (!c) {
          const series = seriesNames(id, vals.length);
          c = {
            series,
            p: series.map((s) => params.colIndex(s.name)),
            g: series.map((s) => grads.colIndex(s.name)),
          };
          cols.set(id, c);
          added ??= [];
          added.push(...series);
          if (vals.length > MAX_SERIES_PER_PARAM) setTruncated((t) => [...t, id]);
        }
        const g = r.grads?.[id];
        const { series, p, g: gc } = c;
        for (let k = 0; k < series.length; k++) {
          params.set(p[k], pi, vals[series[k].index]);
          if (g) grads.set(gc[k], gi, g[series[k].index]);
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
