/**
 * The value formatter against PyTorch itself: every case is printed by /usr/bin/python3's torch at test time and
 * the editor's string must match it character for character.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { snapshot } from "../../src/engine/worker-protocol.ts";
import { type DType, fromFlat, Rng, roundHalf } from "../../src/runtime/index.ts";
import { inlineNumbers, stats } from "../../src/ui/values/summary.ts";
import { pyExp, pyFixed, torchRepr, torchScalar } from "../../src/ui/values/torchFormat.ts";

interface Case {
  data: number[];
  shape: number[];
  dtype: DType;
  requiresGrad?: boolean;
}

const store = (dtype: DType, x: number) =>
  dtype === "float16" ? roundHalf(x) : dtype === "float32" ? Math.fround(x) : x;

function mk(dtype: DType, shape: number[], values: number[], requiresGrad = false): Case {
  return { data: values.map((v) => store(dtype, v)), shape, dtype, requiresGrad };
}

function rnd(n: number, seed: number, scale: number): number[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => (r.next() - 0.5) * scale);
}

const cases: Case[] = [
  mk("float16", [], [3]),
  mk("float32", [], [0.29419779777526855]),
  mk("float64", [], [1.0976]),
  mk("float32", [12], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
  mk("float32", [12], [0.4, 1.2, 2.5, 3.9, 4.3, 5.7, 6.2, 7.9, 8.3, 9.5, 10.5, 11.5]),
  mk("float64", [3], [-2, 5, 13], true),
  mk("float64", [3], [50, 50, 50]),
  mk("float32", [4], [1e-5, 2, 3, 4]),
  mk("float32", [3], [1e9, 2, 3]),
  mk("float32", [3], [1, 2000, 3]),
  mk("float32", [2], [0.03125, 0.09375]),
  mk("float64", [2], [0.00015, -0.00025]),
  mk("float32", [2], [Number.NaN, Number.POSITIVE_INFINITY]),
  mk("float32", [3], [Number.NaN, 1, Number.NEGATIVE_INFINITY]),
  mk("float32", [3], [-0, 0, 0]),
  mk("float32", [2, 3], rnd(6, 1, 10)),
  mk("float32", [3, 2, 2], rnd(12, 2, 100)),
  mk("float64", [10, 5], rnd(50, 3, 4)),
  mk("float32", [2000], rnd(2000, 4, 2)),
  mk("float32", [40, 40], rnd(1600, 5, 2)),
  mk("float32", [30], rnd(30, 6, 1e6)),
  mk("int64", [5], [2, 77, 91, -3, 0]),
  mk("int32", [2, 2], [1, -20, 300, 4]),
  mk("bool", [3], [1, 0, 1]),
  mk("float32", [0], []),
  mk("float32", [0, 3], []),
  mk(
    "float16",
    [21],
    Array.from({ length: 21 }, (_, i) => i - 8),
  ),
  mk("float32", [3], [0.5, 1.5, 2.5]),
  mk("float32", [2], [123456.5, 0.25]),
];

function torchStrings(cs: Case[]): string[] {
  const script = `
import json, sys, torch
out = []
for c in json.load(sys.stdin):
    data = [float(x) for x in c["data"]]
    dt = getattr(torch, c["dtype"])
    if c["dtype"] in ("int32", "int64"):
        t = torch.tensor([int(x) for x in data], dtype=dt)
    elif c["dtype"] == "bool":
        t = torch.tensor([bool(x) for x in data], dtype=dt)
    else:
        t = torch.tensor(data, dtype=torch.float64).to(dt)
    t = t.reshape(c["shape"])
    if c.get("requiresGrad"):
        t.requires_grad_()
    out.append(str(t))
print(json.dumps(out))
`;
  // JSON has no NaN, infinities or negative zero: those travel as strings Python's float() reads.
  const wire = cs.map((c) => ({
    ...c,
    data: c.data.map((x) => (Object.is(x, -0) ? "-0" : Number.isFinite(x) ? x : String(x))),
  }));
  const r = spawnSync("/usr/bin/python3", ["-c", script], {
    input: JSON.stringify(wire),
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as string[];
}

describe("torch-style value formatting", () => {
  it("prints every case exactly as PyTorch prints it", () => {
    const expected = torchStrings(cases);
    cases.forEach((c, i) => {
      expect(
        torchRepr(c, { requiresGrad: c.requiresGrad }),
        `case ${i} ${c.dtype}${JSON.stringify(c.shape)}`,
      ).toBe(expected[i]);
    });
  });

  it("rounds ties to even like Python's format", () => {
    const script = `import json; print(json.dumps([f"{0.03125:.4f}", f"{0.09375:.4f}", f"{-2.5:.0f}", f"{125.0:.1e}", f"{0.5:.0f}", f"{1.5:.0f}", f"{2.675:.2f}"]))`;
    const r = spawnSync("/usr/bin/python3", ["-c", script], { encoding: "utf8" });
    const [a, b, c, d, e, f, g] = JSON.parse(r.stdout) as string[];
    expect([pyFixed(0.03125, 4), pyFixed(0.09375, 4), pyFixed(-2.5, 0), pyExp(125, 1)]).toEqual([a, b, c, d]);
    expect([pyFixed(0.5, 0), pyFixed(1.5, 0), pyFixed(2.675, 2)]).toEqual([e, f, g]);
  });

  it("prints a tensor over the worker's preview limit from the corners it sends, as PyTorch prints it whole", () => {
    const tail = rnd(6000, 9, 2);
    tail[5999] = Number.NEGATIVE_INFINITY;
    const big = [
      mk(
        "float32",
        [10000],
        Array.from({ length: 10000 }, (_, i) => i),
      ),
      mk("float32", [6000], tail),
      mk("float64", [100, 100], rnd(10000, 7, 50)),
      mk("float32", [3, 2000], rnd(6000, 8, 1e-3)),
      mk("float32", [20, 5, 50], rnd(5000, 10, 8)),
      mk(
        "int32",
        [5000],
        Array.from({ length: 5000 }, (_, i) => i * 7 - 100),
      ),
    ];
    const expected = torchStrings(big);
    big.forEach((c, i) => {
      const snap = snapshot(fromFlat(c.data, c.shape, c.dtype), 4096);
      expect(snap.truncated).toBe(true);
      expect(snap.data.length).toBeLessThanOrEqual(6 * 6 * 6);
      expect(torchRepr(snap), `case ${i}`).toBe(expected[i]);
    });
    // The node's face: the true ends and range of arange(0, 10000), never the end of what was sent.
    const arange = snapshot(fromFlat(big[0].data, [10000], "float32"), 4096);
    expect(inlineNumbers(arange)).toBe(
      "[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 9.9970e+03, 9.9980e+03, 9.9990e+03]",
    );
    expect(stats(arange)).toMatchObject({ min: 0, max: 9999, mean: 4999.5 });
    expect(stats(snapshot(fromFlat(tail, [6000], "float32"), 4096)).nonFinite).toBe(1);
  });

  it("formats a lone loss value like a 0-d tensor", () => {
    expect(torchScalar(Math.fround(0.29419779777526855))).toBe("0.2942");
    expect(torchScalar(3, "float16")).toBe("3.");
    expect(torchScalar(1.2345678e-5)).toBe("1.2346e-05");
  });
});
