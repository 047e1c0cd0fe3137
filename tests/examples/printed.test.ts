// The stated-number rule the example checks rely on, and that a drifted example really fails it.
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import { loadExamples, printedMismatch, printsAs, statedValue } from "./checks.ts";

describe("printed numbers", () => {
  it("hold to half a unit of the last printed digit", () => {
    expect(printsAs(0.2941667139530182, "0.2942")).toBe(true);
    expect(printsAs(0.29425, "0.2942")).toBe(true);
    expect(printsAs(0.29426, "0.2942")).toBe(false);
    expect(printsAs(0.29414, "0.2942")).toBe(false);
    expect(printsAs(-0.04275001212954521, "-0.042750")).toBe(true);
    expect(printsAs(-0.0427506, "-0.042750")).toBe(false);
  });

  it("pin a float32 printed in full to that float32", () => {
    expect(printsAs(2.2774999141693115, "2.2774999141693115")).toBe(true);
    const next = 2.2774999141693115 + 2 ** -22; // the next float32 up
    expect(printsAs(next, "2.2774999141693115")).toBe(false);
  });

  it("treat whole numbers as exact, exponents by their mantissa, and non-finite values by name", () => {
    expect(printsAs(3, "3")).toBe(true);
    expect(printsAs(3.0000001, "3")).toBe(false);
    expect(printsAs(6.648438511272849e31, "6.6484e31")).toBe(true);
    expect(printsAs(6.6486e31, "6.6484e31")).toBe(false);
    expect(printsAs(Number.POSITIVE_INFINITY, "inf")).toBe(true);
    expect(printsAs(1e308, "inf")).toBe(false);
    expect(printsAs(Number.NaN, "nan")).toBe(true);
    expect(printsAs(Number.NaN, "0.5")).toBe(false);
    expect(() => printsAs(1, "about 1")).toThrow(/not a printed number/);
  });

  it("compare lists element by element and by length", () => {
    expect(printedMismatch([-1 / 3, 0, 1 / 3], ["-0.3333", "0.0000", "0.3333"])).toBeNull();
    expect(printedMismatch([-1 / 3, 0.001, 1 / 3], ["-0.3333", "0.0000", "0.3333"])).toMatch(/element 1/);
    expect(printedMismatch([1, 2], ["1"])).toMatch(/2 values/);
  });

  it("catch an example that drifts from its stated numbers", () => {
    const ex = loadExamples().find((e) => e.name === "03-l1-vector");
    if (!ex) throw new Error("03-l1-vector is missing");
    const r = parseGraphFile(ex.text);
    if (!r.ok) throw new Error("does not load");
    const stated = ex.check.eval?.nodes?.loss;
    if (!stated) throw new Error("03-l1-vector states no loss");
    const s = new Scheduler();
    s.setGraph(r.doc);
    s.evaluate();
    expect(printedMismatch(Array.from(s.value("loss")?.data ?? []), statedValue(stated).value)).toBeNull();
    const label = { ...r.doc.nodes.label, params: { data: [2, 5, 10], dtype: "float64" } };
    s.setGraph({ ...r.doc, nodes: { ...r.doc.nodes, label } });
    s.evaluate();
    expect(printedMismatch(Array.from(s.value("loss")?.data ?? []), statedValue(stated).value)).toMatch(
      /got 2.333\d+, stated 2.6667/,
    );
  });
});
