/**
 * The examples in the editor: each opens from the Examples menu with every node on the canvas, evaluates in the
 * browser (the scheduler in its Web Worker) to the stated numbers shown on the nodes, and the training examples
 * train from the Run button to the stated loss, or stop where the guessing game diverges. This builds the app
 * and drives Chromium, so it takes longer than the CLI checks.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseGraphFile } from "../../src/graph/format.ts";
import { app, closeApp, openPage, type Session, shot } from "../e2e/harness.ts";
import { type Example, flatPrinted, loadExamples, printsAs, statedValue } from "./checks.ts";

const EXAMPLES = loadExamples();

/** A node preview's number as the editor prints it, torch style ("3.", "-0.4325", "[1.0976]"). */
function previewNumber(text: string): number {
  return Number(text.replace(/[[\]\s]/g, "").replace(/\.$/, ""));
}

/** The editor prints 4 decimals, the check may state more or fewer: each must round to the other. */
function agrees(shown: string, stated: string): boolean {
  const v = previewNumber(shown);
  return printsAs(v, stated) || printsAs(Number(stated), String(v));
}

async function openExample(page: Page, ex: Example): Promise<void> {
  await page.click('[data-testid="examples"]');
  await page.click(`[data-testid="example-item"][data-file="${ex.file}"]`);
  const r = parseGraphFile(ex.text);
  if (!r.ok) throw new Error(`${ex.file} does not load`);
  const ids = Object.keys(r.doc.nodes);
  await page.waitForFunction(
    (list) => list.every((id) => document.querySelector(`.gw-node[data-node-id="${id}"]`)),
    ids,
  );
}

/** Single stated values of node outputs (the ones a node preview prints in full). */
function scalarsOf(stated: Record<string, unknown> | undefined): [string, string][] {
  return Object.entries(stated ?? {})
    .filter(([id]) => !id.includes("."))
    .map(([id, s]) => [id, flatPrinted(statedValue(s as Parameters<typeof statedValue>[0]).value)] as const)
    .filter(([, v]) => v.length === 1)
    .map(([id, v]) => [id, v[0]]);
}

async function shownValue(page: Page, id: string): Promise<string> {
  const sel = `.gw-node[data-node-id="${id}"] [data-testid="value-numbers"]`;
  await page.waitForSelector(sel, { timeout: 30_000 });
  return (await page.locator(sel).first().textContent()) ?? "";
}

describe("examples in the editor", () => {
  let s: Session;

  beforeAll(async () => {
    s = await openPage(await app(), { width: 1600, height: 900 });
  }, 300_000);

  afterAll(async () => {
    await closeApp();
  });

  for (const ex of EXAMPLES) {
    it(`${ex.file}: opens from the Examples menu and shows its stated numbers on the nodes`, async () => {
      await openExample(s.page, ex);
      for (const [id, stated] of scalarsOf(ex.check.eval?.nodes)) {
        // Until the worker has evaluated the new graph, a node with the previous example's id may still show
        // that example's value: wait for the value to settle on the stated one.
        let shown = "";
        await expect
          .poll(
            async () => {
              shown = await shownValue(s.page, id);
              return agrees(shown, stated);
            },
            { timeout: 30_000 },
          )
          .toBe(true)
          .catch(() => expect.fail(`node ${id} shows ${shown}, stated ${stated}`));
      }
      const warnings = ex.check.warnings ?? [];
      for (const w of warnings)
        expect(await s.page.locator(`.gw-node[data-node-id="${w.node}"]`).textContent()).toMatch(
          new RegExp(w.match),
        );
      await shot(s.page, `examples-${ex.name}`);
      expect(s.errors).toEqual([]);
    });
  }

  // Training in the browser: the examples small enough to train in a test (the 1,000,000-point one is left to
  // the CLI's two epochs).
  for (const ex of EXAMPLES.filter((e) => e.check.train && !e.check.train.epochs)) {
    const t = ex.check.train!;
    const r = parseGraphFile(ex.text);
    const epochs = r.ok ? r.doc.settings.epochs : 0;
    const last = t.records.find((rec) => rec.epoch === epochs - 1 && rec.loss !== undefined);
    it(`${ex.file}: trains from the Run button${t.stop ? " and stops where it diverges" : ""}`, async () => {
      await openExample(s.page, ex);
      await s.page.click('[data-testid="run"]');
      // Wait for this run's end: the status and the epoch it ended at (not a previous example's run).
      await s.page.waitForFunction(
        ([status, epoch]) =>
          document.querySelector("footer.statusbar")?.getAttribute("data-status") === status &&
          document.querySelector('[data-testid="epoch"]')?.textContent === epoch,
        [t.stop ? "error" : "done", String(t.stop ? t.stop.epoch : epochs)] as const,
        { timeout: 60_000 },
      );
      if (t.stop) {
        const msg = await s.page.locator('[data-testid="run-message"]').textContent();
        expect(msg).toContain(`epoch ${t.stop.epoch}`);
        expect(msg).toMatch(new RegExp(t.stop.match));
      } else {
        expect(await s.page.locator('[data-testid="epoch"]').textContent()).toBe(String(epochs));
        if (last?.loss !== undefined) {
          const title = await s.page
            .locator('[data-testid="loss-value"]')
            .locator("..")
            .getAttribute("title");
          const loss = Number(title?.replace(/^loss /, ""));
          expect(printsAs(loss, flatPrinted(last.loss)[0]), `final loss ${loss}`).toBe(true);
        }
        for (const [id, stated] of scalarsOf(ex.check.afterTraining)) {
          // The nodes show the trained values once the worker has re-evaluated the graph.
          let shown = "";
          for (let tries = 0; tries < 100; tries++) {
            shown = await shownValue(s.page, id);
            if (agrees(shown, stated)) break;
            await s.page.waitForTimeout(100);
          }
          expect(agrees(shown, stated), `node ${id} shows ${shown} after training, stated ${stated}`).toBe(
            true,
          );
        }
      }
      // With validation data (a DataLoader's val_x), the validation loss and metrics are plotted too.
      if (r.ok && Object.values(r.doc.edges).some((e) => e.targetPort === "val_x")) {
        expect(await s.page.locator('[data-testid="plot-metrics"]').count()).toBe(1);
        expect(await s.page.locator('[data-testid="plot-loss"]').textContent()).toContain("validation loss");
      }
      await shot(s.page, `examples-${ex.name}-trained`);
      expect(s.errors).toEqual([]);
    });
  }
});
