/**
 * The insight views end to end in Chromium: the MLP example's decision boundary changes as it trains and its
 * confusion matrix fills; the thermometer's landscape shows the path of SGD reaching [0.8820, 0.4269] (on the
 * CPU, and on WebGPU where the browser offers it); two runs overlay in the run comparison. Screenshots go to
 * test-results/e2e/ (insight-*.png).
 */
import type { Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { text } from "./actions.ts";
import { app, closeApp, openPage, type Session, shot } from "./harness.ts";

afterAll(async () => {
  await closeApp();
});

let s: Session;

async function openExample(page: Page, file: string): Promise<void> {
  await page.click('[data-testid="examples"]');
  await page.click(`[data-testid="example-item"][data-file="${file}"]`);
}

/** The plot's canvas as a data URL: what it shows now. */
const canvasOf = (page: Page, testid: string) =>
  page.$eval(`[data-testid="${testid}"] canvas`, (c) => (c as HTMLCanvasElement).toDataURL());

const epoch = async (page: Page) => Number(await text(page, "epoch"));

async function trainToEnd(page: Page, epochs: number): Promise<void> {
  await page.click('[data-testid="run"]');
  await expect.poll(() => epoch(page), { timeout: 60_000 }).toBe(epochs);
  await expect.poll(() => text(page, "run-status"), { timeout: 10_000 }).toMatch(/Done/);
}

async function setBackend(page: Page, name: "cpu" | "webgpu"): Promise<void> {
  await page.click('[data-testid="backend"]');
  await page.click(`[data-testid="backend-${name}"]`);
}

describe("insight views", () => {
  it("opens with the CPU backend", async () => {
    const a = await app();
    s = await openPage(a, { width: 1600, height: 1000 });
    await setBackend(s.page, "cpu");
    await expect.poll(() => s.page.locator('[data-testid="backend"]').textContent()).toMatch(/CPU/);
  });

  it("shows the MLP's decision boundary sharpening as it trains, and its confusion matrix", async () => {
    const { page } = s;
    await openExample(page, "51-mlp-two-class-adam.json");
    await page.click('[data-testid="insight-model"]');
    const plot = page.locator('[data-testid="plot-boundary"]');
    await plot.waitFor();
    await expect.poll(() => plot.getAttribute("data-draws"), { timeout: 20_000 }).not.toBeNull();
    await page.waitForTimeout(300);
    const before = await canvasOf(page, "plot-boundary");
    await shot(page, "insight-mlp-before");
    const drawsBefore = Number(await plot.getAttribute("data-draws"));
    await page.click('[data-testid="run"]');
    await expect.poll(() => epoch(page), { timeout: 60_000 }).toBeGreaterThan(30);
    await page.waitForTimeout(400);
    const during = await canvasOf(page, "plot-boundary");
    expect(during).not.toBe(before);
    await expect.poll(() => text(page, "run-status"), { timeout: 60_000 }).toMatch(/Done/);
    await page.waitForTimeout(800);
    const after = await canvasOf(page, "plot-boundary");
    expect(after).not.toBe(before);
    // Redrawn live while it trained, not only at the end.
    expect(Number(await plot.getAttribute("data-draws"))).toBeGreaterThan(drawsBefore + 2);
    await expect
      .poll(() => page.locator('[data-testid="plot-confusion"]').textContent(), { timeout: 10_000 })
      .toMatch(/accuracy 0\.99/);
    await shot(page, "insight-mlp-after");
  });

  it("shows the MLP's loss slices and its layers' histograms", async () => {
    const { page } = s;
    await page.click('[data-testid="insight-landscape"]');
    await page.locator('[data-testid="plot-landscape"]').waitFor();
    await expect
      .poll(() => page.locator('[data-testid="plot-slices"] .u-legend').textContent())
      .toMatch(/gradient/);
    await expect
      .poll(() => page.locator('[data-testid="plot-landscape"]').getAttribute("data-image"), {
        timeout: 20_000,
      })
      .toBe("yes");
    await shot(page, "insight-mlp-landscape");
    await page.click('[data-testid="insight-layers"]');
    await page.locator('[data-testid="plot-hist-grads"]').waitFor();
    await page.waitForTimeout(400);
    await shot(page, "insight-mlp-layers");
  });

  it("shows the thermometer's valley and the path of SGD reaching [0.8820, 0.4269] on the CPU", async () => {
    const { page } = s;
    await openExample(page, "13-thermometer-training.json");
    await page.click('[data-testid="insight-landscape"]');
    await page.locator('[data-testid="plot-landscape"]').waitFor();
    await expect
      .poll(() => text(page, "landscape-current"), { timeout: 20_000 })
      .toBe("params[0] 1.0000, params[1] 1.0000");
    await trainToEnd(page, 100);
    await expect
      .poll(() => text(page, "landscape-current"), { timeout: 10_000 })
      .toBe("params[0] 0.8820, params[1] 0.4269");
    await page.waitForTimeout(1200);
    await shot(page, "insight-thermometer-landscape");
    await page.click('[data-testid="insight-model"]');
    await page.locator('[data-testid="plot-boundary"]').waitFor();
    await page.waitForTimeout(800);
    await shot(page, "insight-thermometer-line");
  });

  it("reaches the same point on WebGPU, when the browser has it", async () => {
    const { page } = s;
    await setBackend(page, "webgpu");
    // The worker answers with WebGPU, or with the CPU and the reason; either takes a moment.
    await expect
      .poll(() => page.locator('[data-testid="backend"]').textContent(), { timeout: 15_000 })
      .toMatch(/WebGPU|fallback/);
    const chip = (await page.locator('[data-testid="backend"]').textContent()) ?? "";
    console.info(`backend chip after asking for WebGPU: ${chip}`);
    if (!/WebGPU/.test(chip)) return; // no adapter here: the CPU run above is the check
    await page.click('[data-testid="reset"]');
    await expect.poll(() => epoch(page)).toBe(0);
    await page.click('[data-testid="insight-landscape"]');
    await trainToEnd(page, 100);
    await expect
      .poll(() => text(page, "landscape-current"), { timeout: 10_000 })
      .toBe("params[0] 0.8820, params[1] 0.4269");
  });

  it("overlays two runs with what differs between them as the legend", async () => {
    const { page } = s;
    await setBackend(page, "cpu");
    await page.click('[data-testid="reset"]');
    await expect.poll(() => epoch(page)).toBe(0);
    // A second optimizer setting: lr 1e-4 (the notebook's slower run).
    await page.click('.gw-node[data-node-id="SGD"] .gw-node-head');
    await page.fill('[data-testid="param-lr"]', "0.0001");
    await page.press('[data-testid="param-lr"]', "Enter");
    await trainToEnd(page, 100);
    await page.click('[data-testid="insight-runs"]');
    const legend = page.locator('[data-testid="plot-runs"] .u-legend');
    await expect.poll(() => legend.textContent(), { timeout: 10_000 }).toMatch(/lr 0\.01/);
    expect(await legend.textContent()).toMatch(/lr 1e-4/);
    await shot(page, "insight-runs");
    await page.click('[data-testid="theme"]');
    await page.click('[data-testid="insight-landscape"]');
    await page.waitForTimeout(1500);
    await shot(page, "insight-thermometer-dark");
    await page.click('[data-testid="theme"]');
    expect(s.errors).toEqual([]);
  });
});
