/**
 * The palette: node kinds by group, searchable, one line each. Drag a kind onto the canvas to place it where it
 * is dropped; double-click it, or press Enter on it (or in the search box for the best match), to add it at the
 * centre of the view. The graph's own modules are listed first, under "Modules": each places another instance.
 */
import { createMemo, createSignal, For, Show } from "solid-js";
import { bestMatch, DRAG_MIME, filterGroups, type PaletteEntry } from "./search.ts";

export interface PaletteProps {
  entries: readonly PaletteEntry[];
  /** `type` is a kind, or `module:<id>` for an instance of one of the graph's modules. */
  onAdd: (type: string) => void;
  /** The graph's module definitions. */
  modules?: () => readonly { id: string; description?: string }[];
}

export function Palette(props: PaletteProps) {
  const [query, setQuery] = createSignal("");
  const groups = createMemo(() => filterGroups(props.entries, query()));
  const modules = createMemo(() => {
    const q = query().trim().toLowerCase();
    return (props.modules?.() ?? []).filter((m) => q === "" || m.id.toLowerCase().includes(q));
  });
  let list!: HTMLDivElement;

  const items = () => Array.from(list.querySelectorAll<HTMLButtonElement>(".palette-item"));
  const move = (from: HTMLElement, step: number) => {
    const all = items();
    const i = all.indexOf(from as HTMLButtonElement);
    all[Math.max(0, Math.min(all.length - 1, i + step))]?.focus();
  };

  return (
    <aside class="palette" aria-label="Node palette">
      <div class="palette-search">
        <input
          type="search"
          placeholder="Search nodes…  (/)"
          aria-label="Search nodes"
          data-testid="palette-search"
          value={query()}
          onInput={(e) => setQuery(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              const m = bestMatch(props.entries, query());
              if (m) props.onAdd(m.type);
            } else if (e.key === "ArrowDown") {
              e.preventDefault();
              items()[0]?.focus();
            } else if (e.key === "Escape") {
              setQuery("");
            }
          }}
        />
      </div>
      <div class="palette-list" ref={list}>
        <Show when={modules().length > 0}>
          <section class="palette-group" data-group="Modules">
            <h2 class="palette-group-title g-module">Modules</h2>
            <For each={modules()}>
              {(m) => {
                const type = `module:${m.id}`;
                const what = m.description ?? "a module of this graph";
                return (
                  <button
                    type="button"
                    class="palette-item g-module"
                    data-testid={`palette-module-${m.id}`}
                    draggable="true"
                    title={`${m.id}: ${what}\nDrag onto the canvas, or double-click / Enter, for another instance (its own parameters)`}
                    onDragStart={(ev) => {
                      ev.dataTransfer?.setData(DRAG_MIME, type);
                      ev.dataTransfer?.setData("text/plain", type);
                      if (ev.dataTransfer) ev.dataTransfer.effectAllowed = "copy";
                    }}
                    onDblClick={() => props.onAdd(type)}
                    onKeyDown={(ev) => {
                      if (ev.key === "Enter") {
                        ev.preventDefault();
                        props.onAdd(type);
                      }
                    }}
                  >
                    <span class="palette-item-name">{m.id}</span>
                    <span class="palette-item-desc">{what}</span>
                  </button>
                );
              }}
            </For>
          </section>
        </Show>
        <For each={groups()}>
          {([group, entries]) => (
            <section class="palette-group" data-group={group}>
              <h2 class={`palette-group-title g-${group.toLowerCase()}`}>{group}</h2>
              <For each={entries}>
                {(e) => (
                  <button
                    type="button"
                    class={`palette-item g-${e.group.toLowerCase()}`}
                    data-testid={`palette-item-${e.type}`}
                    draggable="true"
                    title={`${e.type}: ${e.description}\nDrag onto the canvas, or double-click / Enter to add at the centre`}
                    onDragStart={(ev) => {
                      ev.dataTransfer?.setData(DRAG_MIME, e.type);
                      ev.dataTransfer?.setData("text/plain", e.type);
                      if (ev.dataTransfer) ev.dataTransfer.effectAllowed = "copy";
                    }}
                    onDblClick={() => props.onAdd(e.type)}
                    onKeyDown={(ev) => {
                      if (ev.key === "Enter") {
                        ev.preventDefault();
                        props.onAdd(e.type);
                      } else if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
                        ev.preventDefault();
                        move(ev.currentTarget, ev.key === "ArrowDown" ? 1 : -1);
                      }
                    }}
                  >
                    <span class="palette-item-name">{e.type}</span>
                    <span class="palette-item-desc">{e.description}</span>
                  </button>
                )}
              </For>
            </section>
          )}
        </For>
        <Show when={groups().length === 0}>
          <p class="palette-empty">No node matches “{query()}”.</p>
        </Show>
      </div>
    </aside>
  );
}
