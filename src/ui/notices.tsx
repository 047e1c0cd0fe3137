/**
 * Messages to the user: short toasts that fade, and problem reports (a bad file, a diverged run) that stay
 * until dismissed and list every problem with where it is.
 */
import { createSignal, For, Show } from "solid-js";
import { Icon } from "./icons.tsx";

export interface Notice {
  id: number;
  kind: "info" | "warn" | "error";
  title: string;
  lines?: string[];
  /** Sticky notices stay until closed (file problems must be readable). */
  sticky?: boolean;
  testid?: string;
}

const [notices, setNotices] = createSignal<Notice[]>([]);
let next = 1;

export function notify(n: Omit<Notice, "id">): number {
  const id = next++;
  // A problem report replaces the passing news before it, so the two never read as one story.
  setNotices((l) => [
    ...l.filter((x) => !(x.testid && x.testid === n.testid) && !(n.kind === "error" && x.kind === "info")),
    { ...n, id },
  ]);
  if (!n.sticky) setTimeout(() => dismiss(id), n.kind === "error" ? 8000 : 2500);
  return id;
}

export function dismiss(id: number): void {
  setNotices((l) => l.filter((n) => n.id !== id));
}

export function dismissAll(): void {
  setNotices([]);
}

export function Notices() {
  return (
    <div class="notices" aria-live="polite">
      <For each={notices()}>
        {(n) => (
          <div
            class={`notice ${n.kind}`}
            data-testid={n.testid ?? `notice-${n.kind}`}
            role={n.kind === "error" ? "alert" : "status"}
          >
            <div class="notice-head">
              <Icon name={n.kind === "info" ? "check" : n.kind === "warn" ? "warn" : "error"} />
              <span class="notice-title">{n.title}</span>
              <button type="button" class="icon-btn" title="Dismiss" onClick={() => dismiss(n.id)}>
                <Icon name="close" />
              </button>
            </div>
            <Show when={n.lines && n.lines.length > 0}>
              <ul class="notice-lines">
                <For each={n.lines}>{(l) => <li>{l}</li>}</For>
              </ul>
            </Show>
          </div>
        )}
      </For>
    </div>
  );
}
