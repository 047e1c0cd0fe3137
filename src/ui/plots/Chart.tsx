/**
 * A uPlot chart that streams: the caller bumps `version` whenever its table grows, and the chart redraws at most
 * once per animation frame, decimating past DOWNSAMPLE_ABOVE points. Hovering shows the values in the legend.
 */
import { createEffect, onCleanup, onMount } from "solid-js";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { theme } from "../theme.ts";
import { torchScalar } from "../values/torchFormat.ts";
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
  /** Names the x values in the legend (epoch, prediction). */
  xLabel: string;
  height?: number;
  /** Draw points only (a sweep's samples), not lines. */
  scatter?: boolean;
  /** Charts with the same key share the cursor (uPlot's cursor sync), e.g. "epoch". */
  sync?: string;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

/** Canvas strokes cannot use CSS variables: resolve `var(--x)` to the theme's current colour. */
function resolveColor(c: string): string {
  const m = /^var\((--[\w-]+)\)$/.exec(c.trim());
  return m ? cssVar(m[1]) : c;
}

/** An axis wide enough for its longest tick label (7px a character at the axis font, plus the ticks). */
function axisSize(_u: uPlot, values: string[] | null): number {
  const longest = (values ?? []).reduce((m, v) => Math.max(m, String(v ?? "").length), 0);
  return Math.max(30, longest * 7 + 16);
}

/** Numbers on axes and in the legend: short, but never hiding the magnitude. */
export function tick(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return v === null ? "–" : String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return String(Number(v.toPrecision(5)));
}

export function Chart(props: ChartProps) {
  let host!: HTMLDivElement;
  let plot: uPlot | null = null;
  let drawn = 0;

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
    const ys = props.log?.() ? dec.ys.map((y) => y.map((v) => (v > 0 ? v : Number.NaN))) : dec.ys;
    // uPlot marks gaps with null; a NaN it would draw to (a run that ended before another, in the run overlay).
    const gaps = (y: Float64Array) =>
      y.some(Number.isNaN) ? Array.from(y, (v) => (Number.isNaN(v) ? null : v)) : y;
    plot.setData([dec.x, ...ys.map(gaps)] as unknown as uPlot.AlignedData);
    drawn = d.n;
    host.dataset.points = String(d.n);
    host.dataset.drawnPoints = String(dec.x.length);
  };
  // At most once per frame, and at most ~30 times a second: enough to watch a run, cheap enough to keep the
  // page responsive while records stream in.
  const loop = frameLoop(draw, undefined, undefined, 33);

  const build = () => {
    plot?.destroy();
    const specs = props.series();
    const axisStroke = cssVar("--text-dim");
    const grid = cssVar("--grid");
    const log = props.log?.() ?? false;
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
      scales: {
        x: { time: false },
        y: log ? { distr: 3 } : { auto: true },
        ...(hasY2 ? { y2: { auto: true } } : {}),
      },
      axes: [
        {
          stroke: axisStroke,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          // No axis titles: the card's title and the legend name what is plotted; the space goes to the curve.
          size: 30,
          values: (_u, vs) => vs.map(tick),
        },
        {
          stroke: axisStroke,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          size: axisSize,
          values: (_u, vs) => vs.map(tick),
        },
        ...(hasY2
          ? [
              {
                scale: "y2",
                side: 1 as const,
                stroke: axisStroke,
                grid: { show: false },
                size: axisSize,
                values: (_u: uPlot, vs: number[]) => vs.map(tick),
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
          value: (_u: uPlot, v: number | null) => (v === null ? "–" : torchScalar(v, "float32")),
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
