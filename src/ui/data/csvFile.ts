/**
 * Loading a CSV file into a csv node from the editor: read the file, hash it, parse and check it with the node's
 * column choices (off the main thread for large files), and only then change the graph — a bad file leaves the
 * node and what it had loaded as they were.
 */

import type { Built } from "../../nodes/csv/store.ts";
import {
  csvData,
  MAX_EMBEDDED_CHARS,
  type NodeKind,
  type ParamValues,
  provideCsv,
  type Registry,
  readParams,
  rememberCsvData,
} from "../../nodes/index.ts";
import type { Editor } from "../state/editor.ts";
import { readInWorker, type WorkerRead } from "./csvWorkerClient.ts";

/** Files above this size are read, hashed and parsed in a Web Worker, so the page stays responsive. */
export const WORKER_THRESHOLD_BYTES = 1_000_000;

/** Larger files are refused before they are read (as the CLI does). */
export const MAX_CSV_BYTES = 1 << 30;

export async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export type CsvLoad =
  | { ok: true; rows: number; features: number; mean: number[]; std: number[]; built: Built }
  | { ok: false; error: string };

/**
 * Load `file` into csv node `nodeId` as one undoable step: path (the file's name), sha256, the text embedded
 * when it is small enough, and fresh standardisation statistics when the node standardises.
 */
export async function loadCsvInto(
  editor: Editor,
  registry: Registry,
  nodeId: string,
  file: File,
  onProgress?: (message: string, fraction?: number) => void,
): Promise<CsvLoad> {
  const node = editor.doc().nodes[nodeId];
  const kind = registry.get("csv");
  if (node?.type !== "csv" || !kind) return { ok: false, error: "that node is not a csv node" };
  if (file.size > MAX_CSV_BYTES)
    return {
      ok: false,
      error: `${file.name} is ${file.size.toLocaleString("en")} bytes, over gradwire's limit of ${MAX_CSV_BYTES.toLocaleString("en")}`,
    };
  // The node as it would be with the new file, before its text and hash are known: no saved statistics (they
  // belong to the old file).
  const base: ParamValues = {
    ...node.params,
    path: file.name,
    sha256: "",
    content: "",
    mean: null,
    std: null,
  };
  const read =
    file.size > WORKER_THRESHOLD_BYTES && typeof Worker !== "undefined"
      ? await readInWorker(file, base, onProgress)
      : await readHere(kind, file, base, onProgress);
  const { load: checked, text, sha256, bytes } = read;
  if (!checked.ok) return checked;
  const params: ParamValues = { ...base, sha256, content: text.length <= MAX_EMBEDDED_CHARS ? text : "" };
  provideCsv([sha256, file.name], text, bytes);
  // What the worker built serves validation and training here too: a large file is parsed once, off this thread.
  rememberCsvData(readParams(kind, params), text, checked.built);
  editor.graph.gestureOf(`Load ${file.name}`, () => {
    for (const [name, value] of Object.entries(params)) editor.setParam(nodeId, name, value);
    if (params.standardize === true) {
      editor.setParam(nodeId, "mean", checked.mean);
      editor.setParam(nodeId, "std", checked.std);
    }
  });
  return checked;
}

/** A small file, read and parsed on this thread. */
async function readHere(
  kind: NodeKind,
  file: File,
  params: ParamValues,
  onProgress?: (message: string) => void,
): Promise<WorkerRead> {
  onProgress?.(`Reading ${file.name}…`);
  const bytes = await file.arrayBuffer();
  const text = new TextDecoder().decode(bytes);
  const sha256 = await sha256Hex(bytes);
  onProgress?.(`Parsing ${file.name} (${file.size.toLocaleString("en")} bytes)…`);
  return { load: checkCsv(kind, text, params), text, sha256 };
}

/** Parse and build with the node's params and this text: the shape and statistics, or the error. */
export function checkCsv(
  kind: NodeKind,
  text: string,
  params: ParamValues,
  onProgress?: (fraction: number) => void,
): CsvLoad {
  try {
    const { data, header } = csvData(readParams(kind, { ...params, content: text }), onProgress);
    return {
      ok: true,
      rows: data.y.length,
      features: data.features,
      mean: data.mean,
      std: data.std,
      built: { data, header },
    };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}
