// The correctly rounded arithmetic of runtime/exact.ts against Python: powPositive is x ** y rounded once,
// checked against 60-digit decimal arithmetic, and it gives Python's own float results for NAdam's schedule.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { powPositive } from "../../src/runtime/exact.ts";
import { PYTHON } from "../helpers/torch.ts";

function python(code: string, input: unknown): number[] {
  const r = spawnSync(PYTHON, ["-c", code], { input: JSON.stringify(input), encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe("powPositive", () => {
  it("is x ** y correctly rounded (60-digit decimal reference)", () => {
    const cases: [number, number][] = [];
    for (let i = 0; i < 400; i++) cases.push([0.5 + i * 0.0037, 0.75 + (i % 17) * 0.013]);
    for (let i = 0; i < 200; i++) cases.push([1 + i * 0.123, -1.5 + i * 0.011]);
    for (let s = 1; s <= 400; s++) cases.push([0.96, s * 0.004]);
    const want = python(
      [
        "import json, sys",
        "from decimal import Decimal, getcontext",
        "getcontext().prec = 60",
        "c = json.load(sys.stdin)",
        "print(json.dumps([float((Decimal(y) * Decimal(x).ln()).exp()) for x, y in c]))",
      ].join("\n"),
      cases,
    );
    const bad = cases.filter(([x, y], i) => powPositive(x, y) !== want[i]);
    expect(bad).toEqual([]);
  });

  it("gives Python's 0.96 ** (step * momentum_decay) for NAdam's first thousand steps", () => {
    const cases: [number, number][] = [];
    for (const d of [0.004, 0.01]) for (let s = 1; s <= 1000; s++) cases.push([0.96, s * d]);
    const want = python(
      "import json, sys; print(json.dumps([x ** y for x, y in json.load(sys.stdin)]))",
      cases,
    );
    expect(cases.filter(([x, y], i) => powPositive(x, y) !== want[i])).toEqual([]);
    // V8's ** does not, which is why the optimizers use powPositive.
    expect(cases.some(([x, y], i) => x ** y !== want[i])).toBe(true);
  });

  it("falls back to ** outside x > 0", () => {
    expect(powPositive(0, 2)).toBe(0);
    expect(powPositive(-2, 3)).toBe(-8);
    expect(powPositive(2, Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });
});
