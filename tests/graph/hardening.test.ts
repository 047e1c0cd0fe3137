// Hostile and unusual graph files (issue 18): each case crashed, lost data or let too much through before.
import { describe, expect, it } from "vitest";
import { type LoadResult, parseGraphFile } from "../../src/graph/format.ts";
import { kindNodeSchema } from "../../src/graph/schema.ts";
import { paramsSchema, registry } from "../../src/nodes/index.ts";

function problems(r: LoadResult): string[] {
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
}

const graph = (nodes: unknown[], edges: unknown[] = [], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ format: "gradwire.graph", version: 1, nodes, edges, ...extra });

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
