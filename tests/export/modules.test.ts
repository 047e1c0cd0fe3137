/**
 * Modules in the exported PyTorch script: each definition an nn.Module class (its leaves nn.Parameters, its
 * forward the inner graph's code), each instance an object of it. The script, run by Debian's python3-torch,
 * prints the per-epoch lines `gradwire train --jsonl` prints, to 1e-4 relative (as tests/export/torch-script).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { torchScript } from "../../src/export/torch-script.ts";
import { GraphDocument } from "../../src/graph/document.ts";
import { parseGraphFile, serializeGraph } from "../../src/graph/format.ts";
import type { GraphDoc } from "../../src/graph/types.ts";
import { epochOutput, gradwire, PYTHON, tempFile } from "../cli/run.ts";

const EPOCHS = 40;
const RTOL = 1e-4;
const ATOL = 1e-6;

const example = (name: string) => readFileSync(new URL(`../../examples/${name}`, import.meta.url), "utf8");

function load(text: string): GraphDoc {
  const r = parseGraphFile(text);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join("\n"));
  return r.doc;
}

interface Epoch {
  epoch: number;
  loss: number;
  params: Record<string, number[]>;
}

const jsonLines = (s: string): Epoch[] =>
  s
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Epoch);

/** The script's epoch lines and gradwire's for the same graph, both for EPOCHS epochs. */
function bothRuns(doc: GraphDoc): { code: string; ours: Epoch[]; theirs: Epoch[] } {
  const r = torchScript(doc, { mode: "train" });
  if (!r.ok) throw new Error(r.message);
  const script = tempFile(r.code, "script.py");
  const py = spawnSync(PYTHON, [script, "--epochs", String(EPOCHS)], { encoding: "utf8", timeout: 120_000 });
  expect(py.status, py.stderr).toBe(0);
  expect(py.stderr).toBe("");
  const gw = gradwire("train", tempFile(serializeGraph(doc)), "--jsonl", "--epochs", String(EPOCHS));
  expect(gw.code, gw.stderr).toBe(0);
  return { code: r.code, ours: jsonLines(epochOutput(gw.stdout)), theirs: jsonLines(py.stdout) };
}

function expectSameTrajectory(ours: Epoch[], theirs: Epoch[]): void {
  expect(theirs.length).toBe(ours.length);
  const close = (a: number, b: number) => Math.abs(a - b) <= RTOL * Math.max(Math.abs(a), Math.abs(b)) + ATOL;
  ours.forEach((o, i) => {
    const t = theirs[i];
    expect(close(o.loss, t.loss), `epoch ${i} loss: gradwire ${o.loss}, PyTorch ${t.loss}`).toBe(true);
    expect(Object.keys(t.params).sort()).toEqual(Object.keys(o.params).sort());
    for (const [id, values] of Object.entries(o.params)) {
      const far = values.findIndex((v, j) => !close(v, t.params[id][j]));
      expect(far, `epoch ${i} ${id}[${far}]: gradwire ${values[far]}, PyTorch ${t.params[id][far]}`).toBe(-1);
    }
  });
}

describe("modules in the exported script", () => {
  it("example 53: Block is one nn.Module class, used by two objects with their own parameters", () => {
    const { code, ours, theirs } = bothRuns(load(example("53-mlp-reusable-block.json")));
    expect(code.match(/^class Block\(nn\.Module\):$/gm)).toHaveLength(1);
    expect(code).toContain("self.W = nn.Parameter(W)");
    expect(code).toMatch(/^ {8}fc = F\.linear\(input_, self\.W, self\.b\)$/m);
    expect(code).toContain("block1 = Block(block1_W, block1_b)");
    expect(code).toContain("block2 = Block(block2_W, block2_b)");
    expect(code).toMatch(/^ {4}block2_out = block2\(block1_out\)$/m);
    expect(code).toContain("torch.optim.Adam([block1.W, block1.b, block2.W, block2.b, W3, b3]");
    expectSameTrajectory(ours, theirs);
  });

  it("a group made in the editor (example 51's hidden layer) exports and trains as the flat graph", () => {
    const graph = new GraphDocument(load(example("51-mlp-two-class-adam.json")));
    graph.groupAsModule(["W1", "b1", "hidden", "h"], { module: "Hidden", instance: "layer" });
    const { code, ours, theirs } = bothRuns(graph.state);
    expect(code).toContain("class Hidden(nn.Module):");
    expect(code).toContain("layer = Hidden(layer_W1, layer_b1)");
    expectSameTrajectory(ours, theirs);
  });

  it("a module with two outputs and a trained input: the call returns both", () => {
    const graph = new GraphDocument(load(example("53-mlp-reusable-block.json")));
    graph.groupAsModule(["logits", "loss"], { module: "Head", instance: "head" });
    const { code, ours, theirs } = bothRuns(graph.state);
    expect(code).toContain("class Head(nn.Module):");
    expect(code).toMatch(/^ {4}head_loss, head_logits = head\(block2_out, W3, b3, labels\)$/m);
    expectSameTrajectory(ours, theirs);
  });

  it("a module holding the optimizer cannot be one forward call: its nodes are written inline", () => {
    const graph = new GraphDocument(load(example("53-mlp-reusable-block.json")));
    graph.groupAsModule(["loss", "Adam"], { module: "Step", instance: "step" });
    const { code, ours, theirs } = bothRuns(graph.state);
    expect(code).toContain("class Block(nn.Module):");
    expect(code).not.toContain("class Step");
    expect(code).toMatch(/^step_Adam = torch\.optim\.Adam\(\[block1\.W, /m);
    expectSameTrajectory(ours, theirs);
  });
});
