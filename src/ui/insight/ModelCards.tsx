/**
 * What the model learned: its decision boundary over the input plane with the data on top (or its regression
 * line through the data), and, for a classifier, the confusion matrix of its predictions on the data.
 */
import { createMemo, For, Show } from "solid-js";
import { theme } from "../theme.ts";
import { torchScalar } from "../values/torchFormat.ts";
import {
  argmaxClass,
  CLASS_COLORS,
  classImage,
  confusion,
  parseColor,
  rgb,
  scalarImage,
} from "./colormap.ts";
import { FieldPlot, type Overlay } from "./FieldPlot.tsx";
import { nearestCell } from "./fields.ts";
import type { Insight } from "./store.ts";

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

const isClassifier = (task: string) => task !== "regression";

export function BoundaryCard(props: { insight: Insight }) {
  const b = () => props.insight.boundary();
  const grid = createMemo(() => {
    const r = b();
    if (!r) return undefined;
    const n = r.n;
    const lin = (lo: number, hi: number) =>
      Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
    return { xs: lin(r.extent[0], r.extent[1]), ys: r.dims === 2 ? lin(r.extent[2], r.extent[3]) : [] };
  });

  /** The plot's range: the grid's cells (a plane), or the data and the line (a curve). */
  const bounds = createMemo(() => {
    const r = b();
    if (!r) return undefined;
    const hx = (r.extent[1] - r.extent[0]) / (2 * (r.n - 1));
    if (r.dims === 2) {
      const hy = (r.extent[3] - r.extent[2]) / (2 * (r.n - 1));
      return [r.extent[0] - hx, r.extent[1] + hx, r.extent[2] - hy, r.extent[3] + hy];
    }
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const arr of [r.grid, r.targets ?? []])
      for (const v of arr)
        if (Number.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
    if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
    const pad = (hi - lo || 1) * 0.08;
    return [r.extent[0], r.extent[1], lo - pad, hi + pad];
  });

  const image = createMemo(() => {
    const r = b();
    const bb = bounds();
    if (r?.dims !== 2 || !bb) return undefined;
    theme();
    const bg = parseColor(cssVar("--panel") || "#ffffff");
    const img = isClassifier(r.task)
      ? classImage(r.grid, r.channels, r.n, bg)
      : scalarImage(r.grid, r.n, r.n);
    return { image: img, rect: bb };
  });

  const overlay = (o: Overlay) => {
    const r = b();
    const g = grid();
    if (!r || !g) return;
    const { ctx, px } = o;
    const stroke = cssVar("--panel") || "#fff";
    if (r.dims === 1) {
      // The regression line over the grid, then the data.
      ctx.strokeStyle = cssVar("--accent") || "#4f5bd5";
      ctx.lineWidth = 2.5 * px;
      ctx.beginPath();
      g.xs.forEach((x, i) => {
        const X = o.x(x);
        const Y = o.y(r.grid[i]);
        if (i === 0) ctx.moveTo(X, Y);
        else ctx.lineTo(X, Y);
      });
      ctx.stroke();
      if (r.targets)
        for (let k = 0; k < r.points.length; k++) {
          ctx.beginPath();
          ctx.arc(o.x(r.points[k]), o.y(r.targets[k]), 4 * px, 0, 2 * Math.PI);
          ctx.fillStyle = cssVar("--g-losses") || "#db2777";
          ctx.fill();
          ctx.lineWidth = 1.5 * px;
          ctx.strokeStyle = stroke;
          ctx.stroke();
        }
      return;
    }
    const danger = cssVar("--text") || "#111";
    for (let k = 0; k < r.points.length / 2; k++) {
      const t = r.targets ? Math.round(r.targets[k]) : argmaxClass(r.predicted, r.channels, k);
      const wrong = r.targets && isClassifier(r.task) && argmaxClass(r.predicted, r.channels, k) !== t;
      ctx.beginPath();
      ctx.arc(o.x(r.points[2 * k]), o.y(r.points[2 * k + 1]), (wrong ? 3.6 : 2.6) * px, 0, 2 * Math.PI);
      ctx.fillStyle = isClassifier(r.task) ? rgb(CLASS_COLORS[Math.max(0, t) % CLASS_COLORS.length]) : stroke;
      ctx.fill();
      ctx.lineWidth = (wrong ? 1.6 : 0.8) * px;
      ctx.strokeStyle = wrong ? danger : stroke;
      ctx.stroke();
    }
  };

  const readout = (x: number, y: number) => {
    const r = b();
    const g = grid();
    if (!r || !g) return undefined;
    if (r.dims === 1) {
      const v = nearestCell(r.grid, g.xs, [0], x, 0);
      return v === undefined ? undefined : `prediction ${torchScalar(v, "float32")}`;
    }
    const n = r.n;
    const fi = Math.round(((x - g.xs[0]) / (g.xs[n - 1] - g.xs[0])) * (n - 1));
    const fj = Math.round(((y - g.ys[0]) / (g.ys[n - 1] - g.ys[0])) * (n - 1));
    if (fi < 0 || fi >= n || fj < 0 || fj >= n) return undefined;
    const cell = fj * n + fi;
    if (!isClassifier(r.task)) return `prediction ${torchScalar(r.grid[cell], "float32")}`;
    const c = argmaxClass(r.grid, r.channels, cell);
    const p = r.channels === 1 ? (c === 1 ? r.grid[cell] : 1 - r.grid[cell]) : r.grid[cell * r.channels + c];
    return `class ${c} (p ${p.toFixed(3)})`;
  };

  const title = () => (b()?.dims === 1 ? "Regression line" : "Decision boundary");
  const epoch = () => props.insight.lastRecord()?.epoch;

  return (
    <div class="plot-card insight-card square">
      <header class="plot-head">
        <h3>{title()}</h3>
        <Show when={epoch() !== undefined}>
          <span class="insight-meta">after epoch {(epoch() ?? 0) + 1}</span>
        </Show>
        <Show when={b() && isClassifier(b()!.task)}>
          <span class="insight-legend">
            <For each={Array.from({ length: Math.max(2, b()!.channels) }, (_, c) => c)}>
              {(c) => (
                <span class="insight-key">
                  <i style={{ background: rgb(CLASS_COLORS[c % CLASS_COLORS.length]) }} /> class {c}
                </span>
              )}
            </For>
          </span>
        </Show>
      </header>
      <Show
        when={!props.insight.boundaryError()}
        fallback={<p class="insight-empty">{props.insight.boundaryError()}</p>}
      >
        <FieldPlot
          testid="plot-boundary"
          bounds={bounds}
          image={image}
          overlay={overlay}
          version={props.insight.boundaryVersion}
          xLabel={b()?.dims === 1 ? "x" : "x₀"}
          yLabel={b()?.dims === 1 ? "y" : "x₁"}
          readout={readout}
        />
      </Show>
    </div>
  );
}

export function ConfusionCard(props: { insight: Insight }) {
  const m = createMemo(() => {
    const r = props.insight.boundary();
    if (!r?.targets || !isClassifier(r.task)) return undefined;
    return confusion(r.targets, r.predicted, r.channels);
  });
  return (
    <Show when={m()}>
      {(cm) => (
        <div class="plot-card insight-card confusion-card" data-testid="plot-confusion">
          <header class="plot-head">
            <h3>Confusion matrix</h3>
            <span class="insight-meta">
              accuracy {(cm().correct / Math.max(1, cm().total)).toFixed(4)} ({cm().correct} of {cm().total}
              {cm().total < (props.insight.boundary()?.samples ?? 0)
                ? `, a sample of ${props.insight.boundary()?.samples}`
                : ""}
              )
            </span>
          </header>
          <table class="confusion">
            <thead>
              <tr>
                <th class="corner">true ↓ · predicted →</th>
                <For each={cm().counts}>{(_, c) => <th>{c()}</th>}</For>
              </tr>
            </thead>
            <tbody>
              <For each={cm().counts}>
                {(row, t) => {
                  const total = () => row.reduce((a, b) => a + b, 0) || 1;
                  return (
                    <tr>
                      <th>{t()}</th>
                      <For each={row}>
                        {(count, p) => (
                          <td
                            classList={{ diag: t() === p() }}
                            style={{
                              background: rgb(
                                CLASS_COLORS[(t() === p() ? t() : p()) % CLASS_COLORS.length],
                                0.08 + 0.7 * (count / total()),
                              ),
                            }}
                            title={`${count} samples of class ${t()} predicted as ${p()}`}
                          >
                            {count}
                          </td>
                        )}
                      </For>
                    </tr>
                  );
                }}
              </For>
            </tbody>
          </table>
        </div>
      )}
    </Show>
  );
}
