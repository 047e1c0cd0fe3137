/** The benchmark's table: epochs per second, gradwire's speed relative to each peer, and the loss check. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import type { Measurement } from "./peer.ts";
import type { Workload } from "./workloads.ts";

/** Final losses of peers training the same data from the same parameters must agree this closely. */
export const LOSS_RTOL = 1e-3;

export function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-30);
}

export interface Row {
  workload: Workload;
  peer: Measurement;
  reference: Measurement;
}

export function machine(): string[] {
  const cpuinfo = (() => {
    try {
      return readFileSync("/proc/cpuinfo", "utf8");
    } catch {
      return "";
    }
  })();
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? "unknown";
  let nproc = String(cpus().length);
  try {
    nproc = execFileSync("nproc", { encoding: "utf8" }).trim();
  } catch {
    // nproc is coreutils; os.cpus() is the fallback.
  }
  return [
    `date: ${new Date().toString()}`,
    `nproc: ${nproc}`,
    `cpu: ${model}`,
    `node: ${process.version}`,
    loadLine(),
  ];
}

/** Other work on the machine slows every peer unevenly; the load average says how much there was. */
export function loadLine(): string {
  return `load average (1, 5, 15 min): ${loadavg()
    .map((x) => x.toFixed(2))
    .join(", ")}`;
}

function fmtRate(x: number): string {
  return x >= 100 ? Math.round(x).toLocaleString("en") : x.toPrecision(3);
}

function fmtRatio(r: number): string {
  return r >= 10 ? `${r.toFixed(1)}x` : `${r.toFixed(2)}x`;
}

/**
 * A markdown table: one row per (workload, peer). "gradwire vs peer" is gradwire's epochs/s divided by the
 * peer's, so above 1x means gradwire is faster; it is given by wall-clock time and by process CPU time (the
 * steadier of the two when other work shares the machine).
 */
export function table(workloads: Workload[], all: Measurement[], reference = "gradwire"): string {
  const lines = [
    "| workload | peer | epochs | epochs/s (wall) | gradwire vs peer (wall) | epochs/s (CPU) | gradwire vs peer (CPU) | final loss | vs gradwire's loss |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const w of workloads) {
    const ref = all.find((m) => m.workload === w.id && m.peer === reference);
    for (const m of all.filter((x) => x.workload === w.id)) {
      const self = m.peer === reference || !ref;
      const wall = self || !ref ? "-" : fmtRatio(ref.epochsPerSecond / m.epochsPerSecond);
      const cpu = self || !ref ? "-" : fmtRatio(ref.cpuEpochsPerSecond / m.cpuEpochsPerSecond);
      const diff = self || !ref ? "-" : relDiff(m.finalLoss, ref.finalLoss).toExponential(1);
      lines.push(
        `| ${w.title} | ${m.peer}${m.note ? ` (${m.note})` : ""} | ${m.epochs} | ${fmtRate(m.epochsPerSecond)} | ${wall} | ${fmtRate(m.cpuEpochsPerSecond)} | ${cpu} | ${m.finalLoss.toPrecision(8)} | ${diff} |`,
      );
    }
  }
  return lines.join("\n");
}

/** Peers whose final loss disagrees with gradwire's: a broken training loop somewhere. */
export function lossMismatches(
  all: Pick<Measurement, "peer" | "workload" | "finalLoss">[],
  reference = "gradwire",
): string[] {
  const out: string[] = [];
  for (const m of all) {
    const ref = all.find((r) => r.workload === m.workload && r.peer === reference);
    if (!ref || m === ref) continue;
    const d = relDiff(m.finalLoss, ref.finalLoss);
    if (!(d <= LOSS_RTOL))
      out.push(
        `${m.workload}: ${m.peer} ended at loss ${m.finalLoss}, ${reference} at ${ref.finalLoss} (relative difference ${d.toExponential(2)} > ${LOSS_RTOL})`,
      );
  }
  return out;
}
