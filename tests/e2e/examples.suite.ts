/**
 * Every graph file in examples/ from the examples menu, in real Chromium: the menu lists exactly the files on
 * disk, each opens whole, its nodes get values from the worker (or show the problems the example is about),
 * and the ones with an optimizer train: the epoch counter and the loss plot advance until the run ends, or it
 * stops with a message naming the node where a loss or gradient went non-finite.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { registry } from "../../src/nodes/index.ts";
import { text } from "./actions.ts";
import { ROOT, type Session, shot, suitePage } from "./harness.ts";

const DIR = join(ROOT, "examples");
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith(".json"))
  .sort();

interface FileNode {
  id: string;
  type: string;
}

let s: Session;

async function openExample(file: string): Promise<void> {
  const { page } = s;
  await page.click('[data-testid="examples"]');
  await page.click(`[data-testid="example-item"][data-file="${file}"]`);
}

describe("examples", () => {
  suitePage((_app, session) => {
    s = session;
  });

  it("lists every graph file in examples/ in the menu", async () => {
    const { page } = s;
    await page.click('[data-testid="examples"]');
    const listed = await page.$$eval('[data-testid="example-item"]', (els) =>
      els.map((e) => e.getAttribute("data-file") ?? ""),
    );
    await page.keyboard.press("Escape");
    await page.click('[data-testid="canvas"]', { position: { x: 5, y: 5 } });
    expect(listed.sort()).toEqual(FILES);
  });

  for (const file of FILES) {
    it(`opens and runs ${file}`, async () => {
      const { page } = s;
      const graph = JSON.parse(readFileSync(join(DIR, file), "utf8")) as { nodes: FileNode[] };
      await openExample(file);
      for (const n of graph.nodes) await page.locator(`.gw-node[data-node-id="${n.id}"]`).waitFor();
      expect(await page.locator('[data-testid="import-errors"]').count()).toBe(0);
      const errors = await page.locator(".gw-node .gw-badge.error").count();
      if (errors === 0)
        await page.locator('.gw-node [data-preview="value"]').first().waitFor({ timeout: 20_000 });
      const trains = graph.nodes.some((n) => registry.get(n.type)?.optimizer);
      if (trains && errors === 0) {
        expect(await text(page, "epoch")).toBe("0");
        const epochs = page.locator('[data-testid="epochs"]');
        await epochs.fill("15");
        await epochs.blur();
        await page.click('[data-testid="run"]');
        await expect
          .poll(() => text(page, "run-status"), { timeout: 60_000 })
          .toMatch(/^(Done|Stopped with an error)$/);
        expect(Number(await text(page, "epoch"))).toBeGreaterThan(0);
        if ((await text(page, "run-status")) === "Done") {
          expect(Number(await text(page, "epoch"))).toBe(15);
          await expect
            .poll(async () =>
              Number(await page.locator('[data-testid="plot-loss"]').getAttribute("data-points")),
            )
            .toBe(15);
        } else {
          // A diverging run names where it went wrong.
          expect(await text(page, "run-message")).toMatch(/nan|inf|non-finite|finite/i);
          // The node it names is marked, and clicking the message selects it.
          const marked = page.locator(".gw-node.run-error");
          if ((await marked.count()) > 0) {
            const id = await marked.first().getAttribute("data-node-id");
            await page.click('button[data-testid="run-message"]');
            await expect
              .poll(() => page.locator(".gw-node.selected").first().getAttribute("data-node-id"))
              .toBe(id);
          }
        }
      }
      // A graph that cannot train shows the hint where the training plots would be, not an empty chart.
      if (!trains) {
        expect(await page.locator('[data-testid="plot-hint"]').count()).toBe(1);
        expect(await page.locator('[data-testid="plot-loss"]').count()).toBe(0);
      }
      if (graph.nodes.some((n) => n.type === "sweep"))
        await page.locator('[data-testid^="plot-sweep-"]').first().waitFor();
      await shot(page, `example-${file.replace(/\.json$/, "")}`);
    });
  }

  it("raised no page errors", () => {
    expect(s.errors).toEqual([]);
  });
});
