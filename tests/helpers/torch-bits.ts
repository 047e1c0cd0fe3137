/**
 * PyTorch on exact bits: arrays travel to /usr/bin/python3 and back as hexadecimal bytes, because JSON (the
 * torch.ts bridge) loses -0 and NaN payloads. For tests that compare every bit (relu's -0, max_pool2d's NaNs).
 */
import { spawnSync } from "node:child_process";
import { PYTHON } from "./torch.ts";

export type Floats = Float32Array | Float64Array;

/** An array's bytes as hexadecimal. */
export function hex(a: ArrayBufferView): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex");
}

const PRELUDE = `
import json, sys, numpy as np, torch
F = torch.nn.functional
q = json.load(sys.stdin)
def arr(name):
    d = q[name]
    return torch.from_numpy(np.frombuffer(bytes.fromhex(d["hex"]), dtype=d["dtype"]).copy())
out = {}
def put(name, t):
    out[name] = t.detach().contiguous().numpy().tobytes().hex()
`;

/**
 * Runs `code` (Python) with `arr(name)` giving each input as a flat tensor of its dtype, and returns what it
 * passes to `put(name, tensor)`, as hexadecimal bytes.
 */
export function torchBits(code: string, inputs: Record<string, Floats>): Record<string, string> {
  const q = Object.fromEntries(
    Object.entries(inputs).map(([k, a]) => [
      k,
      { hex: hex(a), dtype: a instanceof Float32Array ? "float32" : "float64" },
    ]),
  );
  const r = spawnSync(PYTHON, ["-c", `${PRELUDE}\n${code}\nprint(json.dumps(out))`], {
    input: JSON.stringify(q),
    encoding: "utf8",
    maxBuffer: 1 << 27,
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}
