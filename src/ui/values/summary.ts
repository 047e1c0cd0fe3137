/** Small summaries of a tensor for a node's face: stats and a bounded number of samples for a sparkline. */
import { tensorBody, type ValueLike } from "./torchFormat.ts";

export interface Stats {
  min: number;
  max: number;
  mean: number;
  /** L2 norm, the gradient magnitude drawn on edges. */
  norm: number;
  nonFinite: number;
}

export function stats(v: ValueLike): Stats {
  // A truncated tensor's data is only its corners: its stats came with it, computed over every element.
  if (v.truncated && v.stats) return v.stats;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  let sq = 0;
  let nonFinite = 0;
  let finite = 0;
  for (let i = 0; i < v.data.length; i++) {
    const x = v.data[i];
    if (!Number.isFinite(x)) {
      nonFinite++;
      continue;
    }
    finite++;
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
    sq += x * x;
  }
  return { min, max, mean: finite ? sum / finite : Number.NaN, norm: Math.sqrt(sq), nonFinite };
}

/** At most `n` points, each bucket's extreme kept so the line keeps its shape. */
export function samples(data: ArrayLike<number>, n: number): number[] {
  if (data.length <= n) return Array.from(data);
  const out: number[] = [];
  const per = data.length / n;
  for (let b = 0; b < n; b++) {
    const s = Math.floor(b * per);
    const e = Math.max(s + 1, Math.floor((b + 1) * per));
    let pick = data[s];
    for (let i = s; i < e; i++) if (Math.abs(data[i]) > Math.abs(pick)) pick = data[i];
    out.push(pick);
  }
  return out;
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** How many elements a node shows as numbers before switching to a sparkline or heat strip. */
export const INLINE_NUMBERS = 6;

/** The torch-formatted numbers on one line (newlines from PyTorch's wrapping folded into spaces). */
export function inlineNumbers(v: ValueLike): string {
  return tensorBody(v, 0, { precision: 4, threshold: 1000, edgeitems: 3, linewidth: 10_000 }).replace(
    /\s*\n\s*/g,
    " ",
  );
}

/** One formatter for every count: `toLocaleString` builds a new one per call, and counts reprint per update. */
const COUNT = new Intl.NumberFormat("en");

/** A count as people read it: 1,234,567 (parameters, elements). */
export function formatCount(n: number): string {
  return COUNT.format(n);
}
