/**
 * The last run's plot history, kept in localStorage beside the autosave, so a reload still shows the curves of
 * the run just made. It is restored only for the same graph (positions aside), and capped in size: a long run
 * keeps every k-th epoch (and the last).
 */

import type { RecordColumns } from "../../engine/record-columns.ts";
import type { GraphDoc } from "../../graph/types.ts";
import type { TrainingLog } from "../plots/log.ts";

export const HISTORY_KEY = "gradwire.history.v1";
/** About 1 MB of JSON at most (localStorage holds about 5 MB, shared with the autosave). */
export const HISTORY_MAX_CHARS = 1_000_000;

export interface SavedHistory {
  /** Which graph the run trained (historyKey). */
  graph: string;
  epochs: number[];
  loss: number[];
  /** Plotted columns (`w`, `m.weight[0]`...) by parameter: values and gradients per saved epoch. */
  params: Record<string, { columns: string[]; values: number[][]; grads: number[][]; truncated: boolean }>;
}

/** The graph as training sees it: kinds, params, names and wires, not where the nodes sit. */
export function historyKey(doc: GraphDoc): string {
  const nodes = Object.keys(doc.nodes)
    .sort()
    .map((id) => {
      const n = doc.nodes[id];
      return [id, n.type, n.params, n.name ?? null];
    });
  const edges = Object.values(doc.edges)
    .map((e) => [e.source, e.sourcePort, e.target, e.targetPort])
    .sort((a, b) => a.join().localeCompare(b.join()));
  return JSON.stringify([nodes, edges, doc.objective ?? null]);
}

/** The log's tables as saved history, every `step`-th epoch (and the last). */
function capture(graph: string, log: TrainingLog, step: number): SavedHistory {
  const n = log.loss.length;
  const rows: number[] = [];
  for (let i = 0; i < n; i += step) rows.push(i);
  if (rows[rows.length - 1] !== n - 1) rows.push(n - 1);
  const pick = (a: Float64Array) => rows.map((i) => a[i]);
  const params: SavedHistory["params"] = {};
  const truncated = new Set(log.truncated());
  for (const s of log.series()) {
    params[s.param] ??= { columns: [], values: [], grads: [], truncated: truncated.has(s.param) };
    const p = params[s.param];
    p.columns.push(s.name);
    p.values.push(pick(log.params.view(s.name)));
    p.grads.push(pick(log.grads.view(s.name)));
  }
  return { graph, epochs: pick(log.loss.xView()), loss: pick(log.loss.view("loss")), params };
}

/** Save the log's history for `doc`, thinned until it fits the cap; an empty log removes the saved one. */
export function saveHistory(doc: GraphDoc, log: TrainingLog, maxChars = HISTORY_MAX_CHARS): void {
  try {
    if (log.loss.length === 0) {
      localStorage.removeItem(HISTORY_KEY);
      return;
    }
    const graph = historyKey(doc);
    let step = 1;
    let text = JSON.stringify(capture(graph, log, step));
    while (text.length > maxChars && step < log.loss.length) {
      step = Math.ceil(step * Math.max(2, text.length / maxChars));
      text = JSON.stringify(capture(graph, log, step));
    }
    if (text.length <= maxChars) localStorage.setItem(HISTORY_KEY, text);
    else localStorage.removeItem(HISTORY_KEY);
  } catch {
    // Storage full or disabled: the history is a convenience, the graph is autosaved separately.
  }
}

/** The saved history as a batch of records for `doc`'s log, or undefined when there is none for this graph. */
export function loadHistory(doc: GraphDoc): RecordColumns | undefined {
  let saved: SavedHistory;
  try {
    const text = localStorage.getItem(HISTORY_KEY);
    if (!text) return undefined;
    saved = JSON.parse(text) as SavedHistory;
  } catch {
    return undefined;
  }
  if (saved?.graph !== historyKey(doc) || !Array.isArray(saved.epochs)) return undefined;
  const n = saved.epochs.length;
  if (n === 0) return undefined;
  // JSON has no NaN or infinity (a diverged loss): they come back as null, drawn as gaps.
  const num = (v: unknown) => (typeof v === "number" ? v : Number.NaN);
  const column = (values: unknown[] | undefined) =>
    Float64Array.from({ length: n }, (_, i) => num(values?.[i]));
  const params: Record<string, Float64Array> = {};
  const grads: Record<string, Float64Array> = {};
  for (const [id, p] of Object.entries(saved.params ?? {})) {
    // A truncated parameter had more elements than are plotted: one more (NaN) keeps the legend's note.
    const size = p.values.length + (p.truncated ? 1 : 0);
    const rows = (cols: number[][]) => {
      const out = new Float64Array(n * size).fill(Number.NaN);
      for (let k = 0; k < Math.min(cols.length, p.values.length); k++)
        for (let i = 0; i < n; i++) out[i * size + k] = num(cols[k]?.[i]);
      return out;
    };
    params[id] = rows(p.values);
    grads[id] = rows(p.grads);
  }
  return { epoch: column(saved.epochs), loss: column(saved.loss), params, grads };
}
