/**
 * The csv node's file chooser in the inspector: pick a file or drop one here. The file is checked before the
 * node changes (csvFile.ts); a bad file shows the parser's message (file, row, column) and leaves the node as it
 * was. A node whose file is referenced by path but not embedded asks for it again after a reload.
 */
import { createSignal, Show } from "solid-js";
import type { GraphNode } from "../../graph/types.ts";
import type { Registry } from "../../nodes/index.ts";
import type { Editor } from "../state/editor.ts";
import { loadCsvInto } from "./csvFile.ts";

export function CsvPicker(props: { editor: Editor; registry: Registry; node: GraphNode }) {
  const [status, setStatus] = createSignal("");
  const [error, setError] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  /** How much of a large file the worker has parsed (null: no measurable progress to show). */
  const [fraction, setFraction] = createSignal<number | null>(null);
  const load = async (file: File | undefined) => {
    if (!file || busy()) return;
    setBusy(true);
    setError("");
    const r = await loadCsvInto(props.editor, props.registry, props.node.id, file, (message, f) => {
      setStatus(message);
      setFraction(f ?? null);
    });
    setBusy(false);
    setFraction(null);
    if (r.ok) setStatus(`${file.name}: ${r.rows.toLocaleString("en")} rows, ${r.features} features`);
    else {
      setStatus("");
      setError(r.error);
    }
  };
  const path = () => props.node.params.path;
  const embedded = () => typeof props.node.params.content === "string" && props.node.params.content !== "";
  return (
    <section class="insp-section" data-testid="csv-picker">
      <h3 class="insp-h">CSV file</h3>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: a drop target beside the file input it mirrors */}
      <div
        class="csv-drop"
        onDragOver={(e) => e.preventDefault()}
        onDrop={(e) => {
          e.preventDefault();
          void load(e.dataTransfer?.files?.[0]);
        }}
      >
        <label>
          {typeof path() === "string" && path() !== ""
            ? `${path()}${embedded() ? " (embedded)" : ""}`
            : "No file"}
          <input
            type="file"
            accept=".csv,text/csv"
            data-testid="csv-file"
            disabled={busy()}
            onChange={(e) => {
              void load(e.currentTarget.files?.[0]);
              e.currentTarget.value = "";
            }}
          />
        </label>
      </div>
      <Show when={status()}>
        <p class="insp-note" data-testid="csv-status" aria-live="polite">
          {status()}
        </p>
      </Show>
      <Show when={busy() && fraction() !== null}>
        <progress
          class="csv-progress"
          data-testid="csv-progress"
          max={1}
          value={fraction() ?? 0}
          aria-label="CSV file parsed"
        />
      </Show>
      <Show when={error()}>
        <p class="insp-error" role="alert" data-testid="csv-error">
          {error()}
        </p>
      </Show>
    </section>
  );
}
