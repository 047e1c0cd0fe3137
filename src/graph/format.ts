/**
 * The graph file: load (whole or not at all, every problem named by its JSON path), migrate older versions,
 * refuse newer ones, and save in a stable, readable layout so export then import is the identity.
 */
import type { z } from "zod";
import { registry as builtinRegistry } from "../nodes/index.ts";
import type { Registry } from "../nodes/registry.ts";
import { outputsOf } from "../nodes/types.ts";
import { MAX_DEPTH, protoKey, tooDeep } from "./depth.ts";
import { type Json, MigrationError, migrate } from "./migrations.ts";
import {
  checkModules,
  expandModules,
  MODULE_TYPE,
  type ModuleDef,
  type Modules,
  topLevelId,
} from "./modules.ts";
import {
  CURRENT_VERSION,
  FORMAT,
  type GraphFile,
  graphFileShape,
  kindNodeSchema,
  moduleNodeSchema,
} from "./schema.ts";
import { DEFAULT_SETTINGS, type GraphDoc, type GraphEdge, type GraphNode } from "./types.ts";
import { type Issue, validateGraph } from "./validate.ts";

/** The largest graph file gradwire opens, in bytes: imported files and unpacked share links alike. */
export const MAX_FILE_BYTES = 20_000_000;

export interface LoadProblem {
  /** Where in the file: `nodes[3].params.lr`, `edges[0].target`, or `(file)` for the whole text. */
  path: string;
  message: string;
}

export type LoadResult =
  | {
      ok: true;
      doc: GraphDoc;
      /** The graph's own validation (cycles, missing inputs, mismatches, warnings): loadable, shown on nodes. */
      issues: Issue[];
      /** Set when the file was an older version and was migrated. */
      migratedFrom?: number;
    }
  | { ok: false; errors: LoadProblem[] };

export function jsonPath(path: readonly PropertyKey[]): string {
  let s = "";
  for (const k of path) s += typeof k === "number" ? `[${k}]` : s === "" ? String(k) : `.${String(k)}`;
  return s === "" ? "(top level)" : s;
}

export function formatProblems(errors: readonly LoadProblem[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join("\n");
}

function lookup(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const k of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** Zod's issues as path: message, where `root` is the value that was parsed (to tell missing from wrong). */
function zodProblems(error: z.ZodError, root: unknown, prefix: PropertyKey[] = []): LoadProblem[] {
  return error.issues.map((i) => {
    const path = [...prefix, ...i.path];
    let message = i.message;
    if (i.code === "unrecognized_keys")
      message = `unknown field${i.keys.length > 1 ? "s" : ""} ${i.keys.map((k) => `'${k}'`).join(", ")}`;
    if (i.code === "invalid_type" && lookup(root, i.path) === undefined)
      message = `missing (expected ${i.expected})`;
    return { path: jsonPath(path), message };
  });
}

/** Where JSON.parse stopped, as line and column. */
function syntaxProblem(text: string, e: unknown): LoadProblem {
  const msg = e instanceof Error ? e.message : String(e);
  const pos = /position (\d+)/.exec(msg);
  let where = "";
  if (pos) {
    const before = text.slice(0, Number(pos[1]));
    const line = before.split("\n").length;
    where = ` (line ${line}, column ${before.length - before.lastIndexOf("\n")})`;
  } else if (/end of (JSON )?input|Unterminated/i.test(msg))
    where = " (the file ends early: is it truncated?)";
  return {
    path: "(file)",
    message: `not valid JSON: ${msg.replace(/\s*\(line \d+ column \d+\)/, "")}${where}`,
  };
}

export function parseGraphFile(text: string, registry: Registry = builtinRegistry): LoadResult {
  let json: unknown;
  try {
    // A byte-order mark is how some editors on Windows start a UTF-8 file; it is not part of the JSON.
    json = JSON.parse(text.startsWith("\uFEFF") ? text.slice(1) : text);
  } catch (e) {
    return { ok: false, errors: [syntaxProblem(text, e)] };
  }
  return loadGraph(json, registry);
}

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Validate a parsed file and build the document, or list every problem. */
export function loadGraph(json: unknown, registry: Registry = builtinRegistry): LoadResult {
  const deep = tooDeep(json);
  if (deep)
    return fail(
      jsonPath(deep.slice(0, 8)),
      `nested more than ${MAX_DEPTH} levels deep (a tensor has at most a few dimensions)`,
    );
  const proto = protoKey(json);
  if (proto) return fail(jsonPath(proto), "the key '__proto__' is not allowed in a graph file");
  if (!isObject(json)) return fail("(top level)", 'expected a JSON object with "format": "gradwire.graph"');
  if (json.format !== FORMAT)
    return fail(
      "format",
      `expected "${FORMAT}", got ${JSON.stringify(json.format)}: this is not a gradwire graph file`,
    );
  const version = json.version;
  if (typeof version !== "number" || !Number.isInteger(version) || version < 0)
    return fail("version", `expected a whole number, got ${JSON.stringify(version)}`);
  if (version > CURRENT_VERSION)
    return fail(
      "version",
      `this file is version ${version} of the gradwire graph format, newer than this gradwire reads (up to ${CURRENT_VERSION}): update gradwire to open it`,
    );
  let file: Record<string, Json> = json;
  if (version < CURRENT_VERSION) {
    try {
      file = migrate(json, version, CURRENT_VERSION);
    } catch (e) {
      if (e instanceof MigrationError) return fail(e.path, e.message);
      throw e;
    }
  }

  const shape = graphFileShape.safeParse(file);
  if (!shape.success) return { ok: false, errors: zodProblems(shape.error, file) };
  const data = shape.data;
  const errors: LoadProblem[] = [];
  const moduleIds = new Map<string, number>();
  (data.modules ?? []).forEach((m, i) => {
    const first = moduleIds.get(m.id);
    if (first !== undefined)
      errors.push({
        path: `modules[${i}].id`,
        message: `duplicate module '${m.id}' (also modules[${first}])`,
      });
    else moduleIds.set(m.id, i);
    checkNodes(m.nodes, registry, errors, `modules[${i}].`);
    checkEdges(m.nodes, m.edges, registry, errors, `modules[${i}].`);
  });
  checkNodes(data.nodes, registry, errors);
  checkEdges(data.nodes, data.edges, registry, errors);
  // An objective inside a module is a path (block1/loss), checked once the modules are expanded.
  const objective = data.objective;
  if (objective !== undefined && !objective.includes("/") && !data.nodes.some((n) => n.id === objective))
    errors.push({ path: "objective", message: `no node has id '${objective}'` });
  if (errors.length) return { ok: false, errors };

  const doc = fromFile(data);
  // Instances, ports and recursion; then the flat graph the modules stand for is what is validated.
  const moduleProblems = checkModules(doc, registry);
  if (moduleProblems.length)
    return { ok: false, errors: moduleProblems.map(({ path, message }) => ({ path, message })) };
  const flat = expandModules(doc);
  if (objective !== undefined && !Object.hasOwn(flat.nodes, objective))
    return fail("objective", `no node inside the modules has the path '${objective}'`);
  const validation = validateGraph(flat, registry);
  const index = new Map(data.nodes.map((n, i) => [n.id, i]));
  // Too large to hold, a tensor or the whole graph: the file is refused before anything is allocated.
  const tooLarge = validation.issues.filter((i) => i.code === "too-large" || i.code === "memory");
  if (tooLarge.length)
    return {
      ok: false,
      errors: tooLarge.map((i) => ({
        path: i.code === "memory" ? "nodes" : `nodes[${index.get(topLevelId(i.nodeId ?? ""))}].params`,
        message: i.message,
      })),
    };
  return {
    ok: true,
    doc,
    issues: validation.issues,
    ...(version < CURRENT_VERSION ? { migratedFrom: version } : {}),
  };
}

function fail(path: string, message: string): LoadResult {
  return { ok: false, errors: [{ path, message }] };
}

type FileNode = GraphFile["nodes"][number];
type FileEdge = GraphFile["edges"][number];
type FileModule = NonNullable<GraphFile["modules"]>[number];

/** The nodes of the top level or (with `prefix` `modules[i].`) of a module definition. */
function checkNodes(nodes: FileNode[], registry: Registry, errors: LoadProblem[], prefix = ""): void {
  const seen = new Map<string, number>();
  nodes.forEach((node, i) => {
    const first = seen.get(node.id);
    if (first !== undefined)
      errors.push({
        path: `${prefix}nodes[${i}].id`,
        message: `duplicate id '${node.id}' (also ${prefix}nodes[${first}])`,
      });
    else seen.set(node.id, i);
    if (node.type === MODULE_TYPE) {
      const r = moduleNodeSchema.safeParse(node);
      if (!r.success) errors.push(...zodProblems(r.error, node, [...pathOf(prefix), "nodes", i]));
      return;
    }
    const kind = registry.get(node.type);
    if (!kind) {
      const hint = registry.suggest(node.type);
      errors.push({
        path: `${prefix}nodes[${i}].type`,
        message: `unknown node type '${node.type}'${hint ? ` (did you mean '${hint}'?)` : ""}`,
      });
      return;
    }
    const r = kindNodeSchema(kind).safeParse(node);
    if (!r.success) errors.push(...zodProblems(r.error, node, [...pathOf(prefix), "nodes", i]));
  });
}

/** `modules[2].` as path parts. */
function pathOf(prefix: string): PropertyKey[] {
  const m = /^modules\[(\d+)\]\.$/.exec(prefix);
  return m ? ["modules", Number(m[1])] : [];
}

function checkEdges(
  nodeList: FileNode[],
  edges: FileEdge[],
  registry: Registry,
  errors: LoadProblem[],
  prefix = "",
): void {
  const nodes = new Map(nodeList.map((n) => [n.id, n]));
  const ids = new Map<string, number>();
  edges.forEach((e, i) => {
    const first = ids.get(e.id);
    if (first !== undefined)
      errors.push({
        path: `${prefix}edges[${i}].id`,
        message: `duplicate id '${e.id}' (also ${prefix}edges[${first}])`,
      });
    else ids.set(e.id, i);
    if (nodes.has(e.id))
      errors.push({ path: `${prefix}edges[${i}].id`, message: `'${e.id}' is already a node's id` });
    for (const [end, portKey, isOut] of [
      ["source", "sourcePort", true],
      ["target", "targetPort", false],
    ] as const) {
      const node = nodes.get(e[end]);
      if (!node) {
        errors.push({
          path: `${prefix}edges[${i}].${end}`,
          message: `no node has id '${e[end]}' (a dangling edge)`,
        });
        continue;
      }
      // An instance's ports are its definition's: checked with the modules (checkModules).
      if (node.type === MODULE_TYPE) continue;
      const kind = registry.get(node.type);
      if (!kind) continue;
      const ports = isOut ? outputsOf(kind).map((o) => o.name) : kind.inputs.map((p) => p.name);
      if (!ports.includes(e[portKey]))
        errors.push({
          path: `${prefix}edges[${i}].${portKey}`,
          message: `node '${node.id}' (${node.type}) has no ${isOut ? "output" : "input"} '${e[portKey]}' (${isOut ? "outputs" : "inputs"}: ${ports.join(", ") || "none"})`,
        });
    }
  });
}

function nodesFromFile(list: FileNode[]): Record<string, GraphNode> {
  const nodes: Record<string, GraphNode> = {};
  for (const n of list)
    nodes[n.id] = {
      id: n.id,
      type: n.type,
      ...(n.name !== undefined ? { name: n.name } : {}),
      position: n.position ?? { x: 0, y: 0 },
      params: (n.params ?? {}) as GraphNode["params"],
    };
  return nodes;
}

function edgesFromFile(list: FileEdge[]): Record<string, GraphEdge> {
  const edges: Record<string, GraphEdge> = {};
  for (const e of list) edges[e.id] = { ...e };
  return edges;
}

function fromFile(data: GraphFile): GraphDoc {
  const nodes = nodesFromFile(data.nodes);
  const edges = edgesFromFile(data.edges);
  let modules: Modules | undefined;
  if (data.modules && data.modules.length > 0) {
    modules = {};
    for (const m of data.modules)
      modules[m.id] = {
        id: m.id,
        ...(m.description !== undefined ? { description: m.description } : {}),
        ...(m.sequential ? { sequential: true as const } : {}),
        inputs: m.inputs.map((p) => ({ name: p.name, targets: p.targets.map((t) => ({ ...t })) })),
        outputs: m.outputs.map((p) => ({ ...p })),
        nodes: nodesFromFile(m.nodes),
        edges: edgesFromFile(m.edges),
      };
  }
  return {
    ...(data.title !== undefined ? { title: data.title } : {}),
    ...(data.description !== undefined ? { description: data.description } : {}),
    nodes,
    edges,
    settings: { ...DEFAULT_SETTINGS, ...data.settings },
    ...(data.objective !== undefined ? { objective: data.objective } : {}),
    ...(modules ? { modules } : {}),
  };
}

/** The file object for a document (key order fixed, so saving is deterministic). */
export function toGraphFile(doc: GraphDoc): GraphFile {
  return {
    format: FORMAT,
    version: CURRENT_VERSION,
    ...(doc.title !== undefined ? { title: doc.title } : {}),
    ...(doc.description !== undefined ? { description: doc.description } : {}),
    settings: { epochs: doc.settings.epochs },
    ...(doc.objective !== undefined ? { objective: doc.objective } : {}),
    ...(doc.modules && Object.keys(doc.modules).length > 0
      ? { modules: Object.values(doc.modules).map(moduleToFile) }
      : {}),
    nodes: nodesToFile(doc.nodes),
    edges: edgesToFile(doc.edges),
  } as GraphFile;
}

function nodesToFile(nodes: Record<string, GraphNode>): GraphFile["nodes"] {
  return Object.values(nodes).map((n) => ({
    id: n.id,
    type: n.type,
    ...(n.name !== undefined ? { name: n.name } : {}),
    position: { x: n.position.x, y: n.position.y },
    params: n.params,
  }));
}

function edgesToFile(edges: Record<string, GraphEdge>): GraphFile["edges"] {
  return Object.values(edges).map((e) => ({
    id: e.id,
    source: e.source,
    sourcePort: e.sourcePort,
    target: e.target,
    targetPort: e.targetPort,
  }));
}

function moduleToFile(m: ModuleDef): FileModule {
  return {
    id: m.id,
    ...(m.description !== undefined ? { description: m.description } : {}),
    ...(m.sequential ? { sequential: true as const } : {}),
    inputs: m.inputs.map((p) => ({
      name: p.name,
      targets: p.targets.map((t) => ({ node: t.node, port: t.port })),
    })),
    outputs: m.outputs.map((p) => ({ name: p.name, node: p.node, port: p.port })),
    nodes: nodesToFile(m.nodes),
    edges: edgesToFile(m.edges),
  };
}

/** The file text: two-space JSON, with arrays of numbers and small flat objects kept on one line. */
export function serializeGraph(doc: GraphDoc): string {
  return `${formatJson(toGraphFile(doc) as unknown as Json, "")}\n`;
}

function isFlat(v: Json): boolean {
  if (Array.isArray(v))
    return v.every((x) => x === null || typeof x !== "object" || (Array.isArray(x) && isFlat(x)));
  if (isObject(v)) {
    const vals = Object.values(v);
    return vals.length <= 4 && vals.every((x) => x === null || typeof x !== "object");
  }
  return true;
}

function formatJson(v: Json, indent: string): string {
  if (v === null || typeof v !== "object" || isFlat(v)) return compact(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return `[\n${v.map((x) => inner + formatJson(x, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(v);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${formatJson(x, inner)}`).join(",\n")}\n${indent}}`;
}

function compact(v: Json): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(compact).join(", ")}]`;
  const entries = Object.entries(v);
  return entries.length === 0
    ? "{}"
    : `{ ${entries.map(([k, x]) => `${JSON.stringify(k)}: ${compact(x)}`).join(", ")} }`;
}
