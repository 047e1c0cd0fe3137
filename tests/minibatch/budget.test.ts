// A mini-batch graph whose data would exceed the limits is refused by validation before anything is made,
// naming the node: a data set over the per-tensor cap, and data whose copies (random_split's subsets) put the
// whole graph over the memory budget.
import { describe, expect, it } from "vitest";
import { loadGraph } from "../../src/graph/format.ts";
import { miniBatchGraph } from "./graphs.ts";

function problems(nSamples: number): string {
  const file = miniBatchGraph({
    task: "classify",
    dtype: "float64",
    batchSize: 256,
    shuffle: true,
    dropLast: false,
    seed: 0,
    epochs: 1,
    validation: true,
  }) as { nodes: { id: string; params: Record<string, unknown> }[] };
  file.nodes.find((n) => n.id === "data")!.params.n_samples = nSamples;
  const r = loadGraph(file);
  expect(r.ok).toBe(false);
  return r.ok ? "" : r.errors.map((e) => e.message).join("\n");
}

describe("mini-batch data over the limits", () => {
  it("a data set over the per-tensor cap is refused, naming it", () => {
    expect(problems(200_000_000)).toMatch(
      /node 'data' \(make_moons\): output 'X' would have shape \[200000000, 2\]/,
    );
  });
  it("data whose subsets overflow the graph's memory budget is refused, naming the largest", () => {
    expect(problems(40_000_000)).toMatch(
      /over gradwire's limit of .* for a whole graph: 'split' \(random_split\)/,
    );
  });
});
