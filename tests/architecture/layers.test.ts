// The folder layering of src/ (docs/architecture.md), checked on every import the source really has: a layer
// imports only layers below it, no two folders import each other (directly or round a loop), and the files of
// the tensor library (src/runtime) import one another without a circle.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { strongComponents } from "../../src/graph/topo.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const SRC = join(ROOT, "src");

/**
 * Each folder of src/ and the folders it may import. Everything lower in the list is below: runtime (the
 * tensor library) < nodes (node kinds) < graph (documents, validation, queries) < engine (scheduler, trainer,
 * backends) < gpu / export < cli / ui. gpu and export are side by side (neither imports the other), as are
 * cli and ui.
 */
const LAYERS: Record<string, readonly string[]> = {
  runtime: [],
  nodes: ["runtime"],
  graph: ["nodes", "runtime"],
  engine: ["graph", "nodes", "runtime"],
  gpu: ["engine", "graph", "nodes", "runtime"],
  export: ["engine", "graph", "nodes", "runtime"],
  cli: ["export", "engine", "gpu", "graph", "nodes", "runtime"],
  ui: ["export", "engine", "gpu", "graph", "nodes", "runtime"],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|tsx)$/.test(e.name) ? [p] : [];
  });
}

/** Relative module specifiers of every static, re-exported and dynamic import in `code`. */
function importsOf(code: string): string[] {
  const out: string[] = [];
  const text = code.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const patterns = [
    /\b(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\bnew\s+URL\s*\(\s*["'](\.[^"']+)["']\s*,\s*import\.meta\.url/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) out.push(m[1]);
  return out.filter((s) => s.startsWith("."));
}

/** The folder of src/ a file lies in (its first path segment), or null outside src/. */
function folderOf(file: string): string | null {
  const rel = relative(SRC, file);
  return rel.startsWith("..") ? null : rel.split(/[\\/]/)[0];
}

interface Edge {
  from: string;
  to: string;
}

function fileEdges(files: string[]): Edge[] {
  return files.flatMap((from) =>
    importsOf(readFileSync(from, "utf8")).map((spec) => ({ from, to: resolve(dirname(from), spec) })),
  );
}

/** Every import circle: the strongly connected components of the import graph, each sorted. */
function cycles(nodes: Iterable<string>, edges: Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  return strongComponents(nodes, (v) => next.get(v) ?? []).map((c) => c.sort());
}

const files = sourceFiles(SRC);
const edges = fileEdges(files);
const rel = (f: string) => relative(ROOT, f);

describe("the layering of src/", () => {
  it("lists every folder of src/", () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? [e.name] : [],
    );
    expect(folders.sort()).toEqual(Object.keys(LAYERS).sort());
  });

  it("each folder imports only the folders below it", () => {
    const bad = edges.flatMap(({ from, to }) => {
      const a = folderOf(from);
      const b = folderOf(to);
      if (a === null || b === null || a === b || LAYERS[a]?.includes(b)) return [];
      return [
        `${rel(from)} imports ${rel(to)} (${a} may import ${LAYERS[a]?.join(", ") || "no other folder"})`,
      ];
    });
    expect(bad).toEqual([]);
  });

  it("no two folders import each other, directly or round a loop", () => {
    const pairs = new Map<string, Edge>();
    for (const { from, to } of edges) {
      const a = folderOf(from);
      const b = folderOf(to);
      if (a && b && a !== b) pairs.set(`${a}>${b}`, { from: a, to: b });
    }
    expect(cycles(Object.keys(LAYERS), [...pairs.values()])).toEqual([]);
  });

  it("the tensor library's files import one another without a circle", () => {
    const runtime = files.filter((f) => folderOf(f) === "runtime");
    const inside = edges.filter((e) => folderOf(e.from) === "runtime" && folderOf(e.to) === "runtime");
    expect(cycles(runtime, inside).map((c) => c.map(rel))).toEqual([]);
  });
});

describe("the checks themselves", () => {
  it("see static, type-only, re-exported and dynamic imports, and skip comments", () => {
    const code = [
      'import { a } from "./a.ts";',
      'import type { B } from "../b.ts";',
      'export * from "./c.ts";',
      'const d = await import("./d.ts");',
      'import "./e.ts";',
      '// import { f } from "./f.ts";',
      '/* import { g } from "./g.ts"; */',
      'import { h } from "node:fs";',
      "import {\n  i,\n  j,\n} from './ij.ts';",
    ].join("\n");
    expect(importsOf(code).sort()).toEqual(["../b.ts", "./a.ts", "./c.ts", "./d.ts", "./e.ts", "./ij.ts"]);
  });

  it("find a circle of three and a self-import, and nothing in a chain", () => {
    const e = (from: string, to: string) => ({ from, to });
    expect(cycles(["a", "b", "c", "d"], [e("a", "b"), e("b", "c"), e("c", "a"), e("c", "d")])).toEqual([
      ["a", "b", "c"],
    ]);
    expect(cycles(["a"], [e("a", "a")])).toEqual([["a"]]);
    expect(cycles(["a", "b", "c"], [e("a", "b"), e("b", "c")])).toEqual([]);
  });
});
