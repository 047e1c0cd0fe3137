/**
 * Min/max decimation for long series: each bucket of consecutive points keeps its first, lowest, highest and
 * last point, so spikes (a diverging loss) survive however far the plot is zoomed out. Used past ~100k points,
 * where drawing every point would cost more than a frame.
 */

export const DOWNSAMPLE_ABOVE = 100_000;

export interface Decimated {
  x: Float64Array;
  ys: Float64Array[];
}

/**
 * Decimate x (ascending) and any number of y columns sharing it into at most 4 * buckets points, bucketing on
 * the first y column's extremes and carrying the others at the same x. NaN points are kept where they fall
 * (they mark gaps or divergence).
 */
export function decimate(
  x: ArrayLike<number>,
  ys: ArrayLike<number>[],
  n: number,
  buckets: number,
): Decimated {
  if (n <= buckets * 4) {
    const head = (a: ArrayLike<number>) => {
      if (a instanceof Float64Array) return a.subarray(0, n);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = a[i];
      return out;
    };
    return { x: head(x), ys: ys.map(head) };
  }
  const keep: number[] = [];
  const key = ys[0];
  const per = n / buckets;
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * per);
    const end = Math.min(n, Math.floor((b + 1) * per));
    if (end <= start) continue;
    let lo = -1;
    let hi = -1;
    let nan = -1;
    for (let i = start; i < end; i++) {
      const v = key[i];
      if (Number.isNaN(v)) {
        if (nan < 0) nan = i;
        continue;
      }
      if (lo < 0 || v < key[lo]) lo = i;
      if (hi < 0 || v > key[hi]) hi = i;
    }
    const picks = [start, end - 1];
    if (lo >= 0) picks.push(lo, hi);
    if (nan >= 0) picks.push(nan);
    picks.sort((a, c) => a - c);
    let last = -1;
    for (const p of picks) {
      if (p !== last) keep.push(p);
      last = p;
    }
  }
  // Plain loops: Float64Array.from with a map function costs tens of times more per element, per redraw.
  const pick = (a: ArrayLike<number>) => {
    const out = new Float64Array(keep.length);
    for (let k = 0; k < keep.length; k++) out[k] = a[keep[k]];
    return out;
  };
  return { x: pick(x), ys: ys.map(pick) };
}
