// PyTorch's CPU generator, bit for bit: every value is compared with live torch 1.13 (/usr/bin/python3) after
// torch.manual_seed, for sizes on both sides of the 16-element vectorised normal path, both float dtypes and
// several seeds.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  integerValues,
  linearInit,
  MT19937,
  normalValues,
  permutation,
  type RandomFloat,
  TorchGenerator,
  uniformValues,
} from "../../src/runtime/random/index.ts";
import { PYTHON } from "../helpers/torch.ts";

const SEEDS = [0, 1, 42, 1234];
const SIZES = [1, 15, 16, 17, 100, 1000];
const DTYPES: RandomFloat[] = ["float32", "float64"];

const PY = `
import torch, json, sys
cases = json.load(sys.stdin)
out = []
for c in cases:
    torch.manual_seed(c["seed"])
    k = c["kind"]
    d = getattr(torch, c.get("dtype", "float32"))
    n = c.get("n", 0)
    if k == "randn": t = torch.randn(n, dtype=d)
    elif k == "rand": t = torch.rand(n, dtype=d)
    elif k == "uniform_": t = torch.empty(n, dtype=d).uniform_(c["a"], c["b"])
    elif k == "normal_": t = torch.empty(n, dtype=d).normal_(c["a"], c["b"])
    elif k == "randint": t = torch.randint(c["a"], c["b"], (n,))
    elif k == "randperm": t = torch.randperm(n)
    elif k == "int64": t = torch.empty((), dtype=torch.int64).random_()
    elif k == "linear":
        l = torch.nn.Linear(c["i"], c["o"])
        t = torch.cat([l.weight.detach().flatten(), l.bias.detach()])
    out.append(str(t.item()) if k == "int64" else t.tolist())
print(json.dumps(out))
`;

interface Case {
  kind: string;
  seed: number;
  dtype?: RandomFloat;
  n?: number;
  a?: number;
  b?: number;
  i?: number;
  o?: number;
}

const cases: Case[] = [];
for (const seed of SEEDS) {
  for (const dtype of DTYPES)
    for (const n of SIZES) {
      cases.push({ kind: "randn", seed, dtype, n }, { kind: "rand", seed, dtype, n });
      cases.push({ kind: "uniform_", seed, dtype, n, a: -0.3, b: 2.5 });
      cases.push({ kind: "normal_", seed, dtype, n, a: 0.5, b: 2 });
    }
  for (const n of [1, 2, 10, 100, 1000, 5000]) cases.push({ kind: "randperm", seed, n });
  cases.push({ kind: "randint", seed, n: 100, a: -5, b: 7 }, { kind: "int64", seed });
  for (const [i, o] of [
    [2, 16],
    [16, 2],
    [784, 10],
    [3, 1],
  ])
    cases.push({ kind: "linear", seed, i, o });
}

let answers: (number[] | string)[] | undefined;
function torchAnswers(): (number[] | string)[] {
  answers ??= JSON.parse(
    execFileSync(PYTHON, ["-c", PY], { input: JSON.stringify(cases), maxBuffer: 1 << 28 }).toString(),
  ) as (number[] | string)[];
  return answers;
}

function gradwire(c: Case): number[] | string {
  const g = new TorchGenerator(c.seed);
  const n = c.n ?? 0;
  const d = c.dtype ?? "float32";
  switch (c.kind) {
    case "randn":
      return normalValues(g, n, d);
    case "rand":
      return uniformValues(g, n, d);
    case "uniform_":
      return uniformValues(g, n, d, c.a, c.b);
    case "normal_":
      return normalValues(g, n, d, c.a, c.b);
    case "randint":
      return integerValues(g, n, c.a ?? 0, c.b ?? 1);
    case "randperm":
      return permutation(g, n);
    case "int64":
      return g.int64().toString();
    default: {
      const l = linearInit(c.seed, c.i ?? 1, c.o ?? 1);
      return [...l.weight, ...l.bias];
    }
  }
}

/** Indices where two value lists differ in any bit (NaN equal to NaN, +0 distinct from -0). */
function differing(a: number[], b: number[]): number[] {
  const bad: number[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!Object.is(a[i], b[i])) bad.push(i);
  return bad;
}

/** The spacing of float64 values at x's magnitude. */
function ulp(x: number): number {
  return 2 ** (Math.floor(Math.log2(Math.abs(x))) - 52);
}

describe("TorchGenerator against torch.manual_seed", () => {
  it("mt19937 seeded as std::mt19937(5489) gives the standard's 10000th value", () => {
    // The C++ standard fixes this value ([rand.predef]): a check of the engine independent of torch.
    const mt = new MT19937(5489);
    let v = 0;
    for (let i = 0; i < 10000; i++) v = mt.nextU32();
    expect(v).toBe(4123659995);
  });

  cases.forEach((c, k) => {
    const label = `${c.kind} seed ${c.seed}${c.dtype ? ` ${c.dtype}` : ""}${c.n !== undefined ? ` n=${c.n}` : ""}${c.i ? ` Linear(${c.i}, ${c.o})` : ""}`;
    it(`${label}: bit for bit`, () => {
      const expected = torchAnswers()[k];
      const got = gradwire(c);
      if (typeof expected === "string") {
        expect(got).toBe(expected);
        return;
      }
      const bad = differing(got as number[], expected);
      if (c.dtype === "float64" && (c.kind === "randn" || c.kind === "normal_")) {
        // glibc's float64 log is not correctly rounded in rare hard cases (up to 0.52 ulp) and gradwire's is:
        // there the radius, and so both values of its Box-Muller pair, differ in the last bit or two; every
        // other element is identical.
        const far = bad.filter((i) => Math.abs((got as number[])[i] - expected[i]) > ulp(expected[i]) * 2);
        expect(far, "elements more than two ulps from torch").toEqual([]);
        expect(bad.length, "elements not bit-identical").toBeLessThanOrEqual(
          2 * Math.ceil(expected.length / 100),
        );
        return;
      }
      expect(
        bad.slice(0, 3).map((i) => `element ${i}: ${(got as number[])[i]} vs torch ${expected[i]}`),
      ).toEqual([]);
    });
  });
});
