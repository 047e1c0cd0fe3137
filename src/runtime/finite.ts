/** Whether numbers hold a NaN or an infinity: the check divergence diagnosis makes everywhere. */

/** "nan" when any element is NaN, else "inf" when any is infinite, else undefined (all finite). */
export function nonFiniteIn(xs: ArrayLike<number>): "nan" | "inf" | undefined {
  let inf = false;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (Number.isNaN(x)) return "nan";
    if (!Number.isFinite(x)) inf = true;
  }
  return inf ? "inf" : undefined;
}
