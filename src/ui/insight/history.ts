/**
 * A run's history for the insight views: the loss of every epoch, and snapshots of the trained values and
 * gradients. Snapshots are kept for every epoch while there is room; past the capacity every other one is
 * dropped and only every second epoch after that is kept (then every fourth...), so a long run keeps an even
 * sample of its whole history in bounded memory.
 */

export interface Snapshot {
  epoch: number;
  loss: number;
  params: Record<string, Float32Array>;
  grads: Record<string, Float32Array>;
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

  push(r: {
    epoch: number;
    loss: number;
    params: Record<string, ArrayLike<number>>;
    grads?: Record<string, ArrayLike<number>>;
  }): void {
    this.epochs.push(r.epoch);
    this.losses.push(r.loss);
    if (this.snapshots.length === 0) {
      let size = 0;
      for (const k in r.params)
        if (r.params[k].length <= SNAPSHOT_TENSOR_LIMIT) size += 2 * r.params[k].length;
      this.capacity = Math.max(64, Math.min(2048, Math.floor(BUDGET / Math.max(1, size))));
    }
    if (r.epoch % this.stride !== 0) return;
    // Plain loops: Float32Array.from walks an array through its iterator, several times slower, per record.
    const pick = (src: Record<string, ArrayLike<number>> | undefined) => {
      const out: Record<string, Float32Array> = {};
      for (const k in src ?? {}) {
        const from = src![k];
        if (from.length > SNAPSHOT_TENSOR_LIMIT) continue;
        const to = new Float32Array(from.length);
        for (let i = 0; i < from.length; i++) to[i] = from[i];
        out[k] = to;
      }
      return out;
    };
    this.snapshots.push({ epoch: r.epoch, loss: r.loss, params: pick(r.params), grads: pick(r.grads) });
    if (this.snapshots.length > this.capacity) {
      this.stride *= 2;
      this.snapshots = this.snapshots.filter((s) => s.epoch % this.stride === 0);
    }
  }

  /** The latest snapshot, or undefined before the first epoch. */
  last(): Snapshot | undefined {
    return this.snapshots[this.snapshots.length - 1];
  }
}
