// The CLI on hostile and unusual input (issue 18), in-process where the bin adds nothing.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Io } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";
import { preview } from "../../src/cli/output.ts";
import type { Tensor } from "../../src/runtime/index.ts";
import { fixturePath, jsonLines, tempFile, torchJson } from "./run.ts";

function captureIo(): Io & {
  out: () => string;
  err: () => string;
  stdout: { write: (s: string) => unknown };
} {
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
    version: 3,
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

describe("printing costs what is printed", () => {
  it("a preview reads only the values it shows", () => {
    // A plain array behind a proxy that counts element reads, however they are made (index or iterator).
    const values = Array.from({ length: 1_000_000 }, (_, i) => i);
    let reads = 0;
    const data = new Proxy(values, {
      get(target, key, receiver) {
        if (typeof key === "string" && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    const t = {
      dtype: "float32",
      ndim: 1,
      numel: values.length,
      shape: [values.length],
      data,
    } as unknown as Tensor;
    expect(preview(t)).toBe("[0, 1, 2, 3, 4, 5, 6, ... 999999] (1000000 values)");
    expect(reads).toBeLessThanOrEqual(8);
  });

  /** An Io that keeps what is written, noting the longest single write. */
  function measuringIo() {
    const io = captureIo();
    let longest = 0;
    const write = io.stdout.write;
    io.stdout.write = (s: string) => {
      longest = Math.max(longest, s.length);
      return write(s);
    };
    return { io, longest: () => longest };
  }

  const million = JSON.stringify({
    format: "gradwire.graph",
    version: 3,
    settings: { epochs: 2 },
    nodes: [
      { id: "w", type: "randn", params: { size: [1_000_000], requires_grad: true } },
      { id: "s", type: "sum" },
      { id: "opt", type: "SGD", params: { lr: 0.5 } },
    ],
    edges: [
      { id: "e1", source: "w", sourcePort: "out", target: "s", targetPort: "input" },
      { id: "e2", source: "s", sourcePort: "out", target: "opt", targetPort: "loss" },
    ],
  });

  it("eval --json streams a million-element tensor in pieces, as the same JSON", async () => {
    const { io, longest } = measuringIo();
    expect(await main(["eval", tempFile(million), "--json"], io)).toBe(0);
    expect(longest()).toBeLessThan(1_000_000);
    const out = JSON.parse(io.out()) as {
      nodes: Record<string, { shape: number[]; dtype: string; data: number[] }>;
      grads: Record<string, { shape: number[]; data: number[] }>;
    };
    expect(out.nodes.w.data).toHaveLength(1_000_000);
    expect(out.nodes.s.shape).toEqual([]);
    expect(Math.fround(out.nodes.w.data.reduce((a, b) => a + b, 0))).toBeCloseTo(out.nodes.s.data[0], 0);
    expect(out.grads.w.data.every((g) => g === 1)).toBe(true);
  });

  it("train --jsonl streams each line in pieces", async () => {
    const { io, longest } = measuringIo();
    expect(await main(["train", tempFile(million), "--jsonl"], io)).toBe(0);
    expect(longest()).toBeLessThan(1_000_000);
    const lines = jsonLines<{ epoch: number; loss: number; params: { w: number[] } }>(io.out());
    expect(lines.map((l) => l.epoch)).toEqual([0, 1]);
    expect(lines[0].params.w).toHaveLength(1_000_000);
    // SGD on a sum: every element moves by lr each epoch.
    expect(lines[1].params.w[7]).toBeCloseTo(lines[0].params.w[7] - 0.5, 5);
  });
});

describe("command names that every object has", () => {
  it("are unknown commands, not silently successful ones", async () => {
    for (const command of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      const r = await run(command, fixturePath("thermometer.graph.json"));
      expect(r.code, command).toBe(2);
      expect(r.stderr).toContain(`unknown command '${command}'`);
    }
  });
});
