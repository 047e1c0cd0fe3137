// Run the real `gradwire` bin (node bin/gradwire.mjs) and PyTorch scripts with Debian's python3.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = join(ROOT, "bin", "gradwire.mjs");
export const PYTHON = "/usr/bin/python3";

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function gradwire(...args: string[]): Result {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function fixturePath(name: string): string {
  return join(ROOT, "tests", "fixtures", name);
}

/** Write a graph (or any text) to a temporary file and return its path. */
export function tempFile(text: string, name = "graph.json"): string {
  const dir = mkdtempSync(join(tmpdir(), "gradwire-cli-"));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Run a Python script with torch; it prints JSON on stdout. */
export function torchJson<T>(script: string): T {
  const r = spawnSync(PYTHON, ["-c", script], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** `train --jsonl`'s output without its first line (which backend trained, and why). */
export function epochOutput(stdout: string): string {
  const nl = stdout.indexOf("\n");
  if (nl < 0) return stdout;
  const first = JSON.parse(stdout.slice(0, nl)) as Record<string, unknown>;
  return "requested" in first && !("epoch" in first) ? stdout.slice(nl + 1) : stdout;
}

/**
 * The epoch lines of `train --jsonl`, or of a Python script printing the same (train's first line, which says
 * which backend trained and why, is left out: see `backendLine`).
 */
export function jsonLines<T>(text: string): T[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as T & { requested?: unknown })
    .filter((o) => !(o && typeof o === "object" && "requested" in o && !("epoch" in o)));
}
