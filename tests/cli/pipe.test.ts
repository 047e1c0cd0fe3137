// A reader that closes the pipe early (`| head`) ends the CLI quietly instead of with an EPIPE stack trace.
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";

it("train --jsonl piped into head -2 prints the backend line and one epoch, and no stack trace", () => {
  const r = spawnSync(
    "bash",
    [
      "-c",
      "set -o pipefail; node bin/gradwire.mjs train examples/13-thermometer-training.json --epochs 100000 --jsonl | head -2",
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
  const lines = r.stdout.trim().split("\n");
  expect(lines).toHaveLength(2);
  expect(JSON.parse(lines[0])).toMatchObject({ requested: "auto" });
  expect(JSON.parse(lines[1]).epoch).toBe(0);
  expect(r.stderr).not.toMatch(/EPIPE|Error:|at .*\.ts/);
  expect(r.status).toBe(0);
});
