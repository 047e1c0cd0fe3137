/** The help overlay: every keyboard shortcut and canvas gesture, from the same list the handler uses. */
import { For, onMount } from "solid-js";
import { Icon } from "./icons.tsx";
import { SHORTCUTS, type Shortcut } from "./keyboard.ts";

function ShortcutTable(props: { title: string; rows: Shortcut[] }) {
  return (
    <div>
      <h3>{props.title}</h3>
      <table class="help-table">
        <tbody>
          <For each={props.rows}>
            {(r) => (
              <tr>
                <td>
                  <kbd>{r.keys}</kbd>
                </td>
                <td>{r.what}</td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </div>
  );
}

export function HelpOverlay(props: { onClose: () => void }) {
  let panel!: HTMLDivElement;
  onMount(() => panel.focus());
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: clicking the backdrop closes; Esc does it by keyboard
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && props.onClose()} role="presentation">
      <div
        class="dialog help"
        role="dialog"
        aria-label="Keyboard shortcuts"
        tabIndex={-1}
        ref={panel}
        data-testid="help-overlay"
      >
        <header class="dialog-head">
          <h2>Keyboard shortcuts</h2>
          <button type="button" class="icon-btn" title="Close (Esc)" onClick={() => props.onClose()}>
            <Icon name="close" />
          </button>
        </header>
        <div class="help-cols">
          <ShortcutTable title="Keys" rows={SHORTCUTS.filter((x) => !x.gesture)} />
          <ShortcutTable title="Pointer" rows={SHORTCUTS.filter((x) => x.gesture)} />
        </div>
      </div>
    </div>
  );
}
