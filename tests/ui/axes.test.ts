/** Chart ticks for any range a run produces: few, round, whole epochs, and present up to 1e308. */
import { describe, expect, it } from "vitest";
import { fromPlotted, linearSplits, plotFactor, plottedSplits, toPlotted } from "../../src/ui/plots/axes.ts";

describe("chart ticks", () => {
  it("labels a linear axis at every magnitude, with at most a handful of lines", () => {
    for (const [lo, hi] of [
      [0, 1],
      [0.3, 0.31],
      [-5, 12],
      [0, 3.4725e307],
      [-1e308, 1e308],
      [1e-12, 3e-12],
      [0, 1e20],
    ]) {
      const s = linearSplits(lo, hi, 5);
      expect(s.length, `${lo}..${hi}`).toBeGreaterThanOrEqual(2);
      expect(s.length).toBeLessThanOrEqual(7);
      for (const v of s) {
        expect(v).toBeGreaterThanOrEqual(lo);
        expect(v).toBeLessThanOrEqual(hi);
        expect(Number.isFinite(v)).toBe(true);
      }
    }
    expect(linearSplits(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it("keeps epochs whole: no tick at 0.5 for a three-epoch run", () => {
    const s = linearSplits(0, 2, 5, 1);
    expect(s).toEqual([0, 1, 2]);
    expect(linearSplits(0, 299, 5, 1).every(Number.isInteger)).toBe(true);
  });

  it("plots a diverging loss as numbers uPlot can label (at most 17 integer digits), and labels them back", () => {
    const loss = [0.5, 12, 3e20, 3.4725e307, Number.POSITIVE_INFINITY];
    const lin = { log: false, factor: plotFactor([loss]) };
    expect(lin.factor).toBe(1e307);
    const pl = toPlotted(loss, lin);
    expect(Number.isNaN(pl[4])).toBe(true);
    for (const v of pl.slice(0, 4)) expect(Math.abs(v)).toBeLessThan(1e15);
    expect(pl[3]).toBeCloseTo(3.4725, 10);
    expect(fromPlotted(pl[3], lin) / 3.4725e307).toBeCloseTo(1, 10);
    // Small values are plotted as they are.
    expect(plotFactor([[0.1, 2, Number.NaN]])).toBe(1);
  });

  it("caps a log axis's gridlines however many decades a divergence spans", () => {
    const log = { log: true, factor: 1 };
    const pl = toPlotted([0.5, 1e100, 3.4725e307, 0, -1], log);
    expect(Number.isNaN(pl[3]) && Number.isNaN(pl[4])).toBe(true);
    const ticks = plottedSplits(Math.log10(0.5), Math.log10(3.4725e307), log);
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    expect(ticks.length).toBeLessThanOrEqual(6);
    // Whole decades: each tick stands for a power of ten.
    expect(ticks.every(Number.isInteger)).toBe(true);
    expect(fromPlotted(2, log)).toBe(100);
  });
});
