/** `gradwire eval FILE`: every node's output and, for each requires_grad tensor, its gradient of the objective. */

import { Scheduler } from "../engine/scheduler.ts";
import type { BackendRequest } from "../engine/scheduler-backend.ts";
import { describeNode, nodeLabel } from "../graph/types.ts";
import type { Tensor } from "../runtime/index.ts";
import { noteEvalBackend } from "./backend.ts";
import { CliFailure, type Io } from "./io.ts";
import { loadGraphFile } from "./load.ts";
import { describeTensor, preview, writeJsonArray, writeJsonObject } from "./output.ts";

export interface EvalOptions {
  json: boolean;
  backend: BackendRequest;
}

export async function evalCommand(file: string, opts: EvalOptions, io: Io): Promise<void> {
  const { doc } = loadGraphFile(file, io, { quietWarnings: opts.json });
  noteEvalBackend(opts.backend, io);
  const s = new Scheduler();
  s.setGraph(doc);
  s.evaluate();
  const errors = s.errors();
  if (errors.length) {
    for (const e of errors) io.stderr.write(`${file}: error: ${e.message}\n`);
    throw new CliFailure(`${file}: evaluation failed`);
  }
  // The graph as it runs: module instances expanded, their nodes named by path (block1/fc).
  const flat = s.graph;
  const values: [string, Tensor][] = [];
  for (const id of Object.keys(flat.nodes))
    for (const [port, t] of Object.entries(s.outputs(id) ?? {}))
      values.push([port === "out" ? id : `${id}.${port}`, t]);

  let grads = new Map<string, Tensor>();
  const objective = s.objective();
  if (objective && s.trainables().length > 0) {
    try {
      grads = s.gradients().params;
    } catch (e) {
      throw new CliFailure(`${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  if (opts.json) {
    // Streamed node by node and in pieces of each tensor: no single string holds the whole output.
    const out = io.stdout;
    const tensorJson = (t: Tensor, withDType: boolean) => {
      out.write(
        `{"shape":${JSON.stringify(t.shape)},${withDType ? `"dtype":${JSON.stringify(t.dtype)},` : ""}"data":`,
      );
      writeJsonArray(out, t.data, t.dtype === "bool");
      out.write("}");
    };
    try {
      out.write('{"nodes":');
      writeJsonObject(out, values, (t) => tensorJson(t, true));
      out.write(',"grads":');
      writeJsonObject(out, grads, (t) => tensorJson(t, false));
      out.write("}\n");
    } catch (e) {
      throw new CliFailure(`${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return;
  }
  const width = Math.max(4, ...values.map(([k]) => k.length), ...[...grads.keys()].map((k) => k.length));
  if (doc.title) io.stdout.write(`${doc.title}\n\n`);
  for (const [k, t] of values) {
    const id = k.split(".")[0];
    const node = flat.nodes[id];
    const name = node.name && node.name !== id ? ` "${nodeLabel(node)}"` : "";
    io.stdout.write(
      `${k.padEnd(width)}  ${describeTensor(t).padEnd(18)} ${preview(t)}   (${node.type}${name})\n`,
    );
  }
  if (grads.size) {
    const obj = flat.nodes[objective!.nodeId];
    io.stdout.write(`\ngradients of ${describeNode(obj)}:\n`);
    for (const [k, g] of grads)
      io.stdout.write(`${k.padEnd(width)}  ${describeTensor(g).padEnd(18)} ${preview(g)}\n`);
  }
}
