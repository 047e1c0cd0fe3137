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
  /** Column names per parameter, computed once: records arrive by the thousand per second. */
  const names = new Map<string, ParamSeries[]>();

  const append = (records: readonly EpochRecord[]) => {
    if (records.length === 0) return;
    let added: ParamSeries[] | null = null;
    for (const r of records) {
      const row: Record<string, number> = { loss: r.loss };
      if (r.valLoss !== undefined) {
        row.val_loss = r.valLoss;
        if (!lossColumns().includes("val_loss")) setLossColumns(["loss", "val_loss"]);
      }
      if (r.lr !== undefined) {
        row.lr = r.lr;
        if (!hasLr()) setHasLr(true);
      }
      loss.push(r.epoch, row);
      if (r.metrics) {
        metrics.push(r.epoch, r.metrics);
        const known = metricColumns();
        const fresh = Object.keys(r.metrics).filter((k) => !known.includes(k));
        if (fresh.length > 0) setMetricColumns([...known, ...fresh]);
      }
      const pv: Record<string, number> = {};
      const gv: Record<string, number> = {};
      for (const id in r.params) {
        const vals = r.params[id];
        let cols = names.get(id);
        if (!cols) {
          cols = seriesNames(id, vals.length);
          names.set(id, cols);
          added ??= [];
          added.push(...cols);
          if (vals.length > MAX_SERIES_PER_PARAM) setTruncated((t) => [...t, id]);
        }
        for (const s of cols) {
          pv[s.name] = vals[s.index];
          const g = r.grads?.[id];
          if (g) gv[s.name] = g[s.index];
        }
      }
      params.push(r.epoch, pv);
      grads.push(r.epoch, gv);
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
    names.clear();
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
