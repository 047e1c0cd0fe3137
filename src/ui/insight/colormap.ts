/**
 * Colour maps and heatmap images for the insight views. Perceptually ordered maps (viridis for a loss, a
 * two-hue diverging map for a probability, one hue per class) sampled at a few stops and interpolated in RGB;
 * an image is an RGBA buffer with one pixel per grid cell, scaled up by the canvas that draws it.
 */

export type Rgb = readonly [number, number, number];

/** viridis at 9 stops: dark purple (low) to yellow (high), readable in both themes and by the colour-blind. */
const VIRIDIS: readonly Rgb[] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/** Class colours: the app's accent blue and pink first, then the node-group hues. */
export const CLASS_COLORS: readonly Rgb[] = [
  [79, 91, 213],
  [219, 39, 119],
  [14, 159, 110],
  [217, 119, 6],
  [8, 145, 178],
  [124, 58, 237],
  [100, 116, 139],
  [220, 38, 38],
];

export const rgb = (c: Rgb, alpha = 1): string =>
  alpha === 1 ? `rgb(${c[0]},${c[1]},${c[2]})` : `rgba(${c[0]},${c[1]},${c[2]},${alpha})`;

/** The map's colour at t in [0, 1] (clamped). */
export function viridis(t: number): Rgb {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** Mix c into the background colour by `w` (0: background, 1: c). */
function mix(bg: Rgb, c: Rgb, w: number): Rgb {
  return [bg[0] + (c[0] - bg[0]) * w, bg[1] + (c[1] - bg[1]) * w, bg[2] + (c[2] - bg[2]) * w];
}

/** The RGB of a CSS colour as the page resolves it (#rgb, #rrggbb or rgb()), for blending class colours. */
export function parseColor(css: string): Rgb {
  const s = css.trim();
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(s);
  if (hex) {
    const h = hex[1].length === 3 ? [...hex[1]].map((c) => c + c).join("") : hex[1];
    return [0, 2, 4].map((k) => Number.parseInt(h.slice(k, k + 2), 16)) as unknown as Rgb;
  }
  const m = /rgba?\(([^)]+)\)/.exec(s);
  if (m) return m[1].split(",").map((v) => Number.parseFloat(v)) as unknown as Rgb;
  return [255, 255, 255];
}

export interface Image {
  width: number;
  height: number;
  /** RGBA, row 0 at the TOP (the largest y), as a canvas expects. */
  data: Uint8ClampedArray;
}

/** A range for colouring: finite min and max of the values (log: of the positive ones). */
export function rangeOf(values: ArrayLike<number>, log = false): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v) || (log && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return [0, 1];
  return [lo, hi];
}

/**
 * A scalar field (row j = y index from the bottom, column i) coloured with viridis over [lo, hi], linearly or
 * by log10. Non-finite cells are transparent.
 */
export function scalarImage(
  values: ArrayLike<number>,
  nx: number,
  ny: number,
  opts: { log?: boolean; range?: [number, number] } = {},
): Image {
  const log = opts.log ?? false;
  const [lo, hi] = opts.range ?? rangeOf(values, log);
  const f = (v: number) => (log ? Math.log10(v) : v);
  const a = f(lo);
  const span = f(hi) - a || 1;
  const data = new Uint8ClampedArray(nx * ny * 4);
  for (let j = 0; j < ny; j++)
    for (let i = 0; i < nx; i++) {
      const v = values[j * nx + i];
      const o = ((ny - 1 - j) * nx + i) * 4;
      if (!Number.isFinite(v) || (log && v <= 0)) continue;
      const c = viridis((f(v) - a) / span);
      data[o] = c[0];
      data[o + 1] = c[1];
      data[o + 2] = c[2];
      data[o + 3] = 255;
    }
  return { width: nx, height: ny, data };
}

/**
 * Class probabilities (channels per cell) as the winning class's colour, its strength the confidence above
 * chance: a sure region is saturated, the boundary fades into the background. One channel is p(class 1).
 */
export function classImage(probs: ArrayLike<number>, channels: number, n: number, bg: Rgb): Image {
  const data = new Uint8ClampedArray(n * n * 4);
  const classes = Math.max(2, channels);
  for (let j = 0; j < n; j++)
    for (let i = 0; i < n; i++) {
      const cell = j * n + i;
      let best = 0;
      let p = 0;
      if (channels === 1) {
        const p1 = probs[cell];
        best = p1 >= 0.5 ? 1 : 0;
        p = best === 1 ? p1 : 1 - p1;
      } else
        for (let c = 0; c < channels; c++)
          if (probs[cell * channels + c] > p) {
            p = probs[cell * channels + c];
            best = c;
          }
      const strength = Math.max(0, Math.min(1, (p - 1 / classes) / (1 - 1 / classes)));
      const col = mix(bg, CLASS_COLORS[best % CLASS_COLORS.length], 0.12 + 0.6 * strength);
      const o = ((n - 1 - j) * n + i) * 4;
      data[o] = col[0];
      data[o + 1] = col[1];
      data[o + 2] = col[2];
      data[o + 3] = 255;
    }
  return { width: n, height: n, data };
}

/** The predicted class of one sample from its `channels` probabilities (one channel: p(class 1) ≥ 0.5). */
export function argmaxClass(probs: ArrayLike<number>, channels: number, k: number): number {
  if (channels === 1) return probs[k] >= 0.5 ? 1 : 0;
  let best = 0;
  for (let c = 1; c < channels; c++) if (probs[k * channels + c] > probs[k * channels + best]) best = c;
  return best;
}

/** Counts of (true class, predicted class) over the samples: rows are the targets, columns the predictions. */
export function confusion(
  targets: ArrayLike<number>,
  predicted: ArrayLike<number>,
  channels: number,
): { classes: number; counts: number[][]; correct: number; total: number } {
  const classes = Math.max(2, channels);
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  let total = 0;
  for (let k = 0; k < targets.length; k++) {
    const t = Math.round(targets[k]);
    if (!(t >= 0 && t < classes)) continue;
    const p = argmaxClass(predicted, channels, k);
    counts[t][p]++;
    total++;
    if (t === p) correct++;
  }
  return { classes, counts, correct, total };
}
