// The DataLoader node's batches against torch.utils.data.DataLoader(TensorDataset(...), batch_size, shuffle,
// generator=torch.Generator().manual_seed(seed), drop_last), epoch after epoch, for sizes below and above 16
// (randperm's small and large paths), with and without drop_last and shuffle.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { LoaderEpochs, type LoaderSettings } from "../../src/nodes/loader.ts";
import { PYTHON } from "../helpers/torch.ts";

const EPOCHS = 4;
const CASES: (LoaderSettings & { n: number })[] = [
  { n: 10, batchSize: 3, shuffle: true, seed: 0, dropLast: false },
  { n: 10, batchSize: 3, shuffle: true, seed: 0, dropLast: true },
  { n: 15, batchSize: 4, shuffle: true, seed: 42, dropLast: false },
  { n: 16, batchSize: 16, shuffle: true, seed: 1, dropLast: false },
  { n: 17, batchSize: 5, shuffle: true, seed: 7, dropLast: true },
  { n: 150, batchSize: 16, shuffle: true, seed: 123, dropLast: false },
  { n: 1000, batchSize: 64, shuffle: true, seed: 2, dropLast: true },
  { n: 9, batchSize: 4, shuffle: false, seed: 0, dropLast: false },
  { n: 9, batchSize: 4, shuffle: false, seed: 0, dropLast: true },
];

function torchBatches(): number[][][][] {
  const script = `
import json, sys, torch
out = []
for c in json.loads(sys.stdin.read()):
    ds = torch.utils.data.TensorDataset(torch.arange(c["n"]))
    kw = {"shuffle": True, "generator": torch.Generator().manual_seed(c["seed"])} if c["shuffle"] else {}
    loader = torch.utils.data.DataLoader(ds, batch_size=c["batchSize"], drop_last=c["dropLast"], **kw)
    out.append([[b[0].tolist() for b in loader] for _ in range(${EPOCHS})])
print(json.dumps(out))
`;
  return JSON.parse(execFileSync(PYTHON, ["-c", script], { input: JSON.stringify(CASES), encoding: "utf8" }));
}

describe("DataLoader batch order equals torch's, epoch after epoch", () => {
  const expected = torchBatches();
  CASES.forEach((c, i) => {
    it(`n=${c.n} batch_size=${c.batchSize} shuffle=${c.shuffle} seed=${c.seed} drop_last=${c.dropLast}`, () => {
      const epochs = new LoaderEpochs(c.n, c);
      const got = Array.from({ length: EPOCHS }, () => epochs.next());
      expect(got).toEqual(expected[i]);
    });
  });
});
