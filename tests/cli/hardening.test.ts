// The CLI on hostile and unusual input (issue 18), in-process where the bin adds nothing.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Io } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";
import { fixturePath, jsonLines, tempFile, torchJson } from "./run.ts";

function captureIo(): Io & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: () => out.join(""),
    err: () => err.join(""),
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
  };
}

async function run(...argv: string[]) {
  const io = captureIo();
  const code = await main(argv, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

describe("limits on flags", () => {
  it("caps --epochs as settings.epochs is capped (1e12 would run forever)", async () => {
    const r = await run("train", fixturePath("thermometer.graph.json"), "--epochs", "1e12");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--epochs must be a whole number from 0 to 10,000,000, got '1e12'");
    expect((await run("train", fixturePath("thermometer.graph.json"), "--epochs", "10000001")).code).toBe(2);
  });
});

describe("export-torch", () => {
  it("refuses to write the script over the graph file it reads", async () => {
    const text = readFileSync(fixturePath("thermometer.graph.json"), "utf8");
    const file = tempFile(text);
    for (const o of [file, file.replace(/graph\.json$/, "./graph.json")]) {
      const r = await run("export-torch", file, "-o", o);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("is the graph file itself");
      expect(readFileSync(file, "utf8")).toBe(text);
    }
  });
});

describe("a custom function whose forward is just x", () => {
  const graph = JSON.stringify({
    format: "gradwire.graph",
    version: 1,
    settings: { epochs: 3 },
    nodes: [
      { id: "w", type: "tensor", params: { data: [1.5, 2.5], requires_grad: true } },
      { id: "f", type: "custom_function", params: { forward: "x", backward: "3 * grad_output" } },
      { id: "s", type: "sum" },
      { id: "opt", type: "SGD", params: { lr: 0.1 } },
    ],
    edges: [
      { id: "e1", source: "w", sourcePort: "out", target: "f", targetPort: "input" },
      { id: "e2", source: "f", sourcePort: "out", target: "s", targetPort: "input" },
      { id: "e3", source: "s", sourcePort: "out", target: "opt", targetPort: "loss" },
    ],
  });
  const torch = torchJson<{
    grad: number[];
    lines: { epoch: number; loss: number; params: { w: number[] } }[];
  }>(`
import json, torch
class F(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x
    @staticmethod
    def backward(ctx, g):
        return 3 * g
w = torch.tensor([1.5, 2.5], requires_grad=True)
F.apply(w).sum().backward()
grad = w.grad.tolist()
w.grad = None
opt = torch.optim.SGD([w], lr=0.1)
lines = []
for epoch in range(3):
    opt.zero_grad()
    loss = F.apply(w).sum()
    loss.backward()
    opt.step()
    lines.append({"epoch": epoch, "loss": loss.item(), "params": {"w": w.tolist()}})
print(json.dumps({"grad": grad, "lines": lines}))
`);

  it("keeps the parameter a leaf: eval reports its gradient and train trains it, as PyTorch does", async () => {
    const file = tempFile(graph);
    const ev = await run("eval", file, "--json");
    expect(ev.stderr).toBe("");
    expect(JSON.parse(ev.stdout).grads.w.data).toEqual(torch.grad);
    const tr = await run("train", file, "--jsonl");
    expect(tr.stderr).toBe("");
    expect(tr.code).toBe(0);
    expect(jsonLines(tr.stdout)).toEqual(torch.lines);
  });
});
