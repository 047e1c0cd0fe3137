// The convolution family's node kinds beyond their parity samples: nn.Conv2d / nn.Conv1d initial values and
// parameter counts against torch's own modules, and shape inference's messages naming the node and its port.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { GraphDocument } from "../../src/graph/document.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { readParams, registry } from "../../src/nodes/index.ts";
import type { ParamValue, ParamValues } from "../../src/nodes/types.ts";
import { mismatch, PYTHON } from "../helpers/torch.ts";

/** torch.manual_seed(seed); nn.ConvNd(...) for each case: its parameters' values and shapes, and their count. */
function torchModules(cases: { type: string; args: string }[]): { data: number[]; shape: number[] }[][] {
  const code = `import torch, json
out = []
for t, a in json.loads(${JSON.stringify(JSON.stringify(cases.map((c) => [c.type, c.args])))}):
    torch.manual_seed(a["seed"])
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in a.items() if k not in ("seed", "in_channels", "out_channels", "kernel_size")}
    if "dtype" in kw: kw["dtype"] = getattr(torch, kw["dtype"])
    ks = a["kernel_size"]
    m = getattr(torch.nn, t)(a["in_channels"], a["out_channels"], tuple(ks) if isinstance(ks, list) else ks, **kw)
    out.append([{"data": p.detach().double().flatten().tolist(), "shape": list(p.shape)} for p in m.parameters()])
print(json.dumps(out))`;
  const r = spawnSync(PYTHON, ["-c", code], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

const MODULES: { type: string; params: ParamValues }[] = [
  { type: "Conv2d", params: { in_channels: 3, out_channels: 4, kernel_size: 3, seed: 0 } },
  {
    type: "Conv2d",
    params: {
      in_channels: 4,
      out_channels: 6,
      kernel_size: [2, 5],
      groups: 2,
      bias: false,
      seed: 11,
      dtype: "float64",
    },
  },
  {
    type: "Conv2d",
    params: { in_channels: 2, out_channels: 2, kernel_size: 1, seed: 123, dtype: "float64" },
  },
  { type: "Conv1d", params: { in_channels: 2, out_channels: 5, kernel_size: 4, seed: 7 } },
];

describe("Conv2d and Conv1d modules", () => {
  const expected = torchModules(MODULES.map((m) => ({ type: m.type, args: m.params as unknown as string })));
  for (const [i, m] of MODULES.entries())
    it(`${m.type} ${JSON.stringify(m.params)} starts from torch's values, with torch's parameter count`, () => {
      const kind = registry.get(m.type)!;
      const leaves = kind.leaves!(readParams(kind, m.params), "layer");
      const ours = Object.values(leaves);
      expect(ours.map((t) => [...t.shape])).toEqual(expected[i].map((p) => p.shape));
      for (const [k, t] of ours.entries()) {
        expect(t.requiresGrad).toBe(true);
        expect(mismatch(t.data, expected[i][k].data, { rtol: 0, atol: 0 })).toBeNull();
      }
      const count = ours.reduce((s, t) => s + t.numel, 0);
      expect(count).toBe(expected[i].reduce((s, p) => s + p.data.length, 0));
    });
});

type N = [id: string, type: string, params?: Record<string, ParamValue>];

/** randn inputs wired into one node `n` of `type`: the validation messages. */
function messagesOf(type: string, params: ParamValues, inputs: Record<string, number[]>): string[] {
  const doc = new GraphDocument();
  const nodes: N[] = Object.entries(inputs).map(([port, size]) => [port, "randn", { size }]);
  for (const [id, t, p] of nodes) doc.addNode({ id, type: t, params: p });
  doc.addNode({ id: "n", type, params });
  for (const port of Object.keys(inputs)) doc.connect({ source: port, target: "n", targetPort: port });
  return validateGraph(doc.state, registry).issues.map((i) => i.message);
}

describe("shape inference names the node and the port", () => {
  it("reports a channel mismatch on conv2d's input", () => {
    const text = messagesOf("conv2d", {}, { input: [1, 2, 5, 5], weight: [4, 3, 3, 3] }).join("\n");
    expect(text).toMatch(/node 'n' \(conv2d\).*input.*expected input\[1, 2, 5, 5\] to have 3 channels/);
  });
  it("reports a kernel larger than the padded input", () => {
    const text = messagesOf("conv2d", { padding: "1" }, { input: [1, 1, 2, 2], weight: [1, 1, 5, 5] }).join(
      "\n",
    );
    expect(text).toMatch(
      /node 'n' \(conv2d\).*padded input size per channel: \(4 x 4\)\. Kernel size: \(5 x 5\)/,
    );
  });
  it("reports groups that do not divide the channels, and a bias of the wrong size", () => {
    expect(messagesOf("conv1d", { groups: 2 }, { input: [1, 4, 5], weight: [3, 2, 1] }).join("\n")).toMatch(
      /out_channels \(3\) must be divisible by groups \(2\)/,
    );
    expect(
      messagesOf("conv2d", {}, { input: [1, 1, 3, 3], weight: [2, 1, 1, 1], bias: [3] }).join("\n"),
    ).toMatch(/node 'n' \(conv2d\).*bias.*expected bias to be 1-dimensional with 2 elements/);
    expect(
      messagesOf("Conv2d", { in_channels: 3, out_channels: 4, groups: 2 }, { input: [1, 3, 4, 4] }).join(
        "\n",
      ),
    ).toMatch(/in_channels \(3\) must be divisible by groups \(2\)/);
  });
  it("reads padding and output_size text as Python does, and says what it expects otherwise", () => {
    expect(
      messagesOf("conv2d", { padding: "'same'" }, { input: [1, 1, 4, 4], weight: [1, 1, 2, 2] }),
    ).toEqual([]);
    expect(
      messagesOf("conv2d", { padding: "full" }, { input: [1, 1, 4, 4], weight: [1, 1, 2, 2] }).join(),
    ).toMatch(/'padding' must be 'same', 'valid', an int, a tuple of ints like \(1, 2\); got "full"/);
    expect(
      messagesOf("adaptive_avg_pool2d", { output_size: "(None, x)" }, { input: [1, 4, 4] }).join(),
    ).toMatch(/'output_size' must be an int, a tuple of ints or None/);
  });
  it("reports pooling windows torch refuses", () => {
    expect(messagesOf("max_pool2d", { kernel_size: 2, padding: 2 }, { input: [1, 1, 4, 4] }).join()).toMatch(
      /node 'n' \(max_pool2d\).*pad should be at most half of kernel size/,
    );
    expect(messagesOf("avg_pool2d", { kernel_size: 5 }, { input: [1, 1, 3, 3] }).join()).toMatch(
      /Output size is too small/,
    );
    expect(messagesOf("unflatten", { dim: 1, sizes: [4, 2] }, { input: [2, 6] }).join()).toMatch(
      /don't multiply up to the size of dim 1 \(6\)/,
    );
  });
});
