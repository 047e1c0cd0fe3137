/**
 * "See what the model learned": a dock under the plots with four views, one open at a time (closed, it is a
 * strip of tabs and costs nothing): the model (decision boundary or regression line, confusion matrix), the
 * loss landscape with the optimizer's path (and slices along directions), the runs compared, and the layers'
 * histograms over epochs. Only the open view asks the worker for anything.
 */
import { For, type JSX, Match, Show, Switch } from "solid-js";
import "./insight.css";
import { LandscapeCard, SlicesCard } from "./LandscapeCards.tsx";
import { BoundaryCard, ConfusionCard } from "./ModelCards.tsx";
import { LayersCard, RunsCard, SweepsCard } from "./RunCards.tsx";
import type { Insight, InsightTab } from "./store.ts";

const TABS: { id: InsightTab; label: string; title: string }[] = [
  {
    id: "model",
    label: "Model",
    title: "The decision boundary (or regression line) and the confusion matrix",
  },
  { id: "landscape", label: "Landscape", title: "The loss around the parameters, with the optimizer's path" },
  { id: "runs", label: "Runs", title: "Compare the loss curves of runs; download a run's history" },
  { id: "layers", label: "Layers", title: "Histograms of each tensor's values and gradients over epochs" },
];

const KEY = "gradwire.insight";

/** The view open last time, if any. */
export function savedTab(): InsightTab | null {
  try {
    const t = localStorage.getItem(KEY);
    return TABS.some((x) => x.id === t) ? (t as InsightTab) : null;
  } catch {
    return null;
  }
}

function saveTab(t: InsightTab | null): void {
  try {
    if (t) localStorage.setItem(KEY, t);
    else localStorage.removeItem(KEY);
  } catch {
    // not remembering is fine
  }
}

export function InsightDock(props: { insight: Insight }): JSX.Element {
  const ins = props.insight;
  const open = (t: InsightTab | null) => {
    ins.open(t);
    saveTab(t);
  };
  return (
    <section class="insight" classList={{ open: ins.tab() !== null }} aria-label="What the model learned">
      <div class="insight-tabs" role="tablist">
        <span class="insight-title">Insight</span>
        <For each={TABS}>
          {(t) => (
            <button
              type="button"
              role="tab"
              aria-selected={ins.tab() === t.id}
              classList={{ on: ins.tab() === t.id }}
              data-testid={`insight-${t.id}`}
              title={t.title}
              onClick={() => open(ins.tab() === t.id ? null : t.id)}
            >
              {t.label}
            </button>
          )}
        </For>
        <Show when={ins.tab() !== null}>
          <button type="button" class="insight-close" title="Close the view" onClick={() => open(null)}>
            ▾
          </button>
        </Show>
      </div>
      <Show when={ins.tab() !== null}>
        <div class="insight-body" role="tabpanel">
          <Switch>
            <Match when={ins.tab() === "model"}>
              <BoundaryCard insight={ins} />
              <ConfusionCard insight={ins} />
            </Match>
            <Match when={ins.tab() === "landscape"}>
              <LandscapeCard insight={ins} />
              <Show
                when={ins.trained().reduce((n, t) => n + t.numel, 0) > 2}
                fallback={<BoundaryCard insight={ins} />}
              >
                <SlicesCard insight={ins} />
              </Show>
            </Match>
            <Match when={ins.tab() === "runs"}>
              <RunsCard insight={ins} />
              <SweepsCard insight={ins} />
            </Match>
            <Match when={ins.tab() === "layers"}>
              <LayersCard insight={ins} />
            </Match>
          </Switch>
        </div>
      </Show>
    </section>
  );
}
