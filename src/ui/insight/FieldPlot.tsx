/**
 * A plot over a plane, on uPlot's axes and interactions: a heatmap image fills the plot area at its extent
 * (the decision boundary, the loss landscape, a histogram over epochs), and an overlay draws on top (data
 * points, the optimizer's path, a regression curve). Drag selects a region to zoom into (both axes); a
 * double-click zooms back out; the cursor's coordinates and the field's value under it show in the readout.
 * Redraws come at most once per animation frame and at most `maxFps` times a second.
 */
import { createEffect, createSignal, type JSX, onCleanup, onMount, untrack } from "solid-js";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { tick } from "../plots/Chart.tsx";
import { frameLoop } from "../plots/frame.ts";
import { theme } from "../theme.ts";
import type { Image } from "./colormap.ts";

/** Draws in canvas pixels: `x(v)` and `y(v)` place a data value; `px` is one CSS pixel in canvas pixels. */
export interface Overlay {
  ctx: CanvasRenderingContext2D;
  x: (v: number) => number;
  y: (v: number) => number;
  px: number;
}

export interface FieldPlotProps {
  testid: string;
  /** The data ranges the plot shows when not zoomed: [x0, x1, y0, y1]. */
  bounds: () => number[] | undefined;
  /** The heatmap and the rectangle it covers ([x0, x1, y0, y1], cell edges), if any. */
  image?: () => { image: Image; rect: number[] } | undefined;
  overlay?: (o: Overlay) => void;
  /** Bumped when the image or the overlay changed. */
  version: () => number;
  xLabel: string;
  yLabel: string;
  /** Extra text for the readout at a point (the loss there, the class). */
  readout?: (x: number, y: number) => string | undefined;
  maxFps?: number;
  /** Interpolate the image between cells (a smooth field), or show cells as blocks (histogram bins). */
  smooth?: boolean;
  /** Shown at the start of the readout line (a colour bar). */
  aside?: () => JSX.Element;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

/** An RGBA image on a canvas of its own size, for drawImage to scale (smoothly) into the plot. */
function toCanvas(img: Image, reuse?: HTMLCanvasElement): HTMLCanvasElement | undefined {
  const c = reuse ?? document.createElement("canvas");
  if (c.width !== img.width) c.width = img.width;
  if (c.height !== img.height) c.height = img.height;
  const ctx = c.getContext("2d");
  if (!ctx || typeof ImageData === "undefined") return undefined;
  ctx.putImageData(new ImageData(img.data as Uint8ClampedArray<ArrayBuffer>, img.width, img.height), 0, 0);
  return c;
}

let drawable: boolean | undefined;
function canDraw(): boolean {
  drawable ??= document.createElement("canvas").getContext?.("2d") != null;
  return drawable;
}

export function FieldPlot(props: FieldPlotProps) {
  let host!: HTMLDivElement;
  let plot: uPlot | null = null;
  let offscreen: HTMLCanvasElement | undefined;
  let uploaded: Image | undefined;
  const [readout, setReadout] = createSignal("");
  /** The scale ranges when the user has zoomed; undefined follows the bounds. */
  let zoomed = false;

  const size = () => ({
    width: Math.max(120, host.clientWidth),
    height: Math.max(80, host.clientHeight),
  });

  const applyBounds = () => {
    const b = props.bounds();
    if (!plot || !b || zoomed) return;
    plot.batch(() => {
      plot!.setScale("x", { min: b[0], max: b[1] });
      plot!.setScale("y", { min: b[2], max: b[3] });
    });
  };

  const paint = (u: uPlot) => {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    const im = props.image?.();
    host.dataset.image = im ? "yes" : "no";
    if (im) {
      // Copied to the canvas once per new image, not per redraw (the overlay moves more often than the image).
      if (uploaded !== im.image || !offscreen) {
        offscreen = toCanvas(im.image, offscreen);
        uploaded = im.image;
      }
      if (offscreen) {
        const [x0, x1, y0, y1] = im.rect;
        const px0 = u.valToPos(x0, "x", true);
        const px1 = u.valToPos(x1, "x", true);
        const py1 = u.valToPos(y1, "y", true);
        const py0 = u.valToPos(y0, "y", true);
        ctx.imageSmoothingEnabled = props.smooth ?? true;
        ctx.drawImage(offscreen, px0, py1, px1 - px0, py0 - py1);
      }
    }
    props.overlay?.({
      ctx,
      x: (v) => u.valToPos(v, "x", true),
      y: (v) => u.valToPos(v, "y", true),
      px: devicePixelRatio || 1,
    });
    ctx.restore();
  };

  const loop = frameLoop(
    () => {
      if (!plot) return;
      applyBounds();
      plot.redraw(false, false);
      host.dataset.draws = String(Number(host.dataset.draws ?? 0) + 1);
    },
    undefined,
    undefined,
    1000 / (props.maxFps ?? 8),
  );

  const build = () => {
    plot?.destroy();
    plot = null;
    // Without a 2-D canvas (a DOM without one, a browser with canvas blocked) there is nothing to draw on.
    if (!canDraw()) {
      host.dataset.unsupported = "canvas";
      return;
    }
    const axisStroke = cssVar("--text-dim");
    const grid = cssVar("--grid");
    const b = props.bounds() ?? [0, 1, 0, 1];
    const axis = (scale: string, side: 2 | 3): uPlot.Axis => ({
      scale,
      side,
      stroke: axisStroke,
      grid: { show: false },
      ticks: { stroke: grid, size: 4 },
      size: side === 2 ? 26 : 44,
      values: (_u, vs) => vs.map(tick),
    });
    const opts: uPlot.Options = {
      ...size(),
      legend: { show: false },
      cursor: {
        drag: { x: true, y: true, uni: 20, setScale: true },
        points: { show: false },
        bind: {
          dblclick: (u) => () => {
            zoomed = false;
            applyBounds();
            u.redraw(false, false);
            return null;
          },
        },
      },
      scales: {
        x: { time: false, auto: false, range: (_u, lo, hi) => [lo, hi] },
        y: { auto: false, range: (_u, lo, hi) => [lo, hi] },
      },
      axes: [axis("x", 2), axis("y", 3)],
      series: [
        {},
        { scale: "y", show: true, stroke: "transparent", points: { show: false }, paths: () => null },
      ],
      hooks: {
        draw: [paint],
        setSelect: [
          (u) => {
            if (u.select.width > 2 || u.select.height > 2) zoomed = true;
          },
        ],
        setCursor: [
          (u) => {
            const { left, top } = u.cursor;
            if (left === undefined || top === undefined || left < 0 || top < 0) {
              setReadout("");
              return;
            }
            const x = u.posToVal(left, "x");
            const y = u.posToVal(top, "y");
            const extra = props.readout?.(x, y);
            setReadout(
              `${props.xLabel} ${tick(x)} · ${props.yLabel} ${tick(y)}${extra ? ` · ${extra}` : ""}`,
            );
          },
        ],
      },
    };
    plot = new uPlot(
      opts,
      [
        [b[0], b[1]],
        [b[2], b[3]],
      ] as unknown as uPlot.AlignedData,
      host,
    );
    zoomed = false;
    applyBounds();
  };

  onMount(() => {
    build();
    const ro = new ResizeObserver(() => {
      if (!plot) return;
      const s = size();
      if (Math.abs(plot.width - s.width) > 1 || Math.abs(plot.height - s.height) > 1) plot.setSize(s);
    });
    ro.observe(host);
    onCleanup(() => ro.disconnect());
  });

  // Rebuilt for a theme's colours only: what build reads besides (the bounds) must not rebuild it per update.
  createEffect(() => {
    theme();
    untrack(() => {
      if (plot) build();
    });
  });

  createEffect(() => {
    props.version();
    props.bounds();
    loop.request();
  });

  onCleanup(() => {
    loop.dispose();
    plot?.destroy();
    plot = null;
  });

  return (
    <div class="field-plot">
      <div class="chart" data-testid={props.testid} ref={host} />
      <div class="field-readout" aria-live="off">
        {props.aside?.()}
        <span>
          {readout() || `${props.xLabel} →  ·  ${props.yLabel} ↑  ·  drag to zoom, double-click to reset`}
        </span>
      </div>
    </div>
  );
}
