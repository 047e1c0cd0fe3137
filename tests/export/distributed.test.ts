/**
 * `gradwire export-torch --distributed`: the scripts train data-parallel with DistributedDataParallel on
 * gloo (CPU) and print gradwire's losses. Two local processes (--nproc 2) and two processes started the way
 * torchrun starts them (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT in the environment: Debian's
 * torchrun itself fails on this machine's Python) each train on half the rows; one process trains exactly as the
 * plain script; a checkpointed run resumes where it stopped.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { torchScript } from "../../src/export/torch-script.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import { gradwire, jsonLines, PYTHON, ROOT, tempFile } from "../cli/run.ts";

interface Line {
  epoch: number;
  loss: number;
  params: Record<string, number[]>;
}

const dir = mkdtempSync(join(tmpdir(), "gradwire-distributed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function python(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, args, { cwd: dir, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Relative 1e-4 (gradwire's float32 against the mean of two shards' float32 means). */
function expectClose(got: Line[], want: Line[]): void {
  expect(got.map((l) => l.epoch)).toEqual(want.map((l) => l.epoch));
  got.forEach((g, i) => {
    const w = want[i];
    expect(Math.abs(g.loss - w.loss), `epoch ${g.epoch} loss ${g.loss} vs ${w.loss}`).toBeLessThanOrEqual(
      1e-4 * Math.abs(w.loss),
    );
    for (const [id, vs] of Object.entries(w.params)) {
      const scale = Math.max(...vs.map(Math.abs));
      g.params[id].forEach((v, k) => {
        expect(Math.abs(v - vs[k]), `epoch ${g.epoch} ${id}[${k}]`).toBeLessThanOrEqual(1e-4 * scale);
      });
    }
  });
}

const EPOCHS = 6;
const cases = [
  { name: "regression", file: "examples/52-regression-million-points.json" },
  { name: "mlp", file: "examples/51-mlp-two-class-adam.json" },
];

describe.each(cases)("the $name example, exported --distributed", ({ name, file }) => {
  const script = join(dir, `${name}.py`);
  let reference: Line[] = [];
  let twoProcs: Ran;
  beforeAll(async () => {
    const w = gradwire("export-torch", join(ROOT, file), "--distributed", "-o", script);
    expect(w.code, w.stderr).toBe(0);
    reference = jsonLines<Line>(
      gradwire("train", join(ROOT, file), "--jsonl", "--backend", "cpu", "--epochs", String(EPOCHS)).stdout,
    );
    twoProcs = await python([script, "--epochs", String(EPOCHS), "--nproc", "2"]);
  });

  it("trains with two processes (gloo), printing gradwire's losses and parameters once", () => {
    expect(twoProcs.stderr).toBe("");
    expect(twoProcs.code).toBe(0);
    const lines = jsonLines<Line>(twoProcs.stdout);
    expect(lines).toHaveLength(EPOCHS);
    expectClose(lines, reference);
  });

  it("under torchrun's environment joins the process group it describes, with the same lines", async () => {
    const port = String(await freePort());
    const env = (rank: number) => ({
      RANK: String(rank),
      LOCAL_RANK: String(rank),
      WORLD_SIZE: "2",
      LOCAL_WORLD_SIZE: "2",
      MASTER_ADDR: "127.0.0.1",
      MASTER_PORT: port,
    });
    const [r0, r1] = await Promise.all(
      [0, 1].map((r) => python([script, "--epochs", String(EPOCHS)], env(r))),
    );
    expect(r0.stderr + r1.stderr).toBe("");
    expect(r1.stdout).toBe("");
    expect(jsonLines<Line>(r0.stdout)).toEqual(jsonLines<Line>(twoProcs.stdout));
  });
});

describe("one process, checkpoints and refusals", () => {
  const file = join(ROOT, "examples/51-mlp-two-class-adam.json");
  const script = join(dir, "mlp-one.py");
  const plain = join(dir, "mlp-plain.py");
  beforeAll(() => {
    expect(gradwire("export-torch", file, "--distributed", "-o", script).code).toBe(0);
    expect(gradwire("export-torch", file, "-o", plain).code).toBe(0);
  });

  it("run as one process prints exactly what the plain script prints", async () => {
    const [one, theirs] = await Promise.all([
      python([script, "--epochs", "4"]),
      python([plain, "--epochs", "4"]),
    ]);
    expect(one.stderr).toBe("");
    expect(jsonLines(one.stdout)).toEqual(jsonLines(theirs.stdout));
  });

  it("a run stopped after a checkpoint resumes to the same epochs as an unbroken run", async () => {
    const ck = join(dir, "checkpoints");
    const first = await python([script, "--epochs", "3", "--nproc", "2", "--checkpoint", ck]);
    expect(first.code, first.stderr).toBe(0);
    const [resumed, unbroken] = await Promise.all([
      python([script, "--epochs", "5", "--nproc", "2", "--checkpoint", ck, "--resume"]),
      python([script, "--epochs", "5", "--nproc", "2"]),
    ]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(jsonLines<Line>(resumed.stdout).map((l) => l.epoch)).toEqual([3, 4]);
    expect(jsonLines(resumed.stdout)).toEqual(jsonLines<Line>(unbroken.stdout).slice(3));
  });

  it("says so, once and without a traceback, when the rows do not divide evenly or there is nothing to resume", async () => {
    const [uneven, noDir] = await Promise.all([
      python([script, "--epochs", "2", "--nproc", "3"]),
      python([script, "--resume"]),
    ]);
    expect(uneven.code).toBe(1);
    expect(uneven.stdout).toBe("");
    expect(uneven.stderr.trim()).toBe("256 rows cannot be divided evenly among 3 processes");
    expect(noDir.code).toBe(1);
    expect(noDir.stderr.trim()).toBe(
      "--resume needs --checkpoint DIR: the folder a run saved its checkpoint in",
    );
  });

  it("refuses what it cannot make data-parallel, saying why", () => {
    const r = gradwire("export-torch", file, "--distributed", "--mode", "eval");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("a distributed script trains: the graph needs an optimizer");
    const doc = parseGraphFile(
      JSON.stringify({
        format: "gradwire.graph",
        version: 3,
        settings: { epochs: 2 },
        nodes: [
          { id: "w", type: "tensor", position: { x: 0, y: 0 }, params: { data: [1.5], requires_grad: true } },
          { id: "v", type: "tensor", position: { x: 0, y: 0 }, params: { data: [2.5], requires_grad: true } },
          { id: "a", type: "sum", position: { x: 0, y: 0 }, params: {} },
          { id: "b", type: "sum", position: { x: 0, y: 0 }, params: {} },
          { id: "SGD", type: "SGD", position: { x: 0, y: 0 }, params: { lr: 0.1 } },
          { id: "SGD_2", type: "SGD", position: { x: 0, y: 0 }, params: { lr: 0.1 } },
        ],
        edges: [
          { id: "e1", source: "w", sourcePort: "out", target: "a", targetPort: "input" },
          { id: "e2", source: "v", sourcePort: "out", target: "b", targetPort: "input" },
          { id: "e3", source: "a", sourcePort: "out", target: "SGD", targetPort: "loss" },
          { id: "e4", source: "b", sourcePort: "out", target: "SGD_2", targetPort: "loss" },
        ],
      }),
    );
    expect(doc.ok).toBe(true);
    if (!doc.ok) return;
    const two = torchScript(doc.doc, { distributed: true });
    expect(two).toMatchObject({
      ok: false,
      message: "a distributed script trains one optimizer, and this graph has 2 (SGD, SGD_2)",
      nodeId: "SGD_2",
    });
  });
});

describe("module nodes in the distributed script", () => {
  /**
   * Example 51's problem with nn.Linear nodes and a norm between them: nn.LayerNorm (per row, so sharding the
   * rows changes nothing) or nn.BatchNorm1d (with its running statistics).
   */
  function layered(norm: "LayerNorm" | "BatchNorm1d" = "LayerNorm"): string {
    const base = JSON.parse(readFileSync(join(ROOT, "examples/51-mlp-two-class-adam.json"), "utf8"));
    const keep = ["x", "radius", "outside", "labels", "loss", "Adam"];
    const node = (id: string, type: string, params: Record<string, unknown>) => ({
      id,
      type,
      position: { x: 0, y: 0 },
      params,
    });
    const edge = (source: string, target: string) => ({
      id: `${source}-${target}`,
      source,
      sourcePort: "out",
      target,
      targetPort: "input",
    });
    base.nodes = [
      ...base.nodes.filter((n: { id: string }) => keep.includes(n.id)),
      node("l1", "Linear", { in_features: 2, out_features: 8, seed: 1 }),
      norm === "LayerNorm"
        ? node("ln", "LayerNorm", { normalized_shape: [8] })
        : node("ln", "BatchNorm1d", { num_features: 8 }),
      node("h", "tanh", {}),
      node("l2", "Linear", { in_features: 8, out_features: 2, seed: 2 }),
    ];
    base.edges = [
      ...base.edges.filter(
        (e: { source: string; target: string }) => keep.includes(e.source) && keep.includes(e.target),
      ),
      edge("x", "l1"),
      edge("l1", "ln"),
      edge("ln", "h"),
      edge("h", "l2"),
      edge("l2", "loss"),
    ];
    return tempFile(JSON.stringify(base), `${norm}.json`);
  }

  it("holds the nn module objects as submodules and trains them as the plain script and gradwire do", async () => {
    const file = layered();
    const script = join(dir, "layered.py");
    const plain = join(dir, "layered-plain.py");
    const w = gradwire("export-torch", file, "--distributed", "-o", script);
    expect(w.code, w.stderr).toBe(0);
    expect(gradwire("export-torch", file, "-o", plain).code).toBe(0);
    const code = readFileSync(script, "utf8");
    expect(code).toContain("\n    torch.manual_seed(1)\n    l1 = nn.Linear(2, 8).to(device)\n");
    expect(code).toContain("            self.layers = torch.nn.ModuleList([l1, ln, l2])\n");
    expect(code).toContain("            l1_out = l1(x)\n");
    expect(code).not.toContain("ParameterDict");
    const reference = jsonLines<Line>(
      gradwire("train", file, "--jsonl", "--backend", "cpu", "--epochs", String(EPOCHS)).stdout,
    );
    const [one, theirs, two] = await Promise.all([
      python([script, "--epochs", String(EPOCHS)]),
      python([plain, "--epochs", String(EPOCHS)]),
      python([script, "--epochs", String(EPOCHS), "--nproc", "2"]),
    ]);
    expect(one.stderr + two.stderr).toBe("");
    expect(jsonLines(one.stdout)).toEqual(jsonLines(theirs.stdout));
    expectClose(jsonLines<Line>(two.stdout), reference);
  });

  it("trains a BatchNorm1d's weight and bias as the plain script does, and resumes with its running statistics", async () => {
    const file = layered("BatchNorm1d");
    const script = join(dir, "batchnorm.py");
    const plain = join(dir, "batchnorm-plain.py");
    expect(gradwire("export-torch", file, "--distributed", "-o", script).code).toBe(0);
    expect(gradwire("export-torch", file, "-o", plain).code).toBe(0);
    const ck = join(dir, "batchnorm-checkpoints");
    const first = await python([script, "--epochs", "3", "--checkpoint", ck]);
    expect(first.code, first.stderr).toBe(0);
    const [one, theirs, resumed] = await Promise.all([
      python([script, "--epochs", "5"]),
      python([plain, "--epochs", "5"]),
      python([script, "--epochs", "5", "--checkpoint", ck, "--resume"]),
    ]);
    expect(one.stderr + resumed.stderr).toBe("");
    const lines = jsonLines<Line>(one.stdout);
    expect(lines).toEqual(jsonLines(theirs.stdout));
    // The module's own weight is what the optimizer steps (it moved from its initial ones).
    expect(lines[4].params["ln.weight"].some((v) => v !== 1)).toBe(true);
    expect(jsonLines(resumed.stdout)).toEqual(lines.slice(3));
  });
});
