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

/** Where an autosave that could not be restored is kept, so the next edit does not overwrite the work. */
export const UNREADABLE_KEY = "gradwire.autosave.unreadable";

/** Keeps `text` under UNREADABLE_KEY; returns the key, or undefined when storage refused it. */
export function keepUnreadable(text: string): string | undefined {
  try {
    localStorage.setItem(UNREADABLE_KEY, text);
    return UNREADABLE_KEY;
  } catch {
    return undefined;
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
