/**
 * The editor's layout: toolbar on top, palette on the left, canvas in the middle with the plots docked under
 * it, the inspector on the right, and the status line at the bottom. This file wires the parts together.
 */
import { createEffect, createMemo, createSignal, For, on, onCleanup, onMount, Show } from "solid-js";
import type { BackendRequest } from "../engine/scheduler-backend.ts";
import { formatProblems, parseGraphFile, serializeGraph } from "../graph/format.ts";
import { expandModules, topLevelId } from "../graph/modules.ts";
import { registry } from "../nodes/index.ts";
import { Canvas, type CanvasApi } from "./canvas/Canvas.tsx";
import { ModuleBar } from "./canvas/ModuleBar.tsx";
import { dropCsv } from "./data/dropCsv.ts";
import { debounce, saveLocal } from "./files/autosave.ts";
import { downloadText, fileNameFor } from "./files/download.ts";
import { EXAMPLES, type Example } from "./files/examples.ts";
import { FileMenu } from "./files/FileMenu.tsx";
import { loadHistory, saveHistory } from "./files/history.ts";
import { shareUrl } from "./files/share.ts";
import { HelpOverlay } from "./HelpOverlay.tsx";
import { Icon } from "./icons.tsx";
import { InsightDock, savedTab } from "./insight/InsightDock.tsx";
import { createInsight } from "./insight/store.ts";
import { Inspector } from "./inspector/Inspector.tsx";
import { installShortcuts } from "./keyboard.ts";
import { dismissAll, Notices, notify } from "./notices.tsx";
import { Palette } from "./palette/Palette.tsx";
import { entriesOf } from "./palette/search.ts";
import { createTrainingLog } from "./plots/log.ts";
import { PlotsDock } from "./plots/PlotsDock.tsx";
import { LongRunDialog } from "./run/LongRunDialog.tsx";
import { createRunGuard, estimateWork } from "./run/longRun.ts";
import { RunControls } from "./run/RunControls.tsx";
import { StatusLine } from "./run/StatusLine.tsx";
import { createRunSession } from "./run/session.ts";
import type { Startup } from "./startup.ts";
import { createAnalysis } from "./state/analysis.ts";
import { createEditor, freeSpot } from "./state/editor.ts";
import { theme, toggleTheme } from "./theme.ts";

const BACKEND_KEY = "gradwire.backend";

/** The backend asked for last time; auto by default (the faster one on each graph, measured). */
function savedBackend(): BackendRequest {
  try {
    const b = localStorage.getItem(BACKEND_KEY);
    return b === "cpu" || b === "webgpu" ? b : "auto";
  } catch {
    return "auto";
  }
}

function saveBackend(b: BackendRequest): void {
  try {
    localStorage.setItem(BACKEND_KEY, b);
  } catch {
    // not remembering the choice is fine
  }
}

/** Whether a side panel is shown (remembered per browser; shown by default). */
function savedPanel(which: "palette" | "inspector"): boolean {
  try {
    return localStorage.getItem(`gradwire.panel.${which}`) !== "hidden";
  } catch {
    return true;
  }
}

function savePanel(which: "palette" | "inspector", shown: boolean): boolean {
  try {
    localStorage.setItem(`gradwire.panel.${which}`, shown ? "shown" : "hidden");
  } catch {
    // not remembering the choice is fine
  }
  return shown;
}

/** The toolbar button at either end that hides or shows a side panel. */
function PanelToggle(props: {
  which: "palette" | "inspector";
  shown: boolean;
  set: (shown: boolean) => void;
}) {
  const name = props.which === "palette" ? "the node palette" : "the inspector";
  return (
    <button
      type="button"
      class="icon-btn panel-toggle"
      data-testid={`toggle-${props.which}`}
      title={`${props.shown ? "Hide" : "Show"} ${name}`}
      aria-pressed={props.shown}
      onClick={() => props.set(savePanel(props.which, !props.shown))}
    >
      <Icon name={props.which === "palette" ? "panelLeft" : "panelRight"} />
    </button>
  );
}

/** Examples offered on an empty canvas: a first training loop, a loss curve, a regression. */
const FEATURED: readonly string[] = [
  "05-guessing-game.json",
  "07-l1-curve.json",
  "13-thermometer-training.json",
];

export function App(props: { startup: Startup }) {
  const editor = createEditor(registry, props.startup.doc);
  const log = createTrainingLog();
  // The last run's plot history survives a reload of the same graph (the trained values start over).
  const restored = props.startup.source === "autosave" ? loadHistory(props.startup.doc) : undefined;
  if (restored) log.append([restored]);
  const session = createRunSession({ graph: editor.graph, log, backend: savedBackend() });
  onCleanup(() => session.dispose());
  const run = session.controller;
  const analysis = createAnalysis(
    editor.doc,
    registry,
    {
      value: (id, port) => session.value(id, port),
      grad: (id, port) => session.grad(id, port),
      leaves: (id) => session.leaves(id),
      paramCount: (id) => session.paramCount(id),
      gradsStale: () => run.state().status === "running",
      valueStale: (id) => session.valueStale(id),
      objective: () => session.grads().objective ?? undefined,
      trained: () => run.state().epoch > 0,
      nodeError: (id) => session.nodeError(id),
      runErrorNode: () => (run.state().status === "error" ? run.state().nodeId : undefined),
    },
    editor.scope,
  );
  // Run and Step ask first when the run would be very long (the estimate reads validation's shapes).
  const guard = createRunGuard((epochs) =>
    // The work of the graph as it runs: module instances expanded, as validation sees them.
    estimateWork(expandModules(editor.doc()), registry, analysis.validation(), epochs),
  );
  const epochsLeft = () => {
    const st = run.state();
    return st.status === "paused"
      ? Math.max(1, editor.doc().settings.epochs - st.epoch)
      : editor.doc().settings.epochs;
  };
  const guarded: typeof run = {
    ...run,
    run: () => guard.request(() => run.run(), epochsLeft()),
    step: () => guard.request(() => run.step(), 1),
    // A reset forgets the saved plot history too (the log is empty now), even from a status that stays idle.
    reset: () => {
      run.reset();
      saveHistory(editor.doc(), log);
    },
  };
  const entries = entriesOf(registry.list());
  const sweeps = createMemo(() =>
    Object.values(editor.doc().nodes)
      .filter((n) => n.type === "sweep")
      .flatMap((n) => {
        const x = session.value(n.id, "x");
        const y = session.value(n.id, "out");
        // A truncated output holds only its corners: nothing to draw a curve from.
        return x && y && !x.truncated && !y.truncated ? [{ nodeId: n.id, label: n.name ?? n.id, x, y }] : [];
      }),
  );
  const insight = createInsight({
    client: session.client,
    doc: editor.doc,
    train: session.train,
    grads: session.grads,
    isOptimizer: (type) => registry.get(type)?.optimizer !== undefined,
    sweeps: () => sweeps().map((x) => ({ ...x, x: x.x.data, y: x.y.data })),
  });
  insight.open(savedTab());
  onCleanup(() => insight.dispose());
  const issueCount = (sev: "error" | "warning") =>
    analysis.validation().issues.filter((i) => i.severity === sev).length;
  /** Whether the graph can train at all: it has an optimizer. */
  const trains = createMemo(() =>
    Object.values(editor.doc().nodes).some((n) => registry.get(n.type)?.optimizer),
  );
  const blocked = () => {
    const first = analysis.validation().issues.find((i) => i.severity === "error");
    if (first) return first.message;
    return trains()
      ? null
      : "add an optimizer (SGD, Adam...) fed by a loss to train; the graph is evaluated as you edit it";
  };
  const [help, setHelp] = createSignal(false);
  const [palette, setPalette] = createSignal(savedPanel("palette"));
  const [inspector, setInspector] = createSignal(savedPanel("inspector"));
  const [ready, setReady] = createSignal(false);
  let canvas: CanvasApi | undefined;

  /** Show a node a message names: a node inside a module instance (block1/fc) is shown by its instance. */
  const focusNode = (flatId: string) => {
    const id = topLevelId(flatId);
    if (editor.scope() !== undefined) editor.openModule(undefined);
    editor.setSelection([id]);
    canvas?.reveal(id);
  };

  const addAtCentre = (type: string) => {
    const c = canvas?.centre() ?? { x: 0, y: 0 };
    const id = editor.addNode(type, freeSpot(editor.view(), { x: c.x - 100, y: c.y - 60 }));
    if (id) canvas?.reveal(id);
    return id;
  };

  const openText = (text: string, what: string): boolean => {
    const r = parseGraphFile(text, registry);
    if (!r.ok) {
      notify({
        kind: "error",
        title: `${what} could not be opened; the current graph is unchanged`,
        lines: r.errors.slice(0, 12).map((e) => `${e.path}: ${e.message}`),
        sticky: true,
        testid: "import-errors",
      });
      console.info(formatProblems(r.errors));
      return false;
    }
    dismissAll();
    // A new graph starts a new history of training.
    if (run.state().status === "running" || run.state().status === "paused") run.stop();
    run.reset();
    editor.load(r.doc, `Open ${what}`);
    const errs = r.issues.filter((i) => i.severity === "error").length;
    const warns = r.issues.length - errs;
    notify({
      kind: errs ? "warn" : "info",
      title: `Opened ${r.doc.title ?? what}${r.migratedFrom !== undefined ? ` (upgraded from format version ${r.migratedFrom})` : ""}`,
      lines:
        errs || warns
          ? [
              `${errs} error${errs === 1 ? "" : "s"}, ${warns} warning${warns === 1 ? "" : "s"}: see the nodes marked`,
            ]
          : undefined,
    });
    canvas?.fitView({ settle: true });
    return true;
  };

  const importFile = async (file: File) => {
    if (/\.csv$/i.test(file.name)) {
      await dropCsv(editor, registry, file, (type) => addAtCentre(type));
      return;
    }
    if (file.size > 20_000_000) {
      notify({
        kind: "error",
        title: `${file.name} is too large to be a graph file`,
        sticky: true,
        testid: "import-errors",
      });
      return;
    }
    openText(await file.text(), file.name);
  };

  const openExample = (e: Example) => openText(e.text, e.title);

  const exportJson = () => downloadText(fileNameFor(editor.doc().title), serializeGraph(editor.doc()));

  const share = async () => {
    const url = await shareUrl(serializeGraph(editor.doc()));
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      // The link is shown in the popover for copying by hand.
    }
    return url;
  };

  const autosave = debounce(() => saveLocal(serializeGraph(editor.doc())), 250);
  createEffect(on(editor.doc, autosave, { defer: true }));
  // The plot history is saved when a run pauses or ends, and forgotten with a reset (an empty log).
  createEffect(
    on(
      () => run.state().status,
      (status) => {
        if (status !== "running") saveHistory(editor.doc(), log);
      },
      { defer: true },
    ),
  );

  onMount(() => {
    // A handle for debugging in the browser console during development; not part of any build's API.
    if (import.meta.env.DEV) Object.assign(window, { __gradwire: { editor, analysis, session, insight } });
    for (const p of props.startup.problems)
      notify({ kind: "warn", title: p.title, lines: p.lines, sticky: true });
    if (restored)
      notify({
        kind: "info",
        title: `The plots show the last run before the reload (${restored.epoch.length === 1 ? "1 epoch" : `${restored.epoch[restored.epoch.length - 1] + 1} epochs`}); a new run starts from the graph's values`,
      });
    if (props.startup.source === "link") {
      // The link's graph now lives in the editor (and autosave); a reload should not reopen the link over edits.
      history.replaceState(null, "", location.pathname + location.search);
      notify({
        kind: "info",
        title: `Opened the shared graph${editor.doc().title ? `: ${editor.doc().title}` : ""}`,
      });
    }
    installShortcuts({
      editor,
      help: () => setHelp((h) => !h),
      closeOverlays: () => {
        setHelp(false);
        dismissAll();
      },
      fitView: () => canvas?.fitView(),
      runPause: () => (run.state().status === "running" ? run.pause() : guarded.run()),
      step: () => guarded.step(),
      focusSearch: () => document.querySelector<HTMLInputElement>('[data-testid="palette-search"]')?.focus(),
    });
  });

  return (
    <div class="app" classList={{ "no-palette": !palette(), "no-inspector": !inspector() }}>
      <header class="toolbar">
        <PanelToggle which="palette" shown={palette()} set={setPalette} />
        <h1 class="brand">
          <span class="brand-mark" aria-hidden="true" />
          gradwire
        </h1>
        <FileMenu
          examples={EXAMPLES}
          onExample={openExample}
          onImport={importFile}
          onExport={exportJson}
          onShare={share}
        />
        <div class="toolbar-group">
          <button
            type="button"
            class="icon-btn"
            data-testid="undo"
            title={`Undo ${editor.history().canUndo ? "" : ""}(Ctrl/⌘ Z)`}
            disabled={!editor.history().canUndo}
            onClick={() => editor.undo()}
          >
            <Icon name="undo" />
          </button>
          <button
            type="button"
            class="icon-btn"
            data-testid="redo"
            title="Redo (Shift Ctrl/⌘ Z)"
            disabled={!editor.history().canRedo}
            onClick={() => editor.redo()}
          >
            <Icon name="redo" />
          </button>
        </div>
        <RunControls
          wantedBackend={session.wantedBackend}
          setBackend={(b) => {
            session.setBackend(b);
            saveBackend(b);
          }}
          run={guarded}
          epochs={() => editor.doc().settings.epochs}
          setEpochs={editor.setEpochs}
          blocked={blocked}
        />
        <ModuleBar editor={editor} />
        <div class="toolbar-spacer" />
        <div class="toolbar-group">
          <button
            type="button"
            class="icon-btn"
            data-testid="theme"
            title={`Switch to the ${theme() === "dark" ? "light" : "dark"} theme`}
            onClick={toggleTheme}
          >
            <Icon name={theme() === "dark" ? "sun" : "moon"} />
          </button>
          <button
            type="button"
            class="icon-btn"
            data-testid="help"
            title="Keyboard shortcuts (?)"
            onClick={() => setHelp(true)}
          >
            <Icon name="help" />
          </button>
          <PanelToggle which="inspector" shown={inspector()} set={setInspector} />
        </div>
      </header>
      <Show when={palette()}>
        <Palette
          entries={entries}
          onAdd={addAtCentre}
          modules={() => Object.values(editor.doc().modules ?? {})}
        />
      </Show>
      <main class="workspace">
        <Canvas
          editor={editor}
          analysis={analysis}
          onFileDrop={importFile}
          emptyActions={
            <div class="empty-actions">
              <For each={EXAMPLES.filter((e) => FEATURED.includes(e.file))}>
                {(e) => (
                  <button
                    type="button"
                    class="btn"
                    data-testid="empty-example"
                    onClick={() => openExample(e)}
                  >
                    <Icon name="book" /> {e.title}
                  </button>
                )}
              </For>
            </div>
          }
          onReady={(api) => {
            canvas = api;
            // The opened graph fills the view, at a size that suits the screen (larger on a 4K display).
            if (Object.keys(editor.doc().nodes).length > 0) api.fitView({ settle: true });
            setReady(true);
          }}
        />
        <PlotsDock
          log={log}
          sweeps={sweeps}
          trains={trains}
          hint={
            Object.keys(editor.doc().nodes).length === 0
              ? "Training plots appear here: the loss of every epoch, and each trained tensor with its gradient."
              : "No optimizer, so nothing trains: values and gradients update as you edit. Add one (SGD, Adam…) fed by a loss to plot the loss per epoch."
          }
        />
        <InsightDock insight={insight} />
      </main>
      <Show when={inspector()}>
        <Inspector editor={editor} analysis={analysis} onFocusNode={focusNode} />
      </Show>
      <StatusLine
        run={run}
        totalEpochs={() => editor.doc().settings.epochs}
        errors={() => issueCount("error")}
        warnings={() => issueCount("warning")}
        lastEdit={() => editor.history().label}
        paramTotal={() => session.paramTotal()}
        onFocusNode={focusNode}
      />
      <Notices />
      <LongRunDialog guard={guard} />
      <Show when={help()}>
        <HelpOverlay onClose={() => setHelp(false)} />
      </Show>
      <Show when={ready()}>
        <span data-testid="app-ready" hidden />
      </Show>
    </div>
  );
}
