// A reader that closes the pipe early (`| head`) ends the CLI quietly instead of with an EPIPE stack trace.
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";

it("train --jsonl piped into head -1 prints one line and no stack trace", () => {
  const r = spawnSync(
    "bash",
    [
      "-c",
      "set -o pipefail; node bin/gradwire.mjs train examples/13-thermometer-training.json --epochs 100000 --jsonl | head -1",
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
  expect(r.stdout.trim().split("\n")).toHaveLength(1);
  expect(JSON.parse(r.stdout).epoch).toBe(0);
  expect(r.stderr).not.toMatch(/EPIPE|Error:|at .*\.ts/);
  expect(r.status).toBe(0);
});
