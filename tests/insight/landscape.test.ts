// The insight evaluations (src/engine/landscape.ts): a decision-boundary grid point and a landscape grid point
// each equal a direct evaluation of the graph; the thermometer's loss surface equals PyTorch's; nothing cached
// changes; and over the worker protocol the path of SGD starts at [1, 1] and reaches [0.8820, 0.4269].
import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import {
  decisionBoundary,
  filterNormalize,
  leavesAt,
  lossLandscape,
  lossSlices,
  modelIO,
  span,
} from "../../src/engine/landscape.ts";
import { toRecords } from "../../src/engine/record-columns.ts";
import type { EpochRecord } from "../../src/engine/train.ts";
import { SchedulerClient, type WorkerLike } from "../../src/engine/worker-client.ts";
import type { FromWorker } from "../../src/engine/worker-protocol.ts";
import { serveScheduler, type WorkerPort } from "../../src/engine/worker-serve.ts";
import { GraphDocument } from "../../src/graph/document.ts";
import { PYTHON } from "../helpers/torch.ts";
import { THERMOMETER_T_C, THERMOMETER_T_U } from "../scheduler/helpers.ts";
import { example, scheduler } from "./helpers.ts";

/** The thermometer with its params set to [w, b]: the direct evaluation a landscape point must equal. */
function thermometerLossAt(w: number, b: number): number {
  const doc = new GraphDocument(example("13-thermometer-training.json"));
  doc.setParam("params", "data", [w, b]);
  return scheduler(doc.state).value("loss")!.item();
}

/** torch's F.mse_loss of the thermometer at each (w, b) of the grid, b outer, in `dtype`. */
function torchThermometerGrid(dtype: "float32" | "float64", xs: number[], ys: number[]): number[] {
  const script = `
import json, sys, torch
q = json.load(sys.stdin)
dt = getattr(torch, q["dtype"])
t_u = torch.tensor(q["t_u"], dtype=dt); t_c = torch.tensor(q["t_c"], dtype=dt)
out = []
for b in q["ys"]:
    for w in q["xs"]:
        params = torch.tensor([w, b], dtype=dt)
        out.append(torch.nn.functional.mse_loss(params[0:1] * t_u + params[1:2], t_c).item())
print(json.dumps(out))`;
  const r = spawnSync(PYTHON, ["-c", script], {
    input: JSON.stringify({ t_u: THERMOMETER_T_U, t_c: THERMOMETER_T_C, xs, ys, dtype }),
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe("the decision boundary", () => {
  it("finds the MLP's input, output and classes, and a grid point equals the model evaluated directly", () => {
    const s = scheduler(example("51-mlp-two-class-adam.json"));
    const io = modelIO(s)!;
    expect(io).toMatchObject({
      input: { nodeId: "x", port: "out" },
      output: { nodeId: "logits", port: "out" },
      target: { nodeId: "labels", port: "out" },
      task: "scores",
      dims: 2,
      samples: 256,
    });
    const b = decisionBoundary(s, io, { n: 9 });
    expect(b.channels).toBe(2);
    expect(b.grid).toHaveLength(81 * 2);
    // Cell (i = 3, j = 5) by hand: softmax(W2 tanh(W1 x + b1) + b2), from the leaves.
    const W1 = s.value("W1")!.data;
    const b1 = s.value("b1")!.data;
    const W2 = s.value("W2")!.data;
    const b2 = s.value("b2")!.data;
    const [x0, x1, y0, y1] = b.extent;
    const px = Math.fround(x0 + ((x1 - x0) * 3) / 8);
    const py = Math.fround(y0 + ((y1 - y0) * 5) / 8);
    const h = Array.from({ length: 16 }, (_, k) => Math.tanh(W1[2 * k] * px + W1[2 * k + 1] * py + b1[k]));
    const z = [0, 1].map((c) => h.reduce((acc, hk, k) => acc + hk * W2[16 * c + k], b2[c]));
    const p1 = 1 / (1 + Math.exp(z[0] - z[1]));
    expect(b.grid[(5 * 9 + 3) * 2 + 1]).toBeCloseTo(p1, 5);
    // At the data: the softmax of the cached logits, and the targets are the labels.
    const logits = s.value("logits")!.data;
    expect(b.predicted[1]).toBeCloseTo(1 / (1 + Math.exp(logits[0] - logits[1])), 6);
    expect(Array.from(b.targets!)).toEqual(Array.from(s.value("labels")!.data));
    // Nothing cached changed: x is still the data, logits still 256 rows.
    expect(s.value("x")!.shape).toEqual([256, 2]);
    expect(s.value("logits")!.shape).toEqual([256, 2]);
  });

  it("draws and scores an even sample of a large data set's rows", () => {
    const s = scheduler(example("51-mlp-two-class-adam.json"));
    const b = decisionBoundary(s, modelIO(s)!, { n: 4, maxSamples: 100 });
    // Every third row: 0, 3, ..., 255.
    expect(b.samples).toBe(256);
    expect(b.points).toHaveLength(86 * 2);
    const x = s.value("x")!.data;
    expect([b.points[2], b.points[3]]).toEqual([x[6], x[7]]);
    const logits = s.value("logits")!.data;
    expect(b.predicted[2 * 85 + 1]).toBeCloseTo(1 / (1 + Math.exp(logits[2 * 255] - logits[2 * 255 + 1])), 6);
    expect(b.targets![85]).toBe(s.value("labels")!.data[255]);
  });

  it("draws the thermometer's regression line at given parameter values", () => {
    const s = scheduler(example("13-thermometer-training.json"));
    const io = modelIO(s)!;
    expect(io).toMatchObject({
      input: { nodeId: "t_u" },
      output: { nodeId: "t_p" },
      task: "regression",
      dims: 1,
    });
    const b = decisionBoundary(s, io, { n: 5, leaves: leavesAt(s, { params: [0.5, 2] }) });
    const xs = span(b.extent[0], b.extent[1], 5);
    for (let i = 0; i < 5; i++) expect(b.grid[i]).toBeCloseTo(0.5 * Math.fround(xs[i]) + 2, 5);
    expect(Array.from(b.points)).toEqual(THERMOMETER_T_U.map(Math.fround));
    expect(Array.from(b.targets!)).toEqual(THERMOMETER_T_C);
    // The leaves were not touched.
    expect(Array.from(s.value("params")!.data)).toEqual([1, 1]);
  });
});

describe("the loss landscape", () => {
  it("a grid point is the loss of the graph with the parameters at those values", () => {
    const s = scheduler(example("13-thermometer-training.json"));
    const xs = [0.8, 0.9, 1.1];
    const ys = [0.2, 0.5];
    const grid = lossLandscape(s, {
      a: { param: "params", index: 0 },
      b: { param: "params", index: 1 },
      xs,
      ys,
    });
    expect(grid[1 * 3 + 2]).toBe(thermometerLossAt(1.1, 0.5));
    expect(grid[0]).toBe(thermometerLossAt(0.8, 0.2));
    expect(s.value("loss")!.item()).toBeCloseTo(2.2775, 4);
    expect(Array.from(s.value("params")!.data)).toEqual([1, 1]);
  });

  it("equals PyTorch's thermometer loss surface", () => {
    const s = scheduler(example("13-thermometer-training.json"));
    const xs = span(0.6, 1.2, 7);
    const ys = span(-0.5, 1.5, 5);
    const grid = lossLandscape(s, {
      a: { param: "params", index: 0 },
      b: { param: "params", index: 1 },
      xs,
      ys,
    });
    const script = `
import json, sys, torch
q = json.load(sys.stdin)
t_u = torch.tensor(q["t_u"]); t_c = torch.tensor(q["t_c"])
out = []
for b in q["ys"]:
    for w in q["xs"]:
        params = torch.tensor([w, b])
        out.append(torch.nn.functional.mse_loss(params[0:1] * t_u + params[1:2], t_c).item())
print(json.dumps(out))`;
    const r = spawnSync(PYTHON, ["-c", script], {
      input: JSON.stringify({ t_u: THERMOMETER_T_U, t_c: THERMOMETER_T_C, xs, ys }),
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(r.stderr);
    const torch: number[] = JSON.parse(r.stdout);
    expect(torch).toHaveLength(35);
    torch.forEach((v, k) => {
      expect(grid[k]).toBe(v);
    });
  });

  it("is one batched pass equal to the point-by-point grid and to torch's F.mse_loss, in float32 and float64", () => {
    const xs = span(0.6, 1.2, 13);
    const ys = span(-0.5, 1.5, 9);
    const a = { param: "params", index: 0 };
    const b = { param: "params", index: 1 };
    for (const dtype of ["float32", "float64"] as const) {
      const doc = new GraphDocument(example("13-thermometer-training.json"));
      for (const id of ["t_u", "t_c", "params"]) doc.setParam(id, "dtype", dtype);
      const s = scheduler(doc.state);
      const batched = lossLandscape(s, { a, b, xs, ys, mode: "batched" });
      const pointwise = lossLandscape(s, { a, b, xs, ys, mode: "pointwise" });
      expect(Array.from(batched)).toEqual(Array.from(pointwise));
      const torch = torchThermometerGrid(dtype, xs, ys);
      expect(torch).toHaveLength(13 * 9);
      torch.forEach((v, k) => {
        expect(batched[k]).toBe(v);
      });
    }
  });

  it("batches the MLP's grid and slices, each point equal to its own evaluation", () => {
    const s = scheduler(example("51-mlp-two-class-adam.json"));
    const W1 = s.value("W1")!.data;
    const req = {
      a: { param: "W1", index: 0 },
      b: { param: "b2", index: 1 },
      xs: span(W1[0] - 1, W1[0] + 1, 6),
      ys: span(-1, 1, 5),
      at: { b2: [0.25, -0.25] },
    };
    const batched = lossLandscape(s, { ...req, mode: "batched" });
    expect(Array.from(batched)).toEqual(Array.from(lossLandscape(s, { ...req, mode: "pointwise" })));
    const alphas = [-1, -0.25, 0, 0.5, 1];
    const sl = lossSlices(s, { alphas, random: 2, mode: "batched" });
    expect(sl).toEqual(lossSlices(s, { alphas, random: 2, mode: "pointwise" }));
    expect(sl[0].losses[2]).toBe(s.value("loss")!.item());
  });

  it("holds the other parameters at the given values, and refuses an element that does not exist", () => {
    const s = scheduler(example("51-mlp-two-class-adam.json"));
    const W1 = Array.from(s.value("W1")!.data);
    const at = { b2: [0.5, -0.5] };
    const g = lossLandscape(s, {
      a: { param: "W1", index: 0 },
      b: { param: "W1", index: 3 },
      xs: [W1[0]],
      ys: [W1[3]],
      at,
    });
    const doc = new GraphDocument(example("51-mlp-two-class-adam.json"));
    doc.setParam("b2", "requires_grad", true);
    const direct = scheduler(doc.state);
    const [loss] = direct.evaluateWith({ leaves: leavesAt(direct, at) }, [{ nodeId: "loss", port: "out" }]);
    expect(g[0]).toBe(loss.item());
    expect(g[0]).not.toBe(s.value("loss")!.item());
    expect(() =>
      lossLandscape(s, { a: { param: "W1", index: 32 }, b: { param: "b1", index: 0 }, xs: [0], ys: [0] }),
    ).toThrow("'W1' has no element 32");
  });

  it("slices through the current point along the gradient and filter-normalised random directions", () => {
    const s = scheduler(example("51-mlp-two-class-adam.json"));
    const alphas = [-0.5, 0, 0.05, 0.5];
    const sl = lossSlices(s, { alphas, random: 2 });
    expect(sl.map((x) => x.label)).toEqual(["−gradient", "random 1", "random 2"]);
    const loss = s.value("loss")!.item();
    for (const x of sl) expect(x.losses[1]).toBe(loss);
    // A small step down the gradient lowers the loss.
    expect(sl[0].losses[2]).toBeLessThan(loss);
    const d = Float64Array.from([3, 4, 0, 1]);
    filterNormalize(d, [1, 0, 0, 2], [2, 2]);
    [0.6, 0.8, 0, 2].forEach((v, k) => {
      expect(d[k]).toBeCloseTo(v, 12);
    });
  });
});

describe("the insight requests over the worker protocol", () => {
  let cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanup) c();
    cleanup = [];
  });

  function connect() {
    const channel = new MessageChannel();
    const server = serveScheduler(channel.port2 as unknown as WorkerPort);
    const client = new SchedulerClient(channel.port1 as unknown as WorkerLike);
    cleanup.push(() => {
      server.dispose();
      channel.port1.close();
      channel.port2.close();
    });
    return client;
  }

  function next<T extends FromWorker["type"]>(
    client: SchedulerClient,
    type: T,
    pred: (m: Extract<FromWorker, { type: T }>) => boolean = () => true,
  ) {
    return new Promise<Extract<FromWorker, { type: T }>>((resolve) => {
      const off = client.on(type, (m) => {
        if (pred(m)) {
          off();
          resolve(m);
        }
      });
    });
  }

  it("trains the thermometer, then answers the landscape at the path's end and the regression line", async () => {
    const client = connect();
    client.connect(new GraphDocument(example("13-thermometer-training.json")));
    await next(client, "grads");
    const records: EpochRecord[] = [];
    client.on("records", (m) => records.push(...toRecords(m.batches)));
    const done = next(client, "state", (m) => m.state.status === "done");
    client.run();
    await done;
    const end = records[99].params.params;
    expect(end[0]).toBeCloseTo(0.882, 4);
    expect(end[1]).toBeCloseTo(0.4269, 4);
    const reply = next(client, "landscape", (m) => m.id === 7);
    client.landscape(
      7,
      { param: "params", index: 0 },
      { param: "params", index: 1 },
      [end[0], 1],
      [end[1], 1],
    );
    const l = await reply;
    expect(l.error).toBeUndefined();
    expect(l.others).toBe(false);
    expect(l.start).toEqual({ params: [1, 1] });
    expect(l.loss![0]).toBeCloseTo(records[99].loss, 2);
    expect(l.loss![3]).toBeCloseTo(thermometerLossAt(1, 1), 6);
    const b = next(client, "boundary", (m) => m.id === 8);
    client.boundary(8, 3);
    const line = (await b).result!;
    // The line at the trained parameters (the last record's), not the initial ones.
    expect(line.grid[0]).toBeCloseTo(end[0] * line.extent[0] + end[1], 4);
  });

  it("says why there is no boundary for a graph without a per-sample input", async () => {
    const client = connect();
    client.connect(new GraphDocument(example("05-guessing-game.json")));
    await next(client, "grads");
    const b = next(client, "boundary");
    client.boundary(1);
    expect((await b).error).toMatch(/no model input found/);
  });
});
