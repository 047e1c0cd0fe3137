/**
 * Modules in the toolbar: "Group" for the selection, Open and Ungroup for a selected instance, and, while a
 * module is open, the breadcrumb back to the graph. It sits in the toolbar, not over the canvas, so it never
 * covers a node; it shows only what applies now. Every action is one undoable edit of the editor.
 */
import { createSignal, Show } from "solid-js";
import { instanceModule, isInstance } from "../../graph/modules.ts";
import type { Editor } from "../state/editor.ts";

export function ModuleBar(props: { editor: Editor }) {
  const editor = props.editor;
  // Why "Group as Sequential" was refused (the selection is not one chain), until the next try.
  const [refused, setRefused] = createSignal<string>();
  const groupSequential = () => {
    const r = editor.groupSequential();
    setRefused(typeof r === "string" ? r : undefined);
  };
  const instance = () => {
    const n = editor.selectedNode();
    return n && isInstance(n) ? n : undefined;
  };
  return (
    <Show when={editor.scope() !== undefined || editor.selection().length > 0}>
      <div class="toolbar-group module-bar" data-testid="module-bar">
        <Show when={editor.scope()}>
          {(scope) => (
            <nav class="module-crumbs" aria-label="Where the canvas is">
              <button
                type="button"
                class="module-crumb"
                data-testid="breadcrumb-graph"
                title="Back to the graph"
                onClick={() => editor.openModule(undefined)}
              >
                Graph
              </button>
              <span class="module-crumb-sep" aria-hidden="true">
                ›
              </span>
              <span class="module-crumb current" data-testid="breadcrumb-module">
                {scope()}
              </span>
            </nav>
          )}
        </Show>
        <Show when={editor.selection().length > 0}>
          <button
            type="button"
            class="btn"
            data-testid="group-module"
            title="Group the selected nodes as a reusable module (Ctrl/⌘ G)"
            onClick={() => editor.groupSelection()}
          >
            Group
          </button>
          <button
            type="button"
            class="btn"
            data-testid="group-sequential"
            title="Group the selected chain of layers as a Sequential (like torch.nn.Sequential)"
            onClick={groupSequential}
          >
            Group as Sequential
          </button>
        </Show>
        <Show when={refused()}>
          {(why) => (
            <span class="module-refused" role="alert" data-testid="group-sequential-refused">
              {why()}
            </span>
          )}
        </Show>
        <Show when={instance()}>
          {(n) => (
            <>
              <button
                type="button"
                class="btn"
                data-testid="open-module"
                title={`Edit inside ${instanceModule(n())} (every instance changes)`}
                onClick={() => editor.openModule(instanceModule(n()))}
              >
                Open
              </button>
              <button
                type="button"
                class="btn"
                data-testid="ungroup-module"
                title="Put this instance's nodes back on the canvas"
                onClick={() => editor.ungroup(n().id)}
              >
                Ungroup
              </button>
            </>
          )}
        </Show>
      </div>
    </Show>
  );
}
