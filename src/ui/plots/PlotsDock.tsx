/**
 * The plots under the canvas: loss per epoch (linear or log; the validation loss beside it, and the learning
 * rate on the right axis when a scheduler drives it), the validation metrics per epoch, each parameter's
 * trajectory with its gradient,
 * and, when the graph has sweep nodes, each sweep's curve (loss against prediction).
 */
import { createMemo, createSignal, For, Show } from "solid-js";
import type { ValueLike } from "../values/torchFormat.ts";
import { Chart, type ChartData, type SeriesSpec } from "./Chart.tsx";
import type { TrainingLog } from "./log.ts";

const COLORS = ["#4f5bd5", "#0e9f6e", "#db2777", "#d97706", "#0891b2", "#7c3aed", "#64748b", "#dc2626"];

export interface SweepCurve {
  nodeId: string;
  label: string;
  x: ValueLike;
  y: ValueLike;
}

export interface PlotsDockProps {
  log: TrainingLog;
  sweeps: () => SweepCurve[];
  /** Whether the graph can train (has an optimizer): otherwise the training plots give way to `hint`. */
  trains: () => boolean;
  hint: string;
}

export function PlotsDock(props: PlotsDockProps) {
  const log = props.log;
  const [logScale, setLogScale] = createSignal(false);
  // Gradients share the plot with values; with many parameters that is a thicket, so by default they show
  // only for small models, until the user decides.
  const [gradsChoice, setShowGrads] = createSignal<boolean | null>(null);
  const showGrads = () => gradsChoice() ?? log.series().length <= 6;

  // The validation loss (a DataLoader's validation data) beside the training loss, dashed; the learning rate
  // (a scheduler's) on the right axis.
  const lossSeries = createMemo<SeriesSpec[]>(() => [
    ...log
      .lossColumns()
      .map((c) =>
        c === "loss"
          ? { label: "loss", color: "var(--accent)" }
          : { label: "validation loss", color: COLORS[1], dash: [6, 3] },
      ),
    ...(log.hasLr() ? [{ label: "lr", color: COLORS[3], dash: [4, 3], scale: "y2" as const }] : []),
  ]);
  const lossData = (): ChartData => ({
    x: log.loss.xView(),
    ys: [...log.lossColumns().map((c) => log.loss.view(c)), ...(log.hasLr() ? [log.loss.view("lr")] : [])],
    n: log.loss.length,
  });
  const metricSeries = createMemo<SeriesSpec[]>(() =>
    log
      .metricColumns()
      .map((c, i) => ({ label: c.replace(/^val_/, "validation "), color: COLORS[(i + 2) % COLORS.length] })),
  );
  const metricData = (): ChartData => ({
    x: log.metrics.xView(),
    ys: log.metricColumns().map((c) => log.metrics.view(c)),
    n: log.metrics.length,
  });

  const paramSeries = createMemo<SeriesSpec[]>(() => {
    const s = log.series();
    const out: SeriesSpec[] = s.map((p, i) => ({ label: p.name, color: COLORS[i % COLORS.length] }));
    if (showGrads())
      out.push(
        ...s.map((p, i) => ({
          label: `∇${p.name}`,
          color: COLORS[i % COLORS.length],
          dash: [4, 3],
          scale: "y2" as const,
        })),
      );
    return out;
  });
  const paramData = (): ChartData => {
    const names = log.series().map((p) => p.name);
    const ys = names.map((n) => log.params.view(n));
    if (showGrads()) ys.push(...names.map((n) => log.grads.view(n)));
    return { x: log.params.xView(), ys, n: log.params.length };
  };

  const [collapsed, setCollapsed] = createSignal(false);
  const showTraining = () => props.trains() || log.loss.length > 0;
  const empty = () => log.version() >= 0 && log.loss.length === 0;

  return (
    <section
      class="plots"
      classList={{
        collapsed: collapsed(),
        slim: !collapsed() && !showTraining() && props.sweeps().length === 0,
      }}
      aria-label="Plots"
    >
      <button
        type="button"
        class="plots-toggle"
        title={collapsed() ? "Show the plots" : "Hide the plots"}
        onClick={() => setCollapsed((c) => !c)}
      >
        {collapsed() ? "▴ Plots" : "▾"}
      </button>
      <Show when={!collapsed()}>
        <Show
          when={showTraining()}
          fallback={
            <div class="plot-card plot-hint" data-testid="plot-hint">
              <p title={props.hint}>{props.hint}</p>
            </div>
          }
        >
          <div class="plot-card">
            <header class="plot-head">
              <h3>Loss</h3>
              <div class="seg" title="Loss scale">
                <button
                  type="button"
                  classList={{ on: !logScale() }}
                  data-testid="loss-linear"
                  onClick={() => setLogScale(false)}
                >
                  linear
                </button>
                <button
                  type="button"
                  classList={{ on: logScale() }}
                  data-testid="loss-log"
                  onClick={() => setLogScale(true)}
                >
                  log
                </button>
              </div>
            </header>
            <Chart
              testid="plot-loss"
              series={lossSeries}
              data={lossData}
              version={log.version}
              log={logScale}
              xLabel="epoch"
              yLabel={logScale() ? "loss (log)" : "loss"}
              y2Label={log.hasLr() ? "learning rate" : undefined}
              integerX
              sync="epoch"
            />
            <Show when={empty()}>
              <div class="plot-empty">Press Run to train; the loss of every epoch appears here.</div>
            </Show>
          </div>
          <Show when={log.metricColumns().length > 0}>
            <div class="plot-card">
              <header class="plot-head">
                <h3>Validation metrics</h3>
              </header>
              <Chart
                testid="plot-metrics"
                series={metricSeries}
                data={metricData}
                version={log.version}
                xLabel="epoch"
                yLabel="metric"
                integerX
                sync="epoch"
              />
            </div>
          </Show>
          <div class="plot-card">
            <header class="plot-head">
              <h3>Parameters</h3>
              <label class="check">
                <input
                  type="checkbox"
                  checked={showGrads()}
                  onChange={(e) => setShowGrads(e.currentTarget.checked)}
                />
                gradients (dashed, right axis)
              </label>
            </header>
            <Chart
              testid="plot-params"
              series={paramSeries}
              data={paramData}
              version={log.version}
              xLabel="epoch"
              yLabel="value"
              y2Label={showGrads() ? "gradient" : undefined}
              integerX
              sync="epoch"
              // Up to six lines per trained tensor, twice with the gradients: ten redraws a second, not thirty.
              minIntervalMs={100}
            />
            <Show when={empty()}>
              <div class="plot-empty">Each trained tensor's values, and their gradients, per epoch.</div>
            </Show>
            <Show when={log.truncated().length > 0}>
              <p class="plot-note">
                Showing the first {6} elements of {log.truncated().join(", ")}.
              </p>
            </Show>
          </div>
        </Show>
        <For each={props.sweeps()}>
          {(s) => (
            <div class="plot-card">
              <header class="plot-head">
                <h3>
                  Sweep <span class="mono">{s.label}</span>
                </h3>
              </header>
              <Chart
                testid={`plot-sweep-${s.nodeId}`}
                series={() => [{ label: "loss", color: "var(--g-losses)" }]}
                data={() => ({ x: s.x.data, ys: [s.y.data], n: Math.min(s.x.data.length, s.y.data.length) })}
                version={() => s.x.data.length}
                xLabel="prediction"
                yLabel="loss"
                scatter
              />
            </div>
          )}
        </For>
      </Show>
    </section>
  );
}
