/** What every benchmarked peer provides, and the timing protocol they all share. */
import type { Workload } from "./workloads.ts";

export interface RunResult {
  /** Wall-clock seconds for the whole training run (all epochs). */
  seconds: number;
  /**
   * CPU seconds the process spent in that time (all its threads). On a machine shared with other work this is
   * the steadier measure: time spent waiting for a core does not count.
   */
  cpuSeconds: number;
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
  /** CPU seconds of each timed run, and epochs per CPU second at their median. */
  cpuRuns: number[];
  cpuEpochsPerSecond: number;
  finalLoss: number;
  note?: string;
}

/** Start timing; the returned function gives wall and process CPU seconds since. */
export function startClock(): () => { seconds: number; cpuSeconds: number } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  return () => {
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    return { seconds, cpuSeconds: (c.user + c.system) / 1e6 };
  };
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
  const cpuRuns: number[] = [];
  let finalLoss = Number.NaN;
  for (let r = 0; r < p.reps; r++) {
    const res = await train(w, w.epochs);
    runs.push(res.seconds);
    cpuRuns.push(res.cpuSeconds);
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
    cpuRuns,
    cpuEpochsPerSecond: w.epochs / median(cpuRuns),
    finalLoss,
  };
}
