/**
 * Parsing with progress (as the editor's worker does for large files) reads the file in chunks: the rows, their
 * line numbers and the errors must be those of one whole parse, wherever a chunk happens to end.
 */
import { describe, expect, it } from "vitest";
import { CsvError, parseCsv } from "../../src/nodes/csv/table.ts";

const tricky = [
  "x,label,note",
  ...Array.from({ length: 60 }, (_, i) =>
    i % 7 === 3 ? "" : `${i / 4},${i % 3},"a note, with a comma${i % 5 === 0 ? "\nand a new line" : ""}"`,
  ),
  "",
  "",
  "99,1,last",
].join("\n");

function chunked(text: string, chunk: number): { table: ReturnType<typeof parseCsv>; seen: number[] } {
  const seen: number[] = [];
  const table = parseCsv(text, "t.csv", "auto", (f) => seen.push(f), chunk);
  return { table, seen };
}

describe("parseCsv with progress", () => {
  it("gives the rows and line numbers of a whole parse for every chunk size", () => {
    const whole = parseCsv(tricky, "t.csv", "auto");
    expect(whole.rows.length).toBeGreaterThan(40);
    for (const chunk of [1, 2, 3, 7, 16, 50, 333, tricky.length - 1]) {
      const { table, seen } = chunked(tricky, chunk);
      expect(table).toEqual(whole);
      // Progress rises to the whole file.
      expect(seen.length).toBeGreaterThan(1);
      expect(seen.every((f, i) => i === 0 || f >= seen[i - 1])).toBe(true);
      expect(seen.at(-1)).toBe(1);
    }
  });

  it("reports a ragged row with the same line number when chunked", () => {
    const text = `a,b\n${"1,2\n".repeat(200)}3\n${"4,5\n".repeat(20)}`;
    const message = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(CsvError);
        return (e as Error).message;
      }
      return "no error";
    };
    const whole = message(() => parseCsv(text, "r.csv", "auto"));
    expect(whole).toBe("r.csv: row 202 has 1 fields, expected 2 (as in row 1)");
    expect(message(() => parseCsv(text, "r.csv", "auto", () => {}, 64))).toBe(whole);
  });

  it("parses small texts in one go, with no progress to report", () => {
    const seen: number[] = [];
    parseCsv("a,b\n1,2\n", "s.csv", "auto", (f) => seen.push(f));
    expect(seen).toEqual([]);
  });
});
