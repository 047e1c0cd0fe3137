/** What every benchmarked peer provides, and the timing protocol they all share. */
import type { Workload } from "./workloads.ts";

export interface RunResult {
  /** Wall-clock seconds for the whole training run (all epochs). */
  seconds: number;
  /** The loss computed in the last epoch, before its optimizer step. */
  finalLoss: number;
}

/** Trains `w` from its initial parameters for `epochs` epochs, synchronously or not. */
export type Trainer = (w: Workload, epochs: number) => RunResult | Promise<RunResult>;

export interface Measurement {
  peer: string;
  workload: string;
  epochs: number;
  /** Seconds of each timed run, in order. */
  runs: number[];
  medianSeconds: number;
  epochsPerSecond: number;
  finalLoss: number;
  note?: string;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Protocol {
  /** Timed runs per workload; fewer when one run takes longer than `slowSeconds`. */
  reps: number;
  slowSeconds: number;
  /** Warm-up epochs, as a fraction of the workload's epochs (at least one epoch). */
  warmupFraction: number;
}

export const DEFAULT_PROTOCOL: Protocol = { reps: 5, slowSeconds: 4, warmupFraction: 0.2 };

/** One warm-up run (so the JIT and allocators settle), then timed full runs; the median is reported. */
export async function measure(
  peer: string,
  train: Trainer,
  w: Workload,
  p: Protocol = DEFAULT_PROTOCOL,
): Promise<Measurement> {
  await train(w, Math.max(1, Math.ceil(w.epochs * p.warmupFraction)));
  const runs: number[] = [];
  let finalLoss = Number.NaN;
  for (let r = 0; r < p.reps; r++) {
    const res = await train(w, w.epochs);
    runs.push(res.seconds);
    finalLoss = res.finalLoss;
    if (res.seconds > p.slowSeconds && runs.length >= 2) break;
  }
  const medianSeconds = median(runs);
  return {
    peer,
    workload: w.id,
    epochs: w.epochs,
    runs,
    medianSeconds,
    epochsPerSecond: w.epochs / medianSeconds,
    finalLoss,
  };
}
