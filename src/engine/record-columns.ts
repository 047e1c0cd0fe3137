/**
 * Epoch records as columns, for the worker's "records" messages. Posted as an array of objects (a record, its
 * params and grads objects, an array per tensor), a batch costs the page a structured clone of thousands of
 * small objects and their garbage while training at full speed; as Float64Arrays it is a handful of buffers
 * moved (transferred) with no copy, and the page's plots and run history read the numbers straight from them.
 *
 * A batch holds records of one shape: the same trained tensors (ids and sizes, in the same order), the same
 * metrics and the same optional fields. `toColumns` starts a new batch where the shape changes (an edit while
 * training adds a parameter), so every column has a value for every row and nothing needs a mask.
 */
import type { EpochRecord } from "./train.ts";

export interface RecordColumns {
  /** Each record's epoch; its length is the batch's number of records. */
  epoch: Float64Array;
  loss: Float64Array;
  /**
   * Each trained tensor's values after the step, by trainable id: row-major, one row of the tensor's size per
   * record (record i's values are `subarray(i * size, (i + 1) * size)`, size = length / records).
   */
  params: Record<string, Float64Array>;
  /** The gradients the step used, laid out as `params`. */
  grads: Record<string, Float64Array>;
  /** With a DataLoader: each record's batch losses, a row of the same length per record. */
  steps?: Float64Array;
  valLoss?: Float64Array;
  /** Validation metrics by name, one value per record. */
  metrics?: Record<string, Float64Array>;
  lr?: Float64Array;
}

/** One record of a batch, its tensors as views into the batch's columns (no copy). */
export interface RecordView {
  epoch: number;
  loss: number;
  params: Record<string, Float64Array>;
  grads: Record<string, Float64Array>;
  steps?: Float64Array;
  valLoss?: number;
  metrics?: Record<string, number>;
  lr?: number;
}

/** How many records a batch holds. */
export function rowsOf(b: RecordColumns): number {
  return b.epoch.length;
}

/** The elements per record of a row-major column (a tensor's size, or the steps per epoch). */
export function widthOf(b: RecordColumns, column: Float64Array): number {
  return column.length / b.epoch.length;
}

/** Whether two objects of arrays have the same keys, in the same order, with arrays of the same lengths. */
function sameArrays(a: Record<string, ArrayLike<number>>, b: Record<string, ArrayLike<number>>): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++)
    if (ka[i] !== kb[i] || a[ka[i]].length !== b[kb[i]].length) return false;
  return true;
}

function sameKeys(a: Record<string, number> | undefined, b: Record<string, number> | undefined): boolean {
  if (!a || !b) return a === b;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

function sameShape(a: EpochRecord, b: EpochRecord): boolean {
  return (
    (a.valLoss === undefined) === (b.valLoss === undefined) &&
    (a.lr === undefined) === (b.lr === undefined) &&
    (a.steps === undefined ? b.steps === undefined : a.steps.length === b.steps?.length) &&
    sameKeys(a.metrics, b.metrics) &&
    sameArrays(a.params, b.params) &&
    sameArrays(a.grads, b.grads)
  );
}

/** `records[from, to)`, which share one shape, as columns. */
function columnsOf(records: readonly EpochRecord[], from: number, to: number): RecordColumns {
  const n = to - from;
  const first = records[from];
  const scalar = (get: (r: EpochRecord) => number) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = get(records[from + i]);
    return out;
  };
  const rows = (get: (r: EpochRecord) => ArrayLike<number>, size: number) => {
    const out = new Float64Array(n * size);
    for (let i = 0; i < n; i++) {
      const v = get(records[from + i]);
      const at = i * size;
      for (let k = 0; k < size; k++) out[at + k] = v[k];
    }
    return out;
  };
  const tensors = (pick: (r: EpochRecord) => Record<string, number[]>) => {
    const out: Record<string, Float64Array> = {};
    for (const id in pick(first)) out[id] = rows((r) => pick(r)[id], pick(first)[id].length);
    return out;
  };
  const b: RecordColumns = {
    epoch: scalar((r) => r.epoch),
    loss: scalar((r) => r.loss),
    params: tensors((r) => r.params),
    grads: tensors((r) => r.grads),
  };
  if (first.steps) b.steps = rows((r) => r.steps as number[], first.steps.length);
  if (first.valLoss !== undefined) b.valLoss = scalar((r) => r.valLoss as number);
  if (first.metrics) {
    const metrics: Record<string, Float64Array> = {};
    for (const k in first.metrics) metrics[k] = scalar((r) => (r.metrics as Record<string, number>)[k]);
    b.metrics = metrics;
  }
  if (first.lr !== undefined) b.lr = scalar((r) => r.lr as number);
  return b;
}

/** The trainer's records as batches of columns: one batch, or one more wherever the records' shape changes. */
export function toColumns(records: readonly EpochRecord[]): RecordColumns[] {
  const out: RecordColumns[] = [];
  let from = 0;
  for (let i = 1; i <= records.length; i++)
    if (i === records.length || !sameShape(records[from], records[i])) {
      out.push(columnsOf(records, from, i));
      from = i;
    }
  return out;
}

/** Every buffer of the batches, to move them with postMessage rather than copy them. */
export function columnBuffers(batches: readonly RecordColumns[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const b of batches)
    for (const a of [
      b.epoch,
      b.loss,
      ...Object.values(b.params),
      ...Object.values(b.grads),
      ...(b.steps ? [b.steps] : []),
      ...(b.valLoss ? [b.valLoss] : []),
      ...Object.values(b.metrics ?? {}),
      ...(b.lr ? [b.lr] : []),
    ])
      out.push(a.buffer as ArrayBuffer);
  return out;
}

/** Record `i` of a batch, its tensors as views (one object per call: for the last record, not every record). */
export function recordAt(b: RecordColumns, i: number): RecordView {
  const row = (column: Float64Array) => {
    const size = widthOf(b, column);
    return column.subarray(i * size, (i + 1) * size);
  };
  const rowsOfAll = (cols: Record<string, Float64Array>) => {
    const out: Record<string, Float64Array> = {};
    for (const id in cols) out[id] = row(cols[id]);
    return out;
  };
  const r: RecordView = {
    epoch: b.epoch[i],
    loss: b.loss[i],
    params: rowsOfAll(b.params),
    grads: rowsOfAll(b.grads),
  };
  if (b.steps) r.steps = row(b.steps);
  if (b.valLoss) r.valLoss = b.valLoss[i];
  if (b.metrics) {
    const metrics: Record<string, number> = {};
    for (const k in b.metrics) metrics[k] = b.metrics[k][i];
    r.metrics = metrics;
  }
  if (b.lr) r.lr = b.lr[i];
  return r;
}

/** The last record of the last batch, or undefined when there is none. */
export function lastRecordOf(batches: readonly RecordColumns[]): RecordView | undefined {
  const b = batches[batches.length - 1];
  return b && rowsOf(b) > 0 ? recordAt(b, rowsOf(b) - 1) : undefined;
}

/** The batches as the trainer's records (plain arrays): for tests and tools, not for the page's hot path. */
export function toRecords(batches: readonly RecordColumns[]): EpochRecord[] {
  const out: EpochRecord[] = [];
  const plain = (cols: Record<string, Float64Array>) => {
    const o: Record<string, number[]> = {};
    for (const k in cols) o[k] = Array.from(cols[k]);
    return o;
  };
  for (const b of batches)
    for (let i = 0; i < rowsOf(b); i++) {
      const v = recordAt(b, i);
      const r: EpochRecord = { epoch: v.epoch, loss: v.loss, params: plain(v.params), grads: plain(v.grads) };
      if (v.steps) r.steps = Array.from(v.steps);
      if (v.valLoss !== undefined) r.valLoss = v.valLoss;
      if (v.metrics) r.metrics = v.metrics;
      if (v.lr !== undefined) r.lr = v.lr;
      out.push(r);
    }
  return out;
}
