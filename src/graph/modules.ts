/**
 * Reusable modules (groups). A module definition is a small graph of its own with named input and output
 * ports; an instance is a node of type `module` whose `module` param names the definition. The engine never
 * sees either: `expandModules` turns a document into the flat graph it stands for (an instance's inner nodes
 * become `block1/fc`, nested instances `outer/block1/fc`), so validation, shapes, training, both backends and
 * every message work as for a graph drawn flat, and messages name the instance path.
 *
 * An instance's other params override its inner nodes' params, one key per inner param: `"W.seed": 1` sets
 * the `seed` of the definition's node `W` in this instance only (so two instances start from different weights).
 */
import { paramsSchema } from "../nodes/params.ts";
import type { Registry } from "../nodes/registry.ts";
import { outputsOf, type ParamValue, type ParamValues } from "../nodes/types.ts";
import {
  type GraphDoc,
  type GraphEdge,
  type GraphNode,
  nodeById,
  nodeLabel,
  type Position,
} from "./types.ts";

/** The node type of a module instance. */
export const MODULE_TYPE = "module";
/** Between a path's parts: an instance's inner node `fc` in instance `block1` is `block1/fc`. */
export const PATH_SEP = "/";

/** Where a module input goes: an input port of an inner node. */
export interface PortTarget {
  node: string;
  port: string;
}

export interface ModuleInput {
  name: string;
  /** One input may feed several inner nodes (a value used twice inside). */
  targets: PortTarget[];
}

export interface ModuleOutput {
  name: string;
  /** The inner node whose output this is, and which of its outputs. */
  node: string;
  port: string;
}

export interface ModuleDef {
  /** Also the class name the exporter writes: letters, digits and _ (the same rule as node ids). */
  id: string;
  description?: string;
  /**
   * Marked Sequential (like torch.nn.Sequential): the inside is one chain, each node's single output feeding
   * the next node's single input, from the module's one input to its one output. Checked by checkModules.
   */
  sequential?: true;
  inputs: ModuleInput[];
  outputs: ModuleOutput[];
  nodes: Record<string, GraphNode>;
  edges: Record<string, GraphEdge>;
}

export type Modules = Record<string, ModuleDef>;

export const isInstance = (n: GraphNode): boolean => n.type === MODULE_TYPE;

/** The definition an instance node names (its `module` param), if it is a string. */
export function instanceModule(n: GraphNode): string | undefined {
  const m = n.params.module;
  return typeof m === "string" ? m : undefined;
}

export function moduleById(doc: Pick<GraphDoc, "modules">, id: string): ModuleDef | undefined {
  return doc.modules && Object.hasOwn(doc.modules, id) ? doc.modules[id] : undefined;
}

/** A node's port names: a kind's declared ports, or an instance's definition ports. */
export function portsOf(
  node: GraphNode,
  registry: Registry,
  modules: Modules | undefined,
): { inputs: string[]; outputs: string[] } | undefined {
  if (isInstance(node)) {
    const id = instanceModule(node);
    const def = id !== undefined && modules && Object.hasOwn(modules, id) ? modules[id] : undefined;
    return def && { inputs: def.inputs.map((p) => p.name), outputs: def.outputs.map((p) => p.name) };
  }
  const kind = registry.get(node.type);
  return kind && { inputs: kind.inputs.map((p) => p.name), outputs: outputsOf(kind).map((o) => o.name) };
}

/** An instance's overrides of its inner nodes' params, by inner node: `{"W.seed": 1}` → W: {seed: 1}. */
export function overridesOf(instance: GraphNode): Map<string, ParamValues> {
  const out = new Map<string, ParamValues>();
  for (const [key, value] of Object.entries(instance.params)) {
    if (key === "module") continue;
    const dot = key.indexOf(".");
    if (dot <= 0) continue;
    const node = key.slice(0, dot);
    const p = out.get(node) ?? {};
    out.set(node, p);
    p[key.slice(dot + 1)] = value as ParamValue;
  }
  return out;
}

/** A problem that makes a document's modules unusable, with where it is (a path in the document). */
export interface ModuleProblem {
  /** As a JSON path in the graph file: `modules[0].inputs[1].targets[0].node`, `nodes[3].params.module`. */
  path: string;
  message: string;
  /** The top-level node it concerns, when there is one. */
  nodeId?: string;
}

export class ModuleError extends Error {
  override name = "ModuleError";
  constructor(
    message: string,
    readonly nodeId?: string,
  ) {
    super(message);
  }
}

interface Flat {
  nodes: Record<string, GraphNode>;
  edges: Record<string, GraphEdge>;
}

/**
 * The flat graph a document stands for: every instance replaced by its definition's nodes (prefixed with the
 * instance id) and the wires to and from its ports joined to the inner nodes they stand for. A document without
 * instances is returned as it is. Throws ModuleError for a definition that is missing or contains itself; a
 * loaded or edited document has been checked, so that means a bug or a hand-made document.
 */
export function expandModules(doc: GraphDoc): GraphDoc {
  if (!Object.values(doc.nodes).some(isInstance)) {
    if (!doc.modules) return doc;
    const { modules: _, ...flat } = doc;
    return flat;
  }
  const modules = doc.modules ?? {};
  const flat = flatten(modules, doc.nodes, doc.edges, [], "");
  const { modules: _, ...rest } = doc;
  return { ...rest, nodes: flat.nodes, edges: flat.edges };
}

function defOf(modules: Modules, node: GraphNode, stack: readonly string[]): ModuleDef {
  const id = instanceModule(node);
  const def = id !== undefined && Object.hasOwn(modules, id) ? modules[id] : undefined;
  if (!def)
    throw new ModuleError(`module instance '${nodeLabel(node)}' names no module definition '${String(id)}'`);
  if (stack.includes(def.id))
    throw new ModuleError(
      `module '${def.id}' contains itself (${[...stack, def.id].join(" → ")}): a module cannot be recursive`,
    );
  return def;
}

/** The flat inner input ports a definition's input stands for (relative to the instance). */
function resolveInput(
  modules: Modules,
  def: ModuleDef,
  port: string,
  stack: readonly string[],
): PortTarget[] {
  const input = def.inputs.find((p) => p.name === port);
  if (!input) throw new ModuleError(`module '${def.id}' has no input '${port}'`);
  return input.targets.flatMap((t) => {
    const inner = def.nodes[t.node];
    if (!inner) throw new ModuleError(`module '${def.id}': input '${port}' goes to no node '${t.node}'`);
    if (!isInstance(inner)) return [t];
    const sub = defOf(modules, inner, [...stack, def.id]);
    return resolveInput(modules, sub, t.port, [...stack, def.id]).map((r) => ({
      node: `${t.node}${PATH_SEP}${r.node}`,
      port: r.port,
    }));
  });
}

/** The flat inner output a definition's output stands for (relative to the instance). */
function resolveOutput(modules: Modules, def: ModuleDef, port: string, stack: readonly string[]): PortTarget {
  const output = def.outputs.find((p) => p.name === port);
  if (!output) throw new ModuleError(`module '${def.id}' has no output '${port}'`);
  const inner = def.nodes[output.node];
  if (!inner)
    throw new ModuleError(`module '${def.id}': output '${port}' comes from no node '${output.node}'`);
  if (!isInstance(inner)) return { node: output.node, port: output.port };
  const sub = defOf(modules, inner, [...stack, def.id]);
  const r = resolveOutput(modules, sub, output.port, [...stack, def.id]);
  return { node: `${output.node}${PATH_SEP}${r.node}`, port: r.port };
}

function flatten(
  modules: Modules,
  nodes: Record<string, GraphNode>,
  edges: Record<string, GraphEdge>,
  stack: readonly string[],
  labelPrefix: string,
): Flat {
  const out: Flat = { nodes: {}, edges: {} };
  const defs = new Map<string, ModuleDef>();
  for (const node of Object.values(nodes)) {
    if (!isInstance(node)) {
      out.nodes[node.id] = labelPrefix && node.name ? { ...node, name: labelPrefix + node.name } : node;
      continue;
    }
    const def = defOf(modules, node, stack);
    defs.set(node.id, def);
    const overrides = overridesOf(node);
    const innerNodes: Record<string, GraphNode> = {};
    for (const n of Object.values(def.nodes)) {
      const o = overrides.get(n.id);
      innerNodes[n.id] = o ? { ...n, params: { ...n.params, ...o } } : n;
    }
    const label = `${labelPrefix}${nodeLabel(node)}${PATH_SEP}`;
    const sub = flatten(modules, innerNodes, def.edges, [...stack, def.id], label);
    const prefix = `${node.id}${PATH_SEP}`;
    for (const n of Object.values(sub.nodes)) {
      const id = prefix + n.id;
      // Named after the instance's path, so messages and exported names say where the node sits.
      out.nodes[id] = { ...n, id, name: n.name ?? label + n.id };
    }
    for (const e of Object.values(sub.edges)) {
      const id = prefix + e.id;
      out.edges[id] = { ...e, id, source: prefix + e.source, target: prefix + e.target };
    }
  }
  for (const e of Object.values(edges)) {
    const sdef = defs.get(e.source);
    const tdef = defs.get(e.target);
    const from = sdef
      ? (() => {
          const r = resolveOutput(modules, sdef, e.sourcePort, stack);
          return { node: `${e.source}${PATH_SEP}${r.node}`, port: r.port };
        })()
      : { node: e.source, port: e.sourcePort };
    const to = tdef
      ? resolveInput(modules, tdef, e.targetPort, stack).map((r) => ({
          node: `${e.target}${PATH_SEP}${r.node}`,
          port: r.port,
        }))
      : [{ node: e.target, port: e.targetPort }];
    to.forEach((t, i) => {
      const id = to.length === 1 ? e.id : `${e.id}${PATH_SEP}${i + 1}`;
      out.edges[id] = { id, source: from.node, sourcePort: from.port, target: t.node, targetPort: t.port };
    });
  }
  return out;
}

/** The top-level node a flat id belongs to: `block1/fc` → `block1` (where the canvas shows its issues). */
export function topLevelId(flatId: string): string {
  const i = flatId.indexOf(PATH_SEP);
  return i < 0 ? flatId : flatId.slice(0, i);
}

// --- checking -------------------------------------------------------------------------------------------------

/**
 * Every problem with a document's modules, each with the JSON path of the graph file it would be saved as (the
 * order of `modules`, `nodes` and `edges` there is the order of the records here): an instance naming no
 * definition, a definition that contains itself, ports with the same name or wired to nothing, overrides of
 * inner nodes or params that do not exist, wires to ports an instance does not have.
 */
export function checkModules(doc: GraphDoc, registry: Registry): ModuleProblem[] {
  const problems: ModuleProblem[] = [];
  const modules = doc.modules ?? {};
  const defs = Object.values(modules);
  defs.forEach((def, i) => {
    const at = `modules[${i}]`;
    if (def.id !== Object.keys(modules)[i])
      problems.push({ path: `${at}.id`, message: `the module is filed under '${Object.keys(modules)[i]}'` });
    checkGraph(def.nodes, def.edges, modules, registry, `${at}.`, problems);
    checkPorts(def, registry, modules, at, problems);
    if (def.sequential) checkChain(def, at, problems);
    const cycle = recursion(modules, def.id, []);
    if (cycle)
      problems.push({
        path: `${at}.nodes`,
        message: `module '${def.id}' contains itself (${cycle.join(" → ")}): a module cannot be recursive`,
      });
  });
  checkGraph(doc.nodes, doc.edges, modules, registry, "", problems);
  return problems;
}

/** The inner nodes of a Sequential definition in chain order, or the first problem that breaks the chain. */
export function sequentialChain(def: ModuleDef): { chain: string[] } | { path: string; message: string } {
  const ids = Object.keys(def.nodes);
  const nodeAt = (id: string) => `nodes[${Math.max(0, ids.indexOf(id))}]`;
  const name = `Sequential '${def.id}'`;
  if (def.inputs.length !== 1 || def.inputs[0].targets.length !== 1)
    return { path: "inputs", message: `${name} must have one input, feeding one node` };
  if (def.outputs.length !== 1) return { path: "outputs", message: `${name} must have one output` };
  const edges = Object.values(def.edges);
  const chain: string[] = [];
  let cur: string | undefined = def.inputs[0].targets[0].node;
  while (cur !== undefined) {
    if (chain.includes(cur)) return { path: nodeAt(cur), message: `${name} loops back to node '${cur}'` };
    const into = edges.filter((e) => e.target === cur);
    const expected = chain.length === 0 ? 0 : 1;
    if (into.length !== expected)
      return {
        path: nodeAt(cur),
        message: `node '${cur}' in ${name} takes ${into.length} inputs inside; a layer of a Sequential takes only the previous layer's output`,
      };
    chain.push(cur);
    const out = edges.filter((e) => e.source === cur);
    if (cur === def.outputs[0].node) {
      if (out.length > 0)
        return {
          path: nodeAt(cur),
          message: `node '${cur}' in ${name} is its output but feeds other nodes too`,
        };
      cur = undefined;
    } else if (out.length !== 1)
      return {
        path: nodeAt(cur),
        message: `node '${cur}' in ${name} feeds ${out.length} nodes; a layer of a Sequential feeds only the next`,
      };
    else cur = out[0].target;
  }
  const off = ids.find((id) => !chain.includes(id));
  if (off !== undefined)
    return { path: nodeAt(off), message: `node '${off}' is not on the chain of layers of ${name}` };
  return { chain };
}

function checkChain(def: ModuleDef, at: string, problems: ModuleProblem[]): void {
  const r = sequentialChain(def);
  if ("path" in r) problems.push({ path: `${at}.${r.path}`, message: r.message });
}

/** The chain of definitions leading from `id` back to one already on the way, if there is one. */
function recursion(modules: Modules, id: string, stack: readonly string[]): string[] | undefined {
  if (stack.includes(id)) return [...stack, id];
  const def = Object.hasOwn(modules, id) ? modules[id] : undefined;
  if (!def || stack.length > 64) return undefined;
  for (const n of Object.values(def.nodes)) {
    const sub = isInstance(n) ? instanceModule(n) : undefined;
    if (sub === undefined) continue;
    const found = recursion(modules, sub, [...stack, id]);
    // Only a chain back to the definition being checked is reported here; others are reported at theirs.
    if (found && found[found.length - 1] === (stack[0] ?? id)) return found;
  }
  return undefined;
}

function checkPorts(
  def: ModuleDef,
  registry: Registry,
  modules: Modules,
  at: string,
  problems: ModuleProblem[],
): void {
  for (const [list, what] of [
    [def.inputs, "inputs"],
    [def.outputs, "outputs"],
  ] as const) {
    const seen = new Map<string, number>();
    list.forEach((p, j) => {
      const first = seen.get(p.name);
      if (first !== undefined)
        problems.push({
          path: `${at}.${what}[${j}].name`,
          message: `duplicate port name '${p.name}' (also ${what}[${first}])`,
        });
      else seen.set(p.name, j);
    });
  }
  def.inputs.forEach((p, j) => {
    if (p.targets.length === 0)
      problems.push({
        path: `${at}.inputs[${j}].targets`,
        message: `input '${p.name}' of module '${def.id}' is wired to nothing inside`,
      });
    p.targets.forEach((t, k) => {
      const where = `${at}.inputs[${j}].targets[${k}]`;
      const node = nodeById({ nodes: def.nodes } as GraphDoc, t.node);
      if (!node) {
        problems.push({ path: `${where}.node`, message: `input '${p.name}' goes to no node '${t.node}'` });
        return;
      }
      const ports = portsOf(node, registry, modules);
      if (ports && !ports.inputs.includes(t.port))
        problems.push({
          path: `${where}.port`,
          message: `input '${p.name}' goes to '${t.node}', which has no input '${t.port}' (inputs: ${ports.inputs.join(", ") || "none"})`,
        });
      if (Object.values(def.edges).some((e) => e.target === t.node && e.targetPort === t.port))
        problems.push({
          path: `${where}.port`,
          message: `input '${p.name}' goes to '${t.node}.${t.port}', which an edge inside already feeds`,
        });
    });
  });
  def.outputs.forEach((p, j) => {
    const where = `${at}.outputs[${j}]`;
    const node = nodeById({ nodes: def.nodes } as GraphDoc, p.node);
    if (!node) {
      problems.push({ path: `${where}.node`, message: `output '${p.name}' comes from no node '${p.node}'` });
      return;
    }
    const ports = portsOf(node, registry, modules);
    if (ports && !ports.outputs.includes(p.port))
      problems.push({
        path: `${where}.port`,
        message: `output '${p.name}' comes from '${p.node}', which has no output '${p.port}' (outputs: ${ports.outputs.join(", ") || "none"})`,
      });
  });
}

/** Instances and the wires to them in one graph (the top level or a definition's inside). */
function checkGraph(
  nodes: Record<string, GraphNode>,
  edges: Record<string, GraphEdge>,
  modules: Modules,
  registry: Registry,
  prefix: string,
  problems: ModuleProblem[],
): void {
  Object.values(nodes).forEach((node, i) => {
    if (!isInstance(node)) return;
    const at = `${prefix}nodes[${i}].params`;
    const nodeId = prefix === "" ? node.id : undefined;
    const id = instanceModule(node);
    const def = id !== undefined && Object.hasOwn(modules, id) ? modules[id] : undefined;
    if (!def) {
      const known = Object.keys(modules);
      problems.push({
        path: `${at}.module`,
        message:
          id === undefined
            ? "a module instance needs the name of its module definition"
            : `no module definition '${id}' (definitions: ${known.join(", ") || "none"})`,
        nodeId,
      });
      return;
    }
    for (const [inner, values] of overridesOf(node)) {
      const target = Object.hasOwn(def.nodes, inner) ? def.nodes[inner] : undefined;
      const kind = target && !isInstance(target) ? registry.get(target.type) : undefined;
      for (const name of Object.keys(values)) {
        const key = `${inner}.${name}`;
        if (!target)
          problems.push({
            path: `${at}.${key}`,
            message: `module '${def.id}' has no node '${inner}'`,
            nodeId,
          });
        else if (kind && !kind.params.some((p) => p.name === name))
          problems.push({
            path: `${at}.${key}`,
            message: `node '${inner}' (${target.type}) of module '${def.id}' has no param '${name}'`,
            nodeId,
          });
        else if (kind) {
          const r = paramsSchema(kind).safeParse({ [name]: values[name] });
          if (!r.success) problems.push({ path: `${at}.${key}`, message: r.error.issues[0].message, nodeId });
        }
      }
    }
    for (const key of Object.keys(node.params))
      if (key !== "module" && key.indexOf(".") <= 0)
        problems.push({
          path: `${at}.${key}`,
          message: `a module instance's params are 'module' and '<inner node>.<param>' overrides, not '${key}'`,
          nodeId,
        });
  });
  Object.values(edges).forEach((e, i) => {
    for (const [end, portKey, out] of [
      ["source", "sourcePort", true],
      ["target", "targetPort", false],
    ] as const) {
      const node = Object.hasOwn(nodes, e[end]) ? nodes[e[end]] : undefined;
      if (!node || !isInstance(node)) continue;
      const ports = portsOf(node, registry, modules);
      if (ports && !(out ? ports.outputs : ports.inputs).includes(e[portKey]))
        problems.push({
          path: `${prefix}edges[${i}].${portKey}`,
          message: `module instance '${node.id}' has no ${out ? "output" : "input"} '${e[portKey]}' (${out ? "outputs" : "inputs"}: ${(out ? ports.outputs : ports.inputs).join(", ") || "none"})`,
          nodeId: prefix === "" ? node.id : undefined,
        });
    }
  });
}

// --- grouping -------------------------------------------------------------------------------------------------

/** A name not yet in `taken` (and then taken): `base`, `base_2`, `base_3`... */
function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
  taken.add(name);
  return name;
}

export interface GroupPlan {
  def: ModuleDef;
  instance: GraphNode;
  /** The top-level edges that replace the wires crossing the selection. */
  edges: GraphEdge[];
  /** The top-level edges (inside and crossing) that go away. */
  removedEdges: string[];
}

/**
 * What grouping `ids` as a module means: the selected nodes and the edges among them become definition `defId`;
 * each value entering the selection becomes an input port (named after the inner port it feeds), each value
 * leaving it an output port (named after its node); one instance `instanceId` takes the selection's place.
 */
export function planGroup(
  doc: GraphDoc,
  ids: readonly string[],
  defId: string,
  instanceId: string,
): GroupPlan {
  const sel = new Set(ids.filter((id) => Object.hasOwn(doc.nodes, id)));
  if (sel.size === 0) throw new ModuleError("select the nodes to group first");
  // The instance sits where the selection's middle was (on the 20 px grid), beside what it is wired to; the
  // inner nodes keep their places relative to it, so ungrouping puts them back where they were.
  const mid = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length / 20) * 20;
  const at = {
    x: mid([...sel].map((id) => doc.nodes[id].position.x)),
    y: mid([...sel].map((id) => doc.nodes[id].position.y)),
  };
  const nodes: Record<string, GraphNode> = {};
  for (const id of sel) {
    const n = doc.nodes[id];
    nodes[id] = structuredClone({ ...n, position: { x: n.position.x - at.x, y: n.position.y - at.y } });
  }
  const inner: Record<string, GraphEdge> = {};
  const inputs = new Map<string, ModuleInput>();
  const outputs = new Map<string, ModuleOutput>();
  const inNames = new Set<string>();
  const outNames = new Set<string>();
  const edges: GraphEdge[] = [];
  const removed: string[] = [];
  const multiOut = new Set(
    Object.values(doc.edges)
      .filter((e) => sel.has(e.source) && !sel.has(e.target))
      .map((e) => `${e.source}.${e.sourcePort}`),
  );
  for (const e of Object.values(doc.edges)) {
    const s = sel.has(e.source);
    const t = sel.has(e.target);
    if (s && t) inner[e.id] = { ...e };
    if (s || t) removed.push(e.id);
    if (t && !s) {
      const key = `${e.source}.${e.sourcePort}`;
      let input = inputs.get(key);
      if (!input) {
        input = { name: uniqueName(e.targetPort, inNames), targets: [] };
        inputs.set(key, input);
        edges.push({ ...e, target: instanceId, targetPort: input.name });
      }
      input.targets.push({ node: e.target, port: e.targetPort });
    }
    if (s && !t) {
      const key = `${e.source}.${e.sourcePort}`;
      let output = outputs.get(key);
      if (!output) {
        const src = doc.nodes[e.source];
        const base = multiOut.size === 1 ? "out" : e.sourcePort === "out" ? nodeLabel(src) : e.sourcePort;
        output = {
          name: uniqueName(base.replace(/[^A-Za-z0-9_]/g, "_"), outNames),
          node: e.source,
          port: e.sourcePort,
        };
        outputs.set(key, output);
      }
      edges.push({ ...e, source: instanceId, sourcePort: output.name });
    }
  }
  const def: ModuleDef = {
    id: defId,
    inputs: [...inputs.values()],
    outputs: [...outputs.values()],
    nodes,
    edges: inner,
  };
  const instance: GraphNode = {
    id: instanceId,
    type: MODULE_TYPE,
    position: at,
    params: { module: defId },
  };
  return { def, instance, edges, removedEdges: removed };
}

export interface UngroupPlan {
  /** Inner node id → the id it has on the top level. */
  ids: Record<string, string>;
  nodes: GraphNode[];
  edges: GraphEdge[];
  removedEdges: string[];
}

/**
 * What ungrouping instance `id` means: its definition's nodes (with the instance's overrides applied) and edges
 * back on the top level, at the instance's place, under ids not yet taken; the wires to its ports joined to the
 * inner ports they stand for. `taken` tells which ids are in use (nodes and edges alike).
 */
export function planUngroup(doc: GraphDoc, id: string, taken: (id: string) => boolean): UngroupPlan {
  const inst = nodeById(doc, id);
  if (!inst || !isInstance(inst)) throw new ModuleError(`'${id}' is not a module instance`);
  const def = moduleById(doc, instanceModule(inst) ?? "");
  if (!def) throw new ModuleError(`module instance '${nodeLabel(inst)}' names no module definition`);
  const used = new Set<string>();
  // The wires at the instance go, so their ids are free again (a group then ungroup gives back the same ids).
  const freed = new Set(
    Object.values(doc.edges)
      .filter((e) => e.source === id || e.target === id)
      .map((e) => e.id),
  );
  const fresh = (base: string) => {
    let name = base;
    for (let n = 2; (taken(name) && !freed.has(name)) || used.has(name); n++) name = `${base}_${n}`;
    used.add(name);
    return name;
  };
  const map = new Map<string, string>();
  const overrides = overridesOf(inst);
  const nodes: GraphNode[] = Object.values(def.nodes).map((n) => {
    const nid = fresh(n.id);
    map.set(n.id, nid);
    const o = overrides.get(n.id);
    return structuredClone({
      ...n,
      id: nid,
      position: { x: n.position.x + inst.position.x, y: n.position.y + inst.position.y } as Position,
      params: o ? { ...n.params, ...o } : n.params,
    });
  });
  const edges: GraphEdge[] = Object.values(def.edges).map((e) => ({
    ...e,
    id: fresh(e.id),
    source: map.get(e.source)!,
    target: map.get(e.target)!,
  }));
  const removedEdges: string[] = [];
  for (const e of Object.values(doc.edges)) {
    if (e.target === id) {
      removedEdges.push(e.id);
      const input = def.inputs.find((p) => p.name === e.targetPort);
      for (const t of input?.targets ?? [])
        edges.push({ ...e, id: fresh(e.id), target: map.get(t.node)!, targetPort: t.port });
    } else if (e.source === id) {
      removedEdges.push(e.id);
      const output = def.outputs.find((p) => p.name === e.sourcePort);
      if (output)
        edges.push({ ...e, id: fresh(e.id), source: map.get(output.node)!, sourcePort: output.port });
    }
  }
  return { ids: Object.fromEntries(map), nodes, edges, removedEdges };
}

/** Where a top-level instance's ports lead in the flat graph (`block1/fc`): for the exporter's module calls. */
export function instancePorts(
  doc: GraphDoc,
  id: string,
  /** The instance node, when `id` is a path to one nested in a module (`outer/block1`). */
  node: GraphNode = doc.nodes[id],
): { inputs: { name: string; targets: PortTarget[] }[]; outputs: ModuleOutput[] } {
  const modules = doc.modules ?? {};
  const def = defOf(modules, node, []);
  const flat = (t: PortTarget) => ({ node: `${id}${PATH_SEP}${t.node}`, port: t.port });
  return {
    inputs: def.inputs.map((p) => ({
      name: p.name,
      targets: resolveInput(modules, def, p.name, []).map(flat),
    })),
    outputs: def.outputs.map((p) => ({ name: p.name, ...flat(resolveOutput(modules, def, p.name, [])) })),
  };
}
