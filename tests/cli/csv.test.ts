// A csv node given by path in the CLI: read relative to the graph file, checked against its saved SHA-256,
// parsed with header detection, categorical columns and standardisation; bad cells named by file, row and
// column; the exported script rebuilds the same tensors and prints the same training lines.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gradwire, jsonLines, PYTHON } from "./run.ts";

const CSV = [
  "size,color,rooms,price",
  "1.5,red,3,210.5",
  "2.25,blue,4,300",
  "",
  "0.75,red,2,99.9",
  "3.0,green,5,410",
  '"1.1","blue",2,150',
].join("\n");

function graphWith(params: Record<string, unknown>, sha?: string) {
  return JSON.stringify({
    format: "gradwire.graph",
    version: 3,
    title: "csv",
    nodes: [
      {
        id: "data",
        type: "csv",
        params: { path: "data/houses.csv", ...(sha ? { sha256: sha } : {}), ...params },
      },
      { id: "w", type: "zeros", params: { size: [1, 5], requires_grad: true } },
      { id: "pred", type: "linear" },
      { id: "flat", type: "flatten" },
      { id: "loss", type: "mse_loss" },
      { id: "opt", type: "SGD", params: { lr: 0.01 } },
    ],
    edges: [
      { id: "e1", source: "data", sourcePort: "X", target: "pred", targetPort: "input" },
      { id: "e2", source: "w", sourcePort: "out", target: "pred", targetPort: "weight" },
      { id: "e3", source: "pred", sourcePort: "out", target: "flat", targetPort: "input" },
      { id: "e4", source: "flat", sourcePort: "out", target: "loss", targetPort: "input" },
      { id: "e5", source: "data", sourcePort: "y", target: "loss", targetPort: "target" },
      { id: "e6", source: "loss", sourcePort: "out", target: "opt", targetPort: "loss" },
    ],
    objective: "loss",
    settings: { epochs: 3 },
  });
}

/** A folder with data/houses.csv and graph.json beside it. */
function project(csv: string, params: Record<string, unknown>, sha?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "gradwire-csv-"));
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "data", "houses.csv"), csv);
  writeFileSync(join(dir, "graph.json"), graphWith(params, sha));
  return join(dir, "graph.json");
}

const STANDARD = { categorical: [1], standardize: true };

describe("csv by path in the CLI", () => {
  it("reads the file next to the graph: header found, blank line skipped, one-hot color, standardised", () => {
    const r = gradwire("eval", project(CSV, STANDARD), "--json");
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout).nodes;
    expect(out["data.X"].shape).toEqual([5, 5]);
    expect(out["data.y"].data).toEqual([210.5, 300, 99.9, 410, 150].map(Math.fround));
    // color one-hot over the sorted names blue, green, red, after the standardised size.
    const row0 = out["data.X"].data.slice(0, 5);
    expect(row0.slice(1, 4)).toEqual([0, 0, 1]);
    const sizes = [1.5, 2.25, 0.75, 3.0, 1.1];
    const mean = sizes.reduce((a, b) => a + b, 0) / 5;
    const std = Math.sqrt(sizes.reduce((q, v) => q + (v - mean) * (v - mean), 0) / 5);
    expect(row0[0]).toBe(Math.fround((1.5 - mean) / std));
  });

  it("the exported script rebuilds the data and prints the same training lines", () => {
    const file = project(CSV, STANDARD);
    const script = join(file, "..", "train.py");
    const ex = gradwire("export-torch", file, "-o", script);
    expect(ex.code, ex.stderr).toBe(0);
    const py = spawnSync(PYTHON, [script], { encoding: "utf8" });
    expect(py.stderr).toBe("");
    const gw = gradwire("train", file, "--jsonl");
    expect(jsonLines(py.stdout)).toEqual(jsonLines(gw.stdout));
  });

  it("a saved SHA-256 that no longer matches is refused, naming the node", () => {
    const r = gradwire("eval", project(CSV, STANDARD, "0".repeat(64)));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/node 'data'.*'data\/houses\.csv' has changed since the graph was saved/);
  });

  it("the right SHA-256 is accepted", () => {
    const sha = createHash("sha256").update(CSV).digest("hex");
    expect(gradwire("eval", project(CSV, STANDARD, sha)).code).toBe(0);
  });

  it("a missing file, a non-number, a missing value and a ragged row are named by file, row and column", () => {
    const cases: [string, RegExp][] = [
      [CSV.replace("2.25", "big"), /data\/houses\.csv: row 3, column 'size': 'big' is not a number/],
      [CSV.replace("0.75", ""), /data\/houses\.csv: row 5, column 'size': missing value/],
      [CSV.replace("3.0,green,5,410", "3.0,green,5"), /data\/houses\.csv: row 6 has 3 fields, expected 4/],
    ];
    for (const [csv, message] of cases) {
      const r = gradwire("eval", project(csv, STANDARD));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/node 'data'/);
      expect(r.stderr).toMatch(message);
    }
    const dir = mkdtempSync(join(tmpdir(), "gradwire-csv-"));
    writeFileSync(join(dir, "graph.json"), graphWith(STANDARD));
    const r = gradwire("eval", join(dir, "graph.json"));
    expect(r.stderr).toMatch(/node 'data' \(csv\): cannot read 'data\/houses\.csv' \(no such file/);
  });
});
