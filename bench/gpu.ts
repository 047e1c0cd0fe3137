/**
 * `npm run bench:gpu`: gradwire on WebGPU beside gradwire on the CPU and TensorFlow.js's WebGPU backend, all
 * in the same headless Chromium (Debian's /usr/bin/chromium; its GPU here is SwiftShader, so the ratio to
 * TensorFlow.js is the figure that counts), and TensorFlow.js's wasm and cpu backends beside gradwire's CPU.
 * Prints epochs per second and the ratios, and writes bench/GPU-RESULTS.md. A TensorFlow.js backend that lacks
 * a kernel the workload's gradient needs is shown as unable to run it.
 *
 * Options: --only ID[,ID] (thermometer, linreg1m, mlp, mlp-large, linreg10m, cnn; all by default),
 * --peers NAME[,NAME] (gradwire-webgpu, gradwire-cpu, gradwire-auto, tfjs-webgpu, tfjs-wasm, tfjs-cpu; all by
 * default), --seconds S (timed seconds per run, default 3), --no-write (print only).
 */
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { serveApp } from "../tests/helpers/served-app.ts";
import { list, option } from "./args.ts";
import { lossMismatches } from "./cpu/report.ts";
import type { Peer, PeerResult, WorkloadId } from "./gpu/page.ts";

const WORKLOADS: WorkloadId[] = ["thermometer", "linreg1m", "mlp", "mlp-large", "linreg10m", "cnn"];
const PEERS: Peer[] = [
  "gradwire-webgpu",
  "gradwire-cpu",
  "gradwire-auto",
  "tfjs-webgpu",
  "tfjs-wasm",
  "tfjs-cpu",
];
const TITLES: Record<WorkloadId, string> = {
  thermometer: "thermometer, 12 points, SGD lr 1e-2",
  linreg1m: "w*x+b, 1,000,000 points, MSE, Adam lr 0.1",
  linreg10m: "w*x+b, 10,000,000 points, MSE, Adam lr 0.1",
  mlp: "MLP 2->64->2 tanh, 4,096 points, cross_entropy, Adam lr 0.02",
  "mlp-large": "MLP 2->256->256->2 tanh, 65,536 points, cross_entropy, Adam lr 0.02",
  cnn: "CNN conv 1->8 3x3, relu, max_pool 2, linear 128->8, batch 64 of 8x8, cross_entropy, Adam lr 0.01",
};

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toPrecision(3));

async function main(): Promise<void> {
  const only = list("only", WORKLOADS) ?? WORKLOADS;
  const peers = list("peers", PEERS) ?? PEERS;
  const seconds = Number(option("seconds") ?? 3);
  const root = fileURLToPath(new URL("./gpu", import.meta.url));
  const served = await serveApp({
    root,
    configFile: false,
    config: { worker: { format: "es" }, build: { target: "es2022", minify: true } },
    prefix: "gradwire-bench-gpu-",
  });
  const results: PeerResult[] = [];
  let adapter = "";
  try {
    const page = await served.browser.newPage();
    page.on("pageerror", (e) => process.stderr.write(`page error: ${e.message}\n`));
    await page.goto(served.url);
    await page.waitForFunction(() => window.gradwireBench?.ready === true, null, { timeout: 60_000 });
    adapter = await page.evaluate(() => window.gradwireBench.adapter());
    process.stderr.write(`WebGPU adapter: ${adapter}\n`);
    for (const w of only)
      for (const p of peers) {
        // The large MLP takes seconds (TensorFlow.js: minutes) per epoch on a software GPU: one timed epoch.
        const minEpochs = w === "mlp-large" || w === "linreg10m" ? 1 : 10;
        process.stderr.write(`${w} on ${p}... `);
        const r = await page.evaluate(([peer, id, s, m]) => window.gradwireBench.bench(peer, id, s, m), [
          p,
          w,
          seconds,
          minEpochs,
        ] as [Peer, WorkloadId, number, number]);
        process.stderr.write(
          `${r.cannot ? `cannot run: ${r.cannot}` : `${fmt(r.epochsPerSecond)} epochs/s`}${r.choice ? ` (auto chose ${r.choice.backend} in ${r.choice.seconds.toFixed(2)} s: ${r.choice.reason})` : ""}\n`,
        );
        results.push(r);
      }
  } finally {
    await served.close();
  }
  const report = render(results, only, peers, adapter);
  process.stdout.write(`${report}\n`);
  if (!process.argv.includes("--no-write"))
    writeFileSync(fileURLToPath(new URL("./GPU-RESULTS.md", import.meta.url)), `${report}\n`);
  for (const b of warmMismatches(results))
    process.stderr.write(`LOSS MISMATCH after the warm-up epochs: ${b}\n`);
}

/**
 * Warm-up losses more than 1e-3 (relative) from gradwire CPU's. Listed in the report, not fatal: that every
 * framework's definition describes the same model is tests/bench/models.test.ts's check, and a backend that
 * sums millions of float32 terms naively drifts this far on its own (tfjs-wasm on linreg10m: 1.4e-2).
 */
function warmMismatches(results: PeerResult[]): string[] {
  const ran = results.filter((r) => !r.cannot).map((r) => ({ ...r, finalLoss: r.warmLoss }));
  return lossMismatches(ran, "gradwire-cpu");
}

/** A Markdown table laid out as Biome formats one: padded columns, the first left-aligned, numbers right. */
function markdownTable(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const cell = (v: string, i: number) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]));
  const line = (cells: string[]) => `| ${cells.map(cell).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? "-".repeat(w) : `${"-".repeat(w - 1)}:`)).join(" | ")} |`;
  return [line(head), rule, ...rows.map(line)];
}

function render(results: PeerResult[], only: WorkloadId[], peers: Peer[], adapter: string): string {
  const rate = (w: WorkloadId, p: Peer) => results.find((r) => r.workload === w && r.peer === p);
  const lines = [
    "# WebGPU benchmark",
    "",
    `${new Date().toISOString().slice(0, 10)}, headless Chromium (/usr/bin/chromium), WebGPU adapter: ${adapter}; host: ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB.`,
    "Epochs per second (timed after a warm-up; set-up — tracing, kernel compilation — excluded and shown",
    "separately for gradwire WebGPU). gradwire WebGPU reads every epoch's loss back (asynchronously, in",
    "batches); TensorFlow.js reads the last one. gradwire's CPU backend is set beside TensorFlow.js's wasm and cpu",
    "backends (all run on the CPU).",
    "",
  ];
  const head = [
    "workload",
    ...peers,
    "WebGPU vs tfjs-webgpu",
    "CPU vs tfjs-wasm",
    "CPU vs tfjs-cpu",
    "WebGPU vs gradwire CPU",
    "set-up (s)",
  ];
  const rows: string[][] = [];
  for (const w of only) {
    const g = rate(w, "gradwire-webgpu");
    const c = rate(w, "gradwire-cpu");
    const ratio = (a?: PeerResult, b?: PeerResult) =>
      !a || !b ? "—" : b.cannot ? "tfjs cannot" : `${(a.epochsPerSecond / b.epochsPerSecond).toFixed(2)}×`;
    const cell = (r?: PeerResult) =>
      !r ? "—" : r.cannot ? `cannot run (${r.cannot})` : fmt(r.epochsPerSecond);
    rows.push([
      TITLES[w],
      ...peers.map((p) => cell(rate(w, p))),
      ratio(g, rate(w, "tfjs-webgpu")),
      ratio(c, rate(w, "tfjs-wasm")),
      ratio(c, rate(w, "tfjs-cpu")),
      ratio(g, c),
      g ? g.setupSeconds.toFixed(2) : "—",
    ]);
  }
  lines.push(...markdownTable(head, rows));
  lines.push(...autoTable(results, only));
  const big = rate("linreg10m", "gradwire-webgpu");
  if (big)
    lines.push(
      "",
      `Memory bandwidth: an epoch of the 10,000,000-point regression reads x and y once (80 MB, one fused kernel for the loss and both gradients), so gradwire WebGPU achieved ${((big.epochsPerSecond * 80e6) / 1e9).toFixed(2)} GB/s on this adapter.`,
    );
  lines.push(
    "",
    "Losses after the warm-up epochs (every peer trains the same data from the same initial parameters for the",
    "same number of warm-up epochs, so these agree up to float32 rounding and each backend's order of summation):",
    "",
  );
  for (const w of only) {
    const rs = peers.map((p) => rate(w, p)).filter((r): r is PeerResult => r !== undefined && !r.cannot);
    if (rs.length === 0) continue;
    lines.push(
      `- ${w}, ${rs[0].warmEpochs} epoch${rs[0].warmEpochs === 1 ? "" : "s"}: ${rs.map((r) => `${r.peer} ${r.warmLoss.toPrecision(6)}`).join(", ")}`,
    );
  }
  const bad = warmMismatches(results);
  if (bad.length > 0)
    lines.push("", "Warm-up losses that disagree with gradwire CPU's:", "", ...bad.map((b) => `- ${b}`));
  return lines.join("\n");
}

/**
 * What auto chose on each workload, its rate beside the faster of the two backends measured in this run (the
 * target: within 10%), and what its measurement cost.
 */
function autoTable(results: PeerResult[], only: WorkloadId[]): string[] {
  const rows: string[][] = [];
  for (const w of only) {
    const auto = results.find((r) => r.workload === w && r.peer === "gradwire-auto");
    const both = results.filter(
      (r) => r.workload === w && (r.peer === "gradwire-cpu" || r.peer === "gradwire-webgpu"),
    );
    if (!auto?.choice || both.length < 2) continue;
    const faster = both.reduce((a, b) => (b.epochsPerSecond > a.epochsPerSecond ? b : a));
    const ratio = auto.epochsPerSecond / faster.epochsPerSecond;
    rows.push([
      w,
      auto.choice.backend,
      fmt(auto.epochsPerSecond),
      faster.peer.replace("gradwire-", ""),
      `${ratio.toFixed(2)}×`,
      ratio >= 0.9 ? "yes" : "no",
      auto.choice.seconds.toFixed(2),
      auto.choice.reason,
    ]);
  }
  if (rows.length === 0) return [];
  return [
    "",
    "The auto backend (the default): its choice on each workload after timing both on probe copies of it (the",
    "measurement, in seconds, is not in its rate), its rate, and the faster of the two backends above.",
    "",
    ...markdownTable(
      ["workload", "auto chose", "auto", "faster", "auto ÷ faster", "within 10%", "measuring (s)", "why"],
      rows,
    ),
  ];
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
