// The graph document: edits through immer patches, one undo step per gesture, capped history.
import { applyPatches, type Patch } from "immer";
import { describe, expect, it } from "vitest";
import { GraphDocument } from "../../src/graph/document.ts";
import type { GraphDoc } from "../../src/graph/types.ts";

function sample(): GraphDocument {
  const doc = new GraphDocument();
  doc.addNode({ type: "tensor", id: "x", params: { data: [1, 2, 3] } });
  doc.addNode({ type: "tensor", id: "y", params: { data: [2, 2, 2] } });
  doc.addNode({ type: "mse_loss", id: "loss" });
  doc.connect({ source: "x", target: "loss", targetPort: "input" });
  doc.connect({ source: "y", target: "loss", targetPort: "target" });
  return doc;
}

describe("GraphDocument", () => {
  it("keeps nodes and edges as records keyed by id, with generated ids", () => {
    const doc = sample();
    expect(Object.keys(doc.state.nodes)).toEqual(["x", "y", "loss"]);
    expect(
      Object.values(doc.state.edges).map((e) => `${e.source}.${e.sourcePort}->${e.target}.${e.targetPort}`),
    ).toEqual(["x.out->loss.input", "y.out->loss.target"]);
    const id = doc.addNode({ type: "SGD" });
    expect(id).toBe("SGD_1");
    expect(doc.addNode({ type: "SGD" })).toBe("SGD_2");
  });

  it("undoes and redoes each edit as one step, and redo is cleared by a new edit", () => {
    const doc = sample();
    const before = doc.state;
    doc.setParam("loss", "reduction", "sum");
    expect(doc.state.nodes.loss.params.reduction).toBe("sum");
    expect(doc.undo()).toBe(true);
    expect(doc.state).toEqual(before);
    expect(doc.redo()).toBe(true);
    expect(doc.state.nodes.loss.params.reduction).toBe("sum");
    doc.undo();
    doc.setParam("loss", "reduction", "none");
    expect(doc.canRedo).toBe(false);
  });

  it("undoes back to the empty graph step by step", () => {
    const doc = sample();
    expect(doc.history).toHaveLength(5);
    while (doc.undo());
    expect(doc.state.nodes).toEqual({});
    expect(doc.state.edges).toEqual({});
    while (doc.redo());
    expect(Object.keys(doc.state.nodes)).toHaveLength(3);
  });

  it("a drag of many moves is a single undo step", () => {
    const doc = sample();
    const steps = doc.history.length;
    doc.beginGesture("Drag");
    for (let i = 1; i <= 30; i++) doc.moveNodes({ x: { x: i, y: 2 * i } });
    doc.endGesture();
    expect(doc.history.length).toBe(steps + 1);
    expect(doc.state.nodes.x.position).toEqual({ x: 30, y: 60 });
    doc.undo();
    expect(doc.state.nodes.x.position).toEqual({ x: 0, y: 0 });
  });

  it("deleting a node removes its edges and the objective, and undo brings all back", () => {
    const doc = sample();
    doc.setObjective("loss");
    doc.removeNodes(["loss"]);
    expect(doc.state.edges).toEqual({});
    expect(doc.state.objective).toBeUndefined();
    doc.undo();
    expect(Object.keys(doc.state.edges)).toHaveLength(2);
    expect(doc.state.objective).toBe("loss");
  });

  it("connecting into an occupied input replaces the old edge in the same step", () => {
    const doc = sample();
    doc.addNode({ type: "tensor", id: "z" });
    const steps = doc.history.length;
    doc.connect({ source: "z", target: "loss", targetPort: "target" });
    const into = Object.values(doc.state.edges).filter(
      (e) => e.target === "loss" && e.targetPort === "target",
    );
    expect(into.map((e) => e.source)).toEqual(["z"]);
    expect(doc.history.length).toBe(steps + 1);
    doc.undo();
    expect(Object.values(doc.state.edges).find((e) => e.targetPort === "target")?.source).toBe("y");
  });

  it("caps the history", () => {
    const doc = new GraphDocument(undefined, 10);
    doc.addNode({ type: "tensor", id: "t" });
    for (let i = 0; i < 25; i++) doc.setParam("t", "data", i);
    expect(doc.history).toHaveLength(10);
    let n = 0;
    while (doc.undo()) n++;
    expect(n).toBe(10);
    expect(doc.state.nodes.t.params.data).toBe(14);
  });

  it("emits patches that replay the change on another copy (what the worker receives)", () => {
    const doc = sample();
    let mirror: GraphDoc = structuredClone(doc.state);
    const seen: Patch[][] = [];
    doc.subscribe((_d, change) => {
      seen.push(change.patches);
      mirror = applyPatches(mirror, change.patches);
    });
    doc.setParam("x", "data", [4, 5, 6]);
    doc.duplicate(["x", "loss"]);
    doc.undo();
    doc.redo();
    doc.renameNode("x", "prediction");
    expect(seen).toHaveLength(5);
    expect(mirror).toEqual(doc.state);
  });

  it("leaves an unchanged node's object identical, so consumers can tell what changed", () => {
    const doc = sample();
    const y = doc.state.nodes.y;
    doc.setParam("x", "data", [7]);
    expect(doc.state.nodes.y).toBe(y);
    expect(Object.isFrozen(doc.state.nodes.x)).toBe(true);
  });

  it("duplicates nodes with the edges among them, offset, in one step", () => {
    const doc = sample();
    const ids = doc.duplicate(["x", "loss"]);
    expect(ids).toEqual(["tensor_1", "mse_loss_1"]);
    const copied = Object.values(doc.state.edges).filter((e) => e.target === "mse_loss_1");
    expect(copied.map((e) => e.source)).toEqual(["tensor_1"]);
    expect(doc.state.nodes.tensor_1.position).toEqual({ x: 40, y: 40 });
    doc.undo();
    expect(doc.state.nodes.tensor_1).toBeUndefined();
  });

  it("replace swaps in a whole graph as one undoable step", () => {
    const doc = sample();
    const old = doc.state;
    doc.replace({ title: "New", nodes: {}, edges: {}, settings: { epochs: 5 } });
    expect(doc.state.title).toBe("New");
    expect(doc.state.nodes).toEqual({});
    doc.undo();
    expect(doc.state).toEqual(old);
  });
});

describe("GraphDocument limits", () => {
  it("refuses param values nested absurdly deep, with a message, before they reach immer", () => {
    const doc = new GraphDocument();
    let data: unknown = 1;
    for (let i = 0; i < 3000; i++) data = [data];
    expect(() => doc.addNode({ type: "tensor", params: { data: data as number } })).toThrow(
      "param 'data' is nested more than 64 levels deep",
    );
    doc.addNode({ type: "tensor", id: "t" });
    expect(() => doc.setParam("t", "data", data as number)).toThrow(/nested more than 64 levels/);
    expect(doc.state.nodes.t.params).toEqual({});
  });
});
