/**
 * Exported PyTorch scripts against gradwire itself: for every example graph and the generated ones, the script
 * is run by Debian's python3-torch and its per-epoch JSON lines (or its eval JSON) are compared with the real
 * `gradwire train --jsonl` (`gradwire eval --json`) on the same file, to 1e-4 relative over the whole trajectory.
 * Every script also passes `python3 -m py_compile`, holds no placeholder, and runs without a warning.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { torchScript } from "../../src/export/torch-script.ts";
import { parseGraphFile, serializeGraph } from "../../src/graph/format.ts";
import type { GraphDoc } from "../../src/graph/types.ts";
import { registry } from "../../src/nodes/index.ts";
import { epochOutput } from "../cli/run.ts";
import { evalGraphs, trainGraphs } from "./generated-graphs.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const RUNNER = fileURLToPath(new URL("./run_scripts.py", import.meta.url));
const PYTHON = "/usr/bin/python3";
const RTOL = 1e-4;
/** Values that should be 0 come out as float32 rounding noise; below this they count as equal. */
const ATOL = 1e-6;
/** Long example runs are cut here (both sides run the same number of epochs). */
const MAX_EPOCHS = 400;

/** Node kinds whose values the script writes out or generates: they must match exactly. */
const EXACT_KINDS = new Set(["tensor", "randn", "rand", "linspace", "arange", "zeros", "ones", "full"]);

interface Case {
  name: string;
  file: string;
  doc: GraphDoc;
  mode: "train" | "eval";
  epochs: number;
  script: string;
  code?: string;
  exportError?: string;
  python?: { stdout: string; stderr: string; code: number };
  gradwire?: { stdout: string; stderr: string; code: number };
}

const dir = mkdtempSync(join(tmpdir(), "gradwire-export-"));
const cases: Case[] = [];
let compileOutput = "";

function load(file: string): GraphDoc {
  const r = parseGraphFile(readFileSync(file, "utf8"));
  if (!r.ok) throw new Error(`${file}: ${r.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`);
  return r.doc;
}

/**
 * EXPORT_ONLY=61-,nn.Linear runs the cases whose names contain one of these (a development aid, as
 * EXAMPLES_ONLY): the example files, and the generated graphs by their titles.
 */
const ONLY = process.env.EXPORT_ONLY?.split(",");

function addCase(name: string, file: string, doc: GraphDoc, mode: "train" | "eval"): void {
  if (ONLY && !ONLY.some((p) => name.includes(p))) return;
  const slug = `${basename(file, ".json")}-${mode}`.replace(/[^A-Za-z0-9_-]+/g, "_");
  cases.push({
    name: `${name} (${mode})`,
    file,
    doc,
    mode,
    epochs: Math.min(doc.settings.epochs, MAX_EPOCHS),
    script: join(dir, `${slug}.py`),
  });
}

const hasOptimizer = (doc: GraphDoc) =>
  Object.values(doc.nodes).some((n) => registry.get(n.type)?.optimizer !== undefined);

function collect(): void {
  const examples = join(ROOT, "examples");
  let files: string[] = [];
  try {
    files = readdirSync(examples).filter((f) => f.endsWith(".json"));
  } catch {
    files = [];
  }
  for (const f of files.sort()) {
    const file = join(examples, f);
    const doc = load(file);
    addCase(`examples/${f}`, file, doc, hasOptimizer(doc) ? "train" : "eval");
  }
  mkdirSync(join(dir, "graphs"));
  const generated = [
    ...trainGraphs().map((g) => ({ ...g, mode: "train" as const })),
    ...evalGraphs().map((g) => ({ ...g, mode: "eval" as const })),
  ];
  generated.forEach((g, i) => {
    const file = join(dir, "graphs", `g${String(i + 1).padStart(2, "0")}.json`);
    writeFileSync(file, serializeGraph(g.doc));
    addCase(`generated: ${g.name}`, file, load(file), g.mode);
  });
}

/** The real CLI's entry point (what bin/gradwire.mjs calls), run in this process to save a Node start per graph. */
async function runGradwire(c: Case): Promise<NonNullable<Case["gradwire"]>> {
  const argv =
    c.mode === "train"
      ? ["train", c.file, "--jsonl", "--epochs", String(c.epochs)]
      : ["eval", c.file, "--json"];
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { stdout, stderr, code };
}

function runAllPython(): void {
  const runnable = cases.filter((c) => c.code !== undefined);
  const runs = runnable.map((c) => ({
    path: c.script,
    argv: c.mode === "train" ? ["--epochs", String(c.epochs)] : [],
  }));
  const r = spawnSync(PYTHON, [RUNNER], {
    input: JSON.stringify({ runs }),
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`the script runner failed:\n${r.stderr}`);
  const { results } = JSON.parse(r.stdout) as { results: NonNullable<Case["python"]>[] };
  runnable.forEach((c, i) => {
    c.python = results[i];
  });
}

collect();

beforeAll(async () => {
  for (const c of cases) {
    const r = torchScript(c.doc, { mode: c.mode });
    if (!r.ok) {
      c.exportError = r.message;
      continue;
    }
    c.code = r.code;
    writeFileSync(c.script, r.code);
  }
  const scripts = cases.filter((c) => c.code !== undefined).map((c) => c.script);
  const compiled = spawnSync(PYTHON, ["-m", "py_compile", ...scripts], { encoding: "utf8" });
  compileOutput = compiled.status === 0 ? "" : `${compiled.stdout}${compiled.stderr}`;
  runAllPython();
  for (const c of cases) if (c.code !== undefined) c.gradwire = await runGradwire(c);
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Python's json writes NaN and Infinity bare; gradwire writes them as strings. */
function parsePythonJson(line: string): unknown {
  return JSON.parse(
    line
      .replace(/-Infinity\b/g, '"-Infinity"')
      .replace(/(?<!-)\bInfinity\b/g, '"Infinity"')
      .replace(/\bNaN\b/g, '"NaN"'),
  );
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** "exact", or the absolute tolerance added to the relative one. */
type Tolerance = "exact" | number;

/**
 * Finite differences of a float32 loss carry an error of about ulp(loss) / delta, so the last-ulp differences
 * between two correct implementations of an op (a sum's order) grow to ~1e-6 there.
 */
const FD_ATOL = 1e-5;

function finiteDifferenceDescendants(doc: GraphDoc): Set<string> {
  const out = new Set(
    Object.values(doc.nodes)
      .filter((n) => n.type === "finite_difference")
      .map((n) => n.id),
  );
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of Object.values(doc.edges))
      if (out.has(e.source) && !out.has(e.target)) {
        out.add(e.target);
        grew = true;
      }
  }
  return out;
}

/** Where two JSON values differ beyond the tolerance (numbers), or undefined when they agree. */
function mismatch(a: Json, b: Json, path: string, tol: (path: string) => Tolerance): string | undefined {
  if (typeof a === "number" && typeof b === "number") {
    const t = tol(path);
    if (t === "exact" ? a === b : Math.abs(a - b) <= RTOL * Math.max(Math.abs(a), Math.abs(b)) + t)
      return undefined;
    return `${path}: gradwire ${a}, PyTorch ${b}`;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: gradwire has ${a.length} values, PyTorch ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const m = mismatch(a[i], b[i], `${path}[${i}]`, tol);
      if (m) return m;
    }
    return undefined;
  }
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.join("\u0000") !== kb.join("\u0000"))
      return `${path}: gradwire keys ${ka.join(", ")}; PyTorch keys ${kb.join(", ")}`;
    for (const k of ka) {
      const m = mismatch(a[k], b[k], `${path}.${k}`, tol);
      if (m) return m;
    }
    return undefined;
  }
  return a === b ? undefined : `${path}: gradwire ${JSON.stringify(a)}, PyTorch ${JSON.stringify(b)}`;
}

const lines = (s: string) => s.split("\n").filter((l) => l.trim() !== "");

/** The code outside the module docstring (a graph's description may say "..." in prose). */
function codeOf(script: string): string {
  return script.replace(/^"""[\s\S]*?"""\n/, "");
}

describe("exported PyTorch scripts match gradwire", () => {
  it.skipIf(ONLY)(
    "covers every node kind of the registry (kinds with samples are also exported by the completeness test)",
    () => {
      const used = new Set(cases.flatMap((c) => Object.values(c.doc.nodes).map((n) => n.type)));
      const sampled = new Set(registry.list().flatMap((k) => (k.samples?.length ? [k.type] : [])));
      expect(registry.types().filter((t) => !used.has(t) && !sampled.has(t))).toEqual([]);
    },
  );

  for (const c of cases)
    it(c.name, () => {
      expect(c.exportError).toBeUndefined();
      const code = c.code!;
      expect(compileOutput.includes(c.script), compileOutput).toBe(false);
      expect(codeOf(code)).not.toMatch(/\bTODO\b|\bFIXME\b|^\s*pass\s*$|\.\.\.|NotImplemented|placeholder/m);
      const py = c.python!;
      const gw = c.gradwire!;
      // gradwire fails only where the graph diverges; the script must stop at the same epoch.
      expect(py.code === 0, `python: ${py.stderr}`).toBe(gw.code === 0);
      if (py.code === 0) expect(py.stderr, "the script printed warnings or errors").toBe("");
      if (c.mode === "train") {
        const ours = lines(epochOutput(gw.stdout)).map((l) => JSON.parse(l) as Json);
        const theirs = lines(py.stdout).map((l) => parsePythonJson(l) as Json);
        expect(ours.length).toBeGreaterThan(0);
        expect(theirs.length, "epochs printed").toBe(ours.length);
        ours.forEach((o, i) => {
          const m = mismatch(o, theirs[i], `epoch ${i}`, () => ATOL);
          expect(m).toBeUndefined();
        });
      } else {
        const ours = JSON.parse(gw.stdout) as Json;
        const theirs = parsePythonJson(py.stdout.trim()) as Json;
        const noisy = finiteDifferenceDescendants(c.doc);
        const tolerance = (path: string): Tolerance => {
          const id = /^\$\.nodes\.([^.[]+)\.data/.exec(path)?.[1];
          if (id === undefined) return ATOL;
          if (EXACT_KINDS.has(c.doc.nodes[id]?.type ?? "")) return "exact";
          return noisy.has(id) ? FD_ATOL : ATOL;
        };
        expect(mismatch(ours, theirs, "$", tolerance)).toBeUndefined();
      }
    });
});
