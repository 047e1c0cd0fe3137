/**
 * Where a chart's ticks and gridlines go, for any range a run can produce. A diverging loss spans 300 decades
 * and reaches infinity; uPlot labels no axis whose values have more than 17 integer digits, and its log scale
 * draws every 1…9 × 10^k line into a solid band. So the chart plots numbers uPlot can label (values divided by
 * a power of ten, or their log10 on a log scale), puts a few round ticks on them, and labels each tick with the
 * value it stands for.
 */

/** The "nice" step (1, 2 or 5 × 10^k) that cuts `span` into at most `max` parts. */
export function niceStep(span: number, max: number): number {
  const raw = span / Math.max(1, max);
  if (!(raw > 0) || !Number.isFinite(raw)) return Number.NaN;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Round ticks inside [min, max], at most `max + 1` of them; `minStep` 1 keeps epochs whole. */
export function linearSplits(min: number, max: number, count = 5, minStep = 0): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  // Halved so the span of [-1e308, 1e308] stays finite.
  const step = Math.max(minStep, 2 * niceStep(max / 2 - min / 2, count));
  if (!Number.isFinite(step) || step <= 0) return [min, max];
  const out: number[] = [];
  const first = Math.ceil(min / step);
  const last = Math.floor(max / step);
  for (let k = first; k <= last && out.length <= count + 1; k++) {
    const v = k * step;
    // k * step carries float error (0.30000000000000004): keep the digits the step has.
    out.push(Number(v.toPrecision(12)));
  }
  return out;
}

/** Above this, values are divided by a power of ten before uPlot sees them (it cannot label 1e18). */
const LARGE = 1e15;

/** How plotted numbers relate to values: value = plotted × factor, or 10 ** plotted on a log scale. */
export interface Plotted {
  log: boolean;
  factor: number;
}

/** The factor for columns sharing a scale: 1, or the power of ten of the largest finite magnitude past 1e15. */
export function plotFactor(columns: ArrayLike<number>[]): number {
  let most = 0;
  for (const c of columns)
    for (let i = 0; i < c.length; i++) if (Number.isFinite(c[i])) most = Math.max(most, Math.abs(c[i]));
  return most > LARGE ? 10 ** Math.floor(Math.log10(most)) : 1;
}

/**
 * A column as plotted: NaN and ±inf become gaps (a chart cannot place them; the status line names them), and
 * so do values ≤ 0 on a log scale.
 */
export function toPlotted(ys: ArrayLike<number>, p: Plotted): Float64Array {
  // A plain loop: Float64Array.from with a map function costs tens of times more per element, per redraw.
  const out = new Float64Array(ys.length);
  for (let i = 0; i < ys.length; i++) {
    const v = ys[i];
    out[i] = !Number.isFinite(v) || (p.log && v <= 0) ? Number.NaN : p.log ? Math.log10(v) : v / p.factor;
  }
  return out;
}

/** The value a plotted number stands for. */
export function fromPlotted(v: number, p: Plotted): number {
  return p.log ? 10 ** v : v * p.factor;
}

/** Ticks for plotted numbers: whole decades on a log scale spanning two or more, else round values. */
export function plottedSplits(min: number, max: number, p: Plotted, count = 4): number[] {
  return linearSplits(min, max, count, p.log && max - min >= 2 ? 1 : 0);
}
