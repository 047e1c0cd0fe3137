/** What a user does in the editor, as playwright steps: drag from the palette, wire ports, read the graph. */
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";

export interface Point {
  x: number;
  y: number;
}

/**
 * The centre of an element once it has stopped moving: values arriving from the worker grow nodes, which
 * moves their ports, and a press aimed at a port that just moved would grab the node instead.
 */
export async function centreOf(page: Page, selector: string): Promise<Point> {
  let last: Point | null = null;
  for (let i = 0; i < 40; i++) {
    const b = await page.locator(selector).first().boundingBox();
    if (!b) throw new Error(`${selector} is not visible`);
    const p = { x: b.x + b.width / 2, y: b.y + b.height / 2 };
    if (last && Math.abs(last.x - p.x) < 0.5 && Math.abs(last.y - p.y) < 0.5) return p;
    last = p;
    await page.waitForTimeout(60);
  }
  if (!last) throw new Error(`${selector} is not visible`);
  return last;
}

/** Drag a kind from the palette and drop it at a point of the canvas (page coordinates). Returns the new id. */
export async function dropKind(page: Page, type: string, at: Point): Promise<string> {
  const before = await nodeIds(page);
  const canvas = page.locator('[data-testid="canvas"]');
  const box = await canvas.boundingBox();
  if (!box) throw new Error("no canvas");
  await page
    .locator(`[data-testid="palette-item-${type}"]`)
    .dragTo(canvas, { targetPosition: { x: at.x - box.x, y: at.y - box.y } });
  await page.waitForFunction(
    (n) => document.querySelectorAll(".gw-node[data-node-id]").length > n,
    before.length,
  );
  const after = await nodeIds(page);
  const added = after.filter((id) => !before.includes(id));
  if (added.length !== 1) throw new Error(`expected one new node, got ${added.join(", ")}`);
  return added[0];
}

export async function nodeIds(page: Page): Promise<string[]> {
  return page.$$eval(".gw-node[data-node-id]", (els) => els.map((e) => e.getAttribute("data-node-id") ?? ""));
}

export async function edgeCount(page: Page): Promise<number> {
  return page.locator(".solid-flow__edge").count();
}

const handle = (node: string, port: string) =>
  `.gw-node[data-node-id="${node}"] .solid-flow__handle[data-handleid="${port}"]`;

/**
 * solid-flow measures nodes and their handles when the browser is idle after they mount; a wire dragged before
 * that finds no handle to land on. A person never drags that fast, so wait as they would.
 */
export async function measured(page: Page, ...ids: string[]): Promise<void> {
  await page.waitForFunction(
    (list) =>
      list.every((id) => {
        const el = document.querySelector<HTMLElement>(`.solid-flow__node[data-id="${id}"]`);
        return !!el && el.style.visibility !== "hidden" && el.offsetWidth > 0;
      }),
    ids,
  );
  await page.evaluate(() => new Promise((r) => requestIdleCallback(() => r(null), { timeout: 500 })));
}

/** Drag a wire from an output port to an input port. With `hold`, the mouse stays down over the target. */
export async function wire(page: Page, from: string, out: string, to: string, input: string, hold = false) {
  await measured(page, from, to);
  const a = await centreOf(page, handle(from, out));
  const b = await centreOf(page, handle(to, input));
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2 + 20, { steps: 6 });
  await page.mouse.move(b.x, b.y, { steps: 6 });
  if (!hold) await page.mouse.up();
}

/** Click Export and read the downloaded file. */
export async function exportJson(page: Page): Promise<string> {
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.click('[data-testid="export-json"]'),
  ]);
  const path = await download.path();
  return readFileSync(path, "utf8");
}

export async function importText(page: Page, name: string, text: string): Promise<void> {
  await page.setInputFiles('[data-testid="import-json"]', {
    name,
    mimeType: "application/json",
    buffer: Buffer.from(text),
  });
}

export async function text(page: Page, testid: string): Promise<string> {
  return (await page.locator(`[data-testid="${testid}"]`).first().textContent()) ?? "";
}
