/** `gradwire export-torch FILE [-o script.py] [--mode train|eval]`: the graph as a runnable PyTorch script. */
import { statSync, writeFileSync } from "node:fs";
import { type TorchScriptMode, torchScript } from "../export/torch-script.ts";
import { UsageError } from "./args.ts";
import { CliFailure, type Io } from "./io.ts";
import { loadGraphFile } from "./load.ts";

export interface ExportTorchOptions {
  /** Write the script here instead of to stdout. */
  output?: string;
  mode?: TorchScriptMode;
  /** A data-parallel script (DistributedDataParallel; --nproc N or torchrun). */
  distributed?: boolean;
}

export function exportTorchCommand(file: string, opts: ExportTorchOptions, io: Io): void {
  if (opts.output !== undefined && sameFile(file, opts.output))
    throw new UsageError(
      `-o/--output '${opts.output}' is the graph file itself: writing the script there would overwrite the graph`,
    );
  const { doc } = loadGraphFile(file, io);
  const r = torchScript(doc, { mode: opts.mode, distributed: opts.distributed });
  if (!r.ok) throw new CliFailure(`${file}: ${r.message}`);
  if (opts.output === undefined) {
    io.stdout.write(r.code);
    return;
  }
  try {
    writeFileSync(opts.output, r.code);
  } catch (e) {
    throw new CliFailure(`cannot write '${opts.output}': ${e instanceof Error ? e.message : String(e)}`);
  }
  const flags = opts.distributed
    ? "[--epochs N] [--device cuda] [--nproc N] [--checkpoint DIR [--resume]] (or under torchrun)"
    : r.mode === "train"
      ? "[--epochs N] [--device cuda]"
      : "[--device cuda]";
  io.stdout.write(`wrote ${opts.output}; run it with: python3 ${opts.output} ${flags}\n`);
}

/** Whether two paths name one file (also through links or another spelling of the path). */
function sameFile(a: string, b: string): boolean {
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false; // One of them does not exist (yet): not the same file.
  }
}
