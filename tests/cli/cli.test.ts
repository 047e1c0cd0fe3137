// The gradwire CLI end to end: the real bin on graph files, compared with PyTorch computing the same graphs.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixturePath, gradwire, jsonLines, ROOT, tempFile, torchJson } from "./run.ts";

interface EvalJson {
  nodes: Record<string, { shape: number[]; dtype: string; data: number[] }>;
  grads: Record<string, { shape: number[]; data: number[] }>;
}
interface Line {
  epoch: number;
  loss: number;
  params: Record<string, number[]>;
}

/** |a - b| <= rel * |b| + abs, element by element. */
function expectClose(got: number[], want: number[], rel = 1e-5, abs = 1e-6): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const tol = rel * Math.abs(want[i]) + abs;
    if (!(Math.abs(g - want[i]) <= tol))
      throw new Error(`element ${i}: got ${g}, PyTorch ${want[i]} (tolerance ${tol})`);
  });
}

const THERMO_PY = `
import json, torch
import torch.nn.functional as F
t_u = torch.tensor([0.4, 1.2, 2.5, 3.9, 4.3, 5.7, 6.2, 7.9, 8.3, 9.5, 10.5, 11.5])
t_c = torch.tensor([0., 1., 2., 3., 4., 5., 6., 7., 8., 9., 10., 11.])
w = torch.tensor(1.0, requires_grad=True)
b = torch.tensor(1.0, requires_grad=True)
`;

describe("gradwire eval", () => {
  it("prints every node's value and the gradients of the objective, as PyTorch computes them (thermometer)", () => {
    const r = gradwire("eval", fixturePath("thermometer.graph.json"), "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout) as EvalJson;
    const want = torchJson<EvalJson>(`${THERMO_PY}
t_p = w * t_u + b
loss = F.mse_loss(t_p, t_c)
loss.backward()
flat = lambda t: t.detach().flatten().tolist()
print(json.dumps({"nodes": {"t_u": flat(t_u), "t_c": flat(t_c), "model": flat(t_p), "loss": flat(loss)},
                  "grads": {"model.weight": flat(w.grad), "model.bias": flat(b.grad)}}))`);
    expect(Object.keys(got.nodes)).toEqual(["t_u", "t_c", "model", "loss"]);
    for (const [id, data] of Object.entries(want.nodes as unknown as Record<string, number[]>))
      expectClose(got.nodes[id].data, data);
    expect(got.nodes.loss).toMatchObject({ shape: [], dtype: "float32" });
    expect(got.nodes.model.shape).toEqual([12]);
    for (const [id, data] of Object.entries(want.grads as unknown as Record<string, number[]>))
      expectClose(got.grads[id].data, data);
    expect(got.grads["model.weight"].data[0]).toBeCloseTo(18.155, 3);
  });

  it("evaluates the cross-entropy graph (linear, label smoothing, accuracy) as PyTorch does", () => {
    const r = gradwire("eval", fixturePath("cross-entropy.graph.json"), "--json");
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout) as EvalJson;
    const want = torchJson<Record<string, number[]>>(`
import json, torch
import torch.nn.functional as F
x = torch.tensor([[0.5, 1.5], [-1.0, 0.25], [2.0, -0.5], [0.1, 0.2], [-1.5, -1.0], [1.0, 1.0]])
W = torch.tensor([[0.1, -0.2], [0.3, 0.05], [-0.4, 0.2]], requires_grad=True)
b = torch.tensor([0.0, 0.1, -0.1], requires_grad=True)
y = torch.tensor([1, 0, 2, 1, 0, 2])
logits = F.linear(x, W, b)
loss = F.cross_entropy(logits, y, label_smoothing=0.1)
acc = (torch.argmax(logits, dim=1) == y).float().mean()
loss.backward()
flat = lambda t: t.detach().flatten().tolist()
print(json.dumps({"logits": flat(logits), "loss": flat(loss), "acc": flat(acc), "W": flat(W.grad), "b": flat(b.grad)}))`);
    expectClose(got.nodes.logits.data, want.logits);
    expectClose(got.nodes.loss.data, want.loss);
    expectClose(got.nodes.acc.data, want.acc);
    expect(got.nodes.y.dtype).toBe("int64");
    expectClose(got.grads.W.data, want.W);
    expectClose(got.grads.b.data, want.b);
    expect(got.grads.W.shape).toEqual([3, 2]);
  });

  it("prints a readable table without --json", () => {
    const r = gradwire("eval", fixturePath("thermometer.graph.json"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("loss          float32[]          2.2775   (mse_loss)");
    expect(r.stdout).toContain("gradients of 'loss' (mse_loss):");
    expect(r.stdout).toMatch(/model\.weight\s+float32\[\]\s+18\.155/);
  });

  it("a runtime error exits 1 naming the node", () => {
    const text = JSON.stringify({
      format: "gradwire.graph",
      version: 3,
      nodes: [
        {
          id: "scores",
          type: "tensor",
          params: {
            data: [
              [0.1, 0.9],
              [0.8, 0.2],
            ],
          },
        },
        { id: "lp", type: "log_softmax", params: { dim: 1 } },
        { id: "labels", type: "tensor", params: { data: [1, 5] } },
        { id: "nll", type: "nll_loss" },
      ],
      edges: [
        { id: "e1", source: "scores", sourcePort: "out", target: "lp", targetPort: "input" },
        { id: "e2", source: "lp", sourcePort: "out", target: "nll", targetPort: "input" },
        { id: "e3", source: "labels", sourcePort: "out", target: "nll", targetPort: "target" },
      ],
    });
    const r = gradwire("eval", tempFile(text), "--json");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      "error: node 'nll' (nll_loss): nll_loss: Target 5 is out of bounds (2 classes, element 1)",
    );
  });

  it("--backend webgpu says it runs on the CPU, and still answers", () => {
    const r = gradwire("eval", fixturePath("thermometer.graph.json"), "--backend", "webgpu", "--json");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^gradwire: .*CPU/);
    expect(JSON.parse(r.stdout).nodes.loss.data[0]).toBeCloseTo(2.2775, 4);
  });
});

describe("gradwire train", () => {
  it("prints one line per epoch, loss before the step and params after it, matching PyTorch's loop (thermometer)", () => {
    const r = gradwire("train", fixturePath("thermometer.graph.json"), "--jsonl");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const got = jsonLines<Line>(r.stdout);
    const want = jsonLines<Line>(
      torchJson<{ lines: string }>(`${THERMO_PY}
opt = torch.optim.SGD([w, b], lr=1e-2)
lines = []
for epoch in range(100):
    loss = F.mse_loss(w * t_u + b, t_c)
    opt.zero_grad()
    loss.backward()
    opt.step()
    lines.append(json.dumps({"epoch": epoch, "loss": loss.item(), "params": {"model.weight": [w.item()], "model.bias": [b.item()]}}))
print(json.dumps({"lines": "\\n".join(lines)}))`).lines,
    );
    expect(got).toHaveLength(100);
    expect(got.map((l) => l.epoch)).toEqual(want.map((l) => l.epoch));
    expectClose(
      got.map((l) => l.loss),
      want.map((l) => l.loss),
      1e-5,
    );
    for (const k of ["model.weight", "model.bias"])
      expectClose(
        got.map((l) => l.params[k][0]),
        want.map((l) => l.params[k][0]),
        1e-5,
      );
    // The source's own printed numbers.
    expect(got[0].loss).toBeCloseTo(2.2775, 4);
    expect(got[99].params["model.weight"][0]).toBeCloseTo(0.882, 4);
    expect(got[99].params["model.bias"][0]).toBeCloseTo(0.4269, 4);
  });

  it("trains the cross-entropy graph with Adam along PyTorch's trajectory, and --epochs overrides", () => {
    const r = gradwire("train", fixturePath("cross-entropy.graph.json"), "--jsonl", "--epochs", "40");
    expect(r.code).toBe(0);
    const got = jsonLines<Line>(r.stdout);
    const want = jsonLines<Line>(
      torchJson<{ lines: string }>(`
import json, torch
import torch.nn.functional as F
x = torch.tensor([[0.5, 1.5], [-1.0, 0.25], [2.0, -0.5], [0.1, 0.2], [-1.5, -1.0], [1.0, 1.0]])
W = torch.tensor([[0.1, -0.2], [0.3, 0.05], [-0.4, 0.2]], requires_grad=True)
b = torch.tensor([0.0, 0.1, -0.1], requires_grad=True)
y = torch.tensor([1, 0, 2, 1, 0, 2])
opt = torch.optim.Adam([W, b], lr=0.1)
lines = []
for epoch in range(40):
    loss = F.cross_entropy(F.linear(x, W, b), y, label_smoothing=0.1)
    opt.zero_grad()
    loss.backward()
    opt.step()
    lines.append(json.dumps({"epoch": epoch, "loss": loss.item(), "params": {"W": W.detach().flatten().tolist(), "b": b.detach().flatten().tolist()}}))
print(json.dumps({"lines": "\\n".join(lines)}))`).lines,
    );
    expect(got).toHaveLength(40);
    expectClose(
      got.map((l) => l.loss),
      want.map((l) => l.loss),
      1e-4,
    );
    expectClose(
      got.flatMap((l) => [...l.params.W, ...l.params.b]),
      want.flatMap((l) => [...l.params.W, ...l.params.b]),
      1e-4,
      1e-5,
    );
  });

  it("train --jsonl's first line says which backend trained and why: auto by default, or the flag", () => {
    const first = (...flags: string[]) =>
      JSON.parse(
        gradwire(
          "train",
          fixturePath("thermometer.graph.json"),
          "--jsonl",
          "--epochs",
          "3",
          ...flags,
        ).stdout.split("\n")[0],
      ) as { backend: string; requested: string; reason: string };
    const auto = first();
    expect(auto).toMatchObject({ backend: "cpu", requested: "auto" });
    expect(auto.reason).toMatch(/^CPU: the whole run takes about [\d.]+ s on the CPU/);
    const asked = first("--backend", "auto");
    expect(asked).toMatchObject({ backend: "cpu", requested: "auto" });
    expect(asked.reason).toMatch(/^CPU: the whole run takes about [\d.]+ s on the CPU/);
    expect(first("--backend", "cpu")).toEqual({
      backend: "cpu",
      requested: "cpu",
      reason: "asked for with --backend cpu",
    });
    const gpu = first("--backend", "webgpu");
    expect(gpu.requested).toBe("webgpu");
    expect(gpu.reason).toMatch(
      gpu.backend === "webgpu" ? /^asked for with --backend webgpu$/ : /running on the CPU/,
    );
  });

  it("a readable run ends saying where auto trained and why", () => {
    const r = gradwire("train", fixturePath("thermometer.graph.json"), "--epochs", "3");
    expect(r.stdout).toMatch(
      /trained 3 epochs on the CPU in [\d.]+ s: loss .*\n {2}backend: auto, CPU: the whole run takes/,
    );
  });

  it("--backend webgpu trains along the same trajectory (on WebGPU where there is an adapter, else the CPU, saying why)", () => {
    const r = gradwire(
      "train",
      fixturePath("thermometer.graph.json"),
      "--jsonl",
      "--backend",
      "webgpu",
      "--epochs",
      "30",
    );
    expect(r.code).toBe(0);
    const ran = gradwire(
      "train",
      fixturePath("thermometer.graph.json"),
      "--backend",
      "webgpu",
      "--epochs",
      "2",
    );
    const fellBack = /running on the CPU/.test(ran.stderr);
    expect(ran.stdout).toContain(fellBack ? "on the CPU" : "on WebGPU");
    const cpu = jsonLines<Line>(
      gradwire("train", fixturePath("thermometer.graph.json"), "--jsonl", "--epochs", "30").stdout,
    );
    const got = jsonLines<Line>(r.stdout);
    expectClose(
      got.map((l) => l.loss),
      cpu.map((l) => l.loss),
      1e-4,
    );
    expectClose(
      got.map((l) => l.params["model.weight"][0]),
      cpu.map((l) => l.params["model.weight"][0]),
      1e-4,
    );
  });

  it("a diverging run (the guessing game at lr 10) exits 1 naming the node", () => {
    const text = JSON.stringify({
      format: "gradwire.graph",
      version: 3,
      settings: { epochs: 1000 },
      nodes: [
        {
          id: "guess",
          type: "tensor",
          params: { data: [50, 50, 50], dtype: "float64", requires_grad: true },
        },
        { id: "answer", type: "tensor", params: { data: [2, 77, 91], dtype: "float64" } },
        { id: "loss", type: "mse_loss" },
        { id: "opt", type: "SGD", params: { lr: 10 } },
      ],
      edges: [
        { id: "e1", source: "guess", sourcePort: "out", target: "loss", targetPort: "input" },
        { id: "e2", source: "answer", sourcePort: "out", target: "loss", targetPort: "target" },
        { id: "e3", source: "loss", sourcePort: "out", target: "opt", targetPort: "loss" },
      ],
    });
    const r = gradwire("train", tempFile(text), "--jsonl");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the loss became inf; node 'loss' \(mse_loss\) was the first to produce inf/);
    const lines = jsonLines<Line>(r.stdout);
    expect(lines.length).toBeGreaterThan(100);
    expect(lines[1].loss).toBeGreaterThan(lines[0].loss);
  });

  it("a gradient that becomes nan with a finite loss exits 1 naming the node whose backward produced it, on either backend", () => {
    // sum(sqrt(w ** 2)) from w = 2 at lr 1: w reaches 0 at epoch 2, where sqrt's backward gives inf.
    const text = JSON.stringify({
      format: "gradwire.graph",
      version: 3,
      settings: { epochs: 10 },
      nodes: [
        { id: "w", type: "tensor", params: { data: [2], dtype: "float32", requires_grad: true } },
        { id: "sq", type: "pow", params: { exponent: 2 } },
        { id: "root", type: "sqrt", name: "sqrt of w²" },
        { id: "loss", type: "sum" },
        { id: "opt", type: "SGD", params: { lr: 1 } },
      ],
      edges: [
        { id: "e1", source: "w", sourcePort: "out", target: "sq", targetPort: "input" },
        { id: "e2", source: "sq", sourcePort: "out", target: "root", targetPort: "input" },
        { id: "e3", source: "root", sourcePort: "out", target: "loss", targetPort: "input" },
        { id: "e4", source: "loss", sourcePort: "out", target: "opt", targetPort: "loss" },
      ],
    });
    const file = tempFile(text);
    const message =
      "epoch 2: the gradient of 'w' became nan; node 'sqrt of w²' (sqrt) was the first to produce inf in backward (the gradient for its input 'input'); no step was taken, the parameters keep their values from before this epoch";
    for (const backend of ["cpu", "webgpu"]) {
      const r = gradwire("train", file, "--jsonl", "--backend", backend);
      expect(r.code, backend).toBe(1);
      expect(r.stderr, backend).toContain(`${file}: ${message}`);
      expect(
        jsonLines<Line>(r.stdout).map((l) => [l.epoch, l.loss, l.params.w]),
        backend,
      ).toEqual([
        [0, 2, [1]],
        [1, 1, [0]],
      ]);
    }
  });

  it("prints a readable summary without --jsonl", () => {
    const r = gradwire("train", fixturePath("thermometer.graph.json"), "--epochs", "20");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("epoch 0  loss 2.2775");
    expect(r.stdout).toMatch(/trained 20 epochs on the CPU in [\d.]+ s: loss 2\.2775 → /);
    expect(r.stdout).toMatch(/model\.weight = 0\.8\d+/);
  });
});

describe("gradwire validate, usage and exit codes", () => {
  it("validate: 0 for a good graph, 1 with messages naming the node for a bad one", () => {
    const ok = gradwire("validate", fixturePath("cross-entropy.graph.json"));
    expect(ok).toMatchObject({ code: 0, stderr: "" });
    expect(ok.stdout).toMatch(/valid graph, 8 nodes, 8 edges/);
    const cyc = JSON.stringify({
      format: "gradwire.graph",
      version: 3,
      nodes: [
        { id: "a", type: "relu" },
        { id: "b", type: "tanh" },
        { id: "l", type: "mse_loss" },
      ],
      edges: [
        { id: "e1", source: "a", sourcePort: "out", target: "b", targetPort: "input" },
        { id: "e2", source: "b", sourcePort: "out", target: "a", targetPort: "input" },
      ],
    });
    const path = tempFile(cyc);
    const bad = gradwire("validate", path);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      `${path}: error: node 'a' (relu) is on a cycle: 'a' → 'b' → 'a'; a graph must flow one way`,
    );
    expect(bad.stderr).toContain("node 'l' (mse_loss), input 'input' is not connected");
  });

  it("a malformed file exits 1 with JSON paths", () => {
    const path = tempFile(
      '{"format": "gradwire.graph", "version": 3, "nodes": [{"id": "x", "type": "msel_loss"}], "edges": [{"id": "e1", "source": "x", "sourcePort": "out", "target": "y", "targetPort": "input"}]}',
    );
    const r = gradwire("validate", path);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${path}: nodes[0].type: unknown node type 'msel_loss' (did you mean 'mse_loss'?)`,
    );
    expect(r.stderr).toContain(`${path}: edges[0].target: no node has id 'y' (a dangling edge)`);
    const truncated = gradwire(
      "eval",
      tempFile('{"format": "gradwire.graph", "version": 3, "nodes": [{"id"'),
      "--json",
    );
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toMatch(/\(file\): not valid JSON/);
  });

  it("usage errors exit 2", () => {
    for (const args of [
      [],
      ["frobnicate"],
      ["eval"],
      ["eval", "a.json", "b.json"],
      ["eval", fixturePath("thermometer.graph.json"), "--jsonl"],
      ["train", fixturePath("thermometer.graph.json"), "--epochs", "many"],
      ["train", fixturePath("thermometer.graph.json"), "--backend", "tpu"],
      ["eval", "no/such/file.json"],
    ]) {
      const r = gradwire(...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain("usage: gradwire");
    }
    expect(gradwire("eval", "no/such/file.json").stderr).toContain(
      "cannot read 'no/such/file.json': no such file",
    );
    const help = gradwire("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("train FILE [--epochs N]");
  });

  it("schema prints the committed JSON Schema", () => {
    const r = gradwire("schema");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(`${ROOT}/docs/graph.schema.json`, "utf8")));
  });
});
