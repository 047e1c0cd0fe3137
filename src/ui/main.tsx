/** The editor's entry point: pick the graph to open (shared link, autosave, or empty), then render. */
import "@dschz/solid-flow/styles";
import "./styles/theme.css";
import "./styles/app.css";
import { render } from "solid-js/web";
import { App } from "./App.tsx";
import { resolveStartup } from "./startup.ts";
import { applyTheme } from "./theme.ts";

applyTheme();
const root = document.getElementById("root");
const startup = await resolveStartup(location.hash);
if (root) render(() => <App startup={startup} />, root);
