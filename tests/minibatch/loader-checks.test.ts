// The DataLoader refuses what PyTorch would fail on, before anything runs, naming the node and port: samples
// and targets of different counts, validation data missing its targets or unlike the training samples, and
// drop_last with fewer samples than one batch.
import { describe, expect, it } from "vitest";
import { loadGraph } from "../../src/graph/format.ts";
import { miniBatchGraph } from "./graphs.ts";

type File = {
  nodes: { id: string; params: Record<string, unknown> }[];
  edges: { source: string; sourcePort: string; target: string; targetPort: string }[];
};

function graph(): File {
  return miniBatchGraph({
    task: "classify",
    dtype: "float64",
    batchSize: 16,
    shuffle: true,
    dropLast: false,
    seed: 0,
    epochs: 1,
    validation: true,
  }) as File;
}

function issues(file: File): { message: string; nodeId?: string }[] {
  const r = loadGraph(file);
  if (r.ok) return r.issues.filter((i) => i.severity === "error");
  return r.errors.map((e) => ({ message: e.message }));
}

const loaderInput = (f: File, port: string) =>
  f.edges.find((e) => e.target === "loader" && e.targetPort === port)!;

describe("DataLoader checks", () => {
  it("accepts the graph as built", () => {
    expect(issues(graph())).toEqual([]);
  });
  it("refuses targets of another count than the samples", () => {
    const f = graph();
    Object.assign(loaderInput(f, "y"), { sourcePort: "val_y" });
    expect(
      issues(f)
        .map((i) => i.message)
        .join("\n"),
    ).toMatch(/'y' has 18 rows .* but 'x' has 72/);
  });
  it("refuses validation inputs without their targets", () => {
    const f = graph();
    f.edges = f.edges.filter((e) => !(e.target === "loader" && e.targetPort === "val_y"));
    expect(
      issues(f)
        .map((i) => i.message)
        .join("\n"),
    ).toMatch(/validation needs both 'val_x' and 'val_y'/);
  });
  it("refuses validation samples unlike the training ones", () => {
    const f = graph();
    Object.assign(loaderInput(f, "val_x"), { sourcePort: "val_y" });
    expect(
      issues(f)
        .map((i) => i.message)
        .join("\n"),
    ).toMatch(/validation samples must look like the training ones/);
  });
  it("refuses drop_last when no batch is left", () => {
    const f = graph();
    f.nodes.find((n) => n.id === "loader")!.params.batch_size = 100;
    f.nodes.find((n) => n.id === "loader")!.params.drop_last = true;
    expect(
      issues(f)
        .map((i) => i.message)
        .join("\n"),
    ).toMatch(/drop_last with batch_size 100 leaves no batch of the 72 samples/);
  });
});
