/**
 * The export's parts: Python names, tensor literals and base64, expressions printed with Python's precedence
 * (checked by evaluating them in PyTorch against gradwire's own evaluation), refusals, and the CLI command.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { identifier, PythonNames } from "../../src/export/python-names.ts";
import {
  base64,
  halfBits,
  nestedList,
  shortestFloat,
  tensorBytes,
} from "../../src/export/tensor-literals.ts";
import { torchScript } from "../../src/export/torch-script.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import type { GraphDoc } from "../../src/graph/types.ts";
import { type Expr, evalExpr, exprToPython } from "../../src/nodes/expression.ts";
import { fromFlat, roundHalf, type Tensor } from "../../src/runtime/index.ts";
import { epochOutput } from "../cli/run.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PYTHON = "/usr/bin/python3";
const dir = mkdtempSync(join(tmpdir(), "gradwire-export-parts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function parsed(json: object): GraphDoc {
  const r = parseGraphFile(JSON.stringify({ format: "gradwire.graph", version: 3, ...json }));
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join("; "));
  return r.doc;
}

const node = (id: string, type: string, params: object = {}) => ({
  id,
  type,
  position: { x: 0, y: 0 },
  params,
});
const edge = (id: string, source: string, target: string, targetPort: string) => ({
  id,
  source,
  sourcePort: "out",
  target,
  targetPort,
});

function fixture(name: string): GraphDoc {
  const r = parseGraphFile(readFileSync(join(ROOT, "tests/fixtures", name), "utf8"));
  if (!r.ok) throw new Error("fixture does not load");
  return r.doc;
}

describe("Python names", () => {
  it("keeps identifiers, fixes the rest", () => {
    expect(identifier("t_u")).toBe("t_u");
    expect(identifier("hidden layer")).toBe("hidden_layer");
    expect(identifier("t_u (°F)")).toBe("t_u_F");
    expect(identifier("Température")).toBe("Temperature");
    expect(identifier("2nd layer!")).toBe("_2nd_layer");
    expect(identifier("model-1")).toBe("model_1");
    expect(identifier("!!!")).toBe("");
  });

  it("never clashes with keywords, builtins, the script's names or each other", () => {
    const n = new PythonNames();
    expect(["input", "sum", "class", "torch", "F", "epoch", "device", "args"].map((s) => n.take(s))).toEqual([
      "input_",
      "sum_",
      "class_",
      "torch_",
      "F_",
      "epoch_",
      "device_",
      "args_",
    ]);
    expect([n.take("loss"), n.take("loss"), n.take("loss"), n.take("input")]).toEqual([
      "loss",
      "loss_2",
      "loss_3",
      "input_2",
    ]);
    expect(n.take("???", "node-7")).toBe("node_7");
  });
});

describe("tensor literals", () => {
  it("writes the shortest decimal that gives back the stored value", () => {
    expect(shortestFloat(Math.fround(0.4), "float32")).toBe("0.4");
    expect(shortestFloat(Math.fround(1 / 3), "float32")).toBe("0.33333334");
    expect(shortestFloat(0.1 + 0.2, "float64")).toBe("0.30000000000000004");
    expect(shortestFloat(2, "float32")).toBe("2.0");
    expect(shortestFloat(-0, "float32")).toBe("-0.0");
    expect(shortestFloat(Math.fround(1e-30), "float32")).toBe("1e-30");
    expect(shortestFloat(roundHalf(0.1), "float16")).toBe("0.1");
    expect(shortestFloat(Number.NaN, "float32")).toBe("math.nan");
    expect(shortestFloat(Number.NEGATIVE_INFINITY, "float64")).toBe("-math.inf");
  });

  it("nests lists by shape and wraps long ones", () => {
    expect(nestedList([1, 2, 3, 4], [2, 2], "int64")).toBe("[[1, 2], [3, 4]]");
    expect(nestedList([1, 0], [2], "bool")).toBe("[True, False]");
    expect(nestedList([5], [], "float32")).toBe("5.0");
    const long = nestedList(
      Array.from({ length: 40 }, (_, i) => i + 0.5),
      [40],
      "float64",
    );
    expect(long.split("\n").every((l) => l.length <= 100)).toBe(true);
    expect(long.startsWith("[\n    0.5, 1.5,")).toBe(true);
  });

  it("encodes base64 and float16 bits as Node and IEEE do", () => {
    for (const n of [0, 1, 2, 3, 4, 5, 100]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) % 256);
      expect(base64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
    }
    expect([1, -2, 65504, 2 ** -24, 2 ** -14, 0.5, Number.POSITIVE_INFINITY].map(halfBits)).toEqual([
      0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x3800, 0x7c00,
    ]);
    const t: Tensor = fromFlat([1, -2, 3], [3], "int64");
    expect(Array.from(new BigInt64Array(tensorBytes(t).buffer))).toEqual([1n, -2n, 3n]);
  });
});

/** A tiny seeded generator of expression trees over x. */
function randomExprs(count: number, seed: number): Expr[] {
  let s = seed;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const gen = (depth: number): Expr => {
    const r = rand();
    if (depth === 0 || r < 0.2)
      return rand() < 0.6 ? { kind: "var", name: "x" } : { kind: "num", value: pick([2, 0.5, -1.5, 3]) };
    if (r < 0.3) return { kind: "neg", arg: gen(depth - 1) };
    if (r < 0.45)
      return { kind: "call", fn: pick(["exp", "tanh", "abs", "sigmoid"]), args: [gen(depth - 1)] };
    if (r < 0.5) return { kind: "call", fn: "maximum", args: [gen(depth - 1), { kind: "var", name: "x" }] };
    return {
      kind: "bin",
      op: pick(["+", "-", "*", "/", "**", "+", "-", "*"] as const),
      left: gen(depth - 1),
      right: gen(depth - 1),
    };
  };
  // Keep expressions gradwire evaluates to a tensor (it refuses functions of constants, such as exp(2)).
  const x = fromFlat([1], [1], "float64");
  const out: Expr[] = [];
  while (out.length < count) {
    const e = gen(4);
    try {
      if (typeof evalExpr(e, { x }) !== "number") out.push(e);
    } catch {
      // refused: not an expression a custom function could hold
    }
  }
  return out;
}

describe("expressions printed as Python", () => {
  it("reads the same tree in Python: precedence, associativity, unary minus and **", () => {
    const tricky: Expr[] = [
      {
        kind: "bin",
        op: "**",
        left: { kind: "neg", arg: { kind: "var", name: "x" } },
        right: { kind: "num", value: 2 },
      },
      {
        kind: "neg",
        arg: { kind: "bin", op: "**", left: { kind: "var", name: "x" }, right: { kind: "num", value: 2 } },
      },
      {
        kind: "bin",
        op: "-",
        left: { kind: "var", name: "x" },
        right: { kind: "bin", op: "-", left: { kind: "var", name: "x" }, right: { kind: "num", value: 1 } },
      },
      {
        kind: "bin",
        op: "**",
        left: { kind: "bin", op: "**", left: { kind: "var", name: "x" }, right: { kind: "num", value: 2 } },
        right: { kind: "num", value: 3 },
      },
    ];
    expect(tricky.map((e) => exprToPython(e, {}))).toEqual([
      "(-x) ** 2",
      "-x ** 2",
      "x - (x - 1.0)",
      "(x ** 2) ** 3",
    ]);

    const exprs = [...tricky, ...randomExprs(150, 42)];
    const xs = [-1.75, -0.5, 0.25, 1.5, 2.75];
    const x = fromFlat(xs, [xs.length], "float64");
    const ours = exprs.map((e) => {
      const v = evalExpr(e, { x });
      return typeof v === "number" ? xs.map(() => v) : Array.from(v.data);
    });
    const code = [
      "import json, math, sys, torch",
      `x = torch.tensor(${JSON.stringify(xs)}, dtype=torch.float64)`,
      "out = []",
      ...exprs.map(
        (e) =>
          `out.append(torch.broadcast_to(torch.as_tensor(${exprToPython(e, {})}, dtype=torch.float64), x.shape).tolist())`,
      ),
      "json.dump([[v if math.isfinite(v) else str(v) for v in row] for row in out], sys.stdout)",
    ].join("\n");
    const r = spawnSync(PYTHON, ["-c", code], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    const theirs = JSON.parse(r.stdout) as (number | string)[][];
    exprs.forEach((e, i) => {
      const a = ours[i].map((v) =>
        Number.isFinite(v) ? v : String(v).toLowerCase().replace("infinity", "inf"),
      );
      const b = theirs[i];
      const close = a.every((v, j) =>
        typeof v === "number" && typeof b[j] === "number"
          ? Math.abs(v - (b[j] as number)) <= 1e-12 * Math.max(1, Math.abs(v))
          : v === b[j],
      );
      expect(close, `${exprToPython(e, {})}: gradwire ${a}, PyTorch ${b}`).toBe(true);
    });
  });
});

describe("torchScript refusals", () => {
  it("names the node of every validation error", () => {
    const doc = fixture("thermometer.graph.json");
    const broken: GraphDoc = {
      ...doc,
      edges: Object.fromEntries(Object.entries(doc.edges).filter(([id]) => id !== "e3")),
    };
    const r = torchScript(broken);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.nodeId).toBe("loss");
    expect(r.message).toMatch(
      /cannot be exported:\n {2}node 'loss' \(mse_loss\), input 'target' is not connected/,
    );
  });

  it("refuses an eval script whose objective is not a single number, as gradwire eval does", () => {
    const doc = parsed({
      title: "vector objective",
      objective: "p",
      nodes: [
        node("w", "tensor", { data: [2, 3], dtype: "float32", requires_grad: true }),
        node("x", "tensor", { data: [1, 4], dtype: "float32" }),
        node("p", "mul"),
      ],
      edges: [edge("e1", "w", "p", "input"), edge("e2", "x", "p", "other")],
    });
    const r = torchScript(doc, { mode: "eval" });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.nodeId).toBe("p");
    expect(r.message).toBe("the objective 'p' has 2 elements; backward needs a single number");
  });

  it("refuses a training script for a graph without an optimizer, and exports eval instead", () => {
    const doc = fixture("thermometer.graph.json");
    const { opt: _, ...nodes } = doc.nodes;
    const noOpt: GraphDoc = {
      ...doc,
      nodes,
      edges: Object.fromEntries(Object.entries(doc.edges).filter(([, e]) => e.target !== "opt")),
    };
    const r = torchScript(noOpt, { mode: "train" });
    expect(r.ok === false && r.message).toMatch(/nothing to train/);
    const e = torchScript(noOpt);
    expect(e.ok && e.mode).toBe("eval");
    expect(e.ok && e.filename).toBe("thermometer_regression.py");
  });
});

describe("finite differences in the script", () => {
  it("nudge one element at a time, never building an n×n identity", () => {
    const doc = parsed({
      title: "finite differences",
      nodes: [
        node("w", "tensor", { data: [1, -2, 0.5], dtype: "float32" }),
        node("sq", "mul"),
        node("loss", "sum"),
        node("fd", "finite_difference", { scheme: "central" }),
      ],
      edges: [
        edge("e1", "w", "sq", "input"),
        edge("e5", "w", "sq", "other"),
        edge("e2", "sq", "loss", "input"),
        edge("e3", "loss", "fd", "loss"),
        edge("e4", "w", "fd", "input"),
      ],
    });
    const r = torchScript(doc);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.code).not.toMatch(/torch\.eye/);
    const file = join(dir, "fd.py");
    writeFileSync(file, r.code);
    const py = spawnSync(PYTHON, [file], { encoding: "utf8" });
    expect(py.stderr).toBe("");
    // d/dw sum(w²) = 2w, which central differences of a quadratic give up to float32 rounding.
    const fd = JSON.parse(py.stdout).nodes.fd.data as number[];
    [2, -4, 1].forEach((v, i) => {
      expect(fd[i]).toBeCloseTo(v, 4);
    });
  });
});

describe("gradwire export-torch (the real CLI)", () => {
  const BIN = join(ROOT, "bin/gradwire.mjs");
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd: ROOT });

  it("writes a script that trains like `gradwire train --jsonl`", () => {
    const file = join(ROOT, "tests/fixtures/thermometer.graph.json");
    const out = join(dir, "thermometer.py");
    const w = cli("export-torch", file, "-o", out);
    expect(w.status, w.stderr).toBe(0);
    expect(w.stdout).toContain(`wrote ${out}`);
    expect(cli("export-torch", file).stdout).toBe(readFileSync(out, "utf8"));
    const py = spawnSync(PYTHON, [out, "--epochs", "20"], { encoding: "utf8" });
    expect(py.stderr).toBe("");
    const ours = epochOutput(cli("train", file, "--jsonl", "--epochs", "20").stdout)
      .trim()
      .split("\n");
    const theirs = py.stdout.trim().split("\n");
    expect(theirs).toHaveLength(20);
    // The same ops in the same order: the very same numbers.
    expect(theirs.map((l) => JSON.parse(l))).toEqual(ours.map((l) => JSON.parse(l)));
  });

  it("stops on an infinite gradient before the step, with gradwire's message", () => {
    const file = join(dir, "inf-grad.json");
    writeFileSync(
      file,
      JSON.stringify({
        format: "gradwire.graph",
        version: 3,
        title: "inf grad",
        settings: { epochs: 3 },
        nodes: [
          node("w", "tensor", { data: [0, 1], dtype: "float32", requires_grad: true }),
          node("r", "sqrt"),
          node("loss", "sum"),
          node("SGD", "SGD", { lr: 0.1 }),
        ],
        edges: [
          edge("e1", "w", "r", "input"),
          edge("e2", "r", "loss", "input"),
          edge("e3", "loss", "SGD", "loss"),
        ],
      }),
    );
    const out = join(dir, "inf-grad.py");
    expect(cli("export-torch", file, "-o", out).status).toBe(0);
    const py = spawnSync(PYTHON, [out], { encoding: "utf8" });
    const gw = cli("train", file, "--jsonl");
    expect(gw.status).toBe(1);
    expect(py.status).toBe(1);
    // No epoch finished: nothing printed, no step taken.
    expect(py.stdout).toBe(epochOutput(gw.stdout));
    const said = "epoch 0: the gradient of 'w' became inf";
    const kept = "no step was taken, the parameters keep their values from before this epoch";
    for (const err of [gw.stderr, py.stderr]) {
      expect(err).toContain(said);
      expect(err).toContain(kept);
    }
  });

  it("exit codes: 1 for an invalid graph, 2 for usage", () => {
    const bad = join(dir, "bad.json");
    writeFileSync(
      bad,
      readFileSync(join(ROOT, "tests/fixtures/thermometer.graph.json"), "utf8").replace(
        '"mse_loss"',
        '"mse_los"',
      ),
    );
    const r = cli("export-torch", bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown node type 'mse_los' \(did you mean 'mse_loss'\?\)/);
    expect(cli("export-torch").status).toBe(2);
    expect(cli("export-torch", bad, "--mode", "fit").status).toBe(2);
    expect(cli("export-torch", bad, "--epochs", "3").status).toBe(2);
    const noValue = cli("export-torch", bad, "-o");
    expect(noValue.status).toBe(2);
    expect(noValue.stderr).toMatch(/option '-o\/--output' needs a value/);
    const twice = cli("export-torch", bad, "-o", "a.py", "--output", "b.py");
    expect(twice.status).toBe(2);
    expect(twice.stderr).toMatch(/option '-o\/--output' given twice/);
  });
});
