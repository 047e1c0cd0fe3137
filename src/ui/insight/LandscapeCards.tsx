/**
 * Where the optimizer walks: the loss over two parameter elements as a heatmap with contour lines (linear or
 * log colour), the path of the run epoch by epoch from its start and the current point; and, for a model
 * with more parameters, the loss along the gradient and random filter-normalised directions through it.
 */
import { createMemo, createSignal, For, Show } from "solid-js";
import type { ParamCoord } from "../../engine/landscape.ts";
import { Chart } from "../plots/Chart.tsx";
import { torchScalar } from "../values/torchFormat.ts";
import { rangeOf, rgb, scalarImage, viridis } from "./colormap.ts";
import { FieldPlot, type Overlay } from "./FieldPlot.tsx";
import { contourLevels, contourSegments, nearestCell } from "./fields.ts";
import type { Insight } from "./store.ts";

const SLICE_COLORS = ["var(--g-losses)", "#0e9f6e", "#d97706", "#0891b2"];

/** A coordinate's name: `params[0]`, or `w` for a one-element tensor. */
const coordName = (c: ParamCoord, numel: number) => (numel === 1 ? c.param : `${c.param}[${c.index}]`);
const coordKey = (c: ParamCoord) => `${c.param}\u0000${c.index}`;

function CoordSelect(props: {
  label: string;
  value: ParamCoord;
  options: { c: ParamCoord; name: string }[];
  onChange: (c: ParamCoord) => void;
  testid: string;
}) {
  return (
    <label class="insight-select">
      {props.label}
      <select
        data-testid={props.testid}
        value={coordKey(props.value)}
        onChange={(e) => {
          const o = props.options.find((x) => coordKey(x.c) === e.currentTarget.value);
          if (o) props.onChange(o.c);
        }}
      >
        <For each={props.options}>{(o) => <option value={coordKey(o.c)}>{o.name}</option>}</For>
      </select>
    </label>
  );
}

export function LandscapeCard(props: { insight: Insight }) {
  const ins = props.insight;
  const [log, setLog] = createSignal(true);
  const l = () => ins.landscape();
  const sizes = createMemo(() => new Map(ins.trained().map((t) => [t.id, t.numel])));
  const options = createMemo(() =>
    ins.trained().flatMap((t) =>
      Array.from({ length: Math.min(t.numel, 64) }, (_, i) => {
        const c = { param: t.id, index: i };
        return { c, name: coordName(c, t.numel) };
      }),
    ),
  );
  const name = (c: ParamCoord | undefined) => (c ? coordName(c, sizes().get(c.param) ?? 2) : "");

  const range = createMemo(() => {
    const v = l();
    return v ? rangeOf(v.loss, log()) : undefined;
  });
  const edges = createMemo(() => {
    const v = l();
    if (!v || v.xs.length < 2) return undefined;
    const hx = (v.xs[1] - v.xs[0]) / 2;
    const hy = (v.ys[1] - v.ys[0]) / 2;
    return [v.xs[0] - hx, v.xs[v.xs.length - 1] + hx, v.ys[0] - hy, v.ys[v.ys.length - 1] + hy];
  });
  const image = createMemo(() => {
    const v = l();
    const e = edges();
    if (!v || !e) return undefined;
    return { image: scalarImage(v.loss, v.xs.length, v.ys.length, { log: log(), range: range() }), rect: e };
  });
  const contours = createMemo(() => {
    const v = l();
    const r = range();
    if (!v || !r) return [];
    return contourLevels(r[0], r[1], 12, log()).map((level) => contourSegments(v.loss, v.xs, v.ys, level));
  });
  const version = createMemo(() => ins.landscapeVersion() * 4 + (log() ? 1 : 0) + ins.historyVersion() * 8);

  const overlay = (o: Overlay) => {
    const { ctx, px } = o;
    ctx.lineWidth = 1 * px;
    ctx.strokeStyle = "rgba(255,255,255,0.35)";
    ctx.beginPath();
    for (const segs of contours())
      for (let k = 0; k < segs.length; k += 4) {
        ctx.moveTo(o.x(segs[k]), o.y(segs[k + 1]));
        ctx.lineTo(o.x(segs[k + 2]), o.y(segs[k + 3]));
      }
    ctx.stroke();
    const p = ins.path();
    if (p.x.length === 0) return;
    // The path: a dark halo under a white line, a dot per kept epoch, a ring at the start, the current point.
    const line = (width: number, color: string) => {
      ctx.lineWidth = width * px;
      ctx.strokeStyle = color;
      ctx.lineJoin = "round";
      ctx.beginPath();
      ctx.moveTo(o.x(p.x[0]), o.y(p.y[0]));
      for (let i = 1; i < p.x.length; i++) ctx.lineTo(o.x(p.x[i]), o.y(p.y[i]));
      ctx.stroke();
    };
    line(4, "rgba(15,18,24,0.55)");
    line(1.8, "#ffffff");
    ctx.fillStyle = "#ffffff";
    const every = Math.max(1, Math.ceil(p.x.length / 120));
    for (let i = 0; i < p.x.length; i += every) {
      ctx.beginPath();
      ctx.arc(o.x(p.x[i]), o.y(p.y[i]), 1.8 * px, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.beginPath();
    ctx.arc(o.x(p.x[0]), o.y(p.y[0]), 5 * px, 0, 2 * Math.PI);
    ctx.lineWidth = 2 * px;
    ctx.strokeStyle = "#ffffff";
    ctx.stroke();
    const n = p.x.length - 1;
    ctx.beginPath();
    ctx.arc(o.x(p.x[n]), o.y(p.y[n]), 6 * px, 0, 2 * Math.PI);
    ctx.fillStyle = "#db2777";
    ctx.fill();
    ctx.lineWidth = 2.5 * px;
    ctx.strokeStyle = "#ffffff";
    ctx.stroke();
  };

  const readout = (x: number, y: number) => {
    const v = l();
    if (!v) return undefined;
    const loss = nearestCell(v.loss, v.xs, v.ys, x, y);
    return loss === undefined ? undefined : `loss ${torchScalar(loss, "float32")}`;
  };

  const current = () => {
    const p = ins.path();
    const n = p.x.length - 1;
    return n >= 0
      ? `${name(ins.chosen()?.a)} ${p.x[n].toFixed(4)}, ${name(ins.chosen()?.b)} ${p.y[n].toFixed(4)}`
      : "";
  };

  /** A colour bar: viridis from the lowest loss to the highest, labelled at the ends. */
  const bar = () => {
    const stops = Array.from({ length: 9 }, (_, k) => `${rgb(viridis(k / 8))} ${(k / 8) * 100}%`).join(", ");
    return `linear-gradient(to right, ${stops})`;
  };

  return (
    <div class="plot-card insight-card square wide">
      <header class="plot-head">
        <h3>Loss landscape</h3>
        <span
          class="insight-meta mono current"
          data-testid="landscape-current"
          title={l() ? `${l()!.xs.length}×${l()!.ys.length} grid` : "computing…"}
        >
          {current()}
        </span>
      </header>
      <div class="insight-tools">
        <Show when={ins.chosen()}>
          {(c) => (
            <>
              <CoordSelect
                label="x"
                testid="landscape-x"
                value={c().a}
                options={options()}
                onChange={(a) => ins.setCoords({ a, b: c().b })}
              />
              <CoordSelect
                label="y"
                testid="landscape-y"
                value={c().b}
                options={options()}
                onChange={(b) => ins.setCoords({ a: c().a, b })}
              />
            </>
          )}
        </Show>
        <div class="seg" title="Colour scale">
          <button
            type="button"
            classList={{ on: !log() }}
            data-testid="landscape-linear"
            onClick={() => setLog(false)}
          >
            linear
          </button>
          <button
            type="button"
            classList={{ on: log() }}
            data-testid="landscape-log"
            onClick={() => setLog(true)}
          >
            log
          </button>
        </div>
        <div class="seg zoom" title="Range">
          <button
            type="button"
            title="Show a wider range"
            data-testid="landscape-out"
            onClick={() => ins.zoom(2)}
          >
            −
          </button>
          <button
            type="button"
            title="Show a narrower range"
            data-testid="landscape-in"
            onClick={() => ins.zoom(0.5)}
          >
            +
          </button>
          <button
            type="button"
            title="Fit the range to the path"
            data-testid="landscape-fit"
            onClick={() => ins.fit()}
          >
            fit
          </button>
        </div>
      </div>
      <Show
        when={ins.chosen()}
        fallback={<p class="insight-empty">The landscape needs a model with at least two trained numbers.</p>}
      >
        <Show when={ins.landscapeError()}>
          <p class="insight-error">{ins.landscapeError()}</p>
        </Show>
        <FieldPlot
          testid="plot-landscape"
          bounds={edges}
          image={image}
          overlay={overlay}
          version={version}
          xLabel={name(ins.chosen()?.a)}
          yLabel={name(ins.chosen()?.b)}
          readout={readout}
          aside={() => (
            <span class="insight-foot">
              <span class="colorbar" style={{ background: bar() }} />
              <span class="mono">
                {range()
                  ? `${torchScalar(range()![0], "float32")} – ${torchScalar(range()![1], "float32")}`
                  : ""}
              </span>
            </span>
          )}
        />
      </Show>
    </div>
  );
}

export function SlicesCard(props: { insight: Insight }) {
  const ins = props.insight;
  const s = () => ins.slices();
  // A new answer has as many points as the last: the chart rebuilds from its series, made anew per answer.
  const series = createMemo(() =>
    (s()?.slices ?? []).map((x, i) => ({ label: x.label, color: SLICE_COLORS[i % SLICE_COLORS.length] })),
  );
  const data = () => {
    const v = s();
    return { x: v?.alphas ?? [], ys: v?.slices.map((x) => x.losses) ?? [], n: v?.alphas.length ?? 0 };
  };
  return (
    <div class="plot-card insight-card">
      <header class="plot-head">
        <h3>Loss along directions</h3>
        <span
          class="insight-meta"
          title="θ + α·d: d filter-normalised (Li et al. 2018); −gradient scaled to |θ|"
        >
          θ + α·d, d filter-normalised
        </span>
      </header>
      <Show when={ins.slicesError()}>
        <p class="insight-error">{ins.slicesError()}</p>
      </Show>
      <Chart
        testid="plot-slices"
        series={series}
        data={data}
        version={() => s()?.alphas.length ?? 0}
        xLabel="α"
      />
    </div>
  );
}
