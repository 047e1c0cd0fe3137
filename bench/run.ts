/**
 * `npm run bench`: gradwire's CPU backend beside TensorFlow.js (cpu and wasm backends) and PyTorch (CPU) on
 * the same workloads, in one run. Prints epochs per second, gradwire's speed relative to each peer,
 * and each peer's final loss, which must agree with gradwire's (else a training loop is broken: exit 1).
 *
 * Options: --reps N (timed runs per workload, default 5), --only ID[,ID] (thermometer, linreg1m, mlp, cnn,
 * minibatch), --peers NAME[,NAME] (gradwire, tfjs-cpu, tfjs-wasm, torch), --minibatch-epochs N (default 2).
 *
 * The mini-batch workload (bench/cpu/minibatch.ts: 1M rows, batch 256, Adam) runs gradwire's Trainer beside
 * the PyTorch DataLoader loop gradwire exports for the same graph, once each, and reports the ratio.
 */
import { list, option } from "./args.ts";
import { trainGradwire } from "./cpu/gradwire.ts";
import { miniBatchBench } from "./cpu/minibatch.ts";
import { DEFAULT_PROTOCOL, type Measurement, measure, type Protocol } from "./cpu/peer.ts";
import { loadLine, lossMismatches, machine, table } from "./cpu/report.ts";
import { trainScheduled } from "./cpu/scheduler.ts";
import { runTorch } from "./cpu/torch.ts";
import { allWorkloads } from "./cpu/workloads.ts";

const PEERS = ["gradwire", "tfjs-cpu", "tfjs-wasm", "torch"] as const;

async function main(): Promise<void> {
  const reps = Number(option("reps") ?? DEFAULT_PROTOCOL.reps);
  if (!(Number.isInteger(reps) && reps > 0)) throw new Error("--reps must be a positive integer");
  const protocol: Protocol = { ...DEFAULT_PROTOCOL, reps };
  const everything = allWorkloads();
  const only = list("only", [...everything.map((w) => w.id), "minibatch" as const]);
  const workloads = only ? everything.filter((w) => only.includes(w.id)) : everything;
  const peers = list("peers", PEERS) ?? [...PEERS];

  for (const line of machine()) console.log(line);
  console.log(
    `protocol: a warm-up run of ${protocol.warmupFraction * 100}% of the epochs, then ${protocol.reps} timed runs (2 when one takes over ${protocol.slowSeconds} s); medians reported\n`,
  );
  const all: Measurement[] = [];
  const progress = (m: Measurement) => {
    all.push(m);
    console.log(
      `  ${m.peer.padEnd(18)} ${m.workload.padEnd(12)} ${m.epochsPerSecond.toFixed(1).padStart(10)} epochs/s wall ${m.cpuEpochsPerSecond.toFixed(1).padStart(10)} per CPU s  loss ${m.finalLoss}`,
    );
  };

  if (peers.includes("gradwire"))
    for (const w of workloads) {
      progress(await measure("gradwire", trainGradwire, w, protocol));
      // The same runtime driven as the app drives it: graph document, scheduler, trainer with per-epoch records.
      if (w.id === "thermometer" && w.kind === "linear") {
        const m = await measure("gradwire scheduler", (_x, epochs) => trainScheduled(w, epochs), w, protocol);
        progress(m);
      }
    }

  const tfPeers = peers.filter((p) => p === "tfjs-cpu" || p === "tfjs-wasm");
  if (tfPeers.length > 0) {
    const tfjs = await import("./cpu/tfjs.ts");
    for (const p of tfPeers) {
      const backend = p === "tfjs-cpu" ? "cpu" : "wasm";
      await tfjs.useBackend(backend);
      for (const w of workloads) {
        try {
          progress(await measure(`tfjs ${backend}`, tfjs.trainTfjs, w, protocol));
        } catch (e) {
          // tfjs-backend-wasm registers no Conv2DBackpropFilter kernel: it cannot train a convolution's weights.
          const cannot = tfjs.missingKernel(e);
          if (!cannot) throw e;
          console.log(`  tfjs ${backend.padEnd(13)} ${w.id.padEnd(12)} cannot run: ${cannot}`);
        }
      }
    }
  }

  if (peers.includes("torch")) {
    const t = runTorch(workloads, protocol);
    for (const m of t.measurements) progress({ ...m, note: `torch ${t.version}, ${t.threads} thread(s)` });
  }

  if (!only || only.includes("minibatch")) await miniBatch(Number(option("minibatch-epochs") ?? 2));

  if (workloads.length > 0) console.log(`\n${table(workloads, all)}\n`);
  console.log(`at the end, ${loadLine()}`);
  const bad = lossMismatches(all);
  for (const b of bad) console.error(`LOSS MISMATCH ${b}`);
  if (bad.length === 0) console.log("final losses: every peer agrees with gradwire (relative 1e-3)");
  else process.exitCode = 1;
}

/** The mini-batch workload, once each: gradwire's Trainer and PyTorch's DataLoader loop; losses must agree. */
async function miniBatch(epochs: number): Promise<void> {
  const r = await miniBatchBench(1_000_000, 256, epochs);
  const steps = Math.ceil(r.rows / r.batchSize) * r.epochs;
  console.log(
    `\nmini-batches: ${r.rows.toLocaleString("en")} rows, batch ${r.batchSize}, Adam, ${r.epochs} epochs (${steps} steps)`,
  );
  console.log(
    `  gradwire (CPU, Trainer)   ${r.gradwireSeconds.toFixed(2)} s  ${(steps / r.gradwireSeconds).toFixed(0)} steps/s`,
  );
  console.log(
    `  torch DataLoader loop     ${r.torchSeconds.toFixed(2)} s  ${(steps / r.torchSeconds).toFixed(0)} steps/s (${r.torchThreads} thread)`,
  );
  console.log(`  gradwire / torch speed: ${(r.torchSeconds / r.gradwireSeconds).toFixed(2)}x`);
  const bad = r.gradwireLosses.some((l, i) => !(Math.abs(l - r.torchLosses[i]) <= 1e-3 * Math.abs(l)));
  console.log(`  epoch losses: gradwire ${r.gradwireLosses.join(", ")}; torch ${r.torchLosses.join(", ")}`);
  if (bad || r.torchLosses.length !== r.gradwireLosses.length) {
    console.error("LOSS MISMATCH mini-batches");
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
