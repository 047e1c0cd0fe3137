/**
 * Light and dark themes: the choice is remembered, defaults to the system's preference, and is applied as
 * `data-theme` on <html>, where the CSS custom properties of styles/theme.css switch over.
 */
import { createRoot, createSignal } from "solid-js";

export type Theme = "light" | "dark";
const KEY = "gradwire.theme";

function initial(): Theme {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved === "light" || saved === "dark") return saved;
  } catch {
    // storage may be unavailable (private mode); fall through to the system preference
  }
  return typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches
    ? "dark"
    : "light";
}

const [theme, setThemeSignal] = createRoot(() => createSignal<Theme>(initial()));

export { theme };

export function applyTheme(t: Theme = theme()): void {
  document.documentElement.dataset.theme = t;
}

export function setTheme(t: Theme): void {
  try {
    localStorage.setItem(KEY, t);
  } catch {
    // not persisting is fine
  }
  setThemeSignal(t);
  applyTheme(t);
}

export function toggleTheme(): void {
  setTheme(theme() === "dark" ? "light" : "dark");
}
