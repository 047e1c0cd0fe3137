/**
 * The page's run session against the real scheduler behind a MessageChannel (the same code the Web Worker
 * runs): the document goes over as patches, training streams records into the plot log, and every loss the
 * status line would print is the string PyTorch prints for the same loop.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { GraphDocument } from "../../src/graph/document.ts";
import { torchScalar } from "../../src/ui/values/torchFormat.ts";
import { startSession, until } from "../helpers/run-session.ts";

const X = [0.4, 1.2, 2.5, 3.9, 4.3, 5.7, 6.2, 7.9, 8.3, 9.5, 10.5, 11.5];
const Y = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

function thermometer(epochs: number, lr: number): GraphDocument {
  const g = new GraphDocument();
  g.setSettings({ epochs });
  g.addNode({ id: "t_u", type: "tensor", params: { data: X, dtype: "float32" } });
  g.addNode({ id: "t_c", type: "tensor", params: { data: Y, dtype: "float32" } });
  g.addNode({ id: "m", type: "model" });
  g.addNode({ id: "loss", type: "mse_loss" });
  g.addNode({ id: "opt", type: "SGD", params: { lr } });
  g.connect({ source: "t_u", target: "m", targetPort: "input" });
  g.connect({ source: "m", target: "loss", targetPort: "input" });
  g.connect({ source: "t_c", target: "loss", targetPort: "target" });
  g.connect({ source: "loss", target: "opt", targetPort: "loss" });
  return g;
}

/** The same loop in PyTorch, each epoch's loss printed as a 0-d tensor's value. */
function torchLosses(epochs: number, lr: number): string[] {
  const py = `
import torch, json
t_u = torch.tensor(${JSON.stringify(X)}); t_c = torch.tensor(${JSON.stringify(Y)}, dtype=torch.float32)
w = torch.ones(()).requires_grad_(); b = torch.zeros(()).requires_grad_()
opt = torch.optim.SGD([w, b], lr=${lr})
out = []
for epoch in range(${epochs}):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(w * t_u + b, t_c)
    loss.backward()
    opt.step()
    out.append(str(loss.detach()).replace("tensor(", "")[:-1])
print(json.dumps(out))
`;
  const r = spawnSync("/usr/bin/python3", ["-c", py], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as string[];
}

const start = (graph: GraphDocument) => startSession(graph, { webgpuReason: "no WebGPU in this test" });

describe("run session", () => {
  it("trains in the scheduler and prints every loss as PyTorch does", async () => {
    const epochs = 30;
    const lr = 1e-2;
    const graph = thermometer(epochs, lr);
    const { log, session, close } = start(graph);
    try {
      await until(() => session.value("loss") !== undefined && session.grads().objective === "loss");
      expect(session.value("m")?.shape).toEqual([12]);
      expect(
        session
          .leaves("m")
          .map((l) => l.leaf)
          .sort(),
      ).toEqual(["bias", "weight"]);
      session.controller.run();
      await until(() => session.train().status === "done");
      const s = session.controller.state();
      expect(s.epoch).toBe(epochs);
      expect(s.backend.name).toBe("cpu");
      expect(s.backend.reason).toBeTruthy();
      expect(log.loss.length).toBe(epochs);
      const ours = [...log.loss.view("loss")].map((l) => torchScalar(l, "float32"));
      expect(ours).toEqual(torchLosses(epochs, lr));
      expect(torchScalar(s.loss ?? Number.NaN, s.lossDtype)).toBe(ours[ours.length - 1]);
      expect(
        log
          .series()
          .map((x) => x.name)
          .sort(),
      ).toEqual(["m.bias", "m.weight"]);
    } finally {
      close();
    }
  });

  it("sends edits as patches, so a new learning rate trains from the next run on; reset starts over", async () => {
    const graph = thermometer(5, 1e-4);
    const { log, session, close } = start(graph);
    try {
      await until(() => session.value("loss") !== undefined);
      session.controller.run();
      await until(() => session.train().status === "done");
      const slow = log.lastLoss() ?? 0;
      session.controller.reset();
      await until(() => session.train().epoch === 0 && log.loss.length === 0);
      graph.setParam("opt", "lr", 1e-2);
      session.controller.run();
      await until(() => session.train().status === "done" && log.loss.length === 5);
      expect(log.lastLoss()).toBeLessThan(slow);
      expect([...log.loss.view("loss")].map((l) => torchScalar(l))).toEqual(torchLosses(5, 1e-2));
    } finally {
      close();
    }
  });

  it("stops a diverging run with a message naming where it went non-finite", async () => {
    const graph = thermometer(2000, 10);
    const { session, close } = start(graph);
    try {
      await until(() => session.value("loss") !== undefined);
      session.controller.run();
      await until(() => session.train().status === "error", 30_000);
      const s = session.controller.state();
      expect(s.message).toMatch(/nan|inf|finite/i);
      expect(s.epoch).toBeGreaterThan(0);
    } finally {
      close();
    }
  });
});
