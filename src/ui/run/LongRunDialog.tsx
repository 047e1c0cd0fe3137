/** The question before a very long run: what it would cost, which nodes make it so, and Run anyway or Cancel. */
import { For, onMount, Show } from "solid-js";
import { describeWork, type RunGuard } from "./longRun.ts";

export function LongRunDialog(props: { guard: RunGuard }) {
  return (
    <Show when={props.guard.pending()}>
      {(p) => {
        let cancel!: HTMLButtonElement;
        // Cancel has the focus: Enter or Escape by reflex does not start a run of minutes.
        onMount(() => cancel.focus());
        return (
          // biome-ignore lint/a11y/noStaticElementInteractions: clicking the backdrop cancels; Esc does it by keyboard
          <div
            class="overlay"
            role="presentation"
            onClick={(e) => e.target === e.currentTarget && props.guard.cancel()}
            onKeyDown={(e) => {
              if (e.key === "Escape") props.guard.cancel();
            }}
          >
            <div
              class="dialog long-run"
              role="alertdialog"
              aria-modal="true"
              aria-labelledby="long-run-title"
              data-testid="long-run-dialog"
            >
              <h2 id="long-run-title">This run would be very long</h2>
              <For each={describeWork(p().estimate)}>{(line) => <p class="long-run-text">{line}</p>}</For>
              <div class="dialog-actions">
                <button
                  type="button"
                  class="btn"
                  ref={cancel}
                  data-testid="long-run-cancel"
                  onClick={() => props.guard.cancel()}
                >
                  Cancel
                </button>
                <button
                  type="button"
                  class="btn primary"
                  data-testid="long-run-confirm"
                  onClick={() => props.guard.confirm()}
                >
                  Run anyway
                </button>
              </div>
            </div>
          </div>
        );
      }}
    </Show>
  );
}
