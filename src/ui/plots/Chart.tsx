/**
 * A uPlot chart that streams: the caller bumps `version` whenever its table grows, and the chart redraws at most
 * once per animation frame, decimating past DOWNSAMPLE_ABOVE points. Hovering shows the values in the legend.
 */
import { createEffect, onCleanup, onMount } from "solid-js";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { theme } from "../theme.ts";
import { torchScalar } from "../values/torchFormat.ts";
import { fromPlotted, linearSplits, type Plotted, plotFactor, plottedSplits, toPlotted } from "./axes.ts";
import { DOWNSAMPLE_ABOVE, decimate } from "./downsample.ts";
import { frameLoop } from "./frame.ts";

export interface SeriesSpec {
  label: string;
  color: string;
  dash?: number[];
  /** Which y scale: "y" (left) or "y2" (right, e.g. gradients beside values). */
  scale?: "y" | "y2";
  points?: boolean;
}

export interface ChartData {
  x: ArrayLike<number>;
  ys: ArrayLike<number>[];
  n: number;
}

export interface ChartProps {
  testid: string;
  series: () => SeriesSpec[];
  data: () => ChartData;
  /** Bumped when the data grew; read reactively, the data itself is read only when drawing. */
  version: () => number;
  log?: () => boolean;
  /** Names the x values in the legend and on the x axis (epoch, prediction). */
  xLabel: string;
  /** The y axis's title (loss, value), and the right axis's when a series uses it. */
  yLabel?: string;
  y2Label?: string;
  /** Ticks at whole numbers only (epochs). */
  integerX?: boolean;
  height?: number;
  /** Draw points only (a sweep's samples), not lines. */
  scatter?: boolean;
  /** Charts with the same key share the cursor (uPlot's cursor sync), e.g. "epoch". */
  sync?: string;
  /** The least time between two redraws while the data streams (ms); default 33. */
  minIntervalMs?: number;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

/** Canvas strokes cannot use CSS variables: resolve `var(--x)` to the theme's current colour. */
function resolveColor(c: string): string {
  const m = /^var\((--[\w-]+)\)$/.exec(c.trim());
  return m ? cssVar(m[1]) : c;
}

const AXIS_FONT = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const LABEL_FONT = "bold 11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
let measurer: CanvasRenderingContext2D | null | undefined;

/** The drawn width of a tick label at the axis font (8 px a character where there is no canvas to measure). */
function textWidth(text: string): number {
  if (measurer === undefined) measurer = document.createElement("canvas").getContext?.("2d") ?? null;
  if (!measurer) return text.length * 8;
  measurer.font = AXIS_FONT;
  return measurer.measureText(text).width;
}

/** An axis wide enough for its widest tick label, plus the ticks, the gap and the axis title. */
function axisSize(_u: uPlot, values: string[] | null): number {
  const widest = (values ?? []).reduce((m, v) => Math.max(m, textWidth(String(v ?? ""))), 0);
  return Math.max(30, Math.ceil(widest) + 18);
}

/** Numbers on axes and in the legend: short, but never hiding the magnitude. */
export function tick(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return v === null ? "–" : String(v);
  const a = Math.abs(v);
  // The shortest exponent form of 3 significant digits: 1e+300, 2.5e+307.
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return Number(v.toPrecision(3)).toExponential();
  return String(Number(v.toPrecision(5)));
}

export function Chart(props: ChartProps) {
  let host!: HTMLDivElement;
  let plot: uPlot | null = null;
  let drawn = 0;
  /** How each y scale's plotted numbers stand for values (set with the data, read by ticks and the legend). */
  const plotted: Record<"y" | "y2", Plotted> = {
    y: { log: false, factor: 1 },
    y2: { log: false, factor: 1 },
  };
  const ticksOf = (sc: "y" | "y2") => (_u: uPlot, vs: number[]) =>
    vs.map((v) => tick(fromPlotted(v, plotted[sc])));
  const splitsOf = (sc: "y" | "y2") => (_u: uPlot, _i: number, min: number, max: number) =>
    plottedSplits(min, max, plotted[sc]);

  /** The legend's height as last laid out (it sits under the canvas, inside the host). */
  let legendHeight: number | undefined;
  const measureLegend = () => {
    const el = plot?.root.querySelector<HTMLElement>(".u-legend");
    if (el) legendHeight = el.offsetHeight;
    return legendHeight ?? 0;
  };

  /** The plot fills its box: the host's size less the legend under the canvas. */
  const size = (legend = measureLegend()) => ({
    width: Math.max(100, host.clientWidth),
    height: Math.max(60, (props.height ?? host.clientHeight) - legend - 4),
  });

  /** Resize the plot to its box, when it is not that size already (a resize redraws). */
  const fitToBox = (): boolean => {
    if (!plot) return false;
    const want = size();
    if (Math.abs(plot.width - want.width) <= 1 && Math.abs(plot.height - want.height) <= 1) return false;
    plot.setSize(want);
    return true;
  };

  const draw = () => {
    if (!plot) return;
    const d = props.data();
    const width = Math.max(100, plot.width);
    // More points than a few per pixel cannot be seen, only paid for: decimate (min/max per pixel bucket) once
    // the series outgrows the plot, and always past DOWNSAMPLE_ABOVE.
    const buckets = d.n > DOWNSAMPLE_ABOVE || d.n > 4 * width ? width : Number.POSITIVE_INFINITY;
    const dec = decimate(d.x, d.ys, d.n, buckets);
    const log = props.log?.() ?? false;
    const specs = props.series();
    const scaleOf = (i: number) => specs[i]?.scale ?? "y";
    for (const sc of ["y", "y2"] as const)
      plotted[sc] = {
        log: log && sc === "y",
        factor: plotFactor(dec.ys.filter((_, i) => scaleOf(i) === sc)),
      };
    const ys = dec.ys.map((y, i) => toPlotted(y, plotted[scaleOf(i)]));
    // uPlot marks gaps with null; a NaN it would draw to (a run that ended before another, in the run overlay).
    const gaps = (y: Float64Array): ArrayLike<number | null> => {
      let first = 0;
      while (first < y.length && !Number.isNaN(y[first])) first++;
      if (first === y.length) return y;
      const out: (number | null)[] = new Array(y.length);
      for (let i = 0; i < y.length; i++) out[i] = Number.isNaN(y[i]) ? null : y[i];
      return out;
    };
    plot.setData([dec.x, ...ys.map(gaps)] as unknown as uPlot.AlignedData);
    drawn = d.n;
    // An empty chart (after a reset) hides its axes and grid by CSS: the last run's scale would linger otherwise.
    host.dataset.points = String(d.n);
    host.dataset.drawnPoints = String(dec.x.length);
  };
  // At most once per frame, and at most ~30 times a second (or as the caller says): enough to watch a run, cheap
  // enough to keep the page responsive while records stream in. Each draw decimates the whole series, so past
  // 165k points they come further apart, 1 ms per 5,000 points (a run of a million epochs: five a second).
  const loop = frameLoop(draw, undefined, undefined, () => Math.max(props.minIntervalMs ?? 33, drawn / 5000));

  const build = () => {
    plot?.destroy();
    const specs = props.series();
    const axisStroke = cssVar("--text-dim");
    const grid = cssVar("--grid");
    const hasY2 = specs.some((s) => s.scale === "y2");
    // Sized once, from the box and the legend's height: the last plot's legend, or a one-line legend's 24 px
    // on the first build. A legend that turns out otherwise (a new series wrapped onto a second line) is
    // corrected below, once it is laid out.
    const initial = size(legendHeight ?? 24);
    const opts: uPlot.Options = {
      ...initial,
      legend: { live: true },
      cursor: {
        drag: { x: true, y: false },
        points: { size: 6 },
        ...(props.sync ? { sync: { key: props.sync } } : {}),
      },
      // A log scale plots log10 of the values on a linear scale (see axes.ts).
      scales: {
        x: { time: false },
        y: { auto: true },
        ...(hasY2 ? { y2: { auto: true } } : {}),
      },
      // Ticks from axes.ts: a handful of round values for any range up to 1e308 (a diverging run), whole epochs.
      axes: [
        {
          stroke: axisStroke,
          font: AXIS_FONT,
          labelFont: LABEL_FONT,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          size: 26,
          label: props.xLabel,
          labelSize: 16,
          splits: (_u, _i, min, max) => linearSplits(min, max, 6, props.integerX ? 1 : 0),
          values: (_u, vs) => vs.map(tick),
        },
        {
          stroke: axisStroke,
          font: AXIS_FONT,
          labelFont: LABEL_FONT,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          size: axisSize,
          label: props.yLabel,
          labelSize: props.yLabel ? 16 : 0,
          splits: splitsOf("y"),
          values: ticksOf("y"),
        },
        ...(hasY2
          ? [
              {
                scale: "y2",
                side: 1 as const,
                stroke: axisStroke,
                font: AXIS_FONT,
                labelFont: LABEL_FONT,
                grid: { show: false },
                size: axisSize,
                label: props.y2Label,
                labelSize: props.y2Label ? 16 : 0,
                splits: splitsOf("y2"),
                values: ticksOf("y2"),
              },
            ]
          : []),
      ],
      series: [
        { label: props.xLabel, value: (_u, v) => tick(v) },
        // Hover values as PyTorch prints a 0-d float tensor (`0.2942`, `1.2346e-05`): the same numbers the
        // status line and the nodes show.
        ...specs.map((s) => ({
          label: s.label,
          stroke: resolveColor(s.color),
          width: 1.5,
          dash: s.dash,
          scale: s.scale ?? "y",
          value: (_u: uPlot, v: number | null) =>
            v === null ? "–" : torchScalar(fromPlotted(v, plotted[s.scale ?? "y"]), "float32"),
          spanGaps: false,
          points: props.scatter ? { show: true, size: 5, fill: resolveColor(s.color) } : { show: false },
          paths: props.scatter ? () => null : undefined,
        })),
      ],
    };
    plot = new uPlot(opts, [[], ...specs.map(() => [])] as unknown as uPlot.AlignedData, host);
    fitToBox();
    drawn = -1;
    draw();
  };

  onMount(() => {
    const ro = new ResizeObserver(() => {
      if (fitToBox()) loop.request();
    });
    ro.observe(host);
    onCleanup(() => ro.disconnect());
  });

  // Rebuilt when what is plotted (series, scale, theme) changes; cheap and rare.
  createEffect(() => {
    props.series();
    props.log?.();
    theme();
    build();
  });

  createEffect(() => {
    props.version();
    if (props.data().n !== drawn) loop.request();
  });

  onCleanup(() => {
    loop.dispose();
    plot?.destroy();
    plot = null;
  });

  return <div class="chart" data-testid={props.testid} ref={host} />;
}
