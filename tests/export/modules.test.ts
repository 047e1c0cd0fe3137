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
import { expandModules } from "../../src/graph/modules.ts";
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
    expect(code).toContain("torch.optim.Adam([*block1.parameters(), *block2.parameters(), W3, b3], lr=0.05)");
    expect(code).toContain('"block2/W": block2.W.flatten().tolist()');
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
    expect(code).toMatch(/^step_Adam = torch\.optim\.Adam\(\[\*block1\.parameters\(\), /m);
    expectSameTrajectory(ours, theirs);
  });
});

/** A graph-file node and edge, for the graphs built below. */
const N = (id: string, type: string, params: Record<string, unknown> = {}) => ({
  id,
  type,
  position: { x: 0, y: 0 },
  params,
});
const E = (id: string, source: string, target: string, targetPort = "input") => ({
  id,
  source,
  sourcePort: "out",
  target,
  targetPort,
});

/**
 * Example 51's two-class problem with the model `net`, an instance of module `Net` (last in `modules`) taking x
 * and giving the logits; the file parsed (so every module is checked as the editor's are).
 */
function twoClass(modules: Record<string, unknown>[]): GraphDoc {
  const base = JSON.parse(example("51-mlp-two-class-adam.json"));
  const keep = ["x", "radius", "outside", "labels", "loss", "Adam", "accuracy"];
  base.nodes = [
    ...base.nodes.filter((n: { id: string }) => keep.includes(n.id)),
    N("net", "module", { module: modules[modules.length - 1].id }),
  ];
  base.edges = [
    ...base.edges.filter(
      (e: { source: string; target: string }) => keep.includes(e.source) && keep.includes(e.target),
    ),
    E("n1", "x", "net"),
    E("n2", "net", "loss"),
    E("n3", "net", "accuracy"),
  ];
  base.modules = modules;
  return load(JSON.stringify(base));
}

/** A module definition that is one chain of `layers` (ids and kinds), from its input to its output. */
function chain(id: string, layers: ReturnType<typeof N>[], sequential = true): Record<string, unknown> {
  return {
    id,
    ...(sequential ? { sequential: true } : {}),
    inputs: [{ name: "input", targets: [{ node: layers[0].id, port: "input" }] }],
    outputs: [{ name: "out", node: layers[layers.length - 1].id, port: "out" }],
    nodes: layers,
    edges: layers.slice(1).map((l, i) => E(`e${i}`, layers[i].id, l.id)),
  };
}

const linear = (id: string, i: number, o: number, seed: number) =>
  N(id, "Linear", { in_features: i, out_features: o, seed });

describe("module nodes and Sequentials in the exported script", () => {
  it("example 66: the Sequential MLP is a class deriving from nn.Sequential, its Linear layers seeded as gradwire's", () => {
    const { code, ours, theirs } = bothRuns(load(example("66-mlp-sequential.json")));
    expect(code).toContain(
      [
        "class MLP(nn.Sequential):",
        '    """Linear(2, 16) → ReLU → Linear(16, 16) → ReLU → Linear(16, 2), each Linear initialised as nn.Linear is under its own seed."""',
        "",
        "    def __init__(self):",
        "        super().__init__()",
        "        torch.manual_seed(1)",
        "        self.fc1 = nn.Linear(2, 16)",
        "        self.relu1 = nn.ReLU()",
        "        torch.manual_seed(2)",
        "        self.fc2 = nn.Linear(16, 16)",
        "        self.relu2 = nn.ReLU()",
        "        torch.manual_seed(3)",
        "        self.fc3 = nn.Linear(16, 2)",
        "",
      ].join("\n"),
    );
    expect(code).not.toContain("def forward");
    expect(code).toMatch(/^model = MLP\(\)\.to\(device\)$/m);
    expect(code).toMatch(/^ {4}model_out = model\(x\)$/m);
    expect(code).toMatch(/^optimizer = torch\.optim\.Adam\(model\.parameters\(\), lr=0\.01\)$/m);
    expect(code).toContain('"model/fc3.bias": model.fc3.bias.flatten().tolist()');
    expectSameTrajectory(ours, theirs);
  });

  it("functional layers of a Sequential become their nn counterparts with the same arguments", () => {
    const doc = twoClass([
      chain("Net", [
        linear("fc1", 2, 8, 4),
        N("leaky", "leaky_relu", { negative_slope: 0.2 }),
        linear("fc2", 8, 8, 5),
        N("gelu", "gelu", { approximate: "tanh" }),
        N("grow", "unflatten", { dim: 1, sizes: [2, 4] }),
        N("flat", "flatten", { start_dim: 1 }),
        linear("fc3", 8, 2, 6),
        N("logp", "log_softmax", { dim: 1 }),
      ]),
    ]);
    const { code, ours, theirs } = bothRuns(doc);
    expect(code).toContain("class Net(nn.Sequential):");
    expect(code).toContain("        self.leaky = nn.LeakyReLU(negative_slope=0.2)\n");
    expect(code).toContain('        self.gelu = nn.GELU(approximate="tanh")\n');
    expect(code).toContain("        self.grow = nn.Unflatten(1, (2, 4))\n");
    expect(code).toContain("        self.flat = nn.Flatten(1, -1)\n");
    expect(code).toContain("        self.logp = nn.LogSoftmax(dim=1)\n");
    expectSameTrajectory(ours, theirs);
  });

  it("a Sequential with a layer that has no nn form is an nn.Module class, and says why", () => {
    const doc = twoClass([
      chain("Net", [
        linear("fc1", 2, 8, 4),
        N("act", "tanh"),
        N("more", "unsqueeze", { dim: 1 }),
        N("flat", "flatten", { start_dim: 1 }),
        linear("fc2", 8, 2, 5),
      ]),
    ]);
    const { code, ours, theirs } = bothRuns(doc);
    expect(code).toContain("class Net(nn.Module):");
    expect(code).toContain(
      "# Sequential in gradwire, written as an nn.Module: 'more' (unsqueeze) has no nn layer",
    );
    expect(code).toContain("        self.fc1 = nn.Linear(2, 8)\n");
    expect(code).toMatch(/^ {8}fc1 = self\.fc1\(input_\)$/m);
    expect(code).toMatch(/^ {8}more = torch\.unsqueeze\(act, 1\)$/m);
    expectSameTrajectory(ours, theirs);
  });

  it("nested modules are classes of their own; a seed one instance overrides is an argument of its class", () => {
    const block = chain("Block", [linear("fc", 8, 8, 1), N("act", "tanh")]);
    const net = {
      id: "Net",
      inputs: [{ name: "input", targets: [{ node: "stem", port: "input" }] }],
      outputs: [{ name: "out", node: "head", port: "out" }],
      nodes: [
        linear("stem", 2, 8, 7),
        N("block1", "module", { module: "Block" }),
        N("block2", "module", { module: "Block", "fc.seed": 5 }),
        linear("head", 8, 2, 2),
      ],
      edges: [E("e1", "stem", "block1"), E("e2", "block1", "block2"), E("e3", "block2", "head")],
    };
    const { code, ours, theirs } = bothRuns(twoClass([block, net]));
    expect(code.match(/^class Block\(nn\.Sequential\):$/gm)).toHaveLength(1);
    expect(code).toContain(
      "    def __init__(self, fc_seed=1):\n        super().__init__()\n        torch.manual_seed(fc_seed)\n",
    );
    expect(code).toContain("class Net(nn.Module):");
    expect(code).toContain("        self.block1 = Block()\n        self.block2 = Block(fc_seed=5)\n");
    expect(code).toMatch(/^ {8}block2 = self\.block2\(block1\)$/m);
    expect(code).toMatch(/^net = Net\(\)\.to\(device\)$/m);
    expect(code).toContain('"net/block2/fc.weight": net.block2.fc.weight.flatten().tolist()');
    expectSameTrajectory(ours, theirs);
  });

  it("a nested module's randn parameters are handed down through the outer class's constructor", () => {
    const doc = load(example("53-mlp-reusable-block.json"));
    const graph = new GraphDocument(doc);
    graph.groupAsModule(["block1", "block2"], { module: "Body", instance: "body" });
    const { code, ours, theirs } = bothRuns(graph.state);
    expect(code).toContain("class Body(nn.Module):");
    expect(code).toMatch(/^ {8}self\.block1 = Block\(block1_W, block1_b\)$/m);
    expect(code).toMatch(/^body = Body\(body_block1_W, body_block1_b, body_block2_W, body_block2_b\)$/m);
    expect(code).toMatch(/^optimizer = torch\.optim\.Adam\(\[W3, b3, \*body\.parameters\(\)\], lr=0\.05\)$/m);
    expectSameTrajectory(ours, theirs);
  });

  it("a module holding Dropout has an nn.Dropout submodule, drawing from the generator seeded before the loop", () => {
    const doc = twoClass([
      chain("Net", [
        linear("fc1", 2, 8, 4),
        N("drop", "Dropout", { p: 0.25, seed: 3 }),
        linear("fc2", 8, 2, 5),
      ]),
    ]);
    const { code, ours, theirs } = bothRuns(doc);
    expect(code).toContain("class Net(nn.Sequential)");
    expect(code).toContain("        self.drop = nn.Dropout(p=0.25)\n");
    expect(code).toMatch(/seeded once here\.\ntorch\.manual_seed\(3\)\n/);
    expectSameTrajectory(ours, theirs);
  });
});

/** What a script prints for `epochs` epochs, run by PyTorch. */
function printed(code: string, epochs: number): string {
  const py = spawnSync(PYTHON, [tempFile(code, "script.py"), "--epochs", String(epochs)], {
    encoding: "utf8",
    timeout: 120_000,
  });
  expect(py.status, py.stderr).toBe(0);
  return py.stdout;
}

it("a BatchNorm1d inside a module is a submodule: the script prints exactly what the flat script prints", () => {
  const net = chain(
    "Net",
    [
      linear("fc1", 2, 8, 4),
      N("bn", "BatchNorm1d", { num_features: 8 }),
      N("act", "relu"),
      linear("fc2", 8, 2, 5),
    ],
    false,
  );
  const doc = twoClass([net]);
  const modular = torchScript(doc, { mode: "train" });
  const flat = torchScript(expandModules(doc), { mode: "train" });
  if (!modular.ok || !flat.ok) throw new Error("export failed");
  expect(modular.code).toContain("        self.bn = nn.BatchNorm1d(8)\n");
  expect(modular.code).toMatch(/^ {8}bn = self\.bn\(fc1\)$/m);
  expect(flat.code).not.toContain("class Net");
  const epochs = 20;
  expect(printed(modular.code, epochs)).toBe(printed(flat.code, epochs));
});

it("every activation with an nn counterpart computes in its nn.Sequential what its function computes flat", () => {
  const acts: [string, Record<string, unknown>, string][] = [
    ["elu", { alpha: 0.5 }, "nn.ELU(alpha=0.5)"],
    ["selu", {}, "nn.SELU()"],
    ["celu", { alpha: 0.7 }, "nn.CELU(alpha=0.7)"],
    ["silu", {}, "nn.SiLU()"],
    ["mish", {}, "nn.Mish()"],
    ["hardtanh", { min_val: -2, max_val: 2 }, "nn.Hardtanh(min_val=-2, max_val=2)"],
    ["relu6", {}, "nn.ReLU6()"],
    ["hardswish", {}, "nn.Hardswish()"],
    ["softsign", {}, "nn.Softsign()"],
    ["tanhshrink", {}, "nn.Tanhshrink()"],
    ["hardshrink", { lambd: 0.1 }, "nn.Hardshrink(lambd=0.1)"],
    ["softshrink", { lambd: 0.1 }, "nn.Softshrink(lambd=0.1)"],
    ["softplus", { beta: 2 }, "nn.Softplus(beta=2)"],
    ["hardsigmoid", {}, "nn.Hardsigmoid()"],
    ["logsigmoid", {}, "nn.LogSigmoid()"],
    ["sigmoid", {}, "nn.Sigmoid()"],
    ["softmax", { dim: 1 }, "nn.Softmax(dim=1)"],
  ];
  const doc = twoClass([
    chain("Net", [
      linear("fc1", 2, 8, 4),
      ...acts.map(([type, params], i) => N(`a${i}`, type, params)),
      linear("fc2", 8, 2, 5),
    ]),
  ]);
  const modular = torchScript(doc, { mode: "train" });
  const flat = torchScript(expandModules(doc), { mode: "train" });
  if (!modular.ok || !flat.ok) throw new Error("export failed");
  expect(modular.code).toContain("class Net(nn.Sequential):");
  acts.forEach(([, , layer], i) => {
    expect(modular.code).toContain(`        self.a${i} = ${layer}\n`);
  });
  expect(printed(modular.code, 5)).toBe(printed(flat.code, 5));
});

/**
 * Example 51's two-class problem with `layers` (their ids and kinds) as one chain at the top level of the graph,
 * from x to the logits: no module definition.
 */
function twoClassChain(layers: ReturnType<typeof N>[]): GraphDoc {
  const base = JSON.parse(example("51-mlp-two-class-adam.json"));
  const keep = ["x", "radius", "outside", "labels", "loss", "Adam", "accuracy"];
  const last = layers[layers.length - 1].id;
  base.nodes = [...base.nodes.filter((n: { id: string }) => keep.includes(n.id)), ...layers];
  base.edges = [
    ...base.edges.filter(
      (e: { source: string; target: string }) => keep.includes(e.source) && keep.includes(e.target),
    ),
    E("c0", "x", layers[0].id),
    ...layers.slice(1).map((l, i) => E(`c${i + 1}`, layers[i].id, l.id)),
    E("c_loss", last, "loss"),
    E("c_acc", last, "accuracy"),
  ];
  return load(JSON.stringify(base));
}

describe("module nodes at the top level of the graph", () => {
  it("are nn module objects made once under their seeds, called as layers, trained through .parameters()", () => {
    const doc = twoClassChain([
      // (256, 2) → (256, 1, 1, 2): a one-row image per point, for the convolution.
      N("grow", "unflatten", { dim: 1, sizes: [1, 1, 2] }),
      N("conv", "Conv2d", { in_channels: 1, out_channels: 4, kernel_size: [1, 2], seed: 4 }),
      // (Not straight into the batch norm, which would cancel the convolution's bias: a gradient of rounding
      // noise that Adam would scale up to full steps.)
      N("act", "relu"),
      N("flat", "flatten", { start_dim: 1 }),
      N("bn", "BatchNorm1d", { num_features: 4 }),
      N("drop", "Dropout", { p: 0.25, seed: 7 }),
      linear("fc", 4, 2, 5),
    ]);
    const { code, ours, theirs } = bothRuns(doc);
    const lines = (...ls: string[]) => ls.join("\n");
    expect(code).toContain(
      lines(
        "torch.manual_seed(4)",
        "conv = nn.Conv2d(1, 4, (1, 2)).to(device)",
        "bn = nn.BatchNorm1d(4).to(device)",
        "drop = nn.Dropout(p=0.25)",
        "torch.manual_seed(5)",
        "fc = nn.Linear(4, 2).to(device)",
      ),
    );
    expect(code).toContain(
      lines(
        "    conv_out = conv(grow)",
        "    act = F.relu(conv_out)",
        "    flat = torch.flatten(act, 1, -1)",
        "    bn_out = bn(flat)",
        "    drop_out = drop(bn_out)",
        "    fc_out = fc(drop_out)",
      ),
    );
    expect(code).toMatch(
      /^optimizer = torch\.optim\.Adam\(\[\*conv\.parameters\(\), \*bn\.parameters\(\), \*fc\.parameters\(\)\], lr=0\.05\)$/m,
    );
    expect(code).toContain('"conv.weight": conv.weight.flatten().tolist()');
    expect(code).toContain('"fc.bias": fc.bias.flatten().tolist()');
    // No functional form left behind: no F.conv2d / F.linear on copies of the layers' tensors.
    expect(code).not.toMatch(/F\.conv2d|F\.linear|\.detach\(\)|requires_grad_/);
    expectSameTrajectory(ours, theirs);
  });
});
