// Example 62 embeds examples/data/delivery-times.csv (so the editor has it): the embedded text, its hash and
// the file must not drift apart, and the file must be what scripts/make-regression-csv.py writes.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PYTHON, ROOT } from "../cli/run.ts";

describe("example 62's CSV", () => {
  const file = readFileSync(join(ROOT, "examples", "data", "delivery-times.csv"), "utf8");
  it("is embedded in the graph with its SHA-256", () => {
    const graph = JSON.parse(readFileSync(join(ROOT, "examples", "62-csv-regression.json"), "utf8"));
    const node = graph.nodes.find((n: { id: string }) => n.id === "deliveries");
    expect(node.params.content).toBe(file);
    expect(node.params.sha256).toBe(createHash("sha256").update(file).digest("hex"));
  });
  it("is what its generator writes", () => {
    const dir = mkdtempSync(join(tmpdir(), "gradwire-csv-"));
    mkdirSync(join(dir, "scripts"));
    mkdirSync(join(dir, "examples", "data"), { recursive: true });
    cpSync(join(ROOT, "scripts", "make-regression-csv.py"), join(dir, "scripts", "make-regression-csv.py"));
    const r = spawnSync(PYTHON, [join(dir, "scripts", "make-regression-csv.py")], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(readFileSync(join(dir, "examples", "data", "delivery-times.csv"), "utf8")).toBe(file);
  });
});
