// Hostile and unusual graph files (issue 18): each case crashed, lost data or let too much through before.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GraphDocument } from "../../src/graph/document.ts";
import { type LoadResult, parseGraphFile } from "../../src/graph/format.ts";
import { kindNodeSchema } from "../../src/graph/schema.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { paramsSchema, registry } from "../../src/nodes/index.ts";

function problems(r: LoadResult): string[] {
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
}

const graph = (nodes: unknown[], edges: unknown[] = [], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ format: "gradwire.graph", version: 3, nodes, edges, ...extra });

describe("file text", () => {
  it("accepts a UTF-8 byte-order mark before the JSON", () => {
    const r = parseGraphFile(`\uFEFF${graph([{ id: "a", type: "tensor", params: { data: [1] } }])}`);
    expect(r.ok).toBe(true);
  });

  it("refuses a version-0 file whose edges are not a list, instead of migrating it to no edges", () => {
    const v0 = (edges: unknown) =>
      JSON.stringify({ format: "gradwire.graph", version: 0, nodes: [{ id: "a", type: "relu" }], edges });
    expect(problems(parseGraphFile(v0({ from: "a.out", to: "b.input" })))).toEqual([
      "edges: expected a list of edges, got an object",
    ]);
    expect(problems(parseGraphFile(v0("a.out -> b.input")))).toEqual([
      "edges: expected a list of edges, got a string",
    ]);
    expect(parseGraphFile(v0([])).ok).toBe(true);
  });
});

describe("big graphs", () => {
  it("builds each kind's schema once, so loading 20,000 nodes checks them all with a few schemas", () => {
    const n = 10_000;
    const nodes = Array.from({ length: n }, (_, i) => [
      { id: `t${i}`, type: "tensor", params: { data: [i, 1] } },
      { id: `r${i}`, type: "relu" },
    ]).flat();
    const edges = Array.from({ length: n }, (_, i) => ({
      id: `e${i}`,
      source: `t${i}`,
      sourcePort: "out",
      target: `r${i}`,
      targetPort: "input",
    }));
    const r = parseGraphFile(graph(nodes, edges));
    expect(r.ok && Object.keys(r.doc.nodes).length).toBe(2 * n);
    for (const type of ["tensor", "relu"]) {
      const kind = registry.get(type)!;
      expect(kindNodeSchema(kind)).toBe(kindNodeSchema(kind));
      expect(paramsSchema(kind)).toBe(paramsSchema(kind));
    }
  });
});

describe("ids and keys that are names every object has", () => {
  const tensor = (id: string) => ({ id, type: "tensor", params: { data: [1] } });
  const edge = (id: string, source: string, target: string) => ({
    id,
    source,
    sourcePort: "out",
    target,
    targetPort: "input",
  });

  it("refuses __proto__, constructor and the like as node, edge and objective ids, naming the path", () => {
    for (const id of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      const why = `'${id}' is reserved (names such as __proto__, constructor and toString belong to every object); choose another id`;
      expect(problems(parseGraphFile(graph([tensor(id)])))).toEqual([`nodes[0].id: ${why}`]);
      expect(
        problems(parseGraphFile(graph([tensor("a"), { id: "r", type: "relu" }], [edge(id, "a", "r")]))),
      ).toEqual([`edges[0].id: ${why}`]);
      expect(problems(parseGraphFile(graph([tensor("a")], [], { objective: id })))).toEqual([
        `objective: ${why}`,
      ]);
    }
  });

  it("refuses a __proto__ key anywhere instead of dropping its value", () => {
    const withProto = (params: string) =>
      `{"format": "gradwire.graph", "version": 3, "nodes": [{"id": "a", "type": "tensor", "params": ${params}}], "edges": []}`;
    expect(problems(parseGraphFile(withProto('{"__proto__": {"data": [5]}}')))).toEqual([
      "nodes[0].params.__proto__: the key '__proto__' is not allowed in a graph file",
    ]);
    expect(problems(parseGraphFile(withProto('{"data": [1], "requires_grad": {"__proto__": 1}}')))).toEqual([
      "nodes[0].params.requires_grad.__proto__: the key '__proto__' is not allowed in a graph file",
    ]);
  });

  it("the editor's document refuses such ids too, and finds no node or edge through them", () => {
    const doc = new GraphDocument();
    expect(() => doc.addNode({ type: "relu", id: "__proto__" })).toThrow(/'__proto__' is reserved/);
    expect(() => doc.addNode({ type: "relu", id: "constructor" })).toThrow(/'constructor' is reserved/);
    const a = doc.addNode({ type: "tensor", params: { data: [1] } });
    const r = doc.addNode({ type: "relu" });
    expect(() => doc.connect({ id: "__proto__", source: a, target: r, targetPort: "input" })).toThrow(
      /edge id '__proto__' is reserved/,
    );
    // A document built by other code: an edge naming 'constructor' dangles, it does not find Object.
    const d = doc.state;
    const v = validateGraph(
      { ...d, edges: { e: { ...edge("e", "constructor", r), sourcePort: "out" } } },
      registry,
    );
    expect(v.issues.map((i) => i.message)).toContain(
      "edge 'e' comes from node 'constructor', which is not in the graph",
    );
  });
});

describe("literal data", () => {
  /** The errors loading or validating one tensor node with these params. */
  function tensorErrors(params: Record<string, unknown>): string[] {
    const r = parseGraphFile(graph([{ id: "a", type: "tensor", params }]));
    if (!r.ok) return r.errors.map((e) => `${e.path}: ${e.message}`);
    return r.issues.filter((i) => i.severity === "error").map((i) => i.message);
  }

  it("refuses a value an integer dtype cannot hold, naming the element, where PyTorch refuses it too", () => {
    const torch = spawnSync(
      "/usr/bin/python3",
      ["-c", "import torch; torch.tensor([[1, 2], [3e10, 4]], dtype=torch.int32)"],
      { encoding: "utf8" },
    );
    expect(torch.stderr).toContain("value cannot be converted to type int32 without overflow");
    expect(
      tensorErrors({
        data: [
          [1, 2],
          [3e10, 4],
        ],
        dtype: "int32",
      }),
    ).toEqual([
      "node 'a' (tensor): param 'data': data[1][0] = 30000000000 cannot be converted to int32 without overflow (int32 holds -2147483648 to 2147483647)",
    ]);
    expect(tensorErrors({ data: [1e19] })).toEqual([
      "node 'a' (tensor): param 'data': data[0] = 10000000000000000000 cannot be converted to int64 without overflow (int64 holds -9223372036854775808 to 9223372036854775807)",
    ]);
    expect(tensorErrors({ data: [2147483647, -2147483648], dtype: "int32" })).toEqual([]);
  });

  it("refuses a full() fill value its integer dtype cannot hold, as torch.full does", () => {
    const torch = spawnSync(
      "/usr/bin/python3",
      ["-c", "import torch; torch.full([2], 3e10, dtype=torch.int32)"],
      { encoding: "utf8" },
    );
    expect(torch.stderr).toContain("cannot be converted to type int without overflow");
    const errors = (params: Record<string, unknown>) => {
      const r = parseGraphFile(graph([{ id: "f", type: "full", params: { size: [2], ...params } }]));
      return r.ok ? r.issues.filter((i) => i.severity === "error").map((i) => i.message) : ["not loaded"];
    };
    expect(errors({ fill_value: 3e10, dtype: "int32" })).toEqual([
      "node 'f' (full): fill_value = 30000000000 cannot be converted to int32 without overflow (int32 holds -2147483648 to 2147483647)",
    ]);
    expect(errors({ fill_value: 3e10, dtype: "int64" })).toEqual([]);
    expect(errors({ fill_value: -2147483648, dtype: "int32" })).toEqual([]);
  });

  it("says which element of the data is not a number, and why 1e400 is not one, not 'Invalid input'", () => {
    const why = "tensor data holds numbers and true/false, in nested lists";
    expect(
      tensorErrors({
        data: [
          [1, "2"],
          [3, 4],
        ],
      }),
    ).toEqual([`nodes[0].params.data: data[0][1] is a string ("2"); ${why}`]);
    expect(tensorErrors({ data: "abc" })).toEqual([`nodes[0].params.data: data is a string ("abc"); ${why}`]);
    expect(tensorErrors({ data: [true, null] })).toEqual([`nodes[0].params.data: data[1] is null; ${why}`]);
    const text = graph([{ id: "a", type: "tensor", params: { data: [1, 2] } }]).replace(
      "[1,2]",
      "[1,-1e400]",
    );
    const r = parseGraphFile(text);
    expect(r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      "nodes[0].params.data: data[1] is a number beyond float64's range (-1e400 and the like read as infinity); write a finite number",
    ]);
    const lr = parseGraphFile(
      graph([{ id: "o", type: "SGD", params: { lr: 7 } }]).replace('"lr":7', '"lr":1e400'),
    );
    expect(lr.ok ? [] : lr.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      "nodes[0].params.lr: a number beyond float64's range (1e400 and the like read as infinity); write a finite number",
    ]);
  });
});

describe("validation checks literal data as evaluation does", () => {
  const fixture = readFileSync(new URL("../fixtures/cross-entropy.graph.json", import.meta.url), "utf8");

  it("a class index out of range in a literal target is an error of the loss, before anything runs", () => {
    const r = parseGraphFile(fixture.replace('"data": [1, 0, 2, 1, 0, 2]', '"data": [1, 0, 2, 3, 0, 2]'));
    expect(r.ok).toBe(true);
    const errors = r.ok ? r.issues.filter((i) => i.severity === "error") : [];
    expect(errors.map((i) => [i.nodeId, i.message])).toEqual([
      ["loss", "node 'loss' (cross_entropy): nll_loss: Target 3 is out of bounds (3 classes, element 3)"],
    ]);
    const fine = parseGraphFile(fixture);
    expect(fine.ok && fine.issues.filter((i) => i.severity === "error")).toEqual([]);
  });

  it("a literal probability outside [0, 1] fed to binary_cross_entropy is an error too", () => {
    const r = parseGraphFile(
      graph(
        [
          { id: "p", type: "tensor", params: { data: [0.5, 1.5] } },
          { id: "y", type: "tensor", params: { data: [0.25, 1] } },
          { id: "b", type: "binary_cross_entropy" },
        ],
        [
          { id: "e1", source: "p", sourcePort: "out", target: "b", targetPort: "input" },
          { id: "e2", source: "y", sourcePort: "out", target: "b", targetPort: "target" },
        ],
      ),
    );
    expect(r.ok && r.issues.filter((i) => i.severity === "error").map((i) => i.message)).toEqual([
      "node 'b' (binary_cross_entropy): binary_cross_entropy: all elements of input should be between 0 and 1 (element 1 is 1.5); apply a sigmoid first or use binary_cross_entropy_with_logits",
    ]);
  });
});
