/** The editor's entry point: pick the graph to open (shared link, autosave, or empty), then render. */
import "@dschz/solid-flow/styles";
import "./styles/theme.css";
import "./styles/app.css";
import { ErrorBoundary } from "solid-js";
import { render } from "solid-js/web";
import { App } from "./App.tsx";
import { AUTOSAVE_KEY, keepUnreadable, loadLocal } from "./files/autosave.ts";
import { resolveStartup } from "./startup.ts";
import { applyTheme } from "./theme.ts";

/** Shown instead of a blank page if the editor fails while starting: the autosave is set aside, never lost. */
function StartFailure(props: { error: unknown }) {
  const restart = () => {
    const saved = loadLocal();
    if (saved) keepUnreadable(saved);
    try {
      localStorage.removeItem(AUTOSAVE_KEY);
    } catch {
      // nothing stored, nothing to remove
    }
    location.replace(location.pathname + location.search);
  };
  return (
    <main class="start-failure">
      <h1>gradwire could not open this graph</h1>
      <p>{props.error instanceof Error ? props.error.message : String(props.error)}</p>
      <button type="button" class="btn primary" onClick={restart}>
        Start with an empty graph (the autosaved one is kept aside)
      </button>
    </main>
  );
}

applyTheme();
const root = document.getElementById("root");
const startup = await resolveStartup(location.hash);
if (root)
  render(
    () => (
      <ErrorBoundary fallback={(e) => <StartFailure error={e} />}>
        <App startup={startup} />
      </ErrorBoundary>
    ),
    root,
  );
