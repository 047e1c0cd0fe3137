/**
 * Computations the insight plots draw from: contour lines of a grid (marching squares), histograms of
 * snapshots over epochs, and nearest-cell lookups for the cursor readout.
 */

/** Line segments [x0, y0, x1, y1] (in data units) where the grid crosses `level`. */
export function contourSegments(
  values: ArrayLike<number>,
  xs: readonly number[],
  ys: readonly number[],
  level: number,
): number[] {
  const nx = xs.length;
  const out: number[] = [];
  // The point on the edge from corner (x0, y0, v0) to (x1, y1, v1) where the value crosses the level, when it
  // does. A cell's crossings come in pairs (two, or four at a saddle), in the order of its edges.
  const edge = (x0: number, y0: number, v0: number, x1: number, y1: number, v1: number) => {
    if (v0 < level === v1 < level) return;
    const t = (level - v0) / (v1 - v0);
    out.push(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
  };
  for (let j = 0; j + 1 < ys.length; j++)
    for (let i = 0; i + 1 < nx; i++) {
      const v0 = values[j * nx + i];
      const v1 = values[j * nx + i + 1];
      const v2 = values[(j + 1) * nx + i + 1];
      const v3 = values[(j + 1) * nx + i];
      if (!(Number.isFinite(v0) && Number.isFinite(v1) && Number.isFinite(v2) && Number.isFinite(v3)))
        continue;
      const x0 = xs[i];
      const x1 = xs[i + 1];
      const y0 = ys[j];
      const y1 = ys[j + 1];
      edge(x0, y0, v0, x1, y0, v1);
      edge(x1, y0, v1, x1, y1, v2);
      edge(x1, y1, v2, x0, y1, v3);
      edge(x0, y1, v3, x0, y0, v0);
    }
  return out;
}

/** `count` contour levels spread over [lo, hi]: evenly, or evenly in log10 (for a loss spanning decades). */
export function contourLevels(lo: number, hi: number, count: number, log: boolean): number[] {
  if (!(hi > lo)) return [];
  if (log && lo > 0) {
    const a = Math.log10(lo);
    const b = Math.log10(hi);
    return Array.from({ length: count }, (_, k) => 10 ** (a + ((b - a) * (k + 1)) / (count + 1)));
  }
  return Array.from({ length: count }, (_, k) => lo + ((hi - lo) * (k + 1)) / (count + 1));
}

/** The value of the grid cell nearest to (x, y), or undefined outside it. */
export function nearestCell(
  values: ArrayLike<number>,
  xs: readonly number[],
  ys: readonly number[],
  x: number,
  y: number,
  channels = 1,
): number | undefined {
  const nx = xs.length;
  const ny = ys.length;
  if (nx === 0 || ny === 0) return undefined;
  const fi = nx === 1 ? 0 : Math.round(((x - xs[0]) / (xs[nx - 1] - xs[0])) * (nx - 1));
  const fj = ny === 1 ? 0 : Math.round(((y - ys[0]) / (ys[ny - 1] - ys[0])) * (ny - 1));
  if (fi < 0 || fi >= nx || fj < 0 || fj >= ny) return undefined;
  return values[(fj * nx + fi) * channels + (channels === 1 ? 0 : channels - 1)];
}

export interface HistogramGrid {
  /** Column per kept epoch (left to right), row per bin (bottom to top): the fraction of elements in the bin. */
  values: Float64Array;
  columns: number;
  bins: number;
  epochs: number[];
  /** The value range the bins span. */
  lo: number;
  hi: number;
}

/**
 * Histograms of a tensor's elements over epochs (TensorBoard's distributions view): one column per snapshot
 * (at most `maxColumns`, evenly picked), `bins` bins over the range of every value seen.
 */
export function histogramGrid(
  snapshots: readonly { epoch: number; values: ArrayLike<number> }[],
  bins = 40,
  maxColumns = 160,
): HistogramGrid | undefined {
  if (snapshots.length === 0) return undefined;
  const step = Math.max(1, Math.ceil(snapshots.length / maxColumns));
  const picked = snapshots.filter((_, i) => i % step === 0 || i === snapshots.length - 1);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const s of picked)
    for (let k = 0; k < s.values.length; k++) {
      const v = s.values[k];
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  if (!Number.isFinite(lo)) return undefined;
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  const columns = picked.length;
  const values = new Float64Array(columns * bins);
  picked.forEach((s, c) => {
    const n = s.values.length || 1;
    for (let k = 0; k < s.values.length; k++) {
      const v = s.values[k];
      if (!Number.isFinite(v)) continue;
      const b = Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins));
      values[b * columns + c] += 1 / n;
    }
  });
  return { values, columns, bins, epochs: picked.map((s) => s.epoch), lo, hi };
}
