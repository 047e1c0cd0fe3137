/**
 * The inspector: for the selected node, its name, what it is, its params (generated from the kind's
 * declarations), its ports and where they are wired from, its value and gradient as PyTorch prints them, and
 * the validator's messages; with nothing selected, the graph's own settings and every problem in it.
 */
import { createMemo, createSignal, For, Show } from "solid-js";
import { isInstance } from "../../graph/modules.ts";
import type { GraphNode } from "../../graph/types.ts";
import { outputsOf } from "../../nodes/types.ts";
import { shortMessage } from "../canvas/GwNode.tsx";
import { CsvPicker } from "../data/CsvPicker.tsx";
import { Icon } from "../icons.tsx";
import { groupOf } from "../palette/search.ts";
import type { LiveAnalysis } from "../state/analysis.ts";
import type { Editor } from "../state/editor.ts";
import { stats } from "../values/summary.ts";
import { numelOf, torchRepr, torchScalar, type ValueLike } from "../values/torchFormat.ts";
import { ModulePanel } from "./ModulePanel.tsx";
import { ParamField } from "./ParamField.tsx";

export interface InspectorProps {
  editor: Editor;
  analysis: LiveAnalysis;
  onFocusNode?: (id: string) => void;
}

export function Inspector(props: InspectorProps) {
  const editor = props.editor;
  const count = () => editor.selection().length;
  return (
    <aside class="inspector" aria-label="Inspector" data-testid="inspector">
      <Show
        when={editor.selectedNode()}
        fallback={
          <Show when={count() > 1} fallback={<GraphPanel {...props} />}>
            <MultiPanel editor={editor} />
          </Show>
        }
      >
        {(n) => <NodePanel node={n()} editor={editor} analysis={props.analysis} />}
      </Show>
    </aside>
  );
}

function MultiPanel(props: { editor: Editor }) {
  return (
    <section class="insp-section">
      <h2 class="insp-title">{props.editor.selection().length} nodes selected</h2>
      <div class="insp-actions">
        <button type="button" class="btn" onClick={() => props.editor.duplicate()}>
          <Icon name="copy" /> Duplicate
        </button>
        <button type="button" class="btn" onClick={() => props.editor.deleteSelection()}>
          <Icon name="trash" /> Delete
        </button>
      </div>
    </section>
  );
}

function NodePanel(props: { node: GraphNode; editor: Editor; analysis: LiveAnalysis }) {
  const editor = props.editor;
  const id = () => props.node.id;
  const kind = createMemo(() => editor.registry.get(props.node.type));
  const issues = () => props.analysis.issuesOf(id());
  const feeds = createMemo(() => {
    const m = new Map<string, string>();
    for (const e of Object.values(editor.view().edges))
      if (e.target === id())
        m.set(e.targetPort, `${e.source}${e.sourcePort === "out" ? "" : `.${e.sourcePort}`}`);
    return m;
  });
  const [renameError, setRenameError] = createSignal<string | undefined>(undefined);
  const value = () => props.analysis.value(id());
  const grad = () => props.analysis.grad(id());
  return (
    <div class="insp-node" data-inspector-node={id()}>
      <section class="insp-section insp-head">
        <div class={`insp-kind g-${kind() ? groupOf(kind()!.family).toLowerCase() : "unknown"}`}>
          <h2 class="insp-type">{props.node.type}</h2>
          <span class="insp-family">
            {kind() ? groupOf(kind()!.family) : isInstance(props.node) ? "Module" : "unknown"}
          </span>
        </div>
        <Show when={!isInstance(props.node)}>
          <p class="insp-desc">{kind()?.description ?? "This node type is not known to gradwire."}</p>
        </Show>
        <div class="field">
          <div class="field-label">
            <label for="node-name">name</label>
            <span class="field-hint">id {id()}</span>
          </div>
          <input
            id="node-name"
            type="text"
            data-testid="node-name"
            placeholder={id()}
            value={props.node.name ?? ""}
            aria-invalid={renameError() ? "true" : undefined}
            onInput={() => setRenameError(undefined)}
            onChange={(e) => {
              const refused = editor.rename(id(), e.currentTarget.value);
              setRenameError(refused);
              // The field goes back to the name the node keeps.
              if (refused) e.currentTarget.value = props.node.name ?? "";
            }}
            onKeyDown={(e) => {
              if (e.key === "Enter") e.currentTarget.blur();
            }}
          />
          <Show when={renameError()}>
            <div class="field-error" role="alert" data-testid="rename-error">
              {renameError()}
            </div>
          </Show>
        </div>
      </section>
      <Show when={issues().length > 0}>
        <section class="insp-section">
          <ul class="insp-issues">
            <For each={issues()}>
              {(i) => (
                <li class={i.severity}>
                  <Icon name={i.severity === "error" ? "error" : "warn"} />
                  <span>{shortMessage(i.message)}</span>
                </li>
              )}
            </For>
          </ul>
        </section>
      </Show>
      <Show when={props.node.type === "csv"}>
        <CsvPicker editor={editor} registry={editor.registry} node={props.node} />
      </Show>
      <Show when={isInstance(props.node)}>
        <ModulePanel node={props.node} editor={editor} />
      </Show>
      <Show when={kind()}>
        {(k) => (
          <>
            <Show when={k().params.length > 0}>
              <section class="insp-section">
                <h3 class="insp-h">Params</h3>
                <For each={k().params}>
                  {(d) => (
                    <ParamField
                      nodeId={id()}
                      decl={d}
                      value={props.node.params[d.name]}
                      commit={(v) => editor.setParam(id(), d.name, v)}
                      beginTyping={() =>
                        editor.graph.beginGesture(`Change ${d.name} of ${props.node.name ?? id()}`)
                      }
                      endTyping={() => editor.graph.endGesture()}
                    />
                  )}
                </For>
              </section>
            </Show>
            <section class="insp-section">
              <h3 class="insp-h">Ports</h3>
              <table class="insp-ports">
                <tbody>
                  <For each={k().inputs}>
                    {(p) => (
                      <tr>
                        <td class="port-name">{p.name}</td>
                        <td class="port-src">
                          {feeds().get(p.name) ??
                            (p.scalarParam
                              ? `= ${props.node.params[p.scalarParam] ?? "—"}`
                              : p.optional
                                ? "optional"
                                : "—")}
                        </td>
                      </tr>
                    )}
                  </For>
                  <For each={outputsOf(k())}>
                    {(o) => {
                      const m = () => props.analysis.outMeta(id(), o.name);
                      return (
                        <tr class="out">
                          <td class="port-name">{o.name} →</td>
                          <td class="port-src">{m() ? `[${m()!.shape.join(", ")}] ${m()!.dtype}` : "—"}</td>
                        </tr>
                      );
                    }}
                  </For>
                </tbody>
              </table>
            </section>
          </>
        )}
      </Show>
      <Show when={value()}>
        {(v) => (
          <section class="insp-section">
            <h3 class="insp-h">Value</h3>
            <Show when={props.analysis.valueStale(id())}>
              <p class="insp-stale" data-testid="inspector-stale">
                The last value computed: this node cannot be computed now (see the error upstream).
              </p>
            </Show>
            <pre
              class="insp-tensor"
              classList={{ stale: props.analysis.valueStale(id()) }}
              data-testid="inspector-value"
            >
              {torchRepr(v(), { requiresGrad: props.analysis.requiresGrad(id()) })}
            </pre>
            <WholeStats value={v()} />
          </section>
        )}
      </Show>
      <Show when={grad()}>
        {(g) => (
          <section class="insp-section">
            <h3 class="insp-h grad">Gradient</h3>
            <pre class="insp-tensor grad" data-testid="inspector-grad">
              {torchRepr(g())}
            </pre>
            <WholeStats value={g()} />
          </section>
        )}
      </Show>
    </div>
  );
}

/** For a tensor too large to send whole: its size and the stats of every element (the printout shows corners). */
function WholeStats(props: { value: ValueLike }) {
  const s = () => stats(props.value);
  const num = (x: number) => (Number.isFinite(x) ? torchScalar(x, props.value.dtype) : "–");
  return (
    <Show when={props.value.truncated}>
      <p class="insp-stats" data-testid="inspector-stats">
        {numelOf(props.value.shape).toLocaleString("en-US")} elements · min {num(s().min)} · max{" "}
        {num(s().max)} · mean {num(s().mean)}
        {s().nonFinite > 0 ? ` · ${s().nonFinite} non-finite` : ""}
      </p>
    </Show>
  );
}

function GraphPanel(props: InspectorProps) {
  const editor = props.editor;
  const d = () => editor.doc();
  const issues = () => props.analysis.validation().issues;
  return (
    <div class="insp-graph">
      <section class="insp-section insp-head">
        <h2 class="insp-title">Graph</h2>
        <div class="field">
          <div class="field-label">
            <label for="graph-title">title</label>
          </div>
          <input
            id="graph-title"
            type="text"
            placeholder="Untitled graph"
            value={d().title ?? ""}
            onChange={(e) => editor.graph.setMeta({ title: e.currentTarget.value })}
          />
        </div>
        <div class="field">
          <div class="field-label">
            <label for="graph-desc">description</label>
          </div>
          <textarea
            id="graph-desc"
            rows={3}
            placeholder="What this graph shows"
            value={d().description ?? ""}
            onChange={(e) => editor.graph.setMeta({ description: e.currentTarget.value })}
          />
        </div>
        <p class="insp-stats">
          {Object.keys(d().nodes).length} nodes · {Object.keys(d().edges).length} wires ·{" "}
          {d().settings.epochs} epochs per run
        </p>
      </section>
      <section class="insp-section">
        <h3 class="insp-h">Problems</h3>
        <Show when={issues().length > 0} fallback={<p class="insp-ok">No problems found.</p>}>
          <ul class="insp-issues" data-testid="graph-issues">
            <For each={issues()}>
              {(i) => (
                <li class={i.severity}>
                  <Icon name={i.severity === "error" ? "error" : "warn"} />
                  <button
                    type="button"
                    class="linklike"
                    disabled={!i.nodeId}
                    onClick={() => i.nodeId && props.onFocusNode?.(i.nodeId)}
                  >
                    {i.message}
                  </button>
                </li>
              )}
            </For>
          </ul>
        </Show>
      </section>
      <section class="insp-section insp-tip">
        <p>Select a node to edit its params. Shift-drag on the canvas selects several.</p>
      </section>
    </div>
  );
}
