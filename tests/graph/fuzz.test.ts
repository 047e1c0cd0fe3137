// Bad input never crashes: arbitrary JSON, and valid files with random parts replaced, always give a load result
// (and whatever loads, validates and evaluates without throwing).
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { parseGraphFile } from "../../src/graph/format.ts";

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8")) as Record<
    string,
    unknown
  >;

type Json = unknown;

/** Replace the value at a random path of `doc` with `value`. */
function mutate(doc: Json, choices: number[], value: Json): Json {
  if (choices.length === 0 || doc === null || typeof doc !== "object") return value;
  const keys = Array.isArray(doc) ? doc.map((_, i) => i) : Object.keys(doc);
  if (keys.length === 0) return value;
  const [c, ...rest] = choices;
  const k = keys[c % keys.length];
  const copy = (Array.isArray(doc) ? [...doc] : { ...doc }) as Record<string | number, Json>;
  copy[k] = mutate((doc as Record<string | number, Json>)[k], rest, value);
  return copy;
}

function loadAndRun(text: string): void {
  const r = parseGraphFile(text);
  if (!r.ok) {
    expect(r.errors.length).toBeGreaterThan(0);
    for (const e of r.errors) expect(typeof e.message).toBe("string");
    return;
  }
  const s = new Scheduler();
  s.setGraph(r.doc);
  s.evaluate();
  for (const e of s.errors()) expect(e.message).toMatch(/^node '/);
}

describe("loading never crashes", () => {
  it("on arbitrary JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        loadAndRun(JSON.stringify(v));
      }),
      { numRuns: 300 },
    );
  });

  it("on arbitrary text", () => {
    fc.assert(
      fc.property(fc.string(), (t) => {
        loadAndRun(t);
      }),
      { numRuns: 300 },
    );
  });

  it("on valid files with one part replaced by anything", () => {
    const files = [fixture("thermometer.graph.json"), fixture("cross-entropy.graph.json")];
    fc.assert(
      fc.property(
        fc.constantFrom(...files),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.oneof(
          fc.jsonValue(),
          fc.constantFrom(-1, 0, 1e9, "", "nope", [], {}, null, [1e6, 1e6], [[1], [1, 2]]),
        ),
        (file, path, value) => {
          loadAndRun(JSON.stringify(mutate(file, path, value)));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("on truncated files", () => {
    const text = readFileSync(new URL("../fixtures/cross-entropy.graph.json", import.meta.url), "utf8");
    for (let n = 0; n < text.length; n += 7) {
      const r = parseGraphFile(text.slice(0, n));
      expect(r.ok).toBe(false);
    }
  });
});
