/**
 * Keyboard shortcuts, declared once: the handler and the help overlay both read SHORTCUTS, so the overlay can
 * never list a key that does nothing.
 */
import type { Editor } from "./state/editor.ts";

export interface ShortcutTargets {
  editor: Editor;
  help(): void;
  closeOverlays(): void;
  fitView(): void;
  focusSearch(): void;
  runPause?(): void;
  step?(): void;
  selectAll?(): void;
}

export interface Shortcut {
  keys: string;
  what: string;
  /** Pointer gestures are listed for the user but handled by the canvas. */
  gesture?: boolean;
  match?(e: KeyboardEvent): boolean;
  run?(t: ShortcutTargets): void;
}

const mod = (e: KeyboardEvent) => e.ctrlKey || e.metaKey;
const key = (e: KeyboardEvent, k: string) => e.key.toLowerCase() === k;

export const SHORTCUTS: Shortcut[] = [
  {
    keys: "Ctrl/⌘ Z",
    what: "Undo",
    match: (e) => mod(e) && !e.shiftKey && key(e, "z"),
    run: (t) => t.editor.undo(),
  },
  {
    keys: "Shift Ctrl/⌘ Z",
    what: "Redo",
    match: (e) => (mod(e) && e.shiftKey && key(e, "z")) || (e.ctrlKey && !e.shiftKey && key(e, "y")),
    run: (t) => t.editor.redo(),
  },
  {
    keys: "Delete / Backspace",
    what: "Delete the selected nodes and wires",
    match: (e) => !mod(e) && (e.key === "Delete" || e.key === "Backspace"),
    run: (t) => t.editor.deleteSelection(),
  },
  {
    keys: "Ctrl/⌘ C",
    what: "Copy the selection",
    match: (e) => mod(e) && key(e, "c"),
    run: (t) => copyToClipboard(t),
  },
  { keys: "Ctrl/⌘ V", what: "Paste", match: (e) => mod(e) && key(e, "v"), run: (t) => t.editor.paste() },
  {
    keys: "Ctrl/⌘ D",
    what: "Duplicate the selection",
    match: (e) => mod(e) && key(e, "d"),
    run: (t) => t.editor.duplicate(),
  },
  {
    keys: "Ctrl/⌘ G",
    what: "Group the selection as a reusable module",
    match: (e) => mod(e) && !e.shiftKey && key(e, "g"),
    run: (t) => t.editor.groupSelection(),
  },
  {
    keys: "Ctrl/⌘ A",
    what: "Select every node",
    match: (e) => mod(e) && key(e, "a"),
    run: (t) => t.editor.setSelection(Object.keys(t.editor.view().nodes)),
  },
  {
    keys: "Ctrl/⌘ Enter",
    what: "Run / pause training",
    match: (e) => mod(e) && e.key === "Enter",
    run: (t) => t.runPause?.(),
  },
  {
    keys: "Ctrl/⌘ →",
    what: "Train one epoch",
    match: (e) => mod(e) && e.key === "ArrowRight",
    run: (t) => t.step?.(),
  },
  { keys: "F", what: "Fit the graph in view", match: (e) => !mod(e) && key(e, "f"), run: (t) => t.fitView() },
  {
    keys: "/",
    what: "Search the palette",
    match: (e) => !mod(e) && e.key === "/",
    run: (t) => t.focusSearch(),
  },
  { keys: "?", what: "Show or hide this help", match: (e) => e.key === "?", run: (t) => t.help() },
  {
    keys: "Esc",
    what: "Close overlays, clear the selection",
    match: (e) => e.key === "Escape",
    run: (t) => dismiss(t),
  },
  { keys: "Enter (palette)", what: "Add the focused kind at the centre", gesture: true },
  { keys: "Double-click (palette)", what: "Add a kind at the centre", gesture: true },
  { keys: "Drag from palette", what: "Place a kind where it is dropped", gesture: true },
  {
    keys: "Drag a port",
    what: "Wire an output to an input (refused with the reason if it cannot fit)",
    gesture: true,
  },
  { keys: "Drag background / Space+drag", what: "Pan", gesture: true },
  { keys: "Wheel / pinch", what: "Zoom", gesture: true },
  { keys: "Shift+drag", what: "Box-select", gesture: true },
  { keys: "Ctrl/⌘ click", what: "Add to the selection", gesture: true },
  { keys: "Drop a .json file", what: "Import a graph", gesture: true },
  { keys: "Double-click a module", what: "Edit inside it (the breadcrumb leads back)", gesture: true },
];

function dismiss(t: ShortcutTargets): void {
  t.closeOverlays();
  t.editor.setSelection([]);
  t.editor.setEdgeSelection([]);
}

function copyToClipboard(t: ShortcutTargets): void {
  const clip = t.editor.copy();
  if (!clip) return;
  // The system clipboard is a convenience (paste into another tab); the in-app copy works without it.
  navigator.clipboard?.writeText(JSON.stringify(clip)).catch(() => {});
}

function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
}

export function installShortcuts(t: ShortcutTargets): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (typing(e.target) && e.key !== "Escape") return;
    for (const s of SHORTCUTS) {
      if (s.match?.(e)) {
        e.preventDefault();
        s.run?.(t);
        return;
      }
    }
  };
  window.addEventListener("keydown", onKey);
  return () => window.removeEventListener("keydown", onKey);
}
