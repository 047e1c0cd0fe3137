/**
 * The editor's state: the graph document (src/graph's GraphDocument, the source of truth, with undo/redo), the
 * selection, and every gesture as one undoable edit. The canvas, inspector and files read from here; the flow
 * library only mirrors it.
 */
import { batch, createMemo, createSignal } from "solid-js";
import { GraphDocument } from "../../graph/document.ts";
import { MODULE_TYPE, ModuleError, moduleById } from "../../graph/modules.ts";
import { emptyGraph, type GraphDoc, type GraphEdge, type GraphNode } from "../../graph/types.ts";
import type { Registry } from "../../nodes/registry.ts";
import type { ParamValue } from "../../nodes/types.ts";

export type { GraphDoc, GraphEdge, GraphNode };

export interface XY {
  x: number;
  y: number;
}

export const GRID = 20;
export const snap = (v: number) => Math.round(v / GRID) * GRID;

/** The footprint assumed for a node when looking for free space (nodes are about this size). */
const SLOT = { w: 240, h: 160 };

/** The nearest spot to `at` (searching outwards in rings) where a new node would not cover another. */
export function freeSpot(doc: GraphDoc, at: XY): XY {
  const taken = Object.values(doc.nodes).map((n) => n.position);
  const free = (p: XY) =>
    taken.every((q) => Math.abs(q.x - p.x) >= SLOT.w - 20 || Math.abs(q.y - p.y) >= SLOT.h - 20);
  // Rightwards and downwards first, the way a graph reads, then the other directions.
  const offsets: [number, number][] = [];
  for (let dy = -4; dy <= 4; dy++) for (let dx = -4; dx <= 4; dx++) offsets.push([dx, dy]);
  const cost = ([dx, dy]: [number, number]) =>
    Math.abs(dx) + 1.1 * Math.abs(dy) + (dx < 0 ? 2.5 : 0) + (dy < 0 ? 1.5 : 0);
  offsets.sort((a, b) => cost(a) - cost(b));
  for (const [dx, dy] of offsets) {
    const p = { x: snap(at.x + dx * SLOT.w), y: snap(at.y + dy * SLOT.h) };
    if (free(p)) return p;
  }
  return { x: snap(at.x), y: snap(at.y) };
}

/** What copy puts on the clipboard: nodes and the edges between them. */
export interface Clip {
  format: "gradwire.clipboard";
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** What a palette entry for a module places: `module:Block`. */
export const MODULE_ENTRY = `${MODULE_TYPE}:`;

export function createEditor(registry: Registry, initial: GraphDoc = emptyGraph()) {
  const graph = new GraphDocument(initial);
  const [doc, setDoc] = createSignal<GraphDoc>(graph.state);
  /** The module opened on the canvas (its definition is edited), or undefined for the top level. */
  const [scope, setScopeSignal] = createSignal<string | undefined>(undefined);
  /**
   * The graph the canvas shows and node edits apply to: the document, or the inside of the opened module (as a
   * document of its own nodes and edges). `doc` stays the whole document (what runs, saves and validates).
   */
  const view = createMemo<GraphDoc>(() => {
    const d = doc();
    const id = scope();
    const def = id === undefined ? undefined : moduleById(d, id);
    return def ? { ...d, nodes: def.nodes, edges: def.edges } : d;
  });
  const [selection, setSelection] = createSignal<readonly string[]>([]);
  const [edgeSelection, setEdgeSelection] = createSignal<readonly string[]>([]);
  const [historyState, setHistoryState] = createSignal({ canUndo: false, canRedo: false, label: "" });
  let clipboard: Clip | null = null;

  const setScope = (id: string | undefined) => {
    graph.setScope(id);
    setScopeSignal(id);
  };

  graph.subscribe((d, change) => {
    batch(() => {
      // An undo that removed the opened module (its grouping, say) takes the canvas back to the top level.
      if (scope() !== undefined && !moduleById(d, scope()!)) setScope(undefined);
      // A renamed module stays open under its new name.
      if (graph.scope !== scope()) setScopeSignal(graph.scope);
      setDoc(d);
      setHistoryState({ canUndo: graph.canUndo, canRedo: graph.canRedo, label: change.label });
      const v = graph.view;
      setSelection((s) => s.filter((id) => id in v.nodes));
      setEdgeSelection((s) => s.filter((id) => id in v.edges));
    });
  });

  const selectedNode = createMemo(() => {
    const s = selection();
    return s.length === 1 ? view().nodes[s[0]] : undefined;
  });

  const editor = {
    registry,
    /** The underlying document (for the worker: its change stream carries patches). */
    graph,
    doc,
    view,
    scope,
    selection,
    setSelection,
    edgeSelection,
    setEdgeSelection,
    selectedNode,
    history: historyState,

    /** Add a node of a kind, or (`module:Block`) an instance of a module of the graph. */
    addNode(type: string, at: XY): string | undefined {
      const position = { x: snap(at.x), y: snap(at.y) };
      let id: string;
      if (type.startsWith(MODULE_ENTRY)) {
        const module = type.slice(MODULE_ENTRY.length);
        if (!moduleById(doc(), module)) return undefined;
        try {
          id = graph.addNode({ type: MODULE_TYPE, params: { module }, position });
        } catch (e) {
          if (e instanceof ModuleError) return undefined;
          throw e;
        }
      } else {
        if (!registry.has(type)) return undefined;
        id = graph.addNode({ type, position });
      }
      setSelection([id]);
      return id;
    },

    /** Group the selected nodes as a new module; the instance that takes their place is selected. */
    groupSelection(): { module: string; instance: string } | undefined {
      const ids = selection().filter((id) => id in view().nodes);
      if (ids.length === 0) return undefined;
      const made = graph.groupAsModule(ids);
      setSelection([made.instance]);
      return made;
    },

    /**
     * Group the selected chain of layers as a Sequential module (like torch.nn.Sequential); the instance is
     * selected. A selection that is not one chain is refused with the reason, naming the node, document unchanged.
     */
    groupSequential(): { module: string; instance: string } | string | undefined {
      const ids = selection().filter((id) => id in view().nodes);
      if (ids.length === 0) return undefined;
      try {
        const made = graph.groupAsModule(ids, { sequential: true });
        setSelection([made.instance]);
        return made;
      } catch (e) {
        if (e instanceof ModuleError) return e.message;
        throw e;
      }
    },

    /** Put an instance's nodes back in its place; they are selected. */
    ungroup(id: string): string[] {
      const made = graph.ungroup(id);
      setSelection(made);
      return made;
    },

    /** Edit inside a module (the canvas shows its nodes), or the top level with undefined. */
    openModule(id: string | undefined): void {
      batch(() => {
        setSelection([]);
        setEdgeSelection([]);
        setScope(id);
      });
    },

    /** Rename a module's port; the reason when the name is refused. */
    renamePort(module: string, side: "inputs" | "outputs", from: string, to: string): string | undefined {
      try {
        graph.renamePort(module, side, from, to.trim());
        return undefined;
      } catch (e) {
        if (e instanceof ModuleError) return e.message;
        throw e;
      }
    },

    /** Rename a module (its instances and the palette follow); the reason when the name is refused. */
    renameModule(module: string, to: string): string | undefined {
      try {
        graph.renameModule(module, to.trim());
        return undefined;
      } catch (e) {
        if (e instanceof ModuleError) return e.message;
        throw e;
      }
    },

    moveNodes(moves: Record<string, XY>): void {
      const d = view();
      const changed = Object.entries(moves).filter(([id, p]) => {
        const n = d.nodes[id];
        return n && (n.position.x !== p.x || n.position.y !== p.y);
      });
      if (changed.length > 0) graph.moveNodes(Object.fromEntries(changed));
    },

    connect(source: string, sourcePort: string, target: string, targetPort: string): string {
      return graph.connect({ source, sourcePort, target, targetPort });
    },

    /** Set a param; undefined goes back to the kind's default. */
    setParam(nodeId: string, name: string, value: ParamValue | undefined): void {
      if (!(nodeId in view().nodes)) return;
      graph.setParam(nodeId, name, value);
    },

    /**
     * Name a node (an empty name goes back to its id). A name another node already goes by (its id or its
     * name) is refused, with the reason: two nodes with one name could not be told apart in messages and exports.
     */
    rename(nodeId: string, name: string): string | undefined {
      const wanted = name.trim();
      const taken = Object.values(view().nodes).find(
        (n) => n.id !== nodeId && (n.id === wanted || n.name === wanted),
      );
      if (wanted && taken)
        return `'${wanted}' is already the ${taken.id === wanted ? "id" : "name"} of another node (${taken.type})`;
      graph.renameNode(nodeId, wanted || undefined);
      return undefined;
    },

    setEpochs(epochs: number): void {
      if (doc().settings.epochs !== epochs) graph.setSettings({ epochs });
    },

    deleteSelection(): void {
      const nodes = selection().filter((id) => id in view().nodes);
      const edges = edgeSelection().filter((id) => id in view().edges);
      if (nodes.length === 0 && edges.length === 0) return;
      graph.gestureOf(`Delete ${nodes.length + edges.length}`, () => {
        if (edges.length) graph.disconnect(edges);
        if (nodes.length) graph.removeNodes(nodes);
      });
    },

    deleteEdge(id: string): void {
      graph.disconnect([id]);
    },

    copy(): Clip | null {
      const ids = new Set(selection());
      if (ids.size === 0) return null;
      const d = view();
      clipboard = {
        format: "gradwire.clipboard",
        nodes: [...ids].filter((id) => id in d.nodes).map((id) => structuredClone(d.nodes[id])),
        edges: Object.values(d.edges)
          .filter((e) => ids.has(e.source) && ids.has(e.target))
          .map((e) => ({ ...e })),
      };
      return clipboard;
    },

    /** Paste a clip (or the last copied one) with fresh ids, offset so the copy shows beside the original. */
    paste(clip: Clip | null = clipboard, offset: XY = { x: 2 * GRID, y: 2 * GRID }): string[] {
      if (!clip || clip.nodes.length === 0) return [];
      const created: string[] = [];
      graph.gestureOf(`Paste ${clip.nodes.length}`, () => {
        const map = new Map<string, string>();
        for (const n of clip.nodes) {
          if (
            !registry.has(n.type) &&
            !(n.type === MODULE_TYPE && moduleById(doc(), String(n.params.module)))
          )
            continue;
          let id: string;
          try {
            id = graph.addNode({
              type: n.type,
              name: n.name,
              params: n.params,
              position: { x: n.position.x + offset.x, y: n.position.y + offset.y },
            });
          } catch (e) {
            // An instance of the module open on the canvas cannot go inside it (a module cannot contain itself).
            if (e instanceof ModuleError) continue;
            throw e;
          }
          map.set(n.id, id);
          created.push(id);
        }
        for (const e of clip.edges) {
          const s = map.get(e.source);
          const t = map.get(e.target);
          if (s && t)
            graph.connect({ source: s, sourcePort: e.sourcePort, target: t, targetPort: e.targetPort });
        }
      });
      setSelection(created);
      return created;
    },

    duplicate(): string[] {
      const ids = selection().filter((id) => id in view().nodes);
      if (ids.length === 0) return [];
      const made = graph.duplicate(ids, { x: 2 * GRID, y: 2 * GRID });
      setSelection(made);
      return made;
    },

    /** Replace the whole graph (example, import, share link) as one undoable step. */
    load(next: GraphDoc, label = "Open graph"): void {
      setSelection([]);
      setEdgeSelection([]);
      setScope(undefined);
      graph.replace(next, label);
    },

    // GraphDocument announces an undo before moving the step onto its redo stack (and a redo before moving it
    // back), so the buttons' state is read again once the call returns.
    undo(): void {
      if (graph.undo()) setHistoryState((h) => ({ ...h, canUndo: graph.canUndo, canRedo: graph.canRedo }));
    },

    redo(): void {
      if (graph.redo()) setHistoryState((h) => ({ ...h, canUndo: graph.canUndo, canRedo: graph.canRedo }));
    },
  };
  return editor;
}

export type Editor = ReturnType<typeof createEditor>;
