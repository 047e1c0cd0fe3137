// The CLI in-process: the progress bar on a terminal, argument parsing.
import { describe, expect, it } from "vitest";
import { parseArgs, UsageError } from "../../src/cli/args.ts";
import type { Io } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";
import { progressLine } from "../../src/cli/output.ts";
import { fixturePath } from "./run.ts";

function fakeIo(tty: boolean): Io & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s), isTTY: tty, columns: 100 },
  };
}

describe("CLI", () => {
  it("draws a progress bar on a terminal while training", async () => {
    const io = fakeIo(true);
    expect(await main(["train", fixturePath("thermometer.graph.json"), "--epochs", "50"], io)).toBe(0);
    const bars = io.err.filter((s) => s.startsWith("\r["));
    expect(bars.length).toBeGreaterThan(0);
    expect(bars[bars.length - 1]).toMatch(/^\r\[#+\] 50\/50 {2}loss 0\.\d+ {2}\([\d,]+ epochs\/s\)$/);
    expect(io.out.join("")).toMatch(/trained 50 epochs on the CPU/);
  });

  it("renders progress lines", () => {
    expect(progressLine(0, 100, 2.2775, 0, 10)).toBe("[..........]   0/100  loss 2.2775");
    expect(progressLine(45, 100, 0.53125, 1234.4, 10)).toBe(
      "[#####.....]  45/100  loss 0.53125  (1,234 epochs/s)",
    );
    expect(progressLine(100, 100, 1e-9, 5, 10)).toBe("[##########] 100/100  loss 1e-9  (5 epochs/s)");
  });

  it("parses flags with values in both spellings and refuses unknown ones", () => {
    const p = parseArgs(["train", "g.json", "--epochs=5", "--backend", "cpu", "--jsonl"], {
      epochs: { value: true },
      backend: { value: true },
      jsonl: {},
    });
    expect(p.command).toBe("train");
    expect(p.positional).toEqual(["g.json"]);
    expect([...p.flags]).toEqual([
      ["epochs", "5"],
      ["backend", "cpu"],
      ["jsonl", true],
    ]);
    expect(() => parseArgs(["eval", "--fast"], {})).toThrow(UsageError);
    expect(() => parseArgs(["train", "--epochs"], { epochs: { value: true } })).toThrow(/needs a value/);
  });

  it("reads -o and -h as --output and --help, naming both spellings in errors", () => {
    const known = { output: { value: true }, help: {} };
    expect([...parseArgs(["export-torch", "g.json", "-o", "a.py", "-h"], known).flags]).toEqual([
      ["output", "a.py"],
      ["help", true],
    ]);
    expect([...parseArgs(["export-torch", "--output=b.py"], known).flags]).toEqual([["output", "b.py"]]);
    expect(() => parseArgs(["export-torch", "-o"], known)).toThrow("option '-o/--output' needs a value");
    expect(() => parseArgs(["export-torch", "-o", "a.py", "--output", "b.py"], known)).toThrow(
      "option '-o/--output' given twice",
    );
  });
});
