/**
 * The editable graph document. Every edit goes through immer and records patches; one user gesture (a drop, a
 * param change, a whole drag) is one undoable step; the history is capped. Only the plain-JSON graph lives
 * here: tensors, gradients and training state belong to the scheduler.
 */
import { applyPatches, type Draft, enablePatches, type Patch, produceWithPatches } from "immer";
import type { ParamValue } from "../nodes/types.ts";
import { MAX_DEPTH, tooDeep } from "./depth.ts";
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

/** A fresh id `<prefix>_<n>` not used by any node or edge. */
export function freshId(doc: GraphDoc, prefix: string): string {
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
    const id = n.id ?? freshId(this.doc, n.type);
    if (isReservedId(id)) throw new Error(`node id '${id}' ${RESERVED_ID_MESSAGE}`);
    if (Object.hasOwn(this.doc.nodes, id)) throw new Error(`a node with id '${id}' already exists`);
    checkDepth(n.params ?? {});
    const node: GraphNode = {
      id,
      type: n.type,
      ...(n.name !== undefined ? { name: n.name } : {}),
      position: n.position ?? { x: 0, y: 0 },
      params: structuredClone(n.params ?? {}),
    };
    this.change(`Add ${n.type}`, (d) => {
      d.nodes[id] = node;
    });
    return id;
  }

  /** Remove nodes with the edges attached to them (and the objective if it pointed at one). */
  removeNodes(ids: readonly string[]): void {
    const gone = new Set(ids);
    this.change(
      ids.length === 1 ? `Delete ${this.doc.nodes[ids[0]]?.type ?? "node"}` : `Delete ${ids.length} nodes`,
      (d) => {
        for (const id of gone) delete d.nodes[id];
        for (const [eid, e] of Object.entries(d.edges))
          if (gone.has(e.source) || gone.has(e.target)) delete d.edges[eid];
        if (d.objective !== undefined && gone.has(d.objective)) delete d.objective;
      },
    );
  }

  moveNodes(positions: Record<string, Position>): void {
    this.change("Move", (d) => {
      for (const [id, p] of Object.entries(positions)) {
        const n = d.nodes[id];
        if (n) n.position = { x: p.x, y: p.y };
      }
    });
  }

  /** Set a param; `undefined` removes it so the kind's default applies. */
  setParam(id: string, name: string, value: ParamValue | undefined): void {
    this.setParams(id, { [name]: value });
  }

  setParams(id: string, values: Record<string, ParamValue | undefined>): void {
    const node = this.doc.nodes[id];
    if (!node) throw new Error(`no node '${id}'`);
    checkDepth(values);
    this.change(`Change ${Object.keys(values).join(", ")} of ${node.name ?? id}`, (d) => {
      const p = d.nodes[id].params;
      for (const [k, v] of Object.entries(values)) {
        if (v === undefined) delete p[k];
        else p[k] = structuredClone(v);
      }
    });
  }

  renameNode(id: string, name: string | undefined): void {
    this.change(`Rename ${id}`, (d) => {
      const n = d.nodes[id];
      if (!n) return;
      if (name === undefined || name === "") delete n.name;
      else n.name = name;
    });
  }

  /** Connect an output to an input; an edge already into that input is replaced (in the same step). */
  connect(e: NewEdge): string {
    const id = e.id ?? freshId(this.doc, "e");
    if (isReservedId(id)) throw new Error(`edge id '${id}' ${RESERVED_ID_MESSAGE}`);
    const edge: GraphEdge = {
      id,
      source: e.source,
      sourcePort: e.sourcePort ?? "out",
      target: e.target,
      targetPort: e.targetPort,
    };
    this.change(`Connect ${e.source} → ${e.target}.${e.targetPort}`, (d) => {
      for (const [eid, old] of Object.entries(d.edges))
        if (old.target === e.target && old.targetPort === e.targetPort) delete d.edges[eid];
      d.edges[id] = edge;
    });
    return id;
  }

  disconnect(edgeIds: readonly string[]): void {
    this.change(edgeIds.length === 1 ? "Disconnect" : `Disconnect ${edgeIds.length} edges`, (d) => {
      for (const id of edgeIds) delete d.edges[id];
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
    let scratch = this.doc;
    const nodes: GraphNode[] = [];
    for (const id of ids) {
      const n = this.doc.nodes[id];
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
    for (const e of Object.values(this.doc.edges)) {
      const s = map.get(e.source);
      const t = map.get(e.target);
      if (!s || !t) continue;
      const eid = freshId(scratch, "e");
      const copy = { ...e, id: eid, source: s, target: t };
      edges.push(copy);
      scratch = { ...scratch, edges: { ...scratch.edges, [eid]: copy } };
    }
    this.change(`Duplicate ${nodes.length} node${nodes.length === 1 ? "" : "s"}`, (d) => {
      for (const n of nodes) d.nodes[n.id] = n;
      for (const e of edges) d.edges[e.id] = e;
    });
    return nodes.map((n) => n.id);
  }
}
