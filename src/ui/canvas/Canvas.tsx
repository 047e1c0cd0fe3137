/**
 * The canvas: solid-flow behind the flowSync adapter. Pan (drag the background, or Space+drag), zoom (wheel),
 * box-select (Shift+drag), multi-select (Ctrl/Cmd+click), snap to a 20px grid, minimap and fit view. Every
 * gesture that changes the graph goes to the editor as one undoable edit; the flow stores only mirror it.
 */
import {
  Background,
  type ConnectionLineComponentProps,
  Controls,
  getBezierPath,
  MiniMap,
  SolidFlow,
  useConnection,
  useSolidFlow,
} from "@dschz/solid-flow";
import { createEffect, createSignal, type JSX, on, onMount, Show, untrack } from "solid-js";
import { createStore } from "solid-js/store";
import { type Connection, canConnect } from "../../graph/connect.ts";
import { DRAG_MIME, groupOf } from "../palette/search.ts";
import type { Analysis } from "../state/analysis.ts";
import { type Editor, GRID, type XY } from "../state/editor.ts";
import { theme } from "../theme.ts";
import { CanvasContext } from "./context.ts";
import { EDGE_TYPE, type FlowEdge, type FlowNode, NODE_TYPE, syncEdges, syncNodes } from "./flowSync.ts";
import { GwEdge } from "./GwEdge.tsx";
import { GwNode, shortMessage } from "./GwNode.tsx";

export interface CanvasApi {
  /** The flow coordinates at the centre of the visible canvas. */
  centre(): XY;
  /**
   * Fit the graph in view. With `settle`, fit again once values have arrived and grown the nodes, unless the
   * user has moved the view in the meantime (used when a graph is opened).
   */
  fitView(opts?: { settle?: boolean }): void;
  toFlow(clientX: number, clientY: number): XY;
  /** Pan (keeping the zoom) so a node is in view, if it is not. */
  reveal(id: string): void;
}

export interface CanvasProps {
  editor: Editor;
  analysis: Analysis;
  onFileDrop?: (file: File) => void;
  onReady?: (api: CanvasApi) => void;
  /** Shown on an empty canvas under the hint (a few examples to open). */
  emptyActions?: JSX.Element;
}

/**
 * How close fitting the view may zoom in: 1.25 at the base font size, more where the interface is scaled up
 * (a 4K screen), so nodes there are shown as large as the rest of the interface.
 */
export function fitMaxZoom(): number {
  const root = Number.parseFloat(getComputedStyle(document.documentElement).fontSize) || 13;
  return 1.25 * Math.max(1, root / 13);
}

/** The smallest zoom at which a node's text can still be read (about 9 px at the base font size). */
export function readableZoom(): number {
  const root = Number.parseFloat(getComputedStyle(document.documentElement).fontSize) || 13;
  return 0.75 * Math.max(1, root / 13);
}

/** Where a dropped kind's top-left goes, so its header lands under the cursor. */
const DROP_OFFSET: XY = { x: 80, y: 14 };

function FlowBridge(props: {
  onReady: (api: CanvasApi) => void;
  host: () => HTMLElement;
  position: (id: string) => XY | undefined;
  userMoved: { current: boolean };
}) {
  const flow = useSolidFlow();
  onMount(() => {
    props.onReady({
      centre() {
        const r = props.host().getBoundingClientRect();
        return flow.screenToFlowPosition({ x: r.left + r.width / 2, y: r.top + r.height / 2 });
      },
      fitView(opts = {}) {
        // Nodes are measured when the browser is idle after they mount; fitting before that would leave out
        // the ones not measured yet, so wait for them (briefly).
        let tries = 0;
        const attempt = () => {
          const ready = flow.getNodes().every((n) => (n.measured?.width ?? 0) > 0);
          if (!ready && tries++ < 60) {
            requestAnimationFrame(attempt);
            return;
          }
          const nodes = flow.getNodes();
          const box = props.host().getBoundingClientRect();
          const b = nodes.length ? flow.getNodesBounds(nodes) : undefined;
          const readable = readableZoom();
          // A graph too large to fit at a zoom where its text can be read is shown from its top-left (where it
          // starts) at that zoom; the rest is a pan or a zoom-out away.
          if (
            b &&
            b.width > 0 &&
            Math.min(box.width / (b.width * 1.4), box.height / (b.height * 1.4)) < readable
          ) {
            const pad = 24;
            void flow.setViewport(
              { x: pad - b.x * readable, y: pad - b.y * readable, zoom: readable },
              { duration: 200 },
            );
            return;
          }
          void flow.fitView({ padding: 0.2, maxZoom: fitMaxZoom(), duration: 200 });
        };
        requestAnimationFrame(attempt);
        if (opts.settle) {
          props.userMoved.current = false;
          setTimeout(() => {
            if (!props.userMoved.current) requestAnimationFrame(attempt);
          }, 800);
        }
      },
      toFlow: (x, y) => flow.screenToFlowPosition({ x, y }),
      reveal(id) {
        const p = props.position(id);
        if (!p) return;
        const r = props.host().getBoundingClientRect();
        const zoom = flow.getZoom();
        const s = flow.flowToScreenPosition(p);
        const inside =
          s.x > r.left + 10 && s.y > r.top + 10 && s.x + 200 * zoom < r.right && s.y + 100 * zoom < r.bottom;
        if (!inside) void flow.setCenter(p.x + 100, p.y + 60, { zoom, duration: 200 });
      },
    });
  });
  return null;
}

/**
 * Why the port under the cursor refuses the wire, shown beside the cursor while dragging. It is HTML above the
 * nodes (not part of the SVG connection line, which nodes would cover).
 */
function RefusalTip(props: { reason: () => string | null; pointer: () => XY }) {
  const connection = useConnection();
  const show = () => {
    const c = connection();
    return c.inProgress && c.toHandle !== null && c.isValid === false ? props.reason() : null;
  };
  return (
    <Show when={show()}>
      {(r) => (
        <div
          class="gw-refusal"
          data-testid="connection-refusal"
          style={{ left: `${props.pointer().x + 14}px`, top: `${props.pointer().y + 16}px` }}
        >
          {shortMessage(r())}
        </div>
      )}
    </Show>
  );
}

export function Canvas(props: CanvasProps) {
  const editor = props.editor;
  const [nodes, setNodes] = createStore<FlowNode[]>([]);
  const [edges, setEdges] = createStore<FlowEdge[]>([]);
  const [refusal, setRefusal] = createSignal<string | null>(null);
  const [dropActive, setDropActive] = createSignal(false);
  const [pointer, setPointer] = createSignal<XY>({ x: 0, y: 0 });
  /** Set when the user pans or zooms (programmatic moves carry no event). */
  const userMoved = { current: false };
  let host!: HTMLDivElement;
  let api: CanvasApi | undefined;

  const resync = () => {
    const doc = editor.view();
    syncNodes(setNodes, doc, new Set(editor.selection()));
    syncEdges(setEdges, doc, new Set(editor.edgeSelection()));
  };
  createEffect(resync);
  // Opening a module (or going back) shows another graph: fit it in view.
  createEffect(on(editor.scope, () => api?.fitView(), { defer: true }));

  // solid-flow 0.1.4 declares onSelectionChange but never calls it: selection is read from its stores, where
  // clicks, Ctrl/Cmd-clicks and box selection write it.
  const same = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  createEffect(() => {
    const ids = nodes.filter((n) => n.selected).map((n) => n.id);
    const eids = edges.filter((e) => e.selected).map((e) => e.id);
    untrack(() => {
      if (!same(editor.selection(), ids)) editor.setSelection(ids);
      if (!same(editor.edgeSelection(), eids)) editor.setEdgeSelection(eids);
    });
  });

  const problem = (w: Connection): string | null => {
    const r = canConnect(editor.view(), editor.registry, w);
    return r.ok ? null : r.reason;
  };

  const wireOf = (c: {
    source: string;
    target: string;
    sourceHandle?: string | null;
    targetHandle?: string | null;
  }): Connection => ({
    source: c.source,
    sourcePort: c.sourceHandle ?? "out",
    target: c.target,
    targetPort: c.targetHandle ?? "input",
  });

  const onDrop = (e: DragEvent) => {
    setDropActive(false);
    const dt = e.dataTransfer;
    if (!dt) return;
    const type = dt.getData(DRAG_MIME);
    if (type && api) {
      e.preventDefault();
      const p = api.toFlow(e.clientX, e.clientY);
      editor.addNode(type, { x: p.x - DROP_OFFSET.x, y: p.y - DROP_OFFSET.y });
      return;
    }
    const file = dt.files?.[0];
    if (file) {
      e.preventDefault();
      props.onFileDrop?.(file);
    }
  };

  type Side = Parameters<typeof getBezierPath>[0]["sourcePosition"];
  const ConnectionLine = (p: ConnectionLineComponentProps) => {
    // solid-flow 0.1.4 converts the start point from screen to flow coordinates although it already is in flow
    // coordinates, so the line starts off the handle once the view is panned or zoomed; take it from the handle.
    const from = () => {
      const abs = p.fromNode.internals.positionAbsolute;
      const h = p.fromHandle;
      return { x: abs.x + h.x + (h.width ?? 0) / 2, y: abs.y + h.y + (h.height ?? 0) / 2 };
    };
    const path = () =>
      getBezierPath({
        sourceX: from().x,
        sourceY: from().y,
        sourcePosition: p.fromPosition as Side,
        targetX: p.toX,
        targetY: p.toY,
        targetPosition: p.toPosition as Side,
      })[0];
    return (
      <g class={`gw-connection ${p.connectionStatus ?? ""}`}>
        <path d={path()} fill="none" class="gw-connection-path" />
      </g>
    );
  };

  return (
    <CanvasContext.Provider value={{ editor, analysis: props.analysis }}>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: a drop target for palette kinds and graph files */}
      <div
        class="canvas"
        classList={{ "drop-active": dropActive() }}
        ref={host}
        data-testid="canvas"
        onDragOver={(e) => {
          const types = e.dataTransfer?.types ?? [];
          if (types.includes(DRAG_MIME) || types.includes("Files")) {
            e.preventDefault();
            if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
            setDropActive(true);
          }
        }}
        onDragLeave={(e) => {
          if (e.currentTarget === e.target) setDropActive(false);
        }}
        onDrop={onDrop}
        onPointerMove={(e) => setPointer({ x: e.clientX, y: e.clientY })}
      >
        <SolidFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={{ [NODE_TYPE]: GwNode }}
          edgeTypes={{ [EDGE_TYPE]: GwEdge }}
          colorMode={theme()}
          snapGrid={[GRID, GRID]}
          minZoom={0.1}
          maxZoom={2.5}
          // Fit once on opening a graph; an empty canvas stays put so the first drop lands where it was dropped.
          fitView={Object.keys(editor.view().nodes).length > 0}
          fitViewOptions={{ padding: 0.2, maxZoom: fitMaxZoom() }}
          deleteKey={null}
          selectionKey="Shift"
          multiSelectionKey={["Meta", "Control"]}
          panActivationKey="Space"
          zoomOnDoubleClick={false}
          selectionMode="partial"
          connectionRadius={28}
          connectionLineComponent={ConnectionLine}
          defaultEdgeOptions={{ type: EDGE_TYPE }}
          proOptions={{ hideAttribution: true }}
          isValidConnection={(c) => {
            const reason = problem(wireOf(c));
            setRefusal(reason);
            return reason === null;
          }}
          onConnect={(c) => {
            const w = wireOf(c);
            if (problem(w) === null) editor.connect(w.source, w.sourcePort, w.target, w.targetPort);
            // The flow already drew its own edge; put the view back to what the document says.
            resync();
          }}
          onConnectEnd={() => setRefusal(null)}
          onMoveStart={(event) => {
            if (event) userMoved.current = true;
          }}
          onNodeDragStop={({ nodes: moved }) => {
            const moves: Record<string, XY> = {};
            for (const n of moved) moves[n.id] = { x: n.position.x, y: n.position.y };
            editor.moveNodes(moves);
            resync();
          }}
        >
          <Background
            variant="dots"
            gap={GRID}
            size={1.2}
            patternColor="var(--canvas-dots)"
            bgColor="var(--canvas)"
          />
          <Controls position="bottom-left" showLock={false} />
          <Show when={nodes.length > 0}>
            <MiniMap
              position="bottom-right"
              pannable
              zoomable
              width={132}
              height={84}
              nodeColor={(n: FlowNode) => {
                const k = editor.registry.get(n.data.kind);
                return k ? `var(--g-${groupOf(k.family).toLowerCase()})` : "var(--text-faint)";
              }}
              nodeBorderRadius={4}
              maskColor="var(--minimap-mask)"
            />
          </Show>
          <RefusalTip reason={refusal} pointer={pointer} />
          <FlowBridge
            host={() => host}
            position={(id) => editor.view().nodes[id]?.position}
            userMoved={userMoved}
            onReady={(a) => {
              api = a;
              props.onReady?.(a);
            }}
          />
        </SolidFlow>
        <Show when={editor.view() && Object.keys(editor.view().nodes).length === 0}>
          <div class="canvas-empty">
            <h2>Wire a training loop</h2>
            <p>
              Drag a <b>tensor</b>, a <b>model</b>, a <b>loss</b> and an <b>optimizer</b> from the palette,
              connect their ports, then press <b>Run</b>. Or open an example.
            </p>
            {props.emptyActions}
          </div>
        </Show>
      </div>
    </CanvasContext.Provider>
  );
}
