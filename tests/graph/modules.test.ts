// Modules: grouping, ungrouping, expansion to the flat graph, the file's modules section and its errors.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { type EpochRecord, Trainer } from "../../src/engine/train.ts";
import { GraphDocument } from "../../src/graph/document.ts";
import { parseGraphFile, serializeGraph } from "../../src/graph/format.ts";
import { expandModules } from "../../src/graph/modules.ts";
import type { GraphDoc } from "../../src/graph/types.ts";

const example = (name: string) => readFileSync(new URL(`../../examples/${name}`, import.meta.url), "utf8");

function load(text: string): GraphDoc {
  const r = parseGraphFile(text);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join("\n"));
  return r.doc;
}

const problems = (json: unknown) => {
  const r = parseGraphFile(JSON.stringify(json));
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
};

async function losses(doc: GraphDoc, epochs: number): Promise<number[]> {
  const s = new Scheduler();
  s.setGraph(doc);
  const trainer = new Trainer(s);
  const out: number[] = [];
  trainer.onRecords((rs: EpochRecord[]) => {
    for (const r of rs) out.push(r.loss);
  });
  await trainer.run({ epochs });
  expect(trainer.state.status, trainer.state.message).toBe("done");
  return out;
}

/** Example 51's hidden layer (W1, b1, linear, tanh) grouped as module Block. */
function groupedMlp(): { graph: GraphDocument; before: GraphDoc } {
  const before = load(example("51-mlp-two-class-adam.json"));
  const graph = new GraphDocument(before);
  graph.groupAsModule(["W1", "b1", "hidden", "h"], { module: "Block", instance: "block1" });
  return { graph, before };
}

describe("group as module", () => {
  it("the crossing wires become named ports, the selection one instance, in one undoable step", () => {
    const { graph, before } = groupedMlp();
    const doc = graph.state;
    const def = doc.modules?.Block;
    expect(def?.inputs).toEqual([{ name: "input", targets: [{ node: "hidden", port: "input" }] }]);
    expect(def?.outputs).toEqual([{ name: "out", node: "h", port: "out" }]);
    expect(Object.keys(def?.nodes ?? {}).sort()).toEqual(["W1", "b1", "h", "hidden"]);
    expect(doc.nodes.block1).toMatchObject({ type: "module", params: { module: "Block" } });
    for (const id of ["W1", "b1", "hidden", "h"]) expect(doc.nodes[id]).toBeUndefined();
    const wires = Object.values(doc.edges).filter((e) => e.source === "block1" || e.target === "block1");
    expect(wires.map((e) => `${e.source}.${e.sourcePort}→${e.target}.${e.targetPort}`).sort()).toEqual([
      "block1.out→logits.input",
      "x.out→block1.input",
    ]);
    expect(graph.history).toEqual(["Group 4 nodes as Block"]);
    graph.undo();
    expect(graph.state).toEqual(before);
    graph.redo();
    expect(graph.state).toEqual(doc);
  });

  it("trains to exactly the losses of the graph before grouping", async () => {
    const { graph, before } = groupedMlp();
    expect(await losses(graph.state, 5)).toEqual(await losses(before, 5));
  });

  it("ungrouping puts the nodes back where they were and drops the unused module", () => {
    const { graph, before } = groupedMlp();
    graph.ungroup("block1");
    const doc = graph.state;
    expect(doc.modules).toBeUndefined();
    expect(Object.keys(doc.nodes).sort()).toEqual(Object.keys(before.nodes).sort());
    for (const n of Object.values(before.nodes)) expect(doc.nodes[n.id]).toEqual(n);
    const wiring = (d: GraphDoc) =>
      Object.values(d.edges)
        .map((e) => `${e.source}.${e.sourcePort}→${e.target}.${e.targetPort}`)
        .sort();
    expect(wiring(doc)).toEqual(wiring(before));
    graph.undo();
    expect(graph.state.nodes.block1).toBeDefined();
  });

  it("a value used twice inside becomes one input feeding both inner ports", () => {
    const graph = new GraphDocument();
    const x = graph.addNode({ type: "tensor", id: "x", params: { data: [1, 2] } });
    const a = graph.addNode({ type: "mul", id: "a" });
    graph.connect({ source: x, target: a, targetPort: "input" });
    graph.connect({ source: x, target: a, targetPort: "other" });
    const r = graph.addNode({ type: "relu", id: "r" });
    graph.connect({ source: a, target: r, targetPort: "input" });
    graph.groupAsModule(["a"], { module: "Square" });
    expect(graph.state.modules?.Square.inputs).toEqual([
      {
        name: "input",
        targets: [
          { node: "a", port: "input" },
          { node: "a", port: "other" },
        ],
      },
    ]);
  });
});

describe("instances", () => {
  it("expand into a flat graph named by instance path, each with its own parameters", () => {
    const doc = load(example("53-mlp-reusable-block.json"));
    const flat = expandModules(doc);
    expect(flat.modules).toBeUndefined();
    expect(flat.nodes["block1/W"].params).toMatchObject({ size: [16, 2], seed: 1 });
    expect(flat.nodes["block2/W"].params).toMatchObject({ size: [16, 16], seed: 2 });
    expect(flat.nodes["block2/fc"].name).toBe("block2/fc");
    const into = (id: string, port: string) =>
      Object.values(flat.edges).find((e) => e.target === id && e.targetPort === port);
    expect(into("block1/fc", "input")).toMatchObject({ source: "x", sourcePort: "out" });
    expect(into("block2/fc", "input")).toMatchObject({ source: "block1/act", sourcePort: "out" });
    expect(into("logits", "input")).toMatchObject({ source: "block2/act", sourcePort: "out" });
    expect(into("block2/fc", "weight")).toMatchObject({ source: "block2/W" });
  });

  it("editing the definition (inside the opened module) changes every instance", () => {
    const graph = new GraphDocument(load(example("53-mlp-reusable-block.json")));
    graph.setScope("Block");
    const relu = graph.addNode({ type: "relu", id: "act" in graph.view.nodes ? "act2" : "act" });
    expect(Object.keys(graph.view.nodes)).toContain(relu);
    graph.setParam("b", "size", [16]);
    graph.removeNodes(["act"]);
    graph.connect({ source: "fc", target: relu, targetPort: "input" });
    // The output came from the deleted tanh: it went, with the wires at both instances.
    expect(graph.state.modules?.Block.outputs).toEqual([]);
    expect(Object.values(graph.state.edges).some((e) => e.source === "block1")).toBe(false);
    const flat = expandModules(graph.state);
    expect(flat.nodes["block1/act2"]?.type).toBe("relu");
    expect(flat.nodes["block2/act2"]?.type).toBe("relu");
    graph.setScope(undefined);
    for (let i = 0; i < 4; i++) graph.undo();
    expect(graph.state).toEqual(load(example("53-mlp-reusable-block.json")));
  });

  it("renaming a port rewires every instance; a taken name is refused", () => {
    const graph = new GraphDocument(load(example("53-mlp-reusable-block.json")));
    graph.renamePort("Block", "inputs", "input", "x_in");
    expect(graph.state.modules?.Block.inputs[0].name).toBe("x_in");
    const ports = Object.values(graph.state.edges)
      .filter((e) => e.target === "block1" || e.target === "block2")
      .map((e) => e.targetPort);
    expect(ports).toEqual(["x_in", "x_in"]);
    graph.renamePort("Block", "outputs", "out", "hidden");
    expect(() => graph.renamePort("Block", "outputs", "hidden", "hidden 2")).toThrow(/cannot name a port/);
    expect(expandModules(graph.state).edges.e6).toMatchObject({ source: "block2/act", target: "logits" });
    // The renamed file loads again: its ports and wires agree.
    expect(load(serializeGraph(graph.state))).toEqual(graph.state);
  });

  it("a group made inside an open module nests: instance paths grow, training does not change", async () => {
    const before = load(example("53-mlp-reusable-block.json"));
    const graph = new GraphDocument(before);
    graph.setScope("Block");
    graph.groupAsModule(["fc", "act"], { module: "Core", instance: "core" });
    expect(graph.state.modules?.Block.nodes.core).toMatchObject({
      type: "module",
      params: { module: "Core" },
    });
    expect(graph.state.modules?.Block.outputs).toEqual([{ name: "out", node: "core", port: "out" }]);
    expect(graph.state.modules?.Core.inputs.map((p) => p.name)).toEqual(["weight", "bias", "input"]);
    const flat = expandModules(graph.state);
    expect(flat.nodes["block2/core/fc"]?.type).toBe("linear");
    expect(
      Object.values(flat.edges).find((e) => e.target === "block2/core/fc" && e.targetPort === "weight"),
    ).toMatchObject({ source: "block2/W" });
    expect(await losses(graph.state, 5)).toEqual(await losses(before, 5));
    // Core inside Block may not hold a Block: that would be recursive.
    graph.setScope("Core");
    expect(() => graph.addNode({ type: "module", params: { module: "Block" } })).toThrow(/contain itself/);
    // The nested file saves and loads again.
    expect(load(serializeGraph(graph.state))).toEqual(graph.state);
    // Ungrouping inside Block puts fc and act back, and Block's ports lead to them again.
    graph.setScope("Block");
    graph.ungroup("core");
    expect(graph.state.modules?.Block).toEqual(before.modules?.Block);
    expect(graph.state.modules?.Core).toBeUndefined();
  });

  it("renaming the open module keeps it open; instances follow", () => {
    const graph = new GraphDocument(load(example("53-mlp-reusable-block.json")));
    graph.setScope("Block");
    graph.renameModule("Block", "Layer");
    expect(graph.scope).toBe("Layer");
    expect(Object.keys(graph.view.nodes).sort()).toEqual(["W", "act", "b", "fc"]);
    expect([graph.state.nodes.block1.params.module, graph.state.nodes.block2.params.module]).toEqual([
      "Layer",
      "Layer",
    ]);
    expect(() => graph.renameModule("Layer", "constructor")).toThrow(/cannot name a module/);
  });

  it("a module cannot be placed inside itself", () => {
    const graph = new GraphDocument(load(example("53-mlp-reusable-block.json")));
    graph.setScope("Block");
    expect(() => graph.addNode({ type: "module", params: { module: "Block" } })).toThrow(/contain itself/);
  });
});

describe("the modules section of the file", () => {
  it("saves and loads again unchanged; a version 2 file migrates to version 3", () => {
    const text = example("53-mlp-reusable-block.json");
    expect(serializeGraph(load(text))).toBe(text);
    const v2text = example("51-mlp-two-class-adam.json").replace('"version": 3', '"version": 2');
    const v2 = parseGraphFile(v2text);
    expect(v2.ok && v2.migratedFrom).toBe(2);
    expect(v2.ok && v2.doc).toEqual(load(example("51-mlp-two-class-adam.json")));
    expect(JSON.parse(serializeGraph(load(v2text))).version).toBe(3);
  });

  const base = () => JSON.parse(example("53-mlp-reusable-block.json"));

  it("an instance of an unknown definition is refused, naming the JSON path", () => {
    const f = base();
    f.nodes[5].params.module = "Blok";
    expect(problems(f)).toEqual(["nodes[5].params.module: no module definition 'Blok' (definitions: Block)"]);
  });

  it("a recursive module is refused", () => {
    const f = base();
    f.modules[0].nodes.push({ id: "again", type: "module", params: { module: "Block" } });
    expect(problems(f)).toEqual([
      "modules[0].nodes: module 'Block' contains itself (Block → Block): a module cannot be recursive",
    ]);
  });

  it("a port wired to nothing, or to a node or port that is not there, is refused", () => {
    const f = base();
    f.modules[0].inputs[0].targets = [];
    f.modules[0].outputs[0].node = "ghost";
    expect(problems(f)).toEqual([
      "modules[0].inputs[0].targets: input 'input' of module 'Block' is wired to nothing inside",
      "modules[0].outputs[0].node: output 'out' comes from no node 'ghost'",
    ]);
    const g = base();
    g.modules[0].inputs[0].targets[0].port = "weight";
    expect(problems(g)).toEqual([
      "modules[0].inputs[0].targets[0].port: input 'input' goes to 'fc.weight', which an edge inside already feeds",
    ]);
  });

  it("duplicate port names, unknown instance ports and bad overrides are refused", () => {
    const f = base();
    f.modules[0].outputs.push({ name: "out", node: "fc", port: "out" });
    f.edges[4].targetPort = "x";
    f.nodes[5].params["W.seed"] = -1;
    f.nodes[5].params["V.seed"] = 1;
    expect(problems(f)).toEqual([
      "modules[0].outputs[1].name: duplicate port name 'out' (also outputs[0])",
      "nodes[5].params.W.seed: must be ≥ 0",
      "nodes[5].params.V.seed: module 'Block' has no node 'V'",
      "edges[4].targetPort: module instance 'block2' has no input 'x' (inputs: input)",
    ]);
  });

  it("an error inside an instance names the instance path", () => {
    const f = base();
    f.nodes[5].params["W.size"] = [16, 3];
    const r = parseGraphFile(JSON.stringify(f));
    expect(r.ok).toBe(true);
    const errors = r.ok ? r.issues.filter((i) => i.severity === "error") : [];
    expect(errors[0].nodeId).toBe("block2/fc");
    expect(errors[0].message).toMatch(/'block2\/fc' \(linear\)/);
  });
});

/** Example 51 with its layers as module nodes: x → fc1 (Linear 2→16) → h (tanh) → fc2 (Linear 16→2) → loss. */
function layeredMlp(): GraphDoc {
  const f = JSON.parse(example("51-mlp-two-class-adam.json"));
  const drop = new Set(["W1", "b1", "W2", "b2"]);
  f.nodes = f.nodes.filter((n: { id: string }) => !drop.has(n.id));
  f.edges = f.edges.filter((e: { source: string }) => !drop.has(e.source));
  for (const n of f.nodes) {
    if (n.id === "hidden")
      Object.assign(n, { type: "Linear", params: { in_features: 2, out_features: 16, seed: 1 } });
    if (n.id === "logits")
      Object.assign(n, { type: "Linear", params: { in_features: 16, out_features: 2, seed: 2 } });
  }
  return load(JSON.stringify(f));
}

describe("group as Sequential", () => {
  it("a chain of layers becomes a module marked sequential, in one undoable step, saved and trained unchanged", async () => {
    const before = layeredMlp();
    const graph = new GraphDocument(before);
    const { module, instance } = graph.groupAsModule(["hidden", "h", "logits"], { sequential: true });
    const def = graph.state.modules?.[module];
    expect(def?.sequential).toBe(true);
    expect(graph.history).toEqual([`Group 3 nodes as Sequential ${module}`]);
    expect(graph.state.nodes[instance]).toMatchObject({ type: "module" });
    const saved = JSON.parse(serializeGraph(graph.state));
    expect(saved.modules[0].sequential).toBe(true);
    expect(load(JSON.stringify(saved))).toEqual(graph.state);
    expect(await losses(graph.state, 5)).toEqual(await losses(before, 5));
    graph.undo();
    expect(graph.state).toEqual(before);
  });

  it("a selection that is not a chain is refused, naming the node, and the document is unchanged", () => {
    const mlp = load(example("51-mlp-two-class-adam.json"));
    const graph = new GraphDocument(mlp);
    expect(() => graph.groupAsModule(["W1", "b1", "hidden", "h"], { sequential: true })).toThrow(
      "node 'hidden' in Sequential 'Module' takes 2 inputs inside; a layer of a Sequential takes only the previous layer's output",
    );
    expect(graph.state).toEqual(mlp);
    expect(graph.history).toEqual([]);
  });

  it("a file whose Sequential is not a chain is refused, naming the node", () => {
    const f = JSON.parse(example("53-mlp-reusable-block.json"));
    f.modules[0].sequential = true;
    expect(problems(f)).toEqual([
      "modules[0].nodes[2]: node 'fc' in Sequential 'Block' takes 2 inputs inside; a layer of a Sequential takes only the previous layer's output",
    ]);
    f.modules[0].nodes = f.modules[0].nodes.filter((n: { id: string }) => n.id === "act");
    f.modules[0].edges = [];
    f.modules[0].inputs[0].targets = [{ node: "act", port: "input" }];
    f.modules[0].nodes.push({ id: "spare", type: "tanh", params: {} });
    // The instances' overrides of the dropped weight nodes go too.
    for (const n of f.nodes) if (n.type === "module") n.params = { module: n.params.module };
    expect(problems(f)).toEqual([
      "modules[0].nodes[1]: node 'spare' is not on the chain of layers of Sequential 'Block'",
    ]);
  });
});
