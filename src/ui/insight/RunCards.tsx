/**
 * Runs side by side: every run of the session (and the saved ones), chosen runs' loss curves overlaid with
 * what differs between them as the legend, and each run's history for download as CSV or JSON. Also the
 * inside of the network: histograms of each trained tensor's values and gradients over epochs.
 */
import { createMemo, createSignal, For, Show } from "solid-js";
import { downloadText } from "../files/download.ts";
import { Chart } from "../plots/Chart.tsx";
import { viridis } from "./colormap.ts";
import { FieldPlot } from "./FieldPlot.tsx";
import { histogramGrid } from "./fields.ts";
import { legendLabels, type Run, runCsv, runJson } from "./runs.ts";
import type { Insight } from "./store.ts";

const RUN_COLORS = ["#4f5bd5", "#db2777", "#0e9f6e", "#d97706", "#0891b2", "#7c3aed", "#64748b", "#dc2626"];

/** Points per run in the overlay: enough for the curve's shape at any card width, cheap at any run length. */
const OVERLAY_POINTS = 1000;

/** The loss of a run at epochs it may not have kept (a saved, thinned run): interpolated between neighbours. */
export function lossAt(run: Run, epochs: readonly number[]): Float64Array {
  const e = run.history.epochs;
  const l = run.history.losses;
  const out = new Float64Array(epochs.length).fill(Number.NaN);
  if (e.length === 0) return out;
  epochs.forEach((x, i) => {
    if (x < e[0] || x > e[e.length - 1]) return;
    // The last kept epoch at or before x (epochs ascend).
    let lo = 0;
    let hi = e.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (e[mid] <= x) lo = mid;
      else hi = mid - 1;
    }
    out[i] =
      e[lo] === x || lo + 1 >= e.length
        ? l[lo]
        : l[lo] + ((l[lo + 1] - l[lo]) * (x - e[lo])) / (e[lo + 1] - e[lo]);
  });
  return out;
}

/** The epochs the overlay samples: every epoch up to OVERLAY_POINTS of them, else evenly spread ones. */
export function overlayEpochs(last: number): number[] {
  if (last < 0) return [];
  if (last + 1 <= OVERLAY_POINTS) return Array.from({ length: last + 1 }, (_, i) => i);
  return Array.from({ length: OVERLAY_POINTS }, (_, i) => Math.round((i * last) / (OVERLAY_POINTS - 1)));
}

const fileBase = (run: Run) =>
  `${(run.title || "run")
    .replace(/[^\w-]+/g, "-")
    .replace(/^-|-$/g, "")
    .toLowerCase()}-run-${run.id}`;

export function RunsCard(props: { insight: Insight }) {
  const store = props.insight.runs;
  /** Runs unticked by the user; every other run is shown. */
  const [hidden, setHidden] = createSignal<ReadonlySet<number>>(new Set());
  const [logScale, setLogScale] = createSignal(true);
  const shown = createMemo(() => {
    props.insight.historyVersion();
    return store.runs().filter((r) => !hidden().has(r.id) && r.history.length > 0);
  });
  const labels = createMemo(() => legendLabels(shown()));
  const allLabels = createMemo(() => legendLabels(store.runs()));
  // The same series (labels and colours) as before keep the chart; only a changed list rebuilds it.
  const series = createMemo(
    () => shown().map((r, i) => ({ label: labels()[i], color: RUN_COLORS[(r.id - 1) % RUN_COLORS.length] })),
    undefined,
    {
      equals: (a, b) =>
        a.length === b.length && a.every((s, i) => s.label === b[i].label && s.color === b[i].color),
    },
  );
  const data = () => {
    props.insight.historyVersion();
    const runs = shown();
    const x = overlayEpochs(Math.max(-1, ...runs.map((r) => r.history.lastEpoch)));
    return { x, ys: runs.map((r) => lossAt(r, x)), n: x.length };
  };
  /** "100 ep · 0.2351": epochs so far and the last loss (read again as the history grows). */
  const summary = (r: Run) => {
    props.insight.historyVersion();
    const l = r.history.losses;
    return `${r.history.length} ep · ${l.length ? l[l.length - 1].toPrecision(4) : "–"}`;
  };
  const toggle = (id: number, on: boolean) =>
    setHidden((h) => {
      const next = new Set(h);
      if (on) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <>
      <div class="plot-card insight-card runs-list">
        <header class="plot-head">
          <h3>Runs</h3>
          <span class="insight-meta">{store.runs().length} kept</span>
        </header>
        <Show
          when={store.runs().length > 0}
          fallback={<p class="insight-empty">Each run you train is kept here.</p>}
        >
          <ul class="runs" data-testid="runs-list">
            <For each={store.runs()}>
              {(r, i) => (
                <li>
                  <label class="check">
                    <input
                      type="checkbox"
                      checked={!hidden().has(r.id)}
                      onChange={(e) => toggle(r.id, e.currentTarget.checked)}
                    />
                    <i class="swatch" style={{ background: RUN_COLORS[(r.id - 1) % RUN_COLORS.length] }} />
                    <span
                      class="run-name"
                      title={Object.entries(r.settings)
                        .map(([k, v]) => `${k} ${v}`)
                        .join(", ")}
                    >
                      {allLabels()[i()]}
                    </span>
                  </label>
                  <span class="insight-meta mono">{summary(r)}</span>
                  <button
                    type="button"
                    class="link"
                    title="Download this run's history as CSV"
                    onClick={() => downloadText(`${fileBase(r)}.csv`, runCsv(r), "text/csv")}
                  >
                    CSV
                  </button>
                  <button
                    type="button"
                    class="link"
                    title="Download this run's history as JSON"
                    onClick={() => downloadText(`${fileBase(r)}.json`, runJson(r), "application/json")}
                  >
                    JSON
                  </button>
                  <button
                    type="button"
                    class="link"
                    title="Forget this run"
                    onClick={() => store.remove(r.id)}
                  >
                    ✕
                  </button>
                </li>
              )}
            </For>
          </ul>
        </Show>
      </div>
      <div class="plot-card insight-card wide">
        <header class="plot-head">
          <h3>Loss of each run</h3>
          <div class="seg" title="Loss scale">
            <button type="button" classList={{ on: !logScale() }} onClick={() => setLogScale(false)}>
              linear
            </button>
            <button type="button" classList={{ on: logScale() }} onClick={() => setLogScale(true)}>
              log
            </button>
          </div>
        </header>
        <Chart
          testid="plot-runs"
          series={series}
          data={data}
          version={props.insight.historyVersion}
          log={logScale}
          xLabel="epoch"
          sync="epoch"
        />
      </div>
    </>
  );
}

/** Every sweep node's curve in one plot (one curve per sweep, over the values it swept). */
export function SweepsCard(props: { insight: Insight }) {
  const sweeps = () => props.insight.sweeps();
  const series = createMemo(() =>
    sweeps().map((s, i) => ({ label: s.label, color: RUN_COLORS[i % RUN_COLORS.length] })),
  );
  const data = () => {
    const list = sweeps();
    const set = new Set<number>();
    for (const s of list) for (let i = 0; i < s.x.length; i++) set.add(s.x[i]);
    const x = [...set].sort((a, b) => a - b);
    const ys = list.map((s) => {
      const at = new Map<number, number>();
      for (let i = 0; i < Math.min(s.x.length, s.y.length); i++) at.set(s.x[i], s.y[i]);
      return Float64Array.from(x, (v) => at.get(v) ?? Number.NaN);
    });
    return { x, ys, n: x.length };
  };
  return (
    <Show when={sweeps().length > 0}>
      <div class="plot-card insight-card wide">
        <header class="plot-head">
          <h3>Sweeps</h3>
          <span class="insight-meta">loss over each sweep's values</span>
        </header>
        <Chart
          testid="plot-sweeps"
          series={series}
          data={data}
          version={() => sweeps().reduce((n, s) => n + s.x.length, 0)}
          xLabel="value"
        />
      </div>
    </Show>
  );
}

export function LayersCard(props: { insight: Insight }) {
  const ins = props.insight;
  const [chosen, setChosen] = createSignal<string | undefined>(undefined);
  const tensors = createMemo(() => {
    ins.historyVersion();
    const s = ins.runs.current()?.history.last() ?? ins.runs.runs().at(-1)?.history.last();
    return s ? Object.keys(s.params) : [];
  });
  const tensor = () => {
    const c = chosen();
    return c && tensors().includes(c) ? c : tensors()[0];
  };
  const run = () => ins.runs.current() ?? ins.runs.runs().at(-1);

  const view = (which: "params" | "grads") => {
    const grid = createMemo(() => {
      ins.historyVersion();
      const t = tensor();
      const r = run();
      if (!t || !r) return undefined;
      const snaps = r.history.snapshots
        .filter((s) => s[which][t])
        .map((s) => ({ epoch: s.epoch, values: s[which][t] }));
      return histogramGrid(snaps);
    });
    const bounds = () => {
      const g = grid();
      if (!g) return undefined;
      const e0 = g.epochs[0];
      const e1 = Math.max(g.epochs[g.epochs.length - 1], e0 + 1);
      return [e0, e1, g.lo, g.hi];
    };
    const image = () => {
      const g = grid();
      const b = bounds();
      if (!g || !b) return undefined;
      // Each column scaled to its own peak: the shape of the distribution at that epoch, whatever its spread.
      const data = new Uint8ClampedArray(g.columns * g.bins * 4);
      for (let c = 0; c < g.columns; c++) {
        let peak = 0;
        for (let k = 0; k < g.bins; k++) peak = Math.max(peak, g.values[k * g.columns + c]);
        for (let k = 0; k < g.bins; k++) {
          const v = g.values[k * g.columns + c];
          if (v <= 0) continue;
          const col = viridis(0.15 + 0.85 * (v / (peak || 1)));
          const o = ((g.bins - 1 - k) * g.columns + c) * 4;
          data[o] = col[0];
          data[o + 1] = col[1];
          data[o + 2] = col[2];
          data[o + 3] = 255;
        }
      }
      return { image: { width: g.columns, height: g.bins, data }, rect: b };
    };
    return { grid, bounds, image };
  };
  const weights = view("params");
  const grads = view("grads");

  return (
    <>
      <div class="plot-card insight-card wide">
        <header class="plot-head">
          <h3>Values over epochs</h3>
          <Show when={tensors().length > 0}>
            <label class="insight-select">
              tensor
              <select
                data-testid="layers-tensor"
                value={tensor()}
                onChange={(e) => setChosen(e.currentTarget.value)}
              >
                <For each={tensors()}>{(t) => <option value={t}>{t}</option>}</For>
              </select>
            </label>
          </Show>
        </header>
        <Show
          when={tensors().length > 0}
          fallback={<p class="insight-empty">Train to see each tensor's histogram per epoch.</p>}
        >
          <FieldPlot
            testid="plot-hist-weights"
            bounds={weights.bounds}
            image={weights.image}
            smooth={false}
            version={ins.historyVersion}
            xLabel="epoch"
            yLabel={tensor() ?? "value"}
          />
        </Show>
      </div>
      <div class="plot-card insight-card wide">
        <header class="plot-head">
          <h3>Gradients over epochs</h3>
          <span class="insight-meta">{tensor() ? `∇${tensor()}` : ""}</span>
        </header>
        <Show
          when={tensors().length > 0}
          fallback={<p class="insight-empty">Vanishing gradients show as a band shrinking to 0.</p>}
        >
          <FieldPlot
            testid="plot-hist-grads"
            bounds={grads.bounds}
            image={grads.image}
            smooth={false}
            version={ins.historyVersion}
            xLabel="epoch"
            yLabel={`∇${tensor() ?? ""}`}
          />
        </Show>
      </div>
    </>
  );
}
