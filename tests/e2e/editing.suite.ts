/**
 * The editor in real Chromium, as a user works it: build a graph from the palette by drag and drop, wire it
 * (a bad wire is refused with the reason), undo and redo, export and import back, refuse a malformed file, and
 * find the graph again after a reload.
 */
import { describe, expect, it } from "vitest";
import { dropKind, edgeCount, exportJson, importText, nodeIds, text, wire } from "./actions.ts";
import { type Session, shot, suitePage } from "./harness.ts";

let s: Session;

describe("editing a graph", () => {
  suitePage((_app, session) => {
    s = session;
  });

  it("drops palette kinds where they are released", async () => {
    const { page } = s;
    const canvas = await page.locator('[data-testid="canvas"]').boundingBox();
    if (!canvas) throw new Error("no canvas");
    const spots = {
      x: { x: canvas.x + 140, y: canvas.y + 90 },
      model: { x: canvas.x + 400, y: canvas.y + 90 },
      y: { x: canvas.x + 140, y: canvas.y + 250 },
      loss: { x: canvas.x + 640, y: canvas.y + 170 },
    };
    const ids: Record<string, string> = {};
    ids.x = await dropKind(page, "tensor", spots.x);
    ids.model = await dropKind(page, "model", spots.model);
    ids.y = await dropKind(page, "tensor", spots.y);
    ids.loss = await dropKind(page, "mse_loss", spots.loss);
    for (const [k, id] of Object.entries(ids)) {
      const b = await page.locator(`.gw-node[data-node-id="${id}"]`).boundingBox();
      const p = spots[k as keyof typeof spots];
      expect(b, id).not.toBeNull();
      if (!b) continue;
      // The node's header lands under the cursor: the drop point is inside the node's box.
      expect(p.x).toBeGreaterThanOrEqual(b.x);
      expect(p.x).toBeLessThanOrEqual(b.x + b.width);
      expect(p.y).toBeGreaterThanOrEqual(b.y);
      expect(p.y).toBeLessThanOrEqual(b.y + b.height);
    }
    expect(await page.locator('[data-node-type="mse_loss"]').count()).toBe(1);
    expect(await page.locator('[data-node-type="tensor"]').count()).toBe(2);
  });

  it("wires ports, and refuses a wire that cannot fit with the reason", async () => {
    const { page } = s;
    await wire(page, "tensor_1", "out", "model_1", "input");
    await wire(page, "model_1", "out", "mse_loss_1", "input");
    await wire(page, "tensor_2", "out", "mse_loss_1", "target");
    await expect.poll(() => edgeCount(page)).toBe(3);
    // The loss feeding the model's input would close a loop: refused while dragging, with the reason.
    await wire(page, "mse_loss_1", "out", "model_1", "input", true);
    const refusal = page.locator('[data-testid="connection-refusal"]');
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/cycle/);
    await shot(page, "editing-refused-wire");
    await page.mouse.up();
    await expect.poll(() => edgeCount(page)).toBe(3);
    await shot(page, "editing-wired");
  });

  it("selects a wire by clicking it and deletes it", async () => {
    const { page } = s;
    // The label sits at the middle of the wire, on the wire's hit area.
    const label = await page.locator(".gw-edge-label[data-edge-id]").first();
    const id = await label.getAttribute("data-edge-id");
    const b = await label.boundingBox();
    if (!b || !id) throw new Error("no edge label");
    await page.mouse.click(b.x + b.width / 2, b.y + b.height / 2);
    await expect.poll(() => page.locator(".solid-flow__edge.selected").count()).toBe(1);
    await page.keyboard.press("Delete");
    await expect.poll(() => edgeCount(page)).toBe(2);
    await page.keyboard.press("Control+z");
    await expect.poll(() => edgeCount(page)).toBe(3);
  });

  it("edits a param in the inspector with validation as you type", async () => {
    const { page } = s;
    await page.click('.gw-node[data-node-id="tensor_2"] .gw-node-head');
    const data = page.locator('[data-testid="param-data"]');
    await data.fill("[1.0, 2.5, x]");
    expect(await text(page, "param-error")).toMatch(/unexpected 'x'/);
    await data.fill("[1.5, 2.5, 3.5]");
    expect(await page.locator('[data-testid="param-error"]').count()).toBe(0);
    await data.blur();
    await page.locator('.gw-node[data-node-id="tensor_2"] .gw-port-shape').waitFor();
    expect(await page.locator('[data-inspector-node="tensor_2"]').textContent()).toContain("float32");
  });

  it("undoes and redoes, by button and by keyboard", async () => {
    const { page } = s;
    const edges = await edgeCount(page);
    const nodes = (await nodeIds(page)).length;
    await page.click('.gw-node[data-node-id="mse_loss_1"] .gw-node-head');
    await page.keyboard.press("Delete");
    await expect.poll(async () => (await nodeIds(page)).length).toBe(nodes - 1);
    await expect.poll(() => edgeCount(page)).toBe(edges - 2);
    await page.click('[data-testid="undo"]');
    await expect.poll(async () => (await nodeIds(page)).length).toBe(nodes);
    await expect.poll(() => edgeCount(page)).toBe(edges);
    await page.click('[data-testid="redo"]');
    await expect.poll(async () => (await nodeIds(page)).length).toBe(nodes - 1);
    await page.keyboard.press("Control+z");
    await expect.poll(async () => (await nodeIds(page)).length).toBe(nodes);
    await page.keyboard.press("Control+Shift+z");
    await expect.poll(async () => (await nodeIds(page)).length).toBe(nodes - 1);
    await page.keyboard.press("Control+z");
    await expect.poll(() => edgeCount(page)).toBe(edges);
  });

  it("copies, pastes and duplicates", async () => {
    const { page } = s;
    const before = (await nodeIds(page)).length;
    await page.click('.gw-node[data-node-id="model_1"] .gw-node-head');
    await page.keyboard.press("Control+c");
    await page.keyboard.press("Control+v");
    await expect.poll(async () => (await nodeIds(page)).length).toBe(before + 1);
    await page.keyboard.press("Control+d");
    await expect.poll(async () => (await nodeIds(page)).length).toBe(before + 2);
    await page.keyboard.press("Control+z");
    await page.keyboard.press("Control+z");
    await expect.poll(async () => (await nodeIds(page)).length).toBe(before);
  });

  it("selects several nodes by Ctrl-click and by Shift-drag box, and snaps moves to the grid", async () => {
    const { page } = s;
    await page.click('.gw-node[data-node-id="tensor_1"] .gw-node-head');
    await page.click('.gw-node[data-node-id="tensor_2"] .gw-node-head', { modifiers: ["Control"] });
    await expect.poll(() => page.locator(".solid-flow__node.selected").count()).toBe(2);
    expect(await page.locator('[data-testid="inspector"]').textContent()).toContain("2 nodes selected");
    await page.keyboard.press("Escape");
    await expect.poll(() => page.locator(".solid-flow__node.selected").count()).toBe(0);
    // A box from the empty top-left corner over the two tensors selects them (Shift+drag).
    const t1 = await page.locator('.gw-node[data-node-id="tensor_1"]').boundingBox();
    const t2 = await page.locator('.gw-node[data-node-id="tensor_2"]').boundingBox();
    if (!t1 || !t2) throw new Error("tensors not visible");
    await page.keyboard.down("Shift");
    await page.mouse.move(Math.min(t1.x, t2.x) - 30, t1.y - 30);
    await page.mouse.down();
    await page.mouse.move(t2.x + t2.width / 2, t2.y + t2.height / 2, { steps: 8 });
    await page.mouse.up();
    await page.keyboard.up("Shift");
    await expect.poll(() => page.locator(".solid-flow__node.selected").count()).toBe(2);
    // Drag the selection: both move together, one undo step, positions on the 20px grid.
    const head = await page.locator('.gw-node[data-node-id="tensor_2"] .gw-node-head').boundingBox();
    if (!head) throw new Error("no header");
    await page.mouse.move(head.x + 10, head.y + 8);
    await page.mouse.down();
    await page.mouse.move(head.x + 47, head.y + 31, { steps: 6 });
    await page.mouse.up();
    const file = JSON.parse(await exportJson(page)) as {
      nodes: { id: string; position: { x: number; y: number } }[];
    };
    for (const n of file.nodes) {
      expect(n.position.x % 20, n.id).toBe(0);
      expect(n.position.y % 20, n.id).toBe(0);
    }
    await page.click('[data-testid="undo"]');
    const back = JSON.parse(await exportJson(page)) as typeof file;
    const moved = file.nodes.filter((n) => {
      const b = back.nodes.find((m) => m.id === n.id);
      return b && (b.position.x !== n.position.x || b.position.y !== n.position.y);
    });
    expect(moved.map((n) => n.id).sort()).toEqual(["tensor_1", "tensor_2"]);
    await page.click('[data-testid="redo"]');
    expect(await page.locator(".solid-flow__minimap").count()).toBe(1);
  });

  it("lists the shortcuts in a help overlay", async () => {
    const { page } = s;
    await page.click('[data-testid="canvas"]', { position: { x: 8, y: 8 } });
    await page.keyboard.press("?");
    const help = page.locator('[data-testid="help-overlay"]');
    await help.waitFor();
    const textContent = (await help.textContent()) ?? "";
    for (const k of ["Undo", "Redo", "Delete", "Copy", "Paste", "Duplicate", "Box-select", "Pan", "Zoom"])
      expect(textContent).toContain(k);
    await shot(page, "editing-help");
    await page.keyboard.press("Escape");
    await expect.poll(() => help.count()).toBe(0);
  });

  it("imports a graph file dropped on the canvas, and refuses a bad one", async () => {
    const { page } = s;
    const good = await exportJson(page);
    const drop = async (name: string, content: string) => {
      const dt = await page.evaluateHandle(
        ([n, c]) => {
          const d = new DataTransfer();
          d.items.add(new File([c], n, { type: "application/json" }));
          return d;
        },
        [name, content] as const,
      );
      await page.dispatchEvent('[data-testid="canvas"]', "dragover", { dataTransfer: dt });
      await page.dispatchEvent('[data-testid="canvas"]', "drop", { dataTransfer: dt });
    };
    await drop("bad.json", '{"format": "gradwire.graph", "version": 99, "nodes": [], "edges": []}');
    await page.locator('[data-testid="import-errors"]').waitFor();
    expect(await text(page, "import-errors")).toMatch(/version 99/);
    expect(await exportJson(page)).toBe(good);
    const smaller = JSON.parse(good) as {
      nodes: { id: string }[];
      edges: { source: string; target: string }[];
    };
    smaller.nodes = smaller.nodes.filter((n) => n.id !== "mse_loss_1");
    smaller.edges = smaller.edges.filter((e) => e.source !== "mse_loss_1" && e.target !== "mse_loss_1");
    await drop("smaller.json", JSON.stringify(smaller));
    await expect.poll(() => page.locator('.gw-node[data-node-id="mse_loss_1"]').count()).toBe(0);
    await page.click('[data-testid="undo"]');
    await expect.poll(async () => await exportJson(page)).toBe(good);
  });

  it("exports the graph as JSON and imports it back to the same graph", async () => {
    const { page } = s;
    const first = await exportJson(page);
    const file = JSON.parse(first);
    expect(file.format).toBe("gradwire.graph");
    expect(file.nodes.map((n: { id: string }) => n.id).sort()).toEqual((await nodeIds(page)).sort());
    // Change the graph, then import the export: everything comes back exactly.
    await page.click('.gw-node[data-node-id="tensor_1"] .gw-node-head');
    await page.keyboard.press("Delete");
    await importText(page, "graph.json", first);
    await page.locator('.gw-node[data-node-id="tensor_1"]').waitFor();
    expect(await exportJson(page)).toBe(first);
  });

  it("refuses a malformed file with the reason and leaves the graph untouched", async () => {
    const { page } = s;
    const before = await exportJson(page);
    await importText(page, "broken.json", '{"format": "gradwire.graph", "version": 3, "nodes": [');
    const errors = page.locator('[data-testid="import-errors"]');
    await errors.waitFor();
    expect(await errors.textContent()).toMatch(/not valid JSON|truncated|ends early/i);
    await shot(page, "editing-malformed-import");
    await importText(
      page,
      "bad-node.json",
      JSON.stringify({
        format: "gradwire.graph",
        version: 3,
        nodes: [{ id: "a", type: "no_such_op" }],
        edges: [],
      }),
    );
    await page.waitForFunction(() =>
      /nodes\[0\]/.test(document.querySelector('[data-testid="import-errors"]')?.textContent ?? ""),
    );
    expect(await exportJson(page)).toBe(before);
  });

  it("restores the graph after a reload (autosave)", async () => {
    const { page } = s;
    const before = await exportJson(page);
    await page.waitForTimeout(400);
    await page.reload();
    await page.waitForSelector('[data-testid="app-ready"]', { state: "attached" });
    await page.locator('.gw-node[data-node-id="tensor_1"]').waitFor();
    expect(await exportJson(page)).toBe(before);
    await shot(page, "editing-after-reload");
    expect(s.errors).toEqual([]);
  });
});
