// WebGPU in headless Chromium (Debian's /usr/bin/chromium, SwiftShader): training runs through the app's
// scheduler worker (src/ui/run/scheduler.worker.ts) and on the page's main thread, on the GPU, and match the
// CPU backend in Node. The page is tests/gpu/browser/, built with Vite and served on 127.0.0.1.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { type EpochRecord, Trainer } from "../../src/engine/train.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import { type ServedApp, serveApp } from "../helpers/served-app.ts";
import { mismatch } from "../helpers/torch.ts";
import type { RunResult } from "./browser/main.ts";
import { paramTol } from "./harness.ts";

const ROOT = fileURLToPath(new URL("./browser", import.meta.url));
let served: ServedApp | null = null;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  served = await serveApp({
    root: ROOT,
    configFile: false,
    config: { worker: { format: "es" }, build: { target: "es2022", minify: false } },
    prefix: "gradwire-gpu-page-",
  });
  page = await served.browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(served.url);
  await page.waitForFunction(() => window.gradwire?.ready === true, null, { timeout: 30_000 });
});

afterAll(async () => {
  await served?.close();
});

function example(name: string): string {
  return readFileSync(new URL(`../../examples/${name}`, import.meta.url), "utf8");
}

async function onCpuInNode(text: string, epochs?: number): Promise<EpochRecord[]> {
  const r = parseGraphFile(text);
  if (!r.ok) throw new Error("bad example");
  const s = new Scheduler();
  s.setGraph(r.doc);
  const t = new Trainer(s, { yieldFn: async () => {} });
  const records: EpochRecord[] = [];
  t.onRecords((rs) => records.push(...rs));
  await t.run({ epochs });
  return records;
}

const TRAJ = { rtol: 1e-4, atol: 1e-6 };

function expectMatches(got: RunResult, want: EpochRecord[]): void {
  expect(got.state.status).toBe("done");
  expect(got.state.backend).toBe("webgpu");
  expect(got.state.fallback).toBeUndefined();
  expect(got.records.map((r) => r.epoch)).toEqual(want.map((r) => r.epoch));
  expect(
    mismatch(
      got.records.map((r) => r.loss),
      want.map((r) => r.loss),
      TRAJ,
    ),
  ).toBeNull();
  const last = want.length - 1;
  for (const id of Object.keys(want[last].params))
    expect(
      mismatch(got.records[last].params[id], want[last].params[id], paramTol(want[last].params[id])),
      id,
    ).toBeNull();
}

describe("WebGPU in headless Chromium", () => {
  it("trains the thermometer in the app's scheduler worker on WebGPU, with the tutorial's numbers", async () => {
    const text = example("13-thermometer-training.json");
    const got = await page.evaluate((t) => window.gradwire.inWorker(t, "webgpu"), text);
    expectMatches(got, await onCpuInNode(text));
    expect(got.records[0].loss).toBeCloseTo(2.2775, 4);
    expect(got.records[99].params.params[0]).toBeCloseTo(0.882, 4);
    expect(got.records[99].params.params[1]).toBeCloseTo(0.4269, 4);
  });

  it("trains the MLP example (cross_entropy, Adam) in the worker on WebGPU", async () => {
    const text = example("51-mlp-two-class-adam.json");
    const got = await page.evaluate((t) => window.gradwire.inWorker(t, "webgpu", 150), text);
    expectMatches(got, await onCpuInNode(text, 150));
  });

  it("trains on the page's main thread on WebGPU", async () => {
    const text = example("51-mlp-two-class-adam.json");
    const got = await page.evaluate((t) => window.gradwire.inPage(t, "webgpu", 100), text);
    expectMatches(got, await onCpuInNode(text, 100));
    expect(pageErrors).toEqual([]);
  });
});
