/**
 * The editable graph document. Every edit goes through immer and records patches; one user gesture (a drop, a
 * param change, a whole drag) is one undoable step; the history is capped. Only the plain-JSON graph lives
 * here: tensors, gradients and training state belong to the scheduler.
 */
import { applyPatches, type Draft, enablePatches, type Patch, produceWithPatches } from "immer";
import type { ParamValue } from "../nodes/types.ts";
import { MAX_DEPTH, tooDeep } from "./depth.ts";
import {
  instanceModule,
  isInstance,
  MODULE_TYPE,
  type ModuleDef,
  ModuleError,
  moduleById,
  PATH_SEP,
  planGroup,
  planUngroup,
  sequentialChain,
} from "./modules.ts";
import {
  emptyGraph,
  type GraphDoc,
  type GraphEdge,
  type GraphNode,
  isReservedId,
  type Position,
  RESERVED_ID_MESSAGE,
  type RunSettings,
} from "./types.ts";

enablePatches();

export interface HistoryEntry {
  label: string;
  patches: Patch[];
  inverse: Patch[];
}

export type ChangeKind = "edit" | "undo" | "redo";

export interface DocChange {
  kind: ChangeKind;
  label: string;
  /** Patches that turn the previous state into the new one (send these to a worker). */
  patches: Patch[];
}

export type DocListener = (doc: GraphDoc, change: DocChange) => void;

export interface NewNode {
  type: string;
  position?: Position;
  params?: Record<string, ParamValue>;
  name?: string;
  /** Chosen automatically (`<type>_<n>`) when absent. */
  id?: string;
}

export interface NewEdge {
  source: string;
  sourcePort?: string;
  target: string;
  targetPort: string;
  id?: string;
}

function checkDepth(params: Record<string, ParamValue | undefined>): void {
  const path = tooDeep(params);
  if (path) throw new Error(`param '${String(path[0])}' is nested more than ${MAX_DEPTH} levels deep`);
}

/** The nodes and edges of one graph: the top level, or the inside of a module definition. */
type Graph = Pick<GraphDoc, "nodes" | "edges">;

/** A fresh id `<prefix>_<n>` not used by any node or edge. */
export function freshId(doc: Graph, prefix: string): string {
  const base = prefix.replace(/[^A-Za-z0-9_]/g, "_").replace(/^(?=[0-9-])/, "n");
  for (let n = 1; ; n++) {
    const id = `${base}_${n}`;
    if (!Object.hasOwn(doc.nodes, id) && !Object.hasOwn(doc.edges, id)) return id;
  }
}

export class GraphDocument {
  private doc: GraphDoc;
  private undoStack: HistoryEntry[] = [];
  private redoStack: HistoryEntry[] = [];
  private gesture: HistoryEntry | null = null;
  private depth = 0;
  private readonly listeners = new Set<DocListener>();
  /**
   * The module definition being edited (opened on the canvas), or undefined for the top level. Node and edge
   * edits apply to that graph; the scope is a view, not part of the document or its history.
   */
  private scopeId: string | undefined;

  constructor(
    initial: GraphDoc = emptyGraph(),
    readonly historyLimit = 200,
  ) {
    this.doc = initial;
  }

  get state(): GraphDoc {
    return this.doc;
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0 || (this.gesture?.patches.length ?? 0) > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** Labels of the undoable steps, oldest first (for a history menu). */
  get history(): string[] {
    return this.undoStack.map((e) => e.label);
  }

  get scope(): string | undefined {
    return this.scopeId;
  }

  /** Edit inside module `id` (or the top level with undefined). */
  setScope(id: string | undefined): void {
    if (id !== undefined && !moduleById(this.doc, id)) throw new ModuleError(`no module '${id}'`);
    this.scopeId = id;
  }

  /** The graph edits apply to (see `scope`); the top level when the scoped module is gone (undone). */
  get view(): Graph {
    return (this.scopeId !== undefined && moduleById(this.doc, this.scopeId)) || this.doc;
  }

  private target(d: Draft<GraphDoc>): Draft<Graph> {
    return (this.scopeId !== undefined && d.modules?.[this.scopeId]) || d;
  }

  subscribe(listener: DocListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: DocChange): void {
    for (const l of this.listeners) l(this.doc, change);
  }

  /**
   * Apply one edit. Outside a gesture it is one undoable step; inside `gesture()` or between
   * `beginGesture()`/`endGesture()` it joins the open step. Returns the patches (empty when nothing changed).
   */
  change(label: string, recipe: (draft: Draft<GraphDoc>) => void): Patch[] {
    const [next, patches, inverse] = produceWithPatches(this.doc, recipe);
    if (patches.length === 0) return patches;
    this.doc = next;
    this.redoStack = [];
    if (this.gesture) {
      this.gesture.patches.push(...patches);
      this.gesture.inverse.unshift(...inverse);
    } else this.push({ label, patches, inverse });
    this.emit({ kind: "edit", label, patches });
    return patches;
  }

  private push(entry: HistoryEntry): void {
    this.undoStack.push(entry);
    if (this.undoStack.length > this.historyLimit)
      this.undoStack.splice(0, this.undoStack.length - this.historyLimit);
  }

  /** Open a step that several edits join (a drag: every move, one undo). Nested calls share the outer step. */
  beginGesture(label: string): void {
    if (this.depth++ === 0) this.gesture = { label, patches: [], inverse: [] };
  }

  endGesture(): void {
    if (this.depth === 0) return;
    if (--this.depth > 0) return;
    const g = this.gesture;
    this.gesture = null;
    if (g && g.patches.length > 0) this.push(g);
  }

  /** Run several edits as one undoable step. */
  gestureOf<T>(label: string, fn: () => T): T {
    this.beginGesture(label);
    try {
      return fn();
    } finally {
      this.endGesture();
    }
  }

  undo(): boolean {
    this.closeGesture();
    const entry = this.undoStack.pop();
    if (!entry) return false;
    this.travel(entry, entry.inverse, "undo");
    this.redoStack.push(entry);
    return true;
  }

  redo(): boolean {
    this.closeGesture();
    const entry = this.redoStack.pop();
    if (!entry) return false;
    this.travel(entry, entry.patches, "redo");
    this.undoStack.push(entry);
    return true;
  }

  private closeGesture(): void {
    if (this.depth > 0) {
      this.depth = 1;
      this.endGesture();
    }
  }

  private travel(entry: HistoryEntry, patches: Patch[], kind: ChangeKind): void {
    // produceWithPatches (not applyPatches) so listeners get the exact forward patches of this move.
    const [next, forward] = produceWithPatches(this.doc, (d) => {
      applyPatches(d, patches);
    });
    this.doc = next;
    this.emit({ kind, label: entry.label, patches: forward });
  }

  // --- gestures the editor uses -------------------------------------------------------------------------

  /** Replace the whole graph (open a file, load an example) as one undoable step. */
  replace(doc: GraphDoc, label = "Open graph"): void {
    this.change(label, (d) => {
      for (const k of Object.keys(d) as (keyof GraphDoc)[]) if (!(k in doc)) delete d[k];
      Object.assign(d, structuredClone(doc));
    });
  }

  addNode(n: NewNode): string {
    const id =
      n.id ?? freshId(this.view, n.type === MODULE_TYPE ? String(n.params?.module ?? n.type) : n.type);
    if (isReservedId(id)) throw new Error(`node id '${id}' ${RESERVED_ID_MESSAGE}`);
    if (Object.hasOwn(this.view.nodes, id)) throw new Error(`a node with id '${id}' already exists`);
    if (n.type === MODULE_TYPE) this.checkInstance(String(n.params?.module));
    checkDepth(n.params ?? {});
    const node: GraphNode = {
      id,
      type: n.type,
      ...(n.name !== undefined ? { name: n.name } : {}),
      position: n.position ?? { x: 0, y: 0 },
      params: structuredClone(n.params ?? {}),
    };
    this.change(`Add ${n.type === MODULE_TYPE ? n.params?.module : n.type}`, (d) => {
      this.target(d).nodes[id] = node;
    });
    return id;
  }

  /** An instance of `module` may go in the graph being edited: the module exists and does not contain it. */
  private checkInstance(module: string): void {
    if (!moduleById(this.doc, module)) throw new ModuleError(`no module '${module}'`);
    if (this.scopeId !== undefined && this.uses(module, this.scopeId))
      throw new ModuleError(
        `module '${module}' cannot go inside '${this.scopeId}': a module cannot contain itself`,
      );
  }

  /** Whether module `outer` is `inner` or holds an instance of it, however deep. */
  private uses(outer: string, inner: string, seen = new Set<string>()): boolean {
    if (outer === inner) return true;
    if (seen.has(outer)) return false;
    seen.add(outer);
    const def = moduleById(this.doc, outer);
    return Object.values(def?.nodes ?? {}).some(
      (n) => isInstance(n) && this.uses(instanceModule(n) ?? "", inner, seen),
    );
  }

  /** Remove nodes with the edges attached to them (and the objective if it pointed at one). */
  removeNodes(ids: readonly string[]): void {
    const gone = new Set(ids);
    this.change(
      ids.length === 1 ? `Delete ${this.view.nodes[ids[0]]?.type ?? "node"}` : `Delete ${ids.length} nodes`,
      (d) => {
        const g = this.target(d);
        for (const id of gone) delete g.nodes[id];
        for (const [eid, e] of Object.entries(g.edges))
          if (gone.has(e.source) || gone.has(e.target)) delete g.edges[eid];
        if (this.scopeId === undefined) {
          if (d.objective !== undefined && gone.has(d.objective)) delete d.objective;
        } else pruneModule(d, this.scopeId, gone);
      },
    );
  }

  moveNodes(positions: Record<string, Position>): void {
    this.change("Move", (d) => {
      for (const [id, p] of Object.entries(positions)) {
        const n = this.target(d).nodes[id];
        if (n) n.position = { x: p.x, y: p.y };
      }
    });
  }

  /** Set a param; `undefined` removes it so the kind's default applies. */
  setParam(id: string, name: string, value: ParamValue | undefined): void {
    this.setParams(id, { [name]: value });
  }

  setParams(id: string, values: Record<string, ParamValue | undefined>): void {
    const node = this.view.nodes[id];
    if (!node) throw new Error(`no node '${id}'`);
    checkDepth(values);
    this.change(`Change ${Object.keys(values).join(", ")} of ${node.name ?? id}`, (d) => {
      const p = this.target(d).nodes[id].params;
      for (const [k, v] of Object.entries(values)) {
        if (v === undefined) delete p[k];
        else p[k] = structuredClone(v);
      }
    });
  }

  renameNode(id: string, name: string | undefined): void {
    this.change(`Rename ${id}`, (d) => {
      const n = this.target(d).nodes[id];
      if (!n) return;
      if (name === undefined || name === "") delete n.name;
      else n.name = name;
    });
  }

  /** Connect an output to an input; an edge already into that input is replaced (in the same step). */
  connect(e: NewEdge): string {
    const id = e.id ?? freshId(this.view, "e");
    if (isReservedId(id)) throw new Error(`edge id '${id}' ${RESERVED_ID_MESSAGE}`);
    const edge: GraphEdge = {
      id,
      source: e.source,
      sourcePort: e.sourcePort ?? "out",
      target: e.target,
      targetPort: e.targetPort,
    };
    this.change(`Connect ${e.source} → ${e.target}.${e.targetPort}`, (d) => {
      const g = this.target(d);
      for (const [eid, old] of Object.entries(g.edges))
        if (old.target === e.target && old.targetPort === e.targetPort) delete g.edges[eid];
      g.edges[id] = edge;
      // Inside a module, a wire into an inner input replaces the module input that fed it.
      if (this.scopeId !== undefined) {
        const m = d.modules?.[this.scopeId];
        for (const p of m?.inputs ?? [])
          p.targets = p.targets.filter((t) => !(t.node === e.target && t.port === e.targetPort));
        pruneModule(d, this.scopeId, new Set());
      }
    });
    return id;
  }

  disconnect(edgeIds: readonly string[]): void {
    this.change(edgeIds.length === 1 ? "Disconnect" : `Disconnect ${edgeIds.length} edges`, (d) => {
      const g = this.target(d);
      for (const id of edgeIds) delete g.edges[id];
    });
  }

  setSettings(settings: Partial<RunSettings>): void {
    this.change("Change run settings", (d) => {
      Object.assign(d.settings, settings);
    });
  }

  setObjective(id: string | undefined): void {
    this.change("Change objective", (d) => {
      if (id === undefined) delete d.objective;
      else d.objective = id;
    });
  }

  setMeta(meta: { title?: string; description?: string }): void {
    this.change("Change title", (d) => {
      for (const k of ["title", "description"] as const) {
        if (!(k in meta)) continue;
        const v = meta[k];
        if (v === undefined || v === "") delete d[k];
        else d[k] = v;
      }
    });
  }

  /** Paste or duplicate: copies nodes (fresh ids, offset) and the edges among them, one step. Returns new ids. */
  duplicate(ids: readonly string[], offset: Position = { x: 40, y: 40 }): string[] {
    const map = new Map<string, string>();
    let scratch = this.view;
    const nodes: GraphNode[] = [];
    for (const id of ids) {
      const n = this.view.nodes[id];
      if (!n) continue;
      const nid = freshId(scratch, n.type);
      map.set(id, nid);
      const copy: GraphNode = {
        ...structuredClone(n),
        id: nid,
        position: { x: n.position.x + offset.x, y: n.position.y + offset.y },
      };
      nodes.push(copy);
      scratch = { ...scratch, nodes: { ...scratch.nodes, [nid]: copy } };
    }
    const edges: GraphEdge[] = [];
    for (const e of Object.values(this.view.edges)) {
      const s = map.get(e.source);
      const t = map.get(e.target);
      if (!s || !t) continue;
      const eid = freshId(scratch, "e");
      const copy = { ...e, id: eid, source: s, target: t };
      edges.push(copy);
      scratch = { ...scratch, edges: { ...scratch.edges, [eid]: copy } };
    }
    this.change(`Duplicate ${nodes.length} node${nodes.length === 1 ? "" : "s"}`, (d) => {
      const g = this.target(d);
      for (const n of nodes) g.nodes[n.id] = n;
      for (const e of edges) g.edges[e.id] = e;
    });
    return nodes.map((n) => n.id);
  }

  // --- modules --------------------------------------------------------------------------------------------

  /**
   * Group nodes as a new module (one undoable step): the nodes and the edges among them become the definition,
   * the wires crossing the selection its ports, and one instance takes their place. Returns both ids.
   */
  groupAsModule(
    ids: readonly string[],
    opts: { module?: string; instance?: string; sequential?: boolean } = {},
  ): {
    module: string;
    instance: string;
  } {
    const module = opts.module ?? freshModuleId(this.doc);
    if (isReservedId(module) || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(module))
      throw new ModuleError(
        `'${module}' cannot name a module: use letters, digits and _, starting with a letter`,
      );
    if (moduleById(this.doc, module)) throw new ModuleError(`a module '${module}' already exists`);
    const instance = opts.instance ?? freshId(this.view, module);
    // Inside an open module, its own ports are wires crossing the selection too: stand-in edges from `@in/<port>`
    // and to `@out/<port>` become the new module's ports, and the open module's ports then lead to the instance.
    const scope = this.scopeId !== undefined ? moduleById(this.doc, this.scopeId) : undefined;
    const chosen = new Set(ids);
    const standIns: Record<string, GraphEdge> = {};
    for (const p of scope?.inputs ?? [])
      p.targets.forEach((t, k) => {
        const id = `${IN}${p.name}${PATH_SEP}${k}`;
        if (chosen.has(t.node))
          standIns[id] = {
            id,
            source: `${IN}${p.name}`,
            sourcePort: "out",
            target: t.node,
            targetPort: t.port,
          };
      });
    for (const o of scope?.outputs ?? []) {
      const id = `${OUT_PORT}${o.name}`;
      if (chosen.has(o.node))
        standIns[id] = { id, source: o.node, sourcePort: o.port, target: id, targetPort: "in" };
    }
    const view = this.view;
    const plan = planGroup(
      { ...this.doc, nodes: view.nodes, edges: { ...view.edges, ...standIns } },
      ids,
      module,
      instance,
    );
    if (opts.sequential) {
      // "Group as Sequential": refused, document unchanged, unless the selection is one chain of layers.
      plan.def.sequential = true;
      const chain = sequentialChain(plan.def);
      if ("path" in chain) throw new ModuleError(chain.message);
    }
    this.change(
      `Group ${plan.def.nodes ? Object.keys(plan.def.nodes).length : 0} nodes as ${opts.sequential ? "Sequential " : ""}${module}`,
      (d) => {
        const g = this.target(d);
        for (const id of Object.keys(plan.def.nodes)) delete g.nodes[id];
        for (const id of plan.removedEdges) delete g.edges[id];
        g.nodes[instance] = plan.instance;
        const open = this.scopeId !== undefined ? d.modules?.[this.scopeId] : undefined;
        for (const e of plan.edges) {
          if (open && e.source.startsWith(IN)) {
            const port = open.inputs.find((p) => p.name === e.source.slice(IN.length))!;
            port.targets = [
              ...port.targets.filter((t) => !chosen.has(t.node)),
              { node: instance, port: e.targetPort },
            ];
          } else if (open && e.target.startsWith(OUT_PORT)) {
            const port = open.outputs.find((p) => p.name === e.target.slice(OUT_PORT.length))!;
            port.node = instance;
            port.port = e.sourcePort;
          } else g.edges[e.id] = e;
        }
        d.modules ??= {};
        d.modules[module] = plan.def;
        // The objective inside the group is now inside the instance.
        if (this.scopeId === undefined && d.objective !== undefined && plan.def.nodes[d.objective])
          d.objective = `${instance}/${d.objective}`;
      },
    );
    return { module, instance };
  }

  /** Put an instance's nodes back in its place (one step); its module goes when no other instance uses it. */
  ungroup(id: string): string[] {
    const view = this.view;
    const plan = planUngroup(
      { ...this.doc, ...view },
      id,
      (x) => Object.hasOwn(view.nodes, x) || Object.hasOwn(view.edges, x),
    );
    const module = instanceModule(view.nodes[id])!;
    this.change(`Ungroup ${id}`, (d) => {
      const g = this.target(d);
      delete g.nodes[id];
      for (const e of plan.removedEdges) delete g.edges[e];
      for (const n of plan.nodes) g.nodes[n.id] = n;
      for (const e of plan.edges) g.edges[e.id] = e;
      // Inside an open module, its ports that led to the instance now lead to the nodes it stood for.
      const open = this.scopeId !== undefined ? d.modules?.[this.scopeId] : undefined;
      const def = d.modules?.[module];
      if (open && def) {
        for (const p of open.inputs)
          p.targets = p.targets.flatMap((t) =>
            t.node !== id
              ? [t]
              : (def.inputs.find((i) => i.name === t.port)?.targets ?? []).map((x) => ({
                  node: plan.ids[x.node],
                  port: x.port,
                })),
          );
        for (const o of open.outputs) {
          const inner = o.node === id ? def.outputs.find((x) => x.name === o.port) : undefined;
          if (inner) {
            o.node = plan.ids[inner.node];
            o.port = inner.port;
          }
        }
      }
      if (this.scopeId === undefined && d.objective?.startsWith(`${id}/`)) {
        const now = plan.ids[d.objective.slice(id.length + 1)];
        if (now) d.objective = now;
        else delete d.objective;
      }
      if (d.modules && !usedAnywhere(d as GraphDoc, module)) {
        delete d.modules[module];
        if (Object.keys(d.modules).length === 0) delete d.modules;
      }
    });
    return plan.nodes.map((n) => n.id);
  }

  /** Rename a module's input or output port; the wires at every instance follow (one step). */
  renamePort(module: string, side: "inputs" | "outputs", from: string, to: string): void {
    const def = moduleById(this.doc, module);
    if (!def) throw new ModuleError(`no module '${module}'`);
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(to))
      throw new ModuleError(`'${to}' cannot name a port: use letters, digits and _, starting with a letter`);
    if (!def[side].some((p) => p.name === from))
      throw new ModuleError(`module '${module}' has no port '${from}'`);
    if (from === to) return;
    if (def[side].some((p) => p.name === to))
      throw new ModuleError(
        `module '${module}' already has an ${side === "inputs" ? "input" : "output"} '${to}'`,
      );
    this.change(`Rename port ${from} of ${module}`, (d) => {
      const m = d.modules![module];
      for (const p of m[side]) if (p.name === from) p.name = to;
      for (const g of graphsOf(d as GraphDoc) as Draft<Graph>[])
        for (const e of Object.values(g.edges)) {
          const at = side === "inputs" ? g.nodes[e.target] : g.nodes[e.source];
          if (!at || !isInstance(at) || instanceModule(at) !== module) continue;
          if (side === "inputs" && e.targetPort === from) e.targetPort = to;
          if (side === "outputs" && e.sourcePort === from) e.sourcePort = to;
        }
    });
  }

  /** Rename a module (its instances follow); the new name must be free. */
  renameModule(module: string, to: string): void {
    if (!moduleById(this.doc, module)) throw new ModuleError(`no module '${module}'`);
    if (module === to) return;
    if (isReservedId(to) || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(to))
      throw new ModuleError(
        `'${to}' cannot name a module: use letters, digits and _, starting with a letter`,
      );
    if (moduleById(this.doc, to)) throw new ModuleError(`a module '${to}' already exists`);
    // The open module stays open under its new name (set first: listeners read the scope when the edit lands).
    if (this.scopeId === module) this.scopeId = to;
    this.change(`Rename module ${module}`, (d) => {
      const m = d.modules![module];
      delete d.modules![module];
      m.id = to;
      d.modules![to] = m;
      for (const g of graphsOf(d as GraphDoc) as Draft<Graph>[])
        for (const n of Object.values(g.nodes))
          if (isInstance(n) && n.params.module === module) n.params.module = to;
    });
  }
}

/** The stand-in ends of an open module's own ports while grouping inside it (never valid ids, so never taken). */
const IN = "@in/";
const OUT_PORT = "@out/";

/** `Module`, `Module_2`...: the first module id not taken. */
export function freshModuleId(doc: GraphDoc, base = "Module"): string {
  let id = base;
  for (let n = 2; moduleById(doc, id); n++) id = `${base}_${n}`;
  return id;
}

/** The top level and every module's inside. */
function graphsOf(doc: GraphDoc): Graph[] {
  return [doc, ...Object.values(doc.modules ?? {})];
}

function usedAnywhere(doc: GraphDoc, module: string): boolean {
  return graphsOf(doc).some((g) =>
    Object.values(g.nodes).some((n) => isInstance(n) && instanceModule(n) === module),
  );
}

/**
 * After nodes inside module `id` went (or an input was rewired inside), its ports that lead nowhere go too, and
 * with them the wires at its instances: a port wired to nothing is not a valid module.
 */
function pruneModule(d: Draft<GraphDoc>, id: string, gone: ReadonlySet<string>): void {
  const m = d.modules?.[id] as Draft<ModuleDef> | undefined;
  if (!m) return;
  for (const p of m.inputs) p.targets = p.targets.filter((t) => !gone.has(t.node));
  const deadIn = new Set(m.inputs.filter((p) => p.targets.length === 0).map((p) => p.name));
  const deadOut = new Set(m.outputs.filter((p) => gone.has(p.node)).map((p) => p.name));
  if (deadIn.size === 0 && deadOut.size === 0) return;
  m.inputs = m.inputs.filter((p) => !deadIn.has(p.name));
  m.outputs = m.outputs.filter((p) => !deadOut.has(p.name));
  for (const g of graphsOf(d as GraphDoc) as Draft<Graph>[])
    for (const [eid, e] of Object.entries(g.edges)) {
      const t = g.nodes[e.target];
      const s = g.nodes[e.source];
      if (t && isInstance(t) && instanceModule(t) === id && deadIn.has(e.targetPort)) delete g.edges[eid];
      else if (s && isInstance(s) && instanceModule(s) === id && deadOut.has(e.sourcePort))
        delete g.edges[eid];
    }
}
