// @vitest-environment happy-dom
// Parameter counts (issue 14 item 4): each node's trained tensors and the graph's total, counted as torch counts
// `sum(p.numel() for p in params)`, from what the real scheduler (over a MessageChannel, as in the editor's
// worker) says its leaves are; shown on the node and in the status bar, and updated when a size changes.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { render } from "@solidjs/testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { GraphDocument } from "../../src/graph/document.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import { StatusLine } from "../../src/ui/run/StatusLine.tsx";
import { startSession, until } from "../helpers/run-session.ts";

function example(name: string): GraphDocument {
  const dir = resolve(dirname(new URL(import.meta.url).pathname), "../../examples");
  const r = parseGraphFile(readFileSync(resolve(dir, name), "utf8"));
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return new GraphDocument(r.doc);
}

/** torch's count for these parameter shapes, and for nn.Linear layers given as [in, out]. */
function torchCount(shapes: number[][], linears: [number, number][] = []): number {
  const r = spawnSync(
    "/usr/bin/python3",
    [
      "-c",
      `import torch, json
ps = [torch.zeros(s, requires_grad=True) for s in ${JSON.stringify(shapes)}]
ps += [p for i, o in ${JSON.stringify(linears)} for p in torch.nn.Linear(i, o).parameters()]
print(sum(p.numel() for p in ps))`,
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(r.stdout.trim());
}

let close: (() => void) | undefined;
afterEach(() => {
  close?.();
  close = undefined;
});

describe("parameter counts", () => {
  it("counts each node's requires_grad tensors and the graph's total as torch does (the MLP example)", async () => {
    const graph = example("51-mlp-two-class-adam.json");
    const s = startSession(graph);
    close = s.close;
    await until(() => s.session.paramTotal() > 0);
    // W1 (16, 2), b1 (16), W2 (2, 16), b2 (2); x (randn data) and the labels are not parameters.
    expect(["W1", "b1", "W2", "b2", "x"].map((id) => s.session.paramCount(id))).toEqual([32, 16, 32, 2, 0]);
    expect(s.session.paramTotal()).toBe(torchCount([[16, 2], [16], [2, 16], [2]]));
  });

  it("counts a Linear layer's weight and bias, and follows a change of its size", async () => {
    const graph = new GraphDocument();
    graph.addNode({ id: "x", type: "randn", params: { size: [5, 3], seed: 0 } });
    graph.addNode({ id: "fc", type: "Linear", params: { in_features: 3, out_features: 4 } });
    graph.connect({ source: "x", target: "fc", targetPort: "input" });
    const s = startSession(graph);
    close = s.close;
    await until(() => s.session.paramCount("fc") > 0);
    expect(s.session.paramCount("fc")).toBe(torchCount([], [[3, 4]]));
    graph.setParams("fc", { out_features: 7, bias: false });
    await until(() => s.session.paramCount("fc") === 21);
    expect(s.session.paramTotal()).toBe(21);
  });

  it("shows the graph's total in the status bar, and nothing before there is one", () => {
    const run = {
      state: () => ({ status: "idle" as const, epoch: 0, backend: { name: "cpu" as const } }),
      run() {},
      pause() {},
      step() {},
      stop() {},
      reset() {},
    };
    const props = {
      run,
      totalEpochs: () => 100,
      errors: () => 0,
      warnings: () => 0,
      lastEdit: () => "",
    };
    const shown = render(() => <StatusLine {...props} paramTotal={() => 1234567} />);
    expect(shown.getByTestId("param-total").textContent).toBe("1,234,567");
    shown.unmount();
    const none = render(() => <StatusLine {...props} paramTotal={() => 0} />);
    expect(none.queryByTestId("param-total")).toBeNull();
  });
});
