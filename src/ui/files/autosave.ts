/**
 * Autosave: the graph file is written to localStorage shortly after each edit and read back on the next visit,
 * so closing the tab loses nothing.
 */
export const AUTOSAVE_KEY = "gradwire.autosave.v1";

export function saveLocal(text: string): void {
  try {
    localStorage.setItem(AUTOSAVE_KEY, text);
  } catch {
    // Storage full or disabled: autosave is best effort, export still works.
  }
}

export function loadLocal(): string | null {
  try {
    return localStorage.getItem(AUTOSAVE_KEY);
  } catch {
    return null;
  }
}

/** Calls `fn` once things have been quiet for `ms` (one write per burst of edits, not per keystroke). */
export function debounce<A extends unknown[]>(fn: (...a: A) => void, ms: number): (...a: A) => void {
  let t: ReturnType<typeof setTimeout> | undefined;
  return (...a: A) => {
    if (t !== undefined) clearTimeout(t);
    t = setTimeout(() => fn(...a), ms);
  };
}
