/**
 * A run's history for the insight views: the loss of every epoch, and snapshots of the trained values and
 * gradients. Snapshots are kept for every epoch while there is room; past the capacity every other one is
 * dropped and only every second epoch after that is kept (then every fourth...), so a long run keeps an even
 * sample of its whole history in bounded memory.
 */
import { type RecordColumns, rowsOf, widthOf } from "../../engine/record-columns.ts";

export interface Snapshot {
  epoch: number;
  loss: number;
  params: Record<string, Float32Array>;
  grads: Record<string, Float32Array>;
}

/** Row `i` of each tensor's column, as float32, leaving out tensors over the limit. */
function pick(b: RecordColumns, cols: Record<string, Float64Array>, i: number): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const k in cols) {
    const size = widthOf(b, cols[k]);
    if (size > SNAPSHOT_TENSOR_LIMIT) continue;
    const to = new Float32Array(size);
    to.set(cols[k].subarray(i * size, (i + 1) * size));
    out[k] = to;
  }
  return out;
}

/** Snapshots hold at most this many numbers in all (about 16 MB of float32). */
const BUDGET = 4_000_000;
/** A tensor larger than this is left out of snapshots (histograms of it would need a summary instead). */
export const SNAPSHOT_TENSOR_LIMIT = 16_384;

export class RunHistory {
  epochs: number[] = [];
  losses: number[] = [];
  snapshots: Snapshot[] = [];
  private stride = 1;
  private capacity = 2048;

  get length(): number {
    return this.epochs.length;
  }

  get lastEpoch(): number {
    return this.epochs.length ? this.epochs[this.epochs.length - 1] : -1;
  }

  /** Append a batch of records, read from its columns (no object per record; one per kept snapshot). */
  append(b: RecordColumns): void {
    const n = rowsOf(b);
    for (let i = 0; i < n; i++) {
      const epoch = b.epoch[i];
      this.epochs.push(epoch);
      this.losses.push(b.loss[i]);
      if (this.snapshots.length === 0) {
        let size = 0;
        for (const k in b.params) {
          const s = widthOf(b, b.params[k]);
          if (s <= SNAPSHOT_TENSOR_LIMIT) size += 2 * s;
        }
        this.capacity = Math.max(64, Math.min(2048, Math.floor(BUDGET / Math.max(1, size))));
      }
      if (epoch % this.stride !== 0) continue;
      this.snapshots.push({
        epoch,
        loss: b.loss[i],
        params: pick(b, b.params, i),
        grads: pick(b, b.grads, i),
      });
      if (this.snapshots.length > this.capacity) {
        this.stride *= 2;
        this.snapshots = this.snapshots.filter((s) => s.epoch % this.stride === 0);
      }
    }
  }

  /** The latest snapshot, or undefined before the first epoch. */
  last(): Snapshot | undefined {
    return this.snapshots[this.snapshots.length - 1];
  }
}
