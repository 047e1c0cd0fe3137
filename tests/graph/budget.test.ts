// The whole graph's memory and work, checked by validation before anything is allocated (issue 18, item 1).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { estimateCost, MAX_GRAPH_BYTES, VERY_LONG_WORK, veryLongRun } from "../../src/graph/budget.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import type { GraphDoc } from "../../src/graph/types.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { registry } from "../../src/nodes/index.ts";

const file = (nodes: unknown[], edges: unknown[] = []) =>
  JSON.stringify({ format: "gradwire.graph", version: 3, nodes, edges });
const edge = (id: string, source: string, target: string, targetPort: string) => ({
  id,
  source,
  sourcePort: "out",
  target,
  targetPort,
});

function loaded(text: string): GraphDoc {
  const r = parseGraphFile(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.doc;
}

/** A loss summing a million random values, and a tool re-running it. */
function toolOverMillion(tool: Record<string, unknown>): string {
  return file(
    [
      { id: "x", type: "randn", params: { size: [1_000_000] } },
      { id: "s", type: "sum" },
      { id: "t", ...tool },
    ],
    [edge("e1", "x", "s", "input"), edge("e2", "s", "t", "loss"), edge("e3", "x", "t", "input")],
  );
}

describe("memory budget", () => {
  it("refuses ten tensors at the per-tensor cap when the file is read, naming the largest nodes", () => {
    const nodes = Array.from({ length: 10 }, (_, i) => ({
      id: `a${i}`,
      type: "randn",
      params: { size: [100_000_000] },
    }));
    const r = parseGraphFile(file(nodes));
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.errors).toEqual([
      {
        path: "nodes",
        message:
          "the graph's values would take 4.0 GB, over gradwire's limit of 2.0 GB for a whole graph: 'a0' (randn) 400.0 MB, 'a1' (randn) 400.0 MB, 'a2' (randn) 400.0 MB, 'a3' (randn) 400.0 MB and 6 more; make some of them smaller",
      },
    ]);
    // Four of them fit.
    expect(parseGraphFile(file(nodes.slice(0, 4))).ok).toBe(true);
    expect(4 * 400e6).toBeLessThan(MAX_GRAPH_BYTES);
  });
});

describe("work estimate", () => {
  it("refuses a finite difference nudging a million elements, and nothing is evaluated", () => {
    const doc = loaded(toolOverMillion({ type: "finite_difference" }));
    const v = validateGraph(doc, registry);
    expect(v.issues.filter((i) => i.severity === "error").map((i) => [i.code, i.nodeId, i.message])).toEqual([
      [
        "work",
        "t",
        "one evaluation of the graph would compute about 2.0e12 tensor elements, over gradwire's limit of 1.0e11: 't' (finite_difference) 2.0e12, 'x' (randn) 1.0e6, 's' (sum) 1.0e6 (a finite difference or sweep re-runs the graph for each element or step: give it a smaller input or fewer steps)",
      ],
    ]);
    expect([...v.blocked].sort()).toEqual(["s", "t", "x"]);
    // The scheduler runs nothing (without the estimate this evaluation ran for minutes).
    const s = new Scheduler();
    s.setGraph(doc);
    s.evaluate();
    expect(s.outputs("x")).toBeUndefined();
  });

  it("refuses a sweep of 100,000 steps over a million-element input, and accepts a small one", () => {
    const big = validateGraph(
      loaded(toolOverMillion({ type: "sweep", params: { steps: 100_000 } })),
      registry,
    );
    expect(big.issues.map((i) => i.code)).toContain("work");
    const smallDoc = loaded(toolOverMillion({ type: "sweep", params: { steps: 21 } }));
    const small = validateGraph(smallDoc, registry);
    expect(small.ok).toBe(true);
    // The random values, the sum, the sweep reading its input once, and 21 re-runs of the sum: a million each.
    expect(estimateCost(smallDoc, registry, small).evaluation).toBe(24_000_001);
  });

  it("tells the editor when a run is very long, naming the costly nodes", () => {
    const text = readFileSync(
      new URL("../../examples/52-regression-million-points.json", import.meta.url),
      "utf8",
    );
    const doc = loaded(text);
    const v = validateGraph(doc, registry);
    expect(veryLongRun(doc, registry, v, "train")).toBeUndefined();
    expect(veryLongRun(doc, registry, v, "eval")).toBeUndefined();
    const long = veryLongRun(doc, registry, v, "train", 10_000);
    expect(long?.work).toBeGreaterThan(VERY_LONG_WORK);
    expect(long?.message).toMatch(
      /^This training run \(10,000 epochs\) computes about 3\.0e11 tensor elements and may take minutes; most of it in '.+' \(.+\) 1\.0e6/,
    );
  });
});
