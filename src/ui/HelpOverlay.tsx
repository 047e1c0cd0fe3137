/** The help overlay: every keyboard shortcut and canvas gesture, from the same list the handler uses. */
import { For, onMount } from "solid-js";
import { Icon } from "./icons.tsx";
import { SHORTCUTS } from "./keyboard.ts";

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
          <div>
            <h3>Keys</h3>
            <table class="help-table">
              <tbody>
                <For each={SHORTCUTS.filter((s) => !s.gesture)}>
                  {(s) => (
                    <tr>
                      <td>
                        <kbd>{s.keys}</kbd>
                      </td>
                      <td>{s.what}</td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
          </div>
          <div>
            <h3>Pointer</h3>
            <table class="help-table">
              <tbody>
                <For each={SHORTCUTS.filter((s) => s.gesture)}>
                  {(s) => (
                    <tr>
                      <td>
                        <kbd>{s.keys}</kbd>
                      </td>
                      <td>{s.what}</td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
          </div>
        </div>
      </div>
    </div>
  );
}
