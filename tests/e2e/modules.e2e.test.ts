/**
 * Modules end to end in real Chromium: in the MLP example, select the hidden layer's four nodes, group them as a
 * module (one node with ports `input` and `out` takes their place and trains as before), open it by
 * double-click and come back by the breadcrumb, undo and redo the grouping, place a second instance from the
 * palette, export the graph with its modules section, and refuse a file whose module is malformed. Screenshots go to test-results/e2e/ (modules-*.png).
 */
import { afterAll, describe, expect, it } from "vitest";
import { edgeCount, exportJson, importText, nodeIds, text } from "./actions.ts";
import { app, closeApp, openPage, type Session, shot } from "./harness.ts";

afterAll(async () => {
  await closeApp();
});

let s: Session;
const HIDDEN = ["W1", "b1", "hidden", "h"];
const node = (id: string) => `.gw-node[data-node-id="${id}"]`;

describe("modules in the editor", () => {
  it("opens the MLP example", async () => {
    const a = await app();
    s = await openPage(a, { width: 1600, height: 1000 });
    await s.page.click('[data-testid="backend"]');
    await s.page.click('[data-testid="backend-cpu"]');
    await s.page.click('[data-testid="examples"]');
    await s.page.click('[data-testid="example-item"][data-file="51-mlp-two-class-adam.json"]');
    await expect.poll(() => nodeIds(s.page)).toContain("hidden");
    await expect.poll(() => edgeCount(s.page)).toBe(15);
  });

  it("groups the selected hidden layer as one module node with named ports", async () => {
    const { page } = s;
    await page.click(`${node("W1")} .gw-node-head`);
    for (const id of HIDDEN.slice(1))
      await page.click(`${node(id)} .gw-node-head`, { modifiers: ["Control"] });
    await expect.poll(() => page.locator(".solid-flow__node.selected").count()).toBe(4);
    await page.click('[data-testid="group-module"]');
    await expect.poll(() => nodeIds(page)).toContain("Module_1");
    const ids = await nodeIds(page);
    for (const id of HIDDEN) expect(ids).not.toContain(id);
    const inst = page.locator(node("Module_1"));
    expect(await inst.getAttribute("data-node-type")).toBe("module");
    expect(await inst.locator(".gw-port-name").allTextContents()).toEqual(["input", "out"]);
    // Four wires among the grouped nodes went inside; x → input and out → logits remain.
    await expect.poll(() => edgeCount(page)).toBe(12);
    // Validated as the flat graph: the output's shape shows, and no error.
    await expect.poll(() => inst.locator(".gw-port-shape").textContent()).toBe("[256, 16]");
    expect(await page.locator(".gw-node.has-error").count()).toBe(0);
    await shot(page, "modules-grouped");
  });

  it("opens the module by double-click and comes back by the breadcrumb", async () => {
    const { page } = s;
    await page.dblclick(`${node("Module_1")} .gw-node-head`);
    expect(await text(page, "breadcrumb-module")).toBe("Module");
    await expect.poll(async () => (await nodeIds(page)).sort()).toEqual([...HIDDEN].sort());
    // Inside, the nodes show the instance's shapes and values.
    await expect.poll(() => page.locator(`${node("hidden")} .gw-port-shape`).textContent()).toBe("[256, 16]");
    await page.locator(`${node("h")} [data-preview="value"]`).waitFor();
    await shot(page, "modules-inside");
    await page.click('[data-testid="breadcrumb-graph"]');
    await expect.poll(() => nodeIds(page)).toContain("Module_1");
    expect(await page.locator('[data-testid="breadcrumb-module"]').count()).toBe(0);
  });

  it("trains the grouped graph as the example trains", async () => {
    const { page } = s;
    await page.click('[data-testid="run"]');
    await expect.poll(() => text(page, "run-status"), { timeout: 60_000 }).toMatch(/Done/);
    await shot(page, "modules-trained");
    expect(Number(await text(page, "epoch"))).toBe(300);
    // Example 51 states 0.0447 for its last epoch (examples/checks): grouping changed nothing that runs.
    expect(await text(page, "loss-value")).toBe("0.0447");
  });

  it("undoes and redoes the grouping", async () => {
    const { page } = s;
    await page.click(".solid-flow__pane", { position: { x: 5, y: 400 } });
    // The run's last step was the grouping (a run edits nothing).
    await page.keyboard.press("Control+z");
    await expect.poll(() => nodeIds(page)).toContain("hidden");
    expect(await nodeIds(page)).not.toContain("Module_1");
    await page.keyboard.press("Control+Shift+z");
    await expect.poll(() => nodeIds(page)).toContain("Module_1");
    expect(await nodeIds(page)).not.toContain("hidden");
  });

  it("places a second instance from the palette and saves the modules section", async () => {
    const { page } = s;
    await page.dblclick('[data-testid="palette-module-Module"]');
    await expect.poll(() => nodeIds(page)).toContain("Module_2");
    const saved = JSON.parse(await exportJson(page));
    expect(saved.version).toBe(3);
    expect(saved.modules.map((m: { id: string }) => m.id)).toEqual(["Module"]);
    expect(saved.nodes.filter((n: { type: string }) => n.type === "module")).toHaveLength(2);
    await shot(page, "modules-two-instances");
  });

  it("refuses a file with a malformed module, naming the JSON path, and keeps the graph as it was", async () => {
    const { page } = s;
    const before = (await nodeIds(page)).sort();
    const saved = JSON.parse(await exportJson(page));
    saved.modules[0].inputs[0].targets = [];
    await importText(page, "broken-module.json", JSON.stringify(saved));
    await expect
      .poll(() => text(page, "import-errors"))
      .toContain("modules[0].inputs[0].targets: input 'input' of module 'Module' is wired to nothing inside");
    expect((await nodeIds(page)).sort()).toEqual(before);
    expect(s.errors, s.errors.join("\n")).toEqual([]);
  });
});
