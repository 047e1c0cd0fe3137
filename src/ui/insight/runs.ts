/**
 * Every run of the session, for comparison: its settings when it started (the optimizers and their
 * hyperparameters, the epochs, the backend, the graph's title), its loss per epoch and its history. Runs are
 * kept with the autosave (localStorage) within a size cap: losses thinned to a few thousand points, the oldest
 * runs dropped first. A run's history exports as CSV (papaparse) and JSON.
 */
import Papa from "papaparse";
import { createSignal } from "solid-js";
import type { RecordColumns } from "../../engine/record-columns.ts";
import type { GraphDoc } from "../../graph/types.ts";
import { RunHistory } from "./history.ts";

export interface Run {
  id: number;
  /** The graph's title when the run started. */
  title: string;
  /** What the run was trained with, by name: "optimizer", "lr", "epochs", "backend"... */
  settings: Record<string, string>;
  startedAt: string;
  history: RunHistory;
}

const KEY = "gradwire.runs";
/** Bytes of JSON the saved runs may take. */
export const SAVE_CAP = 400_000;
const SAVED_POINTS = 2000;

/** A number as a person writes a hyperparameter: 0.01, 1e-4, 0.9. */
function fmt(v: unknown): string {
  if (typeof v === "number") {
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e5)
      ? v.toExponential().replace("e-", "e-").replace("e+", "e")
      : String(v);
  }
  if (Array.isArray(v)) return `(${v.map(fmt).join(", ")})`;
  return String(v);
}

/** The settings of a graph's training: each optimizer's type and hyperparameters (as set), and the epochs. */
export function settingsOf(doc: GraphDoc, isOptimizer: (type: string) => boolean, backend: string) {
  const out: Record<string, string> = {};
  const opts = Object.values(doc.nodes).filter((n) => isOptimizer(n.type));
  for (const n of opts) {
    const prefix = opts.length > 1 ? `${n.name ?? n.id} ` : "";
    out[`${prefix}optimizer`] = n.type;
    for (const [k, v] of Object.entries(n.params)) out[`${prefix}${k}`] = fmt(v);
  }
  out.epochs = String(doc.settings.epochs);
  out.backend = backend;
  return out;
}

/**
 * Legend labels for runs shown together: only the settings that differ between them ("SGD lr 0.01" beside
 * "Adam lr 0.1"), the optimizer's name first and bare; the run number when nothing differs.
 */
export function legendLabels(runs: readonly Run[]): string[] {
  const keys = new Set(runs.flatMap((r) => Object.keys(r.settings)));
  const differing = [...keys].filter((k) => new Set(runs.map((r) => r.settings[k] ?? "–")).size > 1);
  const titles = new Set(runs.map((r) => r.title)).size > 1;
  return runs.map((r) => {
    const parts: string[] = [];
    for (const k of differing) {
      const v = r.settings[k] ?? "–";
      parts.push(k.endsWith("optimizer") ? v : `${k} ${v}`);
    }
    // The graph's title last and short: what differs reads first in a narrow legend.
    if (titles) parts.push(`· ${r.title.length > 22 ? `${r.title.slice(0, 21)}…` : r.title}`);
    return parts.length ? parts.join(" ") : `run ${r.id}`;
  });
}

/** The run's history as CSV: epoch, loss and one column per recorded parameter element where kept. */
export function runCsv(run: Run): string {
  const h = run.history;
  const byEpoch = new Map(h.snapshots.map((s) => [s.epoch, s]));
  const columns: string[] = [];
  const first = h.snapshots[0];
  if (first)
    for (const [k, v] of Object.entries(first.params))
      if (v.length <= 64) for (let i = 0; i < v.length; i++) columns.push(v.length === 1 ? k : `${k}[${i}]`);
  const rows = h.epochs.map((epoch, i) => {
    const s = byEpoch.get(epoch);
    const row: (number | string)[] = [epoch, h.losses[i]];
    if (first)
      for (const [k, v] of Object.entries(first.params))
        if (v.length <= 64) for (let j = 0; j < v.length; j++) row.push(s ? s.params[k][j] : "");
    return row;
  });
  return Papa.unparse({ fields: ["epoch", "loss", ...columns], data: rows });
}

/** The run as JSON: settings, the loss per epoch, and the kept snapshots of parameters and gradients. */
export function runJson(run: Run): string {
  const h = run.history;
  return JSON.stringify(
    {
      format: "gradwire.run",
      title: run.title,
      startedAt: run.startedAt,
      settings: run.settings,
      epochs: h.epochs,
      loss: h.losses,
      snapshots: h.snapshots.map((s) => ({
        epoch: s.epoch,
        loss: s.loss,
        params: Object.fromEntries(Object.entries(s.params).map(([k, v]) => [k, Array.from(v)])),
        grads: Object.fromEntries(Object.entries(s.grads).map(([k, v]) => [k, Array.from(v)])),
      })),
    },
    null,
    1,
  );
}

interface SavedRun {
  id: number;
  title: string;
  settings: Record<string, string>;
  startedAt: string;
  epochs: number[];
  losses: number[];
}

/** Every `step`-th point and the last, so a saved curve keeps its shape in a bounded size. */
function thin(epochs: number[], losses: number[], points: number): { epochs: number[]; losses: number[] } {
  if (epochs.length <= points) return { epochs, losses };
  const step = Math.ceil(epochs.length / points);
  const keep = epochs.map((_, i) => i).filter((i) => i % step === 0 || i === epochs.length - 1);
  return { epochs: keep.map((i) => epochs[i]), losses: keep.map((i) => losses[i]) };
}

export function createRunStore(storage: Pick<Storage, "getItem" | "setItem"> | undefined = safeStorage()) {
  const [runs, setRuns] = createSignal<Run[]>(load(storage));
  const [version, setVersion] = createSignal(0);
  let nextId = runs().reduce((m, r) => Math.max(m, r.id), 0) + 1;
  let current: Run | undefined;

  function save() {
    if (!storage) return;
    const list: SavedRun[] = runs()
      .filter((r) => r.history.length > 0)
      .map((r) => ({
        id: r.id,
        title: r.title,
        settings: r.settings,
        startedAt: r.startedAt,
        ...thin(r.history.epochs, r.history.losses, SAVED_POINTS),
      }));
    // The newest runs are kept; the oldest go first when the cap is reached.
    let text = JSON.stringify(list);
    while (text.length > SAVE_CAP && list.length > 0) {
      list.shift();
      text = JSON.stringify(list);
    }
    try {
      storage.setItem(KEY, text);
    } catch {
      // storage full or unavailable: the runs stay in the session
    }
  }

  return {
    runs,
    /** Bumps when a run's history grew. */
    version,
    current: () => current,
    /** Start a new run with these settings (its records follow with `append`). */
    start(title: string, settings: Record<string, string>): Run {
      current = {
        id: nextId++,
        title,
        settings,
        startedAt: new Date().toISOString(),
        history: new RunHistory(),
      };
      setRuns((rs) => [...rs, current!]);
      return current;
    },
    append(batches: readonly RecordColumns[]) {
      if (!current) return;
      for (const b of batches) current.history.append(b);
      setVersion((v) => v + 1);
    },
    /** The run ended (reset, new graph): the next records start another. */
    end() {
      if (current && current.history.length === 0) setRuns((rs) => rs.filter((r) => r !== current));
      current = undefined;
      save();
    },
    save,
    remove(id: number) {
      setRuns((rs) => rs.filter((r) => r.id !== id));
      if (current?.id === id) current = undefined;
      save();
    },
  };
}

export type RunStore = ReturnType<typeof createRunStore>;

function safeStorage(): Storage | undefined {
  try {
    return typeof localStorage === "undefined" ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

function load(storage: Pick<Storage, "getItem"> | undefined): Run[] {
  try {
    const text = storage?.getItem(KEY);
    if (!text) return [];
    const list = JSON.parse(text) as SavedRun[];
    if (!Array.isArray(list)) return [];
    return list.flatMap((s) => {
      if (!Array.isArray(s?.epochs) || !Array.isArray(s?.losses) || typeof s.settings !== "object") return [];
      const history = new RunHistory();
      s.epochs.forEach((epoch, i) => {
        if (typeof epoch === "number" && typeof s.losses[i] === "number") {
          history.epochs.push(epoch);
          history.losses.push(s.losses[i]);
        }
      });
      return [
        {
          id: Number(s.id) || 0,
          title: String(s.title ?? ""),
          settings: Object.fromEntries(Object.entries(s.settings).map(([k, v]) => [k, String(v)])),
          startedAt: String(s.startedAt ?? ""),
          history,
        },
      ];
    });
  } catch {
    return [];
  }
}
