// The CLI on hostile and unusual input (issue 18), in-process where the bin adds nothing.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Io } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";
import { fixturePath, tempFile } from "./run.ts";

function captureIo(): Io & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: () => out.join(""),
    err: () => err.join(""),
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
  };
}

async function run(...argv: string[]) {
  const io = captureIo();
  const code = await main(argv, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

describe("limits on flags", () => {
  it("caps --epochs as settings.epochs is capped (1e12 would run forever)", async () => {
    const r = await run("train", fixturePath("thermometer.graph.json"), "--epochs", "1e12");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--epochs must be a whole number from 0 to 10,000,000, got '1e12'");
    expect((await run("train", fixturePath("thermometer.graph.json"), "--epochs", "10000001")).code).toBe(2);
  });
});

describe("export-torch", () => {
  it("refuses to write the script over the graph file it reads", async () => {
    const text = readFileSync(fixturePath("thermometer.graph.json"), "utf8");
    const file = tempFile(text);
    for (const o of [file, file.replace(/graph\.json$/, "./graph.json")]) {
      const r = await run("export-torch", file, "-o", o);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("is the graph file itself");
      expect(readFileSync(file, "utf8")).toBe(text);
    }
  });
});
