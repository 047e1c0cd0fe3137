// Exported scripts given hostile text (issue 18): each case crashed the script or exported wrong code before.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { torchScript } from "../../src/export/torch-script.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import type { GraphDoc } from "../../src/graph/types.ts";

const PYTHON = "/usr/bin/python3";
const dir = mkdtempSync(join(tmpdir(), "gradwire-export-hardening-"));
const thermometer = fileURLToPath(new URL("../fixtures/thermometer.graph.json", import.meta.url));

function load(text: string): GraphDoc {
  const r = parseGraphFile(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.doc;
}

function runScript(doc: GraphDoc, name: string, args: string[]) {
  const r = torchScript(doc);
  if (!r.ok) throw new Error(r.message);
  const file = join(dir, name);
  writeFileSync(file, r.code);
  return spawnSync(PYTHON, [file, ...args], { encoding: "utf8" });
}

describe("the exported script's --help", () => {
  it("prints a title and description holding % and %(prog)s exactly as written", () => {
    const doc = load(readFileSync(thermometer, "utf8"));
    for (const [title, description] of [
      ["Loss down 90% in %(prog)s", "100% of 5 %s %d"],
      ["Loss down 90%", "no prog: 50% and %(x)"],
      ["%(prog)s", "%"],
    ]) {
      const py = runScript({ ...doc, title, description }, "help.py", ["--help"]);
      expect(py.stderr).toBe("");
      expect(py.status).toBe(0);
      expect(py.stdout).toContain(title);
      expect(py.stdout).toContain(description);
    }
  });
});
