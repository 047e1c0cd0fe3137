/**
 * File actions in the toolbar: the examples menu, import (file picker; files can also be dropped on the
 * canvas), export as a JSON download, and a share link that carries the graph in the URL.
 */
import { createSignal, For, onCleanup, onMount, Show } from "solid-js";
import { Icon } from "../icons.tsx";
import { type Example, groupExamples, summaryOf } from "./examples.ts";

export interface FileMenuProps {
  examples: readonly Example[];
  onExample: (e: Example) => void;
  onImport: (file: File) => void;
  onExport: () => void;
  onShare: () => Promise<string>;
}

export function FileMenu(props: FileMenuProps) {
  const [open, setOpen] = createSignal(false);
  const [link, setLink] = createSignal<string | null>(null);
  const [query, setQuery] = createSignal("");
  let menu!: HTMLDivElement;
  let input!: HTMLInputElement;

  onMount(() => {
    const close = (e: MouseEvent) => {
      if (!menu.contains(e.target as Node)) {
        setOpen(false);
        setLink(null);
      }
    };
    const esc = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        setOpen(false);
        setLink(null);
      }
    };
    window.addEventListener("pointerdown", close);
    window.addEventListener("keydown", esc);
    onCleanup(() => {
      window.removeEventListener("pointerdown", close);
      window.removeEventListener("keydown", esc);
    });
  });

  return (
    <div class="toolbar-group file-menu" ref={menu}>
      <div class="menu-wrap">
        <button
          type="button"
          class="btn"
          data-testid="examples"
          aria-haspopup="dialog"
          aria-expanded={open()}
          onClick={() => {
            setQuery("");
            setOpen((o) => !o);
          }}
          title="Open an example graph"
        >
          <Icon name="book" /> Examples <Icon name="chevron" />
        </button>
        <Show when={open()}>
          <div class="menu examples-menu" role="dialog" aria-label="Examples" data-testid="examples-menu">
            <Show
              when={props.examples.length > 0}
              fallback={<div class="menu-empty">No examples in examples/ yet.</div>}
            >
              <input
                type="search"
                class="menu-search"
                data-testid="examples-search"
                aria-label="Search the examples"
                placeholder={`Search ${props.examples.length} examples…`}
                value={query()}
                ref={(el) => requestAnimationFrame(() => el.focus())}
                onInput={(e) => setQuery(e.currentTarget.value)}
                onKeyDown={(e) => {
                  // Enter opens the first match.
                  const first = groupExamples(props.examples, query())[0]?.examples[0];
                  if (e.key === "Enter" && first) {
                    setOpen(false);
                    props.onExample(first);
                  }
                }}
              />
              <For
                each={groupExamples(props.examples, query())}
                fallback={<div class="menu-empty">No example matches “{query()}”.</div>}
              >
                {(g) => (
                  <section class="menu-group" aria-label={g.tutorial} data-testid="example-group">
                    <h2 class="menu-group-title">{g.tutorial}</h2>
                    <For each={g.examples}>
                      {(e) => (
                        <button
                          type="button"
                          class="menu-item"
                          data-testid="example-item"
                          data-file={e.file}
                          title={e.description}
                          onClick={() => {
                            setOpen(false);
                            props.onExample(e);
                          }}
                        >
                          <span class="menu-item-title">{e.title}</span>
                          <Show when={summaryOf(e.description)}>
                            <span class="menu-item-desc">{summaryOf(e.description)}</span>
                          </Show>
                        </button>
                      )}
                    </For>
                  </section>
                )}
              </For>
            </Show>
          </div>
        </Show>
      </div>
      <label class="btn" title="Import a graph file (.json); you can also drop one on the canvas">
        <Icon name="upload" /> <span class="btn-label">Import</span>
        <input
          ref={input}
          type="file"
          accept=".json,application/json"
          data-testid="import-json"
          aria-label="Import a graph file"
          class="visually-hidden"
          onChange={(e) => {
            const f = e.currentTarget.files?.[0];
            if (f) props.onImport(f);
            e.currentTarget.value = "";
          }}
        />
      </label>
      <button
        type="button"
        class="btn"
        data-testid="export-json"
        aria-label="Export"
        title="Download the graph as JSON"
        onClick={() => props.onExport()}
      >
        <Icon name="download" /> <span class="btn-label">Export</span>
      </button>
      <div class="menu-wrap">
        <button
          type="button"
          class="btn"
          data-testid="share-link"
          aria-label="Share"
          title="Copy a link that carries this graph"
          onClick={async () => setLink(await props.onShare())}
        >
          <Icon name="link" /> <span class="btn-label">Share</span>
        </button>
        <Show when={link()}>
          <div class="menu share-pop" data-testid="share-pop">
            <div class="share-note">Link copied. It carries the whole graph; nothing is uploaded.</div>
            <input
              type="text"
              readonly
              data-testid="share-url"
              value={link() ?? ""}
              onFocus={(e) => e.currentTarget.select()}
            />
          </div>
        </Show>
      </div>
    </div>
  );
}
