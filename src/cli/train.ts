/** `gradwire train FILE`: the training loop, one JSON line per epoch with --jsonl, else a readable summary. */
import { Scheduler } from "../engine/scheduler.ts";
import type { BackendName, BackendRequest } from "../engine/scheduler-backend.ts";
import { type EpochRecord, Trainer, type TrainState } from "../engine/train.ts";
import { prepareAuto, prepareBackend } from "./backend.ts";
import { CliFailure, type Io } from "./io.ts";
import { loadGraphFile } from "./load.ts";
import { fmtNum, jsonNumber, progressLine, writeJsonArray, writeJsonObject } from "./output.ts";

export interface TrainOptions {
  jsonl: boolean;
  /** With --jsonl: each line also holds "steps", every optimizer step's loss (one per batch). */
  steps?: boolean;
  epochs?: number;
  backend: BackendRequest;
}

export async function trainCommand(file: string, opts: TrainOptions, io: Io): Promise<void> {
  const { doc } = loadGraphFile(file, io, { quietWarnings: opts.jsonl });
  const s = new Scheduler();
  s.setGraph(doc);
  const trainer = new Trainer(s, { backend: opts.backend, recordLimit: Number.POSITIVE_INFINITY });
  if (opts.backend === "auto") await prepareAuto(io);
  else if (opts.backend === "webgpu") {
    await prepareBackend(opts.backend, io);
    await trainer.setBackend(opts.backend);
  }
  // --jsonl's first line: which backend trains and why (auto's measurement, a fallback, or the flag).
  let header = opts.jsonl;
  const writeHeader = () => {
    if (!header) return;
    header = false;
    io.stdout.write(`${JSON.stringify(backendLine(trainer.state))}\n`);
  };
  const total = opts.epochs ?? doc.settings.epochs;
  const tty = !opts.jsonl && io.stderr.isTTY === true;
  const every = Math.max(1, Math.round(total / 10));
  const started = performance.now();
  let first: EpochRecord | undefined;
  let last: EpochRecord | undefined;

  trainer.onRecords((records) => {
    first ??= records[0];
    last = records[records.length - 1];
    writeHeader();
    if (opts.jsonl) {
      // Each line streamed in pieces: a trained tensor of millions of elements is more than one string holds.
      for (const r of records) {
        // Keys in the order the exported script prints them: epoch, loss, lr, val_loss, metrics, params, steps.
        const head: Record<string, unknown> = { epoch: r.epoch, loss: jsonNumber(r.loss) };
        // With a learning-rate scheduler, the lr of the epoch's first step.
        if (r.lr !== undefined) head.lr = jsonNumber(r.lr);
        if (r.valLoss !== undefined) head.val_loss = jsonNumber(r.valLoss);
        for (const [k, v] of Object.entries(r.metrics ?? {})) head[k] = jsonNumber(v);
        io.stdout.write(`${JSON.stringify(head).slice(0, -1)},"params":`);
        writeJsonObject(io.stdout, Object.entries(r.params), (v) => writeJsonArray(io.stdout, v));
        if (opts.steps) io.stdout.write(`,"steps":${JSON.stringify((r.steps ?? [r.loss]).map(jsonNumber))}`);
        io.stdout.write("}\n");
      }
      return;
    }
    if (tty) {
      const rate = (last.epoch + 1) / Math.max(1e-3, (performance.now() - started) / 1000);
      io.stderr.write(
        `\r${progressLine(last.epoch + 1, total, last.loss, rate, Math.min(30, (io.stderr.columns ?? 80) - 50))}`,
      );
      return;
    }
    for (const r of records)
      if (r.epoch % every === 0 || r.epoch === total - 1)
        io.stdout.write(
          `epoch ${r.epoch}  loss ${fmtNum(r.loss)}${r.lr === undefined ? "" : `  lr ${fmtNum(r.lr)}`}\n`,
        );
  });

  await trainer.run({ epochs: total });
  writeHeader();
  if (tty) io.stderr.write("\n");
  const st = trainer.state;
  if (st.status === "error") throw new CliFailure(`${file}: ${st.message}`);
  if (opts.jsonl) return;
  const secs = (performance.now() - started) / 1000;
  io.stdout.write(
    `\ntrained ${st.epoch} epoch${st.epoch === 1 ? "" : "s"} on ${st.backend === "cpu" ? "the CPU" : "WebGPU"} in ${secs.toFixed(2)} s` +
      (first && last ? `: loss ${fmtNum(first.loss)} → ${fmtNum(last.loss)}` : "") +
      "\n" +
      (st.requested === "auto" && st.reason ? `  backend: auto, ${st.reason}\n` : ""),
  );
  if (last)
    for (const [id, v] of Object.entries(last.params))
      io.stdout.write(
        `  ${id} = ${v.length === 1 ? fmtNum(v[0]) : `[${v.slice(0, 8).map(fmtNum).join(", ")}${v.length > 8 ? ", ..." : ""}]`}\n`,
      );
}

/** The first line of `train --jsonl`: the backend that trained, what was asked for, and why. */
export function backendLine(st: TrainState): {
  backend: BackendName;
  requested: BackendRequest;
  reason: string;
} {
  const reason =
    st.fallback ??
    st.reason ??
    (st.requested === "auto" ? "auto" : `asked for with --backend ${st.requested}`);
  return { backend: st.backend, requested: st.requested, reason };
}
