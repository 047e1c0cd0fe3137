/** The `gradwire` command line: eval, train, validate and schema. Exit codes: 0 ok, 1 invalid or failed, 2 usage. */

import { BACKEND_REQUESTS } from "../engine/scheduler-backend.ts";
import { graphJsonSchema, MAX_EPOCHS } from "../graph/schema.ts";
import { registry } from "../nodes/index.ts";
import {
  choiceFlag,
  type FlagSpec,
  intFlag,
  optionName,
  type Parsed,
  parseArgs,
  UsageError,
} from "./args.ts";
import { evalCommand } from "./eval.ts";
import { exportTorchCommand } from "./export-torch.ts";
import { CliFailure, EXIT, type Io } from "./io.ts";
import { trainCommand } from "./train.ts";
import { validateCommand } from "./validate.ts";

export const USAGE = `usage: gradwire <command> [options]

commands:
  eval FILE [--backend auto|cpu|webgpu] [--json]
      every node's output, and each requires_grad tensor's gradient of the objective
  train FILE [--epochs N] [--backend auto|cpu|webgpu] [--jsonl [--steps]]
      train; with --jsonl, a first line {"backend", "requested", "reason"} (auto, the default, times the
      graph on the CPU and WebGPU and takes the faster), then one line per epoch: {"epoch", "loss" (before
      the step; with a DataLoader the mean of its batch losses), "lr" (with a learning-rate scheduler),
      "val_loss" and metrics (val_accuracy, or val_mse and val_mae) with validation data, "params" (after
      it)}; --steps adds "steps", each batch's loss
  validate FILE
      check a graph file; every problem is listed with its JSON path or node
  schema
      print the graph file's JSON Schema
  export-torch FILE [-o script.py] [--mode train|eval] [--distributed]
      the graph as a runnable PyTorch script (a training loop printing train --jsonl's epoch lines, or eval
      --json's); --distributed: a data-parallel training script (--nproc N local processes, or torchrun)

exit codes: 0 ok, 1 invalid graph or runtime error, 2 usage error
`;

const FLAGS: Record<string, FlagSpec> = {
  help: {},
  json: {},
  jsonl: {},
  steps: {},
  epochs: { value: true },
  backend: { value: true },
  output: { value: true },
  mode: { value: true },
  distributed: {},
};

/** Which flags each command accepts. */
const ALLOWED: Record<string, string[]> = {
  eval: ["json", "backend"],
  train: ["jsonl", "steps", "epochs", "backend"],
  validate: [],
  schema: [],
  "export-torch": ["output", "mode", "distributed"],
};

function oneFile(p: Parsed): string {
  if (p.positional.length === 0) throw new UsageError(`${p.command} needs a graph file`);
  if (p.positional.length > 1)
    throw new UsageError(`${p.command} takes one file, got ${p.positional.length}`);
  return p.positional[0];
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  try {
    const p = parseArgs(argv, FLAGS);
    if (p.flags.has("help") || p.command === "help") {
      io.stdout.write(USAGE);
      return EXIT.ok;
    }
    if (!p.command) throw new UsageError("no command given");
    // An own property only: `gradwire constructor` is an unknown command, not Object's constructor.
    const allowed = Object.hasOwn(ALLOWED, p.command) ? ALLOWED[p.command] : undefined;
    if (!allowed) throw new UsageError(`unknown command '${p.command}'`);
    for (const f of p.flags.keys())
      if (!allowed.includes(f)) throw new UsageError(`${p.command} does not take ${optionName(f)}`);
    const backend = choiceFlag(p, "backend", BACKEND_REQUESTS, "auto");
    switch (p.command) {
      case "eval":
        await evalCommand(oneFile(p), { json: p.flags.has("json"), backend }, io);
        break;
      case "train":
        await trainCommand(
          oneFile(p),
          {
            jsonl: p.flags.has("jsonl"),
            steps: p.flags.has("steps"),
            epochs: intFlag(p, "epochs", 0, MAX_EPOCHS),
            backend,
          },
          io,
        );
        break;
      case "validate":
        validateCommand(oneFile(p), io);
        break;
      case "export-torch":
        exportTorchCommand(
          oneFile(p),
          {
            output: p.flags.get("output") as string | undefined,
            distributed: p.flags.has("distributed"),
            mode: p.flags.has("mode")
              ? choiceFlag(p, "mode", ["train", "eval"] as const, "train")
              : undefined,
          },
          io,
        );
        break;
      case "schema":
        if (p.positional.length) throw new UsageError("schema takes no file");
        io.stdout.write(`${JSON.stringify(graphJsonSchema(registry), null, 2)}\n`);
        break;
    }
    return EXIT.ok;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`gradwire: ${e.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (e instanceof CliFailure) {
      io.stderr.write(`gradwire: ${e.message}\n`);
      return EXIT.invalid;
    }
    io.stderr.write(`gradwire: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.invalid;
  }
}
