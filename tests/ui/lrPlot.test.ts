/**
 * The learning rate a scheduler drives is kept from the epoch records for the loss chart, which draws it on the
 * right axis (PlotsDock: a second series when `hasLr`).
 */
import { createRoot } from "solid-js";
import { describe, expect, it } from "vitest";
import { toColumns } from "../../src/engine/record-columns.ts";
import { createTrainingLog } from "../../src/ui/plots/log.ts";

const records = [0.1, 0.1, 0.05, 0.05].map((lr, epoch) => ({
  epoch,
  loss: 1 / (epoch + 1),
  lr,
  params: {},
  grads: {},
}));

describe("learning rate in the plots", () => {
  it("the training log keeps each epoch's lr beside its loss, and forgets it on reset", () => {
    createRoot((dispose) => {
      const log = createTrainingLog();
      log.append(toColumns([{ epoch: 0, loss: 1, params: {}, grads: {} }]));
      expect(log.hasLr()).toBe(false);
      log.clear();
      log.append(toColumns(records));
      expect(log.hasLr()).toBe(true);
      expect([...log.loss.view("lr")]).toEqual([0.1, 0.1, 0.05, 0.05]);
      expect([...log.loss.view("loss")]).toEqual(records.map((r) => r.loss));
      log.clear();
      expect(log.hasLr()).toBe(false);
      dispose();
    });
  });
});
