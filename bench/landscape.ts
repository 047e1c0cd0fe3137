/**
 * The loss landscape's grid and slices, timed in process (not a test: it reports, it does not judge): one
 * batched pass over the grid against one evaluation per point, on the thermometer (w, b) and on the MLP
 * example (two elements of W1), each the median of `--reps` runs (default 3).
 * With `--gpu`, also the batched grid as one WebGPU program (Dawn; in Node set VK_ICD_FILENAMES for SwiftShader).
 *   npx tsx bench/landscape.ts [--reps 3] [--sizes 32,48,64,96,128] [--gpu]
 */
import { readFileSync } from "node:fs";
import { type GridMode, lossLandscape, lossLandscapeOn, lossSlices, span } from "../src/engine/landscape.ts";
import { Scheduler } from "../src/engine/scheduler.ts";
import { webgpuBackend } from "../src/gpu/backend.ts";
import { acquireDevice } from "../src/gpu/device.ts";
import { parseGraphFile } from "../src/graph/format.ts";
import { option } from "./args.ts";

function scheduler(name: string): Scheduler {
  const r = parseGraphFile(readFileSync(new URL(`../examples/${name}`, import.meta.url), "utf8"));
  if (!r.ok) throw new Error(`${name} does not parse`);
  const s = new Scheduler();
  s.setGraph(r.doc);
  s.evaluate();
  return s;
}

const reps = Number(option("reps") ?? 3);
const sizes = (option("sizes") ?? "32,64,128").split(",").map(Number);

const device = process.argv.includes("--gpu") ? await acquireDevice() : null;
const gpu = device && webgpuBackend(device);

async function median(f: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const fmt = (ms: number) => (ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`);

for (const [label, file, a, b] of [
  [
    "thermometer",
    "13-thermometer-training.json",
    { param: "params", index: 0 },
    { param: "params", index: 1 },
  ],
  ["MLP 2-16-2", "51-mlp-two-class-adam.json", { param: "W1", index: 0 }, { param: "W1", index: 3 }],
] as const) {
  const s = scheduler(file);
  for (const n of sizes) {
    const xs = span(-1, 2, n);
    const ys = span(-1, 2, n);
    const time = (mode: GridMode) => median(() => lossLandscape(s, { a, b, xs, ys, mode }));
    const batched = await time("batched");
    const pointwise = await time("pointwise");
    const onGpu = gpu && (await median(() => lossLandscapeOn(gpu, s, { a, b, xs, ys, mode: "batched" })));
    console.log(
      `${label} ${n}×${n} grid: batched ${fmt(batched)}, point by point ${fmt(pointwise)} (${(pointwise / batched).toFixed(1)}x)` +
        (onGpu ? `; batched on WebGPU (${device?.description}) ${fmt(onGpu)}` : ""),
    );
  }
  const alphas = span(-1, 1, 41);
  const slices = (mode: GridMode) => median(() => lossSlices(s, { alphas, random: 2, mode }));
  const sb = await slices("batched");
  const sp = await slices("pointwise");
  console.log(
    `${label} slices (3 directions × 41 steps): batched ${fmt(sb)}, point by point ${fmt(sp)} (${(sp / sb).toFixed(1)}x)`,
  );
}
device?.destroy();
