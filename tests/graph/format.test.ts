// The graph file: round trips, migrations, newer versions refused, malformed files named by JSON path.
import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { GraphDocument } from "../../src/graph/document.ts";
import { type LoadResult, parseGraphFile, serializeGraph } from "../../src/graph/format.ts";
import { graphJsonSchema } from "../../src/graph/schema.ts";
import type { GraphDoc } from "../../src/graph/types.ts";
import { registry } from "../../src/nodes/index.ts";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8");

function loaded(r: LoadResult): GraphDoc {
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join("\n"));
  return r.doc;
}

function problems(text: string): string[] {
  const r = parseGraphFile(text);
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
}

const minimal = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    format: "gradwire.graph",
    version: 3,
    nodes: [
      { id: "a", type: "tensor", params: { data: [1.5, 2] } },
      { id: "r", type: "relu" },
    ],
    edges: [{ id: "e1", source: "a", sourcePort: "out", target: "r", targetPort: "input" }],
    ...extra,
  });

describe("graph file round trips", () => {
  it("export then import is the identity, for the fixtures", () => {
    for (const name of ["thermometer.graph.json", "cross-entropy.graph.json"]) {
      const doc = loaded(parseGraphFile(fixture(name)));
      const text = serializeGraph(doc);
      const again = loaded(parseGraphFile(text));
      expect(again).toEqual(doc);
      expect(serializeGraph(again)).toBe(text);
    }
  });

  it("export then import is the identity for a graph built in the editor", () => {
    const ed = new GraphDocument();
    ed.setMeta({ title: "Built by hand", description: "with a name, nested data and every kind of param" });
    const x = ed.addNode({
      type: "tensor",
      name: "prediction",
      position: { x: 10.5, y: -3 },
      params: {
        data: [
          [1, 2],
          [3, 4.25],
        ],
        dtype: "float64",
        requires_grad: true,
      },
    });
    const l = ed.addNode({ type: "cross_entropy", params: { label_smoothing: 0.2, reduction: "sum" } });
    const o = ed.addNode({ type: "Adam", params: { betas: [0.8, 0.99], lr: 0.05, zero_grad: false } });
    const f = ed.addNode({ type: "custom_function", params: { forward: "x ^ 2", backward: "grad_output" } });
    ed.connect({ source: x, target: l, targetPort: "input" });
    ed.connect({ source: l, target: o, targetPort: "loss" });
    ed.connect({ source: x, target: f, targetPort: "input" });
    ed.setSettings({ epochs: 7 });
    ed.setObjective(l);
    const text = serializeGraph(ed.state);
    const back = loaded(parseGraphFile(text));
    expect(back).toEqual(ed.state);
    expect(serializeGraph(back)).toBe(text);
  });

  it("writes numbers arrays on one line and keeps the file readable", () => {
    const text = serializeGraph(loaded(parseGraphFile(fixture("cross-entropy.graph.json"))));
    expect(text).toContain('"data": [[0.5, 1.5], [-1, 0.25], [2, -0.5], [0.1, 0.2], [-1.5, -1], [1, 1]]');
    expect(text).toContain('"position": { "x": 0, "y": 0 }');
    expect(text.split("\n")[1]).toBe('  "format": "gradwire.graph",');
  });

  it("migrates version 1: float16 random tensors become float32 (torch's generator has no float16 path here)", () => {
    const v1 = JSON.stringify({
      format: "gradwire.graph",
      version: 1,
      nodes: [
        { id: "r", type: "randn", params: { size: [3], seed: 2, dtype: "float16" } },
        { id: "u", type: "rand", params: { size: [2], dtype: "float64" } },
        { id: "t", type: "tensor", params: { data: [1], dtype: "float16" } },
      ],
      edges: [],
    });
    const r = parseGraphFile(v1);
    expect(r.ok && r.migratedFrom).toBe(1);
    const doc = loaded(r);
    expect(doc.nodes.r.params).toEqual({ size: [3], seed: 2, dtype: "float32" });
    expect(doc.nodes.u.params.dtype).toBe("float64");
    expect(doc.nodes.t.params.dtype).toBe("float16");
    expect(JSON.parse(serializeGraph(doc)).version).toBe(3);
  });

  it("migrates a version 0 file step by step", () => {
    const v0 = JSON.stringify({
      format: "gradwire.graph",
      version: 0,
      epochs: 12,
      nodes: [
        { id: "a", type: "tensor", params: { data: [1.5] } },
        { id: "r", type: "relu" },
      ],
      edges: [{ from: "a.out", to: "r.input" }],
    });
    const r = parseGraphFile(v0);
    expect(r.ok && r.migratedFrom).toBe(0);
    const doc = loaded(r);
    expect(doc.settings.epochs).toBe(12);
    expect(Object.values(doc.edges)).toEqual([
      { id: "e_1", source: "a", sourcePort: "out", target: "r", targetPort: "input" },
    ]);
    expect(
      problems(
        JSON.stringify({
          format: "gradwire.graph",
          version: 0,
          nodes: [],
          edges: [{ from: "a", to: "r.input" }],
        }),
      ),
    ).toEqual(['edges[0].from: expected "node.port", got "a"']);
  });

  it("keeps graph-level problems (a cycle) loadable, reported as issues", () => {
    const text = JSON.stringify({
      format: "gradwire.graph",
      version: 2,
      nodes: [
        { id: "a", type: "relu" },
        { id: "b", type: "relu" },
      ],
      edges: [
        { id: "e1", source: "a", sourcePort: "out", target: "b", targetPort: "input" },
        { id: "e2", source: "b", sourcePort: "out", target: "a", targetPort: "input" },
      ],
    });
    const r = parseGraphFile(text);
    expect(r.ok).toBe(true);
    expect(r.ok && r.issues.map((i) => i.code)).toEqual(["cycle", "cycle"]);
  });
});

describe("malformed graph files", () => {
  it("truncated JSON", () => {
    const text = minimal();
    const [msg] = problems(text.slice(0, text.length - 20));
    expect(msg).toMatch(/^\(file\): not valid JSON: .*(line 1, column \d+|truncated)/);
  });

  it("a JSON syntax error gives the line and column", () => {
    expect(problems('{\n  "format": "gradwire.graph",\n  "version": 2,,\n}')[0]).toMatch(/line 3, column 16/);
  });

  it("not a graph file at all", () => {
    expect(problems("[1, 2]")).toEqual([
      '(top level): expected a JSON object with "format": "gradwire.graph"',
    ]);
    expect(problems('{"nodes": []}')).toEqual([
      'format: expected "gradwire.graph", got undefined: this is not a gradwire graph file',
    ]);
  });

  it("a newer version is refused with a message", () => {
    expect(problems(minimal({ version: 7 }))).toEqual([
      "version: this file is version 7 of the gradwire graph format, newer than this gradwire reads (up to 3): update gradwire to open it",
    ]);
  });

  it("wrong types, each with its JSON path, all at once", () => {
    const text = JSON.stringify({
      format: "gradwire.graph",
      version: 2,
      settings: { epochs: "100" },
      nodes: [
        { id: "a", type: "tensor", position: { x: "left", y: 0 } },
        { id: 3, type: "relu" },
        { id: "opt", type: "SGD", params: { lr: "fast", momentum: -1 } },
      ],
      edges: "none",
    });
    const got = problems(text);
    expect(got).toEqual(
      expect.arrayContaining([
        "settings.epochs: Invalid input: expected number, received string",
        "nodes[0].position.x: Invalid input: expected number, received string",
        "nodes[1].id: Invalid input: expected string, received number",
        "edges: Invalid input: expected array, received string",
      ]),
    );
    const params = problems(
      minimal({
        nodes: [{ id: "opt", type: "SGD", params: { lr: "fast", momentum: -1, speed: 3 } }],
        edges: [],
      }),
    );
    expect(params).toEqual([
      "nodes[0].params.lr: Invalid input: expected number, received string",
      "nodes[0].params.momentum: must be ≥ 0",
      "nodes[0].params: unknown field 'speed'",
    ]);
  });

  it("unknown node types, with a suggestion", () => {
    expect(
      problems(
        minimal({
          nodes: [
            { id: "l", type: "msel_loss" },
            { id: "q", type: "quantum_entangler" },
          ],
          edges: [],
        }),
      ),
    ).toEqual([
      "nodes[0].type: unknown node type 'msel_loss' (did you mean 'mse_loss'?)",
      "nodes[1].type: unknown node type 'quantum_entangler'",
    ]);
  });

  it("dangling edges, unknown ports, duplicate ids", () => {
    const text = minimal({
      nodes: [
        { id: "a", type: "tensor" },
        { id: "a", type: "relu" },
        { id: "r", type: "relu" },
      ],
      edges: [
        { id: "e1", source: "a", sourcePort: "out", target: "ghost", targetPort: "input" },
        { id: "e2", source: "a", sourcePort: "values", target: "r", targetPort: "x" },
        { id: "e2", source: "a", sourcePort: "out", target: "r", targetPort: "input" },
      ],
      objective: "nobody",
    });
    expect(problems(text)).toEqual([
      "nodes[1].id: duplicate id 'a' (also nodes[0])",
      "edges[0].target: no node has id 'ghost' (a dangling edge)",
      "edges[1].sourcePort: node 'a' (relu) has no output 'values' (outputs: out)",
      "edges[1].targetPort: node 'r' (relu) has no input 'x' (inputs: input)",
      "edges[2].id: duplicate id 'e2' (also edges[1])",
      "objective: no node has id 'nobody'",
    ]);
  });

  it("huge dimensions", () => {
    const text = minimal({
      nodes: [{ id: "big", type: "randn", params: { size: [1000000, 1000000] } }],
      edges: [],
    });
    expect(problems(text)).toEqual([
      "nodes[0].params: node 'big' (randn): output 'out' would have shape [1000000, 1000000]: 1,000,000,000,000 elements, over gradwire's limit of 100,000,000",
    ]);
    expect(
      problems(minimal({ nodes: [{ id: "neg", type: "zeros", params: { size: [3, -2] } }], edges: [] })),
    ).toEqual(["nodes[0].params.size[1]: must be ≥ 0"]);
  });

  it("absurdly deep nesting", () => {
    const data = `${"[".repeat(5000)}1${"]".repeat(5000)}`;
    const text = `{"format":"gradwire.graph","version":2,"nodes":[{"id":"t","type":"tensor","params":{"data":${data}}}],"edges":[]}`;
    expect(problems(text)).toEqual([
      "nodes[0].params.data[0][0][0][0]: nested more than 64 levels deep (a tensor has at most a few dimensions)",
    ]);
  });

  it("unknown top-level fields and bad ids", () => {
    expect(problems(minimal({ extra: true }))).toEqual(["(top level): unknown field 'extra'"]);
    expect(problems(minimal({ nodes: [{ id: "has space", type: "relu" }], edges: [] }))).toEqual([
      "nodes[0].id: must start with a letter or _ and hold only letters, digits, _ and - (at most 64)",
    ]);
  });
});

describe("JSON Schema", () => {
  const schema = graphJsonSchema(registry);

  it("the committed docs/graph.schema.json is the one generated from the validator", () => {
    const committed = JSON.parse(
      readFileSync(new URL("../../docs/graph.schema.json", import.meta.url), "utf8"),
    );
    expect(committed).toEqual(schema);
  });

  it("accepts the fixtures and a saved graph, and rejects what the loader rejects", () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    for (const name of ["thermometer.graph.json", "cross-entropy.graph.json"]) {
      expect(validate(JSON.parse(fixture(name))), JSON.stringify(validate.errors)).toBe(true);
      expect(validate(JSON.parse(serializeGraph(loaded(parseGraphFile(fixture(name))))))).toBe(true);
    }
    const bad = [
      minimal({ version: 4 }),
      minimal({ nodes: [{ id: "l", type: "msel_loss" }], edges: [] }),
      minimal({ nodes: [{ id: "opt", type: "SGD", params: { lr: "fast" } }], edges: [] }),
      minimal({ nodes: [{ id: "opt", type: "SGD", params: { gamma: 1 } }], edges: [] }),
    ];
    for (const text of bad) {
      expect(validate(JSON.parse(text)), text).toBe(false);
      expect(parseGraphFile(text).ok).toBe(false);
    }
  });
});
