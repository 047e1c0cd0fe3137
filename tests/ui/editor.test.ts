/**
 * The editor state over the real GraphDocument: each gesture one undo step, the buttons' state right after
 * undo and redo, copy/paste/duplicate with fresh ids, free placement, and the flow stores mirroring the
 * document (the adapter keeps solid-flow's own fields).
 */
import { createRoot } from "solid-js";
import { createStore } from "solid-js/store";
import { describe, expect, it } from "vitest";
import { registry } from "../../src/nodes/index.ts";
import { type FlowEdge, type FlowNode, syncEdges, syncNodes } from "../../src/ui/canvas/flowSync.ts";
import { decodeGraph, encodeGraph, fragmentOf, shareUrl } from "../../src/ui/files/share.ts";
import { createEditor, freeSpot, GRID } from "../../src/ui/state/editor.ts";

function withEditor(fn: (e: ReturnType<typeof createEditor>) => void) {
  createRoot((dispose) => {
    fn(createEditor(registry));
    dispose();
  });
}

describe("editor", () => {
  it("makes every gesture one undo step and keeps undo/redo availability right", () => {
    withEditor((e) => {
      const x = e.addNode("tensor", { x: 13, y: 27 }) as string;
      const l = e.addNode("mse_loss", { x: 300, y: 0 }) as string;
      expect(e.doc().nodes[x].position).toEqual({ x: 20, y: 20 });
      expect(e.selection()).toEqual([l]);
      e.connect(x, "out", l, "input");
      expect(Object.keys(e.doc().edges)).toHaveLength(1);
      e.setSelection([l]);
      e.deleteSelection();
      expect(e.doc().nodes[l]).toBeUndefined();
      expect(Object.keys(e.doc().edges)).toHaveLength(0);
      expect(e.history()).toMatchObject({ canUndo: true, canRedo: false });
      e.undo();
      expect(e.doc().nodes[l]).toBeDefined();
      expect(Object.keys(e.doc().edges)).toHaveLength(1);
      expect(e.history()).toMatchObject({ canUndo: true, canRedo: true });
      e.redo();
      expect(e.doc().nodes[l]).toBeUndefined();
      expect(e.history()).toMatchObject({ canUndo: true, canRedo: false });
      e.undo();
      e.undo();
      e.undo();
      e.undo();
      expect(Object.keys(e.doc().nodes)).toHaveLength(0);
      expect(e.history().canUndo).toBe(false);
    });
  });

  it("groups typing into one step and drops selection of deleted nodes", () => {
    withEditor((e) => {
      const o = e.addNode("SGD", { x: 0, y: 0 }) as string;
      e.graph.beginGesture("typing lr");
      e.setParam(o, "lr", 0.1);
      e.setParam(o, "lr", 0.12);
      e.setParam(o, "lr", 0.125);
      e.graph.endGesture();
      expect(e.doc().nodes[o].params.lr).toBe(0.125);
      e.undo();
      expect(e.doc().nodes[o].params.lr).toBeUndefined();
      e.undo();
      expect(e.selection()).toEqual([]);
    });
  });

  it("copies, pastes and duplicates with fresh ids and the edges between the copies", () => {
    withEditor((e) => {
      const a = e.addNode("tensor", { x: 0, y: 0 }) as string;
      const b = e.addNode("relu", { x: 200, y: 0 }) as string;
      e.connect(a, "out", b, "input");
      e.setSelection([a, b]);
      const clip = e.copy();
      expect(clip?.nodes.map((n) => n.id)).toEqual([a, b]);
      const pasted = e.paste();
      expect(pasted).toHaveLength(2);
      expect(pasted.some((id) => id === a || id === b)).toBe(false);
      expect(e.selection()).toEqual(pasted);
      const copyEdge = Object.values(e.doc().edges).find((x) => x.source === pasted[0]);
      expect(copyEdge?.target).toBe(pasted[1]);
      expect(e.doc().nodes[pasted[0]].position).toEqual({ x: 2 * GRID, y: 2 * GRID });
      const dup = e.duplicate();
      expect(dup).toHaveLength(2);
      expect(Object.keys(e.doc().nodes)).toHaveLength(6);
      expect(Object.keys(e.doc().edges)).toHaveLength(3);
      e.undo();
      e.undo();
      expect(Object.keys(e.doc().nodes)).toHaveLength(2);
    });
  });

  it("finds free space for nodes added at the centre, right and down first", () => {
    withEditor((e) => {
      const first = freeSpot(e.doc(), { x: 0, y: 0 });
      e.addNode("tensor", first);
      const second = freeSpot(e.doc(), { x: 0, y: 0 });
      expect(second).not.toEqual(first);
      expect(second.x).toBeGreaterThan(first.x);
    });
  });
});

describe("flow adapter", () => {
  it("mirrors the document into the flow stores, keeping what solid-flow owns", () => {
    withEditor((e) => {
      const [nodes, setNodes] = createStore<FlowNode[]>([]);
      const [edges, setEdges] = createStore<FlowEdge[]>([]);
      const a = e.addNode("tensor", { x: 0, y: 0 }) as string;
      const b = e.addNode("relu", { x: 200, y: 0 }) as string;
      const edge = e.connect(a, "out", b, "input");
      syncNodes(setNodes, e.doc(), new Set([b]));
      syncEdges(setEdges, e.doc(), new Set());
      expect(nodes.map((n) => [n.id, n.data.kind, n.selected])).toEqual([
        [a, "tensor", false],
        [b, "relu", true],
      ]);
      expect(edges[0]).toMatchObject({
        id: edge,
        source: a,
        target: b,
        sourceHandle: "out",
        targetHandle: "input",
      });
      // solid-flow writes measurements and drags into its store; a sync must not wipe them.
      setNodes(0, "measured", { width: 120, height: 80 });
      setNodes(1, "dragging", true);
      setNodes(1, "position", { x: 999, y: 999 });
      e.moveNodes({ [a]: { x: 40, y: 60 } });
      syncNodes(setNodes, e.doc(), new Set([b]));
      expect(nodes[0].position).toEqual({ x: 40, y: 60 });
      expect(nodes[0].measured).toEqual({ width: 120, height: 80 });
      expect(nodes[1].position).toEqual({ x: 999, y: 999 });
      // An edge the flow drew itself on connect is replaced by the document's.
      setEdges(edges.length, {
        id: "xy-edge",
        type: "gw",
        source: a,
        target: b,
        sourceHandle: "out",
        targetHandle: "input",
        data: {},
      });
      e.setSelection([b]);
      e.deleteSelection();
      syncNodes(setNodes, e.doc(), new Set());
      syncEdges(setEdges, e.doc(), new Set());
      expect(nodes.map((n) => n.id)).toEqual([a]);
      expect(edges).toHaveLength(0);
    });
  });
});

describe("share links", () => {
  it("carries a graph file through the URL fragment and back", async () => {
    const text = JSON.stringify({
      format: "gradwire.graph",
      version: 3,
      nodes: [],
      edges: [],
      note: "ü ∇ 🙂",
    });
    const url = await shareUrl(text, "http://127.0.0.1:5173/?x=1");
    expect(url.startsWith("http://127.0.0.1:5173/?x=1#graph=")).toBe(true);
    const frag = fragmentOf(new URL(url).hash);
    expect(frag).toBeDefined();
    expect(await decodeGraph(frag as string)).toBe(text);
    const big = JSON.stringify({ data: Array.from({ length: 2000 }, (_, i) => i % 7) });
    expect((await encodeGraph(big)).length).toBeLessThan(big.length / 3);
    await expect(decodeGraph(`${(await encodeGraph(big)).slice(0, 40)}`)).rejects.toThrow(/damaged/);
    await expect(decodeGraph("zzz")).rejects.toThrow(/not one gradwire made/);
  });
});
