/**
 * Training in real Chromium, as a user does it: build tensor → model → mse_loss → SGD from the palette, run,
 * watch the epoch counter and the loss plot advance while the worker trains, pause, change the learning rate
 * during a run and see it take effect, step, reset, share the graph by link, and look at it in the dark theme
 * and on a 4K screen.
 */
import { describe, expect, it } from "vitest";
import { dropKind, exportJson, text, wire } from "./actions.ts";
import { type App, type Session, shot, suitePage } from "./harness.ts";

let a: App;
let s: Session;

const num = async (testid: string) => Number(await text(s.page, testid));
/** A number that has stopped changing (read twice, 250 ms apart). */
async function settled(testid: string): Promise<number> {
  let last = await num(testid);
  for (;;) {
    await s.page.waitForTimeout(250);
    const now = await num(testid);
    if (now === last) return now;
    last = now;
  }
}
const points = async (testid: string) =>
  Number((await s.page.locator(`[data-testid="${testid}"]`).getAttribute("data-points")) ?? "0");

async function setParam(node: string, name: string, value: string) {
  await s.page.click(`.gw-node[data-node-id="${node}"] .gw-node-head`);
  const field = s.page.locator(`[data-testid="param-${name}"]`);
  await field.fill(value);
  await field.blur();
}

describe("training from the canvas", () => {
  suitePage((app_, session) => {
    a = app_;
    s = session;
  });

  it("builds tensor → model → loss → optimizer from the palette", async () => {
    const { page } = s;
    const c = await page.locator('[data-testid="canvas"]').boundingBox();
    if (!c) throw new Error("no canvas");
    expect(await dropKind(page, "tensor", { x: c.x + 110, y: c.y + 50 })).toBe("tensor_1");
    expect(await dropKind(page, "model", { x: c.x + 390, y: c.y + 50 })).toBe("model_1");
    expect(await dropKind(page, "tensor", { x: c.x + 110, y: c.y + 280 })).toBe("tensor_2");
    expect(await dropKind(page, "mse_loss", { x: c.x + 580, y: c.y + 170 })).toBe("mse_loss_1");
    expect(await dropKind(page, "SGD", { x: c.x + 580, y: c.y + 330 })).toBe("SGD_1");
    await setParam("tensor_1", "data", "[0.4, 1.2, 2.5, 3.9, 4.3]");
    await setParam("tensor_2", "data", "[1.8, 3.4, 6.0, 8.8, 9.6]");
    // Start with lr = 0: nothing moves until the learning rate is raised during the run.
    await setParam("SGD_1", "lr", "0");
    // Let the values arrive (they grow the nodes) before wiring.
    for (const id of ["tensor_1", "tensor_2"])
      await page.locator(`.gw-node[data-node-id="${id}"] [data-preview="value"]`).waitFor();
    await wire(page, "tensor_1", "out", "model_1", "input");
    await wire(page, "model_1", "out", "mse_loss_1", "input");
    await wire(page, "tensor_2", "out", "mse_loss_1", "target");
    await wire(page, "mse_loss_1", "out", "SGD_1", "loss");
    await page.keyboard.press("f");
    // Values and gradients arrive from the worker before anything trains.
    await page.locator('.gw-node[data-node-id="mse_loss_1"] [data-preview="value"]').waitFor();
    await page.locator('.gw-node[data-node-id="model_1"] [data-preview="grad"]').waitFor();
    expect(await page.locator('[data-testid="run"]').isEnabled()).toBe(true);
    await shot(page, "training-graph-built");
  });

  it("runs, streams epochs and the loss plot, and pauses", async () => {
    const { page } = s;
    await page.fill('[data-testid="epochs"]', "1000000");
    await page.locator('[data-testid="epochs"]').blur();
    await page.click('[data-testid="run"]');
    await expect.poll(() => num("epoch"), { timeout: 20_000 }).toBeGreaterThan(20);
    const p1 = await points("plot-loss");
    await expect.poll(() => points("plot-loss"), { timeout: 20_000 }).toBeGreaterThan(p1);
    expect(await text(s.page, "run-status")).toBe("Training");
    // lr is 0: the loss stays where it started.
    const still = await text(page, "loss-value");
    await expect.poll(() => num("epoch")).toBeGreaterThan(60);
    expect(await text(page, "loss-value")).toBe(still);
    await shot(page, "training-running");
    await page.click('[data-testid="pause"]');
    await expect.poll(() => text(page, "run-status")).toBe("Paused");
    // Hovering the loss plot shows the epoch and loss under the cursor.
    const over = await page.locator('[data-testid="plot-loss"] .u-over').boundingBox();
    if (!over) throw new Error("no plot area");
    await page.mouse.move(over.x + over.width / 2, over.y + over.height / 2);
    await expect
      .poll(() => page.locator('[data-testid="plot-loss"] .u-legend .u-value').allTextContents())
      .toEqual([expect.stringMatching(/^\d/), still]);
    const paused = await settled("epoch");
    await page.waitForTimeout(300);
    expect(await num("epoch")).toBe(paused);
  });

  it("applies a learning-rate change made during the run from the next epoch", async () => {
    const { page } = s;
    const before = Number(await text(page, "loss-value"));
    await page.click('[data-testid="run"]');
    await expect.poll(() => text(page, "run-status")).toBe("Training");
    await setParam("SGD_1", "lr", "0.02");
    await expect
      .poll(async () => Number(await text(page, "loss-value")), { timeout: 20_000 })
      .toBeLessThan(before / 2);
    await shot(page, "training-lr-changed");
    await page.click('[data-testid="pause"]');
    await expect.poll(() => text(page, "run-status")).toBe("Paused");
  });

  it("steps one epoch, undoes the lr change, stops and resets", async () => {
    const { page } = s;
    // A backend may have run a few epochs ahead when the pause arrived; they are reported as they settle.
    const e = await settled("epoch");
    await page.click('[data-testid="step"]');
    await expect.poll(() => num("epoch")).toBe(e + 1);
    await page.click('[data-testid="undo"]');
    await page.click('.gw-node[data-node-id="SGD_1"] .gw-node-head');
    expect(await page.locator('[data-testid="param-lr"]').inputValue()).toBe("0");
    await page.click('[data-testid="redo"]');
    expect(await page.locator('[data-testid="param-lr"]').inputValue()).toBe("0.02");
    await page.click('[data-testid="stop"]');
    await expect.poll(() => text(page, "run-status")).toBe("Stopped");
    await page.click('[data-testid="reset"]');
    await expect.poll(() => num("epoch")).toBe(0);
    await expect.poll(() => points("plot-loss")).toBe(0);
  });

  it("trains on the backend auto chose (the default), says why, and can be forced either way", async () => {
    const { page } = s;
    const chip = page.locator('[data-testid="backend"]');
    // The runs above were auto's: the chip names the backend it chose, marked auto, with its reason.
    expect(await chip.textContent()).toMatch(/^(CPU|WebGPU)auto$/);
    expect(await chip.getAttribute("title")).toMatch(/^Auto chose (CPU|WebGPU): .+/);
    await chip.click();
    expect(await page.locator('[data-testid="backend-auto"]').getAttribute("aria-checked")).toBe("true");
    expect(await page.locator('[data-testid="backend-auto-reason"]').textContent()).toMatch(
      /^(CPU|WebGPU): /,
    );
    await page.click('[data-testid="backend-cpu"]');
    await page.click('[data-testid="step"]');
    await expect.poll(() => chip.getAttribute("title")).toBe("Training on the CPU");
    expect(await chip.textContent()).toBe("CPU");
    await chip.click();
    await page.click('[data-testid="backend-auto"]');
    await page.click('[data-testid="step"]');
    await expect.poll(() => chip.getAttribute("title")).toMatch(/^Auto chose /);
  });

  it("shares the graph in a link that opens the same graph", async () => {
    const { page } = s;
    const mine = await exportJson(page);
    await page.click('[data-testid="share-link"]');
    const url = await page.locator('[data-testid="share-url"]').inputValue();
    expect(url).toMatch(/#graph=/);
    const other = await a.browser.newContext({
      viewport: { width: 1280, height: 720 },
      acceptDownloads: true,
    });
    const p2 = await other.newPage();
    await p2.goto(url);
    await p2.waitForSelector('[data-testid="app-ready"]', { state: "attached" });
    await p2.locator('.gw-node[data-node-id="SGD_1"]').waitFor();
    expect(await exportJson(p2)).toBe(mine);
    await other.close();
  });

  it("looks right in the dark theme and on a 4K screen", async () => {
    const { page } = s;
    await page.click('[data-testid="run"]');
    await expect.poll(() => num("epoch")).toBeGreaterThan(10);
    await page.click('[data-testid="pause"]');
    await page.click('[data-testid="theme"]');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await shot(page, "training-dark");
    await page.click('[data-testid="theme"]');
    // Same browser profile (the autosave), a 4K window.
    const big = await s.context.newPage();
    await big.setViewportSize({ width: 3840, height: 2160 });
    await big.goto(a.url);
    await big.waitForSelector('[data-testid="app-ready"]', { state: "attached" });
    await big.locator('.gw-node[data-node-id="SGD_1"]').waitFor();
    await big.waitForTimeout(300);
    await shot(big, "training-4k");
    const fontPx = await big.evaluate(() =>
      Number.parseFloat(getComputedStyle(document.documentElement).fontSize),
    );
    expect(fontPx).toBeGreaterThan(16);
    await big.close();
    expect(s.errors).toEqual([]);
  });
});
