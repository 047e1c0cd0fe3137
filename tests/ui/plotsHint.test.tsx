// @vitest-environment happy-dom
/** The plots dock for a graph that cannot train: a hint in place of the training plots, not a chart. */
import { render } from "@solidjs/testing-library";
import { describe, expect, it } from "vitest";
import { createTrainingLog } from "../../src/ui/plots/log.ts";
import { PlotsDock } from "../../src/ui/plots/PlotsDock.tsx";

describe("plots dock hint", () => {
  it("shows the hint under its own test id, and no loss chart, when nothing trains", () => {
    const log = createTrainingLog();
    const r = render(() => (
      <PlotsDock log={log} sweeps={() => []} trains={() => false} hint="No optimizer, so nothing trains." />
    ));
    const hint = r.getByTestId("plot-hint");
    expect(hint.textContent).toBe("No optimizer, so nothing trains.");
    expect(hint.hasAttribute("data-points")).toBe(false);
    expect(r.queryByTestId("plot-loss")).toBeNull();
    expect(r.queryByTestId("plot-params")).toBeNull();
  });
});
