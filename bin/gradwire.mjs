#!/usr/bin/env node
// `npx gradwire`: runs the TypeScript CLI from the checkout through tsx's loader (no build step).
import { register } from "tsx/esm/api";

// A reader that stops early (`gradwire train ... --jsonl | head`) closes the pipe: that is a normal end, not a crash.
process.stdout.on("error", (err) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
